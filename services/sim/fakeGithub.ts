/**
 * A fake GitHub API on loopback, for tests and `npm run simulate`. It implements the slice of the
 * REST API the control plane calls (the real GithubRestClient talks to it) and plays GitHub's part
 * in the job flow:
 * - App authentication: an RS256 App JWT (verified against the App public key generated at test
 *   time: signature, iss, iat/exp, at most 10 minutes) -> an installation token; every other call
 *   needs that token.
 * - `generate-jitconfig` (org or repo level) registers an ephemeral runner; its JIT config is usable
 *   once, by one runner, for one job.
 * - Jobs are queued with labels; a runner that connects with its JIT config picks up the oldest
 *   queued job whose labels it has (GitHub's rule); completing the job removes the ephemeral runner.
 * - Each job status change is delivered as a `workflow_job` webhook signed with the webhook secret
 *   (X-Hub-Signature-256), like GitHub's; deliveries can fail (the receiver unreachable) to exercise
 *   reconciliation. Every attempt is in the App's delivery log (GET /app/hook/deliveries, App JWT),
 *   and can be redelivered (POST /app/hook/deliveries/{id}/attempts) under the same X-GitHub-Delivery.
 * - Rate limits like GitHub's: `x-ratelimit-*` headers on every installation-token answer, 403 once
 *   the hourly limit is spent; GETs carry an ETag and answer `If-None-Match` with a 304 that does not
 *   count. `stats` counts what was asked, per route, for the simulation's cost figures.
 */
import { createHash, createHmac, createPublicKey, KeyObject, randomBytes, randomUUID, verify } from "crypto";
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export interface FakeGithubOptions {
    appId: string;
    installationId: string;
    /** The App's public key (PEM); its private key is generated at test time and given to the broker. */
    appPublicKey: string;
    org: string;
    repositories: string[];
    /** Where webhooks go and the secret that signs them. */
    webhookUrl?: string;
    webhookSecret: string;
    /** Installation requests per hour (GitHub: 5,000 for an App installation). */
    rateLimit?: number;
    now?: () => Date;
}

/** What the fake was asked: every request, the 304s among them (free), and the counted ones per route. */
export interface FakeGithubStats {
    requests: number;
    notModified: number;
    counted: number;
    byRoute: Record<string, number>;
}

/** One entry of the App's delivery log. */
interface LoggedDelivery {
    id: number;
    guid: string;
    delivered_at: string;
    redelivery: boolean;
    status_code: number;
    event: string;
    action: string | null;
    body: Buffer;
    signature: string;
}

export interface FakeJob {
    id: number;
    run_id: number;
    run_attempt: number;
    status: "queued" | "in_progress" | "completed";
    conclusion: string | null;
    head_sha: string;
    head_branch: string | null;
    workflow_name: string;
    runner_name: string | null;
    runner_id: number | null;
    runner_group_id: number | null;
    labels: string[];
    started_at: string | null;
    completed_at: string | null;
    created_at: string;
    repository: string;
}

interface FakeRun {
    id: number;
    repository: string;
    path: string;
    head_branch: string | null;
    head_sha: string;
    event: string;
    run_attempt: number;
    status: string;
    name: string;
    pull_requests: { number: number; base: { ref: string } }[];
}

interface FakeRunner {
    id: number;
    name: string;
    labels: string[];
    busy: boolean;
    status: "offline" | "online";
    jitSecret: string;
    jitUsed: boolean;
    runnerGroupId: number;
    /** "org", or the repository a repository-level runner belongs to: names are unique per scope only. */
    scope: string;
}

export interface Delivery {
    id: string;
    event: string;
    body: Buffer;
    signature: string;
    status: number;
    /** The receiver's answer body. */
    response?: string;
}

function json(reply: FastifyReply, status: number, body: unknown): FastifyReply {
    return reply.code(status).type("application/json").send(body);
}

export class FakeGithub {
    readonly app: FastifyInstance;
    private readonly appKey: KeyObject;
    private readonly tokens = new Map<string, number>();
    private readonly runners = new Map<number, FakeRunner>();
    private readonly runs = new Map<number, FakeRun>();
    /** repository -> ref -> commit */
    private readonly refs = new Map<string, Map<string, string>>();
    /** `<repository>@<commit>` -> its parent, for the branch histories GraphQL lists. */
    private readonly parents = new Map<string, string>();
    readonly jobs = new Map<number, FakeJob>();
    readonly deliveries: Delivery[] = [];
    /** The App's delivery log, oldest first (every attempt, failed ones included). */
    private readonly hookLog: LoggedDelivery[] = [];
    /** While true, status changes do not reach the receiver (it is unreachable): logged as failed, status 0. */
    dropWebhooks = false;
    readonly stats: FakeGithubStats = { requests: 0, notModified: 0, counted: 0, byRoute: {} };
    /** Counted installation requests in the current rate-limit window. */
    private used = 0;
    private windowReset = 0;
    private nextId = 1000;
    private readonly now: () => Date;
    url = "";

    constructor(readonly opts: FakeGithubOptions) {
        this.appKey = createPublicKey(opts.appPublicKey);
        this.now = opts.now ?? (() => new Date());
        this.app = Fastify({ logger: false });
        this.rateLimits();
        this.routes();
    }

    async listen(): Promise<string> {
        const address = await this.app.listen({ host: "127.0.0.1", port: 0 });
        this.url = address;
        return address;
    }

    close(): Promise<void> {
        return this.app.close();
    }

    private id(): number {
        return this.nextId++;
    }

    /** Verifies an App JWT; returns an error message or undefined. */
    private checkAppJwt(jwt: string): string | undefined {
        const parts = jwt.split(".");
        if (parts.length !== 3) {
            return "A JSON web token could not be decoded";
        }
        let header: any;
        let payload: any;
        try {
            header = JSON.parse(Buffer.from(parts[0], "base64url").toString());
            payload = JSON.parse(Buffer.from(parts[1], "base64url").toString());
        } catch {
            return "A JSON web token could not be decoded";
        }
        if (header.alg !== "RS256") {
            return "JWT alg must be RS256";
        }
        if (!verify("sha256", Buffer.from(`${parts[0]}.${parts[1]}`), this.appKey, Buffer.from(parts[2], "base64url"))) {
            return "A JSON web token could not be decoded (signature)";
        }
        const now = Math.floor(this.now().getTime() / 1000);
        if (String(payload.iss) !== this.opts.appId) {
            return "'Issuer' claim ('iss') must be the App id";
        }
        if (typeof payload.exp !== "number" || payload.exp <= now) {
            return "'Expiration time' claim ('exp') must be a numeric value representing the future time";
        }
        if (typeof payload.iat !== "number" || payload.iat > now + 60 || payload.exp - payload.iat > 600) {
            return "'Issued at' claim ('iat') must be in the past and the JWT valid for at most 10 minutes";
        }
        return undefined;
    }

    private authed(request: FastifyRequest, reply: FastifyReply): boolean {
        const m = /^(?:bearer|token) (.+)$/i.exec(request.headers.authorization ?? "");
        const expires = m ? this.tokens.get(m[1]) : undefined;
        if (expires === undefined || expires < this.now().getTime()) {
            json(reply, 401, { message: "Bad credentials" });
            return false;
        }
        const now = this.now().getTime();
        if (now >= this.windowReset) {
            this.windowReset = now + 3600_000;
            this.used = 0;
        }
        (request as any).installation = true;
        if (this.used >= this.limit) {
            json(reply, 403, { message: `API rate limit exceeded for installation ID ${this.opts.installationId}.` });
            return false;
        }
        this.used++;
        return true;
    }

    private get limit(): number {
        return this.opts.rateLimit ?? 5000;
    }

    /** Request counting, ETags with free 304s, and the rate-limit headers of installation requests. */
    private rateLimits(): void {
        this.app.addHook("onSend", async (request, reply, payload) => {
            const routeKey = `${request.method} ${request.routeOptions.url ?? request.url.split("?")[0]}`;
            this.stats.requests++;
            let body = payload;
            if (request.method === "GET" && reply.statusCode === 200 && typeof payload === "string") {
                const etag = `W/"${createHash("sha256").update(payload).digest("hex").slice(0, 32)}"`;
                reply.header("etag", etag);
                if (request.headers["if-none-match"] === etag) {
                    reply.code(304);
                    body = "";
                    this.stats.notModified++;
                    if ((request as any).installation === true) {
                        this.used--;
                    }
                }
            }
            if (reply.statusCode !== 304 && (request as any).free !== true) {
                this.stats.counted++;
                this.stats.byRoute[routeKey] = (this.stats.byRoute[routeKey] ?? 0) + 1;
            }
            if ((request as any).installation === true) {
                reply.header("x-ratelimit-limit", String(this.limit));
                reply.header("x-ratelimit-remaining", String(Math.max(0, this.limit - this.used)));
                reply.header("x-ratelimit-used", String(this.used));
                reply.header("x-ratelimit-reset", String(Math.ceil(this.windowReset / 1000)));
                reply.header("x-ratelimit-resource", "core");
            }
            return body;
        });
    }

    /** The App JWT of an /app/ route; answers 401 and returns false when it is missing or invalid. */
    private appAuthed(request: FastifyRequest, reply: FastifyReply): boolean {
        const m = /^(?:bearer|token) (.+)$/i.exec(request.headers.authorization ?? "");
        const problem = m ? this.checkAppJwt(m[1]) : "missing App JWT";
        if (problem !== undefined) {
            json(reply, 401, { message: problem });
            return false;
        }
        return true;
    }

    private routes(): void {
        const app = this.app;
        app.post("/app/installations/:id/access_tokens", async (request, reply) => {
            if (!this.appAuthed(request, reply)) {
                return reply;
            }
            if ((request.params as any).id !== this.opts.installationId) {
                return json(reply, 404, { message: "Not Found" });
            }
            const token = `ghs_${randomBytes(18).toString("hex")}`;
            const expires = this.now().getTime() + 3600_000;
            this.tokens.set(token, expires);
            return json(reply, 201, { token, expires_at: new Date(expires).toISOString() });
        });

        const jit = async (request: FastifyRequest, reply: FastifyReply) => {
            if (!this.authed(request, reply)) {
                return reply;
            }
            const body: any = request.body;
            if (typeof body?.name !== "string" || !Number.isInteger(body?.runner_group_id) || !Array.isArray(body?.labels) || body.labels.length === 0) {
                return json(reply, 422, { message: "Invalid request: name, runner_group_id and labels are required" });
            }
            const params = request.params as Record<string, string>;
            const scope = params.owner !== undefined ? `${params.owner}/${params.repo}` : "org";
            if ([...this.runners.values()].some((r) => r.name === body.name && r.scope === scope)) {
                return json(reply, 409, { message: "Already exists - A runner with the same name already exists" });
            }
            const runner: FakeRunner = {
                id: this.id(),
                name: body.name,
                labels: body.labels,
                busy: false,
                status: "offline",
                jitSecret: randomBytes(16).toString("hex"),
                jitUsed: false,
                runnerGroupId: body.runner_group_id,
                scope,
            };
            this.runners.set(runner.id, runner);
            const encoded = Buffer.from(JSON.stringify({ runnerId: runner.id, name: runner.name, secret: runner.jitSecret })).toString("base64");
            return json(reply, 201, { runner: this.runnerView(runner), encoded_jit_config: encoded });
        };
        app.post("/orgs/:org/actions/runners/generate-jitconfig", jit);
        app.post("/repos/:owner/:repo/actions/runners/generate-jitconfig", jit);

        const listRunners = async (request: FastifyRequest, reply: FastifyReply) => {
            if (!this.authed(request, reply)) {
                return reply;
            }
            const all = [...this.runners.values()].map((r) => this.runnerView(r));
            return json(reply, 200, { total_count: all.length, runners: this.page(request, all) });
        };
        app.get("/orgs/:org/actions/runners", listRunners);
        // GitHub does not count /rate_limit against the limit: the services' readiness check.
        app.get("/rate_limit", async (request, reply) => {
            const m = /^(?:bearer|token) (.+)$/i.exec(request.headers.authorization ?? "");
            const expires = m ? this.tokens.get(m[1]) : undefined;
            if (expires === undefined || expires < this.now().getTime()) {
                return json(reply, 401, { message: "Bad credentials" });
            }
            (request as any).free = true;
            const core = { limit: this.limit, used: this.used, remaining: Math.max(0, this.limit - this.used), reset: Math.ceil(this.windowReset / 1000) };
            return json(reply, 200, { resources: { core }, rate: core });
        });
        app.get("/repos/:owner/:repo/actions/runners", listRunners);

        // The App's webhook delivery log: newest first, cursor-paged through the Link header.
        app.get("/app/hook/deliveries", async (request, reply) => {
            if (!this.appAuthed(request, reply)) {
                return reply;
            }
            const q = request.query as any;
            const per = Math.min(Number(q.per_page ?? 30), 100);
            const before = q.cursor !== undefined ? Number(q.cursor) : Infinity;
            const items = this.hookLog.filter((d) => d.id < before).reverse().slice(0, per);
            if (items.length === per && this.hookLog.some((d) => d.id < items[items.length - 1].id)) {
                reply.header("link", `<${this.url}/app/hook/deliveries?per_page=${per}&cursor=${items[items.length - 1].id}>; rel="next"`);
            }
            return json(reply, 200, items.map(({ body: _b, signature: _s, ...d }) => d));
        });
        app.post("/app/hook/deliveries/:id/attempts", async (request, reply) => {
            if (!this.appAuthed(request, reply)) {
                return reply;
            }
            const original = this.hookLog.find((d) => d.id === Number((request.params as any).id));
            if (original === undefined) {
                return json(reply, 404, { message: "Not Found" });
            }
            await this.post({ id: original.guid, event: original.event, body: original.body, signature: original.signature, status: 0 }, true);
            return json(reply, 202, {});
        });
        // One run or one job of a repository.
        const one = (items: Map<number, { repository: string }>, param: string) => async (request: FastifyRequest, reply: FastifyReply) => {
            if (!this.authed(request, reply)) {
                return reply;
            }
            const params = request.params as Record<string, string>;
            const found = items.get(Number(params[param]));
            return found && found.repository === `${params.owner}/${params.repo}` ? json(reply, 200, found) : json(reply, 404, { message: "Not Found" });
        };
        app.get("/repos/:owner/:repo/actions/runs/:run", async (request, reply) => {
            if (!this.authed(request, reply)) {
                return reply;
            }
            const params = request.params as Record<string, string>;
            const run = this.runs.get(Number(params.run));
            return run && run.repository === `${params.owner}/${params.repo}` ? json(reply, 200, this.runView(run)) : json(reply, 404, { message: "Not Found" });
        });
        app.get("/repos/:owner/:repo/git/ref/*", async (request, reply) => {
            if (!this.authed(request, reply)) {
                return reply;
            }
            const params = request.params as Record<string, string>;
            const ref = `refs/${params["*"]}`;
            const sha = this.refs.get(`${params.owner}/${params.repo}`)?.get(ref);
            return sha !== undefined ? json(reply, 200, { ref, object: { sha, type: "commit" } }) : json(reply, 404, { message: "Not Found" });
        });
        app.get("/repos/:owner/:repo/actions/jobs/:job", one(this.jobs, "job"));
        // GraphQL: the one shape the control plane asks, refs of a repository by qualified name, aliased.
        app.post("/graphql", async (request, reply) => {
            if (!this.authed(request, reply)) {
                return reply;
            }
            const { query, variables } = (request.body ?? {}) as { query?: unknown; variables?: Record<string, unknown> };
            if (typeof query !== "string" || !/^query\(.*\) \{ repository\(owner: \$owner, name: \$name\) \{ .* \} \}$/.test(query)) {
                return json(reply, 200, { errors: [{ type: "UNSUPPORTED", message: "the fake answers only ref look-ups of one repository" }] });
            }
            if (!this.opts.repositories.includes(`${variables?.owner}/${variables?.name}`)) {
                return json(reply, 200, { data: { repository: null }, errors: [{ type: "NOT_FOUND", path: ["repository"], message: "Could not resolve to a Repository" }] });
            }
            const refs = this.refs.get(`${variables?.owner}/${variables?.name}`);
            const repoName = `${variables?.owner}/${variables?.name}`;
            const repository = Object.fromEntries([...query.matchAll(/(\w+): ref\(qualifiedName: \$(\w+)\) \{ target \{ __typename oid(?: \.\.\. on Commit \{ history\(first: (\d+)\) \{ nodes \{ oid \} \} \})? \} \}/g)].map(([, alias, v, depth]) => {
                const sha = refs?.get(String(variables?.[v]));
                const history = depth === undefined || sha === undefined ? {} : { history: { nodes: this.history(repoName, sha, Number(depth)).map((oid) => ({ oid })) } };
                return [alias, sha === undefined ? null : { target: { __typename: "Commit", oid: sha, ...history } }];
            }));
            return json(reply, 200, { data: { repository } });
        });
    }

    private page<T>(request: FastifyRequest, items: T[]): T[] {
        const q = request.query as any;
        const per = Math.min(Number(q.per_page ?? 30), 100);
        const page = Math.max(Number(q.page ?? 1), 1);
        return items.slice((page - 1) * per, page * per);
    }

    /** Stable numeric ids of a repository and its owner, as GitHub keeps them across renames. */
    repositoryIds(fullName: string): { id: number; ownerId: number } {
        const n = (v: string) => (parseInt(createHmac("sha256", "ids").update(v).digest("hex").slice(0, 8), 16) % 900_000_000) + 100_000_000;
        return { id: n(fullName), ownerId: n(fullName.split("/")[0]) };
    }

    private runView(run: FakeRun) {
        const ids = this.repositoryIds(run.repository);
        const [owner] = run.repository.split("/");
        return { ...run, repository: { id: ids.id, full_name: run.repository, owner: { id: ids.ownerId, login: owner } } };
    }

    /**
     * Sets a git ref of a repository (`refs/heads/x`, `refs/tags/y`) to a commit. A branch moved to a new commit
     * fast-forwards: the new commit's parent is the branch's previous one (`force` makes it unrelated).
     */
    setRef(repository: string, ref: string, sha: string, opts: { force?: boolean } = {}): void {
        const refs = this.refs.get(repository) ?? new Map<string, string>();
        const previous = refs.get(ref);
        if (ref.startsWith("refs/heads/") && previous !== undefined && previous !== sha && opts.force !== true && !this.parents.has(`${repository}@${sha}`)) {
            this.parents.set(`${repository}@${sha}`, previous);
        }
        refs.set(ref, sha);
        this.refs.set(repository, refs);
    }

    /** A commit and its ancestors, newest first, at most `depth` (what GraphQL's Commit.history lists). */
    private history(repository: string, sha: string, depth: number): string[] {
        const out: string[] = [];
        for (let c: string | undefined = sha; c !== undefined && out.length < depth && !out.includes(c); c = this.parents.get(`${repository}@${c}`)) {
            out.push(c);
        }
        return out;
    }

    private runnerView(r: FakeRunner) {
        return { id: r.id, name: r.name, os: "linux", status: r.status, busy: r.busy, labels: r.labels.map((name) => ({ name, type: "custom" })) };
    }

    /**
     * Queues a job (a workflow run with one job) and delivers `workflow_job` queued. `ref` is what
     * triggered the run (default `refs/heads/main`, pushed): a push sets that branch or tag to the
     * commit; a pull request (`refs/pull/<n>/merge`, event pull_request) runs on `headBranch` and is
     * listed on the run only when it is not from a fork, as GitHub does.
     */
    async queueJob(opts: { repository: string; labels: string[]; workflowPath?: string; headSha?: string; ref?: string; event?: string; headBranch?: string; fork?: boolean }): Promise<FakeJob> {
        const now = this.now().toISOString();
        const ref = opts.ref ?? "refs/heads/main";
        const sha = opts.headSha ?? randomBytes(20).toString("hex");
        const pr = /^refs\/pull\/(\d+)\/merge$/.exec(ref);
        const name = pr ? opts.headBranch ?? "feature" : ref.replace(/^refs\/(heads|tags)\//, "");
        if (!pr) {
            this.setRef(opts.repository, ref, sha);
        }
        const run: FakeRun = {
            id: this.id(),
            repository: opts.repository,
            path: opts.workflowPath ?? ".github/workflows/build.yml",
            head_branch: name,
            head_sha: sha,
            event: opts.event ?? (pr ? "pull_request" : "push"),
            run_attempt: 1,
            status: "queued",
            name: "build",
            pull_requests: pr && !opts.fork ? [{ number: Number(pr[1]), base: { ref: "main" } }] : [],
        };
        this.runs.set(run.id, run);
        const job: FakeJob = {
            id: this.id(),
            run_id: run.id,
            run_attempt: 1,
            status: "queued",
            conclusion: null,
            head_sha: run.head_sha,
            head_branch: run.head_branch,
            workflow_name: run.name,
            runner_name: null,
            runner_id: null,
            runner_group_id: null,
            labels: opts.labels,
            started_at: null,
            completed_at: null,
            created_at: now,
            repository: opts.repository,
        };
        this.jobs.set(job.id, job);
        if (this.opts.webhookUrl !== undefined) {
            await this.deliver("workflow_run", this.runPayload("requested", run));
        }
        await this.notify("queued", job);
        return job;
    }

    /**
     * A runner connects with its JIT config: single use. It picks up the oldest queued job whose
     * labels it has (case-insensitive), which moves to in_progress.
     */
    async connectRunner(encodedJitConfig: string): Promise<FakeJob | undefined> {
        let parsed: any;
        try {
            parsed = JSON.parse(Buffer.from(encodedJitConfig, "base64").toString());
        } catch {
            throw new Error("invalid JIT config");
        }
        const runner = this.runners.get(parsed.runnerId);
        if (runner === undefined || runner.jitSecret !== parsed.secret) {
            throw new Error("JIT config does not match a registered runner");
        }
        if (runner.jitUsed) {
            throw new Error(`JIT config of runner ${runner.name} was already used`);
        }
        runner.jitUsed = true;
        runner.status = "online";
        const has = new Set(runner.labels.map((l) => l.toLowerCase()));
        const job = [...this.jobs.values()]
            .filter((j) => j.status === "queued" && j.labels.every((l) => has.has(l.toLowerCase())))
            .sort((a, b) => a.id - b.id)[0];
        if (job === undefined) {
            return undefined;
        }
        runner.busy = true;
        job.status = "in_progress";
        job.runner_name = runner.name;
        job.runner_id = runner.id;
        job.runner_group_id = runner.runnerGroupId;
        job.started_at = this.now().toISOString();
        const run = this.runs.get(job.run_id)!;
        run.status = "in_progress";
        await this.notify("in_progress", job);
        return job;
    }

    /** Completes a job; the ephemeral runner that ran it is removed. */
    async completeJob(jobId: number, conclusion = "success"): Promise<void> {
        const job = this.jobs.get(jobId);
        if (job === undefined || job.status !== "in_progress") {
            throw new Error(`job ${jobId} is not in progress`);
        }
        job.status = "completed";
        job.conclusion = conclusion;
        job.completed_at = this.now().toISOString();
        this.runs.get(job.run_id)!.status = "completed";
        if (job.runner_id !== null) {
            this.runners.delete(job.runner_id);
        }
        await this.notify("completed", job);
    }

    runnerNamed(name: string): { busy: boolean; status: string } | undefined {
        return [...this.runners.values()].find((r) => r.name === name);
    }

    /** A `workflow_run` event: the run as the REST API shows it (path, event, pull requests, repository ids). */
    private runPayload(action: string, run: FakeRun): Record<string, unknown> {
        const view = this.runView(run);
        return { action, workflow_run: view, repository: view.repository, organization: { login: this.opts.org }, installation: { id: Number(this.opts.installationId) } };
    }

    private payload(action: string, job: FakeJob): Record<string, unknown> {
        const { repository, runner_id, created_at, ...rest } = job;
        const ids = this.repositoryIds(repository);
        return {
            action,
            workflow_job: { ...rest, runner_id, created_at },
            repository: { id: ids.id, full_name: repository, name: repository.split("/")[1], owner: { id: ids.ownerId, login: repository.split("/")[0] } },
            organization: { login: this.opts.org },
            installation: { id: Number(this.opts.installationId) },
        };
    }

    private async notify(action: string, job: FakeJob): Promise<void> {
        if (this.opts.webhookUrl === undefined) {
            return;
        }
        await this.deliver("workflow_job", this.payload(action, job));
    }

    /** Signs and POSTs one delivery (with `secret` to forge one signed with another secret). */
    async deliver(event: string, payload: unknown, opts: { secret?: string; deliveryId?: string } = {}): Promise<Delivery> {
        const body = Buffer.from(JSON.stringify(payload));
        const signature = `sha256=${createHmac("sha256", opts.secret ?? this.opts.webhookSecret).update(body).digest("hex")}`;
        const id = opts.deliveryId ?? randomUUID();
        return this.post({ id, event, body, signature, status: 0 });
    }

    /** Sends the exact bytes and signature of an earlier delivery again (a replay). */
    redeliver(delivery: Delivery): Promise<Delivery> {
        return this.post({ ...delivery, status: 0 });
    }

    /** The payload GitHub would send for a job's current state (for forged or replayed events). */
    payloadOf(jobId: number, action: string): Record<string, unknown> {
        return this.payload(action, this.jobs.get(jobId)!);
    }

    private async post(d: Delivery, redelivery = false): Promise<Delivery> {
        const log = (status: number) => {
            let action: string | null = null;
            try {
                action = JSON.parse(d.body.toString()).action ?? null;
            } catch {
                // not JSON: logged without an action
            }
            this.hookLog.push({ id: this.id(), guid: d.id, delivered_at: this.now().toISOString(), redelivery, status_code: status, event: d.event, action, body: d.body, signature: d.signature });
        };
        if (this.dropWebhooks) {
            log(0);
            return { ...d, status: 0 };
        }
        const res = await fetch(this.opts.webhookUrl!, {
            method: "POST",
            headers: {
                "content-type": "application/json",
                "x-github-event": d.event,
                "x-github-delivery": d.id,
                "x-hub-signature-256": d.signature,
                "user-agent": "GitHub-Hookshot/fake",
            },
            body: d.body,
        });
        const done = { ...d, status: res.status, response: await res.text() };
        log(res.status);
        this.deliveries.push(done);
        return done;
    }
}
