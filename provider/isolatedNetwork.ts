/** Provider facade of `IsolatedNetwork` (components/isolatedNetwork/index.ts) for the component schema. */
import * as pulumi from "@pulumi/pulumi";
import type { Network } from "@pulumi/gcp/compute/network";
import type { Subnetwork } from "@pulumi/gcp/compute/subnetwork";
import { implementationOf, IsolatedNetworkOutputs } from "./implementation";
import { FleetRole } from "./enums";
import { EgressAllowList, SecondaryRange } from "./types";

export interface IsolatedNetworkArgs {
    /** GCP project of the network. Required. */
    project: pulumi.Input<string>;
    /** Region of the subnet (and of the Cloud Router/NAT when egress is allowed). Required. */
    region: pulumi.Input<string>;
    /** Primary subnet IPv4 range, a canonical literal CIDR with prefix /8../29 (e.g. "10.10.0.0/24"). Required. */
    cidr: string;
    /** Isolation zone, written to role labels where supported (firewall policies/routers take none). Required. */
    role: FleetRole;
    /** Pool name when the network belongs to a runner pool; adds the `build-fleet-pool` label. Default: none. */
    pool?: string;
    /** Egress allow-list. Default empty = no Router, no NAT, no default route: no internet egress at all. When non-empty: Cloud Router + Cloud NAT (logging ALL), a VPC firewall rule allowing tcp:443 to the CIDRs and a network firewall policy rule allowing tcp:443 to the FQDNs. */
    egressAllowList?: EgressAllowList;
    /** Optional secondary ranges (GKE pods/services). Default: none. */
    secondaryRanges?: SecondaryRange[];
    /** Flow-log sampling rate in [0, 1] (I12). Default 0.5. */
    flowLogSampling?: number;
    /** Extra Google domains (e.g. "pkg.dev", "gcr.io") to resolve to the restricted VIP, each through its own private zone (apex A records to the VIP, `*` CNAME to the apex). Needed when nodes pull images from Artifact Registry/Container Registry without internet egress. Default: none (only googleapis.com). */
    restrictedGoogleDomains?: string[];
}

/**
 * One VPC and subnet that nothing can reach and that reaches only Google APIs through the restricted VIP plus
 * an explicit egress allow-list (I3, I4, I5, I12). Registers an `IsolatedNetwork` of the same name as its child.
 */
export class IsolatedNetwork extends pulumi.ComponentResource implements IsolatedNetworkOutputs {
    /** Id of the VPC. */
    public readonly networkId!: pulumi.Output<string>;
    /** Self link of the VPC. */
    public readonly networkSelfLink!: pulumi.Output<string>;
    /** Id of the subnet. */
    public readonly subnetId!: pulumi.Output<string>;
    /** Self link of the subnet. */
    public readonly subnetSelfLink!: pulumi.Output<string>;
    /** The VPC (gcp.compute.Network). */
    public readonly network!: Network;
    /** The subnet (gcp.compute.Subnetwork). */
    public readonly subnet!: Subnetwork;

    constructor(name: string, args: IsolatedNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        const body = implementationOf<IsolatedNetworkArgs, IsolatedNetworkOutputs>("IsolatedNetwork");
        // Validate before super(): invalid arguments register nothing, not even this facade.
        body.validate(name, args);
        super("hardened-build-fleet:index:IsolatedNetwork", name, {}, opts);
        const outputs = body.create(this, name, args);
        Object.assign(this, outputs);
        this.registerOutputs(outputs);
    }
}
