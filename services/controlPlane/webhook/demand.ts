/**
 * Demand per pool = queued + in-progress jobs. Webhooks move it; the periodic reconcile against the
 * GitHub API replaces it (webhooks get lost or arrive out of order). A job's status only moves
 * forward (queued -> in_progress -> completed), so a late `queued` event cannot resurrect a job.
 */

/** Statuses that count. `waiting` (an environment's approval) and others do not need a runner yet. */
const RANK: Record<string, number> = { queued: 0, in_progress: 1, completed: 2 };

export class Demand {
    /** pool -> jobId -> status rank */
    private readonly jobs = new Map<string, Map<number, number>>();

    constructor(readonly pools: readonly string[]) {
        for (const p of pools) {
            this.jobs.set(p, new Map());
        }
    }

    /** Applies one observed status; returns true when the pool's demand changed. */
    apply(pool: string, jobId: number, status: string): boolean {
        const jobs = this.jobs.get(pool);
        const rank = RANK[status];
        if (jobs === undefined || rank === undefined) {
            return false;
        }
        const before = this.count(pool);
        const current = jobs.get(jobId);
        if (current === undefined || rank > current) {
            jobs.set(jobId, rank);
        }
        return this.count(pool) !== before;
    }

    /** Replaces a pool's state with what the GitHub API lists as active now. */
    replace(pool: string, active: { jobId: number; status: string }[]): void {
        const jobs = new Map<number, number>();
        for (const { jobId, status } of active) {
            const rank = RANK[status];
            if (rank !== undefined && rank < 2) {
                jobs.set(jobId, rank);
            }
        }
        this.jobs.set(pool, jobs);
    }

    count(pool: string): number {
        let n = 0;
        for (const rank of this.jobs.get(pool)?.values() ?? []) {
            if (rank < 2) {
                n++;
            }
        }
        return n;
    }

    snapshot(): Record<string, number> {
        return Object.fromEntries(this.pools.map((p) => [p, this.count(p)]));
    }
}
