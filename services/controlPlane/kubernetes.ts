/**
 * What the control plane reads from (and deletes in) a GKE pool's cluster, with its own identity:
 * the runner pod a token names, the ARC EphemeralRunner that owns it, and, at scale-in, that
 * EphemeralRunner. The REST paths and object shapes are the Kubernetes API's and ARC's
 * (actions.github.com/v1alpha1); the transport is injected, so the same parsing runs against a GKE
 * API server (Google access token, the cluster's CA) and against the simulation's stand-in.
 *
 * RBAC the control plane needs in each runner namespace, and nothing more: `get` on pods, `get` and
 * `delete` on ephemeralrunners.actions.github.com.
 */
import * as https from "https";
import type { KubernetesPoolSpec, PoolSpec } from "./pools";

export const ARC_API_VERSION = "actions.github.com/v1alpha1";
export const EPHEMERAL_RUNNER_KIND = "EphemeralRunner";
/** The label ARC puts on each EphemeralRunner: the scale set (AutoscalingRunnerSet) it belongs to. */
export const SCALE_SET_LABEL = "actions.github.com/scale-set-name";

export interface OwnerReference {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
}

/** The fields of a Pod the broker decides on. */
export interface PodView {
    namespace: string;
    name: string;
    uid: string;
    /** `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`. */
    phase: string;
    /** The pod is being deleted (metadata.deletionTimestamp is set). */
    deleting: boolean;
    serviceAccountName: string;
    ownerReferences: OwnerReference[];
    creationTimestamp: string;
    /** The runner container's image by digest as the kubelet resolved it (status.containerStatuses[].imageID). */
    runnerImage?: { image: string; imageID: string };
}

/** The fields of an ARC EphemeralRunner the broker decides on. */
export interface EphemeralRunnerView {
    namespace: string;
    name: string;
    uid: string;
    deleting: boolean;
    labels: Record<string, string>;
    /** The GitHub runner ARC registered for it (status.runnerId / status.runnerName); absent until registered. */
    runnerId?: number;
    runnerName?: string;
}

/** The cluster as the broker and the webhook receiver use it. */
export interface RunnerPodApi {
    pod(pool: PoolSpec, name: string): Promise<PodView | undefined>;
    ephemeralRunner(pool: PoolSpec, name: string): Promise<EphemeralRunnerView | undefined>;
    /** Scale-in: ARC deletes the runner's pod with it and never starts another for it. */
    deleteEphemeralRunner(pool: PoolSpec, name: string): Promise<void>;
}

/** One request to a cluster's API server; 404 is an answer, not an error. */
export type KubeTransport = (cluster: KubernetesPoolSpec, method: "GET" | "DELETE", path: string) => Promise<{ status: number; body: any }>;

const SEGMENT = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function clusterOf(pool: PoolSpec): KubernetesPoolSpec {
    if (pool.kubernetes === undefined) {
        throw new Error(`pool "${pool.name}" is not a GKE pool`);
    }
    return pool.kubernetes;
}

function objectPath(group: "core" | "arc", namespace: string, plural: string, name: string): string {
    if (!SEGMENT.test(namespace) || !SEGMENT.test(name)) {
        throw new Error(`namespace ${JSON.stringify(namespace)} or name ${JSON.stringify(name)} is not a Kubernetes object name`);
    }
    const base = group === "core" ? "/api/v1" : `/apis/${ARC_API_VERSION}`;
    return `${base}/namespaces/${namespace}/${plural}/${name}`;
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** Reads the REST shapes of Pod and EphemeralRunner; an answer of another shape is an error, never a pass. */
export class KubernetesRunnerPods implements RunnerPodApi {
    constructor(private readonly transport: KubeTransport) {}

    private async get(pool: PoolSpec, path: string): Promise<any | undefined> {
        const res = await this.transport(clusterOf(pool), "GET", path);
        if (res.status === 404) {
            return undefined;
        }
        if (res.status !== 200 || res.body === null || typeof res.body !== "object") {
            throw new Error(`GET ${path}: the API server answered ${res.status}`);
        }
        return res.body;
    }

    async pod(pool: PoolSpec, name: string): Promise<PodView | undefined> {
        const namespace = clusterOf(pool).namespace;
        const body = await this.get(pool, objectPath("core", namespace, "pods", name));
        if (body === undefined) {
            return undefined;
        }
        const m = body.metadata ?? {};
        const runner = (body.status?.containerStatuses ?? []).find((c: any) => c?.name === "runner");
        return {
            namespace: str(m.namespace),
            name: str(m.name),
            uid: str(m.uid),
            phase: str(body.status?.phase),
            deleting: m.deletionTimestamp !== undefined && m.deletionTimestamp !== null,
            serviceAccountName: str(body.spec?.serviceAccountName),
            ownerReferences: Array.isArray(m.ownerReferences) ? m.ownerReferences.map((o: any) => ({ apiVersion: str(o?.apiVersion), kind: str(o?.kind), name: str(o?.name), uid: str(o?.uid), controller: o?.controller === true })) : [],
            creationTimestamp: str(m.creationTimestamp),
            ...(runner !== undefined ? { runnerImage: { image: str(runner.image), imageID: str(runner.imageID) } } : {}),
        };
    }

    async ephemeralRunner(pool: PoolSpec, name: string): Promise<EphemeralRunnerView | undefined> {
        const namespace = clusterOf(pool).namespace;
        const body = await this.get(pool, objectPath("arc", namespace, "ephemeralrunners", name));
        if (body === undefined) {
            return undefined;
        }
        const m = body.metadata ?? {};
        const labels: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.labels ?? {})) {
            if (typeof v === "string") {
                labels[k] = v;
            }
        }
        const runnerId = body.status?.runnerId;
        return {
            namespace: str(m.namespace),
            name: str(m.name),
            uid: str(m.uid),
            deleting: m.deletionTimestamp !== undefined && m.deletionTimestamp !== null,
            labels,
            ...(Number.isSafeInteger(runnerId) && runnerId > 0 ? { runnerId } : {}),
            ...(typeof body.status?.runnerName === "string" ? { runnerName: body.status.runnerName } : {}),
        };
    }

    async deleteEphemeralRunner(pool: PoolSpec, name: string): Promise<void> {
        const path = objectPath("arc", clusterOf(pool).namespace, "ephemeralrunners", name);
        const res = await this.transport(clusterOf(pool), "DELETE", path);
        if (res.status !== 200 && res.status !== 202 && res.status !== 404) {
            throw new Error(`DELETE ${path}: the API server answered ${res.status}`);
        }
    }
}

/** A transport over plain HTTP(S) with a bearer token from `token()`: Google's access token for GKE. */
export function bearerKubeTransport(token: () => Promise<string>, timeoutMs = 10_000): KubeTransport {
    return async (cluster, method, path) => {
        const url = new URL(path, cluster.apiServer);
        const headers = { authorization: `Bearer ${await token()}`, accept: "application/json" };
        if (url.protocol === "http:") {
            // Loopback stand-ins only (pools.ts accepts no other http URL).
            const res = await fetch(url, { method, headers, signal: AbortSignal.timeout(timeoutMs) });
            return { status: res.status, body: await res.json().catch(() => undefined) };
        }
        const ca = cluster.caCertificate !== undefined ? Buffer.from(cluster.caCertificate, "base64").toString("utf8") : undefined;
        return new Promise((resolve, reject) => {
            const req = https.request(url, { method, headers, timeout: timeoutMs, ...(ca !== undefined ? { ca } : {}) }, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    let body: any;
                    try {
                        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
                    } catch {
                        body = undefined;
                    }
                    resolve({ status: res.statusCode ?? 0, body });
                });
            });
            req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
            req.on("error", reject);
            req.end();
        });
    };
}

/** The cloud transport: the control plane's own Google identity (GKE maps it through IAM and RBAC). */
export function googleKubeTransport(): KubeTransport {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { GoogleAuth } = require("google-auth-library");
    const auth = new GoogleAuth({ scopes: ["https://www.googleapis.com/auth/cloud-platform"] });
    return bearerKubeTransport(async () => String(await auth.getAccessToken()));
}
