import * as assert from "assert";
import { createHmac, generateKeyPairSync } from "crypto";
import Fastify, { FastifyInstance } from "fastify";
import { appJwt, GithubApiError, GithubRestClient } from "../../services/controlPlane/github";
import { FakeGithub } from "../../services/sim/fakeGithub";

const SECRET = "hook-secret";

describe("fake GitHub API + the real GithubRestClient", () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    let gh: FakeGithub;
    let hooks: { headers: Record<string, any>; body: Buffer }[];
    let receiver: FastifyInstance;

    const client = (opts: Partial<ConstructorParameters<typeof GithubRestClient>[0]> = {}) =>
        new GithubRestClient({ baseUrl: gh.url, appId: "42", installationId: "7", privateKey: async () => pem, org: "acme", ...opts });

    beforeEach(async () => {
        hooks = [];
        receiver = Fastify();
        receiver.addContentTypeParser("application/json", { parseAs: "buffer" }, (_r: unknown, b: Buffer, d: (e: null, v: Buffer) => void) => d(null, b));
        receiver.post("/hook", async (req: any) => {
            hooks.push({ headers: req.headers, body: req.body as Buffer });
            return {};
        });
        const hookUrl = await receiver.listen({ host: "127.0.0.1", port: 0 });
        gh = new FakeGithub({
            appId: "42", installationId: "7", appPublicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
            org: "acme", repositories: ["acme/app", "acme/lib"], webhookUrl: `${hookUrl}/hook`, webhookSecret: SECRET,
        });
        await gh.listen();
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

    it("shares one installation-token exchange between concurrent calls", async () => {
        let exchanges = 0;
        const counting: typeof fetch = async (input, init) => {
            if (String(input).includes("/access_tokens")) {
                exchanges++;
            }
            return fetch(input, init);
        };
        const c = client({ fetch: counting });
        await Promise.all([c.listRunners(), c.listRunners(), c.listActiveJobs()]);
        await c.listRunners();
        assert.strictEqual(exchanges, 1);
    });

    it("refuses a JWT signed with another key, for another App, or expired", async () => {
        for (const opts of [
            { privateKey: async () => other.privateKey.export({ type: "pkcs8", format: "pem" }).toString() },
            { appId: "43" },
            { now: () => new Date(Date.now() - 3600_000) },
        ]) {
            await assert.rejects(client(opts).listRunners(), (err: any) => err instanceof GithubApiError && err.status === 401);
        }
        const bearer = appJwt("42", privateKey, new Date());
        const res = await fetch(`${gh.url}/orgs/acme/actions/runners`, { headers: { authorization: `Bearer ${bearer}` } });
        assert.strictEqual(res.status, 401, "an App JWT is not an installation token");
    });

    it("refuses a second runner of the same name, and a JIT config used twice", async () => {
        const c = client();
        const jit = await c.generateJitConfig({ name: "r1", labels: ["self-hosted", "pool-a"], runnerGroupId: 1 });
        await assert.rejects(c.generateJitConfig({ name: "r1", labels: ["x"], runnerGroupId: 1 }), /409/);
        await gh.connectRunner(jit.encodedJitConfig);
        await assert.rejects(gh.connectRunner(jit.encodedJitConfig), /already used/);
    });

    it("runs a job on a runner whose labels cover it, delivers signed webhooks, and lists active jobs", async () => {
        const c = client();
        const job = await gh.queueJob({ repository: "acme/app", labels: ["self-hosted", "pool-a"] });
        await gh.queueJob({ repository: "acme/lib", labels: ["self-hosted", "pool-b"] });
        assert.strictEqual((await c.listActiveJobs()).length, 2);
        const jit = await c.generateJitConfig({ name: "r2", labels: ["self-hosted", "pool-a"], runnerGroupId: 1 });
        const picked = await gh.connectRunner(jit.encodedJitConfig);
        assert.strictEqual(picked?.id, job.id);
        assert.strictEqual(gh.runnerNamed("r2")?.busy, true);
        await gh.completeJob(job.id);
        assert.strictEqual(gh.runnerNamed("r2"), undefined, "the ephemeral runner is removed after its job");
        const active = await c.listActiveJobs();
        assert.deepStrictEqual(active.map((a) => a.repository), ["acme/lib"]);
        const run = await c.getRun("acme/app", job.run_id);
        assert.strictEqual(run.path, ".github/workflows/build.yml");
        const done = await c.getJob("acme/app", job.id);
        assert.deepStrictEqual([done.status, done.conclusion, done.runner_name], ["completed", "success", "r2"]);
        await assert.rejects(c.getJob("acme/lib", job.id), /404/);
        assert.deepStrictEqual(hooks.map((h) => JSON.parse(h.body.toString()).action), ["queued", "queued", "in_progress", "completed"]);
        for (const h of hooks) {
            assert.strictEqual(h.headers["x-hub-signature-256"], `sha256=${createHmac("sha256", SECRET).update(h.body).digest("hex")}`);
            assert.strictEqual(h.headers["x-github-event"], "workflow_job");
        }
    });

    it("drops webhooks on request (lost deliveries)", async () => {
        gh.dropWebhooks = true;
        await gh.queueJob({ repository: "acme/app", labels: ["self-hosted"] });
        assert.strictEqual(hooks.length, 0);
    });
});
