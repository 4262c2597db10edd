/**
 * runner-network-no-ingress (I3): no ingress allow reaches a runner, whatever its source. Classic
 * rules and every kind of firewall policy count (apply_security_profile_group allows too); a rule
 * aimed only at non-runner instances (target service accounts that are not runner identities, tags
 * no runner carries) does not reach runners and is not counted.
 */
import { FleetStackPolicy } from "../../meta";
import { UNDECIDED } from "../../model";
import { firewallRules, ruleLabel } from "../../model/firewalls";
import { stackRule } from "../../framework/stackRule";

export const runnerNetworkNoIngress: FleetStackPolicy = stackRule({
    name: "runner-network-no-ingress",
    description:
        "[I3] No firewall rule or firewall-policy rule allows ingress to runners on a runner network, from any source " +
        "(ranges, tags, service accounts, address groups, region codes or network scopes); target service accounts and tags narrow it.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "no ingress allow reaches runners on a runner network, whatever its source (classic rules, network/regional/hierarchical policies; `apply_security_profile_group` allows too); target SAs that are not runner identities and tags no runner carries narrow it",
        invariants: ["I3"],
        fix: "Delete the ingress allow: runners accept no inbound connections (they register outbound); aim a rule at a non-runner proxy's SA if one needs inbound traffic.",
    },
    check: (g, report) => {
        if (g.runnerNetworks.size === 0) {
            return;
        }
        for (const r of firewallRules(g)) {
            if (r.direction !== "INGRESS" || r.action !== "allow" || r.disabled || r.reachesRunners === false) {
                continue;
            }
            for (const n of r.networks.filter((x) => g.runnerNetworks.has(x.urn))) {
                const pools = g.poolsOfNetwork(n);
                report(`${r.reachesRunners === "unknown" ? `${UNDECIDED} ` : ""}firewall ${ruleLabel(r)} allows ingress into runner network ${g.networkLabel(n)}` +
                    `${pools.size > 0 ? ` (pool ${[...pools].join(", ")})` : ""}${r.reachesRunners === "unknown" ? " and its targets are unknown until apply" : ""}; runners accept no inbound traffic`, r.res.urn);
            }
            if (r.networkUnknown) {
                report(`${UNDECIDED} ingress allow ${ruleLabel(r)} is on a network unknown until apply; it may be a runner network`, r.res.urn);
            }
        }
    },
});
