/**
 * Everything a report renders, computed once per plan: the run, the violations, the policies with
 * their resolved enforcement levels, the summary and the topology.
 */
import type { Policy } from "@pulumi/policy/policy"; // not the index: see policies/meta.ts
import { EnforcementLevel, Evaluation, ProgramRun, resolvePolicyConfigs, Violation } from "../engine";
import { PlanSummary, summarize } from "./summary";
import { buildTopology, Topology } from "./topology";
import { zoneResources } from "./zones";

/** A warning of the plan: from the program (`pulumi.log.warn`) or from the policy config. */
export interface PlanWarning {
    source: "program" | "policy-config";
    message: string;
}

export interface PlanResult {
    run: ProgramRun;
    violations: Violation[];
    policies: Policy[];
    /** Each policy's enforcement level after the policy config. */
    levels: Map<string, EnforcementLevel>;
    summary: PlanSummary;
    topology: Topology;
    /** Program warnings, then policy-config warnings. */
    warnings: PlanWarning[];
    /** The program and stack config files, for SARIF locations. */
    programFile?: string;
    configFile?: string;
}

export interface PlanResultOptions {
    policyConfig?: Record<string, unknown>;
    programFile?: string;
    configFile?: string;
}

/**
 * True for a violation that blocks a deployment: mandatory, or remediate (a remediate-level
 * finding the pack cannot fix offline blocks like a mandatory one).
 */
export function isBlocking(v: Violation): boolean {
    return v.enforcementLevel === "mandatory" || v.enforcementLevel === "remediate";
}

export function buildPlanResult(run: ProgramRun, evaluation: Evaluation, policies: Policy[], opts: PlanResultOptions = {}): PlanResult {
    const { byPolicy: resolved, warnings: configWarnings } = resolvePolicyConfigs(policies, { policyConfig: opts.policyConfig });
    const levels = new Map([...resolved].map(([name, cfg]) => [name, cfg.enforcementLevel] as [string, EnforcementLevel]));
    const zoning = zoneResources(run);
    return {
        run,
        violations: evaluation.violations,
        policies,
        levels,
        summary: summarize(run, zoning),
        topology: buildTopology(run, evaluation.violations, zoning),
        warnings: [
            ...run.logs.filter((l) => l.severity === "warning").map((l): PlanWarning => ({ source: "program", message: l.message })),
            ...(evaluation.warnings ?? configWarnings).map((message): PlanWarning => ({ source: "policy-config", message })),
        ],
        programFile: opts.programFile,
        configFile: opts.configFile,
    };
}
