/**
 * The provenance generator. For each finalized intake object it:
 * 1. attributes it to a job from its location only: `<pool>/<instanceId>/<path>` in the pool's own
 *    intake bucket -> the broker's registration record of that instance -> its runner -> the one job
 *    the webhook saw that runner pick up (object metadata is never read);
 *    the job must name the broker's runner by id, not only by name, and must have asked for this
 *    pool by the runs-on rule (runsOn.ts): a job GitHub put on this pool's runner because its labels
 *    fit, without naming the pool, gets nothing;
 * 2. requires that job's HMAC-verified `completed` facts, with conclusion `success`;
 * 3. refuses an object the store created before the job started, after the job completed, after the
 *    VM was deleted, or after the VM's maximum lifetime (lateUpload.ts): an upload grant outlives its
 *    job, and what was not made while the job ran never gets provenance;
 * 4. requires the source facts the build type needs (fully qualified ref, event, ids);
 * 5. takes one of the job's signing slots (the pool's maxObjectsPerJob): over budget is refused;
 * 6. streams the bytes and computes sha256 itself (never holding the object: memory is bounded by
 *    what one request holds, not by the upload's size);
 * 7. builds SLSA v1 provenance (provenance.ts) and asks the signer to sign it; for an OCI image
 *    layout (`image.oci.tar`, `images/<name>.oci.tar`; image/) it first validates the layout, pushes
 *    it to the release registry and names the image by its manifest digest, and afterwards attaches
 *    the signed attestation next to the image;
 * 8. records the result create-only under a hashed name (a second notification of the same object
 *    is a no-op; refusals that cannot change are recorded too, and answered the same way again).
 *
 * POST /v1/finalize is the Pub/Sub push endpoint of the intake buckets' OBJECT_FINALIZE
 * notifications. The push's OIDC token is verified (audience = this service's URL, email = the push
 * subscription's service account). Answers: 201 signed, 200 already done, 409 deferred (the job has
 * not completed yet: Pub/Sub redelivers, and the reconcile loop retries), 422 refused (outside a
 * registered location, no record, not our pool), 4xx for bad input. Refusals are logged, never signed.
 *
 * A deferred object gets a pending marker (records.ts); the reconcile pass reads only those markers,
 * so its cost is the number of deferred objects, never the intake buckets' history.
 */
import type { FastifyInstance } from "fastify";
import { checkObjectName, ObjectStore } from "../../lib/objectStore";
import { hashStream } from "../../lib/hashStream";
import { bearerToken, IdTokenError } from "../../lib/idToken";
import type { TokenVerifier } from "../broker/app";
import { AuditLog, Clock, countedAudit, HttpError, serviceApp, stderrAudit, systemClock } from "../http";
import { ServiceMetrics } from "../../lib/ops/metrics";
import { type DsseEnvelope, envelopeObjectName } from "../../lib/dsse";
import { DEFAULT_MAX_OBJECTS_PER_JOB, PoolSpec } from "../pools";
import { isWorkerId, JobFacts, objectKey, Records } from "../records";
import { placeJob, placementAdvice } from "../runsOn";
import { SignerClient, SignerError } from "../signerClient";
import { lateUpload } from "./lateUpload";
import { ImagePublisher, ImageRefusal, PreparedImage, PublishedImage } from "./image/publish";
import { isImageUpload } from "./image/repository";
import { buildSbomStatement, findSbom, FoundSbom } from "./image/sbom";
import type { Attestation } from "../../lib/oci/cosignAttestations";
import { SBOM_ANNOTATION, SBOM_ORIGIN_CLAIM, SBOM_PREDICATE_TYPES } from "../../lib/sbomStatement";
import { buildStatement, invocationIdOf, missingSourceFacts, SLSA_PROVENANCE_V1 } from "./provenance";

export const FINALIZE_PATH = "/v1/finalize";

export interface GeneratorDeps {
    pools: PoolSpec[];
    /** The intake bucket of each pool, by pool name. */
    intake: Record<string, ObjectStore>;
    records: Records;
    /** The signer; `ping`, when there, is its readiness check. */
    signer: Pick<SignerClient, "sign"> & Partial<Pick<SignerClient, "ping">>;
    /** Verifies the Pub/Sub push OIDC token (audience = this service's URL). */
    pushVerifier: TokenVerifier;
    /** The push subscription's service account: the only accepted caller of /v1/finalize. */
    pushServiceAccount: string;
    builderId: string;
    /** Default https://github.com. */
    githubServer?: string;
    /** Largest object the generator reads, bytes. */
    maxObjectBytes: number;
    /** Publishes image uploads to the release registry; without it an image upload is refused. */
    images?: ImagePublisher;
    audit?: AuditLog;
    clock?: Clock;
    /** Default: the global meter's instruments. */
    metrics?: ServiceMetrics;
}

export interface GenerateResult {
    status: 201 | 200;
    object: string;
    sha256: string;
    invocationId: string;
    envelope: unknown;
    /** The envelope's object in the provenance bucket. */
    envelopeObject: string;
    /** The Sigstore bundle around the envelope (`<envelope object>.sigstore.json` beside it); null in records older than bundles. */
    bundle: unknown;
    /** For an image upload: where the image and its attestations are. */
    image?: PublishedImage;
}

export interface GeneratorService {
    app: FastifyInstance;
    /** Generates provenance for one object of one pool's intake bucket (throws HttpError on refusal). */
    generate(bucket: string, object: string): Promise<GenerateResult>;
    /** Retries the deferred objects (and only those); returns the outcome per object. */
    reconcile(): Promise<Record<string, string>>;
}

export function buildGeneratorService(deps: GeneratorDeps): GeneratorService {
    const metrics = deps.metrics ?? new ServiceMetrics();
    const audit = countedAudit(deps.audit ?? stderrAudit, metrics);
    const clock = deps.clock ?? systemClock;
    const githubServer = deps.githubServer ?? "https://github.com";
    const poolOfBucket = new Map(deps.pools.map((p) => [p.intakeBucket, p]));
    const signer = deps.signer;
    const app = serviceApp({
        bodyLimit: 64 * 1024,
        service: "generator",
        metrics,
        readiness: { storage: () => deps.records.reachable(), ...(signer.ping !== undefined ? { signer: (signal) => signer.ping!(signal) } : {}) },
    });

    const refuse = (status: number, code: string, message: string, extra: Record<string, unknown>): never => {
        audit({ service: "generator", event: "object", outcome: status === 409 ? "deferred" : "refused", reason: code, ...extra });
        throw new HttpError(status, code, message);
    };
    /** A refusal that no later event can change: recorded once, so the answer stays the same. */
    const refuseForGood = async (code: string, message: string, at: { bucket: string; object: string }, jobId?: number): Promise<never> => {
        await deps.records.putRefused({ ...at, code, message, ...(jobId !== undefined ? { jobId } : {}), refusedAt: clock().toISOString() });
        return refuse(422, code, message, { ...at, ...(jobId !== undefined ? { jobId } : {}) });
    };

    const generate = async (bucket: string, object: string): Promise<GenerateResult> => {
        try {
            return await attempt(bucket, object);
        } catch (err) {
            if (err instanceof HttpError && err.status === 409) {
                // Remembered for the reconcile pass; it drops the marker once the object is settled.
                await deps.records.deferObject(bucket, object, clock().toISOString());
            }
            throw err;
        }
    };

    const attempt = async (bucket: string, object: string): Promise<GenerateResult> => {
        const at = { bucket, object };
        const pool = poolOfBucket.get(bucket);
        if (pool === undefined) {
            refuse(422, "unknown-bucket", `bucket ${JSON.stringify(bucket)} is not an intake bucket of this fleet`, at);
        }
        const segments = object.split("/");
        if (checkObjectName(object) !== undefined || segments.length < 3 || segments[0] !== pool!.name || !isWorkerId(segments[1])) {
            refuse(422, "outside-registered-location", `object ${JSON.stringify(object).slice(0, 200)} is not under <pool>/<instanceId>/ or <pool>/<podUid>/ of pool "${pool!.name}"`, at);
        }
        const instanceId = segments[1];
        const reg = await deps.records.registration(instanceId);
        if (reg === undefined || reg.pool !== pool!.name || reg.intakeBucket !== bucket) {
            refuse(422, "no-registration", `no VM or pod of pool "${pool!.name}" registered as ${instanceId}: nothing the control plane observed owns this location`, at);
        }
        const done = await deps.records.generated(bucket, object);
        if (done !== undefined) {
            return { status: 200, object, sha256: done.sha256, invocationId: done.invocationId, envelope: done.envelope, bundle: done.bundle ?? null, envelopeObject: done.envelopeObject, ...(done.image ? { image: done.image } : {}) };
        }
        const before = await deps.records.refused(bucket, object);
        if (before !== undefined) {
            refuse(422, before.code, before.message, at);
        }
        const runner = await deps.records.runner(reg!.runnerName);
        if (runner === undefined || runner.instanceId !== instanceId) {
            refuse(422, "no-runner", `the broker recorded no runner for instance ${instanceId}`, at);
        }
        const jobs = await deps.records.jobsOfRunner(reg!.runnerName);
        if (jobs.length === 0) {
            refuse(409, "no-job-facts", `no workflow_job webhook has shown runner ${reg!.runnerName} (id ${runner!.runnerId}) running a job yet`, at);
        }
        if (jobs.length > 1) {
            await refuseForGood("several-jobs", `runner ${reg!.runnerName} is linked to ${jobs.length} jobs; an ephemeral runner runs one`, at);
        }
        const job = await deps.records.jobFacts(jobs[0], "completed");
        // Refused as soon as any facts show it, rather than deferred until the job completes.
        await checkPlacement(job ?? (await deps.records.jobFacts(jobs[0], "in_progress")), pool!, reg!.runnerName, at);
        if (job === undefined) {
            refuse(409, "job-not-completed", `job ${jobs[0]} has not completed; provenance is generated after the job ends`, at);
        }
        const jobId = job!.jobId;
        if (job!.conclusion !== "success") {
            await refuseForGood("job-not-successful", `job ${jobId} concluded ${JSON.stringify(job!.conclusion)}; provenance is issued only for successful jobs`, at, jobId);
        }
        if (job!.pool !== pool!.name || job!.runnerName !== reg!.runnerName || (job!.runnerId != null && job!.runnerId !== runner!.runnerId)) {
            await refuseForGood("job-mismatch", `job ${jobId} ran on ${job!.runnerName} (id ${job!.runnerId}) in pool ${job!.pool}, not on ${reg!.runnerName} (id ${runner!.runnerId})`, at, jobId);
        }
        const info = await deps.intake[pool!.name].stat(object);
        if (info === undefined) {
            refuse(404, "no-object", `object ${object} does not exist in bucket ${bucket}`, at);
        }
        const late = lateUpload(info!.created, job!, reg!, pool!, await deps.records.scaleInRecord(instanceId));
        if (late !== undefined) {
            await refuseForGood(late.code, late.message, at, jobId);
        }
        if (info!.size > deps.maxObjectBytes) {
            await refuseForGood("object-too-large", `object is ${info!.size} bytes, above the generator's limit of ${deps.maxObjectBytes}`, at, jobId);
        }
        const missing = missingSourceFacts(job!);
        if (missing.length > 0) {
            await refuseForGood("source-unresolved", `job ${jobId}: the control plane could not establish ${missing.join(", ")}; provenance would be ambiguous`, at, jobId);
        }
        const budget = pool!.maxObjectsPerJob ?? DEFAULT_MAX_OBJECTS_PER_JOB;
        if (!(await deps.records.takeBudgetSlot(jobId, objectKey(bucket, object), budget))) {
            await refuseForGood("over-budget", `job ${jobId} already has ${budget} objects signed or being signed, the per-job budget of pool "${pool!.name}" (maxObjectsPerJob); put the files in fewer objects, or raise the pool's budget`, at, jobId);
        }
        const store = deps.intake[pool!.name];
        // Streamed, never read whole: memory per object is bounded whatever its size.
        const open = async () => {
            const stream = await store.openRead(object);
            return stream ?? refuse(404, "no-object", `object ${object} does not exist in bucket ${bucket}`, at);
        };
        const tooLarge = (size: number) => refuseForGood("object-too-large", `object is ${size} bytes or more, above the generator's limit of ${deps.maxObjectBytes} (MAX_OBJECT_BYTES)`, at, jobId);
        const uploadPath = segments.slice(2).join("/");
        /** Image steps: the job's input or the registry's refusal of a write refused for good (422), the registry's failure retried (502). */
        const imageStep = async <T>(step: () => Promise<T>): Promise<T> => {
            try {
                return await step();
            } catch (err) {
                if (err instanceof ImageRefusal) {
                    return err.status === 422 ? refuseForGood(err.code, err.message, at, jobId) : refuse(502, err.code, err.message, at);
                }
                throw err;
            }
        };
        let image: PreparedImage | undefined;
        let sbom: FoundSbom | undefined;
        let sha256: string;
        if (!isImageUpload(uploadPath)) {
            const hashed = await hashStream(await open(), deps.maxObjectBytes);
            sha256 = "tooLarge" in hashed ? await tooLarge(hashed.tooLarge) : hashed.sha256;
        } else {
            if (deps.images === undefined) {
                await refuseForGood("images-not-enabled", `${uploadPath} is an OCI image layout, but this fleet has no release registry (set RELEASE_REGISTRY)`, at, jobId);
            }
            image = await imageStep(() => deps.images!.prepare(job!.repository, uploadPath, open, deps.maxObjectBytes));
            sha256 = image.layout.tar.digest.slice("sha256:".length);
            // An SBOM uploaded for the image is checked before anything is pushed or signed.
            const scaleIn = await deps.records.scaleInRecord(instanceId);
            sbom = await imageStep(() => findSbom(deps.intake[pool!.name], `${pool!.name}/${instanceId}/`, uploadPath, (created) => lateUpload(created, job!, reg!, pool!, scaleIn)?.message));
            await imageStep(() => deps.images!.push(image!));
        }
        // An image's provenance names what a consumer pulls: the repository and the manifest digest.
        const subjectSha256 = image !== undefined ? image.digest.slice("sha256:".length) : sha256;
        const statement = buildStatement({
            subjectName: image !== undefined ? image.repository : uploadPath,
            sha256: subjectSha256,
            registration: reg!,
            runnerId: runner!.runnerId,
            runnerGroupId: pool!.runnerGroupId,
            job: job!,
            builderId: deps.builderId,
            githubServer,
        });
        const invocationId = invocationIdOf(job!, githubServer);
        const sign = async (st: Record<string, unknown>): Promise<{ envelope: DsseEnvelope; bundle: unknown }> => {
            let outcome;
            try {
                outcome = await deps.signer.sign(st);
            } catch (err) {
                if (err instanceof SignerError && err.status === 422 && err.code === "outside_key_window") {
                    // The key was rotated while the job waited: no version that may sign now covers its finish
                    // time, and none ever will. Refused for good, or every redelivery would be a 502 forever.
                    await refuseForGood("outside-key-window", `${err.message}; the job finished before the active key version's validFrom (a key rotation overtook it), so no key may sign its provenance`, at, jobId);
                }
                if (err instanceof SignerError) {
                    refuse(502, "signer-refused", err.message, at);
                }
                throw err;
            }
            if (outcome.status !== "signed") {
                // The signer holds another statement for this invocation and subject: never record a null envelope.
                await refuseForGood("signed-differently", `the signer already holds a different statement for invocation ${invocationId} and this digest`, at, jobId);
            }
            return outcome as { envelope: DsseEnvelope; bundle: unknown };
        };
        const { envelope, bundle } = await sign(statement);
        const envelopeObject = envelopeObjectName(subjectSha256, invocationId);
        const attestations: Attestation[] = [{ envelope, predicateType: SLSA_PROVENANCE_V1 }];
        if (image !== undefined && sbom !== undefined) {
            const sbomStatement = buildSbomStatement(sbom, image, { object: envelopeObject, invocationId, finishedOn: job!.completedAt! });
            attestations.push({ envelope: (await sign(sbomStatement)).envelope, predicateType: SBOM_PREDICATE_TYPES[sbom.kind], annotations: { [SBOM_ANNOTATION.origin]: SBOM_ORIGIN_CLAIM } });
        }
        const ledger = image === undefined ? undefined : {
            record: (list: Attestation[]) => deps.records.recordAttestations(image.repository, image.digest, objectKey(bucket, object), list),
            all: () => deps.records.recordedAttestations(image.repository, image.digest),
        };
        const published = image === undefined ? undefined : await imageStep(() => deps.images!.attach(image, attestations, ledger));
        await deps.records.putGenerated(bucket, { pool: pool!.name, instanceId, object, sha256, jobId, invocationId, envelope, bundle, envelopeObject, ...(published ? { image: published } : {}), generatedAt: clock().toISOString() });
        // A concurrent notification of the same object may have stored first: answer with what is stored.
        const stored = (await deps.records.generated(bucket, object))!;
        audit({ service: "generator", event: "object", outcome: "done", ...at, sha256, jobId, envelopeObject, ...(published ? { image: `${published.repository}@${published.digest}` } : {}) });
        return { status: 201, object, sha256, invocationId, envelope: stored.envelope, bundle: stored.bundle ?? null, envelopeObject, ...(stored.image ? { image: stored.image } : {}) };
    };

    /** Refuses, for good and with a record, a job that did not ask for `pool` (GitHub gave it this pool's runner because its labels fit). */
    const checkPlacement = async (job: JobFacts | undefined, pool: PoolSpec, runnerName: string, at: { bucket: string; object: string }): Promise<void> => {
        if (job === undefined) {
            return;
        }
        const placement = placeJob(deps.pools, job.labels);
        if (placement.kind !== "pool" || placement.pool !== pool.name) {
            await refuseForGood("job-not-for-pool", `job ${job.jobId} ran on runner ${runnerName} of pool "${pool.name}" without asking for that pool: ` +
                `${placementAdvice(placement, job.labels)}; provenance is issued only for a job that named the pool it ran on`, at, job.jobId);
        }
    };

    app.post(FINALIZE_PATH, async (request, reply) => {
        const token = bearerToken(request.headers.authorization);
        if (token === undefined) {
            refuse(401, "missing-token", "Authorization: the Pub/Sub push subscription must send an OIDC token", {});
        }
        try {
            const identity = await deps.pushVerifier.verify(token!);
            if (!identity.emailVerified || identity.email?.toLowerCase() !== deps.pushServiceAccount.toLowerCase()) {
                refuse(403, "wrong-caller", `caller ${identity.email ?? identity.sub} is not the push subscription's service account`, {});
            }
        } catch (err) {
            if (err instanceof IdTokenError && err.reason === "certs-unavailable") {
                // Not the caller's fault: retryable, and not a refusal of the token.
                throw new HttpError(503, "identity-unavailable", "the token issuer's certificates could not be fetched; retry");
            }
            if (err instanceof IdTokenError) {
                refuse(401, "invalid-token", err.message, {});
            }
            throw err;
        }
        const body: any = request.body;
        const attrs = body?.message?.attributes;
        if (attrs === null || typeof attrs !== "object" || typeof attrs.bucketId !== "string" || typeof attrs.objectId !== "string") {
            throw new HttpError(400, "bad-push", "message.attributes.bucketId and objectId are required (a Cloud Storage Pub/Sub notification)");
        }
        if (attrs.eventType !== "OBJECT_FINALIZE") {
            return reply.code(200).send({ ignored: `eventType ${String(attrs.eventType)}` });
        }
        const result = await generate(attrs.bucketId, attrs.objectId);
        return reply.code(result.status).send(result);
    });

    const reconcile = async (): Promise<Record<string, string>> => {
        const outcomes: Record<string, string> = {};
        const now = clock().getTime();
        let backlog = 0;
        let oldest = now;
        for (const { bucket, object, since } of await deps.records.deferredObjects()) {
            try {
                const r = await attempt(bucket, object);
                outcomes[object] = r.status === 201 ? "signed" : "already-done";
                await deps.records.clearDeferred(bucket, object);
            } catch (err) {
                outcomes[object] = err instanceof HttpError ? err.code : `error: ${(err as Error).message}`;
                // Settled for good (refused): no longer pending. Deferred or failed: tried again next pass.
                if (err instanceof HttpError && err.status !== 409 && err.status < 500) {
                    await deps.records.clearDeferred(bucket, object);
                } else {
                    backlog++;
                    const at = Date.parse(since);
                    oldest = Number.isFinite(at) ? Math.min(oldest, at) : oldest;
                }
            }
        }
        metrics.set("generatorBacklog", backlog, {});
        metrics.set("generatorBacklogAge", Math.max(0, (now - oldest) / 1000), {});
        return outcomes;
    };

    return { app, generate, reconcile };
}
