/**
 * `npm run bench`: how the offline plan scales. For fleets of 1, 10 and 100 generated pools it
 * measures program registration and policy evaluation (wall time, median of several runs after a
 * warm-up on the 1-pool fleet), peak RSS, resources registered and the longest dependency chain, and compares the plan
 * with a floor: the same resources, with the same inputs, registered raw (bench/rawFloor.ts): no components,
 * no parents, no policies, in the same process and runtime.
 *
 * Each pool count runs in its own child process (plan and floor alternating in the same child, so the
 * ratios are side by side), so the peak RSS of one size never includes another's; the floor's peak RSS
 * comes from a second child that only registers the floor. Every timed phase (registration, evaluation, floor)
 * starts after a full garbage collection: phases alternate in one heap, and without it each paid for
 * the garbage the previous one left (the floor for the evaluation's, the plan for the floor's).
 * Not a test: it prints a table and PASS/FAIL targets, and exits 1 when a target fails.
 */
import { fork } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { performance } from "perf_hooks";
import type { Policy } from "@pulumi/policy";
import { evaluatePolicies, longestDependencyChain, runProgram, STACK_TYPE } from "../plan/engine";
import { packageRoot } from "../plan/packageInfo";
import type { FleetConfigInput } from "../components/config";
import { generateFleetConfig } from "./fleetConfig";
import { RawResource, rawResourcesOf, registerRaw } from "./rawFloor";

export interface SizeResult {
    pools: number;
    resources: number;
    registerMs: number;
    evaluateMs: number;
    totalMs: number;
    floorMs: number;
    /** CPU time (user + system) of the plan and of the floor: steadier than wall time on a shared machine. */
    totalCpuMs: number;
    floorCpuMs: number;
    peakRssMb: number;
    /** Peak RSS of a process that registers only the floor. */
    floorPeakRssMb?: number;
    chain: number;
    /** At 1 pool: the longest chain of a one-pool fleet of each backend (a GKE pool's chain is longer). */
    singlePoolChains?: Record<string, number>;
    violations: number;
    repeat: number;
    /** Where the plan child left the floor's resources for the floor-only child. */
    floorFile?: string;
}

export const TARGETS = { registerFloorRatio: 1.15, evaluateShare: 0.15, growth: 12, rssRatio: 1.2 } as const;

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A full collection (the child runs with --expose-gc), so no phase pays for the previous one's garbage. */
function collectGarbage(): void {
    (globalThis as { gc?: () => void }).gc?.();
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number, number]> {
    collectGarbage();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const value = await fn();
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    return [value, wall, (cpu.user + cpu.system) / 1000];
}

function loadPolicies(): Policy[] {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("../policies/rules").policies;
}

/** One pool count, in this process: warm-up, then `repeat` plan + floor runs. */
export async function measureSize(pools: number, repeat: number): Promise<SizeResult> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { HardenedBuildFleet } = require("../components/fleet");
    const policies = loadPolicies();
    const stackConfig = { "gcp:project": "bench-workers", "gcp:region": "europe-west1" };
    const fleetProgram = (raw: FleetConfigInput) => () => {
        new HardenedBuildFleet("bench", { config: raw });
    };

    const planOnce = async (raw: FleetConfigInput) => {
        const [run, registerMs, registerCpu] = await timed(() => runProgram(fleetProgram(raw), { config: stackConfig, stack: "bench" }));
        const [evaluation, evaluateMs, evaluateCpu] = await timed(() => evaluatePolicies(run, policies));
        return { run, evaluation, registerMs, evaluateMs, cpuMs: registerCpu + evaluateCpu };
    };
    const floorOnce = async (raw: RawResource[]) => {
        const [run, ms, cpu] = await timed(() => runProgram(() => {
            registerRaw(raw);
        }, { config: stackConfig, stack: "floor" }));
        if (run.error !== undefined) {
            throw new Error(`the raw floor failed to register: ${String(run.error)}`);
        }
        return { ms, cpu };
    };

    const singlePoolChains = async () => {
        const out: Record<string, number> = {};
        for (const backends of ["gce", "gke"] as const) {
            const { run } = await planOnce(generateFleetConfig(1, { backends }));
            out[backends] = longestDependencyChain(run.resources).length;
        }
        return out;
    };

    // Warm-up on the 1-pool fleet: module loading, JIT and the policies' schema compilation, not measured.
    const warm = await planOnce(generateFleetConfig(1));
    await floorOnce(rawResourcesOf(warm.run.resources));

    const raw = generateFleetConfig(pools);
    const register: number[] = [];
    const evaluate: number[] = [];
    const total: number[] = [];
    const floor: number[] = [];
    const totalCpu: number[] = [];
    const floorCpu: number[] = [];
    let resources = 0;
    let last = warm;
    for (let i = 0; i < repeat; i++) {
        last = await planOnce(raw);
        resources = last.run.resources.filter((r) => r.type !== STACK_TYPE).length;
        register.push(last.registerMs);
        evaluate.push(last.evaluateMs);
        total.push(last.registerMs + last.evaluateMs);
        totalCpu.push(last.cpuMs);
        const f = await floorOnce(rawResourcesOf(last.run.resources));
        floor.push(f.ms);
        floorCpu.push(f.cpu);
    }
    return {
        pools,
        resources,
        registerMs: median(register),
        evaluateMs: median(evaluate),
        totalMs: median(total),
        floorMs: median(floor),
        totalCpuMs: median(totalCpu),
        floorCpuMs: median(floorCpu),
        // maxRSS is in kilobytes: the peak of this child process (warm-up and repetitions included).
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        chain: longestDependencyChain(last.run.resources).length,
        singlePoolChains: pools === 1 ? await singlePoolChains() : undefined,
        violations: last.evaluation.violations.length,
        repeat,
        floorFile: writeFloorFile(pools, rawResourcesOf(last.run.resources)),
    };
}

/** The floor of one size, for the floor-only child (its peak RSS must not include the plan's). */
function writeFloorFile(pools: number, raw: RawResource[]): string {
    const file = path.join(os.tmpdir(), `hbf-bench-floor-${process.pid}-${pools}.json`);
    fs.writeFileSync(file, JSON.stringify(raw));
    return file;
}

/** The floor-only child: registers the floor `repeat + 1` times, as the plan child does, and reports its peak RSS. */
export async function measureFloorRss(file: string, repeat: number): Promise<number> {
    const raw = JSON.parse(fs.readFileSync(file, "utf8")) as RawResource[];
    for (let i = 0; i <= repeat; i++) {
        collectGarbage();
        const run = await runProgram(() => {
            registerRaw(raw);
        }, { config: { "gcp:project": "bench-workers", "gcp:region": "europe-west1" }, stack: "floor" });
        if (run.error !== undefined) {
            throw new Error(`the raw floor failed to register: ${String(run.error)}`);
        }
    }
    return process.resourceUsage().maxRSS / 1024;
}

function inChild<T>(args: string[], what: string): Promise<T> {
    return new Promise((resolve, reject) => {
        const child = fork(path.join(packageRoot(), "bench", "run.js"), args, {
            stdio: ["ignore", "inherit", "inherit", "ipc"],
            // Each timed phase starts from a collected heap (see collectGarbage).
            execArgv: [...process.execArgv, "--expose-gc"],
        });
        let result: T | undefined;
        child.on("message", (m) => {
            result = m as T;
        });
        child.on("error", reject);
        child.on("exit", (code) => (result !== undefined ? resolve(result) : reject(new Error(`benchmark child for ${what} exited with code ${code}`))));
    });
}

const fmt = (n: number, digits = 0) => n.toFixed(digits);

export function renderTable(results: SizeResult[]): string {
    const header = ["pools", "resources", "register ms", "evaluate ms", "total ms", "floor ms", "register/floor", "total/floor", "cpu total/floor", "evaluate %", "peak RSS MB", "floor RSS MB", "longest chain", "violations"];
    const rows = results.map((r) => [
        String(r.pools), String(r.resources), fmt(r.registerMs), fmt(r.evaluateMs), fmt(r.totalMs), fmt(r.floorMs),
        fmt(r.registerMs / r.floorMs, 2), fmt(r.totalMs / r.floorMs, 2), fmt(r.totalCpuMs / r.floorCpuMs, 2), fmt((100 * r.evaluateMs) / r.totalMs, 1),
        fmt(r.peakRssMb), r.floorPeakRssMb === undefined ? "-" : fmt(r.floorPeakRssMb), String(r.chain), String(r.violations),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join("  ");
    return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export interface TargetResult {
    name: string;
    pass: boolean;
    detail: string;
}

export function checkTargets(results: SizeResult[]): TargetResult[] {
    const at = (n: number) => results.find((r) => r.pools === n);
    const out: TargetResult[] = [];
    const big = at(100);
    const ten = at(10);
    const one = at(1);
    if (big) {
        const ratio = big.registerMs / big.floorMs;
        out.push({
            name: `plan registration <= ${TARGETS.registerFloorRatio}x the raw floor at 100 pools`,
            pass: ratio <= TARGETS.registerFloorRatio,
            detail: `${fmt(ratio, 2)}x wall (${fmt(big.registerMs)} ms vs ${fmt(big.floorMs)} ms); with evaluation ${fmt(big.totalMs / big.floorMs, 2)}x wall, ${fmt(big.totalCpuMs / big.floorCpuMs, 2)}x CPU`,
        });
        if (big.floorPeakRssMb !== undefined) {
            const rss = big.peakRssMb / big.floorPeakRssMb;
            out.push({ name: `peak RSS <= ${TARGETS.rssRatio}x the floor's at 100 pools`, pass: rss <= TARGETS.rssRatio, detail: `${fmt(rss, 2)}x (${fmt(big.peakRssMb)} MB vs ${fmt(big.floorPeakRssMb)} MB)` });
        }
        const share = big.evaluateMs / big.totalMs;
        const all = results.map((r) => `${r.pools}: ${fmt((100 * r.evaluateMs) / r.totalMs, 1)}%`).join(", ");
        out.push({ name: `policy evaluation <= ${TARGETS.evaluateShare * 100}% of plan total at 100 pools`, pass: share <= TARGETS.evaluateShare, detail: `${fmt(share * 100, 1)}% (by pools: ${all})` });
    }
    if (big && ten) {
        const growth = big.totalMs / ten.totalMs;
        out.push({ name: `t(100)/t(10) <= ${TARGETS.growth}`, pass: growth <= TARGETS.growth, detail: `${fmt(growth, 2)} wall, ${fmt(big.totalCpuMs / ten.totalCpuMs, 2)} CPU (resources x${fmt(big.resources / ten.resources, 2)})` });
    }
    if (big && one) {
        // Compare like with like: the 100-pool fleet mixes backends, so its chain is the longest
        // single-pool chain of any backend it contains.
        const perBackend = one.singlePoolChains ?? { gce: one.chain };
        const single = Math.max(...Object.values(perBackend));
        const detail = Object.entries(perBackend).map(([b, c]) => `1 ${b} pool: ${c}`).join(", ");
        out.push({ name: "longest dependency chain the same at 1 and 100 pools", pass: big.chain === single, detail: `${detail}; 100 mixed pools: ${big.chain}` });
    }
    return out;
}

export async function main(argv: string[]): Promise<number> {
    const { values } = parseArgs({
        args: argv,
        options: { child: { type: "string" }, "floor-only": { type: "string" }, repeat: { type: "string" }, sizes: { type: "string" } },
    });
    const repeat = Number(values.repeat ?? 3);
    if (values["floor-only"] !== undefined) {
        const rss = await measureFloorRss(values["floor-only"], repeat);
        await new Promise<void>((resolve) => process.send!(rss, () => resolve()));
        return 0;
    }
    if (values.child !== undefined) {
        const result = await measureSize(Number(values.child), repeat);
        await new Promise<void>((resolve) => process.send!(result, () => resolve()));
        return 0;
    }
    const sizes = (values.sizes ?? "1,10,100").split(",").map(Number);
    console.log(`hardened-build-fleet plan benchmark: ${sizes.join(", ")} pools (gce, gce, gke, ...), median of ${repeat} runs after 1 warm-up, one child process per size`);
    const results: SizeResult[] = [];
    for (const pools of sizes) {
        process.stderr.write(`measuring ${pools} pools...\n`);
        const result = await inChild<SizeResult>(["--child", String(pools), "--repeat", String(repeat)], `${pools} pools`);
        if (result.floorFile !== undefined) {
            try {
                result.floorPeakRssMb = await inChild<number>(["--floor-only", result.floorFile, "--repeat", String(repeat)], `the floor of ${pools} pools`);
            } finally {
                fs.rmSync(result.floorFile, { force: true });
            }
        }
        results.push(result);
    }
    console.log("");
    console.log(renderTable(results));
    console.log("");
    console.log("total = register + evaluate (wall, median); floor = the same resources with the same inputs registered raw (each through its provider class), no components, no parents, no policies, same process and runtime settings.");
    console.log("peak RSS = the plan child's maxRSS; floor RSS = the maxRSS of a child that registers only the floor; longest chain = managed resources on the critical path of a `pulumi up`.");
    console.log("Targets use wall time; on a shared machine the CPU figures are the steadier ones.");
    console.log("");
    const targets = checkTargets(results);
    for (const t of targets) {
        console.log(`${t.pass ? "PASS" : "FAIL"}  ${t.name}: ${t.detail}`);
    }
    return targets.every((t) => t.pass) ? 0 : 1;
}
