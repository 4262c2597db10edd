/**
 * Every path that joins a network to others besides peering and shared VPC (which
 * pool-network-separation reads directly): VPN gateways, Cloud Interconnect attachments, router
 * appliances (BGP peers on an appliance VM), Network Connectivity Center spokes, Private Service
 * Connect endpoints to all Google APIs (rather than the restricted `vpc-sc` bundle), and Private
 * Service Connect to published services: an endpoint that consumes a service attachment joins its
 * network to the producer's, and a service attachment publishes its network's service to others.
 * Packet Mirroring sends a network's traffic to a collector. A Private Service Connect network attachment lets producers (VMs, Vertex AI, Cloud Run of other
 * projects) place interfaces in the subnets it names: it joins their networks to the producers'.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { get, unknown } from "./props";
import { depsOf, resolveRef, str } from "./lookup";
import type { FleetGraph } from "./index";
import { attachmentSubnets, NETWORK_ATTACHMENT } from "./networkAttachments";

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
const FORWARDING_RULES = ["gcp:compute/globalForwardingRule:GlobalForwardingRule", "gcp:compute/forwardingRule:ForwardingRule"];
const SERVICE_ATTACHMENT = "gcp:compute/serviceAttachment:ServiceAttachment";
const SUBNETWORK = "gcp:compute/subnetwork:Subnetwork";
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
    for (const t of FORWARDING_RULES) {
        for (const r of g.of(t)) {
            const target = get(r.props, "target");
            if (depsOf(r, "target", [SERVICE_ATTACHMENT]).length > 0 || (typeof target === "string" && target.includes("/serviceAttachments/"))) {
                byNetwork(r, "network", get(r.props, "network"), "Private Service Connect endpoint to a published service");
            } else if (target === "all-apis" || unknown(target)) {
                byNetwork(r, "network", get(r.props, "network"), unknown(target) ? "Private Service Connect endpoint (target unknown)" : "Private Service Connect endpoint to all Google APIs", true);
            }
        }
    }
    // Packet Mirroring copies every packet of the mirrored subnets or instances to a collector: other workloads read the builds' traffic.
    for (const r of g.of("gcp:compute/packetMirroring:PacketMirroring")) {
        const net = get(r.props, "network");
        byNetwork(r, "network", unknown(net) ? net : get(net, "url"), "Packet Mirroring (copies the network's traffic to a collector)");
    }
    for (const r of g.of(NETWORK_ATTACHMENT)) {
        const { subnets, unknown: unk } = attachmentSubnets(g, r);
        out.push({ res: r, what: "Private Service Connect network attachment", networks: [...new Set(subnets.flatMap((s) => g.networksOfSubnet(s)))], unknown: unk });
    }
    // The producer side: the network of the load balancer it publishes and of its NAT subnets.
    for (const r of g.of(SERVICE_ATTACHMENT)) {
        const networks: PolicyResource[] = [];
        let unk = false;
        for (const fr of depsOf(r, "targetService", FORWARDING_RULES)) {
            const n = g.networksOfRef(fr, "network", get(fr.props, "network"));
            networks.push(...n.found);
            unk ||= n.unknown;
        }
        for (const sn of depsOf(r, "natSubnets", [SUBNETWORK])) {
            const n = g.networksOfRef(sn, "network", get(sn.props, "network"));
            networks.push(...n.found);
            unk ||= n.unknown;
        }
        out.push({ res: r, what: "Private Service Connect service attachment", networks: [...new Set(networks)], unknown: unk });
    }
    return out;
}
