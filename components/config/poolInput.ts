/**
 * One pool on its own: the validator and normaliser behind `RunnerPoolArgs.pool`, so a team can describe a
 * pool the way it writes it in YAML (`maxBuildDuration: "2h"`, optional fields defaulted, `masterCidr`
 * only for gke) instead of building the 12-field `PoolConfig` by hand.
 */
import { formatDuration } from "./duration";
import type { PoolInput } from "./input";
import { FleetConfigError, IssueCollector, renderValue } from "./issues";
import { ConfigIssue, PoolConfig } from "./types";
import { isValidatedPool, validatePool } from "./pool";
import { reportMasterOverlaps, reportOverlaps } from "./ranges";
import { CONFIG_NAMESPACE, POOL_GCE_ONLY_KEYS, POOL_GKE_ONLY_KEYS } from "./schema";
import { runnerLabels } from "../../services/controlPlane/runsOn";

/** The result of validating one pool: the normalised config only when there are no issues. */
export interface PoolConfigValidation {
    config?: PoolConfig;
    issues: ConfigIssue[];
    /** What deploys but may not work (e.g. an allow-list without the runner hosts), one line each. */
    warnings: string[];
}

/**
 * Pure: validates one pool as written in stack config and returns the normalised `PoolConfig` (defaults
 * applied, durations in seconds, FQDNs lower-cased) or every issue found, each with its field path under
 * `path`. Checks the pool's own ranges against each other; disjointness from other pools and from the
 * signer is the fleet validator's job (validateFleetConfig), which sees them all.
 */
export function validatePoolConfig(input: PoolInput | Record<string, unknown>, path = "pool"): PoolConfigValidation {
    const issues = new IssueCollector();
    const parse = validatePool(issues, input, 0, path);
    reportOverlaps(issues, parse.ranges);
    if (parse.master !== undefined) {
        reportMasterOverlaps(issues, parse.master, parse.ranges);
    }
    return issues.issues.length === 0 && parse.config !== undefined
        ? { config: parse.config, issues: [], warnings: issues.warnings }
        : { issues: issues.issues, warnings: issues.warnings };
}

/** Same as validatePoolConfig but throws FleetConfigError listing every issue. */
export function parsePoolConfig(input: PoolInput | Record<string, unknown>, path = "pool"): PoolConfig {
    const result = validatePoolConfig(input, path);
    if (result.config === undefined) {
        throw new FleetConfigError(result.issues);
    }
    return result.config;
}

/** Warnings about component arguments, not stack config: no namespace before the field path. */
function argWarnings(warnings: string[]): string[] {
    return warnings.map((w) => (w.startsWith(`${CONFIG_NAMESPACE}:`) ? w.slice(CONFIG_NAMESPACE.length + 1) : w));
}

/** `pool.cidr = "10.0.0.1/24": is not a network address. Fix: use 10.0.0.0/24.` (no stack-config namespace). */
export function formatArgIssue(issue: ConfigIssue): string {
    const subject = issue.value === undefined ? `${issue.path} is not set` : `${issue.path} = ${renderValue(issue.value)}`;
    return `${subject}: ${issue.message}. Fix: ${issue.fix}.`;
}

/**
 * True when `pool` is already a normalised PoolConfig (it carries `maxBuildDurationSeconds`, which the
 * stack-config shape never has: that one writes `maxBuildDuration`).
 */
export function isNormalisedPool(pool: unknown): pool is PoolConfig {
    return typeof pool === "object" && pool !== null && "maxBuildDurationSeconds" in pool;
}

/**
 * A normalised PoolConfig written back in the stack-config shape (duration as text, the other backend's
 * defaulted fields dropped), so it goes through the same validator as a pool written in YAML.
 */
export function poolInputOf(pool: PoolConfig): Record<string, unknown> {
    const { maxBuildDurationSeconds, ...rest } = pool as PoolConfig & Record<string, unknown>;
    const input: Record<string, unknown> = {
        ...rest,
        maxBuildDuration: Number.isInteger(maxBuildDurationSeconds) && maxBuildDurationSeconds > 0 ? formatDuration(maxBuildDurationSeconds) : maxBuildDurationSeconds,
    };
    if (Array.isArray(pool.labels) && pool.backend === "gce") {
        // The normalised set holds GitHub's defaults and the pool label; the YAML shape lists only the extras.
        const implied = new Set(runnerLabels(pool.name, [], pool.machineType).map((l) => l.toLowerCase()));
        const extra = pool.labels.filter((l) => typeof l !== "string" || !implied.has(l.toLowerCase()));
        input.labels = extra.length > 0 ? extra : undefined;
    }
    const foreign: readonly string[] = pool.backend === "gce" ? POOL_GKE_ONLY_KEYS : pool.backend === "gke" ? POOL_GCE_ONLY_KEYS : [];
    for (const key of Object.keys(input)) {
        if (input[key] === undefined || foreign.includes(key)) {
            delete input[key];
        }
    }
    return input;
}

/**
 * A pool argument as a PoolConfig. Both shapes go through the one pool validator: a stack-config-shaped
 * pool is validated and normalised; a normalised one is validated in its stack-config form and, when
 * valid, used as given. `problems` lists every issue, one line each. `warnings` are the validator's, except
 * for a normalised pool the validator itself produced: whoever read it (the fleet, readFleetConfig) got them.
 */
export function resolvePoolArg(pool: PoolInput | PoolConfig | undefined): { pool?: PoolConfig; problems: string[]; warnings: string[] } {
    if (pool === undefined || pool === null) {
        return { problems: [], warnings: [] };
    }
    if (isNormalisedPool(pool)) {
        const check = validatePoolConfig(poolInputOf(pool));
        return { pool, problems: check.issues.map(formatArgIssue), warnings: isValidatedPool(pool) ? [] : argWarnings(check.warnings) };
    }
    const result = validatePoolConfig(pool);
    return { pool: result.config, problems: result.issues.map(formatArgIssue), warnings: argWarnings(result.warnings) };
}
