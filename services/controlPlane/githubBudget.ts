/**
 * The fleet's own rules around Octokit's requests, as an Octokit plugin:
 * - conditional GETs: the answer and ETag of the routes the reconcile pass repeats are kept (a
 *   bounded cache); the next request sends `If-None-Match`, and a 304, which GitHub does not count
 *   against the rate limit, is answered from the cache;
 * - the budget: `x-ratelimit-limit/remaining/reset` of every answer made with the installation token
 *   are tracked; when the fleet has used `share` of the limit in the current window, every further
 *   request fails fast (429 `budget-exhausted`) until the window resets, so the fleet never takes
 *   more than its share of the installation's hourly requests.
 */
import type { Octokit } from "@octokit/core";

export class GithubBudgetError extends Error {
    readonly status = 429;
    constructor(message: string) {
        super(message);
        this.name = "GithubBudgetError";
    }
}

/** The installation's rate-limit window as GitHub last reported it, and the fleet's share of it. */
export class RateBudget {
    limit: number | undefined;
    remaining: number | undefined;
    /** Epoch seconds at which the window resets. */
    reset: number | undefined;
    /** Requests sent and 304s among them (which GitHub does not count). */
    sent = 0;
    notModified = 0;

    constructor(
        readonly share: number,
        private readonly now: () => number = () => Date.now(),
    ) {}

    observe(headers: Record<string, unknown>): void {
        const num = (name: string) => {
            const v = Number(headers[name]);
            return headers[name] !== undefined && Number.isFinite(v) ? v : undefined;
        };
        const limit = num("x-ratelimit-limit");
        const remaining = num("x-ratelimit-remaining");
        if (limit !== undefined && remaining !== undefined) {
            this.limit = limit;
            this.remaining = remaining;
            this.reset = num("x-ratelimit-reset");
        }
    }

    /** Fraction of the fleet's share still unused in this window (1 when nothing is known yet). */
    headroom(): number {
        if (this.limit === undefined || this.remaining === undefined || this.windowOver()) {
            return 1;
        }
        const allowed = this.limit * this.share;
        return Math.max(0, (allowed - (this.limit - this.remaining)) / allowed);
    }

    private windowOver(): boolean {
        return this.reset !== undefined && this.now() / 1000 >= this.reset;
    }

    /** Throws when the fleet's share of the current window is spent. */
    check(route: string): void {
        if (this.headroom() <= 0) {
            throw new GithubBudgetError(`GitHub ${route}: 429 budget-exhausted: the fleet used ${this.limit! - this.remaining!} of ${this.limit} requests ` +
                `(its share is ${Math.round(this.share * 100)}%); waiting for the window to reset at ${new Date((this.reset ?? 0) * 1000).toISOString()}`);
        }
    }
}

export interface FleetRulesOptions {
    fleet?: { budget: RateBudget; conditional: RegExp[]; cacheEntries?: number };
}

/** The Octokit plugin: conditional requests for the listed routes, and the budget on every request. */
export function fleetRules(octokit: Octokit, options: object): Record<string, never> {
    const rules = (options as FleetRulesOptions).fleet;
    if (rules === undefined) {
        return {};
    }
    const cache = new Map<string, { etag: string; response: any }>();
    const max = rules.cacheEntries ?? 2000;
    octokit.hook.wrap("request", async (request, opts) => {
        const parsed = octokit.request.endpoint.parse(opts as any);
        const path = new URL(parsed.url).pathname.replace(new URL(String(opts.baseUrl ?? "http://x")).pathname.replace(/\/$/, ""), "");
        const route = `${parsed.method} ${path}`;
        rules.budget.check(route);
        const conditional = parsed.method === "GET" && rules.conditional.some((r) => r.test(path));
        const cached = conditional ? cache.get(parsed.url) : undefined;
        if (cached !== undefined) {
            opts.headers = { ...opts.headers, "if-none-match": cached.etag };
        }
        const appAuth = path.startsWith("/app/");
        rules.budget.sent++;
        try {
            const response = await request(opts as any);
            if (!appAuth) {
                rules.budget.observe(response.headers as Record<string, unknown>);
            }
            const etag = response.headers?.etag;
            if (conditional && typeof etag === "string") {
                cache.delete(parsed.url);
                cache.set(parsed.url, { etag, response });
                if (cache.size > max) {
                    cache.delete(cache.keys().next().value!);
                }
            }
            return response;
        } catch (err: any) {
            if (!appAuth && err?.response?.headers !== undefined) {
                rules.budget.observe(err.response.headers);
            }
            if (err?.status === 304 && cached !== undefined) {
                rules.budget.notModified++;
                return cached.response;
            }
            throw err;
        }
    });
    return {};
}
