/**
 * Generator of valid raw fleet configs (stack-config shape, as `HardenedBuildFleet`'s `config` arg) with
 * any number of pools. Shared by the scaling tests and the benchmark.
 *
 * Address plan (every range pairwise disjoint, so the config validator accepts any pool count up to
 * MAX_GENERATED_POOLS):
 * - pool i primary subnet:   10.16.0.0/12 split into /24s   -> 10.(16 + i>>8).(i & 255).0/24
 * - gke pool i services:     10.32.0.0/12 split into /24s
 * - gke pool i pods:         10.128.0.0/9 split into /20s   (16 nodes of /24 each)
 * - gke pool i control plane 172.16.0.0/16 split into /28s  (RFC 1918, one per cluster)
 * - signer subnet:           10.8.0.0/26
 * - egress allow-list:       203.0.113.0/28 (TEST-NET-3, a documentation range)
 */
import type { FleetConfigInput, PoolInput, RunnerBackend } from "../components/config";

/** The address plan's capacity (pod ranges: 2048 x /20 in 10.128.0.0/9). */
export const MAX_GENERATED_POOLS = 2048;

/** Backend of each generated pool. "mixed" cycles gce, gce (spot), gke. */
export type GeneratedBackends = "mixed" | RunnerBackend;

export interface GenerateFleetConfigOptions {
    /** Backend of the pools. Default "mixed": gce, gce (spot), gke, gce, gce (spot), gke, ... */
    backends?: GeneratedBackends;
    /** Worker project. Default "bench-build-workers". */
    workerProject?: string;
    /** Signer project. Default "bench-build-signer" (its own project, I10). */
    signerProject?: string;
    /** Region. Default "europe-west1". */
    region?: string;
}

/** The backend `generateFleetConfig` gives pool `index` (0-based). */
export function generatedBackend(index: number, backends: GeneratedBackends = "mixed"): RunnerBackend {
    if (backends !== "mixed") {
        return backends;
    }
    return index % 3 === 2 ? "gke" : "gce";
}

/** The name `generateFleetConfig` gives pool `index` (0-based): `gce-0001`, `gke-0002`, ... */
export function generatedPoolName(index: number, backends: GeneratedBackends = "mixed"): string {
    return `${generatedBackend(index, backends)}-${String(index).padStart(4, "0")}`;
}

function ipv4(value: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** `base` + `index` blocks of size 2^(32 - prefix), as CIDR. */
function block(base: string, prefix: number, index: number): string {
    const start = base.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0) + index * 2 ** (32 - prefix);
    return `${ipv4(start)}/${prefix}`;
}

const GITHUB_FQDNS = ["github.com", "api.github.com", "codeload.github.com", "broker.actions.githubusercontent.com", "pipelines.actions.githubusercontent.com", "results-receiver.actions.githubusercontent.com"];

function pool(index: number, backends: GeneratedBackends): PoolInput {
    const backend = generatedBackend(index, backends);
    const common = {
        name: generatedPoolName(index, backends),
        cidr: block("10.16.0.0", 24, index),
        egressAllowList: { fqdns: [...GITHUB_FQDNS], cidrs: ["203.0.113.0/28"] },
    };
    if (backend === "gke") {
        return {
            ...common,
            backend,
            machineType: "n2-standard-8",
            minRunners: 0,
            maxRunners: 16,
            maxBuildDuration: "90m",
            image: "ghcr.io/actions/actions-runner:2.321.0",
            podCidr: block("10.128.0.0", 20, index),
            serviceCidr: block("10.32.0.0", 24, index),
            masterCidr: block("172.16.0.0", 28, index),
            egressAllowList: { fqdns: [...GITHUB_FQDNS, "ghcr.io", "pkg-containers.githubusercontent.com"], cidrs: ["203.0.113.0/28"] },
        };
    }
    const spot = backends === "mixed" ? index % 3 === 1 : index % 2 === 1;
    return {
        ...common,
        backend,
        machineType: spot ? "e2-standard-4" : "n2d-standard-8",
        spot,
        // Confidential VM on the non-spot pools (n2d supports AMD SEV).
        confidentialCompute: !spot,
        minRunners: spot ? 0 : 1,
        maxRunners: spot ? 50 : 20,
        maxBuildDuration: spot ? "90m" : "2h",
        image: "projects/acme-build-images/global/images/family/gha-runner-ubuntu-2404",
    };
}

/**
 * A valid raw fleet config (the keys of the `hardened-build-fleet:` namespace) with `pools` pools,
 * mixed gce/gke by default, pairwise-disjoint CIDRs and the signer in its own project. Deterministic:
 * the same arguments always give the same config.
 */
export function generateFleetConfig(pools: number, options: GenerateFleetConfigOptions = {}): FleetConfigInput {
    if (!Number.isInteger(pools) || pools < 1 || pools > MAX_GENERATED_POOLS) {
        throw new RangeError(`generateFleetConfig: pools must be an integer between 1 and ${MAX_GENERATED_POOLS}, got ${pools}`);
    }
    const backends = options.backends ?? "mixed";
    return {
        region: options.region ?? "europe-west1",
        workerProject: options.workerProject ?? "bench-build-workers",
        signerProject: options.signerProject ?? "bench-build-signer",
        github: { configUrl: "https://github.com/acme", scaleSetSecretName: "arc-github-app" },
        pools: Array.from({ length: pools }, (_, i) => pool(i, backends)),
        signer: {
            keyAlgorithm: "EC_SIGN_P256_SHA256",
            protectionLevel: "HSM",
            cidr: "10.8.0.0/26",
            verifiers: ["group:release-verifiers@acme.example"],
            provenanceRetentionDays: 730,
        },
        // The recommended shape: the control plane in a project of its own.
        controlPlane: {
            project: "bench-build-control",
            intakeRetentionDays: 7,
            githubApp: { appId: 123456, installationId: 7890123, privateKeySecret: "projects/bench-build-control/secrets/github-app-key" },
            webhookSecret: "projects/bench-build-control/secrets/github-webhook-secret",
        },
    };
}
