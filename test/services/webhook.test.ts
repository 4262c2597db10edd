import * as assert from "assert";
import { createHmac } from "crypto";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import type { DemandPoint, InstanceRef } from "../../services/controlPlane/cloud";
import type { GithubClient, GithubJob, GithubRunner } from "../../services/controlPlane/github";
import type { AuditEntry } from "../../services/controlPlane/http";
import { JobFacts, Records, RegistrationRecord } from "../../services/controlPlane/records";
import { buildWebhookService, verifySignature, WEBHOOK_PATH, WebhookService } from "../../services/controlPlane/webhook/app";
import { Demand } from "../../services/controlPlane/webhook/demand";
import { DirectoryStore } from "../../services/lib/objectStore";
import { simPool } from "../../services/sim/fixtures";

const SECRET = "test-webhook-secret";
const SHA = "a".repeat(40);

class StubGithub implements GithubClient {
    active: { repository: string; job: GithubJob }[] = [];
    runners: GithubRunner[] = [];
    jobs = new Map<number, GithubJob>();
    runCalls = 0;
    runFails = false;
    async generateJitConfig(): Promise<never> {
        throw new Error("not used");
    }
    async listRunners() {
        return this.runners;
    }
    async listActiveJobs() {
        return this.active;
    }
    async getRun(_repository: string, runId: number) {
        this.runCalls++;
        if (this.runFails) {
            throw new Error("GitHub GET run: 503");
        }
        return { id: runId, path: ".github/workflows/release.yml", head_branch: "main", head_sha: SHA, event: "push", run_attempt: 1, repository: { id: 41, owner: { id: 42 } } };
    }
    refs = new Map<string, string>([["heads/main", SHA]]);
    async getRef(_repository: string, ref: string) {
        const sha = this.refs.get(ref);
        return sha === undefined ? undefined : { ref: `refs/${ref}`, object: { sha, type: "commit" } };
    }
    async getJob(_repository: string, jobId: number) {
        return this.jobs.get(jobId)!;
    }
}

function job(id: number, status: string, labels: string[], runner: string | null = null): Record<string, unknown> {
    return {
        id,
        run_id: id + 10_000,
        run_attempt: 1,
        status,
        conclusion: status === "completed" ? "success" : null,
        head_sha: SHA,
        head_branch: "main",
        workflow_name: "build",
        runner_name: runner,
        runner_id: runner === null ? null : 7,
        runner_group_id: runner === null ? null : 1,
        labels,
        started_at: status === "queued" ? null : "2026-01-01T10:00:00Z",
        completed_at: status === "completed" ? "2026-01-01T10:05:00Z" : null,
    };
}

function event(action: string, jobBody: Record<string, unknown>): Buffer {
    return Buffer.from(JSON.stringify({ action, workflow_job: jobBody, repository: { full_name: "acme/app" } }));
}

function sign(body: Buffer, secret = SECRET): string {
    return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

describe("webhook receiver (workflow_job -> facts, demand, scale-in)", () => {
    let root: string;
    let records: Records;
    let github: StubGithub;
    let points: DemandPoint[];
    let deleted: InstanceRef[];
    let audit: AuditEntry[];
    let service: WebhookService;
    const pools = [simPool("pool-a"), simPool("pool-b")];
    let delivery = 0;

    const post = (body: Buffer, headers: Record<string, string | undefined> = {}) =>
        service.app.inject({
            method: "POST",
            url: WEBHOOK_PATH,
            headers: Object.fromEntries(Object.entries({
                "content-type": "application/json",
                "x-github-event": "workflow_job",
                "x-github-delivery": `d-${++delivery}`,
                "x-hub-signature-256": sign(body),
                ...headers,
            }).filter(([, v]) => v !== undefined)) as Record<string, string>,
            payload: body,
        });

    const register = async (pool: string, instanceId: string): Promise<RegistrationRecord> => {
        const reg: RegistrationRecord = {
            pool, project: "sim-workers", zone: "europe-west1-b", instanceId, instanceName: `vm-${instanceId}`,
            instanceCreationTimestamp: 1, serviceAccount: "x", runnerName: `${pool}-${instanceId}`,
            uploadPrefix: `${pool}/${instanceId}/`, intakeBucket: `intake-${pool}`, image: "img", bootImage: { uri: "https://compute.googleapis.com/compute/v1/projects/p/global/images/img", id: "5" }, registeredAt: "2026-01-01T09:59:00Z",
        };
        await records.claimRegistration(reg);
        await records.putRunner({ runnerName: reg.runnerName, runnerId: 7, instanceId, pool, createdAt: reg.registeredAt });
        return reg;
    };

    beforeEach(() => {
        root = mkdtempSync(path.join(tmpdir(), "hbf-webhook-"));
        records = new Records(new DirectoryStore(root));
        github = new StubGithub();
        points = [];
        deleted = [];
        audit = [];
        service = buildWebhookService({
            pools,
            secret: SECRET,
            records,
            github,
            demandPublisher: { publish: async (p) => void points.push(...p) },
            scaler: { deleteInstance: async (_pool, ref) => void deleted.push(ref) },
            audit: (e) => audit.push(e),
        });
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it("refuses to start with an empty or short webhook secret (every HMAC would be forgeable)", () => {
        for (const secret of ["", "short-secret"]) {
            assert.throws(() => buildWebhookService({ pools, secret, records, github, demandPublisher: { publish: async () => undefined }, scaler: { deleteInstance: async () => undefined } }),
                new RegExp(`webhook secret has ${Buffer.byteLength(secret)} bytes; it must have at least 16`));
        }
    });

    it("verifies the HMAC over the raw bytes in constant time", () => {
        const body = Buffer.from("{}");
        assert.strictEqual(verifySignature(SECRET, body, sign(body)), true);
        assert.strictEqual(verifySignature(SECRET, body, sign(body, "other")), false);
        assert.strictEqual(verifySignature(SECRET, Buffer.from("{ }"), sign(body)), false);
        assert.strictEqual(verifySignature(SECRET, body, sign(body).replace("sha256=", "sha1=")), false);
        assert.strictEqual(verifySignature(SECRET, body, undefined), false);
    });

    it("stores the facts of a queued job, raises its pool's demand and publishes it", async () => {
        const res = await post(event("queued", job(1, "queued", ["self-hosted", "linux", "pool-a"])));
        assert.strictEqual(res.statusCode, 200, res.body);
        assert.deepStrictEqual(service.demand.snapshot(), { "pool-a": 1, "pool-b": 0 });
        assert.deepStrictEqual(points.map((p) => [p.pool, p.value]), [["pool-a", 1]]);
        const facts = await records.jobFacts(1, "queued");
        assert.strictEqual(facts?.repository, "acme/app");
        assert.strictEqual(facts?.pool, "pool-a");
    });

    it("counts a job for the one pool it names when that pool's runners carry all its labels, case-insensitively, and ignores (and logs) other jobs", async () => {
        const mixedCase = await post(event("queued", job(2, "queued", ["Linux", "POOL-B", "self-hosted"])));
        assert.strictEqual(JSON.parse(mixedCase.body).pool, "pool-b");
        const subset = await post(event("queued", job(6, "queued", ["self-hosted", "pool-a"])));
        assert.strictEqual(JSON.parse(subset.body).pool, "pool-a", "a subset naming the pool is that pool's demand");
        const cases: [string[], RegExp][] = [
            [["self-hosted"], /names no pool, so GitHub may give it to a runner of any of "pool-a", "pool-b"; .* add the pool label, e\.g\. runs-on: \[self-hosted, pool-a\]/],
            [["self-hosted", "linux", "pool-a", "gpu"], /asks for "gpu", which the runners of pool "pool-a" do not carry/],
            [["pool-a", "pool-b"], /names pools "pool-a" and "pool-b"; no runner carries both/],
            [["ubuntu-latest"], /fits no fleet runner/],
        ];
        for (const [labels, why] of cases) {
            const res = await post(event("queued", job(3, "queued", labels)));
            assert.strictEqual(res.statusCode, 202, JSON.stringify(labels));
            assert.match(JSON.parse(res.body).ignored, why);
        }
        assert.strictEqual(await records.jobFacts(3, "queued"), undefined);
        assert.strictEqual(audit.filter((a) => a.reason === "no-pool").length, 4);
        assert.deepStrictEqual(service.demand.snapshot(), { "pool-a": 1, "pool-b": 1 });
    });

    it("records a job that landed on a fleet runner without naming its pool: linked for refusal, never counted, scaled in after it", async () => {
        const reg = await register("pool-a", "777");
        await post(event("queued", job(30, "queued", ["self-hosted"])));
        const running = await post(event("in_progress", job(30, "in_progress", ["self-hosted"], reg.runnerName)));
        assert.strictEqual(running.statusCode, 200, running.body);
        assert.match(JSON.parse(running.body).notRequested, /names no pool/);
        assert.deepStrictEqual(await records.jobsOfRunner(reg.runnerName), [30]);
        assert.strictEqual((await records.jobFacts(30, "in_progress"))?.pool, "pool-a");
        assert.deepStrictEqual(service.demand.snapshot(), { "pool-a": 0, "pool-b": 0 }, "never demand of any pool");
        assert.ok(audit.some((a) => a.reason === "pool-not-requested" && a.jobId === 30 && a.pool === "pool-a"));
        await post(event("completed", job(30, "completed", ["self-hosted"], reg.runnerName)));
        assert.deepStrictEqual(deleted.map((d) => d.instanceId), ["777"]);
        // Not on a fleet runner: nothing is stored.
        await post(event("in_progress", job(31, "in_progress", ["self-hosted"], "someone-elses-runner")));
        assert.strictEqual(await records.jobFacts(31, "in_progress"), undefined);
    });

    it("refuses a forged, unsigned or tampered delivery with 401 and stores nothing", async () => {
        const body = event("queued", job(4, "queued", pools[0].labels));
        const cases: Record<string, string | undefined>[] = [
            { "x-hub-signature-256": sign(body, "attacker-secret") },
            { "x-hub-signature-256": undefined },
            { "x-hub-signature-256": "sha256=zz" },
            { "x-hub-signature-256": sign(Buffer.from("{}")) },
        ];
        for (const headers of cases) {
            const res = await post(body, headers);
            assert.strictEqual(res.statusCode, 401, JSON.stringify(headers));
            assert.strictEqual(JSON.parse(res.body).error.code, "bad-signature");
        }
        assert.strictEqual(await records.jobFacts(4, "queued"), undefined);
        assert.deepStrictEqual(await records.store.list(""), []);
        assert.strictEqual(audit.filter((a) => a.reason === "bad-signature").length, 4);
        assert.strictEqual(service.demand.count("pool-a"), 0);
    });

    it("refuses a replayed delivery id with 409", async () => {
        const body = event("queued", job(5, "queued", pools[0].labels));
        assert.strictEqual((await post(body, { "x-github-delivery": "same" })).statusCode, 200);
        const replay = await post(body, { "x-github-delivery": "same" });
        assert.strictEqual(replay.statusCode, 409);
        assert.strictEqual(JSON.parse(replay.body).error.code, "replayed-delivery");
        assert.ok(audit.some((a) => a.reason === "replayed-delivery"));
        // GitHub does not sign the delivery id: the same signed body under a fresh id changes nothing.
        const before = await records.store.list("jobs/");
        const fresh = await post(body, { "x-github-delivery": "fresh-id" });
        assert.strictEqual(fresh.statusCode, 200);
        assert.deepStrictEqual(await records.store.list("jobs/"), before);
        assert.strictEqual((await records.jobFacts(5, "queued"))?.deliveryId, "same");
        assert.strictEqual(service.demand.count("pool-a"), 1);
    });

    it("answers bad input with a 4xx naming the field, and stores nothing", async () => {
        const bad: [Record<string, unknown>, RegExp][] = [
            [{ ...job(6, "queued", pools[0].labels), head_sha: "not-a-sha" }, /head_sha/],
            [{ ...job(6, "queued", pools[0].labels), id: "6" }, /workflow_job.id/],
            [{ ...job(6, "Bogus!", pools[0].labels) }, /status/],
            [{ ...job(6, "queued", "pool-a" as any) }, /labels/],
            [{ ...job(6, "in_progress", pools[0].labels, "bad name!") }, /runner_name/],
        ];
        for (const [jobBody, field] of bad) {
            const res = await post(event("queued", jobBody));
            assert.strictEqual(res.statusCode, 400, res.body);
            assert.match(JSON.parse(res.body).error.message, field);
        }
        const notJson = Buffer.from("not json");
        assert.strictEqual((await post(notJson)).statusCode, 400);
        const form = await service.app.inject({ method: "POST", url: WEBHOOK_PATH, headers: { "content-type": "text/plain" }, payload: "x" });
        assert.strictEqual(form.statusCode, 415);
        const noDelivery = await post(event("queued", job(6, "queued", pools[0].labels)), { "x-github-delivery": undefined });
        assert.strictEqual(noDelivery.statusCode, 400);
        assert.deepStrictEqual(await records.store.list(""), []);
    });

    it("answers ping and ignores other events", async () => {
        const body = Buffer.from("{}");
        assert.strictEqual((await post(body, { "x-github-event": "ping" })).statusCode, 200);
        assert.strictEqual((await post(body, { "x-github-event": "push" })).statusCode, 202);
    });

    it("links a job to a runner only when the broker registered that runner in the job's pool", async () => {
        await register("pool-b", "111");
        await post(event("in_progress", job(7, "in_progress", pools[0].labels, "pool-b-111")));
        await post(event("in_progress", job(8, "in_progress", pools[0].labels, "someone-elses-runner")));
        assert.deepStrictEqual(await records.jobsOfRunner("pool-b-111"), []);
        assert.strictEqual(audit.filter((a) => a.reason === "runner-not-registered-in-pool").length, 2);
        await register("pool-a", "222");
        // A repository-level runner carrying the fleet runner's name (names show in job logs), or a
        // runner of another runner group, is not the broker's runner: its job is never linked.
        await post(event("in_progress", { ...job(13, "in_progress", pools[0].labels, "pool-a-222"), runner_id: 99 }));
        await post(event("in_progress", { ...job(14, "in_progress", pools[0].labels, "pool-a-222"), runner_group_id: 2 }));
        assert.deepStrictEqual(await records.jobsOfRunner("pool-a-222"), []);
        assert.strictEqual(audit.filter((a) => a.reason === "runner-not-registered-in-pool").length, 4);
        await post(event("in_progress", job(9, "in_progress", pools[0].labels, "pool-a-222")));
        assert.deepStrictEqual(await records.jobsOfRunner("pool-a-222"), [9]);
        // The same job's completion keeps the one link; a second job on the same runner is a conflict.
        await post(event("completed", job(9, "completed", pools[0].labels, "pool-a-222")));
        assert.deepStrictEqual(await records.jobsOfRunner("pool-a-222"), [9]);
        await post(event("in_progress", job(12, "in_progress", pools[0].labels, "pool-a-222")));
        assert.deepStrictEqual(await records.jobsOfRunner("pool-a-222"), [9, 12]);
        assert.ok(audit.some((a) => a.reason === "runner-ran-second-job" && a.jobId === 12));
    });

    it("on completion records workflow path and ref from the run, lowers demand and deletes only that VM", async () => {
        const reg = await register("pool-a", "333");
        await post(event("queued", job(10, "queued", pools[0].labels)));
        await post(event("in_progress", job(10, "in_progress", pools[0].labels, reg.runnerName)));
        assert.strictEqual(service.demand.count("pool-a"), 1);
        assert.strictEqual(deleted.length, 0);
        const res = await post(event("completed", job(10, "completed", pools[0].labels, reg.runnerName)));
        assert.strictEqual(res.statusCode, 200, res.body);
        const facts = await records.jobFacts(10, "completed");
        assert.strictEqual(facts?.workflowPath, ".github/workflows/release.yml");
        assert.strictEqual(facts?.ref, "refs/heads/main");
        assert.strictEqual(facts?.event, "push");
        assert.deepStrictEqual([facts?.repositoryId, facts?.repositoryOwnerId, facts?.runnerId, facts?.runnerGroupId], [41, 42, 7, 1]);
        assert.strictEqual(facts?.completedAt, "2026-01-01T10:05:00Z");
        assert.strictEqual(service.demand.count("pool-a"), 0);
        assert.deepStrictEqual(deleted.map((d) => d.instanceId), ["333"]);
        assert.strictEqual(await records.scaledIn("333"), true);
        // A late queued event cannot resurrect the job.
        await post(event("queued", job(10, "queued", pools[0].labels)));
        assert.strictEqual(service.demand.count("pool-a"), 0);
    });

    it("answers 502 without claiming the delivery when the workflow run cannot be read, so a redelivery succeeds", async () => {
        const body = event("completed", job(11, "completed", pools[0].labels, null));
        github.runFails = true;
        const failed = await post(body, { "x-github-delivery": "r-1" });
        assert.strictEqual(failed.statusCode, 502);
        assert.strictEqual(await records.jobFacts(11, "completed"), undefined);
        github.runFails = false;
        assert.strictEqual((await post(body, { "x-github-delivery": "r-1" })).statusCode, 200);
        assert.strictEqual((await records.jobFacts(11, "completed"))?.workflowPath, ".github/workflows/release.yml");
    });

    it("reconciles demand from the GitHub API after lost webhooks and never scales in a busy runner", async () => {
        const busy = await register("pool-a", "401");
        const gone = await register("pool-a", "402");
        const idle = await register("pool-b", "403");
        github.runners = [
            { id: 1, name: busy.runnerName, busy: true, status: "online", labels: [] },
            { id: 3, name: idle.runnerName, busy: false, status: "online", labels: [] },
        ];
        // The busy runner's job even has completed facts (a stale record): busy still wins.
        await records.linkRunnerJob({ runnerName: busy.runnerName, jobId: 50, repository: "acme/app" });
        await records.putJobFacts({ jobId: 50, status: "completed" } as JobFacts);
        github.active = [
            { repository: "acme/app", job: job(20, "queued", pools[0].labels) as unknown as GithubJob },
            { repository: "acme/app", job: job(21, "in_progress", pools[0].labels) as unknown as GithubJob },
            { repository: "acme/app", job: job(22, "queued", pools[1].labels) as unknown as GithubJob },
            { repository: "acme/app", job: job(23, "queued", ["ubuntu-latest"]) as unknown as GithubJob },
        ];
        const result = await service.reconcile();
        assert.deepStrictEqual(result.demand, { "pool-a": 2, "pool-b": 1 });
        assert.deepStrictEqual(points.slice(-2).map((p) => [p.pool, p.value]), [["pool-a", 2], ["pool-b", 1]]);
        assert.deepStrictEqual(result.scaledIn, [gone.instanceId]);
        assert.deepStrictEqual(deleted.map((d) => d.instanceId), ["402"]);
        // A second pass deletes nothing more.
        assert.deepStrictEqual((await service.reconcile()).scaledIn, []);
    });

    it("recovers the facts of lost webhooks from the GitHub API: the runner's job, then its completion", async () => {
        const reg = await register("pool-a", "601");
        const running = job(70, "in_progress", pools[0].labels, reg.runnerName) as unknown as GithubJob;
        github.active = [
            { repository: "acme/app", job: running },
            // Not ours: a runner the broker never registered.
            { repository: "acme/app", job: job(71, "in_progress", pools[0].labels, "stranger") as unknown as GithubJob },
        ];
        github.runners = [{ id: 1, name: reg.runnerName, busy: true, status: "online", labels: [] }];
        await service.reconcile();
        assert.deepStrictEqual(await records.jobsOfRunner(reg.runnerName), [70]);
        assert.strictEqual((await records.jobFacts(70, "in_progress"))?.deliveryId, "reconcile");
        assert.deepStrictEqual(await records.jobsOfRunner("stranger"), []);
        assert.strictEqual(deleted.length, 0, "a busy runner is never scaled in");

        // The completed webhook is lost too; the ephemeral runner is gone from GitHub.
        github.active = [];
        github.runners = [];
        github.jobs.set(70, job(70, "completed", pools[0].labels, reg.runnerName) as unknown as GithubJob);
        const result = await service.reconcile();
        const completed = await records.jobFacts(70, "completed");
        assert.strictEqual(completed?.conclusion, "success");
        assert.strictEqual(completed?.workflowPath, ".github/workflows/release.yml");
        assert.strictEqual(completed?.completedAt, "2026-01-01T10:05:00Z");
        assert.deepStrictEqual(result.scaledIn, ["601"]);
        assert.ok(audit.some((a) => a.reason === "completed-from-api" && a.jobId === 70));
    });

    it("keeps the webhook successful when deleting the VM fails, and lets the sweep retry", async () => {
        const reg = await register("pool-a", "501");
        let failures = 1;
        service = buildWebhookService({
            pools, secret: SECRET, records, github,
            demandPublisher: { publish: async () => undefined },
            scaler: { deleteInstance: async (_p, ref) => { if (failures-- > 0) { throw new Error("compute 503"); } deleted.push(ref); } },
            audit: (e) => audit.push(e),
        });
        await post(event("in_progress", job(60, "in_progress", pools[0].labels, reg.runnerName)));
        const res = await post(event("completed", job(60, "completed", pools[0].labels, reg.runnerName)));
        assert.strictEqual(res.statusCode, 200, res.body);
        assert.ok(audit.some((a) => a.reason === "delete-failed" && a.instanceId === "501"));
        assert.strictEqual(await records.scaledIn("501"), false);
        assert.deepStrictEqual((await service.reconcile()).scaledIn, ["501"]);
        assert.deepStrictEqual(deleted.map((d) => d.instanceId), ["501"]);
    });

    it("keeps job status monotonic in the demand count, and counts only queued and running jobs", () => {
        const d = new Demand(["p"]);
        assert.strictEqual(d.apply("p", 1, "queued"), true);
        assert.strictEqual(d.apply("p", 1, "in_progress"), false);
        assert.strictEqual(d.apply("p", 1, "queued"), false);
        assert.strictEqual(d.count("p"), 1);
        assert.strictEqual(d.apply("p", 1, "completed"), true);
        assert.strictEqual(d.count("p"), 0);
        assert.strictEqual(d.apply("unknown", 2, "queued"), false);
        assert.strictEqual(d.apply("p", 3, "waiting"), false);
        assert.strictEqual(d.count("p"), 0);
    });
});
