/**
 * The runner pools as the control-plane services see them. Every service reads the same JSON schema
 * (`BROKER_POOLS`, `WEBHOOK_POOLS`, `GENERATOR_POOLS`): an array of pool objects. Each service names
 * the fields it needs; the rest may be present and are ignored.
 *
 * Label rule (webhook -> pool, generator attribution): runsOn.ts. Every pool's labels contain its
 * pool name and no other pool's, and no two pools' label sets nest; a pool list that breaks this is
 * refused at start-up.
 */
import { EnvReader } from "./config";
import { labelSetProblems, MAX_RUNNER_LABELS, placeJob, RUNNER_LABEL } from "./runsOn";

export interface PoolSpec {
    /** Pool name (RunnerPool name): the first segment of every upload location, `<pool>/<instanceId>/` or `<pool>/<podUid>/`. */
    name: string;
    /** Where the pool's jobs run: `gce` (one VM per job, the default) or `gke` (one ARC runner pod per job). */
    backend?: "gce" | "gke";
    /** GKE pools: the cluster and scale set the runner pods belong to (required when backend is gke). */
    kubernetes?: KubernetesPoolSpec;
    /** Labels the pool's runners register with (GitHub `runs-on`); the job <-> pool mapping. */
    labels: string[];
    /** GitHub runner group id the JIT runners join. */
    runnerGroupId: number;
    /** Project of the pool's managed instance group (and of its VMs). */
    project: string;
    /** Region of the pool's regional managed instance group; VM zones must lie in it. */
    region: string;
    /** Name of the pool's regional managed instance group. */
    mig: string;
    /** Email of the pool's runner service account: the only identity that may register for this pool. */
    serviceAccount: string;
    /** Intake bucket of the pool. */
    intakeBucket: string;
    /** The pool's boot image (recorded in provenance as an internal parameter). */
    image: string;
    /** The pool's scheduling.maxRunDuration: the upload credential expires with it. */
    maxRunDurationSeconds: number;
    /**
     * Most objects one job may have signed (one KMS signature each). Default
     * DEFAULT_MAX_OBJECTS_PER_JOB; objects over it are refused and recorded, never signed.
     */
    maxObjectsPerJob?: number;
}

/** Where a GKE pool's runner pods run, as the broker checks them. */
export interface KubernetesPoolSpec {
    /** The cluster's service-account token issuer (its OIDC discovery document names the JWKS). */
    issuer: string;
    /** The cluster's API server URL, called with the control plane's own identity. */
    apiServer: string;
    /** PEM (base64) of the API server's CA; unset on loopback stand-ins. */
    caCertificate?: string;
    /** The pool's runner namespace: the only namespace its pods may run in. */
    namespace: string;
    /** The Kubernetes service account the runner pods run as. */
    serviceAccount: string;
    /** The ARC scale set (AutoscalingRunnerSet) whose EphemeralRunners own the runner pods. */
    scaleSet: string;
}

/** Default per-job budget of signed objects: the signing quota is shared by every job of the fleet. */
export const DEFAULT_MAX_OBJECTS_PER_JOB = 32;
/** Largest per-job budget a pool may set. */
export const MAX_OBJECTS_PER_JOB_LIMIT = 1000;

export type PoolField = Exclude<keyof PoolSpec, "maxObjectsPerJob" | "backend" | "kubernetes">;

/** Fields only a GCE pool has: a GKE pool names its cluster in `kubernetes` instead. */
const GCE_ONLY: readonly PoolField[] = ["mig", "serviceAccount"];

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const EMAIL = /^[a-z0-9][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9-]+\.iam\.gserviceaccount\.com$|^[^@\s]+@[^@\s]+$/;
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;
/** A Kubernetes DNS-1123 label (namespace and service-account names). */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const httpsOrLoopback = (v: unknown) => {
    try {
        const u = new URL(String(v));
        return u.protocol === "https:" || (u.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname));
    } catch {
        return false;
    }
};

const KUBERNETES_CHECKS: Record<keyof KubernetesPoolSpec, [(v: any) => boolean, string]> = {
    issuer: [httpsOrLoopback, "the cluster's token issuer URL (https; e.g. https://container.googleapis.com/v1/projects/<p>/locations/<l>/clusters/<c>)"],
    apiServer: [httpsOrLoopback, "the cluster's API server URL (https)"],
    caCertificate: [(v) => v === undefined || (typeof v === "string" && /^[A-Za-z0-9+/=]{20,20000}$/.test(v)), "the API server's CA certificate, base64 PEM (or leave it out)"],
    namespace: [(v) => typeof v === "string" && DNS_LABEL.test(v), "the pool's runner namespace"],
    serviceAccount: [(v) => typeof v === "string" && DNS_LABEL.test(v), "the runner pods' Kubernetes service account name"],
    scaleSet: [(v) => typeof v === "string" && DNS_LABEL.test(v), "the ARC scale set (AutoscalingRunnerSet) name"],
};

const CHECKS: Record<PoolField, [(v: any) => boolean, string]> = {
    name: [(v) => typeof v === "string" && NAME.test(v), "a pool name: lower-case letters, digits and hyphens"],
    labels: [(v) => Array.isArray(v) && v.length > 0 && v.length <= MAX_RUNNER_LABELS && v.every((l) => typeof l === "string" && RUNNER_LABEL.test(l)), "a non-empty array of runner labels ([A-Za-z0-9._-]) that contains the pool name"],
    runnerGroupId: [(v) => Number.isInteger(v) && v >= 1, "a positive integer runner group id (1 is the Default group)"],
    project: [(v) => typeof v === "string" && /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/.test(v), "a GCP project id"],
    region: [(v) => typeof v === "string" && /^[a-z]+-[a-z]+\d+$/.test(v), "a GCP region such as europe-west1"],
    mig: [(v) => typeof v === "string" && NAME.test(v), "the managed instance group's name"],
    serviceAccount: [(v) => typeof v === "string" && EMAIL.test(v), "the runner service account's email"],
    intakeBucket: [(v) => typeof v === "string" && BUCKET.test(v), "the pool's intake bucket name"],
    image: [(v) => typeof v === "string" && v.length > 0 && v.length <= 1024, "the pool's boot image reference"],
    maxRunDurationSeconds: [(v) => Number.isInteger(v) && v >= 60 && v <= 7 * 24 * 3600, "an integer number of seconds between 60 and 604800 (7 days)"],
};

/** Reads the pools variable `envName`, requiring `fields`; problems go to the reader. */
export function readPools(reader: EnvReader, envName: string, fields: readonly PoolField[]): PoolSpec[] {
    const example = `[{"name":"pool-a","labels":["self-hosted","linux","x64","pool-a"],...}]`;
    const value = reader.json(envName, `set a JSON array of pools, e.g. ${example}`);
    if (value === undefined) {
        return [];
    }
    if (!Array.isArray(value) || value.length === 0) {
        reader.problems.push(`${envName}: ${JSON.stringify(value).slice(0, 80)} must be a non-empty JSON array of pools, e.g. ${example}`);
        return [];
    }
    const pools: PoolSpec[] = [];
    const names = new Set<string>();
    const namespaces = new Map<string, string>();
    value.forEach((pool: any, i) => {
        if (pool === null || typeof pool !== "object" || Array.isArray(pool)) {
            reader.problems.push(`${envName}[${i}]: ${JSON.stringify(pool)} must be an object`);
            return;
        }
        let ok = true;
        const gke = pool.backend === "gke";
        if (pool.backend !== undefined && pool.backend !== "gce" && !gke) {
            reader.problems.push(`${envName}[${i}].backend: ${JSON.stringify(pool.backend)} is not valid; set "gce" or "gke" (default "gce")`);
            ok = false;
        }
        if (gke) {
            ok = kubernetesProblems(reader, `${envName}[${i}].kubernetes`, pool.kubernetes) && ok;
        }
        for (const field of fields.filter((f) => !(gke && GCE_ONLY.includes(f)))) {
            const [check, what] = CHECKS[field];
            if (!check(pool[field])) {
                reader.problems.push(`${envName}[${i}].${field}: ${JSON.stringify(pool[field])} is not valid; set ${what}`);
                ok = false;
            }
        }
        const budget = pool.maxObjectsPerJob;
        if (budget !== undefined && !(Number.isInteger(budget) && budget >= 1 && budget <= MAX_OBJECTS_PER_JOB_LIMIT)) {
            reader.problems.push(`${envName}[${i}].maxObjectsPerJob: ${JSON.stringify(budget)} is not valid; set an integer between 1 and ${MAX_OBJECTS_PER_JOB_LIMIT}, or leave it out for the default ${DEFAULT_MAX_OBJECTS_PER_JOB}`);
            ok = false;
        }
        if (!ok) {
            return;
        }
        if (names.has(pool.name)) {
            reader.problems.push(`${envName}[${i}].name: "${pool.name}" appears twice; pool names are unique`);
        }
        names.add(pool.name);
        if (gke) {
            // The namespace is what tells one pool's pods from another's: never shared within a cluster.
            const namespace = `${pool.kubernetes.issuer} ${pool.kubernetes.namespace}`;
            if (namespaces.has(namespace)) {
                reader.problems.push(`${envName}[${i}].kubernetes.namespace: "${pool.kubernetes.namespace}" is already the namespace of pool "${namespaces.get(namespace)}" in that cluster; give each pool its own runner namespace`);
            }
            namespaces.set(namespace, pool.name);
        }
        pools.push(pool as PoolSpec);
    });
    if (fields.includes("labels")) {
        const distinct = pools.filter((p, i) => pools.findIndex((q) => q.name === p.name) === i);
        for (const [i, message] of labelSetProblems(distinct)) {
            reader.problems.push(`${envName}[${value.indexOf(distinct[i])}].labels: pool "${distinct[i].name}" ${message}`);
        }
    }
    return pools;
}

function kubernetesProblems(reader: EnvReader, where: string, value: any): boolean {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        reader.problems.push(`${where}: ${JSON.stringify(value)} must be an object {issuer, apiServer, namespace, serviceAccount, scaleSet} for a gke pool`);
        return false;
    }
    let ok = true;
    for (const [field, [check, what]] of Object.entries(KUBERNETES_CHECKS)) {
        if (!check(value[field])) {
            reader.problems.push(`${where}.${field}: ${JSON.stringify(value[field])} is not valid; set ${what}`);
            ok = false;
        }
    }
    return ok;
}

/** Whether a pool runs its jobs in pods (GKE) rather than VMs. */
export function isPodPool(pool: PoolSpec): pool is PoolSpec & { backend: "gke"; kubernetes: KubernetesPoolSpec } {
    return pool.backend === "gke" && pool.kubernetes !== undefined;
}

/** The pool a job with these `runs-on` labels belongs to by the rule in runsOn.ts, or undefined. */
export function poolForLabels(pools: readonly PoolSpec[], labels: readonly string[]): PoolSpec | undefined {
    const placement = placeJob(pools, labels);
    return placement.kind === "pool" ? pools.find((p) => p.name === placement.pool) : undefined;
}
