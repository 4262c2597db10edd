/**
 * Every compute kind of @pulumi/gcp that runs code under an identity, and where each keeps its
 * service account and its network. The model treats them alike (compute.ts); one row per kind keeps
 * the list reviewable. Kinds with no row here run no user code (or run it under an identity the
 * model reaches through another row, e.g. a MIG through its template).
 */
import { ComputeKind, T } from "./types";
import { classOf } from "./typeTable";
import { unknown } from "./props";

export interface KindSpec {
    kind: ComputeKind;
    /** Paths to a service-account email (or `projects/-/serviceAccounts/<email>`); the first prop is the dependency key. */
    identities: string[][];
    /** Paths to network references. */
    networks: string[][];
    /** Paths to subnetwork references. */
    subnets: string[][];
    /** Paths to Serverless VPC Access connector references. */
    connectors?: string[][];
    /** True when an absent identity means the platform's default service account (never "none"). */
    defaultIdentity?: boolean;
}

const managed = (identities: string[][], networks: string[][] = [], subnets: string[][] = [], connectors: string[][] = []): KindSpec =>
    ({ kind: "managed", identities, networks, subnets, connectors, defaultIdentity: true });

/** Compute kinds with their own table row (VMs, templates, GKE and Cloud Run are read by compute.ts). */
export const MANAGED_KINDS: Record<string, KindSpec> = {
    "gcp:cloudrunv2/job:Job": {
        kind: "runService", identities: [["template", "template", "serviceAccount"]],
        networks: [["template", "template", "vpcAccess", "networkInterfaces", "*", "network"]],
        subnets: [["template", "template", "vpcAccess", "networkInterfaces", "*", "subnetwork"]],
        connectors: [["template", "template", "vpcAccess", "connector"]], defaultIdentity: true,
    },
    "gcp:cloudrunv2/workerPool:WorkerPool": {
        kind: "runService", identities: [["template", "serviceAccount"]],
        networks: [["template", "vpcAccess", "networkInterfaces", "*", "network"]],
        subnets: [["template", "vpcAccess", "networkInterfaces", "*", "subnetwork"]], defaultIdentity: true,
    },
    "gcp:cloudbuild/trigger:Trigger": managed([["serviceAccount"]]),
    "gcp:cloudbuild/workerPool:WorkerPool": { kind: "managed", identities: [], networks: [["networkConfig", "peeredNetwork"]], subnets: [] },
    "gcp:cloudfunctions/function:Function": managed([["serviceAccountEmail"]], [], [], [["vpcConnector"]]),
    "gcp:cloudfunctionsv2/function:Function": managed([["serviceConfig", "serviceAccountEmail"], ["buildConfig", "serviceAccount"]], [], [], [["serviceConfig", "vpcConnector"]]),
    "gcp:composer/environment:Environment": managed([["config", "nodeConfig", "serviceAccount"]], [["config", "nodeConfig", "network"]], [["config", "nodeConfig", "subnetwork"]]),
    "gcp:dataflow/job:Job": managed([["serviceAccountEmail"]], [["network"]], [["subnetwork"]]),
    "gcp:dataflow/flexTemplateJob:FlexTemplateJob": managed([["serviceAccountEmail"]], [["network"]], [["subnetwork"]]),
    "gcp:notebooks/instance:Instance": managed([["serviceAccount"]], [["network"]], [["subnet"]]),
    "gcp:workbench/instance:Instance": managed([["gceSetup", "serviceAccounts", "*", "email"]], [["gceSetup", "networkInterfaces", "*", "network"]], [["gceSetup", "networkInterfaces", "*", "subnet"]]),
    "gcp:appengine/standardAppVersion:StandardAppVersion": managed([["serviceAccount"]], [], [], [["vpcAccessConnector", "name"]]),
    "gcp:appengine/flexibleAppVersion:FlexibleAppVersion": managed([["serviceAccount"]], [["network", "name"]], [["network", "subnetwork"]]),
    "gcp:dataproc/cluster:Cluster": managed([["clusterConfig", "gceClusterConfig", "serviceAccount"]], [["clusterConfig", "gceClusterConfig", "network"]], [["clusterConfig", "gceClusterConfig", "subnetwork"]]),
    "gcp:workstations/workstationConfig:WorkstationConfig": managed([["host", "gceInstance", "serviceAccount"]]),
    // Code under an identity without a VM of one's own: workflow steps (HTTP and connector calls with
    // the workflow's token), serverless Spark, Cloud Deploy render/deploy jobs, Dataform and scheduled SQL.
    "gcp:workflows/workflow:Workflow": managed([["serviceAccount"]]),
    "gcp:dataproc/batch:Batch": managed([["environmentConfig", "executionConfig", "serviceAccount"]], [["environmentConfig", "executionConfig", "networkUri"]], [["environmentConfig", "executionConfig", "subnetworkUri"]]),
    "gcp:clouddeploy/target:Target": managed([["executionConfigs", "*", "serviceAccount"]]),
    "gcp:dataform/repository:Repository": managed([["serviceAccount"]]),
    "gcp:bigquery/dataTransferConfig:DataTransferConfig": managed([["serviceAccountName"]]),
};

/** Types the model reads as Compute Engine VMs or templates, GKE or Cloud Run (compute.ts). */
export const CORE_KINDS: Record<string, ComputeKind> = {
    [T.instance]: "instance",
    [T.instanceFromTemplate]: "instance",
    [T.instanceFromMachineImage]: "instance",
    [T.instanceTemplate]: "template",
    [T.regionInstanceTemplate]: "template",
    [T.nodePool]: "nodePool",
    [T.cluster]: "cluster",
    [T.runService]: "runService",
    [T.runServiceV1]: "runService",
};

/**
 * `runs` rows the model reaches through another row: a managed instance group or per-instance config
 * runs what its template says (the template is a compute node of its own).
 */
export const REACHED_VIA_TEMPLATE: ReadonlySet<string> = new Set([
    "gcp:compute/instanceGroupManager:InstanceGroupManager", "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
    "gcp:compute/perInstanceConfig:PerInstanceConfig", "gcp:compute/regionPerInstanceConfig:RegionPerInstanceConfig",
]);

const IDENTITY_KEY = /^(serviceAccount|serviceAccountEmail|serviceAccountName|executionServiceAccount|runAsServiceAccount|computeServiceAccount|serviceAccountId)$/;
const NETWORK_KEY = /^(network|networkUri|networkName|peeredNetwork|vpcNetwork)$/;
const SUBNET_KEY = /^(subnetwork|subnet|subnetworkUri|subnetUri)$/;

/**
 * The spec of a `runs` row without a reviewed KindSpec (typeClasses.ts): every field of its inputs
 * that names a service account (or an `email` inside a `serviceAccount(s)` block), a network or a
 * subnetwork, at any depth. Fail closed: an absent identity is the platform's default account.
 */
export function genericSpec(props: Record<string, unknown>): KindSpec {
    const spec: KindSpec = { kind: "managed", identities: [], networks: [], subnets: [], defaultIdentity: true };
    const walk = (v: unknown, path: string[], depth: number): void => {
        if (depth > 7 || v === null || typeof v !== "object") {
            return;
        }
        const arr = Array.isArray(v);
        for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
            const step = arr ? "*" : k;
            const p = [...path, step];
            const parent = path[path.length - 1] ?? "";
            if (!arr && (IDENTITY_KEY.test(k) || (k === "email" && /serviceAccount/i.test(parent === "*" ? path[path.length - 2] ?? "" : parent)))) {
                if (typeof child === "string") {
                    spec.identities.push(p);
                    continue;
                }
            }
            if (!arr && NETWORK_KEY.test(k) && typeof child === "string") {
                spec.networks.push(p);
                continue;
            }
            if (!arr && SUBNET_KEY.test(k) && typeof child === "string") {
                spec.subnets.push(p);
                continue;
            }
            walk(child, p, depth + 1);
        }
    };
    walk(props, [], 0);
    if (spec.identities.length === 0) {
        // A block unknown during a preview may hold the identity: read it from its dependencies.
        for (const [k, v] of Object.entries(props)) {
            if (typeof v === "string" && unknown(v)) {
                spec.identities.push([k]);
            }
        }
    }
    // Paths with `*` repeat per element: keep one of each.
    const dedupe = (xs: string[][]) => [...new Map(xs.map((x) => [x.join("."), x])).values()];
    spec.identities = dedupe(spec.identities);
    spec.networks = dedupe(spec.networks);
    spec.subnets = dedupe(spec.subnets);
    return spec;
}

/**
 * How the model reads a GCP type as compute: a core kind, a reviewed KindSpec, the generic reader for
 * every other `runs` row, or undefined (not compute, or reached through its template).
 */
export function computeSpecOf(type: string, props: Record<string, unknown>): { core: ComputeKind } | { spec: KindSpec } | undefined {
    const core = CORE_KINDS[type];
    if (core) {
        return { core };
    }
    const spec = MANAGED_KINDS[type];
    if (spec) {
        return { spec };
    }
    if (type.startsWith("gcp:") && classOf(type) === "runs" && !REACHED_VIA_TEMPLATE.has(type)) {
        return { spec: genericSpec(props) };
    }
    return undefined;
}

/** Every value at a path, `*` stepping into each array element. */
export function valuesAt(v: unknown, path: string[]): unknown[] {
    let cur: unknown[] = [v];
    for (const key of path) {
        const next: unknown[] = [];
        for (const c of cur) {
            if (c === null || c === undefined || typeof c !== "object") {
                if (typeof c === "string") {
                    next.push(c);
                }
                continue;
            }
            if (key === "*") {
                if (Array.isArray(c)) {
                    next.push(...c);
                }
            } else {
                next.push((c as Record<string, unknown>)[key]);
            }
        }
        cur = next;
    }
    return cur.filter((x) => x !== undefined && x !== null);
}
