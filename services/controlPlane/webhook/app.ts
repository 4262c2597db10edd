/**
 * The `workflow_job` webhook receiver: demand per pool, the job facts the generator signs from, and
 * scale-in after a job completed.
 *
 * POST /v1/github/webhook
 * - X-Hub-Signature-256 is an HMAC-SHA256 of the raw body with the webhook secret, compared with
 *   crypto.timingSafeEqual before anything is parsed or stored; a forged or unsigned delivery is 401.
 * - X-GitHub-Delivery is claimed create-only after the signature verified and after the delivery's
 *   effects (all create-only or idempotent) were written: a replayed delivery is 409, and a crash before
 *   the claim loses nothing (the redelivery writes the facts).
 * - GitHub does not sign the delivery id, so the same signed body can come back under a new one: an
 *   event for a job whose completion is recorded, or a `queued` event older than GitHub keeps a job
 *   queued, is refused (409 stale-event) and changes nothing.
 * - Demand is derived from durable records only: a pool's demand is the number of its pending-job
 *   markers (records.ts), so every instance, and every instance after a restart, publishes the same.
 * - The job's `runs-on` labels map to a pool by the runs-on rule (runsOn.ts): only a job that names a
 *   pool counts as its demand. Other jobs are ignored (202) and logged with the runs-on to write,
 *   unless GitHub gave one to a fleet runner anyway (its labels fit): then its facts are recorded
 *   under the runner's pool, without demand, so the runner is linked, scaled in after the job, and the
 *   generator refuses its uploads with a record instead of waiting for facts that never come.
 * - Facts are stored create-only per job and status; a completed job's facts add the workflow path
 *   and ref from the workflow run (GitHub API), which the webhook itself does not carry.
 * - A runner name is linked to the job only when the broker registered that runner in that pool.
 *
 * The reconcile pass costs O(pending work), whatever the number of repositories or the history: failed
 * deliveries since the last pass are redelivered (redeliver.ts), each pending job is checked with a
 * conditional GET (a 304 when unchanged is free), and the scale-in sweep reads only the VMs not yet
 * scaled in, against one organization-level runner listing.
 *
 * Scale-in never kills a busy runner: the pools' autoscalers only scale out; this service deletes a
 * VM only after its runner's job completed, or when GitHub no longer lists the runner at all (an
 * ephemeral runner is removed after its one job). A runner GitHub lists as busy is never touched.
 */
import type { FastifyInstance } from "fastify";
import type { WorkflowJob } from "@octokit/webhooks-types";
import { importEsm } from "../../lib/esm";
import type { DemandPublisher, MigScaler } from "../cloud";
import type { RunnerPodApi } from "../kubernetes";
import type { GithubClient, GithubJob, GithubRun } from "../github";
import { AuditLog, Clock, countedAudit, githubReadiness, HttpError, recordGithubBudget, serviceApp, stderrAudit, systemClock } from "../http";
import { ServiceMetrics } from "../../lib/ops/metrics";
import { PoolSpec, poolForLabels } from "../pools";
import { JobFacts, PendingJob, Records, RegistrationRecord, RunnerRecord } from "../records";
import { placeJob, placementAdvice } from "../runsOn";
import { MAX_JSON_DEPTH, tooDeep } from "../../lib/jsonDepth";
import { Redeliverer } from "./redeliver";
import { ResolvedRef, resolveRunRef } from "./sourceRef";

export const WEBHOOK_PATH = "/v1/github/webhook";
const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;
/** GitHub's job statuses (queued, in_progress, completed, waiting, requested, pending, ...). */
const STATUS = /^[a-z_]{1,32}$/;
/** Statuses that need (or hold) a runner: they count as demand. */
const PENDING = new Set(["queued", "in_progress"]);
/** GitHub cancels a job queued for 24 hours; a `queued` event older than that (plus slack) is a replay. */
const MAX_QUEUED_MS = 25 * 3600_000;

export interface WebhookDeps {
    pools: PoolSpec[];
    /** The webhook secret (from Secret Manager); never logged. */
    secret: string;
    records: Records;
    github: GithubClient;
    demandPublisher: DemandPublisher;
    scaler: MigScaler;
    /** GKE pools: scale-in deletes the pod's EphemeralRunner (ARC removes the pod and never reuses it). */
    pods?: Pick<RunnerPodApi, "deleteEphemeralRunner">;
    audit?: AuditLog;
    clock?: Clock;
    /** Default: the global meter's instruments. */
    metrics?: ServiceMetrics;
}

export interface ReconcileResult {
    demand: Record<string, number>;
    scaledIn: string[];
    /** Failed deliveries GitHub was asked to send again. */
    redelivered: number;
}

export interface WebhookService {
    app: FastifyInstance;
    /** Demand per pool, from the records (the same on every instance). */
    demand(): Promise<Record<string, number>>;
    /** Recovers lost deliveries and facts, publishes demand, and deletes VMs whose runner is done. */
    reconcile(): Promise<ReconcileResult>;
}

type WebhooksMethods = { verify(secret: string, payload: string, signature: string): Promise<boolean> };
let webhooksMethods: Promise<WebhooksMethods> | undefined;

/**
 * True when `header` is `sha256=<hex>` and equals the HMAC of `body` (@octokit/webhooks-methods,
 * constant-time compare). The library signs a string: a body that is not exactly UTF-8 is refused.
 */
export async function verifySignature(secret: string, body: Buffer, header: unknown): Promise<boolean> {
    if (typeof header !== "string" || !/^sha256=[0-9a-f]{64}$/.test(header) || body.length === 0) {
        return false;
    }
    const text = body.toString("utf8");
    if (!Buffer.from(text, "utf8").equals(body)) {
        return false;
    }
    webhooksMethods ??= importEsm<WebhooksMethods>("@octokit/webhooks-methods");
    return (await webhooksMethods).verify(secret, text, header);
}

function str(v: unknown): v is string {
    return typeof v === "string" && v.length > 0;
}
function id(v: unknown): v is number {
    return Number.isSafeInteger(v) && (v as number) > 0;
}
function optStr(v: unknown): string | null {
    return typeof v === "string" ? v : null;
}

/** The fields we use from a workflow_job payload, validated; throws a 400 naming the first bad field. */
function parseJob(payload: any): { action: string; repository: string; job: WorkflowJob } {
    const bad = (field: string, fix: string) => new HttpError(400, "bad-payload", `${field}: ${fix}`);
    if (payload === null || typeof payload !== "object") {
        throw bad("body", "must be a workflow_job event object");
    }
    if (!str(payload.action)) {
        throw bad("action", "missing");
    }
    const job = payload.workflow_job;
    if (job === null || typeof job !== "object") {
        throw bad("workflow_job", "missing");
    }
    if (!str(payload.repository?.full_name) || !/^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/.test(payload.repository.full_name)) {
        throw bad("repository.full_name", "must be owner/name");
    }
    if (!id(job.id) || !id(job.run_id)) {
        throw bad("workflow_job.id/run_id", "must be positive integers");
    }
    if (!str(job.status) || !STATUS.test(job.status)) {
        throw bad("workflow_job.status", `${JSON.stringify(job.status)} is not a job status (lower-case letters and _)`);
    }
    if (!str(job.head_sha) || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(job.head_sha)) {
        throw bad("workflow_job.head_sha", "must be a 40 (or 64) hex digit commit id");
    }
    if (!Array.isArray(job.labels) || !job.labels.every(str)) {
        throw bad("workflow_job.labels", "must be an array of strings");
    }
    // Any runner's name: GitHub-hosted runners have spaces in theirs ("GitHub Actions 3"). Only names a
    // record can hold are ever looked up (isRecordableRunnerName); the others are not fleet runners.
    // eslint-disable-next-line no-control-regex
    if (job.runner_name !== null && job.runner_name !== undefined && !(str(job.runner_name) && /^[^\u0000-\u001f\u007f]{1,255}$/.test(job.runner_name))) {
        throw bad("workflow_job.runner_name", "must be null or a runner name");
    }
    for (const field of ["runner_id", "runner_group_id"]) {
        if (job[field] !== null && job[field] !== undefined && !id(job[field])) {
            throw bad(`workflow_job.${field}`, "must be null or a positive integer");
        }
    }
    return { action: payload.action, repository: payload.repository.full_name, job };
}

/** The fields we keep from a workflow_run payload, validated; throws a 400 naming the first bad field. */
function parseRun(payload: any): GithubRun & { repository: { id: number; full_name: string; owner: { id: number } } } {
    const bad = (field: string, fix: string) => new HttpError(400, "bad-payload", `${field}: ${fix}`);
    const run = payload?.workflow_run;
    if (run === null || typeof run !== "object") {
        throw bad("workflow_run", "missing");
    }
    if (!id(run.id) || !id(run.run_attempt)) {
        throw bad("workflow_run.id/run_attempt", "must be positive integers");
    }
    const repo = payload.repository;
    if (!str(repo?.full_name) || !/^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/.test(repo.full_name) || !id(repo.id) || !id(repo.owner?.id)) {
        throw bad("repository", "must carry full_name (owner/name), id and owner.id");
    }
    for (const field of ["path", "event", "head_sha"]) {
        if (!str(run[field])) {
            throw bad(`workflow_run.${field}`, "must be a non-empty string");
        }
    }
    if (run.head_branch !== null && typeof run.head_branch !== "string") {
        throw bad("workflow_run.head_branch", "must be null or a string");
    }
    const prs = Array.isArray(run.pull_requests) ? run.pull_requests : [];
    if (!prs.every((pr: any) => id(pr?.number) && (pr.base?.ref === undefined || typeof pr.base.ref === "string"))) {
        throw bad("workflow_run.pull_requests", "must be pull requests with a number and a base ref");
    }
    return {
        id: run.id, run_attempt: run.run_attempt, path: run.path, event: run.event, head_branch: run.head_branch, head_sha: run.head_sha,
        pull_requests: prs.map((pr: any) => ({ number: pr.number, ...(typeof pr.base?.ref === "string" ? { base: { ref: pr.base.ref } } : {}) })),
        repository: { id: repo.id, full_name: repo.full_name, owner: { id: repo.owner.id } },
    };
}

/** What the control plane learns from the workflow run (GitHub API) when a job completes. */
export interface RunFacts {
    path: string | null;
    event: string | null;
    ref: ResolvedRef;
    repositoryId: number | null;
    repositoryOwnerId: number | null;
}

/**
 * The job's workflow run (as its `workflow_run` webhook recorded it, else from the API) with its fully
 * qualified ref resolved.
 */
export async function runFacts(github: Pick<GithubClient, "getRun" | "getRef">, repository: string, runId: number, known?: GithubRun): Promise<RunFacts> {
    const run = known ?? (await github.getRun(repository, runId));
    return {
        path: str(run.path) ? run.path : null,
        event: str(run.event) ? run.event : null,
        ref: await resolveRunRef(github, repository, run),
        repositoryId: id(run.repository?.id) ? run.repository!.id! : null,
        repositoryOwnerId: id(run.repository?.owner?.id) ? run.repository!.owner!.id! : null,
    };
}

/** The facts of a job as GitHub reported it (webhook payload or jobs API), plus what its run says. */
function jobFacts(job: WorkflowJob | GithubJob, repository: string, pool: string, run: RunFacts | undefined, deliveryId: string, receivedAt: string): JobFacts {
    return {
        jobId: job.id,
        runId: job.run_id,
        runAttempt: id(job.run_attempt) ? job.run_attempt : 1,
        repository,
        headSha: job.head_sha,
        headBranch: optStr(job.head_branch),
        workflowName: optStr(job.workflow_name),
        workflowPath: run?.path ?? null,
        ref: run?.ref.ref ?? null,
        refUnresolved: run === undefined ? null : run.ref.unresolved ?? null,
        event: run?.event ?? null,
        repositoryId: run?.repositoryId ?? null,
        repositoryOwnerId: run?.repositoryOwnerId ?? null,
        runnerName: optStr(job.runner_name),
        runnerId: id(job.runner_id) ? job.runner_id : null,
        runnerGroupId: id(job.runner_group_id) ? job.runner_group_id : null,
        labels: job.labels,
        status: job.status,
        conclusion: optStr(job.conclusion),
        startedAt: optStr(job.started_at),
        completedAt: optStr(job.completed_at),
        pool,
        deliveryId,
        receivedAt,
    };
}

/**
 * The job ran on the runner the broker registered for this pool: same name, same runner id, and the
 * pool's runner group. A name alone is not enough: names show in job logs, and a repository-level
 * runner can carry the same name.
 */
export function isFleetRunner(runner: RunnerRecord | undefined, facts: Pick<JobFacts, "runnerId" | "runnerGroupId">, pool: PoolSpec): runner is RunnerRecord {
    return runner !== undefined && runner.pool === pool.name && facts.runnerId === runner.runnerId && facts.runnerGroupId === pool.runnerGroupId;
}

/** Shortest webhook secret accepted: an empty or short secret makes every HMAC forgeable or guessable. */
export const MIN_WEBHOOK_SECRET_BYTES = 16;

export function buildWebhookService(deps: WebhookDeps): WebhookService {
    if (typeof deps.secret !== "string" || Buffer.byteLength(deps.secret) < MIN_WEBHOOK_SECRET_BYTES) {
        throw new Error(`the webhook secret has ${typeof deps.secret === "string" ? Buffer.byteLength(deps.secret) : 0} bytes; ` +
            `it must have at least ${MIN_WEBHOOK_SECRET_BYTES} (an empty secret lets anyone sign deliveries): set a random secret in Secret Manager and in the GitHub webhook`);
    }
    const metrics = deps.metrics ?? new ServiceMetrics();
    const audit = countedAudit(deps.audit ?? stderrAudit, metrics);
    const clock = deps.clock ?? systemClock;
    const poolsByName = new Map(deps.pools.map((p) => [p.name, p]));
    const redeliverer = new Redeliverer(deps.github, { now: () => clock().getTime() });
    const app = serviceApp({
        bodyLimit: 1024 * 1024,
        service: "webhook",
        metrics,
        readiness: { storage: () => deps.records.reachable(), ...githubReadiness(deps.github) },
    });
    app.addHook("onResponse", async () => recordGithubBudget(deps.github, metrics, "webhook"));

    // The HMAC is over the exact bytes GitHub sent: keep the raw body, parse only after verifying.
    app.removeContentTypeParser("application/json");
    app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

    const demand = async (): Promise<Record<string, number>> =>
        Object.fromEntries(await Promise.all(deps.pools.map(async (p) => [p.name, await deps.records.pendingJobCount(p.name)] as const)));

    const publish = async (pools: string[]): Promise<void> => {
        const at = clock();
        try {
            const points = await Promise.all(pools.map(async (pool) => ({ pool, value: await deps.records.pendingJobCount(pool), at })));
            await deps.demandPublisher.publish(points);
        } catch (err) {
            audit({ service: "webhook", event: "demand-publish", outcome: "refused", reason: (err as Error).message });
        }
    };

    /** Records a job's completion (create-only) and drops its pending marker; true when its demand changed. */
    const complete = async (facts: JobFacts): Promise<void> => {
        // Counted once per job: the facts are create-only, so a replay or a second instance adds nothing.
        if (await deps.records.putJobFacts(facts)) {
            metrics.count("jobsCompleted", { pool: facts.pool });
        }
        await deps.records.clearJobPending(facts.pool, facts.jobId);
    };

    const scaleIn = async (reg: RegistrationRecord, why: string): Promise<boolean> => {
        if (await deps.records.scaledIn(reg.instanceId)) {
            await deps.records.clearActiveVm(reg.instanceId);
            return false;
        }
        const pool = poolsByName.get(reg.pool);
        if (pool === undefined) {
            return false;
        }
        try {
            if (reg.pod !== undefined) {
                if (deps.pods === undefined) {
                    throw new Error("this receiver has no cluster access configured for GKE pools");
                }
                await deps.pods.deleteEphemeralRunner(pool, reg.pod.ephemeralRunner);
            } else {
                await deps.scaler.deleteInstance(pool, { project: reg.project, zone: reg.zone, instanceName: reg.instanceName, instanceId: reg.instanceId });
            }
        } catch (err) {
            // Not recorded: the reconcile sweep tries again. The webhook itself still succeeds.
            audit({ service: "webhook", event: "scale-in", outcome: "refused", reason: "delete-failed", pool: reg.pool, instanceId: reg.instanceId, error: (err as Error).message });
            return false;
        }
        await deps.records.recordScaleIn(reg.instanceId, { instanceId: reg.instanceId, pool: reg.pool, why, at: clock().toISOString() });
        audit({ service: "webhook", event: "scale-in", outcome: "done", pool: reg.pool, instanceId: reg.instanceId, reason: why });
        return true;
    };

    /** The pool of the fleet runner (by the broker's name and id) a job is running on, or undefined. */
    const poolOfFleetRunner = async (job: any): Promise<PoolSpec | undefined> => {
        if (!str(job.runner_name) || job.status === "queued") {
            return undefined;
        }
        const runner = await deps.records.runner(job.runner_name);
        return runner === undefined || runner.runnerId !== job.runner_id ? undefined : poolsByName.get(runner.pool);
    };

    /**
     * Links a running or finished job to the runner, only when the broker registered that runner in the
     * job's pool; answers what happened (undefined when the job names no runner yet).
     */
    const linkState = async (facts: JobFacts): Promise<"linked" | "same" | "conflict" | "not-a-fleet-runner" | undefined> => {
        if (facts.runnerName === null || facts.status === "queued") {
            return undefined;
        }
        const runner = await deps.records.runner(facts.runnerName);
        if (!isFleetRunner(runner, facts, poolsByName.get(facts.pool)!)) {
            audit({ service: "webhook", event: "workflow_job", outcome: "ignored", reason: "runner-not-registered-in-pool", runnerName: facts.runnerName, runnerId: facts.runnerId, runnerGroupId: facts.runnerGroupId, pool: facts.pool, jobId: facts.jobId });
            return "not-a-fleet-runner";
        }
        const state = await deps.records.linkRunnerJob({ runnerName: facts.runnerName, jobId: facts.jobId, repository: facts.repository });
        if (state === "conflict") {
            audit({ service: "webhook", event: "workflow_job", outcome: "refused", reason: "runner-ran-second-job", runnerName: facts.runnerName, jobId: facts.jobId });
        }
        return state;
    };
    const link = async (facts: JobFacts): Promise<boolean> => {
        const state = await linkState(facts);
        return state !== undefined && state !== "not-a-fleet-runner";
    };

    app.post(WEBHOOK_PATH, async (request, reply) => {
        const body = request.body;
        if (!Buffer.isBuffer(body)) {
            throw new HttpError(415, "unsupported-media-type", "send the event as application/json");
        }
        const delivery = request.headers["x-github-delivery"];
        const event = request.headers["x-github-event"];
        if (!(await verifySignature(deps.secret, body, request.headers["x-hub-signature-256"]))) {
            audit({ service: "webhook", event: "delivery", outcome: "refused", reason: "bad-signature", delivery: typeof delivery === "string" ? delivery.slice(0, 100) : undefined });
            throw new HttpError(401, "bad-signature", "X-Hub-Signature-256 is missing or does not match the body; the webhook secret must sign every delivery");
        }
        if (typeof delivery !== "string" || !DELIVERY_ID.test(delivery)) {
            throw new HttpError(400, "bad-delivery-id", "X-GitHub-Delivery: missing or not a delivery id");
        }
        if (event === "ping") {
            return reply.code(200).send({ ok: true });
        }
        if (event !== "workflow_job" && event !== "workflow_run") {
            audit({ service: "webhook", event: "delivery", outcome: "ignored", reason: `event ${String(event)}`, delivery });
            return reply.code(202).send({ ignored: `event ${String(event)} is neither workflow_job nor workflow_run` });
        }
        let payload: unknown;
        try {
            payload = JSON.parse(body.toString("utf8"));
        } catch {
            throw new HttpError(400, "bad-payload", "body: not valid JSON");
        }
        if (tooDeep(payload)) {
            throw new HttpError(400, "too-deep", `body: nests more than ${MAX_JSON_DEPTH} levels deep`);
        }
        if (event === "workflow_run") {
            // The run's facts (path, event, pull requests, repository ids), kept so that a job's completion
            // needs no API call for them. Create-only per run attempt: a replay changes nothing.
            const run = parseRun(payload);
            if (await deps.records.deliverySeen(delivery)) {
                throw new HttpError(409, "replayed-delivery", `delivery ${delivery} was already processed`);
            }
            await deps.records.putRun(run);
            await deps.records.claimDelivery(delivery, "workflow_run", clock().toISOString());
            return reply.code(200).send({ runId: run.id, runAttempt: run.run_attempt });
        }
        const { action, repository, job } = parseJob(payload);
        let pool = poolForLabels(deps.pools, job.labels);
        let notRequested: string | undefined;
        if (pool === undefined) {
            notRequested = placementAdvice(placeJob(deps.pools, job.labels), job.labels);
            pool = await poolOfFleetRunner(job);
            if (pool === undefined) {
                audit({ service: "webhook", event: "workflow_job", outcome: "ignored", reason: "no-pool", labels: job.labels, jobId: job.id, delivery, advice: notRequested });
                return reply.code(202).send({ ignored: notRequested });
            }
            audit({ service: "webhook", event: "workflow_job", outcome: "refused", reason: "pool-not-requested", pool: pool.name, runnerName: job.runner_name, jobId: job.id, delivery, advice: notRequested });
        }
        const replayed = () => {
            audit({ service: "webhook", event: "delivery", outcome: "refused", reason: "replayed-delivery", delivery });
            return new HttpError(409, "replayed-delivery", `delivery ${delivery} was already processed`);
        };
        if (await deps.records.deliverySeen(delivery)) {
            throw replayed();
        }
        // The delivery id is not signed: a captured event can come back under a new one, on any instance.
        const createdAt = Date.parse(String((job as { created_at?: unknown }).created_at ?? ""));
        const stale = job.status !== "completed" && (await deps.records.jobFacts(job.id, "completed")) !== undefined
            ? `job ${job.id} has completed; a ${job.status} event for it is old`
            : job.status === "queued" && Number.isFinite(createdAt) && clock().getTime() - createdAt > MAX_QUEUED_MS
                ? `job ${job.id} was queued at ${new Date(createdAt).toISOString()}, longer ago than GitHub keeps a job queued`
                : undefined;
        if (stale !== undefined) {
            audit({ service: "webhook", event: "workflow_job", outcome: "refused", reason: "stale-event", jobId: job.id, status: job.status, delivery });
            throw new HttpError(409, "stale-event", `${stale}: nothing changes (a replayed or late delivery)`);
        }
        let run: RunFacts | undefined;
        if (job.status === "completed") {
            // Fetched before the delivery is claimed: if GitHub fails, a redelivery can still succeed
            // (and the reconcile pass recovers the completion from the jobs API meanwhile).
            try {
                run = await runFacts(deps.github, repository, job.run_id, await deps.records.run(repository, job.run_id, id(job.run_attempt) ? job.run_attempt : 1));
            } catch (err) {
                audit({ service: "webhook", event: "workflow_job", outcome: "refused", reason: "github-failed", jobId: job.id, error: (err as Error).message });
                throw new HttpError(502, "github-failed", `the workflow run ${job.run_id} could not be read from GitHub; redeliver later`);
            }
        }
        // Every effect below is create-only or idempotent, and the delivery is claimed only after them: a crash
        // in between leaves the delivery unclaimed, so GitHub's redelivery (or the reconcile pass) writes the
        // facts, instead of being refused as a replay while the facts were never written.
        const now = clock().toISOString();
        const facts = jobFacts(job, repository, pool.name, run, delivery, now);
        let changed = false;
        if (facts.status === "completed") {
            await complete(facts);
            changed = true;
        } else {
            await deps.records.putJobFacts(facts);
            // A job that did not name the pool is never its demand.
            if (PENDING.has(facts.status) && notRequested === undefined) {
                changed = await deps.records.markJobPending({ jobId: facts.jobId, pool: pool.name, repository, status: facts.status, since: now });
                // A completion recorded meanwhile (another instance) wins: the marker must not outlive it.
                if (changed && (await deps.records.jobFacts(facts.jobId, "completed")) !== undefined) {
                    await deps.records.clearJobPending(pool.name, facts.jobId);
                }
            }
        }
        const runnerLink = await linkState(facts);
        const linked = runnerLink !== undefined && runnerLink !== "not-a-fleet-runner";
        if (!(await deps.records.claimDelivery(delivery, "workflow_job", now))) {
            // A concurrent copy of this delivery claimed it first; the effects above were the same ones.
            throw replayed();
        }
        if (changed) {
            await publish([pool.name]);
        }
        audit({ service: "webhook", event: "workflow_job", outcome: "done", action, status: facts.status, jobId: facts.jobId, pool: pool.name, delivery });
        if (facts.status === "completed" && linked && facts.runnerName !== null) {
            const runner = await deps.records.runner(facts.runnerName);
            const reg = runner && (await deps.records.registration(runner.instanceId));
            if (reg) {
                await scaleIn(reg, `job ${facts.jobId} completed`);
            }
        }
        return reply.code(200).send({
            pool: pool.name, jobId: facts.jobId, status: facts.status, demand: await deps.records.pendingJobCount(pool.name), ...(notRequested !== undefined ? { notRequested } : {}),
            ...(runnerLink !== undefined ? { runner: runnerLink } : {}),
        });
    });

    /** One pending job against the jobs API (a conditional GET): completion and runner from GitHub when webhooks were lost. */
    const checkPending = async (pending: { jobId: number; pool: string; repository: string }, now: string): Promise<"completed" | "pending"> => {
        if ((await deps.records.jobFacts(pending.jobId, "completed")) !== undefined) {
            await deps.records.clearJobPending(pending.pool, pending.jobId);
            return "completed";
        }
        let job: GithubJob;
        try {
            job = await deps.github.getJob(pending.repository, pending.jobId);
        } catch (err) {
            audit({ service: "webhook", event: "reconcile", outcome: "refused", reason: "github-failed", jobId: pending.jobId, error: (err as Error).message });
            return "pending";
        }
        if (job.status === "in_progress" && str(job.runner_name) && (await deps.records.jobsOfRunner(job.runner_name)).length === 0) {
            const facts = jobFacts(job, pending.repository, pending.pool, undefined, "reconcile", now);
            await deps.records.putJobFacts(facts);
            if (await link(facts)) {
                audit({ service: "webhook", event: "reconcile", outcome: "done", reason: "linked-from-api", runnerName: job.runner_name, jobId: job.id });
            }
        }
        if (job.status === "completed") {
            const run = await runFacts(deps.github, pending.repository, job.run_id, await deps.records.run(pending.repository, job.run_id, id(job.run_attempt) ? job.run_attempt : 1));
            const facts = jobFacts(job, pending.repository, pending.pool, run, "reconcile", now);
            await complete(facts);
            await link(facts);
            audit({ service: "webhook", event: "reconcile", outcome: "done", reason: "completed-from-api", runnerName: job.runner_name, jobId: job.id });
            return "completed";
        }
        return "pending";
    };

    /** Jobs queued and running per pool, and the oldest queued job's age, from the pass's pending markers. */
    const recordJobGauges = async (pending: PendingJob[], at: Date): Promise<void> => {
        const byPool = new Map(deps.pools.map((p) => [p.name, { queued: 0, running: 0, oldest: at.getTime() }]));
        for (const job of pending) {
            const pool = byPool.get(job.pool);
            if (pool === undefined) {
                continue;
            }
            if ((await deps.records.jobFacts(job.jobId, "in_progress")) !== undefined) {
                pool.running++;
            } else {
                pool.queued++;
                const since = Date.parse(job.since);
                pool.oldest = Number.isFinite(since) ? Math.min(pool.oldest, since) : pool.oldest;
            }
        }
        for (const [pool, n] of byPool) {
            metrics.set("jobsQueued", n.queued, { pool });
            metrics.set("jobsRunning", n.running, { pool });
            metrics.set("queueAge", Math.max(0, (at.getTime() - n.oldest) / 1000), { pool });
        }
    };

    const reconcile = async (): Promise<ReconcileResult> => {
        // 1. Lost deliveries: GitHub sends them again, and the handler above applies them.
        let redelivered = 0;
        try {
            redelivered = await redeliverer.pass();
        } catch (err) {
            audit({ service: "webhook", event: "reconcile", outcome: "refused", reason: "redelivery-failed", error: (err as Error).message });
        }
        // 2. Pending jobs: what the deliveries did not settle, from the jobs API.
        const now = clock().toISOString();
        const stillPending: PendingJob[] = [];
        for (const pending of await deps.records.pendingJobs()) {
            // One job GitHub cannot answer for does not stop the pass for the others.
            const state = await checkPending(pending, now).catch((err) => {
                audit({ service: "webhook", event: "reconcile", outcome: "refused", reason: "pending-check-failed", jobId: pending.jobId, error: (err as Error).message });
                return "pending" as const;
            });
            if (state === "pending") {
                stillPending.push(pending);
            }
        }
        await publish(deps.pools.map((p) => p.name));
        await recordJobGauges(stillPending, clock());
        recordGithubBudget(deps.github, metrics, "webhook");

        // 3. Scale-in sweep over the VMs not yet scaled in. Never one whose runner GitHub lists as busy.
        const active = await deps.records.activeRegistrations();
        const runners = new Map(active.length === 0 ? [] : (await deps.github.listRunners()).map((r) => [r.name, r]));
        const scaledIn: string[] = [];
        for (const reg of active) {
            const listed = runners.get(reg.runnerName);
            if (listed?.busy) {
                continue;
            }
            const jobs = await deps.records.jobsOfRunner(reg.runnerName);
            const completed = (await Promise.all(jobs.map((j) => deps.records.jobFacts(j, "completed")))).some((f) => f !== undefined);
            // Gone from GitHub only counts once the broker recorded the runner (else it may be mid-registration).
            const gone = listed === undefined && (await deps.records.runner(reg.runnerName)) !== undefined;
            if (completed || gone) {
                if (await scaleIn(reg, completed ? "job completed (reconcile)" : "runner no longer registered on GitHub")) {
                    scaledIn.push(reg.instanceId);
                }
            }
        }
        return { demand: await demand(), scaledIn, redelivered };
    };

    return { app, demand, reconcile };
}
