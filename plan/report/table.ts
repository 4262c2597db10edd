/**
 * The human-readable report: summary, isolation zones, then every violation grouped by policy with
 * the invariant it protects, the SLSA Build L3 clause and the fix.
 */
import { Violation } from "../engine";
import { policyIndex, violationDetail } from "./policyInfo";
import { isBlocking, PlanResult } from "./result";

function indent(text: string, prefix: string): string {
    return text.split("\n").map((l) => (l ? prefix + l : l)).join("\n");
}

function plural(n: number, word: string, many = `${word}s`): string {
    return `${n} ${n === 1 ? word : many}`;
}

/** Violations grouped by policy: blocking policies first, then in pack order. */
export function groupViolations(result: PlanResult): { policy: string; level: string; violations: Violation[] }[] {
    const groups = new Map<string, Violation[]>();
    for (const v of result.violations) {
        const group = groups.get(v.policy);
        if (group) {
            group.push(v);
        } else {
            groups.set(v.policy, [v]);
        }
    }
    const order = new Map(result.policies.map((p, i) => [p.name, i]));
    return [...groups.entries()]
        .map(([policy, violations]) => ({ policy, level: violations[0].enforcementLevel, violations }))
        .sort((a, b) => Number(isBlocking(b.violations[0])) - Number(isBlocking(a.violations[0]))
            || (order.get(a.policy) ?? Infinity) - (order.get(b.policy) ?? Infinity)
            || a.policy.localeCompare(b.policy));
}

export function renderTable(result: PlanResult): string {
    const { summary: s, run } = result;
    const info = policyIndex(result.policies);
    const out: string[] = [];
    const mode = s.preview ? "offline preview: computed outputs unknown" : "offline: provider outputs modelled";
    out.push(`Plan of ${s.project}/${s.stack} (${mode})`, "");
    out.push(`Resources: ${s.resources} registered = ${s.customResources} managed (what pulumi up creates) + ${plural(s.components, "component")} (groupings, nothing created) + ${plural(s.resources - s.customResources - s.components, "provider")}`);

    if (s.byComponent.length > 0) {
        out.push("", "Per component");
        const rows = s.byComponent.map((c) => [`${"  ".repeat(c.depth)}${c.type} ${c.name}`, String(c.resources)]);
        const width = Math.max(...rows.map((r) => r[0].length));
        rows.forEach(([label, n]) => out.push(`  ${label.padEnd(width)}  ${n.padStart(5)}`));
    }
    if (s.byPool.length > 0) {
        out.push("", "Per pool");
        const width = Math.max(...s.byPool.map((p) => p.pool.length));
        s.byPool.forEach((p) => out.push(`  ${p.pool.padEnd(width)}  ${String(p.resources).padStart(5)}`));
    }

    out.push("", "Isolation zones");
    if (s.zones.length === 0) {
        out.push("  (none: no resource carries the build-fleet role labels or sits in a fleet component)");
    }
    for (const z of s.zones) {
        out.push(`  ${z.label} (${plural(z.resources, "resource")})`);
        out.push(`    networks:   ${z.networks.length > 0 ? z.networks.join(", ") : "—"}`);
        out.push(`    identities: ${z.identities.length > 0 ? z.identities.join(", ") : "—"}`);
    }
    if (s.unzoned > 0) {
        out.push(`  outside every zone: ${plural(s.unzoned, "resource")} (no role label, no fleet component, no zoned workload using them)`);
        for (const urn of s.unzonedUrns) {
            const r = run.byUrn.get(urn);
            out.push(`    ${r ? `${r.name} (${r.type})` : urn}`);
        }
    }

    for (const [source, title] of [["program", "Program warnings"], ["policy-config", "Policy config warnings"]] as const) {
        const warnings = result.warnings.filter((w) => w.source === source);
        if (warnings.length > 0) {
            out.push("", title);
            warnings.forEach((w) => out.push(indent(w.message, "  ")));
        }
    }

    const blocking = result.violations.filter(isBlocking).length;
    const advisory = result.violations.length - blocking;
    const evaluated = result.policies.filter((p) => result.levels.get(p.name) !== "disabled").length;
    out.push("");
    if (result.violations.length === 0) {
        out.push(`Violations: none (${plural(evaluated, "policy", "policies")} evaluated)`);
    } else {
        out.push(`Violations: ${result.violations.length} (${blocking} mandatory, ${advisory} advisory); ${plural(evaluated, "policy", "policies")} evaluated`);
    }
    for (const g of groupViolations(result)) {
        const p = info(g.policy);
        out.push("", `[${g.level}] ${g.policy}: ${p.description}`);
        out.push(`  invariant: ${p.invariantText}`);
        out.push(`  SLSA:      ${p.slsaClause}`);
        out.push(`  fix:       ${p.fix}`);
        for (const v of g.violations) {
            const r = v.urn ? run.byUrn.get(v.urn) : undefined;
            out.push(`  - ${r ? `${r.name} (${r.type})` : v.urn ?? "(stack)"}`);
            out.push(indent(violationDetail(v.message, p.description), "      "));
            if (v.urn) {
                out.push(`      ${v.urn}`);
            }
        }
    }
    out.push("", blocking > 0
        ? `Result: FAIL, ${plural(blocking, "mandatory violation")} (exit 1)`
        : `Result: PASS, no mandatory violations${advisory > 0 ? ` (${plural(advisory, "advisory finding")})` : ""}`);
    return out.join("\n") + "\n";
}
