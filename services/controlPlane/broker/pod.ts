/**
 * Pod registration: the GKE counterpart of a VM's JIT registration. ARC's EphemeralRunner already
 * holds the pod's JIT config; what the pod asks the broker for is its job-bound upload grant.
 *
 * POST /v1/pod-registration   Authorization: Bearer <projected service-account token, audience = the broker>
 *                             body {"pool": "<gke pool>"}
 * 1. The token is verified against the pool's cluster issuer keys (lib/podToken.ts): signature,
 *    issuer, the broker as its only audience (so it is useless against the API server), a lifetime
 *    of at most 600 s, and claims binding it to one pod.
 * 2. Its namespace must be the pool's runner namespace and its service account the pool's.
 * 3. Through the Kubernetes API, with the control plane's own identity: the pod of that name exists,
 *    has the token's UID (a token of an earlier pod of the same name is refused), is Running and not
 *    being deleted, runs as that service account, and is controlled by an EphemeralRunner of the
 *    pool's scale set that ARC registered on GitHub (its runner id and name are read there, never
 *    from the pod). Its runner image is read by digest for provenance.
 * 4. The registration is created create-only, keyed by the pod UID: once per pod (409 after). The
 *    runner record is created create-only too: a second pod of the same EphemeralRunner gets nothing.
 * 5. The answer is the upload grant for `<pool>/<podUid>/` only, until the pool's activeDeadlineSeconds.
 */
import type { AuditLog, Clock } from "../http";
import { HttpError } from "../http";
import { ARC_API_VERSION, EPHEMERAL_RUNNER_KIND, RunnerPodApi, SCALE_SET_LABEL } from "../kubernetes";
import { isPodPool, type PoolSpec } from "../pools";
import { isPodUid, Records, RegistrationRecord, uploadPrefixFor } from "../records";
import { PolicySigner, UploadGrant, workerUploadGrant } from "../uploadPolicy";
import { PodTokenError, type PodIdentity } from "../../lib/podToken";

export const POD_REGISTRATION_PATH = "/v1/pod-registration";

export interface PodTokenCheck {
    verify(token: string, issuer: string): Promise<PodIdentity>;
}

export interface PodRegistrationDeps {
    pools: PoolSpec[];
    podTokens: PodTokenCheck;
    pods: RunnerPodApi;
    records: Records;
    uploadSigner: PolicySigner;
    uploadEndpoint: string;
    uploadMaxBytes: number;
    audit: AuditLog;
    clock: Clock;
}

export interface PodRegistrationResponse {
    runner: { id: number; name: string };
    pod: { namespace: string; name: string; uid: string };
    upload: UploadGrant;
}

const IMAGE_DIGEST = /@sha256:([0-9a-f]{64})$/;

/** Registers the pod `token` names in `pool`; throws HttpError (4xx, or 503 when the cluster cannot answer). */
export async function registerPod(deps: PodRegistrationDeps, pool: PoolSpec, token: string): Promise<PodRegistrationResponse> {
    const refuse = (status: number, code: string, message: string, extra: Record<string, unknown> = {}): never => {
        deps.audit({ service: "broker", event: "pod-registration", outcome: "refused", reason: code, pool: pool.name, ...extra });
        throw new HttpError(status, code, message);
    };
    if (!isPodPool(pool)) {
        refuse(400, "not-a-pod-pool", `pool "${pool.name}" runs VMs; a VM registers at /v1/jit-config with its metadata identity token`);
    }
    const k8s = pool.kubernetes!;
    let id: PodIdentity;
    try {
        id = await deps.podTokens.verify(token, k8s.issuer);
    } catch (err) {
        if (err instanceof PodTokenError && err.reason === "keys-unavailable") {
            deps.audit({ service: "broker", event: "pod-registration", outcome: "refused", reason: "identity-unavailable", pool: pool.name });
            throw new HttpError(503, "identity-unavailable", "the cluster's token keys could not be fetched; retry");
        }
        if (err instanceof PodTokenError) {
            refuse(401, `token-${err.reason}`, err.message);
        }
        throw err;
    }
    const who = { namespace: id!.namespace, podName: id!.pod.name, podUid: id!.pod.uid, serviceAccount: id!.serviceAccount.name };
    if (id!.namespace !== k8s.namespace) {
        const other = deps.pools.find((p) => p.kubernetes?.issuer === k8s.issuer && p.kubernetes?.namespace === id!.namespace);
        if (other !== undefined) {
            refuse(403, "other-pool", `the token belongs to a pod of pool "${other.name}" (namespace ${id!.namespace}), not "${pool.name}"`, who);
        }
        refuse(403, "wrong-namespace", `namespace ${id!.namespace} is not pool "${pool.name}"'s runner namespace ${k8s.namespace}`, who);
    }
    if (id!.serviceAccount.name !== k8s.serviceAccount) {
        refuse(403, "wrong-service-account", `service account ${id!.serviceAccount.name} is not the runner service account ${k8s.serviceAccount} of pool "${pool.name}"`, who);
    }
    if (!isPodUid(id!.pod.uid)) {
        refuse(403, "bad-pod-uid", "the token's pod UID is not a Kubernetes UID", who);
    }
    const cluster = async <T>(read: () => Promise<T>): Promise<T> => {
        try {
            return await read();
        } catch (err) {
            deps.audit({ service: "broker", event: "pod-registration", outcome: "refused", reason: "cluster-unavailable", pool: pool.name, ...who, error: (err as Error).message });
            throw new HttpError(503, "cluster-unavailable", "the cluster's API server could not be asked about the pod; retry");
        }
    };
    const pod = await cluster(() => deps.pods.pod(pool, id!.pod.name));
    if (pod === undefined || pod.deleting) {
        refuse(403, "pod-gone", `pod ${k8s.namespace}/${id!.pod.name} ${pod === undefined ? "does not exist" : "is being deleted"}; a token outlives its pod, the grant does not`, who);
    }
    if (pod!.uid !== id!.pod.uid || pod!.namespace !== k8s.namespace) {
        refuse(403, "pod-replaced", `the token was issued to pod UID ${id!.pod.uid}; the pod named ${id!.pod.name} now is ${pod!.uid}`, who);
    }
    if (pod!.phase !== "Running") {
        refuse(403, "pod-not-running", `pod ${k8s.namespace}/${pod!.name} is ${JSON.stringify(pod!.phase)}, not Running`, who);
    }
    if (pod!.serviceAccountName !== id!.serviceAccount.name) {
        refuse(403, "wrong-service-account", `pod ${pod!.name} runs as ${pod!.serviceAccountName}, the token names ${id!.serviceAccount.name}`, who);
    }
    const owners = pod!.ownerReferences.filter((o) => o.controller === true);
    const owner = owners.length === 1 && owners[0].kind === EPHEMERAL_RUNNER_KIND && owners[0].apiVersion === ARC_API_VERSION ? owners[0] : undefined;
    if (owner === undefined) {
        refuse(403, "not-a-runner-pod", `pod ${pod!.name} is not controlled by an ARC ${EPHEMERAL_RUNNER_KIND}`, who);
    }
    const er = await cluster(() => deps.pods.ephemeralRunner(pool, owner!.name));
    if (er === undefined || er.deleting || er.uid !== owner!.uid || er.labels[SCALE_SET_LABEL] !== k8s.scaleSet) {
        refuse(403, "not-in-scale-set", `pod ${pod!.name}'s ${EPHEMERAL_RUNNER_KIND} ${owner!.name} is not a current runner of scale set ${k8s.scaleSet}`, who);
    }
    if (er!.runnerId === undefined || er!.runnerName === undefined) {
        refuse(403, "runner-not-registered", `${EPHEMERAL_RUNNER_KIND} ${er!.name} has no GitHub runner id yet`, who);
    }
    const digest = IMAGE_DIGEST.exec(pod!.runnerImage?.imageID ?? "");
    if (digest === null) {
        refuse(403, "image-not-immutable", `pod ${pod!.name}'s runner container reports no image digest (imageID ${JSON.stringify(pod!.runnerImage?.imageID)})`, who);
    }
    const now = deps.clock();
    const record: RegistrationRecord = {
        pool: pool.name,
        project: pool.project,
        zone: pool.region,
        instanceId: pod!.uid,
        instanceName: pod!.name,
        instanceCreationTimestamp: Math.floor(Date.parse(pod!.creationTimestamp) / 1000) || 0,
        serviceAccount: `system:serviceaccount:${k8s.namespace}:${k8s.serviceAccount}`,
        runnerName: er!.runnerName!,
        uploadPrefix: uploadPrefixFor(pool.name, pod!.uid),
        intakeBucket: pool.intakeBucket,
        image: pool.image,
        bootImage: { uri: pod!.runnerImage!.image, digest: { sha256: digest![1] } },
        registeredAt: now.toISOString(),
        backend: "gke",
        pod: { cluster: k8s.issuer, namespace: k8s.namespace, name: pod!.name, uid: pod!.uid, serviceAccount: k8s.serviceAccount, ephemeralRunner: er!.name },
    };
    if (!(await deps.records.claimRegistration(record))) {
        refuse(409, "already-registered", `pod ${pod!.uid} already received its one upload grant; a pod registers exactly once`, who);
    }
    if (!(await deps.records.putRunner({ runnerName: record.runnerName, runnerId: er!.runnerId!, instanceId: pod!.uid, pool: pool.name, createdAt: now.toISOString() }))) {
        refuse(409, "runner-already-registered", `runner ${record.runnerName} was registered by another pod; one runner, one pod`, who);
    }
    // The pod is killed at activeDeadlineSeconds: the grant never outlives it.
    const upload = await workerUploadGrant(deps, pool, record.uploadPrefix, now);
    deps.audit({ service: "broker", event: "pod-registration", outcome: "granted", pool: pool.name, ...who, runnerName: record.runnerName, runnerId: er!.runnerId });
    return { runner: { id: er!.runnerId!, name: record.runnerName }, pod: { namespace: k8s.namespace, name: pod!.name, uid: pod!.uid }, upload };
}
