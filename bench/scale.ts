/**
 * `npm run bench -- scale [--repos R] [--jobs N]` (and the last part of `npm run bench`): the control
 * plane's cost at organization scale, from the simulation, side by side with a small organization
 * in the same process. Targets (exit 1 when one fails):
 * - at most 3 GitHub requests per job at R repositories and N jobs (default 1,000 and 200);
 * - a steady-state reconcile pass (every job finished) whose GitHub requests, sent requests, records
 *   read and listings are the same at R repositories / N jobs as at 10 repositories / 20 jobs:
 *   its cost does not grow with the repositories or the finished jobs.
 */
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parseArgs } from "util";
import { scaleTargetFailures, simulate, SimSummary } from "../services/sim/simulate";

async function run(repos: number, jobs: number): Promise<SimSummary> {
    const out = mkdtempSync(path.join(tmpdir(), "hbf-bench-scale-"));
    try {
        return await simulate({ jobs, repos, pools: 2, out, concurrency: 4, attacks: false });
    } finally {
        rmSync(out, { recursive: true, force: true });
    }
}

function passCost(s: SimSummary): string {
    return `${s.github.reconcilePassRequests} counted / ${s.github.reconcilePassSent} sent GitHub requests, ${s.records.readsPerPass} records read in ${s.records.listsPerPass} listings`;
}

export async function main(argv: string[]): Promise<number> {
    const { values } = parseArgs({ args: argv, options: { repos: { type: "string" }, jobs: { type: "string" } } });
    const repos = Math.min(Number(values.repos ?? 1000), 100_000);
    const jobs = Math.min(Number(values.jobs ?? 200), 1000);
    console.log("");
    console.log("control plane at organization scale (simulation on loopback; GitHub's counting: a 304 is free)");
    process.stderr.write(`simulating 20 jobs over 10 repositories, then ${jobs} jobs over ${repos}...\n`);
    const small = await run(10, 20);
    const large = await run(repos, jobs);
    const failures: string[] = [];
    for (const [label, s] of [["10 repositories, 20 jobs", small], [`${repos} repositories, ${jobs} jobs`, large]] as const) {
        console.log(`${label}: ${s.github.requests} GitHub requests, ${s.github.requestsPerJob.toFixed(2)} per job (target <= 3); steady-state pass: ${passCost(s)}; ${s.verified}/${s.jobs.length} envelopes verified`);
        if (!s.ok) {
            failures.push(`${label}: not every envelope verified`);
        }
    }
    failures.push(...scaleTargetFailures(large).map((f) => `${repos} repositories, ${jobs} jobs: ${f}`));
    if (passCost(small) !== passCost(large)) {
        failures.push(`the steady-state pass grew: ${passCost(small)} at 10 repositories / 20 jobs, ${passCost(large)} at ${repos} / ${jobs}`);
    }
    const routes = Object.entries(large.github.byRoute).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(", ");
    console.log(`requests by route at ${repos} repositories: ${routes}`);
    for (const f of failures) {
        console.log(`FAIL ${f}`);
    }
    console.log(failures.length === 0 ? "scale targets: PASS" : "scale targets: FAIL");
    return failures.length === 0 ? 0 : 1;
}
