/**
 * The control plane's GitHub REST client. It authenticates as a GitHub App: an RS256 JWT signed with
 * the App's private key (read from Secret Manager by the caller; it never leaves this process and is
 * never logged) is exchanged for an installation access token, cached until shortly before expiry.
 * `baseUrl` is https://api.github.com in the cloud and the fake GitHub API on loopback in tests and
 * the simulation, so both exercise this same code.
 */
import { createPrivateKey, KeyObject, sign } from "crypto";

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
    /** Injected for tests. Default: global fetch. */
    fetch?: typeof fetch;
    now?: () => Date;
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
}

/** What the services need from GitHub (an interface so unit tests can stand in for it). */
export interface GithubClient {
    generateJitConfig(req: { name: string; labels: string[]; runnerGroupId: number }): Promise<JitRunner>;
    listRunners(): Promise<GithubRunner[]>;
    /** Every queued or in-progress job of the repositories the App can see, with its repository. */
    listActiveJobs(): Promise<{ repository: string; job: GithubJob }[]>;
    getRun(repository: string, runId: number): Promise<GithubRun>;
    getJob(repository: string, jobId: number): Promise<GithubJob>;
    /** The ref (`heads/main`, `tags/v1`) or undefined when it does not exist. */
    getRef(repository: string, ref: string): Promise<GithubRef | undefined>;
}

export class GithubApiError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
        this.name = "GithubApiError";
    }
}

function b64url(value: object): string {
    return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** The App JWT (RS256): iat 60 s in the past against clock drift, 9 minutes of validity (GitHub allows 10). */
export function appJwt(appId: string, key: KeyObject, now: Date): string {
    const iat = Math.floor(now.getTime() / 1000) - 60;
    const input = `${b64url({ alg: "RS256", typ: "JWT" })}.${b64url({ iat, exp: iat + 600 - 60, iss: appId })}`;
    return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
}

export class GithubRestClient implements GithubClient {
    private key: KeyObject | undefined;
    private token: { value: string; expiresAt: number } | undefined;
    private pending: Promise<string> | undefined;
    private readonly fetch: typeof fetch;
    private readonly now: () => Date;

    constructor(private readonly opts: GithubAppOptions) {
        this.fetch = opts.fetch ?? fetch;
        this.now = opts.now ?? (() => new Date());
    }

    private async appKey(): Promise<KeyObject> {
        if (this.key === undefined) {
            this.key = createPrivateKey(await this.opts.privateKey());
        }
        return this.key;
    }

    private async installationToken(): Promise<string> {
        const now = this.now().getTime();
        if (this.token !== undefined && this.token.expiresAt - now > 5 * 60_000) {
            return this.token.value;
        }
        // Concurrent callers share one exchange.
        this.pending ??= this.exchange(now).finally(() => (this.pending = undefined));
        return this.pending;
    }

    private async exchange(now: number): Promise<string> {
        const jwt = appJwt(this.opts.appId, await this.appKey(), this.now());
        const body = await this.call("POST", `/app/installations/${encodeURIComponent(this.opts.installationId)}/access_tokens`, undefined, jwt);
        if (typeof body?.token !== "string") {
            throw new GithubApiError(502, "installation token response has no token");
        }
        this.token = { value: body.token, expiresAt: Date.parse(body.expires_at) || now + 30 * 60_000 };
        return body.token;
    }

    private async call(method: string, path: string, body?: unknown, bearer?: string): Promise<any> {
        const auth = bearer ?? (await this.installationToken());
        const res = await this.fetch(`${this.opts.baseUrl}${path}`, {
            method,
            headers: {
                accept: "application/vnd.github+json",
                "x-github-api-version": "2022-11-28",
                authorization: `Bearer ${auth}`,
                ...(body !== undefined ? { "content-type": "application/json" } : {}),
            },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        const text = await res.text();
        if (!res.ok) {
            // GitHub's error bodies carry a message, never our credentials; keep it short.
            let message = text.slice(0, 200);
            try {
                message = JSON.parse(text).message ?? message;
            } catch {
                // not JSON
            }
            throw new GithubApiError(res.status, `GitHub ${method} ${path.split("?")[0]}: ${res.status} ${message}`);
        }
        return text === "" ? undefined : JSON.parse(text);
    }

    private get scope(): string {
        return this.opts.repository !== undefined ? `/repos/${this.opts.repository}` : `/orgs/${encodeURIComponent(this.opts.org)}`;
    }

    async generateJitConfig(req: { name: string; labels: string[]; runnerGroupId: number }): Promise<JitRunner> {
        const body = await this.call("POST", `${this.scope}/actions/runners/generate-jitconfig`, {
            name: req.name,
            runner_group_id: req.runnerGroupId,
            labels: req.labels,
            work_folder: "_work",
        });
        if (typeof body?.encoded_jit_config !== "string" || typeof body?.runner?.id !== "number") {
            throw new GithubApiError(502, "generate-jitconfig response lacks runner.id or encoded_jit_config");
        }
        return { runnerId: body.runner.id, runnerName: body.runner.name ?? req.name, encodedJitConfig: body.encoded_jit_config };
    }

    /** Pages through a list endpoint (per_page 100) until a short page; bounded at 100 pages. */
    private async pages<T>(path: string, field: string): Promise<T[]> {
        const out: T[] = [];
        for (let page = 1; page <= 100; page++) {
            const sep = path.includes("?") ? "&" : "?";
            const body = await this.call("GET", `${path}${sep}per_page=100&page=${page}`);
            const items: T[] = body?.[field] ?? [];
            out.push(...items);
            if (items.length < 100) {
                break;
            }
        }
        return out;
    }

    async listRunners(): Promise<GithubRunner[]> {
        const runners = await this.pages<any>(`${this.scope}/actions/runners`, "runners");
        return runners.map((r) => ({ id: r.id, name: r.name, busy: r.busy === true, status: r.status, labels: (r.labels ?? []).map((l: any) => l.name ?? l) }));
    }

    private async repositories(): Promise<string[]> {
        if (this.opts.repository !== undefined) {
            return [this.opts.repository];
        }
        const repos = await this.pages<any>("/installation/repositories", "repositories");
        return repos.map((r) => r.full_name);
    }

    async listActiveJobs(): Promise<{ repository: string; job: GithubJob }[]> {
        const out: { repository: string; job: GithubJob }[] = [];
        for (const repository of await this.repositories()) {
            for (const status of ["queued", "in_progress"]) {
                const runs = await this.pages<any>(`/repos/${repository}/actions/runs?status=${status}`, "workflow_runs");
                for (const run of runs) {
                    const jobs = await this.pages<GithubJob>(`/repos/${repository}/actions/runs/${run.id}/jobs?filter=latest`, "jobs");
                    for (const job of jobs) {
                        if (job.status === "queued" || job.status === "in_progress") {
                            out.push({ repository, job });
                        }
                    }
                }
            }
        }
        return out;
    }

    async getRun(repository: string, runId: number): Promise<GithubRun> {
        return this.call("GET", `/repos/${repository}/actions/runs/${runId}`);
    }

    async getJob(repository: string, jobId: number): Promise<GithubJob> {
        return this.call("GET", `/repos/${repository}/actions/jobs/${jobId}`);
    }

    async getRef(repository: string, ref: string): Promise<GithubRef | undefined> {
        try {
            const body = await this.call("GET", `/repos/${repository}/git/ref/${ref.split("/").map(encodeURIComponent).join("/")}`);
            // A prefix match answers with an array of refs: not this exact ref.
            return body !== null && typeof body === "object" && !Array.isArray(body) && body.ref === `refs/${ref}` ? body : undefined;
        } catch (err) {
            if (err instanceof GithubApiError && err.status === 404) {
                return undefined;
            }
            throw err;
        }
    }
}
