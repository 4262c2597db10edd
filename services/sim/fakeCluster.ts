/**
 * A stand-in for a GKE cluster of the simulation, on loopback: its service-account token issuer (OIDC
 * discovery and JWKS, a key generated at start), the slice of its API server the control plane reads
 * (pods, ARC EphemeralRunners; only with the control plane's own bearer token), the kubelet's
 * projected tokens (signed with `jose`, in the claim layout of a bound service-account token), and
 * ARC's part: an EphemeralRunner registered on GitHub (JIT) and its one runner pod.
 */
import { randomBytes, randomUUID } from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import type { GithubClient } from "../controlPlane/github";
import { ARC_API_VERSION, EPHEMERAL_RUNNER_KIND, SCALE_SET_LABEL } from "../controlPlane/kubernetes";
import type { KubernetesPoolSpec, PoolSpec } from "../controlPlane/pools";

export interface SimPod {
    pool: PoolSpec;
    namespace: string;
    name: string;
    uid: string;
    serviceAccount: string;
    phase: string;
    deleted: boolean;
    ephemeralRunner: string;
    imageDigest: string;
}

export interface SimEphemeralRunner {
    namespace: string;
    name: string;
    uid: string;
    scaleSet: string;
    runnerId: number;
    runnerName: string;
    jitConfig: string;
    deleted: boolean;
}

export interface ProjectedTokenOptions {
    audience: string | string[];
    /** Default 600 (the pod template's expirationSeconds). */
    ttlSeconds?: number;
    /** Claim overrides: another namespace or service account than the pod's. */
    namespace?: string;
    serviceAccount?: string;
    /** Omit the pod binding (a Secret-based or TokenRequest token without a bound object). */
    unbound?: boolean;
}

const SIM_SA_UID = "0b7e55a0-0000-4000-8000-000000000001";

export class FakeCluster {
    readonly pods = new Map<string, SimPod>();
    readonly runners = new Map<string, SimEphemeralRunner>();
    /** What the control plane sends as its bearer token (its own identity; runner pods never hold it). */
    readonly controlPlaneToken = `cp-${randomBytes(24).toString("hex")}`;
    issuer = "";
    private server?: http.Server;
    private key?: CryptoKey;
    private jwk?: Record<string, unknown>;

    static async start(): Promise<FakeCluster> {
        const cluster = new FakeCluster();
        const { privateKey, publicKey } = await generateKeyPair("RS256");
        cluster.key = privateKey;
        cluster.jwk = { ...(await exportJWK(publicKey)), kid: randomBytes(8).toString("hex"), alg: "RS256", use: "sig" };
        await cluster.listen();
        return cluster;
    }

    /** The `kubernetes` settings of a pool whose pods run in this cluster. */
    poolSettings(pool: string): KubernetesPoolSpec {
        return { issuer: this.issuer, apiServer: this.issuer, namespace: `runners-${pool}`, serviceAccount: `${pool}-runner`, scaleSet: `${pool}-scale-set` };
    }

    /** ARC: an EphemeralRunner registered on GitHub with a JIT config, then its runner pod, Running. */
    async startRunnerPod(pool: PoolSpec, github: GithubClient): Promise<SimPod> {
        const k8s = pool.kubernetes!;
        const name = `${k8s.scaleSet}-runner-${randomBytes(3).toString("hex")}`;
        const jit = await github.generateJitConfig({ name, labels: pool.labels, runnerGroupId: pool.runnerGroupId });
        this.runners.set(name, { namespace: k8s.namespace, name, uid: randomUUID(), scaleSet: k8s.scaleSet, runnerId: jit.runnerId, runnerName: name, jitConfig: jit.encodedJitConfig, deleted: false });
        return this.createPod(pool, name);
    }

    /** A (new) pod for an EphemeralRunner: same name as the runner, a fresh UID (as ARC recreates a failed pod). */
    createPod(pool: PoolSpec, runnerName: string): SimPod {
        const k8s = pool.kubernetes!;
        const pod: SimPod = {
            pool, namespace: k8s.namespace, name: runnerName, uid: randomUUID(), serviceAccount: k8s.serviceAccount, phase: "Running",
            deleted: false, ephemeralRunner: runnerName, imageDigest: randomBytes(32).toString("hex"),
        };
        this.pods.set(`${pod.namespace}/${pod.name}`, pod);
        return pod;
    }

    jitConfig(pod: SimPod): string {
        return this.runners.get(pod.ephemeralRunner)!.jitConfig;
    }

    deletePod(pod: SimPod): void {
        pod.deleted = true;
        if (this.pods.get(`${pod.namespace}/${pod.name}`) === pod) {
            this.pods.delete(`${pod.namespace}/${pod.name}`);
        }
    }

    /** The kubelet's projected service-account token for `pod`. */
    async projectedToken(pod: SimPod, opts: ProjectedTokenOptions): Promise<string> {
        const now = Math.floor(Date.now() / 1000);
        const namespace = opts.namespace ?? pod.namespace;
        const sa = opts.serviceAccount ?? pod.serviceAccount;
        return new SignJWT({
            "kubernetes.io": {
                namespace,
                serviceaccount: { name: sa, uid: SIM_SA_UID },
                ...(opts.unbound ? {} : { pod: { name: pod.name, uid: pod.uid }, node: { name: "gke-runner-node-1", uid: "0b7e55a0-0000-4000-8000-00000000000e" } }),
            },
        })
            .setProtectedHeader({ alg: "RS256", kid: String(this.jwk!.kid) })
            .setIssuer(this.issuer)
            .setSubject(`system:serviceaccount:${namespace}:${sa}`)
            .setAudience(opts.audience)
            .setIssuedAt(now)
            .setNotBefore(now)
            .setExpirationTime(now + (opts.ttlSeconds ?? 600))
            .sign(this.key!);
    }

    private podObject(pod: SimPod): Record<string, unknown> {
        const runner = this.runners.get(pod.ephemeralRunner)!;
        return {
            apiVersion: "v1",
            kind: "Pod",
            metadata: {
                namespace: pod.namespace, name: pod.name, uid: pod.uid, creationTimestamp: new Date().toISOString(),
                ownerReferences: [{ apiVersion: ARC_API_VERSION, kind: EPHEMERAL_RUNNER_KIND, name: runner.name, uid: runner.uid, controller: true, blockOwnerDeletion: true }],
            },
            spec: { serviceAccountName: pod.serviceAccount, automountServiceAccountToken: false },
            status: { phase: pod.phase, containerStatuses: [{ name: "runner", image: "ghcr.io/actions/actions-runner:2.330.0", imageID: `ghcr.io/actions/actions-runner@sha256:${pod.imageDigest}` }] },
        };
    }

    private runnerObject(r: SimEphemeralRunner): Record<string, unknown> {
        return {
            apiVersion: ARC_API_VERSION,
            kind: EPHEMERAL_RUNNER_KIND,
            metadata: { namespace: r.namespace, name: r.name, uid: r.uid, labels: { [SCALE_SET_LABEL]: r.scaleSet } },
            status: { runnerId: r.runnerId, runnerName: r.runnerName, phase: "Running" },
        };
    }

    private route(method: string, path: string, authorized: boolean): [number, unknown] {
        if (method === "GET" && path === "/.well-known/openid-configuration") {
            return [200, { issuer: this.issuer, jwks_uri: `${this.issuer}/openid/v1/jwks`, id_token_signing_alg_values_supported: ["RS256"] }];
        }
        if (method === "GET" && path === "/openid/v1/jwks") {
            return [200, { keys: [this.jwk] }];
        }
        if (!authorized) {
            return [401, { kind: "Status", reason: "Unauthorized", code: 401 }];
        }
        const pod = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path);
        if (pod !== null && method === "GET") {
            const found = this.pods.get(`${pod[1]}/${pod[2]}`);
            return found === undefined || found.deleted ? [404, { kind: "Status", reason: "NotFound", code: 404 }] : [200, this.podObject(found)];
        }
        const er = new RegExp(`^/apis/${ARC_API_VERSION}/namespaces/([^/]+)/ephemeralrunners/([^/]+)$`).exec(path);
        const runner = er === null ? undefined : this.runners.get(er[2]);
        if (er !== null && (runner === undefined || runner.deleted || runner.namespace !== er[1])) {
            return [404, { kind: "Status", reason: "NotFound", code: 404 }];
        }
        if (runner !== undefined && method === "GET") {
            return [200, this.runnerObject(runner)];
        }
        if (runner !== undefined && method === "DELETE") {
            // ARC: the runner's pod goes with it, and no pod is ever started for it again.
            runner.deleted = true;
            [...this.pods.values()].filter((p) => p.ephemeralRunner === runner.name).forEach((p) => this.deletePod(p));
            return [200, { kind: "Status", status: "Success" }];
        }
        return [404, { kind: "Status", reason: "NotFound", code: 404 }];
    }

    private listen(): Promise<void> {
        this.server = http.createServer((req, res) => {
            const [status, body] = this.route(req.method ?? "", (req.url ?? "").split("?")[0], req.headers.authorization === `Bearer ${this.controlPlaneToken}`);
            res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
        });
        return new Promise((resolve, reject) => {
            this.server!.once("error", reject);
            this.server!.listen(0, "127.0.0.1", () => {
                this.issuer = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
                resolve();
            });
        });
    }

    close(): Promise<void> {
        return new Promise((resolve) => {
            if (this.server === undefined) {
                return resolve();
            }
            this.server.close(() => resolve());
            this.server.closeAllConnections();
        });
    }
}
