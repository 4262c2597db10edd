/**
 * pool-network-separation (I5): no VPC peering between fleet networks, no shared VPC among fleet
 * projects, no VPN, Interconnect, router appliance or NCC spoke on a fleet network, and no firewall rule that opens a path between pool ranges or between a pool and the
 * signer range. Ranges are subnet primary/secondary ranges compared by CIDR overlap.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { get, unknown } from "../../model/props";
import { FleetStackPolicy } from "../../meta";
import { Cidr } from "../../model/cidr";
import { FleetGraph, T, UNDECIDED } from "../../model";
import { firewallRules, insideAny, RangeIndex, ruleLabel } from "../../model/firewalls";
import { networkJoins } from "../../model/joins";
import { stackRule } from "../../framework/stackRule";

/** Who owns an address range: a pool's runner network, or the signer. */
interface Owner {
    zone: string;
    /** pool name, or "" for the signer */
    pool: string;
    network: PolicyResource;
}

export const poolNetworkSeparation: FleetStackPolicy = stackRule({
    name: "pool-network-separation",
    description:
        "[I5] No VPC peering or shared VPC between fleet networks (pools, signer, control plane), no VPN, Interconnect, router " +
        "appliance, Network Connectivity Center spoke or Private Service Connect to a published service on one, and no firewall rule " +
        "allowing traffic between different pools' ranges or between a pool and the signer range.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "no peering, shared VPC, VPN gateway, Interconnect attachment, router appliance peer, NCC spoke or Private Service Connect to a published service (endpoint or service attachment) on fleet networks; no allow rule (classic, network firewall policy or hierarchical policy) between different pools' ranges or between a pool and the signer range",
        invariants: ["I5"],
        fix:
            "Delete the peering / shared VPC attachment and the firewall rule; pools and the signer talk only through " +
            "Google APIs (intake bucket, Cloud Run) on the restricted VIP, never over the network.",
    },
    check: (g, report) => {
        const fleet = g.fleetNetworks();
        if (fleet.size === 0) {
            return;
        }

        // Peerings between two fleet networks.
        for (const p of g.of(T.peering)) {
            const props = g.props(p);
            const a = g.networksOfRef(p, "network", get(props, "network"));
            const b = g.networksOfRef(p, "peerNetwork", get(props, "peerNetwork"));
            const fa = a.found.filter((n) => fleet.has(n.urn));
            const fb = b.found.filter((n) => fleet.has(n.urn));
            if (fa.length > 0 && fb.length > 0) {
                for (const x of fa) {
                    for (const y of fb) {
                        if (x !== y) {
                            report(`VPC peering ${p.name} connects ${fleet.get(x.urn)!.zone} ${g.networkLabel(x)} with ${fleet.get(y.urn)!.zone} ${g.networkLabel(y)}`, p.urn);
                        }
                    }
                }
            } else if ((fa.length > 0 && b.unknown) || (fb.length > 0 && a.unknown) || (a.unknown && b.unknown)) {
                report(`${UNDECIDED} VPC peering ${p.name} references a network unknown until apply; it may connect fleet networks`, p.urn);
            }
        }

        // Shared VPC among fleet projects.
        const fleetProjects = new Set<string>();
        for (const { network } of fleet.values()) {
            const pr = g.projectOf(network);
            if (typeof pr === "string") {
                fleetProjects.add(pr);
            }
        }
        for (const pr of g.signerProjects) {
            fleetProjects.add(pr);
        }
        for (const ri of g.runnerIdentities.values()) {
            const pr = ri.principal.sa ? g.projectOf(ri.principal.sa) : undefined;
            if (typeof pr === "string") {
                fleetProjects.add(pr);
            }
        }
        for (const h of g.of(T.sharedVpcHost)) {
            const pr = get(h.props, "project");
            if (unknown(pr)) {
                report(`${UNDECIDED} shared VPC host project ${h.name} has a project unknown until apply; it may be a fleet project`, h.urn);
            } else if (typeof pr === "string" && fleetProjects.has(pr)) {
                report(`shared VPC host project ${pr} is a fleet project: its networks could be shared with other projects, joining pools or the signer`, h.urn);
            }
        }
        for (const s of g.of(T.sharedVpcService)) {
            const host = get(s.props, "hostProject");
            const svc = get(s.props, "serviceProject");
            if (unknown(host) || unknown(svc)) {
                report(`${UNDECIDED} shared VPC service project ${s.name} references a project unknown until apply`, s.urn);
            } else if (typeof host === "string" && typeof svc === "string" && fleetProjects.has(host) && fleetProjects.has(svc)) {
                report(`shared VPC attaches fleet project ${svc} to fleet host project ${host}`, s.urn);
            }
        }

        // VPN, Interconnect, router appliances, NCC spokes: each joins a fleet network to networks outside it.
        for (const j of networkJoins(g)) {
            if (j.egress) {
                continue;
            }
            const hit = j.networks.filter((n) => fleet.has(n.urn));
            for (const n of hit) {
                report(`${j.what} ${j.res.name} joins ${fleet.get(n.urn)!.zone} ${g.networkLabel(n)} to networks outside it; fleet networks reach each other and the world only through Google APIs`, j.res.urn);
            }
            if (hit.length === 0 && j.unknown) {
                report(`${UNDECIDED} ${j.what} ${j.res.name} attaches to a network unknown until apply; it may join a fleet network`, j.res.urn);
            }
        }

        // Firewall paths between pools or to/from the signer.
        const own = ownership(g);
        if (own.index === undefined) {
            return;
        }
        const index = own.index;
        for (const rule of firewallRules(g)) {
            if (rule.action !== "allow" || rule.disabled) {
                continue;
            }
            for (const n of rule.networks) {
                const mine = own.byNetwork.get(n.urn);
                // On a runner network, an allow aimed only at non-runner instances is not a runner path.
                // An allow aimed only at accounts no compute of the stack runs as opens no path at all.
                if (!mine || rule.reachesFleet === false || (g.runnerNetworks.has(n.urn) && !mine.signer && rule.reachesRunners === false)) {
                    continue;
                }
                if (rule.ranges === "unknown") {
                    report(`${UNDECIDED} firewall ${ruleLabel(rule)} in ${mine.zone} ${g.networkLabel(n)} allows ${rule.direction} ranges unknown until apply`, rule.res.urn);
                    continue;
                }
                for (const c of rule.ranges) {
                    if (insideAny(c, mine.ranges)) {
                        continue; // within the network's own ranges: no path to another zone
                    }
                    const hit = index.findOverlap(c, (o) => o.network !== n && !(o.pool !== "" && mine.pools.has(o.pool)) && !(o.pool === "" && mine.signer));
                    if (hit) {
                        const dir = rule.direction === "INGRESS" ? "ingress from" : "egress to";
                        report(`firewall ${ruleLabel(rule)} in ${mine.zone} ${g.networkLabel(n)} allows ${dir} ${c.text}, which overlaps ${hit.owner.zone} range ${hit.cidr.text}`, rule.res.urn);
                        break;
                    }
                }
            }
        }
    },
});

interface NetworkInfo {
    zone: string;
    pools: Set<string>;
    signer: boolean;
    ranges: Cidr[];
}

function ownership(g: FleetGraph): { index?: RangeIndex<Owner>; byNetwork: Map<string, NetworkInfo> } {
    const byNetwork = new Map<string, NetworkInfo>();
    const index = new RangeIndex<Owner>();
    let any = false;
    for (const [urn, pn] of g.runnerNetworks) {
        const ranges = g.rangesOfNetwork(pn.network);
        const zone = pn.pools.size > 0 ? `pool ${[...pn.pools].join("/")}` : "unlabelled runner";
        byNetwork.set(urn, { zone: `${zone} network`, pools: pn.pools, signer: false, ranges });
        for (const c of ranges) {
            any = true;
            index.add(c, { zone, pool: [...pn.pools][0] ?? `?${urn}`, network: pn.network });
        }
    }
    for (const [urn, n] of g.signerNetworks) {
        const ranges = g.rangesOfNetwork(n);
        const prev = byNetwork.get(urn);
        byNetwork.set(urn, { zone: "signer network", pools: prev?.pools ?? new Set(), signer: true, ranges });
        for (const c of ranges) {
            any = true;
            index.add(c, { zone: "signer", pool: "", network: n });
        }
    }
    return { index: any ? index : undefined, byNetwork };
}
