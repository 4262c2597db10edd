/**
 * `npm run simulate -- [--jobs N] [--repos R] [--pools P] [--gke-pools G] [--concurrency C] --out <dir>`: the whole job flow on
 * loopback with the real service code (fleet.ts), then the attacks, each of which must be refused.
 *
 * Per job: GitHub queues it and sends the signed webhook (demand rises) -> the "autoscaler" creates a
 * VM in the pool's MIG -> the VM's startup logic takes an identity token from its metadata server
 * and registers with the broker (one JIT config + its upload grant) -> the runner connects with the
 * JIT config and GitHub hands it the job -> the job writes an artifact and uploads it to its own
 * location -> GitHub completes the job (webhook; the control plane deletes the VM) -> the intake
 * notification reaches the generator -> it builds provenance and the signer signs it -> the envelope
 * is verified over the DSSE PAE against the signer's published key.
 *
 * Cost at scale: jobs are spread over R repositories of one organization; summary.json reports the
 * GitHub requests the control plane made (GitHub's counting: a 304 is free), per job, and those of
 * one steady-state reconcile pass (webhook receiver and generator) after every job finished, with
 * the records that pass read.
 *
 * Output: <dir>/summary.json, <dir>/keys.json, <dir>/trusted_root.json (the local TSA),
 * <dir>/jobs/<jobId>/<artifact>, <artifact>.intoto.jsonl and <artifact>.sigstore.json. Exit 0 only
 * if every job has a verified envelope and a bundle, and every attack was refused.
 */
import type { ServiceMetrics } from "../lib/ops/metrics";
import { createHash, randomBytes } from "crypto";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import * as path from "path";
import { performance } from "perf_hooks";
import { parseArgs } from "util";
import { JIT_CONFIG_PATH, JitConfigResponse } from "../controlPlane/broker/app";
import type { PoolSpec } from "../controlPlane/pools";
import { FINALIZE_PATH } from "../controlPlane/generator/app";
import { WEBHOOK_PATH } from "../controlPlane/webhook/app";
import { envelopeLine, type DsseEnvelope } from "../lib/dsse";
import { trustedRootJson } from "../lib/trustedRoot";
import { parseTrustedKeys, verifyProvenance } from "../verify/verify";
import { checkPublishedImage, ImageCheck, SIM_MAX_LAYER_BYTES, SIM_REGISTRY_AUDIENCE, SIM_RELEASE_PATH } from "./images";
import { buildImageLayout } from "./ociFixture";
import { uploadWithGrant } from "./fakeGcs";
import type { SimVm } from "./fakeMig";
import { POD_ATTACKS, podRegister } from "./podAttacks";
import { isPodPool } from "../controlPlane/pools";
import { SIM_AUDIENCE, SIM_BUILDER_ID, SimFleet, startSimFleet } from "./fleet";
import { percentile } from "../lib/percentile";
import { setLogSink } from "../lib/ops/log";

export interface JobResult {
    jobId: number;
    pool: string;
    /** Where the job ran: a VM of a GCE pool or an ARC runner pod of a GKE pool. */
    backend: "gce" | "gke";
    repository: string;
    /** The VM's instance id, or the pod's UID. */
    instanceId: string;
    runnerName: string;
    artifact: string;
    sha256: string;
    envelope?: string;
    /** `<artifact>.sigstore.json`, relative to the output directory. */
    bundle?: string;
    verified: boolean;
    problem?: string;
    /** Wall time from queueing to a verified envelope, ms (the job's own work is a write of a few bytes). */
    controlPlaneMs: number;
    demandSeen: number;
    /** With --images: the job's image as a consumer found it in the registry. */
    image?: ImageCheck;
}

export interface AttackResult {
    name: string;
    description: string;
    refused: boolean;
    status: number;
    /** The refusing service's error code and message, when it sent one. */
    code?: string;
    message?: string;
}

export interface SimSummary {
    ok: boolean;
    jobs: JobResult[];
    envelopes: number;
    verified: number;
    attacks: AttackResult[];
    demandPeak: Record<string, number>;
    vmsDeleted: number;
    /** Runner pods scaled in after their job (their EphemeralRunner deleted). */
    podsDeleted: number;
    controlPlaneMs: { p50: number; p95: number };
    repos: number;
    github: GithubCost;
    /** Records read (objects read and names listed) and listing calls of that steady-state pass. */
    records: { readsPerPass: number; listsPerPass: number };
    /** With --images: one entry per published image (repository `<host:port>/<path>`, digest, the `.att` tag and its manifest digest). */
    images?: ImageCheck[];
}

export interface GithubCost {
    /** Requests GitHub counts against the rate limit (every request but the 304s). */
    requests: number;
    /** Conditional requests answered 304 (not counted). */
    notModified: number;
    requestsPerJob: number;
    /** Counted requests of one steady-state reconcile pass after every job finished. */
    reconcilePassRequests: number;
    /** Requests that pass sent, 304s included. */
    reconcilePassSent: number;
    byRoute: Record<string, number>;
}

/** The scale targets one run must meet; returns what fails (empty when every target holds). */
export function scaleTargetFailures(summary: Pick<SimSummary, "github">, maxPerJob = 3): string[] {
    const failures: string[] = [];
    if (summary.github.requestsPerJob > maxPerJob) {
        failures.push(`${summary.github.requestsPerJob.toFixed(2)} GitHub requests per job, above ${maxPerJob}`);
    }
    return failures;
}

async function brokerRegister(fleet: SimFleet, token: string, pool: string): Promise<{ status: number; body: any }> {
    const res = await fetch(`${fleet.broker.url}${JIT_CONFIG_PATH}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ pool }),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
}

/**
 * Checks an envelope as a consumer would, with the verification library of
 * `hardened-build-fleet-verify`: the signature over the DSSE PAE against the published keyring, the
 * key's validity window, the subject digest of the artifact, the predicate type, the builder id and
 * the source repository. Returns why it fails, or undefined.
 */
export function verifyEnvelope(envelope: DsseEnvelope, artifact: Buffer, keyring: string, repository: string): string | undefined {
    const result = verifyProvenance({ envelopes: [envelope], artifact, keys: parseTrustedKeys(keyring), builderId: SIM_BUILDER_ID, policy: { sourceUri: `https://github.com/${repository}`, ref: "refs/heads/main", workflow: ".github/workflows/build.yml", event: "push" } });
    return result.verified ? undefined : result.reason;
}

export interface RanJob {
    job?: { id: number; repository: string };
    runnerName: string;
    instanceId: string;
    /** The job's upload grant (it stays usable after the job, until it expires). */
    upload?: JitConfigResponse["upload"];
    /** Object keys of the uploads, in order, and the upload answers. */
    keys: string[];
    problem?: string;
    demandSeen: number;
    queuedId: number;
}

/**
 * One VM, one job: queue, register, connect, upload what `work` returns (paths inside the job's
 * location), complete. The runner gets the oldest queued job of its labels, which may be another
 * worker's job: `work` sees the job it got.
 */
export async function runJob(fleet: SimFleet, pool: PoolSpec, repository: string, work: (job: { id: number; repository: string }) => [string, Buffer][], conclusion = "success"): Promise<RanJob> {
    const queued = await fleet.github.queueJob({ repository, labels: pool.labels });
    const demandSeen = (await fleet.webhook.demand())[pool.name];
    const worker = await startWorker(fleet, pool);
    const ran: RanJob = { runnerName: "", instanceId: worker.id, keys: [], demandSeen, queuedId: queued.id };
    const reg = worker.registration;
    if (reg.status !== 201) {
        return { ...ran, problem: `registration ${reg.status} ${JSON.stringify(reg.body)}` };
    }
    const grant: Pick<JitConfigResponse, "runner" | "upload"> = reg.body;
    ran.runnerName = grant.runner.name;
    ran.upload = grant.upload;
    const job = await fleet.github.connectRunner(worker.jitConfig ?? "");
    if (job === undefined) {
        return { ...ran, problem: "the runner got no job" };
    }
    ran.job = job;
    for (const [name, bytes] of work(job)) {
        const key = `${grant.upload.prefix}${name}`;
        const up = await uploadWithGrant(grant.upload, key, bytes);
        if (up.status !== 204) {
            ran.problem ??= `upload of ${name}: ${up.status} ${up.body}`;
        }
        ran.keys.push(key);
    }
    await fleet.github.completeJob(job.id, conclusion);
    return ran;
}

/**
 * A worker for one job, registered: a VM of a GCE pool (its metadata token -> a JIT config and the
 * grant), or, for a GKE pool, ARC's runner pod (the JIT config ARC put in it; its projected token ->
 * the grant).
 */
async function startWorker(fleet: SimFleet, pool: PoolSpec): Promise<{ id: string; registration: { status: number; body?: any }; jitConfig?: string }> {
    if (isPodPool(pool)) {
        const pod = await fleet.cluster!.startRunnerPod(pool, fleet.arcGithub());
        const registration = await podRegister(fleet, await fleet.cluster!.projectedToken(pod, { audience: SIM_AUDIENCE.broker }), pool.name);
        return { id: pod.uid, registration, jitConfig: fleet.cluster!.jitConfig(pod) };
    }
    const vm = await fleet.mig.createVm(pool);
    const registration = await brokerRegister(fleet, await fleet.mig.identityToken(vm, SIM_AUDIENCE.broker), pool.name);
    return { id: vm.ref.instanceId, registration, ...(registration.status === 201 ? { jitConfig: (registration.body as JitConfigResponse).jitConfig } : {}) };
}

/** The generator's answer to a (redelivered) finalize notification, with its error body. */
export async function finalize(fleet: SimFleet, bucket: string, key: string): Promise<{ status: number; body: any }> {
    const res = await fetch(`${fleet.generator.url}${FINALIZE_PATH}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${fleet.pushToken()}` },
        body: JSON.stringify({ message: { attributes: { bucketId: bucket, objectId: key, eventType: "OBJECT_FINALIZE" }, messageId: key } }),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
}

/** One job: an artifact (and, when the fleet publishes images, an OCI layout), its provenance verified as a consumer would. */
async function runOneJob(fleet: SimFleet, pool: PoolSpec, repository: string, out: string, keyring: string): Promise<JobResult> {
    const t0 = performance.now();
    let bytes = Buffer.alloc(0);
    let name = "";
    // A small image per job, built before the job starts so the job's own time stays a few writes.
    const layout = fleet.registry !== undefined ? (await buildImageLayout({ content: `image ${randomBytes(8).toString("hex")}` })).tar : undefined;
    const ran = await runJob(fleet, pool, repository, (job) => {
        // The job's work: an artifact. Only its bytes reach the provenance.
        name = `app-${job.id}.tar`;
        bytes = Buffer.concat([Buffer.from(`artifact of ${job.repository} job ${job.id}\n`), randomBytes(32)]);
        return [[`dist/${name}`, bytes], ...(layout !== undefined ? [["image.oci.tar", layout] as [string, Buffer]] : [])];
    });
    const base = { pool: pool.name, backend: isPodPool(pool) ? "gke" as const : "gce" as const, repository: ran.job?.repository ?? repository, instanceId: ran.instanceId, runnerName: ran.runnerName, artifact: "", sha256: "", verified: false, demandSeen: ran.demandSeen };
    if (ran.job === undefined) {
        return { ...base, jobId: ran.queuedId, controlPlaneMs: performance.now() - t0, problem: ran.problem };
    }
    const job = ran.job;
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const result: JobResult = { ...base, jobId: job.id, artifact: `jobs/${job.id}/${name}`, sha256, controlPlaneMs: 0 };
    if (ran.problem !== undefined) {
        return { ...result, controlPlaneMs: performance.now() - t0, problem: ran.problem };
    }
    // Pub/Sub redelivers the notification the generator deferred while the job was running.
    const [key, imageKey] = ran.keys;
    const { status, body: answer } = await finalize(fleet, pool.intakeBucket, key);
    const generated = await fleet.records.generated(pool.intakeBucket, key);
    let image: ImageCheck | undefined;
    if (imageKey !== undefined) {
        const published = await finalize(fleet, pool.intakeBucket, imageKey);
        image = published.body?.image === undefined
            ? { repository: "", digest: "", attestation: { tag: "", digest: "" }, verified: false, problem: `generator answered ${published.status} ${JSON.stringify(published.body?.error ?? published.body)}` }
            : await checkPublishedImage(fleet.registry!.url, published.body.image, keyring, SIM_BUILDER_ID, job.repository);
    }
    const t1 = performance.now();
    mkdirSync(path.join(out, "jobs", String(job.id)), { recursive: true });
    writeFileSync(path.join(out, result.artifact), bytes);
    const withImage = image !== undefined ? { image } : {};
    if ((status !== 201 && status !== 200) || !generated?.envelope) {
        return { ...result, ...withImage, controlPlaneMs: t1 - t0, problem: `generator answered ${status} ${JSON.stringify(answer?.error ?? null)}` };
    }
    const envelope = generated.envelope as DsseEnvelope;
    writeFileSync(path.join(out, `${result.artifact}.intoto.jsonl`), envelopeLine(envelope));
    const bundle = generated.bundle === undefined || generated.bundle === null ? undefined : `${result.artifact}.sigstore.json`;
    if (bundle !== undefined) {
        writeFileSync(path.join(out, bundle), `${JSON.stringify(generated.bundle, null, 2)}\n`);
    }
    const problem = bundle === undefined ? "the generator recorded no Sigstore bundle" : (verifyEnvelope(envelope, bytes, keyring, job.repository) ?? image?.problem);
    return { ...result, ...withImage, envelope: `${result.artifact}.intoto.jsonl`, ...(bundle ? { bundle } : {}), verified: problem === undefined, ...(problem ? { problem } : {}), controlPlaneMs: t1 - t0 };
}

/** The image attacks: each job uploads a layout the generator must refuse; a runner pushes to the registry itself. */
async function runImageAttacks(fleet: SimFleet): Promise<AttackResult[]> {
    const pool = fleet.pools[0];
    const registry = fleet.registry!;
    const uploadAttack = async (name: string, description: string, path: string, layout: Buffer, code: string): Promise<AttackResult> =>
        attempt(name, description, async () => {
            const ran = await runJob(fleet, pool, "acme/app", () => [[path, layout]]);
            if (ran.job === undefined || ran.problem !== undefined) {
                throw new Error(`image attack ${name}: the job did not run (${ran.problem})`);
            }
            return finalize(fleet, pool.intakeBucket, ran.keys[0]);
        }, (s) => s === 422).then((a) => ({ ...a, refused: a.refused && a.code === code }));
    const attacks: AttackResult[] = [];
    attacks.push(await uploadAttack("image-missing-blob", "the job uploads a layout whose index points at a manifest blob the layout does not hold",
        "images/missing.oci.tar", (await buildImageLayout({ dropManifestBlob: true })).tar, "invalid-image-layout"));
    attacks.push(await uploadAttack("image-digest-mismatch", "the job uploads a layout whose layer blob holds other bytes than its digest names",
        "images/mismatch.oci.tar", (await buildImageLayout({ tamperLayer: true })).tar, "invalid-image-layout"));
    attacks.push(await uploadAttack("image-oversized-layer", `the job uploads a layout with a layer above the generator's layer limit (${SIM_MAX_LAYER_BYTES} bytes)`,
        "images/big.oci.tar", (await buildImageLayout({ layerPadding: SIM_MAX_LAYER_BYTES + 512 * 1024 })).tar, "invalid-image-layout"));
    const foreign = await buildImageLayout({ content: "not yours" });
    const otherTenant = await uploadAttack("image-other-tenant", "a job of acme/app uploads images/acme/lib.oci.tar to publish under another tenant's repository (acme/lib)",
        "images/acme/lib.oci.tar", foreign.tar, "image-repository");
    // Refused, and the registry has no such image under the other tenant's name.
    const landed = await fetch(`${registry.url}/v2/${SIM_RELEASE_PATH}/acme/lib/manifests/${foreign.digest}`, { method: "HEAD" });
    attacks.push({ ...otherTenant, refused: otherTenant.refused && landed.status === 404 });
    attacks.push(await attempt("runner-pushes-to-registry", "the job mints a token for the registry from its VM's metadata server and starts a blob upload to the release registry",
        async () => {
            const vm = await fleet.mig.createVm(pool);
            const token = await fleet.mig.identityToken(vm, SIM_REGISTRY_AUDIENCE);
            const res = await fetch(`${registry.url}/v2/${SIM_RELEASE_PATH}/acme/app/blobs/uploads/`, {
                method: "POST",
                headers: { authorization: `Basic ${Buffer.from(`oauth2accesstoken:${token}`).toString("base64")}` },
            });
            const body: any = await res.json().catch(() => undefined);
            return { status: res.status, body: { error: { code: body?.errors?.[0]?.code, message: body?.errors?.[0]?.message } } };
        }, (s) => s === 403));
    return attacks;
}

/** The pod attacks (podAttacks.ts), with their protections on; each must be refused with its own code. */
async function runPodAttacks(fleet: SimFleet): Promise<AttackResult[]> {
    const gke = fleet.pools.filter(isPodPool).length;
    const attacks: AttackResult[] = [];
    for (const a of POD_ATTACKS.filter((a) => gke >= (a.name === "pod-of-other-pool" ? 2 : 1))) {
        const result = await attempt(a.name, a.description, () => a.run(fleet, true), (s) => s === a.status);
        attacks.push({ ...result, refused: result.refused && result.code === a.code });
    }
    return attacks;
}

async function attempt(name: string, description: string, fn: () => Promise<{ status: number; body?: any }>, refusedIf: (status: number) => boolean): Promise<AttackResult> {
    const { status, body } = await fn();
    let parsed = body;
    if (typeof body === "string") {
        try {
            parsed = JSON.parse(body);
        } catch {
            parsed = undefined;
        }
    }
    const code = parsed?.error?.code;
    const message = parsed?.error?.message;
    return { name, description, refused: refusedIf(status), status, ...(code !== undefined ? { code: String(code) } : {}), ...(message ? { message } : {}) };
}

/**
 * A job that names no pool (`runs-on: [self-hosted]`) is queued; GitHub gives it to the next fleet runner
 * of `pool` because the runner carries all its labels. It uploads an artifact and completes; the generator
 * must refuse its provenance (422 job-not-for-pool). With `labels` naming the pool, the same steps are signed
 * (201): the variant that shows the placement check, not some other one, is what refuses.
 */
export async function jobOnUnnamedPool(fleet: SimFleet, pool: PoolSpec, labels: string[] = ["self-hosted"]): Promise<{ status: number; body?: any }> {
    const repository = fleet.repositories[0];
    const queued = await fleet.github.queueJob({ repository, labels });
    const vm = await fleet.mig.createVm(pool);
    const reg = await brokerRegister(fleet, await fleet.mig.identityToken(vm, SIM_AUDIENCE.broker), pool.name);
    if (reg.status !== 201) {
        throw new Error(`attack setup: registration failed (${reg.status} ${JSON.stringify(reg.body)})`);
    }
    const job = await fleet.github.connectRunner((reg.body as JitConfigResponse).jitConfig);
    if (job?.id !== queued.id) {
        throw new Error(`attack setup: the runner picked up ${job?.id ?? "no job"}, not job ${queued.id}`);
    }
    const key = `${reg.body.upload.prefix}dist/app.tar`;
    const up = await uploadWithGrant(reg.body.upload, key, Buffer.from("built by a job that asked for no pool"));
    if (up.status !== 204) {
        throw new Error(`attack setup: upload ${up.status} ${up.body}`);
    }
    await fleet.github.completeJob(job.id);
    const res = await fetch(`${fleet.generator.url}${FINALIZE_PATH}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${fleet.pushToken()}` },
        body: JSON.stringify({ message: { attributes: { bucketId: pool.intakeBucket, objectId: key, eventType: "OBJECT_FINALIZE" }, messageId: "unnamed-pool" } }),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
}

/** The attacks from the design's threat list; each must be refused. */
async function runAttacks(fleet: SimFleet): Promise<AttackResult[]> {
    const [poolA] = fleet.pools;
    const poolB = fleet.pools[1];
    const attacks: AttackResult[] = [];
    const is4xx = (s: number) => s >= 400 && s < 500;

    // An attacker's job runs on a registered VM of pool A; a victim job runs on another VM.
    const attacker = await fleet.mig.createVm(poolA);
    const victim = await fleet.mig.createVm(poolA);
    const a = await brokerRegister(fleet, await fleet.mig.identityToken(attacker, SIM_AUDIENCE.broker), poolA.name);
    const v = await brokerRegister(fleet, await fleet.mig.identityToken(victim, SIM_AUDIENCE.broker), poolA.name);
    if (a.status !== 201 || v.status !== 201) {
        throw new Error(`attack setup: registration failed (${a.status} ${JSON.stringify(a.body)}, ${v.status} ${JSON.stringify(v.body)})`);
    }

    attacks.push(await attempt("second-jit-config", "the job asks its VM's metadata server for a fresh broker token and requests a second JIT config",
        async () => brokerRegister(fleet, await fleet.mig.identityToken(attacker, SIM_AUDIENCE.broker), poolA.name), (s) => s === 409));

    let other: SimVm;
    let otherPool: string;
    if (poolB !== undefined) {
        other = await fleet.mig.createVm(poolB);
        otherPool = poolA.name;
    } else {
        other = await fleet.mig.createVm({ ...poolA, name: "foreign", serviceAccount: "foreign@elsewhere.iam.gserviceaccount.com", mig: "foreign-mig" });
        otherPool = poolA.name;
    }
    attacks.push(await attempt("token-from-other-pool", "a VM of another pool (another service account) asks for a JIT config of this pool",
        async () => brokerRegister(fleet, await fleet.mig.identityToken(other, SIM_AUDIENCE.broker), otherPool), (s) => s === 403));

    const victimKey = `${v.body.upload.prefix}dist/app.tar`;
    attacks.push(await attempt("upload-into-other-job", "the attacker's job uses its upload grant to pre-create an object in the victim job's location",
        async () => uploadWithGrant(a.body.upload, victimKey, Buffer.from("malicious")), (s) => s === 403));
    attacks.push(await attempt("overwrite-own-upload", "the job tries to replace an object it already uploaded",
        async () => {
            const k = `${a.body.upload.prefix}dist/first.tar`;
            await uploadWithGrant(a.body.upload, k, Buffer.from("first"));
            return uploadWithGrant(a.body.upload, k, Buffer.from("second"));
        }, (s) => s === 403));

    const anyJob = [...fleet.github.jobs.values()][0];
    const payload = anyJob !== undefined ? fleet.github.payloadOf(anyJob.id, "completed") : { action: "completed" };
    attacks.push(await attempt("forged-webhook", "a workflow_job webhook signed with a secret other than the fleet's",
        async () => {
            const d = await fleet.github.deliver("workflow_job", payload, { secret: "attacker-guess" });
            return { status: d.status, body: d.response };
        }, (s) => s === 401));
    const realDelivery = fleet.github.deliveries.find((d) => d.status === 200);
    if (realDelivery !== undefined) {
        attacks.push(await attempt("replayed-webhook", "a captured, correctly signed delivery sent again",
            async () => {
                const d = await fleet.github.redeliver(realDelivery);
                return { status: d.status, body: d.response };
            }, (s) => s === 409));
    }

    // GitHub does not sign the delivery id: a captured `queued` event of a finished job, sent under a
    // new id to another (or a restarted) instance, must not raise demand again.
    const queuedDelivery = fleet.github.deliveries.find((d) => d.status === 200 && JSON.parse(d.body.toString()).action === "queued");
    if (queuedDelivery !== undefined) {
        attacks.push(await attempt("replayed-webhook-new-id", "a captured queued event of a finished job, replayed under a new delivery id to a restarted webhook instance",
            async () => {
                const fresh = fleet.webhookInstance();
                const before = await fresh.demand();
                const res = await fresh.app.inject({
                    method: "POST", url: WEBHOOK_PATH, payload: queuedDelivery.body,
                    headers: { "content-type": "application/json", "x-github-event": "workflow_job", "x-github-delivery": `replay-${Date.now()}`, "x-hub-signature-256": queuedDelivery.signature },
                });
                const after = await fresh.demand();
                // Refused only if nothing changed, whatever the answer.
                return { status: JSON.stringify(after) === JSON.stringify(before) ? res.statusCode : 200, body: res.body };
            }, (s) => s === 409));
    }

    const statement = {
        _type: "https://in-toto.io/Statement/v1",
        subject: [{ name: "evil.tar", digest: { sha256: "0".repeat(64) } }],
        predicateType: "https://slsa.dev/provenance/v1",
        predicate: {
            buildDefinition: { buildType: "https://example.com/evil", externalParameters: {} },
            runDetails: { builder: { id: SIM_BUILDER_ID }, metadata: { invocationId: "evil", startedOn: new Date().toISOString(), finishedOn: new Date().toISOString() } },
        },
    };
    attacks.push(await attempt("runner-calls-signer", "the job mints a token for the signer's audience from its metadata server and asks the signer to sign a forged statement",
        async () => {
            const token = await fleet.mig.identityToken(attacker, SIM_AUDIENCE.signer);
            const res = await fetch(`${fleet.signer.url}/v1/sign`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(statement) });
            return { status: res.status, body: await res.json().catch(() => undefined) };
        }, is4xx));
    attacks.push(await attempt("runner-calls-generator", "the job posts a forged finalize notification to the generator with its own identity",
        async () => {
            const token = await fleet.mig.identityToken(attacker, SIM_AUDIENCE.generator);
            const res = await fetch(`${fleet.generator.url}${FINALIZE_PATH}`, {
                method: "POST",
                headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
                body: JSON.stringify({ message: { attributes: { bucketId: poolA.intakeBucket, objectId: victimKey, eventType: "OBJECT_FINALIZE" } } }),
            });
            return { status: res.status, body: await res.text() };
        }, is4xx));
    attacks.push(await attempt("job-on-unnamed-pool", "a job with runs-on: [self-hosted] takes a fleet VM started for the pool, uploads and completes, and asks for provenance",
        () => jobOnUnnamedPool(fleet, poolA), (s) => s === 422));
    attacks.push(await attempt("runner-calls-webhook", "the job posts an unsigned workflow_job event to the webhook receiver",
        async () => {
            const res = await fetch(`${fleet.webhook.url}${WEBHOOK_PATH}`, { method: "POST", headers: { "content-type": "application/json", "x-github-event": "workflow_job", "x-github-delivery": "forged-1" }, body: JSON.stringify(payload) });
            return { status: res.status, body: await res.json().catch(() => undefined) };
        }, (s) => s === 401));
    return attacks;
}


export interface SimulateOptions {
    jobs: number;
    pools: number;
    /** Repositories of the organization the jobs are spread over. Default 2. */
    repos?: number;
    /** GKE pools beside the GCE ones (default 0): jobs are spread over all pools. */
    gkePools?: number;
    out: string;
    concurrency?: number;
    attacks?: boolean;
    /** Each job also uploads an OCI image layout, published to a release registry (started here unless `registry`). */
    images?: boolean;
    /** `host:port` of a running registry to publish to (implies images). */
    registry?: string;
    /** Where every service records its metrics (tests: a meter with an in-memory reader). */
    metrics?: ServiceMetrics;
    /** Also write every bundle to a local transparency log (Rekor API v1 or v2), listed in trusted_root.json. */
    tlog?: 1 | 2;
}

export async function simulate(opts: SimulateOptions): Promise<SimSummary> {
    mkdirSync(opts.out, { recursive: true });
    const state = mkdtempSync(path.join(opts.out, ".state-"));
    const images = opts.images === true || opts.registry !== undefined;
    const fleet = await startSimFleet({ pools: opts.pools, gkePools: opts.gkePools ?? 0, dir: state, repos: opts.repos, metrics: opts.metrics, ...(images ? { images: { registry: opts.registry } } : {}), ...(opts.tlog !== undefined ? { tlog: opts.tlog } : {}) });
    try {
        const keysRes = await fetch(`${fleet.signer.url}/v1/keys`);
        const keyring = `${JSON.stringify(await keysRes.json(), null, 2)}\n`;
        writeFileSync(path.join(opts.out, "keys.json"), keyring);
        writeFileSync(path.join(opts.out, "trusted_root.json"), trustedRootJson(fleet.trustedRoot));

        const jobs: JobResult[] = [];
        let next = 0;
        const worker = async () => {
            while (next < opts.jobs) {
                const i = next++;
                const pool = fleet.pools[i % fleet.pools.length];
                jobs.push(await runOneJob(fleet, pool, fleet.repositories[i % fleet.repositories.length], opts.out, keyring));
            }
        };
        await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, opts.jobs)) }, worker));
        jobs.sort((x, y) => x.jobId - y.jobId);
        await Promise.allSettled(fleet.notifications);
        // Webhooks get lost: the reconcile pass must agree that nothing is left running.
        await fleet.webhook.reconcile();
        await fleet.generator.reconcile();
        const workCost = { ...fleet.github.stats, byRoute: { ...fleet.github.stats.byRoute } };
        // One steady-state pass of both services, every job finished: what it costs GitHub and the records.
        const [sentBefore, readsBefore, listsBefore] = [fleet.github.stats.requests, fleet.recordsStore.reads, fleet.recordsStore.lists];
        await fleet.webhook.reconcile();
        await fleet.generator.reconcile();
        const pass = { counted: fleet.github.stats.counted - workCost.counted, sent: fleet.github.stats.requests - sentBefore, reads: fleet.recordsStore.reads - readsBefore, lists: fleet.recordsStore.lists - listsBefore };

        const attacks = opts.attacks === false ? [] : [...await runAttacks(fleet), ...await runPodAttacks(fleet), ...(images ? await runImageAttacks(fleet) : [])];
        const demandPeak: Record<string, number> = {};
        for (const p of fleet.demandPoints) {
            demandPeak[p.pool] = Math.max(demandPeak[p.pool] ?? 0, p.value);
        }
        const times = jobs.map((j) => j.controlPlaneMs);
        const summary: SimSummary = {
            ok: jobs.length === opts.jobs && jobs.every((j) => j.verified && (!images || j.image?.verified === true)) && attacks.every((a) => a.refused),
            jobs,
            envelopes: jobs.filter((j) => j.envelope !== undefined).length,
            verified: jobs.filter((j) => j.verified).length,
            attacks,
            demandPeak,
            vmsDeleted: fleet.mig.deletions.length,
            podsDeleted: [...(fleet.cluster?.runners.values() ?? [])].filter((r) => r.deleted).length,
            controlPlaneMs: { p50: percentile(times, 50), p95: percentile(times, 95) },
            repos: fleet.repositories.length,
            github: {
                requests: workCost.counted,
                notModified: workCost.notModified,
                requestsPerJob: workCost.counted / Math.max(1, jobs.length),
                reconcilePassRequests: pass.counted,
                reconcilePassSent: pass.sent,
                byRoute: workCost.byRoute,
            },
            records: { readsPerPass: pass.reads, listsPerPass: pass.lists },
            ...(images ? { images: jobs.flatMap((j) => (j.image !== undefined ? [j.image] : [])) } : {}),
        };
        writeFileSync(path.join(opts.out, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
        return summary;
    } finally {
        await fleet.close();
        rmSync(state, { recursive: true, force: true });
    }
}

const USAGE = "usage: npm run simulate -- [--jobs N (default 5)] [--repos R (default 2)] [--pools P (default 2)] [--gke-pools G (default 0)] [--concurrency C (default 4)] [--images [--registry <host:port>]] [--tlog [--tlog-api 1|2]] --out <dir>";
const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/** The `simulate` command: prints one line per job and attack; exit 0 ok, 1 not ok, 2 bad input. */
export async function cli(argv: string[]): Promise<number> {
    let values: Record<string, string | boolean | undefined>;
    try {
        values = parseArgs({ args: argv, options: { jobs: { type: "string" }, repos: { type: "string" }, pools: { type: "string" }, "gke-pools": { type: "string" }, concurrency: { type: "string" }, out: { type: "string" }, images: { type: "boolean" }, registry: { type: "string" }, tlog: { type: "boolean" }, "tlog-api": { type: "string" } } }).values;
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n${USAGE}\n`);
        return 2;
    }
    const problems: string[] = [];
    const int = (name: string, dflt: number, max: number, min = 1) => {
        const raw = values[name] as string | undefined;
        const n = raw === undefined ? dflt : Number(raw);
        if (!Number.isInteger(n) || n < min || n > max) {
            problems.push(`--${name} ${JSON.stringify(raw)} must be an integer between ${min} and ${max}`);
        }
        return n;
    };
    const jobs = int("jobs", 5, 1000);
    const repos = int("repos", 2, 100_000);
    const pools = int("pools", 2, 50);
    const gkePools = int("gke-pools", 0, 26, 0);
    const concurrency = int("concurrency", 4, 64);
    if (values.out === undefined || values.out === "") {
        problems.push("--out is required: the directory for summary.json, keys.json and the per-job artifacts and envelopes");
    }
    const registry = values.registry as string | undefined;
    if (registry !== undefined && !HOST_PORT.test(registry)) {
        problems.push(`--registry ${JSON.stringify(registry)} must be host:port of a running registry (e.g. 127.0.0.1:5000), or left out to start one`);
    }
    if (registry !== undefined && values.images !== true) {
        problems.push("--registry needs --images: it names where the jobs' images are published");
    }
    const tlogApi = values["tlog-api"] as string | undefined;
    if (tlogApi !== undefined && (values.tlog !== true || (tlogApi !== "1" && tlogApi !== "2"))) {
        problems.push(`--tlog-api ${JSON.stringify(tlogApi)} must be 1 (Rekor v1) or 2 (Rekor v2, rekor-tiles), with --tlog`);
    }
    if (problems.length > 0) {
        process.stderr.write(`error: ${problems.join("; ")}\n${USAGE}\n`);
        return 2;
    }
    const out = values.out as string;
    // The services' own log lines (Cloud Logging JSON) go to a file beside summary.json, not over the report.
    mkdirSync(out, { recursive: true });
    const serviceLog = path.join(out, "services.log");
    writeFileSync(serviceLog, "");
    setLogSink((line) => appendFileSync(serviceLog, `${line}\n`));
    const summary = await simulate({ jobs, repos, pools, gkePools, concurrency, out, images: values.images === true, ...(registry !== undefined ? { registry } : {}), ...(values.tlog === true ? { tlog: tlogApi === "2" ? 2 : 1 } : {}) });
    for (const j of summary.jobs) {
        console.log(`${j.verified ? "ok  " : "FAIL"} job ${j.jobId} (${j.pool} ${j.backend}, ${j.repository}) on ${j.runnerName}: ${j.envelope ?? "no envelope"}${j.problem ? ` (${j.problem})` : ""}`);
    }
    for (const a of summary.attacks) {
        console.log(`${a.refused ? "refused " : "ALLOWED "} ${a.name}: HTTP ${a.status}${a.code ? ` ${a.code}` : ""}: ${a.description}${a.message ? `; answer: ${a.message}` : ""}`);
    }
    console.log(`${summary.verified}/${summary.jobs.length} envelopes verified; ${summary.attacks.filter((a) => a.refused).length}/${summary.attacks.length} attacks refused; ${summary.vmsDeleted} VMs and ${summary.podsDeleted} runner pods deleted after their job; control-plane time per job p50 ${summary.controlPlaneMs.p50.toFixed(1)} ms, p95 ${summary.controlPlaneMs.p95.toFixed(1)} ms`);
    const g = summary.github;
    console.log(`GitHub: ${g.requests} requests for ${summary.jobs.length} jobs over ${summary.repos} repositories (${g.requestsPerJob.toFixed(2)} per job, ${g.notModified} free 304s); ` +
        `one steady-state reconcile pass: ${g.reconcilePassRequests} counted requests (${g.reconcilePassSent} sent), ${summary.records.readsPerPass} records read in ${summary.records.listsPerPass} listings`);
    for (const i of summary.images ?? []) {
        console.log(`${i.verified ? "ok  " : "FAIL"} image ${i.repository}@${i.digest}: attestation ${i.attestation.tag}${i.problem ? ` (${i.problem})` : ""}`);
    }
    console.log(`summary: ${path.join(out, "summary.json")}; service logs: ${serviceLog}`);
    return summary.ok ? 0 : 1;
}
