/**
 * Shared plumbing for stack rules: one graph per evaluation, de-duplicated reports, findings a
 * rule cannot decide during preview reported as advisory, and no throw ever escapes (a rule that
 * fails reports it at the policy's own level: fail closed).
 */
import { ReportViolation, StackValidation, StackValidationArgs } from "@pulumi/policy/policy";
import { FleetStackPolicy } from "../meta";
import { reportAdvisory } from "../model/props";
import { fleetGraph, FleetGraph, UNDECIDED } from "../model";

export type Report = (message: string, urn?: string) => void;
export type StackCheck = (g: FleetGraph, report: Report, args: StackValidationArgs) => void;

/** A stack rule as written in this pack: the policy fields plus a check over the shared graph. */
export type StackRuleDef = Omit<FleetStackPolicy, "validateStack"> & { check: StackCheck };

/** Builds a FleetStackPolicy whose validateStack runs `check` over the shared graph. */
export function stackRule(def: StackRuleDef): FleetStackPolicy {
    const { check, ...policy } = def;
    return { ...policy, validateStack: stackCheck(check) };
}

/**
 * Wraps a check: builds (or reuses) the graph, de-duplicates findings, reports undecidable
 * findings as advisory, turns errors into findings.
 */
export function stackCheck(check: StackCheck): StackValidation {
    return (args: StackValidationArgs, reportViolation: ReportViolation) => {
        const seen = new Set<string>();
        const report: Report = (message, urn) => {
            const key = `${urn ?? ""}\u0000${message}`;
            if (seen.has(key)) {
                return;
            }
            seen.add(key);
            if (message.startsWith(UNDECIDED) || message.startsWith(UNPROVEN)) {
                reportAdvisory(reportViolation, message, urn);
            } else {
                reportViolation(message, urn);
            }
        };
        try {
            check(fleetGraph(args.resources), report, args);
        } catch (err) {
            // Only the analyzer's own not-applicable signal may leave a rule.
            if (err && typeof err === "object" && (err as any).constructor?.name === "NotApplicableError") {
                throw err;
            }
            report(`cannot decide: the rule failed while reading the stack (${err instanceof Error ? err.message : String(err)}); treat the stack as not proven`);
        }
    };
}

/** Prefix of an advisory a rule reports in any mode: something the model cannot see, never a pass. */
export const UNPROVEN = "cannot prove:";

/** "a, b and c" */
export function listText(items: string[]): string {
    if (items.length <= 1) {
        return items.join("");
    }
    return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}
