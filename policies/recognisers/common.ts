/**
 * Shared plumbing for the per-resource rules: type filtering, raw (unproxied) props, role
 * classification, literal parsing and the preview wording. No rule logic lives here.
 */
import { PolicyConfigSchema, ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy/policy";
import { appliesTo, declareAppliesTo } from "../contract/appliesTo";
import { roleOf } from "../model/labels";
import { get, reportAdvisory, UNDECIDED_PREFIX, unknown, unwrap } from "../model/props";

/** Prefix of every message a rule emits when a deciding value is unknown during a preview. */
export const PREVIEW_PREFIX = UNDECIDED_PREFIX;

/** Reports, as an advisory, that a deciding value is unknown (a preview); `what` names the value. */
export function undecided(report: ReportViolation, what: string): void {
    reportAdvisory(report, `${PREVIEW_PREFIX} ${what}`);
}

/** A rule body: the resource's raw props (never the throwing proxy) and the analyzer args. */
export type RuleBody = (props: Record<string, any>, args: ResourceValidationArgs, report: ReportViolation) => void;

/**
 * Wraps a rule body so it runs only for `types` (exact tokens or a predicate), reads raw props, and
 * never throws: an unexpected error becomes a violation (fail closed) rather than an analyzer crash.
 */
export function forTypes(types: readonly string[] | ((type: string) => boolean), body: RuleBody): ResourceValidation {
    const matches = typeof types === "function" ? types : (t: string) => types.includes(t);
    const validation: ResourceValidation = (args, report) => {
        if (!matches(args.type)) {
            return;
        }
        try {
            const props = (unwrap(args.props) ?? {}) as Record<string, any>;
            body(props, args, report);
        } catch (err) {
            report(`policy could not evaluate this resource (${err instanceof Error ? err.message : String(err)}); treating it as a violation`);
        }
    };
    if (Array.isArray(types) && types.length === 1) {
        // The analyzer's fast path (as validateResourceOfType): other types are "not applicable"
        // without deserializing their properties for this policy.
        (validation as { __pulumiType?: string }).__pulumiType = types[0];
    }
    // For every other type the validation returns before reading anything (appliesTo.ts).
    return declareAppliesTo(validation, matches);
}

/**
 * Several validations as one: the analyzer deserializes a resource's properties once per
 * validation function, so a rule covering several resource kinds runs them in a single pass.
 */
export function allOf(...validations: ResourceValidation[]): ResourceValidation {
    const all: ResourceValidation = async (args, report) => {
        for (const validation of validations) {
            await validation(args, report);
        }
    };
    const predicates = validations.map(appliesTo);
    if (predicates.every((p) => p !== undefined)) {
        declareAppliesTo(all, (type) => predicates.some((p) => p!(type)));
    }
    return all;
}

/** True when the resource is explicitly labelled signer or control-plane (exempt from runner-only rules). */
export function isExplicitlyNonRunner(type: string, props: Record<string, any>): boolean {
    const role = roleOf(type, props);
    return role === "signer" || role === "control-plane";
}

/** Tri-state boolean read of a literal: true/false for booleans and boolean-like strings, "unknown", or undefined when absent. */
export function boolish(v: unknown): boolean | "unknown" | undefined {
    if (unknown(v)) {
        return "unknown";
    }
    if (v === undefined || v === null) {
        return undefined;
    }
    if (typeof v === "boolean") {
        return v;
    }
    if (typeof v === "number") {
        return v !== 0;
    }
    if (typeof v === "string") {
        const s = v.trim().toLowerCase();
        if (s === "true" || s === "1" || s === "yes" || s === "on") {
            return true;
        }
        if (s === "false" || s === "0" || s === "no" || s === "off" || s === "") {
            return false;
        }
    }
    // Any other literal (an object, an odd string): not a clean "false", so not off.
    return true;
}

/** A number from a number or numeric string; "unknown"; or undefined when absent/not numeric. */
export function numberish(v: unknown): number | "unknown" | undefined {
    if (unknown(v)) {
        return "unknown";
    }
    if (typeof v === "number" && Number.isFinite(v)) {
        return v;
    }
    if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) {
        return Number(v);
    }
    return undefined;
}

/** Object entries of a raw map-valued path (metadata, labels); "unknown" when the whole map is unknown. */
export function mapAt(props: unknown, ...path: string[]): Record<string, any> | "unknown" | undefined {
    const v = get(props, ...path);
    if (unknown(v)) {
        return "unknown";
    }
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, any>) : undefined;
}

/** The last segment of a type token (`gcp:compute/instance:Instance` -> `Instance`). */
export function kindOf(type: string): string {
    return type.slice(type.lastIndexOf(":") + 1);
}

/** Default bound on a build environment's lifetime (I2): one day. */
export const DEFAULT_MAX_BUILD_SECONDS = 86400;

/** Pack config of the lifetime rules: one `maxBuildDurationSeconds` bound, described for `what`. */
export function maxBuildDurationSchema(what: string): PolicyConfigSchema {
    return {
        properties: {
            maxBuildDurationSeconds: {
                type: "integer",
                minimum: 1,
                default: DEFAULT_MAX_BUILD_SECONDS,
                description: `Upper bound for ${what}.`,
            },
        },
    };
}
