/**
 * Lost webhooks, recovered the way GitHub recommends: the App's delivery log (GET /app/hook/deliveries)
 * lists every attempt with the receiver's answer; a `workflow_job` delivery that never got an answer
 * (status 0) or got a 5xx is redelivered (same X-GitHub-Delivery, same signed body), a few times at
 * most. Each pass reads only the deliveries made since the previous pass (newest first, stopping at
 * the last one it examined, or at `lookbackMs` after a restart); an unchanged log is a free 304.
 * So the cost follows the rate of new work, not the number of repositories or the history.
 */
import type { GithubClient, HookDelivery } from "../github";

export interface RedeliveryOptions {
    /** How far back a pass looks after a restart, ms. Default 1 hour. */
    lookbackMs?: number;
    /** Redeliveries per event at most. Default 3. */
    maxAttempts?: number;
    now?: () => number;
}

/** The receiver never answered, or failed: worth another attempt (a 4xx would fail again). */
function failed(d: HookDelivery): boolean {
    return d.statusCode === 0 || d.statusCode >= 500;
}

export class Redeliverer {
    private watermark = 0;
    private readonly attempts = new Map<string, { count: number; at: number }>();
    private readonly lookbackMs: number;
    private readonly maxAttempts: number;
    private readonly now: () => number;

    constructor(
        private readonly github: Pick<GithubClient, "listHookDeliveries" | "redeliver">,
        opts: RedeliveryOptions = {},
    ) {
        this.lookbackMs = opts.lookbackMs ?? 3600_000;
        this.maxAttempts = opts.maxAttempts ?? 3;
        this.now = opts.now ?? Date.now;
    }

    /** Redelivers the failed workflow_job deliveries made since the last pass; returns how many. */
    async pass(): Promise<number> {
        const cutoff = this.now() - this.lookbackMs;
        const since = this.watermark;
        const isOld = (d: HookDelivery) => d.id <= since || Date.parse(d.deliveredAt) < cutoff;
        const fresh = (await this.github.listHookDeliveries((page) => page.some(isOld))).filter((d) => !isOld(d));
        if (fresh.length === 0) {
            return 0;
        }
        this.watermark = Math.max(since, ...fresh.map((d) => d.id));
        for (const [guid, a] of this.attempts) {
            if (a.at < cutoff) {
                this.attempts.delete(guid);
            }
        }
        const answered = new Set(fresh.filter((d) => !failed(d)).map((d) => d.guid));
        let sent = 0;
        for (const d of fresh.sort((x, y) => x.id - y.id)) {
            const tried = this.attempts.get(d.guid)?.count ?? 0;
            if (d.event !== "workflow_job" || !failed(d) || answered.has(d.guid) || tried >= this.maxAttempts) {
                continue;
            }
            // Marked first: a redelivery of this guid later in the same page is not sent twice.
            answered.add(d.guid);
            this.attempts.set(d.guid, { count: tried + 1, at: this.now() });
            await this.github.redeliver(d.id);
            sent++;
        }
        return sent;
    }
}
