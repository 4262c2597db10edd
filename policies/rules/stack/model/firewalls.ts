/**
 * Classic VPC firewall rules and firewall policy rules (global and regional network firewall
 * policies, with separate or inline rules, and hierarchical organization/folder policies),
 * normalised to one shape and attached to the networks they apply to (I4, I5). Built once per graph.
 */
import { PolicyResource } from "@pulumi/policy";
import { get, unknown } from "../../props";
import { Cidr, contains, overlaps, parseCidr } from "../cidr";
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
        if (ranges === undefined || (Array.isArray(ranges) && ranges.length === 0)) {
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
            action: action === "allow" ? "allow" : action === "deny" ? "deny" : "other",
            ranges,
            selectorOnly: selectors && Array.isArray(ranges) && ranges.length === 0,
            allProtocols: Array.isArray(l4) && l4.some((c) => get(c, "ipProtocol") === "all"),
            targeted: nonEmpty(get(rule, "targetServiceAccounts")) || nonEmpty(get(rule, "targetSecureTags")),
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

/**
 * Interval index over owned ranges: answers "which owner's range overlaps this one" in
 * O(log n + hits), so rules stay linear overall.
 */
export class RangeIndex<O> {
    private v4: { start: number; end: number; owner: O; cidr: Cidr }[] = [];
    private v6: { owner: O; cidr: Cidr }[] = [];
    private maxEnd: number[] = [];
    private sorted = true;

    add(cidr: Cidr, owner: O): void {
        if (cidr.kind === "ipv4") {
            const [start, end] = v4Interval(cidr);
            this.v4.push({ start, end, owner, cidr });
            this.sorted = false;
        } else {
            this.v6.push({ owner, cidr });
        }
    }

    private sort(): void {
        if (this.sorted) {
            return;
        }
        this.v4.sort((a, b) => a.start - b.start);
        let m = -1;
        this.maxEnd = this.v4.map((e) => (m = Math.max(m, e.end)));
        this.sorted = true;
    }

    /** The first entry overlapping `q` for which `accept(owner)` holds. */
    findOverlap(q: Cidr, accept: (owner: O, cidr: Cidr) => boolean): { owner: O; cidr: Cidr } | undefined {
        if (q.kind === "ipv6") {
            return this.v6.find((e) => overlaps(e.cidr, q) && accept(e.owner, e.cidr));
        }
        this.sort();
        const [qs, qe] = v4Interval(q);
        // Last index with start <= qe.
        let lo = 0;
        let hi = this.v4.length - 1;
        let idx = -1;
        while (lo <= hi) {
            const mid = (lo + hi) >> 1;
            if (this.v4[mid].start <= qe) {
                idx = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        for (let i = idx; i >= 0 && this.maxEnd[i] >= qs; i--) {
            const e = this.v4[i];
            if (e.end >= qs && accept(e.owner, e.cidr)) {
                return { owner: e.owner, cidr: e.cidr };
            }
        }
        return undefined;
    }
}

function v4Interval(c: Cidr): [number, number] {
    const bytes = c.net.toByteArray();
    const start = ((bytes[0] << 24) >>> 0) + (bytes[1] << 16) + (bytes[2] << 8) + bytes[3];
    const size = 2 ** (32 - c.prefix);
    return [start, start + size - 1];
}

/** True when `c` lies entirely inside one of `own`. */
export function insideAny(c: Cidr, own: Cidr[]): boolean {
    return own.some((o) => contains(o, c));
}
