/**
 * Every path that joins a network to others besides peering and shared VPC (which
 * pool-network-separation reads directly): VPN gateways, Cloud Interconnect attachments, router
 * appliances (BGP peers on an appliance VM), Network Connectivity Center spokes, and Private Service
 * Connect endpoints to all Google APIs (rather than the restricted `vpc-sc` bundle).
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { get, unknown } from "../../props";
import { resolveRef, str } from "./lookup";
import type { FleetGraph } from "./index";

export interface NetworkJoin {
    res: PolicyResource;
    /** What joins: "VPN gateway", "Interconnect attachment", ... */
    what: string;
    networks: PolicyResource[];
    /** A network reference unknown during preview that depends on no network. */
    unknown: boolean;
    /** True for a PSC endpoint to all Google APIs (an egress path, I4) rather than a network join (I5). */
    egress?: boolean;
}

const ROUTER = "gcp:compute/router:Router";

export function networkJoins(g: FleetGraph): NetworkJoin[] {
    const out: NetworkJoin[] = [];
    const byNetwork = (r: PolicyResource, prop: string, value: unknown, what: string, egress?: boolean) => {
        const res = g.networksOfRef(r, prop, value);
        out.push({ res: r, what, networks: res.found, unknown: res.unknown, egress });
    };
    const routerNetworks = (r: PolicyResource, what: string) => {
        const project = str(g.projectOf(r));
        const routers = resolveRef(r, "router", get(r.props, "router"), [ROUTER], (ref) => g.of(ROUTER).filter((x) =>
            str(get(x.props, "name")) === ref.split("/").pop() && (project === undefined || g.projectOf(x) === project)));
        const nets: PolicyResource[] = [];
        let unk = routers.unknown;
        for (const rt of routers.found) {
            const n = g.networksOfRef(rt, "network", get(rt.props, "network"));
            nets.push(...n.found);
            unk ||= n.unknown;
        }
        out.push({ res: r, what, networks: nets, unknown: unk });
    };
    for (const t of ["gcp:compute/haVpnGateway:HaVpnGateway", "gcp:compute/vPNGateway:VPNGateway"]) {
        g.of(t).forEach((r) => byNetwork(r, "network", get(r.props, "network"), "VPN gateway"));
    }
    g.of("gcp:compute/interconnectAttachment:InterconnectAttachment").forEach((r) => routerNetworks(r, "Interconnect attachment"));
    for (const r of g.of("gcp:compute/routerPeer:RouterPeer")) {
        const appliance = get(r.props, "routerApplianceInstance");
        if (appliance !== undefined && appliance !== null) {
            routerNetworks(r, "router appliance peer");
        }
    }
    for (const r of g.of("gcp:networkconnectivity/spoke:Spoke")) {
        const uri = get(r.props, "linkedVpcNetwork");
        byNetwork(r, "linkedVpcNetwork", unknown(uri) ? uri : get(uri, "uri"), "Network Connectivity Center spoke");
    }
    for (const t of ["gcp:compute/globalForwardingRule:GlobalForwardingRule", "gcp:compute/forwardingRule:ForwardingRule"]) {
        for (const r of g.of(t)) {
            const target = get(r.props, "target");
            if (target === "all-apis" || unknown(target)) {
                byNetwork(r, "network", get(r.props, "network"), unknown(target) ? "Private Service Connect endpoint (target unknown)" : "Private Service Connect endpoint to all Google APIs", true);
            }
        }
    }
    return out;
}
