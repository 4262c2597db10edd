/**
 * The whole fleet: the stack program (index.ts) with the example stack (Pulumi.example.yaml), run
 * once as `pulumi up` and once as `pulumi preview` would see it. The captured graph proves:
 * - I5 pool separation: each pool has its own network, service account and intake bucket, and its
 *   templates, clusters and node pools use them; no peering or Shared VPC; no dependency between zones;
 * - I9/I10: no IAM grant on the key, key ring, signer SA, signer service or provenance bucket names a
 *   runner identity, by literal member or by property dependency;
 * - I7: no service-account (or HMAC) keys at all;
 * - the role-label contract on every compute resource and Kubernetes object (Helm values included);
 * - the component contract: every resource below the fleet component, child names derived from its name;
 * - the stack outputs; all-problems-at-once validation; the shared-signer-project warning.
 */
import { REPO_ROOT } from "../../helpers/paths";
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { HardenedBuildFleet } from "../../../components/fleet";
import { loadBrokerConfig } from "../../../services/controlPlane/broker/config";
import { loadGeneratorConfig } from "../../../services/controlPlane/generator/config";
import { loadWebhookConfig } from "../../../services/controlPlane/webhook/config";
import { loadSignerConfig } from "../../../services/signer/config";
import { POOL_LABEL, ROLE_LABEL } from "../../../components/labels";
import { CapturedResource, ProgramRun, runProgram, RunOptions, UNKNOWN } from "../../../plan/engine";
import { generateFleetConfig } from "../../../bench/fleetConfig";
import {
    allDependencies, ancestorOfType, ancestorsOf, byType, childrenOf, component, descendantsOf, grantMemberDependencies, grantMembers,
    grantTargetDependencies, isIamGrant, one, stackOf, walk,
} from "../../helpers/graph";

const ROOT = REPO_ROOT;
const PROGRAM = path.join(ROOT, "index.ts");
const EXAMPLE = path.join(ROOT, "Pulumi.example.yaml");
const NS = "hardened-build-fleet";
const FLEET_NAME = "fleet"; // index.ts

const T = {
    fleet: "hardened-build-fleet:index:HardenedBuildFleet",
    pool: "hardened-build-fleet:index:RunnerPool",
    controlPlane: "hardened-build-fleet:index:ControlPlane",
    signer: "hardened-build-fleet:index:SignerEnclave",
    isolatedNetwork: "hardened-build-fleet:index:IsolatedNetwork",
    network: "gcp:compute/network:Network",
    subnet: "gcp:compute/subnetwork:Subnetwork",
    account: "gcp:serviceaccount/account:Account",
    bucket: "gcp:storage/bucket:Bucket",
    template: "gcp:compute/instanceTemplate:InstanceTemplate",
    instance: "gcp:compute/instance:Instance",
    mig: "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
    cluster: "gcp:container/cluster:Cluster",
    nodePool: "gcp:container/nodePool:NodePool",
    keyRing: "gcp:kms/keyRing:KeyRing",
    cryptoKey: "gcp:kms/cryptoKey:CryptoKey",
    runService: "gcp:cloudrunv2/service:Service",
    serviceImage: "hardened-build-fleet:index:ServiceImage",
    release: "kubernetes:helm.sh/v3:Release",
};

/** Credentials that would sit on a worker or in state: SA keys and HMAC keys (I7). */
const KEY_TYPES = /^gcp:serviceaccount\/key:Key$|^gcp:storage\/hmacKey:HmacKey$/;
/** Ways two VPCs (or a VPC and a shared one) can be joined (I5, I10). */
const JOINING_TYPES = /peering|sharedvpc|servicenetworking\/connection|vpntunnel|vpngateway|networkconnectivity|interconnectattachment/i;

/** The example stack's config, as committed (the test reads the file, not a copy of it). */
const exampleConfig: Record<string, any> = YAML.parse(fs.readFileSync(EXAMPLE, "utf8")).config;
const examplePools: { name: string; backend: string; cidr: string }[] = exampleConfig[`${NS}:pools`];
const EXAMPLE_POOL_NAMES = examplePools.map((p) => p.name);

function runExample(opts: RunOptions = {}): Promise<ProgramRun> {
    return runProgram(PROGRAM, { configFile: EXAMPLE, ...opts });
}

/** What the tests need to know about one pool of a captured fleet. */
interface PoolFacts {
    name: string;
    backend: string;
    component: CapturedResource;
    /** The pool component and everything below it. */
    resources: CapturedResource[];
    network: CapturedResource;
    subnet: CapturedResource;
    /** The build's identity: the GCE VMs' SA, or the GKE pods' Workload Identity SA. */
    account: CapturedResource;
    /** gke: the nodes' own SA, never the build's. */
    nodeAccount?: CapturedResource;
    /** The intake bucket ControlPlane created for the pool (labelled with it). */
    bucket: CapturedResource;
}

/** The pool's name from the RunnerPool component's registered outputs. */
function poolNameOf(poolComponent: CapturedResource): string {
    const name = poolComponent.outputs.poolName;
    assert.strictEqual(typeof name, "string", `RunnerPool ${poolComponent.name} registered no poolName output`);
    return name;
}

function only(list: CapturedResource[], what: string): CapturedResource {
    assert.strictEqual(list.length, 1, `expected exactly one ${what}, found ${list.length}: ${list.map((r) => r.name).join(", ")}`);
    return list[0];
}

function poolsOf(run: ProgramRun): PoolFacts[] {
    const controlPlane = only(byType(run, T.controlPlane), "ControlPlane");
    const intakeBuckets = descendantsOf(run, controlPlane).filter((r) => r.type === T.bucket);
    return byType(run, T.pool).map((pool) => {
        const name = poolNameOf(pool);
        const below = descendantsOf(run, pool);
        return {
            name,
            backend: pool.outputs.backend,
            component: pool,
            resources: [pool, ...below],
            network: only(below.filter((r) => r.type === T.network), `network of pool ${name}`),
            subnet: only(below.filter((r) => r.type === T.subnet), `subnet of pool ${name}`),
            // The build's identity; GKE pools also have a separate node SA (`-node-sa`).
            account: only(below.filter((r) => r.type === T.account && !r.name.endsWith("-node-sa")), `service account of pool ${name}`),
            nodeAccount: below.find((r) => r.type === T.account && r.name.endsWith("-node-sa")),
            bucket: only(intakeBuckets.filter((b) => b.inputs.labels?.[POOL_LABEL] === name), `intake bucket labelled ${POOL_LABEL}=${name}`),
        };
    });
}

/** The isolation zone of a resource: `pool:<name>`, `control-plane`, `signer`, or `fleet`/`stack` for the roots. */
function zoneOf(run: ProgramRun, res: CapturedResource): string {
    const inPool = res.type === T.pool ? res : ancestorOfType(run, res, T.pool);
    if (inPool) {
        return `pool:${poolNameOf(inPool)}`;
    }
    if (res.type === T.signer || ancestorOfType(run, res, T.signer)) {
        return "signer";
    }
    if (res.type === T.controlPlane || ancestorOfType(run, res, T.controlPlane) || res.type === T.serviceImage || ancestorOfType(run, res, T.serviceImage)) {
        return "control-plane";
    }
    return res.type === T.fleet ? "fleet" : "stack";
}

/** Values by which other resources may refer to `res` (ids, self links, names, emails). */
function identifiers(res: CapturedResource): string[] {
    const o = res.outputs;
    return [o.id, o.selfLink, o.selfLinkUnique, o.name, o.email, o.uri, res.id].filter((v): v is string => typeof v === "string" && v !== "" && v !== UNKNOWN);
}

/** Pool-owned compute: what must sit on the pool's own network and run as the pool's own SA. */
function computeOf(pool: PoolFacts): { templates: CapturedResource[]; instances: CapturedResource[]; clusters: CapturedResource[]; nodePools: CapturedResource[] } {
    const of = (type: string) => pool.resources.filter((r) => r.type === type);
    return { templates: of(T.template), instances: of(T.instance), clusters: of(T.cluster), nodePools: of(T.nodePool) };
}

/** Fails unless `res.propertyDependencies[key]` includes `dep` and names nothing outside `zone` resources. */
function assertPropertyDependsOn(res: CapturedResource, key: string, dep: CapturedResource, zoneUrns: Set<string>): void {
    const deps = res.propertyDependencies[key] ?? [];
    assert.ok(deps.includes(dep.urn), `${res.name}.${key} does not depend on ${dep.name}; it depends on [${deps.join(", ")}]`);
    const foreign = deps.filter((d) => !zoneUrns.has(d));
    assert.deepStrictEqual(foreign, [], `${res.name}.${key} depends on resources outside its pool`);
}

// --- I9/I10: grants on the enclave -------------------------------------------------------------

interface RunnerIdentities {
    /** URNs of the runner service accounts. */
    urns: Set<string>;
    /** `serviceAccount:<email>` of each runner SA, when known (not in a preview). */
    members: Set<string>;
}

/** Runner identities, classified through the graph: the SAs the pools' templates and node pools run as, and the builds' identities. */
function runnerIdentities(run: ProgramRun): RunnerIdentities {
    const accounts = poolsOf(run).flatMap((p) => [p.account, ...(p.nodeAccount ? [p.nodeAccount] : [])]);
    // Cross-check the classification: every SA a runner template, cluster or node pool runs as is one of these.
    for (const r of run.resources.filter((x) => [T.template, T.instance, T.cluster, T.nodePool].includes(x.type))) {
        for (const key of ["serviceAccount", "nodeConfig"]) {
            for (const dep of r.propertyDependencies[key] ?? []) {
                if (run.byUrn.get(dep)?.type === T.account) {
                    assert.ok(accounts.some((a) => a.urn === dep), `${r.name} runs as ${dep}, which is not a pool's own SA`);
                }
            }
        }
    }
    return {
        urns: new Set(accounts.map((a) => a.urn)),
        members: new Set(accounts.map((a) => a.outputs.email).filter((e) => typeof e === "string" && e !== UNKNOWN).map((e) => `serviceAccount:${e}`)),
    };
}

/** A runner identity among literal members: a pool SA, or a Workload Identity principal (only runner KSAs use it). */
function runnerMembersIn(members: string[], runners: RunnerIdentities): string[] {
    return members.filter((m) => runners.members.has(m) || /\.svc\.id\.goog\[/.test(m));
}

/** The enclave's protected resources (I9, I10, I11) and the signer project. */
function enclaveTargets(run: ProgramRun): { targets: CapturedResource[]; signerProject: string } {
    const signer = only(byType(run, T.signer), "SignerEnclave");
    const below = descendantsOf(run, signer);
    const keys = below.filter((r) => r.type === T.cryptoKey);
    const accounts = below.filter((r) => r.type === T.account);
    // The provenance key and the timestamp authority's, each with its own identity.
    assert.deepStrictEqual(keys.map((k) => k.name.replace(signer.name, "")).sort(), ["-key", "-tsa-key"]);
    assert.deepStrictEqual(accounts.map((k) => k.name.replace(signer.name, "")).sort(), ["-sa", "-tsa-sa"]);
    const targets = [
        ...keys,
        only(below.filter((r) => r.type === T.keyRing), "key ring"),
        ...accounts,
        only(below.filter((r) => r.type === T.runService), "signer service"),
        only(below.filter((r) => r.type === T.bucket), "provenance bucket"),
    ];
    return { targets, signerProject: accounts[0].inputs.project };
}

interface EnclaveGrant {
    grant: CapturedResource;
    target: string;
}

/** IAM grants on the enclave: by property dependency on a target, by a literal target identifier, or project-level in the signer project. */
function grantsOnEnclave(run: Pick<ProgramRun, "resources">, targets: CapturedResource[], signerProject: string): EnclaveGrant[] {
    const out: EnclaveGrant[] = [];
    for (const grant of run.resources.filter(isIamGrant)) {
        const targetDeps = grantTargetDependencies(grant);
        const literals = Object.entries(grant.inputs).filter(([k]) => !["member", "members", "policyData", "role", "condition"].includes(k)).map(([, v]) => v);
        const hit = targets.find((t) => targetDeps.includes(t.urn) || identifiers(t).some((id) => literals.includes(id)));
        if (hit) {
            out.push({ grant, target: hit.name });
        } else if (grant.type.startsWith("gcp:projects/") && grant.inputs.project === signerProject) {
            out.push({ grant, target: `project ${signerProject}` });
        }
    }
    return out;
}

/** Every grant on the enclave that names a runner identity, with why. Empty when I9/I10 hold. */
function runnerGrantsOnEnclave(grants: EnclaveGrant[], runners: RunnerIdentities): string[] {
    const problems: string[] = [];
    for (const { grant, target } of grants) {
        const literal = runnerMembersIn(grantMembers(grant), runners);
        if (literal.length > 0) {
            problems.push(`${grant.name} (on ${target}) grants ${grant.inputs.role} to runner identity ${literal.join(", ")}`);
        }
        const viaDeps = grantMemberDependencies(grant).filter((u) => runners.urns.has(u));
        if (viaDeps.length > 0) {
            problems.push(`${grant.name} (on ${target}) has members computed from runner SA ${viaDeps.join(", ")}`);
        }
    }
    return problems;
}

// --- role labels -----------------------------------------------------------------------------------

/** Expected role labels for a resource in `zone` (`pool:<name>` | `control-plane` | `signer`). */
function expectedRole(zone: string): { role: string; pool?: string } {
    return zone.startsWith("pool:") ? { role: "runner", pool: zone.slice("pool:".length) } : { role: zone };
}

/** Problems with one label map of a resource (label `path` for the message). */
function labelProblems(res: CapturedResource, where: string, labels: unknown, zone: string, poolFromLabels = false): string[] {
    if (labels === UNKNOWN) {
        return [];
    }
    if (labels === null || typeof labels !== "object" || Array.isArray(labels)) {
        return [`${res.type} ${res.name}: ${where} is missing (expected ${ROLE_LABEL} labels)`];
    }
    const map = labels as Record<string, unknown>;
    const want = expectedRole(zone);
    const problems: string[] = [];
    if (map[ROLE_LABEL] !== want.role) {
        problems.push(`${res.type} ${res.name}: ${where}.${ROLE_LABEL} is ${JSON.stringify(map[ROLE_LABEL])}, expected "${want.role}"`);
    }
    if (want.pool !== undefined && map[POOL_LABEL] !== want.pool) {
        problems.push(`${res.type} ${res.name}: ${where}.${POOL_LABEL} is ${JSON.stringify(map[POOL_LABEL])}, expected "${want.pool}"`);
    }
    if (want.pool === undefined && poolFromLabels && typeof map[POOL_LABEL] !== "string") {
        problems.push(`${res.type} ${res.name}: ${where}.${POOL_LABEL} is missing on a pool's ${want.role} resource`);
    }
    return problems;
}

/** The label maps a resource must carry, by type (compute, Kubernetes, Helm values). */
function requiredLabelMaps(res: CapturedResource): [string, unknown][] {
    const i = res.inputs;
    switch (res.type) {
        case T.template:
            return [["labels", i.labels], ...(i.disks ?? []).map((d: any, n: number): [string, unknown] => [`disks[${n}].labels`, d?.labels])];
        case T.instance:
            return [["labels", i.labels]];
        case T.cluster:
            return [["resourceLabels", i.resourceLabels]];
        case T.nodePool:
            return [["nodeConfig.resourceLabels", i.nodeConfig?.resourceLabels], ["nodeConfig.labels", i.nodeConfig?.labels]];
        case T.release: {
            const v = i.values ?? {};
            const maps: [string, unknown][] = [["values.labels", v.labels]];
            if (v.template !== undefined) {
                maps.push(["values.template.metadata.labels", v.template?.metadata?.labels]);
            }
            if (v.listenerTemplate !== undefined) {
                maps.push(["values.listenerTemplate.metadata.labels", v.listenerTemplate?.metadata?.labels]);
            }
            return maps;
        }
        default:
            return res.type.startsWith("kubernetes:") ? [["metadata.labels", i.metadata?.labels]] : [];
    }
}

/** Every label map anywhere in the inputs (keys `labels` / `resourceLabels`), for the general contract. */
function allLabelMaps(res: CapturedResource): [string, unknown][] {
    return walk(res.inputs).filter(([p, v]) => /(^|\.)(labels|resourceLabels)$/.test(p) && v !== null && typeof v === "object" && !Array.isArray(v));
}

describe("HardenedBuildFleet: the example stack (index.ts + Pulumi.example.yaml)", function () {
    this.timeout(120_000);
    let up: ProgramRun;
    let preview: ProgramRun;
    /** Both runs, for the checks that must hold in `pulumi up` and in `pulumi preview` alike. */
    const both = (): [string, ProgramRun][] => [["up", up], ["preview", preview]];

    before(async () => {
        up = await runExample();
        preview = await runExample({ preview: true });
    });

    it("registers the fleet under the stack: one RunnerPool per configured pool, a ControlPlane and a SignerEnclave", () => {
        for (const [mode, run] of both()) {
            const fleet = component(run, T.fleet, FLEET_NAME);
            assert.strictEqual(fleet.parent, stackOf(run).urn, `${mode}: the fleet is not a child of the stack`);
            const children = childrenOf(run, fleet);
            assert.deepStrictEqual(children.filter((c) => c.type === T.pool).map(poolNameOf), EXAMPLE_POOL_NAMES, `${mode}: pools`);
            assert.deepStrictEqual(
                children.filter((c) => c.type === T.pool).map((c) => c.outputs.backend),
                examplePools.map((p) => p.backend),
                `${mode}: pool backends`,
            );
            assert.strictEqual(children.filter((c) => c.type === T.controlPlane).length, 1, `${mode}: control planes`);
            assert.strictEqual(children.filter((c) => c.type === T.signer).length, 1, `${mode}: signer enclaves`);
            // The organization-level hardening: guardrails per fleet project and the perimeters (test/components/orgGuardrails/orgGuardrails.test.ts, test/components/fleetPerimeter/fleetPerimeter.test.ts).
            const hardening = ["hardened-build-fleet:index:OrgGuardrails", "hardened-build-fleet:index:FleetPerimeter"];
            assert.deepStrictEqual(children.filter((c) => hardening.includes(c.type)).map((c) => c.name), ["fleet-guardrails-workers", "fleet-guardrails-signer", "fleet-guardrails-control-plane", "fleet-perimeter"], `${mode}: hardening`);
            assert.deepStrictEqual(children.filter((c) => ![T.pool, T.controlPlane, T.signer, ...hardening].includes(c.type)).map((c) => c.name), ["fleet-apis", "fleet-images", "fleet-monitoring"], `${mode}: unexpected direct children of the fleet`);
        }
        // URNs never depend on computed values: a preview plans exactly the resources `up` creates.
        assert.deepStrictEqual(preview.resources.map((r) => r.urn).sort(), up.resources.map((r) => r.urn).sort());
    });

    it("gives every pool its own network, subnet, service account and intake bucket (I5)", () => {
        for (const [mode, run] of both()) {
            const pools = poolsOf(run);
            for (const kind of ["network", "subnet", "account", "bucket"] as const) {
                const urns = new Set(pools.map((p) => p[kind].urn));
                assert.strictEqual(urns.size, pools.length, `${mode}: pools share a ${kind}`);
            }
            // Exactly two more networks than pools: the enclave's own (I10) and the generator's in the control-plane project.
            assert.strictEqual(byType(run, T.network).length, pools.length + 2, `${mode}: networks`);
            assert.deepStrictEqual(byType(run, T.network).filter((n) => !pools.some((p) => p.network.urn === n.urn)).map((n) => zoneOf(run, n)).sort(), ["control-plane", "signer"]);
            for (const pool of pools) {
                const zone = new Set(pool.resources.map((r) => r.urn));
                assertPropertyDependsOn(pool.subnet, "network", pool.network, zone);
                if (mode === "up") {
                    const configured = examplePools.find((p) => p.name === pool.name)!;
                    assert.strictEqual(pool.subnet.inputs.ipCidrRange, configured.cidr, `subnet of ${pool.name}`);
                    assert.ok(identifiers(pool.network).includes(pool.subnet.inputs.network), `subnet of ${pool.name} is not in the pool's network`);
                }
            }
        }
    });

    it("gives no runner identity any grant on any intake bucket: the broker creates (job-scoped tokens), the generator reads (I5, I11)", () => {
        for (const [mode, run] of both()) {
            const pools = poolsOf(run);
            const runners = runnerIdentities(run);
            const cp = only(byType(run, T.controlPlane), "ControlPlane");
            const cpAccounts = descendantsOf(run, cp).filter((r) => r.type === T.account);
            const broker = only(cpAccounts.filter((a) => a.name.endsWith("-broker-sa")), "broker SA");
            const generator = only(cpAccounts.filter((a) => a.name === `${cp.name}-sa`), "generator SA");
            const bucketGrants = run.resources.filter((r) => isIamGrant(r) && r.type.startsWith("gcp:storage/"));
            for (const pool of pools) {
                const onBucket = bucketGrants.filter((g) => (g.propertyDependencies.bucket ?? []).includes(pool.bucket.urn));
                assert.deepStrictEqual(onBucket.map((g) => [g.inputs.role, grantMemberDependencies(g).map((u) => run.byUrn.get(u)!.name)]).sort(), [
                    ["roles/storage.objectCreator", [broker.name]],
                    ["roles/storage.objectViewer", [generator.name]],
                ], `${mode}: grants on ${pool.name}'s intake bucket`);
                for (const g of onBucket) {
                    assert.deepStrictEqual(grantMemberDependencies(g).filter((u) => runners.urns.has(u)), [], `${mode}: ${g.name} names a runner identity`);
                    assert.deepStrictEqual(runnerMembersIn(grantMembers(g), runners), [], `${mode}: ${g.name} names a runner identity`);
                }
                // The bucket lives in the control-plane project, never the worker project.
                if (mode === "up") {
                    assert.notStrictEqual(pool.bucket.inputs.project, exampleConfig["gcp:project"], `${pool.name}'s intake bucket is in the worker project`);
                }
            }
            // Nor on the upload topic or subscription that feed the generator.
            for (const g of run.resources.filter((r) => isIamGrant(r) && r.type.startsWith("gcp:pubsub/"))) {
                assert.deepStrictEqual(grantMemberDependencies(g).filter((u) => runners.urns.has(u)), [], `${mode}: ${g.name} names a runner identity`);
            }
        }
    });

    it("names the right identities in the literals the services check: pool SAs for the broker, the generator for the signer", () => {
        const cp = one(up, T.controlPlane);
        const services = descendantsOf(up, cp).filter((r) => r.type === T.runService);
        const envOf = (svc: CapturedResource) => Object.fromEntries((svc.inputs.template.containers[0].envs as { name: string; value: string }[]).map((e) => [e.name, e.value]));
        const broker = envOf(services.find((x) => x.name.endsWith("-broker"))!);
        const pools = poolsOf(up).filter((p) => p.backend === "gce");
        assert.deepStrictEqual(JSON.parse(broker.BROKER_POOLS).map((p: any) => [p.name, p.serviceAccount]), pools.map((p) => [p.name, p.account.outputs.email]));
        const signerSvc = only(descendantsOf(up, one(up, T.signer)).filter((r) => r.type === T.runService), "signer service");
        const generator = only(descendantsOf(up, cp).filter((r) => r.type === T.account && r.name === `${cp.name}-sa`), "generator SA");
        assert.strictEqual(envOf(signerSvc).SIGNER_ALLOWED_CALLERS, generator.outputs.email);
        // One builder id: what the generator writes is what the signer requires.
        const generatorEnv = envOf(services.find((x) => x.name.endsWith("-generator"))!);
        assert.strictEqual(generatorEnv.BUILDER_ID, `${exampleConfig[`${NS}:github`].configUrl}/hardened-build-fleet/${FLEET_NAME}`);
        assert.strictEqual(envOf(signerSvc).SIGNER_BUILDER_ID, generatorEnv.BUILDER_ID);
        assert.strictEqual(generatorEnv.SIGNER_URL, envOf(signerSvc).SIGNER_AUDIENCE, "the generator's token audience is the signer's");
        // Every service of the example fleet starts with the environment it is given (its own config loader).
        const of = (suffix: string) => envOf(services.find((x) => x.name.endsWith(suffix))!);
        assert.strictEqual(loadBrokerConfig(of("-broker")).pools.length, pools.length);
        assert.strictEqual(loadWebhookConfig(of("-webhook")).metricProject, exampleConfig["gcp:project"]);
        assert.strictEqual(loadGeneratorConfig(generatorEnv).signerUrl, generatorEnv.SIGNER_URL);
        assert.strictEqual(loadSignerConfig(envOf(signerSvc)).builderId, generatorEnv.BUILDER_ID);
    });

    it("attaches each pool's templates, instances, clusters and node pools to its own network, running as its own SA (I5)", () => {
        for (const [mode, run] of both()) {
            for (const pool of poolsOf(run)) {
                const zone = new Set(pool.resources.map((r) => r.urn));
                const { templates, instances, clusters, nodePools } = computeOf(pool);
                if (pool.backend === "gce") {
                    assert.ok(templates.length > 0, `${mode}: gce pool ${pool.name} has no instance template`);
                } else {
                    assert.ok(clusters.length > 0 && nodePools.length > 0, `${mode}: gke pool ${pool.name} has no cluster or node pool`);
                }
                for (const vm of [...templates, ...instances]) {
                    assertPropertyDependsOn(vm, "networkInterfaces", pool.subnet, zone);
                    assertPropertyDependsOn(vm, "serviceAccount", pool.account, zone);
                    if (mode === "up") {
                        for (const nic of vm.inputs.networkInterfaces) {
                            assert.ok(identifiers(pool.subnet).includes(nic.subnetwork), `${vm.name}: NIC on ${nic.subnetwork}, not ${pool.name}'s subnet`);
                        }
                        assert.strictEqual(vm.inputs.serviceAccount.email, pool.account.outputs.email, `${vm.name} runs as another SA`);
                    }
                }
                for (const mig of pool.resources.filter((r) => r.type === T.mig)) {
                    assert.ok(templates.some((t) => (mig.propertyDependencies.versions ?? []).includes(t.urn)), `${mig.name} does not use ${pool.name}'s template`);
                }
                for (const cluster of clusters) {
                    assertPropertyDependsOn(cluster, "network", pool.network, zone);
                    assertPropertyDependsOn(cluster, "subnetwork", pool.subnet, zone);
                    // GKE nodes run as the pool's node SA, never as the build's Workload Identity SA.
                    const nodeAccount = pool.nodeAccount!;
                    assertPropertyDependsOn(cluster, "nodeConfig", nodeAccount, zone);
                    assert.ok(!(cluster.propertyDependencies.nodeConfig ?? []).includes(pool.account.urn), `${cluster.name}'s nodes run as the build's identity`);
                    if (mode === "up") {
                        assert.ok(identifiers(pool.network).includes(cluster.inputs.network), `${cluster.name} is not in ${pool.name}'s network`);
                        assert.ok(identifiers(pool.subnet).includes(cluster.inputs.subnetwork), `${cluster.name} is not in ${pool.name}'s subnet`);
                        assert.strictEqual(cluster.inputs.nodeConfig.serviceAccount, nodeAccount.outputs.email);
                        assert.notStrictEqual(nodeAccount.outputs.email, pool.account.outputs.email);
                    }
                }
                for (const nodePool of nodePools) {
                    assert.ok(clusters.some((c) => (nodePool.propertyDependencies.cluster ?? []).includes(c.urn)), `${nodePool.name} is not in ${pool.name}'s cluster`);
                    assertPropertyDependsOn(nodePool, "nodeConfig", pool.nodeAccount!, zone);
                    if (mode === "up") {
                        assert.strictEqual(nodePool.inputs.nodeConfig.serviceAccount, pool.nodeAccount!.outputs.email, `${nodePool.name} runs as another SA`);
                    }
                }
            }
        }
    });

    it("has no peering, Shared VPC or other join between networks, and no dependency across zones (I5, I10)", () => {
        for (const [mode, run] of both()) {
            assert.deepStrictEqual(run.resources.filter((r) => JOINING_TYPES.test(r.type)).map((r) => `${r.type} ${r.name}`), [], `${mode}: network joins`);
            // A pool's resources depend only on that pool's resources and on the APIs of their project (which
            // depend on nothing); the enclave on nothing of a pool.
            const problems: string[] = [];
            const apis = run.resources.filter((r) => r.type === "gcp:projects/service:Service");
            assert.ok(apis.length > 0 && apis.every((a) => allDependencies(a).length === 0), `${mode}: the API switches depend on nothing`);
            const isApi = (urn: string) => apis.some((a) => a.urn === urn);
            for (const res of run.resources.filter((r) => r.custom)) {
                const zone = zoneOf(run, res);
                for (const dep of allDependencies(res).filter((d) => !isApi(d))) {
                    const depZone = zoneOf(run, run.byUrn.get(dep) ?? res);
                    const crossPool = zone.startsWith("pool:") && depZone !== zone;
                    const signerOnPool = zone === "signer" && depZone.startsWith("pool:");
                    if (crossPool || signerOnPool) {
                        problems.push(`${res.name} (${zone}) depends on ${dep} (${depZone})`);
                    }
                }
            }
            assert.deepStrictEqual(problems, [], `${mode}: cross-zone dependencies`);
        }
    });

    it("grants nothing on the signing key, key ring, signer SA, signer service or provenance bucket to a runner SA (I9, I10)", () => {
        for (const [mode, run] of both()) {
            const runners = runnerIdentities(run);
            // One build identity per pool, plus the node SA of each gke pool.
            assert.strictEqual(runners.urns.size, EXAMPLE_POOL_NAMES.length + examplePools.filter((p) => p.backend === "gke").length);
            const { targets, signerProject } = enclaveTargets(run);
            const grants = grantsOnEnclave(run, targets, signerProject);
            // Not vacuous: the signer binding and verifiers on the key, the invokers, the provenance writer, ...
            const grantedRoles = grants.map((g) => g.grant.inputs.role);
            for (const role of ["roles/cloudkms.signer", "roles/cloudkms.publicKeyViewer", "roles/run.invoker", "roles/storage.objectCreator"]) {
                assert.ok(grantedRoles.includes(role), `${mode}: found no ${role} grant on the enclave (found ${grantedRoles.join(", ")})`);
            }
            assert.deepStrictEqual(runnerGrantsOnEnclave(grants, runners), [], `${mode}: runner grants on the enclave`);

            // And the positive side: the key's signer is the signer SA alone, the service's invoker the control plane alone.
            const signerSa = only(targets.filter((t) => t.type === T.account && t.name.endsWith("-signer-sa")), "signer SA");
            const tsaSa = only(targets.filter((t) => t.type === T.account && t.name.endsWith("-tsa-sa")), "TSA SA");
            const tsaBinding = only(grants.filter((g) => g.grant.inputs.role === "roles/cloudkms.signerVerifier").map((g) => g.grant), "TSA key binding");
            assert.deepStrictEqual(grantMemberDependencies(tsaBinding), [tsaSa.urn], `${mode}: the TSA key's signer is the TSA identity alone`);
            // The provenance generator's identity (the control plane's `-sa`) is the signer's only invoker.
            const cp = one(run, T.controlPlane);
            const cpSa = only(descendantsOf(run, cp).filter((r) => r.type === T.account && r.name === `${cp.name}-sa`), "generator SA");
            const signerBinding = grants.find((g) => g.grant.inputs.role === "roles/cloudkms.signer")!.grant;
            const invokers = grants.find((g) => g.grant.inputs.role === "roles/run.invoker")!.grant;
            assert.deepStrictEqual(grantMemberDependencies(signerBinding), [signerSa.urn], `${mode}: the key's signers`);
            assert.deepStrictEqual(grantMemberDependencies(invokers), [cpSa.urn], `${mode}: the signer's invokers`);
            if (mode === "up") {
                assert.deepStrictEqual(grantMembers(signerBinding), [`serviceAccount:${signerSa.outputs.email}`]);
                assert.deepStrictEqual(grantMembers(invokers), [`serviceAccount:${cpSa.outputs.email}`]);
            }
        }
    });

    it("detects a runner grant on the enclave by literal member and by property dependency (self-test of the check above)", () => {
        for (const [mode, run] of both()) {
            const runners = runnerIdentities(run);
            const runnerSa = poolsOf(run)[0].account;
            const { targets, signerProject } = enclaveTargets(run);
            const invokers = grantsOnEnclave(run, targets, signerProject).find((g) => g.grant.inputs.role === "roles/run.invoker")!.grant;
            // Preview: the member is unknown, only the property dependency names the runner SA.
            const tampered: CapturedResource = {
                ...invokers,
                inputs: { ...invokers.inputs, members: [...invokers.inputs.members, mode === "up" ? `serviceAccount:${runnerSa.outputs.email}` : UNKNOWN] },
                propertyDependencies: { ...invokers.propertyDependencies, members: [...(invokers.propertyDependencies.members ?? []), runnerSa.urn] },
            };
            const resources = run.resources.map((r) => (r === invokers ? tampered : r));
            const problems = runnerGrantsOnEnclave(grantsOnEnclave({ resources }, targets, signerProject), runners);
            assert.strictEqual(problems.length, mode === "up" ? 2 : 1, `${mode}: ${problems.join("; ")}`);
            // A Workload Identity principal (a runner pod's KSA) on the key is a runner identity too.
            const key = targets[0];
            const wiGrant: CapturedResource = {
                ...invokers, urn: `${invokers.urn}-wi`, name: "wi-on-key", type: "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
                inputs: { cryptoKeyId: key.id, role: "roles/cloudkms.signerVerifier", member: "serviceAccount:acme-build-workers.svc.id.goog[runners-containers/containers-runner]" },
                propertyDependencies: { cryptoKeyId: [key.urn], member: [] },
            };
            const withWi = [...run.resources, wiGrant];
            assert.strictEqual(runnerGrantsOnEnclave(grantsOnEnclave({ resources: withWi }, targets, signerProject), runners).length, 1);
        }
    });

    it("creates no service-account or HMAC keys, for runner SAs or anyone else (I7)", () => {
        for (const [mode, run] of both()) {
            const runners = runnerIdentities(run);
            const keys = run.resources.filter((r) => KEY_TYPES.test(r.type));
            assert.deepStrictEqual(keys.map((k) => `${k.type} ${k.name}`), [], `${mode}: keys in the stack`);
            // Nothing else mints a credential for a runner SA either: only its project roles and the
            // Workload Identity binding of its own pool's KSA refer to it.
            for (const res of run.resources.filter((r) => r.custom)) {
                const onRunner = Object.entries(res.propertyDependencies)
                    .filter(([k]) => /^serviceAccount(Id|Email)$/.test(k))
                    .flatMap(([, urns]) => urns)
                    .filter((u) => runners.urns.has(u));
                if (onRunner.length > 0) {
                    assert.ok(isIamGrant(res) && res.inputs.role === "roles/iam.workloadIdentityUser", `${mode}: ${res.type} ${res.name} targets runner SA ${onRunner.join(", ")}`);
                    assert.strictEqual(zoneOf(run, res), zoneOf(run, run.byUrn.get(onRunner[0])!), `${mode}: ${res.name} binds another pool's SA`);
                }
            }
        }
    });

    it("labels every compute resource, Kubernetes object and runner pod template with its role and pool", () => {
        for (const [mode, run] of both()) {
            const problems: string[] = [];
            let checked = 0;
            const intakeBucketUrns = new Set(poolsOf(run).map((p) => p.bucket.urn));
            for (const res of run.resources.filter((r) => r.custom)) {
                const zone = zoneOf(run, res);
                const required = requiredLabelMaps(res);
                checked += required.length;
                for (const [where, labels] of required) {
                    problems.push(...labelProblems(res, where, labels, zone));
                }
                // The general contract: any label map a resource carries names the zone it is in.
                for (const [where, labels] of allLabelMaps(res)) {
                    problems.push(...labelProblems(res, where, labels, zone, intakeBucketUrns.has(res.urn)));
                }
            }
            assert.deepStrictEqual([...new Set(problems)], [], `${mode}: role labels`);
            // Not vacuous: 2 gce templates (+ their disks), 1 cluster, 2 node pools, the Kubernetes objects and releases.
            assert.ok(checked >= 20, `${mode}: only ${checked} label maps checked`);
            const k8s = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
            assert.ok(k8s.some((r) => r.type === "kubernetes:core/v1:Namespace") && k8s.some((r) => r.type === T.release), `${mode}: no Kubernetes workload found`);
            const scaleSet = k8s.find((r) => r.type === T.release && r.inputs.values?.template !== undefined);
            assert.ok(scaleSet, `${mode}: no runner scale set with a pod template`);
        }
    });

    it("parents every resource below the fleet component and derives every child name from the fleet name", () => {
        for (const [mode, run] of both()) {
            const stack = stackOf(run);
            const fleet = component(run, T.fleet, FLEET_NAME);
            for (const res of run.resources.filter((r) => r !== stack && r !== fleet)) {
                const chain = ancestorsOf(run, res);
                assert.ok(chain.includes(fleet.urn), `${mode}: ${res.type} ${res.name} is not below the fleet (ancestors: ${chain.join(" <- ")})`);
                assert.strictEqual(chain[chain.length - 1], stack.urn, `${mode}: ${res.name}'s ancestor chain does not end at the stack`);
                // Names derive from the parent component's name, which derives from the fleet's.
                const parent = run.byUrn.get(res.parent!)!;
                assert.ok(res.name === parent.name || res.name.startsWith(`${parent.name}-`), `${mode}: ${res.name} does not derive from its parent ${parent.name}`);
            }
        }
    });

    it("derives names from a fleet name other than the example's (nothing hard-coded)", async () => {
        const run = await runProgram(() => {
            new HardenedBuildFleet("acme", { config: generateFleetConfig(3) });
        });
        const fleet = component(run, T.fleet, "acme");
        const below = descendantsOf(run, fleet);
        assert.ok(below.length > 100, `only ${below.length} resources below the fleet`);
        assert.deepStrictEqual(below.filter((r) => !r.name.startsWith("acme-") || r.name.includes(FLEET_NAME)).map((r) => r.name), []);
    });

    it("exports pool names, intake buckets by pool, the signer public key (PEM), service URL and provenance bucket", () => {
        const out = up.outputs;
        const pools = poolsOf(up);
        assert.deepStrictEqual(out.poolNames, EXAMPLE_POOL_NAMES);
        assert.deepStrictEqual(Object.keys(out.intakeBuckets).sort(), [...EXAMPLE_POOL_NAMES].sort());
        for (const pool of pools) {
            assert.strictEqual(out.intakeBuckets[pool.name], pool.bucket.outputs.name, `intake bucket of ${pool.name}`);
            assert.match(out.intakeBuckets[pool.name], new RegExp(`^${FLEET_NAME}-control-plane-intake-${pool.name}-[0-9a-f]{7}$`));
        }
        // A real P-256 public key, matching the key's EC_SIGN_P256_SHA256 algorithm.
        assert.match(out.signerPublicKeyPem, /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n?$/);
        const publicKey = crypto.createPublicKey(out.signerPublicKeyPem);
        assert.strictEqual(publicKey.asymmetricKeyType, "ec");
        assert.strictEqual(publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
        const key = only(byType(up, T.cryptoKey).filter((k) => !k.name.endsWith("-tsa-key")), "provenance key");
        assert.strictEqual(key.inputs.versionTemplate.algorithm, "EC_SIGN_P256_SHA256");
        assert.strictEqual(out.signerKeyVersion, `${key.id}/cryptoKeyVersions/1`);
        assert.deepStrictEqual(out.signerKeyring.map((k: any) => [k.id, k.state, k.name, k.publicKeyPem]), [["1", "active", out.signerKeyVersion, out.signerPublicKeyPem]]);
        const webhook = descendantsOf(up, one(up, T.controlPlane)).find((r) => r.type === T.runService && r.name.endsWith("-webhook"))!;
        assert.strictEqual(out.webhookUrl, `${webhook.outputs.uri}/v1/github/webhook`);

        const service = only(descendantsOf(up, one(up, T.signer)).filter((r) => r.type === T.runService), "signer service");
        const url = new URL(out.signerServiceUrl);
        assert.strictEqual(url.protocol, "https:");
        assert.match(url.hostname, /\.run\.app$/);
        assert.strictEqual(out.signerServiceUrl, service.outputs.uri);

        const provenance = only(descendantsOf(up, one(up, T.signer)).filter((r) => r.type === T.bucket), "provenance bucket");
        assert.strictEqual(out.provenanceBucket, provenance.outputs.name);
        // The control plane (its generator identity) lives outside the worker project: the example gives it its own.
        assert.match(out.generatorServiceAccount, new RegExp(`@${exampleConfig[`${NS}:controlPlane`].project}\\.iam\\.gserviceaccount\\.com$`));
        assert.ok(!out.generatorServiceAccount.endsWith(`@${exampleConfig[`${NS}:signerProject`]}.iam.gserviceaccount.com`));
    });

    it("exports the same keys in a preview, computed values unknown as in `pulumi preview`", () => {
        // The stack resource's registered outputs keep known keys (run.outputs is empty in a preview).
        const out = stackOf(preview).outputs;
        assert.deepStrictEqual(Object.keys(out).sort(), Object.keys(up.outputs).sort());
        assert.deepStrictEqual(out.poolNames, EXAMPLE_POOL_NAMES);
        assert.deepStrictEqual(out.intakeBuckets, up.outputs.intakeBuckets, "bucket auto-names are known at preview");
        for (const key of ["signerPublicKeyPem", "signerServiceUrl", "signerKeyVersion", "generatorServiceAccount", "webhookUrl", "brokerUrl"]) {
            assert.strictEqual(out[key], UNKNOWN, `${key} should be unknown in a preview`);
        }
    });
});

describe("HardenedBuildFleet: invalid or unusual config in the stack program", function () {
    this.timeout(60_000);

    it("registers nothing but the stack for an invalid config, and lists every problem in the error", async () => {
        const pools = structuredClone(examplePools) as Record<string, unknown>[];
        pools[1].name = "Linux_Spot"; // not a GCP name
        pools[2].cidr = "10.10.0.0/22"; // overlaps pools[0] (10.10.0.0/24)
        const signer = { ...exampleConfig[`${NS}:signer`], cidr: "10.11.0.0/26" }; // inside pools[1] (10.11.0.0/24)
        const run = await runExample({ allowError: true, config: { [`${NS}:pools`]: pools, [`${NS}:signer`]: signer } });

        assert.deepStrictEqual(run.resources.map((r) => r.type), ["pulumi:pulumi:Stack"], "an invalid config must register nothing");
        const error = run.error as Error & { issues?: unknown[] };
        assert.ok(error instanceof Error, `expected an error, got ${String(error)}`);
        assert.strictEqual(error.name, "FleetConfigError");
        const lines = error.message.split("\n");
        assert.strictEqual(lines[0], `Invalid ${NS} stack config (3 problems):`);
        assert.strictEqual(lines.length, 4, error.message);
        assert.strictEqual(error.issues?.length, 3);
        const line = (needle: string) => lines.find((l) => l.includes(needle)) ?? assert.fail(`no line about ${needle} in:\n${error.message}`);
        assert.match(line(`${NS}:pools[1].name = "Linux_Spot"`), /not a valid pool name.*Fix: use e\.g\. "linux-spot"/);
        assert.match(line(`${NS}:pools[2].cidr = "10.10.0.0/22"`), /overlaps pools\[0\]\.cidr = 10\.10\.0\.0\/24.*Fix: /);
        assert.match(line(`${NS}:signer.cidr = "10.11.0.0/26"`), /overlaps pools\[1\]\.cidr = 10\.11\.0\.0\/24.*Fix: /);
        for (const l of lines.slice(1)) {
            assert.match(l, /^hardened-build-fleet:\S+ = .+: .+\. Fix: .+\.$/, `every problem names field, value and fix: ${l}`);
        }
    });

    it("puts the control plane in a dedicated project on request: the signer pulls the image through its own Cloud Run agent, no egress into the enclave", async () => {
        const cp = { ...exampleConfig[`${NS}:controlPlane`], project: "acme-build-control" };
        const run = await runExample({ config: { [`${NS}:controlPlane`]: cp } });
        const control = one(run, T.controlPlane);
        const below = descendantsOf(run, control);
        for (const r of below.filter((x) => x.custom && typeof x.inputs.project === "string" && x.inputs.project !== exampleConfig["gcp:project"])) {
            assert.strictEqual(r.inputs.project, "acme-build-control", `${r.name} is not in the control-plane project`);
        }
        const generator = below.find((r) => r.type === T.runService && r.name.endsWith("-generator"))!;
        // Its own network in its own project, never the enclave's.
        const network = one(run, T.network, "fleet-control-plane-net");
        assert.strictEqual(network.inputs.project, "acme-build-control");
        assert.deepStrictEqual(generator.propertyDependencies.template.filter((d) => run.byUrn.get(d)?.type === T.network), [network.urn],
            "a generator in another project egresses into its own network, not the enclave's");
        const repo = one(run, "gcp:artifactregistry/repository:Repository");
        assert.strictEqual(repo.inputs.project, "acme-build-control");
        const reader = one(run, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember");
        assert.match(reader.inputs.member, /^serviceAccount:service-\d+@serverless-robot-prod\.iam\.gserviceaccount\.com$/);
        assert.strictEqual(reader.inputs.role, "roles/artifactregistry.reader");
    });

    it("deploys given digest-pinned images without building one", async () => {
        const image = `europe-west1-docker.pkg.dev/acme-build-signer/fleet/services@sha256:${"d".repeat(64)}`;
        const run = await runExample({
            config: {
                [`${NS}:signer`]: { ...exampleConfig[`${NS}:signer`], serviceImage: image },
                [`${NS}:controlPlane`]: { ...exampleConfig[`${NS}:controlPlane`], serviceImage: image },
            },
        });
        assert.strictEqual(byType(run, "docker-build:index:Image").length, 0);
        assert.deepStrictEqual([...new Set(byType(run, T.runService).map((r) => r.inputs.template.containers[0].image))], [image]);
    });

    it("warns when the signer shares the worker project with allowSharedSignerProject, and refuses it without", async () => {
        const workerProject = exampleConfig["gcp:project"];
        const shared = await runExample({ config: { [`${NS}:signerProject`]: workerProject, [`${NS}:allowSharedSignerProject`]: true, [`${NS}:perimeter`]: {} } });
        const warnings = shared.logs.filter((l) => l.severity === "warning");
        assert.ok(
            warnings.some((w) => w.message.includes(`${NS}:signerProject`) && w.message.includes("allowSharedSignerProject") && w.message.includes("I10")),
            `no shared-signer-project warning in ${JSON.stringify(shared.logs)}`,
        );
        assert.strictEqual(one(shared, T.keyRing).inputs.project, workerProject, "the enclave is built in the shared project");

        const refused = await runExample({ allowError: true, config: { [`${NS}:signerProject`]: workerProject } });
        assert.deepStrictEqual(refused.resources.map((r) => r.type), ["pulumi:pulumi:Stack"]);
        assert.match(String((refused.error as Error)?.message), /signerProject = "acme-build-workers": is the same project as workerProject.*allowSharedSignerProject true/);
    });
});
