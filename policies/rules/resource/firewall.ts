/**
 * No firewall rule admits the whole internet (I3). VPC firewall rules and (hierarchical / network /
 * regional) firewall policy rules that allow INGRESS from 0.0.0.0/0 or ::/0 (any prefix of length
 * 0) are violations, as is a VPC ingress allow rule with no source at all (GCP then uses 0.0.0.0/0).
 */
import * as ipaddr from "ipaddr.js";
import { ReportViolation } from "@pulumi/policy/policy";
import { FleetResourcePolicy } from "../../meta";
import { get, list, unknown } from "../../model/props";
import { allOf, boolish, forTypes, undecided } from "../../recognisers/common";

export const FIREWALL = "gcp:compute/firewall:Firewall";
/** Firewall policy rules, one rule per resource. */
export const POLICY_RULE_TYPES: readonly string[] = [
    "gcp:compute/firewallPolicyRule:FirewallPolicyRule",
    "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule",
    "gcp:compute/regionNetworkFirewallPolicyRule:RegionNetworkFirewallPolicyRule",
];
/** Firewall policies with their rules inline (`rules[]`). */
export const POLICY_WITH_RULES_TYPES: readonly string[] = [
    "gcp:compute/firewallPolicyWithRules:FirewallPolicyWithRules",
    "gcp:compute/networkFirewallPolicyWithRules:NetworkFirewallPolicyWithRules",
    "gcp:compute/regionNetworkFirewallPolicyWithRules:RegionNetworkFirewallPolicyWithRules",
];
/** Policy-rule actions that let matching traffic through. */
const ALLOWING_ACTIONS = new Set(["allow", "apply_security_profile_group"]);

/** True when a CIDR string covers the whole IPv4 or IPv6 address space. */
export function isWorldRange(range: unknown): boolean {
    if (typeof range !== "string") {
        return false;
    }
    const s = range.trim();
    try {
        return ipaddr.parseCIDR(s)[1] === 0;
    } catch {
        return s === "0.0.0.0/0" || s === "::/0" || s === "*";
    }
}

/**
 * World ranges among `ranges`. Unknown elements are not world ranges (a computed range comes from
 * another resource, never the literal 0.0.0.0/0); a wholly unknown list is undecidable.
 */
function worldRanges(ranges: any[] | symbol, where: string, report: ReportViolation): string[] {
    if (unknown(ranges)) {
        undecided(report, `${where} is unknown, so an ingress from 0.0.0.0/0 cannot be ruled out.`);
        return [];
    }
    return (ranges as any[]).filter(isWorldRange);
}

/** Findings for one firewall policy rule (standalone resource or an inline `rules[]` entry). */
function policyRuleFinding(rule: unknown, where: string, report: ReportViolation, directionDefault: string | undefined): string | undefined {
    if (boolish(get(rule, "disabled")) === true) {
        return undefined;
    }
    const direction = get(rule, "direction") ?? directionDefault;
    const action = get(rule, "action");
    if (unknown(direction) || unknown(action)) {
        undecided(report, `${where}: direction or action is unknown.`);
        return undefined;
    }
    if (direction !== "INGRESS" || typeof action !== "string" || !ALLOWING_ACTIONS.has(action.toLowerCase())) {
        return undefined;
    }
    const world = worldRanges(list(rule, "match", "srcIpRanges"), `${where}.match.srcIpRanges`, report);
    return world.length > 0 ? `${where} allows ingress from ${world.join(", ")}` : undefined;
}

export const firewallNoWorldIngress: FleetResourcePolicy = {
    name: "firewall-no-world-ingress",
    description: "[I3] No firewall rule or firewall policy rule allows ingress from 0.0.0.0/0 or ::/0.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "no ingress allow from 0.0.0.0/0 or ::/0 (firewalls and policy rules; a source-less allow counts)",
        invariants: ["I3"],
        fix: "Remove the world-open ingress rule (runners accept no inbound connections); if a health check or IAP needs access, allow only Google's documented source ranges to specific ports.",
    },
    validateResource: allOf(
        forTypes([FIREWALL], (props, _args, report) => {
            if (boolish(get(props, "disabled")) === true) {
                return;
            }
            const direction = get(props, "direction") ?? "INGRESS";
            const allows = list(props, "allows");
            if (unknown(direction) || unknown(allows)) {
                undecided(report, "direction or allows is unknown.");
                return;
            }
            if (direction !== "INGRESS" || allows.length === 0) {
                return;
            }
            const ranges = list(props, "sourceRanges");
            const world = worldRanges(ranges, "sourceRanges", report);
            if (world.length > 0) {
                report(`firewall rule allows ingress from ${world.join(", ")} (open to the internet).`);
                return;
            }
            const noSource = (field: string) => {
                const v = list(props, field);
                return !unknown(v) && v.length === 0;
            };
            if (noSource("sourceRanges") && noSource("sourceTags") && noSource("sourceServiceAccounts")) {
                report("firewall ingress allow rule has no sourceRanges, sourceTags or sourceServiceAccounts, so GCP applies it to 0.0.0.0/0.");
            }
        }),
        forTypes(POLICY_RULE_TYPES, (props, _args, report) => {
            const finding = policyRuleFinding(props, "rule", report, undefined);
            if (finding) {
                report(`firewall policy ${finding} (open to the internet).`);
            }
        }),
        forTypes(POLICY_WITH_RULES_TYPES, (props, _args, report) => {
            const rules = list(props, "rules");
            if (unknown(rules)) {
                undecided(report, "rules is unknown.");
                return;
            }
            // Inline rules default to INGRESS.
            const findings = rules.map((_r, i) => policyRuleFinding(get(rules, i), `rules[${i}]`, report, "INGRESS")).filter((f): f is string => f !== undefined);
            if (findings.length > 0) {
                report(`firewall policy ${findings.join("; ")} (open to the internet).`);
            }
        }),
    ),
};

export const firewallPolicies: FleetResourcePolicy[] = [firewallNoWorldIngress];
