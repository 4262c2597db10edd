/** Collecting config problems and reporting them all at once. */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE } from "./schema";

/** One problem found in the raw config. */
export interface ConfigIssue {
    /** Field path without the namespace, e.g. `pools[1].cidr`. */
    path: string;
    /** The offending value as given (undefined when the field is missing). */
    value: unknown;
    /** What is wrong, without a trailing period. */
    message: string;
    /** How to fix it, without a trailing period. */
    fix: string;
}

const MAX_RENDERED_VALUE = 120;

/** Renders a config value the way a user would recognise it (JSON, truncated). */
export function renderValue(value: unknown): string {
    let text: string;
    try {
        text = JSON.stringify(value) ?? String(value);
    } catch {
        text = String(value);
    }
    return text.length > MAX_RENDERED_VALUE ? `${text.slice(0, MAX_RENDERED_VALUE - 3)}...` : text;
}

/** `hardened-build-fleet:pools[1].cidr = "10.0.0.1/24": not a network address. Fix: use 10.0.0.0/24.` */
export function formatIssue(issue: ConfigIssue): string {
    const field = `${CONFIG_NAMESPACE}:${issue.path}`;
    const subject = issue.value === undefined ? `${field} is not set` : `${field} = ${renderValue(issue.value)}`;
    return `${subject}: ${issue.message}. Fix: ${issue.fix}.`;
}

/**
 * Thrown when the config is invalid; lists every issue, one per line. A RunError, so the
 * Pulumi CLI prints the message without a stack trace.
 */
export class FleetConfigError extends pulumi.RunError {
    readonly issues: ConfigIssue[];

    constructor(issues: ConfigIssue[]) {
        const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
        super([`Invalid ${CONFIG_NAMESPACE} stack config (${count}):`, ...issues.map(formatIssue)].join("\n"));
        this.name = "FleetConfigError";
        this.issues = issues;
    }
}

/** Accumulates issues and warnings while the validator walks the raw config. */
export class IssueCollector {
    readonly issues: ConfigIssue[] = [];
    readonly warnings: string[] = [];

    add(path: string, value: unknown, message: string, fix: string): void {
        this.issues.push({ path, value, message, fix });
    }

    warn(path: string, value: unknown, message: string): void {
        const subject = value === undefined ? `${CONFIG_NAMESPACE}:${path} is not set` : `${CONFIG_NAMESPACE}:${path} = ${renderValue(value)}`;
        this.warnings.push(`${subject}: ${message}`);
    }
}

/** `pools` + `cidr` -> `pools.cidr`; top level when parent is empty. */
export function childPath(parent: string, key: string): string {
    return parent === "" ? key : `${parent}.${key}`;
}

/** `pools` + 1 -> `pools[1]`. */
export function indexPath(parent: string, index: number): string {
    return `${parent}[${index}]`;
}

/** Throws one error listing every problem, naming the component type and name. */
export function throwIfProblems(type: string, name: string, problems: string[]): void {
    if (problems.length > 0) {
        throw new Error(`${type} "${name}": invalid arguments:\n  - ${problems.join("\n  - ")}`);
    }
}
