/**
 * The registration broker: one GitHub JIT runner config per VM, exactly.
 *
 * POST /v1/jit-config   Authorization: Bearer <Google ID token, audience = the broker URL, format=full>
 *                       body {"pool": "<pool>"}
 * 1. The token is verified (signature, expiry, issuer, audience) and must carry the
 *    google.compute_engine claims of a `format=full` metadata token: only a VM has them.
 * 2. Its service account must be the pool's runner SA (verified email); its project the pool's
 *    project; its zone in the pool's region; and the instance a current member of the pool's MIG.
 *    Its boot image is read from Compute (self link + numeric id) for provenance.
 * 3. The VM's registration record is created create-only, keyed by the instance id, before GitHub is
 *    asked: a replayed token, a second request or a concurrent one finds the record and is refused
 *    (409). A failed GitHub call leaves the claim in place: that VM never registers, the startup
 *    script powers it off, and the MIG replaces it with a new instance id.
 * 4. GitHub registers an ephemeral JIT runner with the pool's labels and runner group.
 * 5. The answer carries the JIT config and the job's upload grant (uploadPolicy.ts): create-only,
 *    in `<pool>/<instanceId>/` of the pool's intake bucket, until the pool's maxRunDuration.
 * Every refusal is a 4xx JSON error and an audit entry; the token and the JIT config are never logged.
 *
 * Runner pods of GKE pools register at POST /v1/pod-registration instead (pod.ts).
 */
import type { FastifyInstance } from "fastify";
import type { BootImageReader, MigMembership } from "../cloud";
import { GithubApiError, type GithubClient } from "../github";
import { AuditLog, Clock, countedAudit, githubReadiness, HttpError, recordGithubBudget, serviceApp, stderrAudit, systemClock } from "../http";
import { ServiceMetrics } from "../../lib/ops/metrics";
import { isPodPool, type PoolSpec } from "../pools";
import type { RunnerPodApi } from "../kubernetes";
import { isInstanceId, Records, RegistrationRecord, runnerNameFor, uploadPrefixFor } from "../records";
import { PolicySigner, UploadGrant, workerUploadGrant } from "../uploadPolicy";
import { bearerToken, IdTokenError, type VerifiedIdentity } from "../../lib/idToken";
import { POD_REGISTRATION_PATH, PodTokenCheck, registerPod } from "./pod";

export const JIT_CONFIG_PATH = "/v1/jit-config";

export interface TokenVerifier {
    verify(token: string): Promise<VerifiedIdentity>;
}

export interface BrokerDeps {
    pools: PoolSpec[];
    /** Verifies Google ID tokens for the broker's audience (its URL). */
    verifier: TokenVerifier;
    membership: MigMembership;
    /** Reads the VM's boot image (self link + numeric id) for provenance. */
    images: BootImageReader;
    github: GithubClient;
    records: Records;
    uploadSigner: PolicySigner;
    /** Upload endpoint base: https://storage.googleapis.com in the cloud. */
    uploadEndpoint: string;
    /** Largest object a job may upload, bytes. */
    uploadMaxBytes: number;
    /** GKE pools: the projected-token verifier (audience = the broker) and the clusters' API (pod.ts). */
    pods?: { tokens: PodTokenCheck; api: RunnerPodApi };
    audit?: AuditLog;
    clock?: Clock;
    /** Default: the global meter's instruments. */
    metrics?: ServiceMetrics;
}

export interface JitConfigResponse {
    jitConfig: string;
    runner: { id: number; name: string };
    upload: UploadGrant;
}

export function buildBrokerApp(deps: BrokerDeps): FastifyInstance {
    const metrics = deps.metrics ?? new ServiceMetrics();
    const audit = countedAudit(deps.audit ?? stderrAudit, metrics);
    const clock = deps.clock ?? systemClock;
    const pools = new Map(deps.pools.map((p) => [p.name, p]));
    const poolOfAccount = new Map(deps.pools.filter((p) => !isPodPool(p)).map((p) => [p.serviceAccount.toLowerCase(), p.name]));
    const app = serviceApp({
        bodyLimit: 4096,
        service: "broker",
        metrics,
        readiness: { storage: () => deps.records.reachable(), ...githubReadiness(deps.github) },
    });
    // Registration latency, by pool (only configured names: a caller cannot mint label values) and outcome.
    app.addHook("onResponse", async (request, reply) => {
        if (request.routeOptions.url !== JIT_CONFIG_PATH && request.routeOptions.url !== POD_REGISTRATION_PATH) {
            return;
        }
        const asked = (request.body as { pool?: unknown } | undefined)?.pool;
        const pool = typeof asked === "string" && pools.has(asked) ? asked : "unknown";
        metrics.observe("registrationDuration", reply.elapsedTime / 1000, { pool, outcome: reply.statusCode < 300 ? "granted" : "refused" });
        recordGithubBudget(deps.github, metrics, "broker");
    });

    app.post(JIT_CONFIG_PATH, async (request, reply) => {
        const refuse = (status: number, code: string, message: string, extra: Record<string, unknown> = {}): never => {
            audit({ service: "broker", event: "jit-config", outcome: "refused", reason: code, ...extra });
            throw new HttpError(status, code, message);
        };
        const body: any = request.body;
        const poolName = body !== null && typeof body === "object" ? body.pool : undefined;
        if (typeof poolName !== "string" || !pools.has(poolName)) {
            refuse(400, "unknown-pool", `pool: ${JSON.stringify(poolName)} is not a pool of this fleet; send {"pool":"<name>"} with one of: ${[...pools.keys()].join(", ")}`);
        }
        const pool = pools.get(poolName)!;
        if (isPodPool(pool)) {
            refuse(400, "pod-pool", `pool "${pool.name}" runs pods; a runner pod registers at ${POD_REGISTRATION_PATH} with its projected service-account token`, { pool: pool.name });
        }
        const token = bearerToken(request.headers.authorization);
        if (token === undefined) {
            refuse(401, "missing-token", "Authorization: send `Bearer <identity token>` from the VM's metadata server (audience = this broker's URL, format=full)", { pool: pool.name });
        }
        let identity: VerifiedIdentity;
        try {
            identity = await deps.verifier.verify(token!);
        } catch (err) {
            if (err instanceof IdTokenError && err.reason === "certs-unavailable") {
                // Not the caller's fault: retryable, and not a refusal of the token.
                throw new HttpError(503, "identity-unavailable", "the token issuer's certificates could not be fetched; retry");
            }
            if (err instanceof IdTokenError) {
                refuse(401, "invalid-token", err.message, { pool: pool.name, tokenFailure: err.reason });
            }
            throw err;
        }
        const ce = identity!.computeEngine;
        const email = identity!.email?.toLowerCase();
        const who = { pool: pool.name, email, instanceId: ce?.instanceId, zone: ce?.zone };
        if (ce === undefined) {
            refuse(403, "not-an-instance", "the token has no google.compute_engine claims; request it from the VM's metadata server with format=full", who);
        }
        if (email === undefined || !identity!.emailVerified) {
            refuse(403, "no-verified-email", "the token carries no verified service-account email", who);
        }
        if (email !== pool.serviceAccount.toLowerCase()) {
            const other = poolOfAccount.get(email!);
            if (other !== undefined) {
                refuse(403, "other-pool", `the token belongs to pool "${other}", not "${pool.name}"`, who);
            }
            refuse(403, "wrong-service-account", `service account ${email} is not the runner identity of pool "${pool.name}"`, who);
        }
        if (ce!.projectId !== pool.project) {
            refuse(403, "wrong-project", `the instance is in project ${ce!.projectId}, pool "${pool.name}" runs in ${pool.project}`, who);
        }
        if (!ce!.zone.startsWith(`${pool.region}-`)) {
            refuse(403, "wrong-zone", `zone ${ce!.zone} is not in the pool's region ${pool.region}`, who);
        }
        if (!isInstanceId(ce!.instanceId)) {
            refuse(403, "bad-instance-id", "the token's instance id is not a decimal id", who);
        }
        const instance = { project: ce!.projectId, zone: ce!.zone, instanceName: ce!.instanceName, instanceId: ce!.instanceId };
        if (!(await deps.membership.isMember(pool, instance))) {
            refuse(403, "not-in-pool-mig", `instance ${ce!.instanceName} (${ce!.instanceId}) is not a member of the managed instance group ${pool.mig}`, who);
        }

        // The runner image by immutable id, as the control plane observes it (a family name is not enough).
        let bootImage;
        try {
            bootImage = await deps.images.bootImage(pool, instance);
        } catch (err) {
            audit({ service: "broker", event: "jit-config", outcome: "refused", reason: "image-unavailable", ...who, error: (err as Error).message });
            throw new HttpError(503, "image-unavailable", "the instance's boot image could not be read from Compute; retry");
        }
        if (!/^https:\/\/\S+\/projects\/[^/]+\/global\/images\/[^/]+$/.test(bootImage.uri) || !/^\d{1,20}$/.test(bootImage.id ?? "")) {
            refuse(403, "image-not-immutable", `the instance's boot image ${JSON.stringify(bootImage.uri)} (id ${JSON.stringify(bootImage.id)}) is not an image self link with a numeric id`, who);
        }
        const now = clock();
        const record: RegistrationRecord = {
            pool: pool.name,
            project: instance.project,
            zone: instance.zone,
            instanceId: instance.instanceId,
            instanceName: instance.instanceName,
            instanceCreationTimestamp: ce!.instanceCreationTimestamp,
            serviceAccount: pool.serviceAccount,
            runnerName: runnerNameFor(pool.name, instance.instanceId),
            uploadPrefix: uploadPrefixFor(pool.name, instance.instanceId),
            intakeBucket: pool.intakeBucket,
            image: pool.image,
            bootImage: { uri: bootImage.uri, id: bootImage.id },
            registeredAt: now.toISOString(),
        };
        if (!(await deps.records.claimRegistration(record))) {
            refuse(409, "already-registered", `instance ${instance.instanceId} already received its one JIT config; a VM registers exactly once`, who);
        }
        let jit;
        try {
            jit = await deps.github.generateJitConfig({ name: record.runnerName, labels: pool.labels, runnerGroupId: pool.runnerGroupId });
        } catch (err) {
            // The claim stays: this VM never registers (it powers off and the MIG replaces it).
            audit({ service: "broker", event: "jit-config", outcome: "refused", reason: "github-failed", ...who, error: (err as Error).message });
            throw new HttpError(502, "github-failed", `GitHub did not register the runner: ${err instanceof GithubApiError ? err.message : "request failed"}`);
        }
        await deps.records.putRunner({ runnerName: record.runnerName, runnerId: jit.runnerId, instanceId: instance.instanceId, pool: pool.name, createdAt: now.toISOString() });
        // The VM is deleted at maxRunDuration: the grant never outlives it.
        const upload = await workerUploadGrant(deps, pool, record.uploadPrefix, now);
        audit({ service: "broker", event: "jit-config", outcome: "granted", ...who, runnerName: record.runnerName, runnerId: jit.runnerId });
        const response: JitConfigResponse = { jitConfig: jit.encodedJitConfig, runner: { id: jit.runnerId, name: record.runnerName }, upload };
        return reply.code(201).send(response);
    });

    app.post(POD_REGISTRATION_PATH, async (request, reply) => {
        const refuse = (status: number, code: string, message: string): never => {
            audit({ service: "broker", event: "pod-registration", outcome: "refused", reason: code });
            throw new HttpError(status, code, message);
        };
        const body: any = request.body;
        const poolName = body !== null && typeof body === "object" ? body.pool : undefined;
        const podPools = deps.pools.filter(isPodPool).map((p) => p.name);
        if (typeof poolName !== "string" || !pools.has(poolName)) {
            refuse(400, "unknown-pool", `pool: ${JSON.stringify(poolName)} is not a pool of this fleet; send {"pool":"<name>"} with one of: ${podPools.join(", ") || "(no GKE pools)"}`);
        }
        if (deps.pods === undefined) {
            refuse(400, "pods-not-enabled", "this broker has no GKE pools configured; a VM registers at /v1/jit-config");
        }
        const token = bearerToken(request.headers.authorization);
        if (token === undefined) {
            refuse(401, "missing-token", "Authorization: send `Bearer <token>` read from the pod's projected service-account token volume (audience = this broker)");
        }
        const granted = await registerPod({ ...deps, podTokens: deps.pods!.tokens, pods: deps.pods!.api, audit, clock }, pools.get(poolName)!, token!);
        return reply.code(201).send(granted);
    });

    return app;
}
