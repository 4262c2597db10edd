/**
 * Typed fleet config: `FleetConfigInput` and `PoolInput` are shaped like stack config and
 * checked by the compiler; `HardenedBuildFleet` takes them; `RunnerPool` takes a pool written as in YAML, and
 * the exported pool validator normalises it exactly as the fleet validator does.
 */
import * as assert from "assert";
import {
    ControlPlaneInput, EgressAllowListInput, FleetConfigInput, GcePoolInput, GithubInput, GkePoolInput, HardenedBuildFleet, parsePoolConfig,
    PoolConfig, PoolInput, rawFleetConfig, SignerInput, validateFleetConfig, validatePoolConfig,
} from "../../../components";
import { CONTROL_PLANE_KEYS, EGRESS_KEYS, FleetConfigKey, GITHUB_KEYS, POOL_COMMON_KEYS, POOL_GCE_ONLY_KEYS, POOL_GKE_ONLY_KEYS, SIGNER_KEYS } from "../../../components/config/schema";
import { RunnerPool } from "../../../components/runnerPool";
import { runProgram } from "../../../plan/engine";
import { generateFleetConfig } from "../../../bench/fleetConfig";

/** True when A and B are the same type; the calls below fail `npm run typecheck` when the lists drift. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function inStep(check: true): void {
    assert.strictEqual(check, true);
}

const BROKER = "https://jit-broker-abc123-ew.a.run.app";
const WORKER = { project: "acme-build-workers", region: "europe-west1", registrationBrokerUrl: BROKER };

const gcePool: GcePoolInput = {
    name: "linux",
    backend: "gce",
    cidr: "10.10.0.0/24",
    image: "projects/acme-build-images/global/images/family/gha-runner",
    maxBuildDuration: "2h",
    egressAllowList: { fqdns: ["GitHub.com", "api.github.com"], cidrs: ["203.0.113.0/28"] },
};

/** The same pool, normalised by hand: what RunnerPool needed before it took the YAML shape. */
const gcePoolConfig: PoolConfig = {
    name: "linux",
    backend: "gce",
    machineType: "e2-standard-4",
    minRunners: 0,
    maxRunners: 10,
    spot: false,
    cidr: "10.10.0.0/24",
    egressAllowList: { cidrs: ["203.0.113.0/28"], fqdns: ["github.com", "api.github.com"] },
    maxBuildDurationSeconds: 7200,
    image: "projects/acme-build-images/global/images/family/gha-runner",
    confidentialCompute: false,
    masterCidr: "172.16.0.0/28",
    labels: ["self-hosted", "linux", "x64"],
};

describe("typed fleet config: the input types follow the validator's keys", () => {
    it("has one typed field per key the validator accepts, at every level (compile-time)", () => {
        inStep(true as Equal<keyof FleetConfigInput, FleetConfigKey>);
        inStep(true as Equal<keyof GcePoolInput, (typeof POOL_COMMON_KEYS)[number] | (typeof POOL_GCE_ONLY_KEYS)[number] | (typeof POOL_GKE_ONLY_KEYS)[number] | "backend">);
        inStep(true as Equal<keyof GkePoolInput, keyof GcePoolInput>);
        inStep(true as Equal<keyof SignerInput, (typeof SIGNER_KEYS)[number]>);
        inStep(true as Equal<keyof GithubInput, (typeof GITHUB_KEYS)[number]>);
        inStep(true as Equal<keyof ControlPlaneInput, (typeof CONTROL_PLANE_KEYS)[number]>);
        inStep(true as Equal<keyof EgressAllowListInput, (typeof EGRESS_KEYS)[number]>);
    });

    it("rejects misspelt keys, wrong types, a gke-only field on a gce pool and a duration without a unit (compile-time)", () => {
        const signer: SignerInput = { serviceImage: "img", cidr: "10.200.0.0/26" };
        const wrong: unknown[] = [
            // @ts-expect-error `regoin` is not a fleet config key
            { regoin: "europe-west1" } satisfies Partial<FleetConfigInput>,
            // @ts-expect-error masterCidr applies only to gke pools
            { ...gcePool, masterCidr: "172.16.0.0/28" } satisfies PoolInput,
            // @ts-expect-error confidentialCompute applies only to gce pools
            { name: "k8s", backend: "gke", cidr: "10.11.0.0/24", image: "ghcr.io/actions/actions-runner:2.321.0", confidentialCompute: true } satisfies PoolInput,
            // @ts-expect-error a duration needs a unit ("2h") or a number of seconds
            { ...gcePool, maxBuildDuration: "2 hours" } satisfies PoolInput,
            // @ts-expect-error minRunners is a number
            { ...gcePool, minRunners: "1" } satisfies PoolInput,
            // @ts-expect-error only HSM and SOFTWARE exist
            { ...signer, protectionLevel: "EXTERNAL" } satisfies SignerInput,
        ];
        assert.strictEqual(wrong.length, 6);
    });
});

describe("typed fleet config: HardenedBuildFleet", () => {
    it("takes a typed FleetConfigInput and registers exactly what the same config read as raw stack config registers", async () => {
        const typed: FleetConfigInput = generateFleetConfig(3);
        const urns = async (config: Parameters<typeof validateFleetConfig>[0]) => (await runProgram(() => {
            new HardenedBuildFleet("fleet", { config: config as FleetConfigInput });
        })).resources.map((r) => r.urn).sort();
        const fromTyped = await urns(typed);
        const fromRaw = await urns(rawFleetConfig(JSON.parse(JSON.stringify(typed)) as Record<string, unknown>));
        assert.ok(fromTyped.length > 100, `${fromTyped.length} resources`);
        assert.deepStrictEqual(fromTyped, fromRaw);
    });

    it("still validates a typed config in full: the compiler cannot see CIDR overlaps or lifetimes over 24h", () => {
        const typed = generateFleetConfig(2);
        const [first, second] = typed.pools;
        const result = validateFleetConfig({ ...typed, pools: [{ ...first, maxBuildDuration: "25h" }, { ...second, cidr: first.cidr }] });
        assert.strictEqual(result.config, undefined);
        assert.deepStrictEqual(result.issues.map((i) => `${i.path}: ${i.message}`).sort(), [
            `pools[0].maxBuildDuration: is 25h, above the 24h maximum (I2: bounded lifetime)`,
            `pools[1].cidr: overlaps pools[0].cidr = ${first.cidr} (pool "${first.name}"); pool and signer ranges must be disjoint (I5)`,
        ].sort());
    });
});

describe("typed fleet config: one pool as written in YAML", () => {
    it("validatePoolConfig applies the defaults, reads \"2h\" as 7200 s and lower-cases FQDNs: the hand-normalised PoolConfig", () => {
        const { warnings, ...result } = validatePoolConfig(gcePool);
        assert.deepStrictEqual(result, { config: gcePoolConfig, issues: [] });
        // Deploys, but its allow-list lacks runner hosts (and its name is a default label): warnings, not issues.
        assert.deepStrictEqual(warnings.map((w) => w.split(" = ")[0]), ["hardened-build-fleet:pool.name", "hardened-build-fleet:pool.egressAllowList.fqdns"]);
        const gke = parsePoolConfig({ name: "k8s", backend: "gke", cidr: "10.11.0.0/24", image: "ghcr.io/actions/actions-runner:2.321.0", maxBuildDuration: 5400 });
        assert.strictEqual(gke.maxBuildDurationSeconds, 5400);
        assert.strictEqual(gke.masterCidr, "172.16.0.0/28");
        assert.strictEqual(gke.confidentialCompute, false);
    });

    it("reports every problem of one pool at once, with field, value and fix", () => {
        const result = validatePoolConfig({
            name: "Linux_1", backend: "gce", cidr: "10.10.0.1/24", image: "img", maxBuildDuration: "2 hours", masterCidr: "172.16.0.0/28", minRunners: 5, maxRunners: 2,
        });
        assert.strictEqual(result.config, undefined);
        assert.deepStrictEqual(result.issues.map((i) => [i.path, i.value]), [
            ["pool.name", "Linux_1"],
            ["pool.masterCidr", "172.16.0.0/28"],
            ["pool.minRunners", 5],
            ["pool.cidr", "10.10.0.1/24"],
            ["pool.maxBuildDuration", "2 hours"],
        ]);
        assert.match(result.issues[1].message, /applies only to gke pools/);
        assert.match(result.issues[3].fix, /use 10\.10\.0\.0\/24/);
        assert.throws(() => parsePoolConfig({ name: "x" }), /Invalid hardened-build-fleet stack config \(3 problems\)/);
    });

    it("checks the pool's own ranges against each other (pods inside the primary range, control plane overlapping)", () => {
        const result = validatePoolConfig({
            name: "k8s", backend: "gke", cidr: "10.11.0.0/16", podCidr: "10.11.128.0/17", serviceCidr: "10.68.0.0/20", masterCidr: "10.11.0.0/28",
            image: "ghcr.io/actions/actions-runner:2.321.0",
        });
        assert.deepStrictEqual(result.issues.map((i) => i.path), ["pool.podCidr", "pool.masterCidr"]);
    });

    it("refuses a gke pool with only one of its secondary ranges, naming the missing one", () => {
        const base = { name: "k8s", backend: "gke", cidr: "10.11.0.0/24", image: "ghcr.io/actions/actions-runner:2.321.0" };
        assert.deepStrictEqual(validatePoolConfig({ ...base, podCidr: "10.64.0.0/16" }).issues.map((i) => [i.path, i.message]), [["pool.serviceCidr", "must be set together with podCidr"]]);
        assert.deepStrictEqual(validatePoolConfig({ ...base, serviceCidr: "10.65.0.0/20" }).issues.map((i) => [i.path, i.message]), [["pool.podCidr", "must be set together with serviceCidr"]]);
        assert.deepStrictEqual(validatePoolConfig({ ...base, podCidr: "10.64.0.0/16", serviceCidr: "10.65.0.0/20" }).issues, []);
    });

    it("RunnerPool registers the same resources from the YAML-shaped pool as from the hand-normalised PoolConfig", async () => {
        const build = (pool: PoolInput | PoolConfig) => runProgram(() => {
            new RunnerPool("pool-linux", { ...WORKER, pool });
        });
        const [fromInput, fromConfig] = [await build(gcePool), await build(gcePoolConfig)];
        const view = (r: Awaited<ReturnType<typeof build>>) => r.resources.map((x) => ({ urn: x.urn, inputs: x.inputs }));
        assert.deepStrictEqual(view(fromInput), view(fromConfig));
        const template = fromInput.resources.find((r) => r.type === "gcp:compute/instanceTemplate:InstanceTemplate");
        assert.deepStrictEqual(template?.inputs.scheduling.maxRunDuration, { seconds: 7200 });
    });

    it("RunnerPool refuses a bad YAML-shaped pool listing every problem, the other arguments' too, and registers nothing", async () => {
        const run = await runProgram(() => {
            new RunnerPool("pool-linux", { region: "europe-west1", project: "", additionalRoles: ["owner"], pool: { ...gcePool, cidr: "10.10.0.0/33", maxBuildDuration: "48h" } });
        }, { allowError: true });
        const message = String((run.error as Error | undefined)?.message);
        assert.match(message, /RunnerPool "pool-linux": invalid arguments:/);
        assert.match(message, /pool\.cidr = "10\.10\.0\.0\/33": /);
        assert.match(message, /pool\.maxBuildDuration = "48h": is 48h, above the 24h maximum/);
        assert.match(message, /project: missing/);
        assert.match(message, /additionalRoles: "owner" is not a role name/);
        assert.deepStrictEqual(run.resources.filter((r) => r.parent !== undefined), []);
    });
});
