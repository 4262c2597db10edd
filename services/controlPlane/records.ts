/**
 * The control plane's own records, written create-only to one records bucket (an `ObjectStore`):
 * what it observed itself, never what a runner said. The generator joins them:
 *
 *   registrations/<instanceId>.json      broker: the VM's one registration (its claim; created before
 *                                        GitHub is asked, so a second request loses the race); a runner
 *                                        pod's is keyed by its UID (`registrations/<podUid>.json`)
 *   runners/<runnerName>.json            broker: the JIT runner GitHub registered for that VM
 *   deliveries/<deliveryId>.json         webhook: a delivery id seen once (replay protection)
 *   jobs/<jobId>/<status>.json           webhook: the job's facts at each status, one object per event
 *   runs/<runId>/<attempt>.json          webhook: the workflow run as its workflow_run event showed it
 *   runner-jobs/<runnerName>.json        webhook: the one job the runner picked up (create-only)
 *   runner-conflicts/<runnerName>.json   webhook: the runner was seen with a second job (never signed)
 *   scale-in/<instanceId>.json           webhook: the VM was deleted after its job (idempotent)
 *   generated/<sha256 of bucket/object>.json   generator: the object was signed (idempotent)
 *   budget/<jobId>/<slot>.json           generator: one of the job's signing slots, taken by one object
 *   refused/<sha256 of bucket/object>.json     generator: the object was refused for good (first reason)
 *
 * Names of per-object records are hashes: an object name may be 1,024 characters, and a record name
 * built from it would exceed the store's own limit (a poison message answered 500 on every redelivery).
 *
 * Pending markers index the work still to do, so that a pass reads only that, whatever the history
 * (they are the only records ever deleted, and deleting one loses no fact):
 *
 *   pending/jobs/<pool>/<jobId>.json     webhook: a queued or running job; deleted once its completion
 *                                        is recorded. The pool's demand is the number of its markers.
 *   pending/vms/<instanceId>.json        a registered VM not yet scaled in; deleted at scale-in
 *   pending/objects/<sha256>.json        generator: an object deferred until its job completes;
 *                                        deleted once signed or refused for good
 */
import { createHash } from "crypto";
import type { ObjectStore } from "../lib/objectStore";
import type { GithubRun } from "./github";

import type { PublishedImage } from "./generator/image/publish";
import type { Attestation } from "../lib/oci/cosignAttestations";

export interface RegistrationRecord {
    pool: string;
    project: string;
    zone: string;
    instanceId: string;
    instanceName: string;
    instanceCreationTimestamp: number;
    serviceAccount: string;
    /** The JIT runner's name, fixed before GitHub is asked (`<pool>-<instanceId>`). */
    runnerName: string;
    /** The only intake location this VM's job may write: `<pool>/<instanceId>/`. */
    uploadPrefix: string;
    intakeBucket: string;
    /** The pool's configured image reference (may name a family). */
    image: string;
    /** The boot image as the control plane observed it on the instance: self link and numeric id. */
    bootImage: BootImage;
    registeredAt: string;
    /** `gke` for a runner pod (then `instanceId` is the pod's UID and `pod` says which pod); absent or `gce` for a VM. */
    backend?: "gce" | "gke";
    pod?: PodRef;
}

/** A runner pod as the broker confirmed it through the Kubernetes API. */
export interface PodRef {
    /** The cluster's token issuer (names the cluster). */
    cluster: string;
    namespace: string;
    name: string;
    uid: string;
    serviceAccount: string;
    /** The ARC EphemeralRunner that owns the pod (its name is the GitHub runner's name). */
    ephemeralRunner: string;
}

/** A runner's boot image by immutable identity: a self link plus its numeric id, or a digest. */
export interface BootImage {
    uri: string;
    id?: string;
    digest?: { sha256: string };
}

export interface RunnerRecord {
    runnerName: string;
    runnerId: number;
    instanceId: string;
    pool: string;
    createdAt: string;
}

/** Facts of one `workflow_job` event, as GitHub sent them (HMAC-verified) or as its API listed them. */
export interface JobFacts {
    jobId: number;
    runId: number;
    runAttempt: number;
    /** owner/name */
    repository: string;
    headSha: string;
    headBranch: string | null;
    workflowName: string | null;
    /** `.github/workflows/x.yml`, from the workflow run (GET /repos/{repo}/actions/runs/{run}). */
    workflowPath: string | null;
    /**
     * The fully qualified ref the run was for (`refs/heads/<b>`, `refs/tags/<t>`, `refs/pull/<n>/merge`),
     * resolved from the workflow run (webhook/sourceRef.ts); null when it could not be told.
     */
    ref: string | null;
    /** Why `ref` is null. */
    refUnresolved?: string | null;
    /** The event that triggered the run (`push`, `pull_request`, ...), from the workflow run. */
    event?: string | null;
    /** Numeric ids of the repository and its owner (stable across renames), from the workflow run. */
    repositoryId?: number | null;
    repositoryOwnerId?: number | null;
    runnerName: string | null;
    /** The runner's id and group as GitHub reported them with the job. */
    runnerId?: number | null;
    runnerGroupId?: number | null;
    labels: string[];
    status: string;
    conclusion: string | null;
    startedAt: string | null;
    completedAt: string | null;
    pool: string;
    deliveryId: string;
    receivedAt: string;
}

export interface RunnerJobLink {
    runnerName: string;
    jobId: number;
    repository: string;
}

export interface GeneratedRecord {
    pool: string;
    instanceId: string;
    object: string;
    sha256: string;
    jobId: number;
    invocationId: string;
    /** The DSSE envelope the signer returned. */
    envelope: unknown;
    /** For an image upload: the published image and where its attestations are attached. */
    image?: PublishedImage;
    /** Where the signer stored it in the provenance bucket. */
    envelopeObject: string;
    /** The Sigstore bundle (the envelope with its timestamp); absent in records older than bundles. */
    bundle?: unknown;
    generatedAt: string;
}

export interface RefusedRecord {
    bucket: string;
    object: string;
    code: string;
    message: string;
    jobId?: number;
    refusedAt: string;
}

/** The record name of one intake object: a fixed-length hash, whatever the object's name. */
export function objectKey(bucket: string, object: string): string {
    return createHash("sha256").update(`${bucket}/${object}`, "utf8").digest("hex");
}

/** A job that still needs a runner or is running on one (its pending marker). */
export interface PendingJob {
    jobId: number;
    pool: string;
    repository: string;
    status: string;
    since: string;
}

export interface DeferredObject {
    bucket: string;
    object: string;
    since: string;
}

const NUM = /^\d{1,20}$/;
/** Pool names as they appear in record names (pools.ts accepts no other). */
const POOL = /^[a-z][a-z0-9-]{0,62}$/;

/** Instance ids are decimal numbers (GCE): the only form accepted in any record name. */
export function isInstanceId(value: unknown): value is string {
    return typeof value === "string" && NUM.test(value);
}

/** A Kubernetes object UID as the API server issues it: a lower-case RFC 4122 UUID. */
export function isPodUid(value: unknown): value is string {
    return typeof value === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value);
}

/** The id of a registered worker, VM (decimal instance id) or pod (UID): the second segment of its upload location. */
export function isWorkerId(value: unknown): value is string {
    return isInstanceId(value) || isPodUid(value);
}

/**
 * Whether a runner name can name a record. Fleet runners are `<pool>-<instanceId>`; a GitHub-hosted
 * runner ("GitHub Actions 3") or any other name the store cannot hold is simply not a fleet runner, and
 * looking it up must answer "none" rather than throw (one hosted job would stop every reconcile pass).
 */
export function isRecordableRunnerName(name: unknown): name is string {
    return typeof name === "string" && /^[A-Za-z0-9._-]{1,100}$/.test(name);
}

export function runnerNameFor(pool: string, instanceId: string): string {
    return `${pool}-${instanceId}`;
}

export function uploadPrefixFor(pool: string, instanceId: string): string {
    return `${pool}/${instanceId}/`;
}

export class Records {
    constructor(readonly store: ObjectStore) {}

    private async put(name: string, value: unknown): Promise<boolean> {
        const { created } = await this.store.create(name, Buffer.from(`${JSON.stringify(value, null, 1)}\n`), "application/json");
        return created;
    }

    /** Readiness: one read of the records bucket (an object that never exists). */
    async reachable(): Promise<void> {
        await this.store.read("health/readiness-probe.json");
    }

    private async get<T>(name: string): Promise<T | undefined> {
        const bytes = await this.store.read(name);
        return bytes === undefined ? undefined : (JSON.parse(bytes.toString("utf8")) as T);
    }

    /** The VM's claim: true when this call created it, false when the VM had registered before. */
    async claimRegistration(r: RegistrationRecord): Promise<boolean> {
        const created = await this.put(`registrations/${r.instanceId}.json`, r);
        if (created) {
            await this.put(`pending/vms/${r.instanceId}.json`, { instanceId: r.instanceId, pool: r.pool });
        }
        return created;
    }
    /** Registrations of the VMs not yet scaled in: what the scale-in sweep reads. */
    async activeRegistrations(): Promise<RegistrationRecord[]> {
        const ids = (await this.store.list("pending/vms/")).map((n) => n.slice("pending/vms/".length, -".json".length));
        return (await Promise.all(ids.map((id) => this.registration(id)))).filter((r): r is RegistrationRecord => r !== undefined);
    }
    registration(instanceId: string): Promise<RegistrationRecord | undefined> {
        return isWorkerId(instanceId) ? this.get(`registrations/${instanceId}.json`) : Promise.resolve(undefined);
    }

    putRunner(r: RunnerRecord): Promise<boolean> {
        return this.put(`runners/${r.runnerName}.json`, r);
    }
    runner(runnerName: string): Promise<RunnerRecord | undefined> {
        return isRecordableRunnerName(runnerName) ? this.get(`runners/${runnerName}.json`) : Promise.resolve(undefined);
    }

    /** A workflow run's facts from its HMAC-verified workflow_run event (first one per attempt wins). */
    putRun(run: GithubRun & { repository: { full_name: string } }): Promise<boolean> {
        return this.put(`runs/${run.id}/${run.run_attempt}.json`, run);
    }
    /** The recorded run, only when it belongs to `repository`. */
    async run(repository: string, runId: number, attempt: number): Promise<GithubRun | undefined> {
        if (!Number.isSafeInteger(runId) || !Number.isSafeInteger(attempt)) {
            return undefined;
        }
        const run = await this.get<GithubRun>(`runs/${runId}/${attempt}.json`);
        return run?.repository?.full_name === repository ? run : undefined;
    }

    /** Whether a delivery id was already processed (read-only; the claim below is what decides). */
    async deliverySeen(deliveryId: string): Promise<boolean> {
        return (await this.store.read(`deliveries/${deliveryId}.json`)) !== undefined;
    }
    /** True the first time a delivery id is seen. */
    claimDelivery(deliveryId: string, event: string, receivedAt: string): Promise<boolean> {
        return this.put(`deliveries/${deliveryId}.json`, { deliveryId, event, receivedAt });
    }

    /** Stores the job's facts at one status; false when that status was already recorded. */
    putJobFacts(f: JobFacts): Promise<boolean> {
        return this.put(`jobs/${f.jobId}/${f.status}.json`, f);
    }
    jobFacts(jobId: number, status: string): Promise<JobFacts | undefined> {
        return this.get(`jobs/${jobId}/${status}.json`);
    }

    /**
     * Links the runner to its job. An ephemeral JIT runner runs one job: the first link wins, and a
     * link to a different job marks the runner as conflicting (its uploads are never signed).
     */
    async linkRunnerJob(l: RunnerJobLink): Promise<"linked" | "same" | "conflict"> {
        if (await this.put(`runner-jobs/${l.runnerName}.json`, l)) {
            return "linked";
        }
        const first = await this.get<RunnerJobLink>(`runner-jobs/${l.runnerName}.json`);
        if (first?.jobId === l.jobId) {
            return "same";
        }
        await this.put(`runner-conflicts/${l.runnerName}.json`, { first, second: l });
        return "conflict";
    }
    runnerJob(runnerName: string): Promise<RunnerJobLink | undefined> {
        return isRecordableRunnerName(runnerName) ? this.get(`runner-jobs/${runnerName}.json`) : Promise.resolve(undefined);
    }
    /** Ids of the jobs a runner picked up: none, its one job, or two when it was seen with a second. */
    async jobsOfRunner(runnerName: string): Promise<number[]> {
        const link = await this.runnerJob(runnerName);
        if (link === undefined) {
            return [];
        }
        const conflict = await this.get<{ second: RunnerJobLink }>(`runner-conflicts/${runnerName}.json`);
        return conflict === undefined ? [link.jobId] : [link.jobId, conflict.second.jobId];
    }

    async recordScaleIn(instanceId: string, value: Record<string, unknown>): Promise<boolean> {
        const created = await this.put(`scale-in/${instanceId}.json`, value);
        await this.store.delete(`pending/vms/${instanceId}.json`);
        return created;
    }
    /** Drops the pending marker of a VM already scaled in (a crash between the two writes). */
    clearActiveVm(instanceId: string): Promise<void> {
        return isWorkerId(instanceId) ? this.store.delete(`pending/vms/${instanceId}.json`) : Promise.resolve();
    }

    private pendingJobName(pool: string, jobId: number): string {
        if (!POOL.test(pool) || !Number.isSafeInteger(jobId)) {
            throw new Error(`pending job: pool ${JSON.stringify(pool)} or job id ${jobId} cannot name a record`);
        }
        return `pending/jobs/${pool}/${jobId}.json`;
    }
    /** Marks a job as needing or holding a runner; false when it was already marked. */
    markJobPending(p: PendingJob): Promise<boolean> {
        return this.put(this.pendingJobName(p.pool, p.jobId), p);
    }
    clearJobPending(pool: string, jobId: number): Promise<void> {
        return this.store.delete(this.pendingJobName(pool, jobId));
    }
    /** The number of queued and running jobs of a pool: its demand, the same on every instance. */
    async pendingJobCount(pool: string): Promise<number> {
        return (await this.store.list(`pending/jobs/${pool}/`)).length;
    }
    async pendingJobs(): Promise<PendingJob[]> {
        const names = await this.store.list("pending/jobs/");
        return (await Promise.all(names.map((n) => this.get<PendingJob>(n)))).filter((p): p is PendingJob => p !== undefined);
    }

    private deferredName(bucket: string, object: string): string {
        return `pending/objects/${objectKey(bucket, object)}.json`;
    }
    /** Remembers an object the generator deferred (its job had not completed): the reconcile pass retries it. */
    async deferObject(bucket: string, object: string, since: string): Promise<void> {
        await this.put(this.deferredName(bucket, object), { bucket, object, since });
    }
    clearDeferred(bucket: string, object: string): Promise<void> {
        return this.store.delete(this.deferredName(bucket, object));
    }
    async deferredObjects(): Promise<DeferredObject[]> {
        const names = await this.store.list("pending/objects/");
        return (await Promise.all(names.map((n) => this.get<DeferredObject>(n)))).filter((d): d is DeferredObject => d !== undefined);
    }
    scaleInRecord(instanceId: string): Promise<{ at?: string } | undefined> {
        return isWorkerId(instanceId) ? this.get(`scale-in/${instanceId}.json`) : Promise.resolve(undefined);
    }
    async scaledIn(instanceId: string): Promise<boolean> {
        return (await this.store.read(`scale-in/${instanceId}.json`)) !== undefined;
    }

    putGenerated(bucket: string, r: GeneratedRecord): Promise<boolean> {
        return this.put(`generated/${objectKey(bucket, r.object)}.json`, r);
    }
    generated(bucket: string, object: string): Promise<GeneratedRecord | undefined> {
        return this.get(`generated/${objectKey(bucket, object)}.json`);
    }

    /** Records a final refusal once (the first reason stays). */
    putRefused(r: RefusedRecord): Promise<boolean> {
        return this.put(`refused/${objectKey(r.bucket, r.object)}.json`, r);
    }
    refused(bucket: string, object: string): Promise<RefusedRecord | undefined> {
        return this.get(`refused/${objectKey(bucket, object)}.json`);
    }

    /**
     * Takes one of the job's `limit` signing slots for this object, create-only, so concurrent
     * notifications can never take more than `limit`: true when the object holds a slot (now or
     * before), false when every slot is held by other objects.
     */
    async takeBudgetSlot(jobId: number, key: string, limit: number): Promise<boolean> {
        const prefix = `budget/${jobId}/`;
        for (let attempt = 0; attempt <= limit; attempt++) {
            const names = await this.store.list(prefix);
            const held = await Promise.all(names.map((n) => this.get<{ key: string }>(n)));
            if (held.some((h) => h?.key === key)) {
                return true;
            }
            const taken = new Set(names.map((n) => n.slice(prefix.length)));
            const free = Array.from({ length: limit }, (_, i) => `${i}.json`).find((n) => !taken.has(n));
            if (free === undefined) {
                return false;
            }
            if (await this.put(`${prefix}${free}`, { key })) {
                return true;
            }
            // Another object took that slot first: look again.
        }
        return false;
    }

    private attestationPrefix(repository: string, imageDigest: string): string {
        if (!/^sha256:[a-f0-9]{64}$/.test(imageDigest)) {
            throw new Error(`attestation ledger: ${JSON.stringify(imageDigest)} is not a sha256 digest`);
        }
        return `attestations/${createHash("sha256").update(repository, "utf8").digest("hex")}/${imageDigest.slice(7)}/`;
    }
    /**
     * Records, create-only, attestations to attach to `repository@imageDigest` under `key` (one job's
     * object): the ledger every attaching writer reads, so whichever writes the `.att` image last
     * writes every attestation any job recorded before it.
     */
    async recordAttestations(repository: string, imageDigest: string, key: string, attestations: Attestation[]): Promise<void> {
        await this.put(`${this.attestationPrefix(repository, imageDigest)}${key}.json`, { attestations });
    }
    /** Every attestation recorded for `repository@imageDigest`, in the order of their record names. */
    async recordedAttestations(repository: string, imageDigest: string): Promise<{ keys: string[]; attestations: Attestation[] }> {
        const prefix = this.attestationPrefix(repository, imageDigest);
        const names = await this.store.list(prefix);
        const records = await Promise.all(names.map((n) => this.get<{ attestations: Attestation[] }>(n)));
        return { keys: names.map((n) => n.slice(prefix.length)), attestations: records.flatMap((r) => r?.attestations ?? []) };
    }
}
