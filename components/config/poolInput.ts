/**
 * One pool on its own: the validator and normaliser behind `RunnerPoolArgs.pool`, so a team can describe a
 * pool the way it writes it in YAML (`maxBuildDuration: "2h"`, optional fields defaulted, `masterCidr`
 * only for gke) instead of building the 12-field `PoolConfig` by hand.
 */
import type { PoolInput } from "./input";
import { FleetConfigError, IssueCollector, renderValue } from "./issues";
import { ConfigIssue, PoolConfig } from "./model";
import { validatePool } from "./pool";
import { reportMasterOverlaps, reportOverlaps } from "./ranges";

/** The result of validating one pool: the normalised config only when there are no issues. */
export interface PoolConfigValidation {
    config?: PoolConfig;
    issues: ConfigIssue[];
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
    return issues.issues.length === 0 && parse.config !== undefined ? { config: parse.config, issues: [] } : { issues: issues.issues };
}

/** Same as validatePoolConfig but throws FleetConfigError listing every issue. */
export function parsePoolConfig(input: PoolInput | Record<string, unknown>, path = "pool"): PoolConfig {
    const result = validatePoolConfig(input, path);
    if (result.config === undefined) {
        throw new FleetConfigError(result.issues);
    }
    return result.config;
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
 * A pool argument as a PoolConfig: a normalised one is returned as is (the component checks it), a
 * stack-config-shaped one is validated and normalised. `problems` lists every issue, one line each.
 */
export function resolvePoolArg(pool: PoolInput | PoolConfig | undefined): { pool?: PoolConfig; problems: string[] } {
    if (pool === undefined || pool === null || isNormalisedPool(pool)) {
        return { pool: pool ?? undefined, problems: [] };
    }
    const result = validatePoolConfig(pool);
    return { pool: result.config, problems: result.issues.map(formatArgIssue) };
}
