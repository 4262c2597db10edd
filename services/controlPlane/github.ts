/**
 * The control plane's GitHub client: Octokit (`@octokit/core`) authenticated as a GitHub App
 * (`@octokit/auth-app`: App JWT -> installation token, cached and refreshed by the library), with
 * `@octokit/plugin-retry` (5xx and network errors, backoff) and `@octokit/plugin-throttling`
 * (GitHub's primary and secondary rate-limit answers: wait `retry-after`/`x-ratelimit-reset`, then
 * retry once if the wait is short). Two fleet rules are added as a plugin (githubBudget.ts):
 * - conditional requests: the GETs the reconcile pass repeats send `If-None-Match` with the ETag of
 *   the last answer; GitHub answers 304 without counting it against the rate limit;
 * - a budget: the fleet never uses more than `budgetShare` of the installation's hourly limit, read
 *   from GitHub's `x-ratelimit-*` headers; past it, requests fail fast until the window resets.
 * `baseUrl` is https://api.github.com in the cloud and the fake GitHub API on loopback in tests and
 * the simulation, so both exercise this same code. The private key never leaves this process.
 */
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import Bottleneck from "bottleneck";
import { fleetRules, RateBudget } from "./githubBudget";

export interface GithubAppOptions {
    /** REST API base, e.g. https://api.github.com. */
    baseUrl: string;
    /** The App id (or client id): the JWT's `iss`. */
    appId: string;
    /** Installation id of the App on the organization (or repository). */
    installationId: string;
    /** Loads the App private key (PEM); called once, lazily. */
    privateKey: () => Promise<string>;
    /** Organization whose runners and jobs the fleet serves. */
    org: string;
    /** When set ("owner/name"), runners are registered on this repository instead of the organization. */
    repository?: string;
    /** Share of the installation's rate limit the fleet may use, (0, 1]. Default 0.5. */
    budgetShare?: number;
    /** Content-creating requests (JIT registrations) per second, per process. Default 10. */
    writesPerSecond?: number;
    /** Longest rate-limit wait (s) the client sleeps through before failing the call. Default 60. */
    maxRateLimitWaitSeconds?: number;
    /** Base of the retry backoff, ms (retries after 1, 4, 9 x base). Default 1000. */
    retryBaseMs?: number;
    /** Injected for tests and the simulation. Default: global fetch. */
    fetch?: typeof fetch;
    /** Per attempt of each request. Default GITHUB_ATTEMPT_TIMEOUT_MS. */
    attemptTimeoutMs?: number;
}

export interface JitRunner {
    runnerId: number;
    runnerName: string;
    encodedJitConfig: string;
}

export interface GithubRunner {
    id: number;
    name: string;
    busy: boolean;
    status: string;
    labels: string[];
}

/** A job as the jobs API lists it (the same facts a workflow_job webhook carries). */
export interface GithubJob {
    id: number;
    run_id: number;
    run_attempt: number;
    status: string;
    conclusion: string | null;
    head_sha: string;
    head_branch: string | null;
    workflow_name: string | null;
    runner_name: string | null;
    /** The runner's id and runner group: what links the job to the broker's runner, never the name alone. */
    runner_id?: number | null;
    runner_group_id?: number | null;
    labels: string[];
    started_at: string | null;
    completed_at: string | null;
    created_at?: string;
}

export interface GithubRun {
    id: number;
    path: string;
    head_branch: string | null;
    head_sha: string;
    event: string;
    run_attempt: number;
    /** The run's repository: its numeric id and its owner's survive renames. */
    repository?: { id?: number; full_name?: string; owner?: { id?: number; login?: string } };
    /** Pull requests of the run (empty for a fork's pull request: GitHub lists only same-repository ones). */
    pull_requests?: { number: number; base?: { ref?: string } }[];
}

/** A git reference as GET /repos/{repo}/git/ref/{ref} returns it. */
export interface GithubRef {
    ref: string;
    object: { sha: string; type: string };
    /** For a ref at a commit: the commits of its history, newest first, the ref's own first (at most REF_HISTORY_DEPTH). */
    recent?: string[];
}

/** How far back a ref's history is read to find a run's commit on a branch that has moved on since. */
export const REF_HISTORY_DEPTH = 100;

/** One attempt to deliver an event to the App's webhook, as GET /app/hook/deliveries lists it. */
export interface HookDelivery {
    id: number;
    /** The X-GitHub-Delivery of the event (shared by its redeliveries). */
    guid: string;
    deliveredAt: string;
    redelivery: boolean;
    /** The receiver's HTTP status; 0 when it could not be reached. */
    statusCode: number;
    event: string;
    action: string | null;
}

/** What the services need from GitHub (an interface so unit tests can stand in for it). */
export interface GithubClient {
    generateJitConfig(req: { name: string; labels: string[]; runnerGroupId: number }): Promise<JitRunner>;
    /** The organization's (or repository's) self-hosted runners: one listing, whatever the number of repositories. */
    listRunners(): Promise<GithubRunner[]>;
    getRun(repository: string, runId: number): Promise<GithubRun>;
    getJob(repository: string, jobId: number): Promise<GithubJob>;
    /** The ref (`heads/main`, `tags/v1`) or undefined when it does not exist. */
    getRef(repository: string, ref: string): Promise<GithubRef | undefined>;
    /** The App webhook's deliveries, newest first, page by page until `enough` says stop (at most `maxPages`). */
    listHookDeliveries(enough: (page: HookDelivery[]) => boolean, maxPages?: number): Promise<HookDelivery[]>;
    /** Asks GitHub to deliver an earlier event again (same X-GitHub-Delivery). */
    redeliver(deliveryId: number): Promise<void>;
    /** Readiness: one request GitHub does not count against the rate limit (`GET /rate_limit`). */
    ping?(signal?: AbortSignal): Promise<void>;
    /** The fleet's budget as GitHub last reported it (the rate-limit gauges). */
    rateLimit?(): { headroom: number; remaining: number | undefined };
}

/** Per attempt of a GitHub request; plugin-retry retries a timed-out attempt like a network error. */
export const GITHUB_ATTEMPT_TIMEOUT_MS = 10_000;

export class GithubApiError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
        this.name = "GithubApiError";
    }
}

const FleetOctokit = Octokit.plugin(retry, throttling, fleetRules);
type FleetOctokitInstance = InstanceType<typeof FleetOctokit>;

/** Routes the reconcile pass repeats: sent conditionally, so an unchanged answer is a free 304. */
const CONDITIONAL = [/\/actions\/runners$/, /\/actions\/jobs\/\d+$/, /^\/app\/hook\/deliveries$/];

interface PendingRef {
    resolve(value: GithubRef | undefined): void;
    reject(err: unknown): void;
}

/** GraphQL's name for a ref's target type -> the REST `object.type` (commit, tag, tree, blob). */
function objectType(typename: unknown): string {
    return typeof typename === "string" ? typename.toLowerCase() : "unknown";
}

export class GithubRestClient implements GithubClient {
    readonly budget: RateBudget;
    private octokit: Promise<FleetOctokitInstance> | undefined;
    /** Ref look-ups of one repository asked in the same tick, answered by one GraphQL query. */
    private readonly refBatches = new Map<string, Map<string, PendingRef[]>>();

    constructor(private readonly opts: GithubAppOptions) {
        const share = opts.budgetShare ?? 0.5;
        if (!(share > 0 && share <= 1)) {
            throw new Error(`budgetShare: ${share} must be in (0, 1]; it is the share of the installation's rate limit the fleet may use`);
        }
        this.budget = new RateBudget(share);
    }

    private client(): Promise<FleetOctokitInstance> {
        this.octokit ??= this.opts.privateKey().then((privateKey) => {
            const maxWait = this.opts.maxRateLimitWaitSeconds ?? 60;
            const onLimit = (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < 1 && retryAfter <= maxWait;
            return new FleetOctokit({
                baseUrl: this.opts.baseUrl,
                userAgent: "hardened-build-fleet",
                authStrategy: createAppAuth,
                auth: { appId: this.opts.appId, privateKey, installationId: this.opts.installationId },
                request: { fetch: this.timedFetch() },
                retry: { retries: 3, doNotRetry: [400, 401, 403, 404, 409, 410, 422, 429, 451], retryAfterBaseValue: this.opts.retryBaseMs ?? 1000 },
                throttle: {
                    id: `hbf-${this.opts.installationId}-${Math.random().toString(36).slice(2)}`,
                    onRateLimit: onLimit,
                    onSecondaryRateLimit: onLimit,
                    // GitHub asks integrators to pace content-creating requests; JIT registrations are paced per process.
                    write: new Bottleneck.Group({ maxConcurrent: 4, minTime: Math.floor(1000 / (this.opts.writesPerSecond ?? 10)) }),
                },
                fleet: { budget: this.budget, conditional: CONDITIONAL },
                log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
            });
        });
        return this.octokit;
    }

    /** fetch with a per-attempt timeout, joined with the caller's own signal when it has one. */
    private timedFetch(): typeof fetch {
        const base = this.opts.fetch ?? fetch;
        const timeoutMs = this.opts.attemptTimeoutMs ?? GITHUB_ATTEMPT_TIMEOUT_MS;
        return (input, init) => {
            const timeout = AbortSignal.timeout(timeoutMs);
            return base(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
        };
    }

    async ping(signal?: AbortSignal): Promise<void> {
        await this.call("GET /rate_limit", signal !== undefined ? { request: { signal } } : {});
    }

    rateLimit(): { headroom: number; remaining: number | undefined } {
        return { headroom: this.budget.headroom(), remaining: this.budget.remaining };
    }

    private async call<T = any>(route: string, params: Record<string, unknown> = {}): Promise<{ data: T; headers: Record<string, string | number | undefined> }> {
        const octokit = await this.client();
        try {
            const res = await octokit.request(route, { headers: { "x-github-api-version": "2022-11-28" }, ...params });
            return { data: res.data as T, headers: res.headers as Record<string, string | number | undefined> };
        } catch (err: any) {
            if (err instanceof GithubApiError) {
                throw err;
            }
            const status = typeof err?.status === "number" ? err.status : 502;
            // GitHub's error bodies carry a message, never our credentials; keep it short.
            const message = String(err?.response?.data?.message ?? err?.message ?? "request failed").slice(0, 200);
            throw new GithubApiError(status, `GitHub ${route.split("?")[0]}: ${status} ${message}`);
        }
    }

    private scope(): { path: string; params: Record<string, string> } {
        if (this.opts.repository !== undefined) {
            const [owner, repo] = this.opts.repository.split("/");
            return { path: "/repos/{owner}/{repo}", params: { owner, repo } };
        }
        return { path: "/orgs/{org}", params: { org: this.opts.org } };
    }

    async generateJitConfig(req: { name: string; labels: string[]; runnerGroupId: number }): Promise<JitRunner> {
        const scope = this.scope();
        const { data } = await this.call(`POST ${scope.path}/actions/runners/generate-jitconfig`, {
            ...scope.params,
            name: req.name,
            runner_group_id: req.runnerGroupId,
            labels: req.labels,
            work_folder: "_work",
        });
        if (typeof data?.encoded_jit_config !== "string" || typeof data?.runner?.id !== "number") {
            throw new GithubApiError(502, "generate-jitconfig response lacks runner.id or encoded_jit_config");
        }
        return { runnerId: data.runner.id, runnerName: data.runner.name ?? req.name, encodedJitConfig: data.encoded_jit_config };
    }

    /** Pages through the runner listing (per_page 100) until a short page; bounded at 100 pages. */
    async listRunners(): Promise<GithubRunner[]> {
        const scope = this.scope();
        const out: GithubRunner[] = [];
        for (let page = 1; page <= 100; page++) {
            const { data } = await this.call(`GET ${scope.path}/actions/runners`, { ...scope.params, per_page: 100, page });
            const runners: any[] = data?.runners ?? [];
            out.push(...runners.map((r) => ({ id: r.id, name: r.name, busy: r.busy === true, status: r.status, labels: (r.labels ?? []).map((l: any) => l.name ?? l) })));
            if (runners.length < 100) {
                break;
            }
        }
        return out;
    }

    private repo(repository: string): { owner: string; repo: string } {
        const [owner, repo] = repository.split("/");
        return { owner, repo };
    }

    async getRun(repository: string, runId: number): Promise<GithubRun> {
        return (await this.call("GET /repos/{owner}/{repo}/actions/runs/{run_id}", { ...this.repo(repository), run_id: runId })).data;
    }

    async getJob(repository: string, jobId: number): Promise<GithubJob> {
        return (await this.call("GET /repos/{owner}/{repo}/actions/jobs/{job_id}", { ...this.repo(repository), job_id: jobId })).data;
    }

    /**
     * One ref (`heads/main`, `tags/v1`), or undefined when it does not exist. Look-ups of the same
     * repository made in the same tick (a branch and a tag of the same name) share one GraphQL request.
     */
    getRef(repository: string, ref: string): Promise<GithubRef | undefined> {
        return new Promise((resolve, reject) => {
            let batch = this.refBatches.get(repository);
            if (batch === undefined) {
                batch = new Map();
                this.refBatches.set(repository, batch);
                setImmediate(() => void this.flushRefs(repository));
            }
            const waiting = batch.get(ref) ?? [];
            waiting.push({ resolve, reject });
            batch.set(ref, waiting);
        });
    }

    private async flushRefs(repository: string): Promise<void> {
        const batch = this.refBatches.get(repository)!;
        this.refBatches.delete(repository);
        const refs = [...batch.keys()];
        const { owner, repo } = this.repo(repository);
        // Every value travels as a variable: nothing from a ref name is spliced into the query.
        const query = `query(${["$owner: String!", "$name: String!", ...refs.map((_, i) => `$q${i}: String!`)].join(", ")}) ` +
            `{ repository(owner: $owner, name: $name) { ${refs.map((_, i) => `r${i}: ref(qualifiedName: $q${i}) { target { __typename oid ... on Commit { history(first: ${REF_HISTORY_DEPTH}) { nodes { oid } } } } }`).join(" ")} } }`;
        const variables = Object.fromEntries([["owner", owner], ["name", repo], ...refs.map((r, i) => [`q${i}`, `refs/${r}`])]);
        try {
            const octokit = await this.client();
            const data: any = await octokit.graphql(query, variables);
            refs.forEach((ref, i) => {
                const target = data?.repository?.[`r${i}`]?.target;
                const history: unknown = target?.history?.nodes;
                const recent = Array.isArray(history) ? history.map((n: any) => n?.oid).filter((o: unknown): o is string => typeof o === "string") : undefined;
                const value = typeof target?.oid === "string"
                    ? { ref: `refs/${ref}`, object: { sha: target.oid, type: objectType(target.__typename) }, ...(recent !== undefined ? { recent } : {}) }
                    : undefined;
                batch.get(ref)!.forEach((p) => p.resolve(value));
            });
        } catch (err: any) {
            // A repository that does not exist (any more) has none of the refs, as the REST look-up's 404 says.
            if (Array.isArray(err?.errors) && err.errors.length > 0 && err.errors.every((e: any) => e?.type === "NOT_FOUND")) {
                batch.forEach((waiting) => waiting.forEach((p) => p.resolve(undefined)));
                return;
            }
            const error = new GithubApiError(typeof err?.status === "number" ? err.status : 502, `GitHub POST /graphql (refs of ${repository}): ${String(err?.message ?? err).slice(0, 200)}`);
            batch.forEach((waiting) => waiting.forEach((p) => p.reject(error)));
        }
    }

    async listHookDeliveries(enough: (page: HookDelivery[]) => boolean, maxPages = 10): Promise<HookDelivery[]> {
        const out: HookDelivery[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < maxPages; page++) {
            const { data, headers } = await this.call("GET /app/hook/deliveries", { per_page: 100, ...(cursor !== undefined ? { cursor } : {}) });
            const items: HookDelivery[] = (Array.isArray(data) ? data : []).map((d: any) => ({
                id: d.id, guid: d.guid, deliveredAt: d.delivered_at, redelivery: d.redelivery === true,
                statusCode: Number(d.status_code) || 0, event: d.event, action: d.action ?? null,
            }));
            out.push(...items);
            cursor = /[?&]cursor=([^&>]+)[^>]*>;\s*rel="next"/.exec(String(headers.link ?? ""))?.[1];
            if (cursor === undefined || items.length === 0 || enough(items)) {
                break;
            }
        }
        return out;
    }

    async redeliver(deliveryId: number): Promise<void> {
        await this.call("POST /app/hook/deliveries/{delivery_id}/attempts", { delivery_id: deliveryId });
    }
}
