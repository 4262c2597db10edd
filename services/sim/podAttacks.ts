/**
 * The attacks on the GKE pools' upload path, each with its protection switch: `run(fleet, true)`
 * attacks the fleet's real broker (and intake); `run(fleet, false)` repeats the same steps against a
 * variant with only that protection switched off, where the attack must succeed. The simulation
 * runs them switched on; the tests run both and so show which check refuses each one.
 */
import type { BrokerDeps } from "../controlPlane/broker/app";
import { buildBrokerApp } from "../controlPlane/broker/app";
import { POD_REGISTRATION_PATH, PodRegistrationResponse } from "../controlPlane/broker/pod";
import type { RunnerPodApi } from "../controlPlane/kubernetes";
import { isPodPool, type PoolSpec } from "../controlPlane/pools";
import { Records, RegistrationRecord, RunnerRecord } from "../controlPlane/records";
import { signUploadPolicy } from "../controlPlane/uploadPolicy";
import { PodTokenVerifier } from "../lib/podToken";
import { uploadWithGrant } from "./fakeGcs";
import type { SimPod } from "./fakeCluster";
import { SIM_AUDIENCE, type SimFleet } from "./fleet";

/** The audience of a token meant for the cluster's API server (what the pod template must never project). */
export const API_SERVER_AUDIENCE = "https://kubernetes.default.svc";

export interface Answer {
    status: number;
    body?: any;
}

/** A pod's registration at the broker (`deps` given: a variant broker built from them). */
export async function podRegister(fleet: SimFleet, token: string, pool: string, deps?: BrokerDeps): Promise<Answer> {
    const app = deps === undefined ? fleet.broker.app : buildBrokerApp(deps);
    try {
        const res = await app.inject({ method: "POST", url: POD_REGISTRATION_PATH, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, payload: JSON.stringify({ pool }) });
        return { status: res.statusCode, body: JSON.parse(res.body) };
    } finally {
        if (deps !== undefined) {
            await app.close();
        }
    }
}

export interface PodAttack {
    name: string;
    description: string;
    /** The refusal with the protection on. */
    status: number;
    code: string;
    run(fleet: SimFleet, protectionOn: boolean): Promise<Answer>;
}

function gkePools(fleet: SimFleet): PoolSpec[] {
    const pools = fleet.pools.filter(isPodPool);
    if (pools.length === 0) {
        throw new Error("pod attacks need a GKE pool (--gke-pools 1 or more)");
    }
    return pools;
}

const startPod = (fleet: SimFleet, pool: PoolSpec) => fleet.cluster!.startRunnerPod(pool, fleet.arcGithub());
const token = (fleet: SimFleet, pod: SimPod, audience: string = SIM_AUDIENCE.broker, ttlSeconds?: number) =>
    fleet.cluster!.projectedToken(pod, { audience, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) });
/** The fleet's broker with some cluster reads replaced. */
function withApi(fleet: SimFleet, over: Partial<RunnerPodApi>): BrokerDeps {
    const api = fleet.brokerDeps.pods!.api;
    const bound: RunnerPodApi = { pod: api.pod.bind(api), ephemeralRunner: api.ephemeralRunner.bind(api), deleteEphemeralRunner: api.deleteEphemeralRunner.bind(api) };
    return { ...fleet.brokerDeps, pods: { ...fleet.brokerDeps.pods!, api: { ...bound, ...over } } };
}
/** The fleet's broker with another token verifier over the same cluster keys. */
const withTokens = (fleet: SimFleet, opts: { audience: string; maxLifetimeSeconds?: number }): BrokerDeps =>
    ({ ...fleet.brokerDeps, pods: { ...fleet.brokerDeps.pods!, tokens: new PodTokenVerifier({ ...opts, keys: fleet.podIssuerKeys! }) } });

/** Records that forget every registration and runner claim (the create-only claim switched off). */
class ForgetfulRecords extends Records {
    override async claimRegistration(r: RegistrationRecord): Promise<boolean> {
        await super.claimRegistration(r);
        return true;
    }
    override async putRunner(r: RunnerRecord): Promise<boolean> {
        await super.putRunner(r);
        return true;
    }
}

export const POD_ATTACKS: PodAttack[] = [
    {
        name: "pod-token-replayed",
        description: "a token projected into an earlier pod of the same EphemeralRunner (ARC recreated it under the same name) is presented once that pod is gone",
        status: 403,
        code: "pod-replaced",
        async run(fleet, on) {
            const [pool] = gkePools(fleet);
            const first = await startPod(fleet, pool);
            const stolen = await token(fleet, first);
            fleet.cluster!.deletePod(first);
            fleet.cluster!.createPod(pool, first.ephemeralRunner);
            // Off: the cluster view reports the live pod under the token's UID (the UID comparison is gone).
            return podRegister(fleet, stolen, pool.name, on ? undefined : withApi(fleet, {
                pod: async (p, name) => {
                    const view = await fleet.brokerDeps.pods!.api.pod(p, name);
                    return view && { ...view, uid: first.uid };
                },
            }));
        },
    },
    {
        name: "pod-token-other-audience",
        description: "the job presents a projected token minted for the cluster's API server instead of one for the broker",
        status: 401,
        code: "token-wrong-audience",
        async run(fleet, on) {
            const [pool] = gkePools(fleet);
            const pod = await startPod(fleet, pool);
            const deps = on ? undefined : withTokens(fleet, { audience: API_SERVER_AUDIENCE });
            return podRegister(fleet, await token(fleet, pod, API_SERVER_AUDIENCE), pool.name, deps);
        },
    },
    {
        name: "pod-token-long-lived",
        description: "the job presents a pod-bound token for the broker that lives an hour (expirationSeconds 3600), not the pod template's 600 s",
        status: 401,
        code: "token-lifetime-too-long",
        async run(fleet, on) {
            const [pool] = gkePools(fleet);
            const pod = await startPod(fleet, pool);
            const deps = on ? undefined : withTokens(fleet, { audience: SIM_AUDIENCE.broker, maxLifetimeSeconds: 3600 });
            return podRegister(fleet, await token(fleet, pod, SIM_AUDIENCE.broker, 3600), pool.name, deps);
        },
    },
    {
        name: "pod-of-other-pool",
        description: "a runner pod of another GKE pool (its own namespace and scale set) asks for an upload grant of this pool",
        status: 403,
        code: "other-pool",
        async run(fleet, on) {
            const pools = gkePools(fleet);
            if (pools.length < 2) {
                throw new Error("pod-of-other-pool needs two GKE pools");
            }
            const [victimPool, otherPool] = pools;
            const pod = await startPod(fleet, otherPool);
            // Off: the broker's spec of the victim pool names the other pool's namespace, service account and scale set.
            const deps = on ? undefined : { ...fleet.brokerDeps, pools: fleet.brokerDeps.pools.map((p) => (p.name === victimPool.name ? { ...p, kubernetes: otherPool.kubernetes } : p)) };
            return podRegister(fleet, await token(fleet, pod), victimPool.name, deps);
        },
    },
    {
        name: "deleted-pod",
        description: "a token copied out of a runner pod is presented after the control plane scaled the pod in (its EphemeralRunner deleted)",
        status: 403,
        code: "pod-gone",
        async run(fleet, on) {
            const [pool] = gkePools(fleet);
            const pod = await startPod(fleet, pool);
            const copied = await token(fleet, pod);
            // Off: a cluster view taken before the deletion (the liveness check no longer sees it).
            const api = fleet.brokerDeps.pods!.api;
            const [podView, runnerView] = [await api.pod(pool, pod.name), await api.ephemeralRunner(pool, pod.ephemeralRunner)];
            await api.deleteEphemeralRunner(pool, pod.ephemeralRunner);
            return podRegister(fleet, copied, pool.name, on ? undefined : withApi(fleet, { pod: async () => podView, ephemeralRunner: async () => runnerView }));
        },
    },
    {
        name: "second-pod-claim",
        description: "the job takes a fresh projected token and asks for a second upload grant for its pod",
        status: 409,
        code: "already-registered",
        async run(fleet, on) {
            const [pool] = gkePools(fleet);
            const pod = await startPod(fleet, pool);
            // Off: records whose create-only claims always report "created".
            const deps = on ? undefined : { ...fleet.brokerDeps, records: new ForgetfulRecords(fleet.records.store) };
            const first = await podRegister(fleet, await token(fleet, pod), pool.name, deps);
            if (first.status !== 201) {
                throw new Error(`attack setup: first registration ${first.status} ${JSON.stringify(first.body)}`);
            }
            return podRegister(fleet, await token(fleet, pod), pool.name, deps);
        },
    },
    {
        name: "upload-into-other-pod",
        description: "a job uses its pod's upload grant to create an object in another pod's location",
        status: 403,
        code: "AccessDenied",
        async run(fleet, on) {
            const [pool] = gkePools(fleet);
            const [attacker, victim] = [await startPod(fleet, pool), await startPod(fleet, pool)];
            const a = await podRegister(fleet, await token(fleet, attacker), pool.name);
            const v = await podRegister(fleet, await token(fleet, victim), pool.name);
            if (a.status !== 201 || v.status !== 201) {
                throw new Error(`attack setup: registration failed (${a.status}, ${v.status})`);
            }
            const grant = (a.body as PodRegistrationResponse).upload;
            // Off: the attacker's grant covers the whole pool (`<pool>/`), not only `<pool>/<podUid>/`.
            const used = on ? grant : await signUploadPolicy({
                signer: fleet.brokerDeps.uploadSigner, endpoint: fleet.brokerDeps.uploadEndpoint, bucket: grant.bucket, prefix: `${pool.name}/`,
                expiresAt: new Date(grant.expiresAt), maxBytes: grant.maxBytes, now: new Date(),
            });
            const up = await uploadWithGrant(used, `${(v.body as PodRegistrationResponse).upload.prefix}dist/app.tar`, Buffer.from("malicious"));
            return { status: up.status, body: up.body };
        },
    },
];
