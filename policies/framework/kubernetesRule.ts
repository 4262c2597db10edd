/**
 * Plumbing for the Kubernetes stack rules: the model built once per stack, de-duplicated findings,
 * advisories for what cannot be decided, and no throw ever escaping (fail closed).
 */
import { StackValidationArgs } from "@pulumi/policy/policy";
import { FleetStackPolicy } from "../meta";
import { reportAdvisory } from "../model/props";
import { k8sModel, K8sModel } from "../model/kubernetes";

export interface K8sReport {
    /** A decided violation at the policy's level. */
    violation(message: string, urn?: string): void;
    /** A finding the rule cannot decide: always advisory, never silence. */
    advisory(message: string, urn?: string): void;
}

export type K8sCheck = (m: K8sModel, report: K8sReport, args: StackValidationArgs) => void;

export function k8sStackRule(def: Omit<FleetStackPolicy, "validateStack"> & { check: K8sCheck }): FleetStackPolicy {
    const { check, ...policy } = def;
    return {
        ...policy,
        validateStack: (args, reportViolation) => {
            const seen = new Set<string>();
            const once = (message: string, urn: string | undefined) => {
                const key = `${urn ?? ""}\u0000${message}`;
                const fresh = !seen.has(key);
                seen.add(key);
                return fresh;
            };
            const report: K8sReport = {
                violation: (message, urn) => {
                    if (once(message, urn)) {
                        reportViolation(message, urn);
                    }
                },
                advisory: (message, urn) => {
                    if (once(message, urn)) {
                        reportAdvisory(reportViolation, message, urn);
                    }
                },
            };
            try {
                check(k8sModel(args.resources), report, args);
            } catch (err) {
                if (err && typeof err === "object" && (err as any).constructor?.name === "NotApplicableError") {
                    throw err;
                }
                reportViolation(`cannot decide: the rule failed while reading the stack (${err instanceof Error ? err.message : String(err)}); treat the stack as not proven`);
            }
        },
    };
}
