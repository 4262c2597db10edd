import * as assert from "assert";
import { createHmac } from "crypto";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import type { DemandPoint, InstanceRef } from "../../../../services/controlPlane/cloud";
import type { GithubClient, GithubJob, GithubRunner, HookDelivery } from "../../../../services/controlPlane/github";
import type { AuditEntry } from "../../../../services/controlPlane/http";
import { JobFacts, Records, RegistrationRecord } from "../../../../services/controlPlane/records";
import { buildWebhookService, verifySignature, WEBHOOK_PATH, WebhookService } from "../../../../services/controlPlane/webhook/app";
import { DirectoryStore } from "../../../../services/lib/objectStore";
import { simPool } from "../../../../services/sim/fixtures";

const SECRET = "test-webhook-secret";
const SHA = "a".repeat(40);

class StubGithub implements GithubClient {
    runners: GithubRunner[] = [];
    jobs = new Map<number, GithubJob>();
    deliveries: HookDelivery[] = [];
    redelivered: number[] = [];
    runCalls = 0;
    jobCalls = 0;
    runnerCalls = 0;
    runFails = false;
    async generateJitConfig(): Promise<never> {
        throw new Error("not used");
    }
    async listRunners() {
        this.runnerCalls++;
        return this.runners;
    }
    async listHookDeliveries() {
        return [...this.deliveries].reverse();
    }
    async redeliver(id: number) {
        this.redelivered.push(id);
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
        this.jobCalls++;
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

    it("verifies the HMAC over the raw bytes in constant time", async () => {
        const body = Buffer.from("{}");
        assert.strictEqual(await verifySignature(SECRET, body, sign(body)), true);
        assert.strictEqual(await verifySignature(SECRET, body, sign(body, "other")), false);
        assert.strictEqual(await verifySignature(SECRET, Buffer.from("{ }"), sign(body)), false);
        assert.strictEqual(await verifySignature(SECRET, body, sign(body).replace("sha256=", "sha1=")), false);
        assert.strictEqual(await verifySignature(SECRET, body, undefined), false);
        // Not UTF-8: the HMAC is checked over the exact bytes or not at all.
        const latin1 = Buffer.from([0x7b, 0xff, 0x7d]);
        assert.strictEqual(await verifySignature(SECRET, latin1, sign(latin1)), false);
    });

    it("stores the facts of a queued job, raises its pool's demand and publishes it", async () => {
        const res = await post(event("queued", job(1, "queued", ["self-hosted", "linux", "pool-a"])));
        assert.strictEqual(res.statusCode, 200, res.body);
        assert.deepStrictEqual(await service.demand(), { "pool-a": 1, "pool-b": 0 });
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
        assert.deepStrictEqual(await service.demand(), { "pool-a": 1, "pool-b": 1 });
    });

    it("records a job that landed on a fleet runner without naming its pool: linked for refusal, never counted, scaled in after it", async () => {
        const reg = await register("pool-a", "777");
        await post(event("queued", job(30, "queued", ["self-hosted"])));
        const running = await post(event("in_progress", job(30, "in_progress", ["self-hosted"], reg.runnerName)));
        assert.strictEqual(running.statusCode, 200, running.body);
        assert.match(JSON.parse(running.body).notRequested, /names no pool/);
        assert.deepStrictEqual(await records.jobsOfRunner(reg.runnerName), [30]);
        assert.strictEqual((await records.jobFacts(30, "in_progress"))?.pool, "pool-a");
        assert.deepStrictEqual(await service.demand(), { "pool-a": 0, "pool-b": 0 }, "never demand of any pool");
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
        assert.strictEqual((await service.demand())["pool-a"], 0);
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
        assert.strictEqual((await service.demand())["pool-a"], 1);
    });

    it("writes a delivery's facts before claiming it: a crash in between loses nothing, the redelivery records them", async () => {
        // The records bucket fails the first write of job facts, as a crash after the claim would lose it.
        let failNext = true;
        const store = new DirectoryStore(path.join(root, "crashing"));
        const crashing = new Records({
            create: async (name, bytes, type) => {
                if (failNext && name.startsWith("jobs/")) {
                    failNext = false;
                    throw new Error("records bucket: connection reset");
                }
                return store.create(name, bytes, type);
            },
            read: (n) => store.read(n), openRead: (n) => store.openRead(n), list: (p) => store.list(p), delete: (n) => store.delete(n), stat: (n) => store.stat(n),
        });
        service = buildWebhookService({ pools, secret: SECRET, records: crashing, github, demandPublisher: { publish: async () => undefined }, scaler: { deleteInstance: async () => undefined }, audit: () => undefined });
        const body = event("queued", job(6, "queued", pools[0].labels));
        assert.strictEqual((await post(body, { "x-github-delivery": "crash-1" })).statusCode, 500);
        assert.strictEqual(await crashing.jobFacts(6, "queued"), undefined);
        const again = await post(body, { "x-github-delivery": "crash-1" });
        assert.strictEqual(again.statusCode, 200, again.body);
        assert.strictEqual((await crashing.jobFacts(6, "queued"))?.deliveryId, "crash-1");
        assert.strictEqual((await service.demand())["pool-a"], 1);
        // Claimed now: a third copy is a replay.
        assert.strictEqual((await post(body, { "x-github-delivery": "crash-1" })).statusCode, 409);
    });

    it("answers bad input with a 4xx naming the field, and stores nothing", async () => {
        const bad: [Record<string, unknown>, RegExp][] = [
            [{ ...job(6, "queued", pools[0].labels), head_sha: "not-a-sha" }, /head_sha/],
            [{ ...job(6, "queued", pools[0].labels), id: "6" }, /workflow_job.id/],
            [{ ...job(6, "Bogus!", pools[0].labels) }, /status/],
            [{ ...job(6, "queued", "pool-a" as any) }, /labels/],
            // Any printable name is a runner's (hosted runners have spaces); control characters and overlong names are not.
            [{ ...job(6, "in_progress", pools[0].labels, "bad\u0007name") }, /runner_name/],
            [{ ...job(6, "in_progress", pools[0].labels, "r".repeat(256)) }, /runner_name/],
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
        assert.strictEqual((await service.demand())["pool-a"], 1);
        assert.strictEqual(deleted.length, 0);
        const res = await post(event("completed", job(10, "completed", pools[0].labels, reg.runnerName)));
        assert.strictEqual(res.statusCode, 200, res.body);
        const facts = await records.jobFacts(10, "completed");
        assert.strictEqual(facts?.workflowPath, ".github/workflows/release.yml");
        assert.strictEqual(facts?.ref, "refs/heads/main");
        assert.strictEqual(facts?.event, "push");
        assert.deepStrictEqual([facts?.repositoryId, facts?.repositoryOwnerId, facts?.runnerId, facts?.runnerGroupId], [41, 42, 7, 1]);
        assert.strictEqual(facts?.completedAt, "2026-01-01T10:05:00Z");
        assert.strictEqual((await service.demand())["pool-a"], 0);
        assert.deepStrictEqual(deleted.map((d) => d.instanceId), ["333"]);
        assert.strictEqual(await records.scaledIn("333"), true);
        // A late queued event cannot resurrect the job.
        const late = await post(event("queued", job(10, "queued", pools[0].labels)));
        assert.deepStrictEqual([late.statusCode, JSON.parse(late.body).error.code], [409, "stale-event"]);
        assert.strictEqual((await service.demand())["pool-a"], 0);
    });

    it("keeps the workflow run from its workflow_run event, so a job's completion costs no run read; a replay or a bad run is refused", async () => {
        const runEvent = (extra: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({
            action: "requested",
            workflow_run: { id: 10_013, run_attempt: 1, path: ".github/workflows/ship.yml", event: "push", head_branch: "main", head_sha: SHA, pull_requests: [], ...extra },
            repository: { id: 501, full_name: "acme/app", owner: { id: 502 } },
        }));
        const first = await post(runEvent(), { "x-github-event": "workflow_run", "x-github-delivery": "run-1" });
        assert.strictEqual(first.statusCode, 200, first.body);
        const replay = await post(runEvent({ path: ".github/workflows/evil.yml" }), { "x-github-event": "workflow_run", "x-github-delivery": "run-2" });
        assert.strictEqual(replay.statusCode, 200, "a second event of the same attempt is accepted, and changes nothing");
        assert.strictEqual((await post(runEvent(), { "x-github-event": "workflow_run", "x-github-delivery": "run-1" })).statusCode, 409);
        const bad = await post(runEvent({ run_attempt: "1" }), { "x-github-event": "workflow_run" });
        assert.deepStrictEqual([bad.statusCode, JSON.parse(bad.body).error.message], [400, "workflow_run.id/run_attempt: must be positive integers"]);
        await post(event("completed", job(13, "completed", pools[0].labels)));
        const facts = await records.jobFacts(13, "completed");
        assert.deepStrictEqual([facts?.workflowPath, facts?.event, facts?.repositoryId, facts?.repositoryOwnerId], [".github/workflows/ship.yml", "push", 501, 502]);
        assert.strictEqual(github.runCalls, 0, "the run came from its event, not from the API");
        // A run recorded for another repository is never used for this one.
        const elsewhere = Buffer.from(JSON.stringify({ action: "completed", workflow_job: { ...job(14, "completed", pools[0].labels), run_id: 10_013 }, repository: { full_name: "acme/other" } }));
        assert.strictEqual((await post(elsewhere)).statusCode, 200);
        assert.strictEqual(github.runCalls, 1, "read from the API instead");
        assert.strictEqual((await records.jobFacts(14, "completed"))?.workflowPath, ".github/workflows/release.yml");
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

    it("recovers lost completions from the jobs API for pending jobs only, and never scales in a busy runner", async () => {
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
        for (const [id, labels] of [[20, pools[0].labels], [21, pools[0].labels], [22, pools[1].labels]] as const) {
            assert.strictEqual((await post(event("queued", job(id, "queued", [...labels])))).statusCode, 200);
        }
        // Job 21 completed, but its webhook was lost; 20 and 22 are still queued.
        github.jobs.set(20, job(20, "queued", pools[0].labels) as unknown as GithubJob);
        github.jobs.set(21, job(21, "completed", pools[0].labels) as unknown as GithubJob);
        github.jobs.set(22, job(22, "queued", pools[1].labels) as unknown as GithubJob);
        const result = await service.reconcile();
        assert.deepStrictEqual(result.demand, { "pool-a": 1, "pool-b": 1 });
        assert.strictEqual((await records.jobFacts(21, "completed"))?.workflowPath, ".github/workflows/release.yml");
        assert.deepStrictEqual(points.slice(-2).map((p) => [p.pool, p.value]), [["pool-a", 1], ["pool-b", 1]]);
        assert.deepStrictEqual(result.scaledIn, [gone.instanceId]);
        assert.deepStrictEqual(deleted.map((d) => d.instanceId), ["402"]);
        assert.strictEqual(github.jobCalls, 3, "one jobs-API read per pending job");
        // A second pass deletes nothing more, and reads only the two jobs still pending.
        github.jobCalls = 0;
        assert.deepStrictEqual((await service.reconcile()).scaledIn, []);
        assert.strictEqual(github.jobCalls, 2);
    });

    it("takes a job on a GitHub-hosted runner (a name with spaces) as not the fleet's: its webhook is answered, and reconcile passes still run", async () => {
        const reg = await register("pool-a", "611");
        const hosted = job(80, "in_progress", ["ubuntu-latest"], "GitHub Actions 3");
        const res = await post(event("in_progress", hosted));
        assert.ok(res.statusCode < 300, `hosted runner webhook answered ${res.statusCode}: ${res.body}`);
        assert.deepStrictEqual(await records.jobsOfRunner("GitHub Actions 3"), []);
        // Lost webhooks of a fleet job are still recovered in the same pass as the hosted job.
        await post(event("queued", job(81, "queued", pools[0].labels)));
        github.jobs.set(80, hosted as unknown as GithubJob);
        github.jobs.set(81, job(81, "in_progress", pools[0].labels, reg.runnerName) as unknown as GithubJob);
        github.runners = [{ id: 1, name: reg.runnerName, busy: true, status: "online", labels: [] }];
        await service.reconcile();
        assert.deepStrictEqual(await records.jobsOfRunner(reg.runnerName), [81]);
    });

    it("recovers the facts of lost webhooks from the GitHub API: the runner's job, then its completion", async () => {
        const reg = await register("pool-a", "601");
        await post(event("queued", job(70, "queued", pools[0].labels)));
        await post(event("queued", job(71, "queued", pools[0].labels)));
        github.jobs.set(70, job(70, "in_progress", pools[0].labels, reg.runnerName) as unknown as GithubJob);
        // Not ours: a runner the broker never registered.
        github.jobs.set(71, job(71, "in_progress", pools[0].labels, "stranger") as unknown as GithubJob);
        github.runners = [{ id: 1, name: reg.runnerName, busy: true, status: "online", labels: [] }];
        await service.reconcile();
        assert.deepStrictEqual(await records.jobsOfRunner(reg.runnerName), [70]);
        assert.strictEqual((await records.jobFacts(70, "in_progress"))?.deliveryId, "reconcile");
        assert.deepStrictEqual(await records.jobsOfRunner("stranger"), []);
        assert.strictEqual(deleted.length, 0, "a busy runner is never scaled in");

        // The completed webhook is lost too; the ephemeral runner is gone from GitHub.
        github.runners = [];
        github.jobs.set(70, job(70, "completed", pools[0].labels, reg.runnerName) as unknown as GithubJob);
        const result = await service.reconcile();
        const completed = await records.jobFacts(70, "completed");
        assert.strictEqual(completed?.conclusion, "success");
        assert.strictEqual(completed?.workflowPath, ".github/workflows/release.yml");
        assert.strictEqual(completed?.completedAt, "2026-01-01T10:05:00Z");
        assert.deepStrictEqual(result.scaledIn, ["601"]);
        assert.deepStrictEqual(result.demand, { "pool-a": 1, "pool-b": 0 });
        assert.ok(audit.some((a) => a.reason === "completed-from-api" && a.jobId === 70));
    });

    it("asks GitHub to redeliver failed workflow_job deliveries since the last pass, a few times at most", async () => {
        const at = new Date().toISOString();
        const d = (id: number, guid: string, statusCode: number, event = "workflow_job"): HookDelivery => ({ id, guid, deliveredAt: at, redelivery: false, statusCode, event, action: "queued" });
        github.deliveries = [d(1, "ok", 200), d(2, "down", 0), d(3, "error", 502), d(4, "bad", 400), d(5, "push", 0, "push"), d(6, "later-ok", 0), d(7, "later-ok", 200)];
        assert.strictEqual((await service.reconcile()).redelivered, 2);
        assert.deepStrictEqual(github.redelivered, [2, 3]);
        // Nothing new: nothing sent again.
        assert.strictEqual((await service.reconcile()).redelivered, 0);
        // The redeliveries failed too: tried again until the limit (3 attempts per event).
        for (let i = 0; i < 3; i++) {
            github.deliveries.push({ ...d(10 + i, "down", 0), redelivery: true });
            await service.reconcile();
        }
        assert.deepStrictEqual(github.redelivered, [2, 3, 10, 11]);
    });

    it("derives demand from the records: every instance and every restart publishes the same, and a replay under a new delivery id changes nothing", async () => {
        const instance = (r: Records = records) => buildWebhookService({
            pools, secret: SECRET, records: r, github, demandPublisher: { publish: async (p) => void points.push(...p) },
            scaler: { deleteInstance: async () => undefined }, audit: (e) => audit.push(e),
        });
        const second = instance();
        const created = new Date().toISOString();
        const queued = event("queued", { ...job(80, "queued", pools[0].labels), created_at: created });
        const post2 = (svc: WebhookService, body: Buffer, id: string) => svc.app.inject({
            method: "POST", url: WEBHOOK_PATH, payload: body,
            headers: { "content-type": "application/json", "x-github-event": "workflow_job", "x-github-delivery": id, "x-hub-signature-256": sign(body) },
        });
        assert.strictEqual((await post2(service, queued, "q-80")).statusCode, 200);
        await post2(second, event("queued", { ...job(81, "queued", pools[0].labels), created_at: created }), "q-81");
        assert.deepStrictEqual(await service.demand(), await second.demand());
        assert.deepStrictEqual(await second.demand(), { "pool-a": 2, "pool-b": 0 });
        await post2(second, event("completed", job(80, "completed", pools[0].labels)), "c-80");

        // A fresh instance (a restart) gets the captured queued event again, under a new delivery id.
        const fresh = instance();
        const replay = await post2(fresh, queued, "attacker-chosen-id");
        assert.deepStrictEqual([replay.statusCode, JSON.parse(replay.body).error.code], [409, "stale-event"]);
        assert.deepStrictEqual(await fresh.demand(), { "pool-a": 1, "pool-b": 0 });
        assert.strictEqual(await records.jobFacts(80, "completed").then((f) => f?.deliveryId), "c-80");
        // An event older than GitHub keeps a job queued is refused even when the job is unknown here.
        const old = event("queued", { ...job(82, "queued", pools[0].labels), created_at: "2020-01-01T00:00:00Z" });
        assert.strictEqual(JSON.parse((await post2(fresh, old, "old-82")).body).error.code, "stale-event");
        assert.deepStrictEqual(await fresh.demand(), { "pool-a": 1, "pool-b": 0 });

        // The protection switched off: records that forget completions let the same replay raise demand.
        class Forgetful extends Records {
            override async jobFacts(jobId: number, status: string) {
                return status === "completed" ? undefined : super.jobFacts(jobId, status);
            }
        }
        const unprotected = instance(new Forgetful(records.store));
        assert.strictEqual((await post2(unprotected, queued, "attacker-id-2")).statusCode, 200);
        assert.deepStrictEqual(await unprotected.demand(), { "pool-a": 2, "pool-b": 0 }, "without the check the replay inflates demand");
    });

    it("reads only pending work in a pass, whatever the number of finished jobs", async () => {
        const cost = async () => {
            let reads = 0;
            const store = records.store;
            const counting = { ...store, read: (n: string) => (reads++, store.read(n)), list: async (p: string) => { const l = await store.list(p); reads += l.length; return l; }, create: store.create.bind(store), delete: store.delete.bind(store) };
            const svc = buildWebhookService({ pools, secret: SECRET, records: new Records(counting), github, demandPublisher: { publish: async () => undefined }, scaler: { deleteInstance: async () => undefined } });
            github.jobCalls = github.runnerCalls = 0;
            await svc.reconcile();
            return { reads, github: github.jobCalls + github.runnerCalls };
        };
        const finish = async (from: number, n: number) => {
            for (let i = from; i < from + n; i++) {
                const reg = await register("pool-a", String(900 + i));
                await post(event("queued", job(i, "queued", pools[0].labels)));
                await post(event("in_progress", job(i, "in_progress", pools[0].labels, reg.runnerName)));
                await post(event("completed", job(i, "completed", pools[0].labels, reg.runnerName)));
            }
        };
        await post(event("queued", job(99, "queued", pools[1].labels)));
        github.jobs.set(99, job(99, "queued", pools[1].labels) as unknown as GithubJob);
        await finish(100, 3);
        const small = await cost();
        await finish(200, 30);
        const large = await cost();
        assert.deepStrictEqual(large, small, "30 more finished jobs cost the pass nothing");
        assert.deepStrictEqual(small.github, 1, "one jobs-API read: the one pending job");
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

    it("counts a job once per pool while it is queued or running, and never after its completion", async () => {
        const labels = pools[0].labels;
        await post(event("queued", job(90, "queued", labels)));
        await post(event("queued", job(90, "queued", labels)));
        await post(event("in_progress", job(90, "in_progress", labels, "not-ours")));
        assert.strictEqual((await service.demand())["pool-a"], 1);
        await post(event("waiting", job(91, "waiting", labels)));
        assert.strictEqual((await service.demand())["pool-a"], 1, "a job waiting for an approval needs no runner yet");
        await post(event("completed", job(90, "completed", labels, "not-ours")));
        assert.strictEqual((await service.demand())["pool-a"], 0);
        assert.strictEqual((await post(event("in_progress", job(90, "in_progress", labels, "not-ours")))).statusCode, 409);
        assert.strictEqual((await service.demand())["pool-a"], 0);
    });
});
