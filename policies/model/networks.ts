/**
 * Networks of the model: which subnetworks belong to which VPC, their address ranges, and network
 * references resolved through every spelling.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { get } from "./props";
import { Cidr, parseCidr } from "./cidr";
import { push, Resolved, resolveRef, str } from "./lookup";
import { RefIndex } from "./refs";
import { T } from "./types";

export class NetworkIndex extends RefIndex {
    readonly subnetsByNetwork = new Map<string, PolicyResource[]>();
    private readonly subnetNetworkCache = new Map<string, PolicyResource[]>();

    constructor(resources: PolicyResource[]) {
        super(resources);
        for (const r of this.of(T.subnetwork)) {
            for (const n of this.networksOfSubnet(r)) {
                push(this.subnetsByNetwork, n.urn, r);
            }
        }
    }

    /** The networks a subnetwork belongs to. */
    networksOfSubnet(subnet: PolicyResource): PolicyResource[] {
        const cached = this.subnetNetworkCache.get(subnet.urn);
        if (cached) {
            return cached;
        }
        const project = str(this.projectOf(subnet));
        const res = resolveRef(subnet, "network", get(subnet.props, "network"), [T.network], (ref) => this.networks.find(ref, project));
        this.subnetNetworkCache.set(subnet.urn, res.found);
        return res.found;
    }

    /** Address ranges of a network: its subnets' primary and secondary ranges. */
    rangesOfNetwork(network: PolicyResource): Cidr[] {
        const out: Cidr[] = [];
        for (const s of this.subnetsByNetwork.get(network.urn) ?? []) {
            out.push(...this.rangesOfSubnet(s));
        }
        return out;
    }

    rangesOfSubnet(s: PolicyResource): Cidr[] {
        const out: Cidr[] = [];
        const primary = parseCidr(get(s.props, "ipCidrRange"));
        if (primary) {
            out.push(primary);
        }
        const secondary = get(s.props, "secondaryIpRanges");
        if (Array.isArray(secondary)) {
            for (const r of secondary) {
                const c = parseCidr(r?.ipCidrRange);
                if (c) {
                    out.push(c);
                }
            }
        }
        return out;
    }

    /** The networks a firewall-like resource's `prop` references. */
    networksOfRef(r: PolicyResource, prop: string, value: unknown): Resolved {
        const project = str(this.projectOf(r));
        return resolveRef(r, prop, value, [T.network], (ref) => this.networks.find(ref, project));
    }

    /** Description of a network for messages. */
    networkLabel(n: PolicyResource): string {
        return str(get(n.props, "name")) ?? n.name;
    }
}
