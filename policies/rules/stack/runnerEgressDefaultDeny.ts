/**
 * runner-egress-default-deny (I4): every runner network denies all egress to 0.0.0.0/0 (all
 * protocols, all instances), allows no egress to 0.0.0.0/0 (nor to ranges that together cover every
 * address, in one rule or across rules; classic firewall rules and every kind of firewall policy,
 * which may be evaluated before the VPC's own deny rule), reaches Google APIs only through the
 * restricted VIP 199.36.153.4/30, and has a private googleapis.com DNS zone resolving to it.
 * Runners attached to networks this stack does not define cannot be proven and are reported. A
 * Secure Web Proxy on a runner network is an egress path of its own: a rule of its policy that
 * allows every session undoes the allow-list.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { get, unknown } from "../../model/props";
import { FleetStackPolicy } from "../../meta";
import { contains, coveredFamily, isAnywhere, overlaps, parseCidr, PRIVATE_VIP, RESTRICTED_VIP } from "../../model/cidr";
import { depsOf, FleetGraph, T, UNDECIDED } from "../../model";
import { firewallRules, firewallRulesByNetwork, FwRule, ruleLabel } from "../../model/firewalls";
import { networkJoins } from "../../model/joins";
import { stackRule } from "../../framework/stackRule";

const GOOGLEAPIS = "googleapis.com.";

export const runnerEgressDefaultDeny: FleetStackPolicy = stackRule({
    name: "runner-egress-default-deny",
    description:
        "[I4] Every runner network has an EGRESS deny-all rule for 0.0.0.0/0, no EGRESS allow to 0.0.0.0/0, Google APIs only " +
        "through the restricted VIP 199.36.153.4/30, and a private googleapis.com DNS zone bound to it.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "each runner network has an EGRESS deny-all for 0.0.0.0/0 (a deny narrowed by target SAs or tags does not count), no egress allow reaching runners to 0.0.0.0/0 (or to ranges that together cover it; `destNetworkScope: INTERNET`, address groups, region codes and threat-intelligence lists count as the internet; `apply_security_profile_group` allows), no Secure Web Proxy rule allowing every session (`sessionMatcher` absent, `true` or matching every host) in the policy of a gateway on a runner network, no Private Service Connect endpoint to `all-apis` in a VPC rule or in any firewall policy that reaches it (global or regional network policies with separate or inline rules, hierarchical folder/org policies), Google APIs only via 199.36.153.4/30, and a private `googleapis.com` zone",
        invariants: ["I4"],
        fix:
            "Use IsolatedNetwork for every pool: it adds the deny-all egress rule, the HTTPS allow to 199.36.153.4/30 and a private " +
            "googleapis.com zone pointing at restricted.googleapis.com; put other destinations on the CIDR/FQDN allow-list, never 0.0.0.0/0.",
    },
    check: (g, report) => {
        for (const n of g.compute) {
            if (!n.isRunner) {
                continue;
            }
            for (const ext of n.externalNetworks) {
                report(`runner ${n.res.name} attaches to ${ext}, which this stack does not define: its default-deny egress cannot be proven`, n.res.urn);
            }
        }
        if (g.runnerNetworks.size === 0) {
            return;
        }
        const rulesByNet = firewallRulesByNetwork(g);
        // A deny rule whose network is unknown during preview may be the missing one.
        const floatingDeny = firewallRules(g).some((r) => r.networkUnknown && r.direction === "EGRESS" && r.action === "deny");
        const zonesByNet = googleapisZones(g);

        for (const [urn, pn] of g.runnerNetworks) {
            const net = pn.network;
            const label = `runner network ${g.networkLabel(net)}${pn.pools.size > 0 ? ` (pool ${[...pn.pools].join(", ")})` : ""}`;
            const rules = (rulesByNet.get(urn) ?? []).filter((r) => r.direction === "EGRESS" && !r.disabled);
            let denyAll = false;
            let denyUnknown = floatingDeny;
            // Allow rules that do not reach everywhere on their own, which may together.
            const partialAllows: FwRule[] = [];
            for (const r of rules) {
                if (r.action === "deny") {
                    if (r.ranges === "unknown") {
                        denyUnknown = true;
                    } else if (r.allProtocols && !r.targeted && r.ranges.some((c) => c.kind === "ipv4" && isAnywhere(c))) {
                        denyAll = true;
                    }
                } else if (r.action === "allow") {
                    if (r.reachesRunners === false) {
                        continue; // aimed only at non-runner instances (e.g. a proxy's SA or tag)
                    }
                    if (r.ranges === "unknown") {
                        report(`${UNDECIDED} egress allow rule ${ruleLabel(r)} in ${label} has destination ranges unknown until apply`, r.res.urn);
                        continue;
                    }
                    const anywhere = r.ranges.find(isAnywhere);
                    if (anywhere) {
                        report(`egress allow rule ${ruleLabel(r)} in ${label} allows ${anywhere.text}: egress must be deny-by-default with an explicit allow-list`, r.res.urn);
                        continue;
                    }
                    const family = coveredFamily(r.ranges);
                    if (family) {
                        report(
                            `egress allow rule ${ruleLabel(r)} in ${label} allows ${r.ranges.map((c) => c.text).join(", ")}, which together cover every ${family === "ipv4" ? "IPv4" : "IPv6"} ` +
                                "address (the same as 0.0.0.0/0): egress must be deny-by-default with an explicit allow-list",
                            r.res.urn,
                        );
                        continue;
                    }
                    partialAllows.push(r);
                    const priv = r.ranges.find((c) => overlaps(c, PRIVATE_VIP));
                    if (priv) {
                        report(`egress allow rule ${ruleLabel(r)} in ${label} allows ${priv.text} (private.googleapis.com): Google APIs only through the restricted VIP ${RESTRICTED_VIP.text}`, r.res.urn);
                    }
                }
            }
            const together = coveredFamily(partialAllows.flatMap((r) => (Array.isArray(r.ranges) ? r.ranges : [])));
            if (together) {
                report(
                    `egress allow rules ${coveringRules(partialAllows).map(ruleLabel).join(", ")} in ${label} together allow every ${together === "ipv4" ? "IPv4" : "IPv6"} address ` +
                        "(the same as 0.0.0.0/0): egress must be deny-by-default with an explicit allow-list",
                    net.urn,
                );
            }
            if (!denyAll) {
                report(
                    `${denyUnknown ? `${UNDECIDED} ` : ""}${label} has no EGRESS deny rule for 0.0.0.0/0 on all protocols and all instances` +
                        `${denyUnknown ? " that is known before apply" : ""}; runner egress must be denied by default`,
                    net.urn,
                );
            }
            const z = zonesByNet.zones.get(urn);
            if (!z || z.length === 0) {
                report(`${label} has no private DNS zone for ${GOOGLEAPIS} bound to it: Google APIs must resolve to the restricted VIP ${RESTRICTED_VIP.text}`, net.urn);
            }
        }
        for (const j of networkJoins(g)) {
            if (!j.egress) {
                continue;
            }
            for (const n of j.networks.filter((x) => g.runnerNetworks.has(x.urn))) {
                report(`${j.what} ${j.res.name} on runner network ${g.networkLabel(n)} reaches every Google API (and the data of every project); use the restricted "vpc-sc" bundle`, j.res.urn);
            }
        }
        for (const bad of zonesByNet.badRecords) {
            report(bad.message, bad.urn);
        }
        for (const f of proxyAllowAll(g)) {
            report(f.message, f.urn);
        }
    },
});

const SWP_GATEWAY = "gcp:networkservices/gateway:Gateway";
const SWP_POLICY = "gcp:networksecurity/gatewaySecurityPolicy:GatewaySecurityPolicy";
const SWP_RULE = "gcp:networksecurity/gatewaySecurityPolicyRule:GatewaySecurityPolicyRule";

/** CEL matchers that match every session: absent, `true`, or a host test every host passes. */
function matchesEverything(m: unknown): boolean {
    if (m === undefined || m === null) {
        return true;
    }
    if (typeof m !== "string") {
        return false;
    }
    const e = m.replace(/\s+/g, "").replace(/"/g, "'");
    return e === "" || e === "true" || e === "!false" || e === "host()!=''" || /^host\(\)\.matches\('\.[*+]'\)$/.test(e) || e === "host().endsWith('')";
}

/** The Secure Web Proxy policies (by URN) of gateways on runner networks, with the network's label. */
function runnerProxyPolicies(g: FleetGraph): Map<string, string> {
    const out = new Map<string, string>();
    for (const gw of g.of(SWP_GATEWAY)) {
        const props = g.props(gw);
        const type = get(props, "type");
        if (type !== "SECURE_WEB_GATEWAY" && !unknown(type)) {
            continue;
        }
        const nets = g.networksOfRef(gw, "network", get(props, "network")).found.filter((n) => g.runnerNetworks.has(n.urn));
        if (nets.length === 0) {
            continue;
        }
        const ref = get(props, "gatewaySecurityPolicy");
        const policies = depsOf(gw, "gatewaySecurityPolicy", [SWP_POLICY]).concat(typeof ref === "string" && !unknown(ref)
            ? g.of(SWP_POLICY).filter((p) => { const n = get(g.props(p), "name"); return typeof n === "string" && (ref === n || ref.endsWith(`/gatewaySecurityPolicies/${n}`)); })
            : []);
        policies.forEach((p) => out.set(p.urn, `${g.networkLabel(nets[0])} (gateway ${gw.name})`));
    }
    return out;
}

/** Rules of runner Secure Web Proxy policies that allow every session. */
function proxyAllowAll(g: FleetGraph): { message: string; urn: string }[] {
    const policies = runnerProxyPolicies(g);
    if (policies.size === 0) {
        return [];
    }
    const out: { message: string; urn: string }[] = [];
    for (const r of g.of(SWP_RULE)) {
        const props = g.props(r);
        const ref = get(props, "gatewaySecurityPolicy");
        const owners = depsOf(r, "gatewaySecurityPolicy", [SWP_POLICY]).concat(typeof ref === "string" && !unknown(ref)
            ? g.of(SWP_POLICY).filter((p) => get(g.props(p), "name") === ref.split("/").pop())
            : []);
        const on = owners.map((p) => policies.get(p.urn)).find((x) => x !== undefined);
        if (on === undefined || get(props, "enabled") === false || get(props, "basicProfile") !== "ALLOW") {
            continue;
        }
        const session = get(props, "sessionMatcher");
        const app = get(props, "applicationMatcher");
        if (unknown(session) || unknown(app)) {
            out.push({ message: `${UNDECIDED} Secure Web Proxy rule ${r.name} on runner network ${on} allows sessions matched by a value unknown until apply`, urn: r.urn });
        } else if (matchesEverything(session) && matchesEverything(app)) {
            out.push({ message: `Secure Web Proxy rule ${r.name} on runner network ${on} allows every session (sessionMatcher ${JSON.stringify(session ?? "(none)")}): runner egress through the proxy reaches the whole internet; allow listed hosts only`, urn: r.urn });
        }
    }
    return out;
}

/** The widest rules (by their broadest range) that together cover an address family, for the message. */
function coveringRules(rules: FwRule[]): FwRule[] {
    const widest = (r: FwRule) => Math.min(...(Array.isArray(r.ranges) ? r.ranges.map((c) => c.prefix) : [128]));
    const picked: FwRule[] = [];
    for (const r of [...rules].sort((a, b) => widest(a) - widest(b))) {
        picked.push(r);
        if (coveredFamily(picked.flatMap((x) => (Array.isArray(x.ranges) ? x.ranges : [])))) {
            return picked;
        }
    }
    return rules;
}

/** Private googleapis.com zones by network URN, and records in them that bypass the restricted VIP. */
function googleapisZones(g: FleetGraph): { zones: Map<string, PolicyResource[]>; badRecords: { message: string; urn: string }[] } {
    const zones = new Map<string, PolicyResource[]>();
    const apiZones = new Set<string>();
    for (const z of g.of(T.managedZone)) {
        const p = g.props(z);
        const dns = get(p, "dnsName");
        if (typeof dns !== "string" || dns.toLowerCase().replace(/\.?$/, ".") !== GOOGLEAPIS || get(p, "visibility") !== "private") {
            continue;
        }
        apiZones.add(z.urn);
        const pvc = get(p, "privateVisibilityConfig");
        const nets: PolicyResource[] = [];
        if (unknown(pvc)) {
            nets.push(...depsOf(z, "privateVisibilityConfig", [T.network]));
        } else {
            const list = get(pvc, "networks");
            if (unknown(list)) {
                nets.push(...depsOf(z, "privateVisibilityConfig", [T.network]));
            } else if (Array.isArray(list)) {
                for (const e of list) {
                    const url = get(e, "networkUrl");
                    nets.push(...g.networksOfRef(z, "privateVisibilityConfig", url).found);
                }
            }
        }
        for (const n of new Set(nets)) {
            const arr = zones.get(n.urn) ?? [];
            arr.push(z);
            zones.set(n.urn, arr);
        }
    }
    const badRecords: { message: string; urn: string }[] = [];
    for (const r of g.of(T.recordSet)) {
        const p = g.props(r);
        const mz = get(p, "managedZone");
        const zs = unknown(mz) ? depsOf(r, "managedZone", [T.managedZone]) : typeof mz === "string" ? g.findZones(mz) : [];
        if (!zs.some((z) => apiZones.has(z.urn))) {
            continue;
        }
        const type = get(p, "type");
        const data = get(p, "rrdatas");
        if (!Array.isArray(data)) {
            continue;
        }
        if (type === "A") {
            const off = data.find((d) => {
                const c = parseCidr(d);
                return c !== undefined && !contains(RESTRICTED_VIP, c);
            });
            if (off !== undefined) {
                badRecords.push({ message: `DNS record ${r.name} in the private googleapis.com zone resolves to ${off}, outside the restricted VIP ${RESTRICTED_VIP.text}`, urn: r.urn });
            }
        } else if (type === "CNAME") {
            const off = data.find((d) => typeof d === "string" && /^private\.googleapis\.com\.?$/i.test(d));
            if (off !== undefined) {
                badRecords.push({ message: `DNS record ${r.name} in the private googleapis.com zone points at ${off}: use restricted.googleapis.com`, urn: r.urn });
            }
        }
    }
    return { zones, badRecords };
}
