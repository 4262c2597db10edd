/**
 * The JSON report: a stable schema (plan/report/plan-report.schema.json) for scripts and dashboards.
 * Fields are only ever added with a new `schemaVersion`; keys are always present (null when absent).
 */
import { STACK_TYPE } from "../engine";
import { reportInputs } from "./inputs";
import { isBlocking, PlanResult } from "./result";

/**
 * 2: `summary.managedResources`, `summary.components`, `unzoned` and `warnings` added.
 * 3: each resource's `custom`, `inputs` (secrets masked), `dependencies` and `propertyDependencies` added.
 */
export const JSON_SCHEMA_VERSION = 3;

export interface JsonReport {
    schemaVersion: typeof JSON_SCHEMA_VERSION;
    project: string;
    stack: string;
    preview: boolean;
    summary: {
        /** Registered resources, excluding the stack (components, custom resources, providers). */
        resources: number;
        /** Provider-managed resources, providers excluded: what `pulumi up` creates. */
        managedResources: number;
        /** Component resources (groupings that create nothing themselves). */
        components: number;
        violations: number;
        /** Violations that block a deployment (enforcement mandatory or remediate). */
        mandatory: number;
        advisory: number;
        /** Violation count per policy name (only policies with violations), keys sorted. */
        byPolicy: Record<string, number>;
    };
    resources: {
        urn: string;
        type: string;
        name: string;
        parent: string | null;
        /** True for provider-managed resources and providers, false for components. */
        custom: boolean;
        /** Inputs as registered: secrets "[secret]", values unknown until apply "[unknown]", references as id or URN. */
        inputs: Record<string, unknown>;
        /** URNs it waits for: explicit dependsOn and every input's sources. */
        dependencies: string[];
        /** Per input property, the URNs its value was computed from. */
        propertyDependencies: Record<string, string[]>;
    }[];
    violations: { policy: string; enforcementLevel: "advisory" | "mandatory" | "remediate"; message: string; urn: string | null }[];
    /** URNs of managed resources in no isolation zone (no role label, no fleet component, no zoned workload using them). */
    unzoned: string[];
    /** Program warnings (pulumi.log.warn) and policy-config warnings. */
    warnings: { source: "program" | "policy-config"; message: string }[];
}

export function buildJsonReport(result: PlanResult): JsonReport {
    const counts = new Map<string, number>();
    for (const v of result.violations) {
        counts.set(v.policy, (counts.get(v.policy) ?? 0) + 1);
    }
    const byPolicy: Record<string, number> = Object.fromEntries([...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const mandatory = result.violations.filter(isBlocking).length;
    return {
        schemaVersion: JSON_SCHEMA_VERSION,
        project: result.run.project,
        stack: result.run.stack,
        preview: result.run.preview,
        summary: {
            resources: result.summary.resources,
            managedResources: result.summary.customResources,
            components: result.summary.components,
            violations: result.violations.length,
            mandatory,
            advisory: result.violations.length - mandatory,
            byPolicy,
        },
        resources: result.run.resources
            .filter((r) => r.type !== STACK_TYPE)
            .map((r) => ({
                urn: r.urn,
                type: r.type,
                name: r.name,
                parent: r.parent ?? null,
                custom: r.custom,
                inputs: reportInputs(r.wireInputs ?? {}) as Record<string, unknown>,
                dependencies: [...r.dependencies],
                propertyDependencies: Object.fromEntries(Object.entries(r.propertyDependencies).map(([k, v]) => [k, [...v]])),
            })),
        violations: result.violations.map((v) => ({ policy: v.policy, enforcementLevel: v.enforcementLevel, message: v.message, urn: v.urn ?? null })),
        unzoned: result.summary.unzonedUrns,
        warnings: result.warnings.map((w) => ({ source: w.source, message: w.message })),
    };
}

export function renderJson(result: PlanResult): string {
    return JSON.stringify(buildJsonReport(result), null, 2) + "\n";
}
