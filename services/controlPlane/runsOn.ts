/**
 * The one rule that maps a job's `runs-on` labels to a runner pool. The fleet config validator, the
 * ControlPlane component, the webhook receiver (demand), the generator (attribution) and the
 * workflow-author documentation (checked by a test) all use this module, so they cannot disagree.
 *
 * GitHub gives a queued job to any online runner, in a runner group the repository may use, whose
 * labels include every label of the job (compared case-insensitively). A job such as
 * `runs-on: [self-hosted]` therefore fits every self-hosted runner. The rule that makes demand and
 * attribution agree with that assignment:
 *
 * - Every runner of pool P carries P's pool label (the pool name), and no other pool's runner does.
 * - A job belongs to P exactly when it names P's pool label and every one of its labels is one of P's
 *   runner labels. Only such a job counts as demand for P and only its uploads get provenance.
 * - A job that names no pool label but whose labels fit some pools' runners ("unnamed") may be given
 *   to any of those runners by GitHub: it is never counted, and if it lands on a fleet runner it gets
 *   no provenance (the generator refuses it with a record).
 * - A job that names a pool label but asks for a label that pool's runners lack, or names two pools,
 *   can never run on the fleet ("unrunnable"): it is never counted, so no VM starts for it.
 * - Anything else fits no fleet runner ("foreign") and is not the fleet's business.
 *
 * Pools whose label sets nest (or where one pool carries another's pool label) are a config error:
 * a job asking for the smaller pool could then land on the larger one.
 *
 * Pure: no I/O, no dependencies, so the components and the services share it.
 */

/** What the rule needs to know about a pool. */
export interface LabelledPool {
    name: string;
    /** The pool's full runner label set (what its runners register with). */
    labels: readonly string[];
}

/** Where a job can run, by the rule above. */
export type Placement =
    /** Counted as demand of `pool`; its uploads are attributed to it. */
    | { kind: "pool"; pool: string }
    /** Names `pools` (one or more) but no fleet runner has all its labels; `missing` are the labels `pools[0]` lacks. */
    | { kind: "unrunnable"; pools: string[]; missing: string[] }
    /** Names no pool; GitHub may give it to a runner of any of `pools`. Never counted, never attributed. */
    | { kind: "unnamed"; pools: string[] }
    /** Fits no fleet runner. */
    | { kind: "foreign" };

/** Every fleet runner carries GitHub's `self-hosted` label, whatever the config says. */
export const SELF_HOSTED = "self-hosted";
/** Compute Engine machine families with Arm CPUs (their runners get `arm64` instead of `x64`). */
const ARM_MACHINE_FAMILY = /^(t2a|c4a|n4a)-/;
/** A runner label as GitHub accepts it. */
export const RUNNER_LABEL = /^[A-Za-z0-9._-]{1,100}$/;
/** Most labels GitHub accepts on one runner (generate-jitconfig). */
export const MAX_RUNNER_LABELS = 100;

/** Labels of every self-hosted runner or of GitHub's hosted images: a pool named so could never be named alone. */
const RESERVED_POOL_LABEL = /^(self-hosted|ubuntu-.*|windows-.*|macos-.*)$/;
/** GitHub's OS and architecture labels: a pool named so is addressable only while no other runner carries the name. */
const DEFAULT_LABEL = /^(linux|windows|macos|x64|x86|arm|arm64)$/;

/** The pool label of `pool`: its name, lower-cased (GitHub compares labels case-insensitively). */
export function poolLabel(pool: string): string {
    return pool.toLowerCase();
}

/** Why `pool` cannot serve as a pool label, or undefined. */
export function poolLabelProblem(pool: string): string | undefined {
    return RESERVED_POOL_LABEL.test(poolLabel(pool))
        ? "is a label of every self-hosted runner or of a GitHub-hosted image, so no job could name this pool alone"
        : undefined;
}

/** Why `pool` is a poor pool label (a GitHub OS or architecture label), or undefined. */
export function poolLabelWarning(pool: string): string | undefined {
    return DEFAULT_LABEL.test(poolLabel(pool))
        ? "is also a label GitHub gives runners by default, so jobs meant for other self-hosted runners of that OS or architecture count as this pool's demand, and a second pool would carry this pool's label"
        : undefined;
}

/**
 * The labels GitHub gives every self-hosted runner on such a machine (`self-hosted`, the OS, the
 * architecture). A JIT runner may carry them whatever the fleet asks for, so the fleet counts them in.
 */
export function defaultRunnerLabels(machineType?: string): string[] {
    return [SELF_HOSTED, "linux", machineType !== undefined && ARM_MACHINE_FAMILY.test(machineType) ? "arm64" : "x64"];
}

/** The full runner label set of a pool: GitHub's defaults, its pool label, then `extra`, de-duplicated case-insensitively. */
export function runnerLabels(pool: string, extra: readonly string[] = [], machineType?: string): string[] {
    const out: string[] = [];
    for (const label of [...defaultRunnerLabels(machineType), poolLabel(pool), ...extra]) {
        if (!out.some((l) => l.toLowerCase() === label.toLowerCase())) {
            out.push(label);
        }
    }
    return out;
}

/** The shortest `runs-on` that targets `pool`: `[self-hosted, <pool>]`. */
export function runsOnFor(pool: string): string[] {
    return [SELF_HOSTED, poolLabel(pool)];
}

function lower(labels: readonly string[]): Set<string> {
    return new Set(labels.map((l) => l.toLowerCase()));
}

/** Maps a job's `runs-on` labels to where it can run (see the module comment). */
export function placeJob(pools: readonly LabelledPool[], jobLabels: readonly string[]): Placement {
    const wanted = lower(jobLabels);
    const fits = (p: LabelledPool) => {
        const have = lower(p.labels);
        return [...wanted].every((l) => have.has(l));
    };
    const named = pools.filter((p) => wanted.has(poolLabel(p.name)));
    if (named.length === 1 && fits(named[0])) {
        return { kind: "pool", pool: named[0].name };
    }
    if (named.length > 0) {
        const have = lower(named[0].labels);
        return { kind: "unrunnable", pools: named.map((p) => p.name), missing: [...wanted].filter((l) => !have.has(l)) };
    }
    const fitting = pools.filter(fits).map((p) => p.name);
    return fitting.length > 0 ? { kind: "unnamed", pools: fitting } : { kind: "foreign" };
}

/** One sentence saying why a job with this placement is not counted, and which `runs-on` to write. */
export function placementAdvice(placement: Placement, jobLabels: readonly string[]): string {
    const given = JSON.stringify(jobLabels);
    switch (placement.kind) {
        case "pool":
            return `runs-on ${given} targets pool "${placement.pool}"`;
        case "unnamed":
            return `runs-on ${given} names no pool, so GitHub may give it to a runner of any of ${placement.pools.map((p) => `"${p}"`).join(", ")}; ` +
                `it is not counted and gets no provenance: add the pool label, e.g. runs-on: [${runsOnFor(placement.pools[0]).join(", ")}]`;
        case "unrunnable":
            return placement.pools.length > 1
                ? `runs-on ${given} names pools ${placement.pools.map((p) => `"${p}"`).join(" and ")}; no runner carries both: name one pool`
                : `runs-on ${given} asks for ${placement.missing.map((l) => `"${l}"`).join(", ")}, which the runners of pool "${placement.pools[0]}" do not carry, so it can never run there: drop ${placement.missing.length > 1 ? "them" : "it"} or add ${placement.missing.length > 1 ? "them" : "it"} to the pool's labels`;
        case "foreign":
            return `runs-on ${given} fits no fleet runner`;
    }
}

/**
 * Problems with a set of pools' label sets, each as `[pool index, message]`: a pool whose labels lack its
 * own pool label or carry another pool's, and pools whose label sets nest.
 */
export function labelSetProblems(pools: readonly LabelledPool[]): [number, string][] {
    const problems: [number, string][] = [];
    pools.forEach((pool, i) => {
        const have = lower(pool.labels);
        if (!have.has(poolLabel(pool.name))) {
            problems.push([i, `lacks its pool label "${poolLabel(pool.name)}"; every runner of a pool carries the pool's name so a job can target that pool alone`]);
        }
        const reason = poolLabelProblem(pool.name);
        if (reason !== undefined) {
            problems.push([i, `pool name "${pool.name}" ${reason}; rename the pool`]);
        }
        pools.forEach((other, j) => {
            if (i === j || pool.name === other.name) {
                return;
            }
            if (have.has(poolLabel(other.name))) {
                problems.push([i, `carries "${poolLabel(other.name)}", the pool label of pool "${other.name}", so jobs asking for "${other.name}" could run here; remove it`]);
            }
            if (j > i) {
                const o = lower(other.labels);
                const nested = isSubset(have, o) ? `"${pool.name}" within "${other.name}"` : isSubset(o, have) ? `"${other.name}" within "${pool.name}"` : undefined;
                if (nested !== undefined) {
                    problems.push([i, `label set nests with that of pool "${other.name}" (${nested}): a job asking for the smaller pool could run on the larger one; give every pool its own pool label and no other pool's`]);
                }
            }
        });
    });
    return problems;
}

function isSubset(a: Set<string>, b: Set<string>): boolean {
    return [...a].every((x) => b.has(x));
}
