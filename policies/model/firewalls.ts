/**
 * Classic VPC firewall rules and firewall policy rules (global and regional network firewall
 * policies, with separate or inline rules, and hierarchical organization/folder policies),
 * normalised to one shape and attached to the networks they apply to (I4, I5). Built once per graph.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { get, list, unknown } from "./props";
import { Cidr, parseCidr } from "./cidr";
import { depsOf } from "./lookup";
import type { FleetGraph } from "./index";
import { T } from "./types";

export interface FwRule {
    res: PolicyResource;
    /** For rules inside a NetworkFirewallPolicyWithRules: the rule's index. */
    index?: number;
    networks: PolicyResource[];
    /** The network reference is unknown during preview and depends on no network. */
    networkUnknown: boolean;
    direction: "INGRESS" | "EGRESS";
    action: "allow" | "deny" | "other";
    /** Source (ingress) or destination (egress) ranges; "unknown" during preview. */
    ranges: Cidr[] | "unknown";
    /** True when the rule names no IP ranges but other selectors (tags, service accounts, FQDNs). */
    selectorOnly: boolean;
    /** All protocols. */
    allProtocols: boolean;
    /** Applies only to some instances (target tags / service accounts / secure tags). */
    targeted: boolean;
    /** Whether the rule can apply to runners: targeted only at non-runner SAs or at tags no runner carries means no. */
    reachesRunners: boolean | "unknown";
    /**
     * Whether the rule can apply to any workload of the stack: a rule aimed only at service accounts
     * no compute of the stack runs as (and at no tag) opens nothing of the fleet, on any network.
     */
    reachesFleet: boolean | "unknown";
    disabled: boolean;
}

const ANY_V4 = parseCidr("0.0.0.0/0")!;

function cidrs(v: unknown): Cidr[] | "unknown" | undefined {
    if (unknown(v)) {
        return "unknown";
    }
    if (!Array.isArray(v)) {
        return undefined;
    }
    if (v.some((x) => unknown(x))) {
        return "unknown";
    }
    return v.map(parseCidr).filter((c): c is Cidr => c !== undefined);
}

const WORLDISH: Record<"INGRESS" | "EGRESS", string[]> = {
    INGRESS: ["srcAddressGroups", "srcRegionCodes", "srcThreatIntelligences"],
    EGRESS: ["destAddressGroups", "destRegionCodes", "destThreatIntelligences"],
};

/** Whether a rule targeted only by service accounts can apply to any compute of the stack (runner or platform). */
function reachesFleet(g: FleetGraph, r: PolicyResource, prop: string, sas: unknown, tags: unknown): boolean | "unknown" {
    if (!nonEmpty(sas) || nonEmpty(tags)) {
        return true;
    }
    const fleet = new Set<string>();
    g.compute.forEach((n) => n.identities.forEach((p) => fleet.add(p.id)));
    const isFleet = (id: string) => fleet.has(id) || g.runnerIdentities.has(id);
    const named = Array.isArray(sas) ? sas : [];
    if (unknown(sas) || named.some((e) => unknown(e))) {
        // Unknown during a preview: the accounts it depends on decide, when it names only those.
        const deps = depsOf(r, prop, [T.serviceAccount]);
        if (deps.length === 0) {
            return "unknown";
        }
        return deps.some((sa) => isFleet(g.principalOfSa(sa).id)) || named.some((e) => typeof e === "string" && !unknown(e) && isFleet(g.principalOfMember(`serviceAccount:${e}`).id));
    }
    return named.some((e) => typeof e !== "string" || isFleet(g.principalOfMember(`serviceAccount:${e}`).id));
}

/** Whether a rule targeted by SAs (any spelling) or tags can apply to a runner. */
function reachesRunners(g: FleetGraph, r: PolicyResource, prop: string, sas: unknown, tags: unknown): boolean | "unknown" {
    const bySa = nonEmpty(sas);
    const byTag = nonEmpty(tags);
    if (!bySa && !byTag) {
        return true;
    }
    const sasList = Array.isArray(sas) ? sas : [];
    if (unknown(sas) || unknown(tags) || sasList.some((e) => unknown(e))) {
        // Unknown during a preview: the service accounts it depends on decide.
        const deps = depsOf(r, prop, [T.serviceAccount]);
        if (deps.length > 0 && !unknown(tags)) {
            return deps.some((sa) => g.isRunner(g.principalOfSa(sa))) || sasList.some((e) => typeof e === "string" && !unknown(e) && g.isRunner(g.principalOfMember(`serviceAccount:${e}`)));
        }
        return "unknown";
    }
    if (bySa && sasList.some((e) => typeof e !== "string" || g.isRunner(g.principalOfMember(`serviceAccount:${e}`)))) {
        return true;
    }
    if (byTag) {
        const wanted = new Set((tags as unknown[]).filter((t): t is string => typeof t === "string"));
        return g.compute.some((n) => n.isRunner && (list(n.res.props, "tags") as unknown[] | symbol) instanceof Array
            && (list(n.res.props, "tags") as unknown[]).some((t) => typeof t === "string" && wanted.has(t)))
            || g.compute.some((n) => n.isRunner && unknown(get(n.res.props, "tags")));
    }
    return false;
}

function nonEmpty(v: unknown): boolean {
    return unknown(v) || (Array.isArray(v) && v.length > 0);
}

const cache = new WeakMap<FleetGraph, FwRule[]>();

/** Every firewall rule of the stack with the networks it applies to. */
export function firewallRules(g: FleetGraph): FwRule[] {
    const cached = cache.get(g);
    if (cached) {
        return cached;
    }
    const out: FwRule[] = [];

    for (const fw of g.of(T.firewall)) {
        const p = g.props(fw);
        const nets = g.networksOfRef(fw, "network", get(p, "network"));
        const direction = get(p, "direction") === "EGRESS" ? "EGRESS" : "INGRESS";
        const allows = get(p, "allows");
        const denies = get(p, "denies");
        const entries = nonEmpty(allows) ? allows : denies;
        const action = nonEmpty(allows) ? "allow" : nonEmpty(denies) ? "deny" : "other";
        const rangeProp = direction === "INGRESS" ? "sourceRanges" : "destinationRanges";
        let ranges = cidrs(get(p, rangeProp));
        const selectors = direction === "INGRESS" && (nonEmpty(get(p, "sourceTags")) || nonEmpty(get(p, "sourceServiceAccounts")));
        if (ranges === undefined || (Array.isArray(ranges) && ranges.length === 0)) {
            // GCP default: no ranges and no source selectors means 0.0.0.0/0.
            ranges = selectors ? [] : [ANY_V4];
        }
        out.push({
            res: fw,
            networks: nets.found,
            networkUnknown: nets.unknown,
            direction,
            action,
            ranges,
            selectorOnly: selectors && Array.isArray(ranges) && ranges.length === 0,
            allProtocols: Array.isArray(entries) && entries.some((e) => get(e, "protocol") === "all"),
            targeted: nonEmpty(get(p, "targetTags")) || nonEmpty(get(p, "targetServiceAccounts")),
            reachesRunners: reachesRunners(g, fw, "targetServiceAccounts", get(p, "targetServiceAccounts"), get(p, "targetTags")),
            reachesFleet: reachesFleet(g, fw, "targetServiceAccounts", get(p, "targetServiceAccounts"), get(p, "targetTags")),
            disabled: get(p, "disabled") === true,
        });
    }

    // Firewall policies: which networks each policy is attached to. Global and regional network firewall
    // policies attach to the networks their associations name; a hierarchical (organization / folder)
    // policy applies to every network below its attachment, and the hierarchy is not visible, so an
    // associated hierarchical policy counts for every network of the stack (fail closed).
    const families: {
        policyTypes: string[];
        ruleType: string;
        associationType: string;
        find: (ref: string) => PolicyResource[];
        hierarchical: boolean;
    }[] = [
        { policyTypes: [T.firewallPolicy, T.firewallPolicyWithRules], ruleType: T.firewallPolicyRule, associationType: T.firewallPolicyAssociation, find: (r) => g.findFirewallPolicies(r), hierarchical: false },
        {
            policyTypes: [T.regionFirewallPolicy, T.regionFirewallPolicyWithRules], ruleType: T.regionFirewallPolicyRule, associationType: T.regionFirewallPolicyAssociation,
            find: (r) => g.findRegionFirewallPolicies(r), hierarchical: false,
        },
        {
            policyTypes: [T.hierFirewallPolicy, T.hierFirewallPolicyWithRules], ruleType: T.hierFirewallPolicyRule, associationType: T.hierFirewallPolicyAssociation,
            find: (r) => g.findHierFirewallPolicies(r), hierarchical: true,
        },
    ];
    const policyNets = new Map<string, { nets: PolicyResource[]; unknown: boolean; hierarchical: boolean }>();
    const policiesOf = (r: PolicyResource, family: (typeof families)[number]): PolicyResource[] => {
        const fp = get(r.props, "firewallPolicy");
        return unknown(fp) ? depsOf(r, "firewallPolicy", family.policyTypes) : typeof fp === "string" ? family.find(fp) : [];
    };
    for (const family of families) {
        for (const a of g.of(family.associationType)) {
            const nets = family.hierarchical
                ? { found: g.of(T.network), unknown: false }
                : g.networksOfRef(a, "attachmentTarget", get(g.props(a), "attachmentTarget"));
            for (const pol of policiesOf(a, family)) {
                const entry = policyNets.get(pol.urn) ?? { nets: [], unknown: false, hierarchical: family.hierarchical };
                entry.nets.push(...nets.found);
                entry.unknown ||= nets.unknown;
                policyNets.set(pol.urn, entry);
            }
        }
    }
    const fromPolicyRule = (res: PolicyResource, rule: any, policies: PolicyResource[], index?: number) => {
        const direction = get(rule, "direction") === "EGRESS" ? "EGRESS" : "INGRESS";
        const action = get(rule, "action");
        const match = get(rule, "match");
        const rangeProp = direction === "INGRESS" ? "srcIpRanges" : "destIpRanges";
        let ranges = unknown(match) ? "unknown" as const : cidrs(get(match, rangeProp));
        const selectorProps = direction === "INGRESS"
            ? ["srcFqdns", "srcAddressGroups", "srcSecureTags", "srcNetworks", "srcRegionCodes", "srcThreatIntelligences", "srcNetworkScope"]
            : ["destFqdns", "destAddressGroups", "destRegionCodes", "destThreatIntelligences", "destNetworkScope"];
        const selectors = !unknown(match) && selectorProps.some((k) => {
            const v = get(match, k);
            return typeof v === "string" ? v !== "" : nonEmpty(v);
        });
        // Internet scope, address groups, region codes and threat-intelligence lists can each mean the whole internet.
        const worldish = !unknown(match) && (WORLDISH[direction].some((k) => nonEmpty(get(match, k))) || get(match, direction === "INGRESS" ? "srcNetworkScope" : "destNetworkScope") === "INTERNET");
        if (worldish) {
            ranges = Array.isArray(ranges) ? [...ranges, ANY_V4] : ranges === undefined ? [ANY_V4] : ranges;
        } else if (ranges === undefined || (Array.isArray(ranges) && ranges.length === 0)) {
            ranges = selectors ? [] : [ANY_V4];
        }
        const l4 = get(match, "layer4Configs");
        let nets: PolicyResource[] = [];
        let netUnknown = false;
        let hierarchical = false;
        for (const pol of policies) {
            const e = policyNets.get(pol.urn);
            if (e) {
                nets.push(...e.nets);
                netUnknown ||= e.unknown;
                hierarchical ||= e.hierarchical;
            }
        }
        // A hierarchical rule may be confined to some networks (targetResources); unknown keeps them all.
        const targetResources = get(rule, "targetResources");
        if (hierarchical && Array.isArray(targetResources) && targetResources.length > 0 && !targetResources.some((t) => unknown(t))) {
            const targets = new Set(targetResources.flatMap((t) => (typeof t === "string" ? g.findNetworks(t) : [])));
            nets = nets.filter((n) => targets.has(n));
        }
        out.push({
            res,
            index,
            networks: [...new Set(nets)],
            networkUnknown: netUnknown,
            direction,
            // apply_security_profile_group lets traffic through after inspection: an allow.
            action: action === "allow" || action === "apply_security_profile_group" ? "allow" : action === "deny" ? "deny" : "other",
            ranges,
            selectorOnly: selectors && Array.isArray(ranges) && ranges.length === 0,
            allProtocols: Array.isArray(l4) && l4.some((c) => get(c, "ipProtocol") === "all"),
            targeted: nonEmpty(get(rule, "targetServiceAccounts")) || nonEmpty(get(rule, "targetSecureTags")),
            // Secure tags are not modelled: a rule aimed at them may reach runners (fail closed).
            reachesRunners: nonEmpty(get(rule, "targetSecureTags")) ? true : reachesRunners(g, res, index === undefined ? "targetServiceAccounts" : "rules", get(rule, "targetServiceAccounts"), undefined),
            reachesFleet: nonEmpty(get(rule, "targetSecureTags")) ? true : reachesFleet(g, res, index === undefined ? "targetServiceAccounts" : "rules", get(rule, "targetServiceAccounts"), undefined),
            disabled: get(rule, "disabled") === true,
        });
    };
    for (const family of families) {
        for (const r of g.of(family.ruleType)) {
            fromPolicyRule(r, g.props(r), policiesOf(r, family));
        }
        for (const type of family.policyTypes) {
            for (const pol of g.of(type)) {
                const rules = get(pol.props, "rules");
                if (Array.isArray(rules)) {
                    rules.forEach((rule, i) => fromPolicyRule(pol, rule, [pol], i));
                }
            }
        }
    }

    cache.set(g, out);
    return out;
}

/** Firewall rules by network URN. */
export function firewallRulesByNetwork(g: FleetGraph): Map<string, FwRule[]> {
    const out = new Map<string, FwRule[]>();
    for (const r of firewallRules(g)) {
        for (const n of r.networks) {
            const arr = out.get(n.urn);
            if (arr) {
                arr.push(r);
            } else {
                out.set(n.urn, [r]);
            }
        }
    }
    return out;
}

export function ruleLabel(r: FwRule): string {
    return r.index === undefined ? r.res.name : `${r.res.name} rule #${r.index}`;
}

export { insideAny, RangeIndex } from "./ranges";
