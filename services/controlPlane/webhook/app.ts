/**
 * The `workflow_job` webhook receiver: demand per pool, the job facts the generator signs from, and
 * scale-in after a job completed.
 *
 * POST /v1/github/webhook
 * - X-Hub-Signature-256 is an HMAC-SHA256 of the raw body with the webhook secret, compared with
 *   crypto.timingSafeEqual before anything is parsed or stored; a forged or unsigned delivery is 401.
 * - X-GitHub-Delivery is claimed create-only after the signature verified: a replayed delivery is 409.
 * - The job's `runs-on` labels map to a pool by the runs-on rule (runsOn.ts): only a job that names a
 *   pool counts as its demand. Other jobs are ignored (202) and logged with the runs-on to write,
 *   unless GitHub gave one to a fleet runner anyway (its labels fit): then its facts are recorded
 *   under the runner's pool, without demand, so the runner is linked, scaled in after the job, and the
 *   generator refuses its uploads with a record instead of waiting for facts that never come.
 * - Facts are stored create-only per job and status; a completed job's facts add the workflow path
 *   and ref from the workflow run (GitHub API), which the webhook itself does not carry.
 * - A runner name is linked to the job only when the broker registered that runner in that pool.
 *
 * Scale-in never kills a busy runner: the pools' autoscalers only scale out; this service deletes a
 * VM only after its runner's job completed, or when GitHub no longer lists the runner at all (an
 * ephemeral runner is removed after its one job). A runner GitHub lists as busy is never touched.
 */
import { createHmac, timingSafeEqual } from "crypto";
import type { FastifyInstance } from "fastify";
import type { DemandPublisher, MigScaler } from "../cloud";
import type { GithubClient } from "../github";
import { AuditLog, Clock, HttpError, serviceApp, stderrAudit, systemClock } from "../http";
import { PoolSpec, poolForLabels } from "../pools";
import { JobFacts, Records, RegistrationRecord, RunnerRecord } from "../records";
import { placeJob, placementAdvice } from "../runsOn";
import { Demand } from "./demand";
import { ResolvedRef, resolveRunRef } from "./sourceRef";

export const WEBHOOK_PATH = "/v1/github/webhook";
const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;
/** GitHub's job statuses (queued, in_progress, completed, waiting, requested, pending, ...). */
const STATUS = /^[a-z_]{1,32}$/;

export interface WebhookDeps {
    pools: PoolSpec[];
    /** The webhook secret (from Secret Manager); never logged. */
    secret: string;
    records: Records;
    github: GithubClient;
    demandPublisher: DemandPublisher;
    scaler: MigScaler;
    audit?: AuditLog;
    clock?: Clock;
}

export interface ReconcileResult {
    demand: Record<string, number>;
    scaledIn: string[];
}

export interface WebhookService {
    app: FastifyInstance;
    demand: Demand;
    /** Rebuilds demand from the GitHub API, publishes it, and deletes VMs whose runner is done. */
    reconcile(): Promise<ReconcileResult>;
}

/** True when `header` is `sha256=<hex>` and equals the HMAC of `body` (constant-time compare). */
export function verifySignature(secret: string, body: Buffer, header: unknown): boolean {
    if (typeof header !== "string" || !/^sha256=[0-9a-f]{64}$/.test(header)) {
        return false;
    }
    const expected = createHmac("sha256", secret).update(body).digest();
    const given = Buffer.from(header.slice("sha256=".length), "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
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
function parseJob(payload: any): { action: string; repository: string; job: any } {
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
    if (job.runner_name !== null && job.runner_name !== undefined && !(str(job.runner_name) && /^[A-Za-z0-9._-]{1,100}$/.test(job.runner_name))) {
        throw bad("workflow_job.runner_name", "must be null or a runner name");
    }
    for (const field of ["runner_id", "runner_group_id"]) {
        if (job[field] !== null && job[field] !== undefined && !id(job[field])) {
            throw bad(`workflow_job.${field}`, "must be null or a positive integer");
        }
    }
    return { action: payload.action, repository: payload.repository.full_name, job };
}

/** What the control plane learns from the workflow run (GitHub API) when a job completes. */
export interface RunFacts {
    path: string | null;
    event: string | null;
    ref: ResolvedRef;
    repositoryId: number | null;
    repositoryOwnerId: number | null;
}

/** Reads the job's workflow run and resolves its fully qualified ref. */
export async function runFacts(github: Pick<GithubClient, "getRun" | "getRef">, repository: string, runId: number): Promise<RunFacts> {
    const run = await github.getRun(repository, runId);
    return {
        path: str(run.path) ? run.path : null,
        event: str(run.event) ? run.event : null,
        ref: await resolveRunRef(github, repository, run),
        repositoryId: id(run.repository?.id) ? run.repository!.id! : null,
        repositoryOwnerId: id(run.repository?.owner?.id) ? run.repository!.owner!.id! : null,
    };
}

/** The facts of a job as GitHub reported it (webhook payload or jobs API), plus what its run says. */
function jobFacts(job: any, repository: string, pool: string, run: RunFacts | undefined, deliveryId: string, receivedAt: string): JobFacts {
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
    const audit = deps.audit ?? stderrAudit;
    const clock = deps.clock ?? systemClock;
    const demand = new Demand(deps.pools.map((p) => p.name));
    const poolsByName = new Map(deps.pools.map((p) => [p.name, p]));
    const app = serviceApp({ bodyLimit: 1024 * 1024 });

    // The HMAC is over the exact bytes GitHub sent: keep the raw body, parse only after verifying.
    app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

    const publish = async (pools: string[]): Promise<void> => {
        const at = clock();
        try {
            await deps.demandPublisher.publish(pools.map((pool) => ({ pool, value: demand.count(pool), at })));
        } catch (err) {
            audit({ service: "webhook", event: "demand-publish", outcome: "refused", reason: (err as Error).message });
        }
    };

    const scaleIn = async (reg: RegistrationRecord, why: string): Promise<boolean> => {
        if (await deps.records.scaledIn(reg.instanceId)) {
            return false;
        }
        const pool = poolsByName.get(reg.pool);
        if (pool === undefined) {
            return false;
        }
        try {
            await deps.scaler.deleteInstance(pool, { project: reg.project, zone: reg.zone, instanceName: reg.instanceName, instanceId: reg.instanceId });
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

    app.post(WEBHOOK_PATH, async (request, reply) => {
        const body = request.body;
        if (!Buffer.isBuffer(body)) {
            throw new HttpError(415, "unsupported-media-type", "send the event as application/json");
        }
        const delivery = request.headers["x-github-delivery"];
        const event = request.headers["x-github-event"];
        if (!verifySignature(deps.secret, body, request.headers["x-hub-signature-256"])) {
            audit({ service: "webhook", event: "delivery", outcome: "refused", reason: "bad-signature", delivery: typeof delivery === "string" ? delivery.slice(0, 100) : undefined });
            throw new HttpError(401, "bad-signature", "X-Hub-Signature-256 is missing or does not match the body; the webhook secret must sign every delivery");
        }
        if (typeof delivery !== "string" || !DELIVERY_ID.test(delivery)) {
            throw new HttpError(400, "bad-delivery-id", "X-GitHub-Delivery: missing or not a delivery id");
        }
        if (event === "ping") {
            return reply.code(200).send({ ok: true });
        }
        if (event !== "workflow_job") {
            audit({ service: "webhook", event: "delivery", outcome: "ignored", reason: `event ${String(event)}`, delivery });
            return reply.code(202).send({ ignored: `event ${String(event)} is not workflow_job` });
        }
        let payload: unknown;
        try {
            payload = JSON.parse(body.toString("utf8"));
        } catch {
            throw new HttpError(400, "bad-payload", "body: not valid JSON");
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
        let run: RunFacts | undefined;
        if (job.status === "completed") {
            // Fetched before the delivery is claimed: if GitHub fails, a redelivery can still succeed
            // (and the reconcile pass recovers the completion from the jobs API meanwhile).
            try {
                run = await runFacts(deps.github, repository, job.run_id);
            } catch (err) {
                audit({ service: "webhook", event: "workflow_job", outcome: "refused", reason: "github-failed", jobId: job.id, error: (err as Error).message });
                throw new HttpError(502, "github-failed", `the workflow run ${job.run_id} could not be read from GitHub; redeliver later`);
            }
        }
        const now = clock().toISOString();
        if (!(await deps.records.claimDelivery(delivery, "workflow_job", now))) {
            audit({ service: "webhook", event: "delivery", outcome: "refused", reason: "replayed-delivery", delivery });
            throw new HttpError(409, "replayed-delivery", `delivery ${delivery} was already processed`);
        }
        const facts = jobFacts(job, repository, pool.name, run, delivery, now);
        await deps.records.putJobFacts(facts);
        let linked = false;
        if (facts.runnerName !== null && facts.status !== "queued") {
            const runner = await deps.records.runner(facts.runnerName);
            if (isFleetRunner(runner, facts, pool)) {
                const link = await deps.records.linkRunnerJob({ runnerName: facts.runnerName, jobId: facts.jobId, repository });
                if (link === "conflict") {
                    audit({ service: "webhook", event: "workflow_job", outcome: "refused", reason: "runner-ran-second-job", runnerName: facts.runnerName, jobId: facts.jobId });
                }
                linked = true;
            } else {
                audit({ service: "webhook", event: "workflow_job", outcome: "ignored", reason: "runner-not-registered-in-pool", runnerName: facts.runnerName, runnerId: facts.runnerId, runnerGroupId: facts.runnerGroupId, pool: pool.name, jobId: facts.jobId });
            }
        }
        if (notRequested === undefined && demand.apply(pool.name, facts.jobId, facts.status)) {
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
            pool: pool.name, jobId: facts.jobId, status: facts.status, demand: demand.count(pool.name), ...(notRequested !== undefined ? { notRequested } : {}),
        });
    });

    const reconcile = async (): Promise<ReconcileResult> => {
        const active = await deps.github.listActiveJobs();
        const byPool = new Map<string, { jobId: number; status: string }[]>(deps.pools.map((p) => [p.name, []]));
        for (const { job } of active) {
            const pool = poolForLabels(deps.pools, job.labels ?? []);
            if (pool !== undefined) {
                byPool.get(pool.name)!.push({ jobId: job.id, status: job.status });
            }
        }
        for (const [pool, jobs] of byPool) {
            demand.replace(pool, jobs);
        }
        await publish(deps.pools.map((p) => p.name));

        // Facts whose webhooks were lost, from the same GitHub API (authenticated as the App):
        // a running job on one of our runners that no webhook linked...
        const now = clock().toISOString();
        for (const { repository, job } of active) {
            // Also a job that did not ask for the pool: linked, so the generator refuses it rather than waits.
            const pool = job.status === "in_progress" ? poolForLabels(deps.pools, job.labels ?? []) ?? (await poolOfFleetRunner(job)) : undefined;
            if (pool === undefined || !str(job.runner_name)) {
                continue;
            }
            const runner = await deps.records.runner(job.runner_name);
            const seen = jobFacts(job, repository, pool.name, undefined, "reconcile", now);
            if (isFleetRunner(runner, seen, pool) && (await deps.records.jobsOfRunner(job.runner_name)).length === 0) {
                await deps.records.putJobFacts(seen);
                await deps.records.linkRunnerJob({ runnerName: job.runner_name, jobId: job.id, repository });
                audit({ service: "webhook", event: "reconcile", outcome: "done", reason: "linked-from-api", runnerName: job.runner_name, jobId: job.id });
            }
        }

        // Scale-in sweep: VMs whose runner is done. Never one whose runner GitHub lists as busy.
        const runners = new Map((await deps.github.listRunners()).map((r) => [r.name, r]));
        const scaledIn: string[] = [];
        for (const reg of await deps.records.registrations()) {
            if (await deps.records.scaledIn(reg.instanceId)) {
                continue;
            }
            const listed = runners.get(reg.runnerName);
            if (listed?.busy) {
                continue;
            }
            // ...and a linked job whose completion no webhook reported.
            const link = await deps.records.runnerJob(reg.runnerName);
            if (link !== undefined && (await deps.records.jobFacts(link.jobId, "completed")) === undefined) {
                const job = await deps.github.getJob(link.repository, link.jobId);
                if (job.status === "completed") {
                    const run = await runFacts(deps.github, link.repository, job.run_id);
                    await deps.records.putJobFacts(jobFacts(job, link.repository, reg.pool, run, "reconcile", now));
                    audit({ service: "webhook", event: "reconcile", outcome: "done", reason: "completed-from-api", runnerName: reg.runnerName, jobId: job.id });
                }
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
        return { demand: demand.snapshot(), scaledIn };
    };

    return { app, demand, reconcile };
}
