import * as assert from "assert";
import { createHmac, generateKeyPairSync } from "crypto";
import Fastify, { FastifyInstance } from "fastify";
import { GithubApiError, GithubAppOptions, GithubRestClient } from "../../../services/controlPlane/github";
import { FakeGithub } from "../../../services/sim/fakeGithub";

const SECRET = "hook-secret";

describe("fake GitHub API + the Octokit client (App auth, retries, ETags, budget)", () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    let gh: FakeGithub;
    let hooks: { headers: Record<string, any>; body: Buffer }[];
    let hookStatus: number;
    let receiver: FastifyInstance;

    const client = (opts: Partial<GithubAppOptions> = {}) =>
        new GithubRestClient({ baseUrl: gh.url, appId: "42", installationId: "7", privateKey: async () => pem, org: "acme", retryBaseMs: 5, writesPerSecond: 1000, ...opts });

    const start = async (rateLimit?: number) => {
        gh = new FakeGithub({
            appId: "42", installationId: "7", appPublicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
            org: "acme", repositories: ["acme/app", "acme/lib"], webhookUrl: `${receiver.listeningOrigin}/hook`, webhookSecret: SECRET,
            ...(rateLimit !== undefined ? { rateLimit } : {}),
        });
        await gh.listen();
    };

    beforeEach(async () => {
        hooks = [];
        hookStatus = 200;
        receiver = Fastify();
        receiver.addContentTypeParser("application/json", { parseAs: "buffer" }, (_r: unknown, b: Buffer, d: (e: null, v: Buffer) => void) => d(null, b));
        receiver.post("/hook", async (req: any, reply) => {
            hooks.push({ headers: req.headers, body: req.body as Buffer });
            return reply.code(hookStatus).send({});
        });
        await receiver.listen({ host: "127.0.0.1", port: 0 });
        await start();
    });
    afterEach(async () => {
        await gh.close();
        await receiver.close();
    });

    it("exchanges an App JWT for an installation token and registers a JIT runner with the pool's labels", async () => {
        const jit = await client().generateJitConfig({ name: "pool-a-1", labels: ["self-hosted", "pool-a"], runnerGroupId: 3 });
        assert.ok(jit.runnerId > 0);
        assert.strictEqual(jit.runnerName, "pool-a-1");
        const runners = await client().listRunners();
        assert.deepStrictEqual(runners.map((r) => [r.name, r.busy, r.labels]), [["pool-a-1", false, ["self-hosted", "pool-a"]]]);
    });

    it("shares one installation-token exchange between calls", async () => {
        const c = client();
        await c.listRunners();
        await Promise.all([c.listRunners(), c.getRun("acme/app", 1).catch(() => undefined)]);
        assert.strictEqual(gh.stats.byRoute["POST /app/installations/:id/access_tokens"], 1);
    });

    it("refuses a JWT signed with another key or for another App (401, no retry)", async () => {
        for (const opts of [{ privateKey: async () => other.privateKey.export({ type: "pkcs8", format: "pem" }).toString() }, { appId: "43" }]) {
            await assert.rejects(client(opts).listRunners(), (err: any) => err instanceof GithubApiError && err.status === 401);
        }
        assert.strictEqual(gh.stats.byRoute["GET /orgs/:org/actions/runners"], undefined, "no call got past the token exchange");
    });

    it("refuses a second runner of the same name, and a JIT config used twice", async () => {
        const c = client();
        const jit = await c.generateJitConfig({ name: "r1", labels: ["self-hosted", "pool-a"], runnerGroupId: 1 });
        await assert.rejects(c.generateJitConfig({ name: "r1", labels: ["x"], runnerGroupId: 1 }), (err: any) => err instanceof GithubApiError && err.status === 409);
        await gh.connectRunner(jit.encodedJitConfig);
        await assert.rejects(gh.connectRunner(jit.encodedJitConfig), /already used/);
    });

    it("runs a job on a runner whose labels cover it, delivers signed webhooks, and reads runs and jobs", async () => {
        const c = client();
        const job = await gh.queueJob({ repository: "acme/app", labels: ["self-hosted", "pool-a"] });
        const jit = await c.generateJitConfig({ name: "r2", labels: ["self-hosted", "pool-a"], runnerGroupId: 1 });
        const picked = await gh.connectRunner(jit.encodedJitConfig);
        assert.strictEqual(picked?.id, job.id);
        assert.strictEqual(gh.runnerNamed("r2")?.busy, true);
        await gh.completeJob(job.id);
        assert.strictEqual(gh.runnerNamed("r2"), undefined, "the ephemeral runner is removed after its job");
        const run = await c.getRun("acme/app", job.run_id);
        assert.strictEqual(run.path, ".github/workflows/build.yml");
        const done = await c.getJob("acme/app", job.id);
        assert.deepStrictEqual([done.status, done.conclusion, done.runner_name], ["completed", "success", "r2"]);
        await assert.rejects(c.getJob("acme/lib", job.id), (err: any) => err instanceof GithubApiError && err.status === 404);
        assert.deepStrictEqual(hooks.map((h) => [h.headers["x-github-event"], JSON.parse(h.body.toString()).action]),
            [["workflow_run", "requested"], ["workflow_job", "queued"], ["workflow_job", "in_progress"], ["workflow_job", "completed"]]);
        const runEvent = JSON.parse(hooks[0].body.toString()).workflow_run;
        assert.deepStrictEqual([runEvent.id, runEvent.path, runEvent.event], [job.run_id, ".github/workflows/build.yml", "push"]);
        for (const h of hooks) {
            assert.strictEqual(h.headers["x-hub-signature-256"], `sha256=${createHmac("sha256", SECRET).update(h.body).digest("hex")}`);
            assert.match(h.headers["x-github-event"], /^workflow_(job|run)$/);
        }
    });

    it("repeats listings conditionally: an unchanged answer is a 304 that does not count, a changed one is read again", async () => {
        const c = client();
        await c.generateJitConfig({ name: "r3", labels: ["self-hosted"], runnerGroupId: 1 });
        const first = await c.listRunners();
        const counted = gh.stats.counted;
        const again = await c.listRunners();
        assert.deepStrictEqual(again, first);
        assert.strictEqual(gh.stats.notModified, 1);
        assert.strictEqual(gh.stats.counted, counted, "a 304 is not counted");
        await c.generateJitConfig({ name: "r4", labels: ["self-hosted"], runnerGroupId: 1 });
        assert.deepStrictEqual((await c.listRunners()).map((r) => r.name), ["r3", "r4"]);
        assert.strictEqual(gh.stats.notModified, 1);
    });

    it("never uses more than its share of the installation's rate limit, and fails fast past it", async () => {
        await gh.close();
        await start(10);
        const c = client({ budgetShare: 0.5 });
        await c.getRun("acme/app", 1).catch(() => undefined); // token exchange + 1 counted request
        let served = 0;
        let refusal: unknown;
        for (let i = 0; i < 8 && refusal === undefined; i++) {
            await c.getJob("acme/app", 1).then(() => served++, (err) => (err instanceof GithubApiError && err.status === 404 ? served++ : (refusal = err)));
        }
        assert.ok(refusal instanceof GithubApiError && refusal.status === 429 && /budget-exhausted/.test(refusal.message), String(refusal));
        assert.strictEqual(served + 1, 5, "5 of 10 requests: the fleet's half");
        assert.strictEqual(c.budget.headroom(), 0);
        const asked = gh.stats.requests;
        await assert.rejects(c.listRunners(), /budget-exhausted/);
        assert.strictEqual(gh.stats.requests, asked, "a refused request never reaches GitHub");
    });

    it("honours GitHub's rate-limit answer: no long sleep, no retry storm, a clear error", async () => {
        await gh.close();
        await start(2);
        const c = client({ budgetShare: 1, maxRateLimitWaitSeconds: 1 });
        await c.listRunners();
        await c.getRun("acme/app", 1).catch(() => undefined);
        const asked = gh.stats.requests;
        await assert.rejects(c.getJob("acme/app", 1), (err: any) => err instanceof GithubApiError && (err.status === 403 || err.status === 429));
        assert.ok(gh.stats.requests - asked <= 1, `at most one request past the limit, got ${gh.stats.requests - asked}`);
    });

    it("retries a server error with backoff", async () => {
        let failures = 2;
        const flaky: typeof fetch = async (input, init) => {
            if (String(input).includes("/actions/runners") && failures-- > 0) {
                return new Response(JSON.stringify({ message: "unavailable" }), { status: 503, headers: { "content-type": "application/json" } });
            }
            return fetch(input, init);
        };
        assert.deepStrictEqual(await client({ fetch: flaky }).listRunners(), []);
        assert.strictEqual(failures, -1, "two failures, then the third attempt");
    });

    it("looks up a branch and a tag of the same name in one GraphQL request", async () => {
        const c = client();
        gh.setRef("acme/app", "refs/heads/main", "a".repeat(40));
        gh.setRef("acme/app", "refs/tags/v1", "b".repeat(40));
        const before = gh.stats.byRoute["POST /graphql"] ?? 0;
        const [branch, tag, missing] = await Promise.all([c.getRef("acme/app", "heads/main"), c.getRef("acme/app", "tags/v1"), c.getRef("acme/app", "tags/main")]);
        assert.deepStrictEqual(branch, { ref: "refs/heads/main", object: { sha: "a".repeat(40), type: "commit" }, recent: ["a".repeat(40)] });
        assert.deepStrictEqual(tag?.object.sha, "b".repeat(40));
        assert.strictEqual(missing, undefined);
        assert.strictEqual((gh.stats.byRoute["POST /graphql"] ?? 0) - before, 1);
        // In the same request, a branch's recent history: after two fast-forward pushes it lists all three, newest first.
        gh.setRef("acme/app", "refs/heads/main", "c".repeat(40));
        gh.setRef("acme/app", "refs/heads/main", "d".repeat(40));
        assert.deepStrictEqual((await c.getRef("acme/app", "heads/main"))?.recent, ["d".repeat(40), "c".repeat(40), "a".repeat(40)]);
        // A force-push starts an unrelated history.
        gh.setRef("acme/app", "refs/heads/main", "e".repeat(40), { force: true });
        assert.deepStrictEqual((await c.getRef("acme/app", "heads/main"))?.recent, ["e".repeat(40)]);
        // A name that looks like GraphQL travels as a variable and stays a name.
        assert.strictEqual(await c.getRef("acme/app", 'heads/x") { oid } #'), undefined);
        // A repository that does not exist has no refs (GraphQL's NOT_FOUND), as REST's 404 said.
        assert.strictEqual(await c.getRef("acme/gone", "heads/main"), undefined);
    });

    it("logs every delivery attempt and redelivers a failed one under the same delivery id", async () => {
        hookStatus = 503;
        await gh.queueJob({ repository: "acme/app", labels: ["self-hosted"] });
        gh.dropWebhooks = true;
        await gh.queueJob({ repository: "acme/app", labels: ["self-hosted"] });
        gh.dropWebhooks = false;
        hookStatus = 200;
        const c = client();
        const log = await c.listHookDeliveries(() => false);
        assert.deepStrictEqual(log.map((d) => [d.event, d.action, d.statusCode, d.redelivery]), [
            ["workflow_job", "queued", 0, false], ["workflow_run", "requested", 0, false], ["workflow_job", "queued", 503, false], ["workflow_run", "requested", 503, false]]);
        await c.redeliver(log[0].id);
        assert.strictEqual(hooks.length, 3, "two failed attempts reached the receiver, then the redelivery");
        assert.strictEqual(hooks[2].headers["x-github-delivery"], log[0].guid);
        const after = await c.listHookDeliveries(() => false);
        assert.deepStrictEqual([after[0].guid, after[0].statusCode, after[0].redelivery], [log[0].guid, 200, true]);
        await assert.rejects(client({ appId: "43" }).listHookDeliveries(() => false), (err: any) => err.status === 401);
    });
});
