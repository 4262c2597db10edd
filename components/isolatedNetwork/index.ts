/**
 * `IsolatedNetwork`: one VPC + one subnet that nothing can reach and that reaches only Google APIs
 * (through the restricted VIP) plus an explicit egress allow-list. Invariants I3, I4, I5, I12.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { constantRange, Ipv4Range, overlaps, parseIpv4Cidr, PRIVATE_VIP_CIDR, RESTRICTED_VIP_CIDR } from "../config/cidr";
import { throwIfProblems } from "../config/issues";
import { componentNameProblems, fqdnProblem as hostNameProblem } from "../config/names";
import { DIRECT_VPC_EGRESS_MAX_PREFIX, RESTRICTED_VIP_ADDRESSES } from "../networks";
import { FleetRole, FLEET_ROLES, roleLabels } from "../labels";

export { RESTRICTED_VIP_CIDR };
export { RESTRICTED_VIP_ADDRESSES };
/** Priority of the deny-all rules: the lowest usable one, so every explicit allow wins. */
export const DENY_ALL_PRIORITY = 65534;
/** Priority of the allow rules (GCP default). */
export const ALLOW_PRIORITY = 1000;
/** Ports opened to allow-listed CIDRs and FQDNs: HTTPS only (plain HTTP invites cache poisoning, I4). */
export const EGRESS_ALLOWED_TCP_PORTS = ["443"];
/** Longest component name whose autonamed children still fit GCP's 63-character name limit. */
export const MAX_NETWORK_NAME_LENGTH = 40;

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
    /**
     * Egress allow-list. Default empty = no Router, no NAT, no default route: no internet egress at all.
     * When non-empty: Cloud Router + Cloud NAT (logging ALL), a VPC firewall rule allowing tcp:443 to the
     * CIDRs and a network firewall policy rule allowing tcp:443 to the FQDNs.
     */
    egressAllowList?: { cidrs?: string[]; fqdns?: string[] };
    /** Optional secondary ranges (GKE pods/services). Default: none. */
    secondaryRanges?: { rangeName: string; ipCidrRange: string }[];
    /** Flow-log sampling rate in [0, 1] (I12). Default 0.5. */
    flowLogSampling?: number;
    /**
     * Extra Google domains (e.g. "pkg.dev", "gcr.io") to resolve to the restricted VIP, each through its own
     * private zone (apex A records to the VIP, `*` CNAME to the apex). Needed when nodes pull images from
     * Artifact Registry/Container Registry without internet egress. Default: none (only googleapis.com).
     */
    restrictedGoogleDomains?: string[];
}


/** Why `cidr` cannot carry Cloud Run Direct VPC egress (too small), as a problem of `field`, or undefined. */
export function directVpcEgressCidrProblem(field: string, cidr: unknown, example: string): string | undefined {
    const parsed = typeof cidr === "string" ? parseIpv4Cidr(cidr) : undefined;
    if (!parsed?.ok || parsed.range.prefix <= DIRECT_VPC_EGRESS_MAX_PREFIX) {
        return undefined;
    }
    const wider = parseIpv4Cidr(`${(cidr as string).split("/")[0]}/${DIRECT_VPC_EGRESS_MAX_PREFIX}`);
    return `${field}: "${cidr}" is smaller than /${DIRECT_VPC_EGRESS_MAX_PREFIX}; Cloud Run Direct VPC egress needs at least a /26, e.g. "${wider.ok ? wider.range.cidr : example}".`;
}

const LABEL_VALUE_RE = /^[a-z0-9_-]{1,63}$/;
const RANGE_NAME_RE = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Blocks a subnet may not use: unroutable, special purpose, or the Google API VIPs themselves. */
const FORBIDDEN_SUBNET_BLOCKS: [Ipv4Range, string][] = [
    ["0.0.0.0/8", "\"this\" network"],
    ["127.0.0.0/8", "loopback"],
    ["169.254.0.0/16", "link-local (metadata server)"],
    ["224.0.0.0/4", "multicast"],
    ["240.0.0.0/4", "reserved"],
    [RESTRICTED_VIP_CIDR, "restricted.googleapis.com VIP"],
    [PRIVATE_VIP_CIDR, "private.googleapis.com VIP"],
].map(([cidr, why]) => [constantRange(cidr), why]);

/** The parsed range of a CIDR literal, or the problem with it as "<value> <problem>; <fix>". */
function cidrRange(value: unknown): { range: Ipv4Range } | { problem: string } {
    if (typeof value !== "string") {
        return { problem: `${JSON.stringify(value)} is not an IPv4 CIDR; use a private range such as "10.10.0.0/24"` };
    }
    const parsed = parseIpv4Cidr(value);
    return parsed.ok ? { range: parsed.range } : { problem: `"${value}" ${parsed.problem}; ${parsed.fix}` };
}

/** Problems with an FQDN (the config's host-name rules, plus lower case), or undefined when valid. */
function fqdnProblem(fqdn: unknown): string | undefined {
    if (typeof fqdn !== "string" || fqdn.length === 0) {
        return "must be a non-empty string";
    }
    if (fqdn !== fqdn.toLowerCase()) {
        return `must be lower case ("${fqdn.toLowerCase()}")`;
    }
    return hostNameProblem(fqdn);
}

/** Every problem with a subnet CIDR, each message naming `field`. */
function subnetCidrProblems(field: string, cidr: unknown): string[] {
    const parsed = cidrRange(cidr);
    if ("problem" in parsed) {
        return [`${field}: ${parsed.problem}.`];
    }
    const { range } = parsed;
    const problems: string[] = [];
    if (range.prefix < 8 || range.prefix > 29) {
        problems.push(`${field}: "${range.cidr}" has prefix /${range.prefix}; GCP subnet ranges must be between /8 and /29.`);
    }
    for (const [block, why] of FORBIDDEN_SUBNET_BLOCKS) {
        if (overlaps(range, block)) {
            problems.push(`${field}: "${range.cidr}" overlaps ${block.cidr} (${why}); choose a private range such as "10.10.0.0/24".`);
        }
    }
    return problems;
}

/**
 * Every problem with `args` for an `IsolatedNetwork` named `name`, as messages naming the field, the value
 * and the fix. Empty when valid. Exported so composing components can validate before registering anything.
 */
export function validateIsolatedNetworkArgs(name: string, args: IsolatedNetworkArgs): string[] {
    return [...componentNameProblems(name, MAX_NETWORK_NAME_LENGTH), ...isolatedNetworkArgsProblems(args)];
}

/** The argument checks of `validateIsolatedNetworkArgs` alone, for components that name the network themselves. */
export function isolatedNetworkArgsProblems(args: IsolatedNetworkArgs): string[] {
    const problems: string[] = [];
    if (args === undefined || args === null) {
        return ["args: missing; pass at least { project, region, cidr, role }."];
    }
    problems.push(...subnetCidrProblems("cidr", args.cidr));
    if (!FLEET_ROLES.includes(args.role)) {
        problems.push(`role: ${JSON.stringify(args.role)} is not a fleet role; use one of ${FLEET_ROLES.map((r) => `"${r}"`).join(", ")}.`);
    }
    if (args.pool !== undefined && (typeof args.pool !== "string" || !LABEL_VALUE_RE.test(args.pool))) {
        problems.push(`pool: ${JSON.stringify(args.pool)} is not a valid label value; use lower-case letters, digits, "-" or "_" (at most 63).`);
    }
    if (args.project === undefined || args.project === "") {
        problems.push("project: missing; pass the GCP project id of the network.");
    }
    if (args.region === undefined || args.region === "") {
        problems.push("region: missing; pass a GCP region such as \"europe-west1\".");
    }
    const sampling = args.flowLogSampling;
    if (sampling !== undefined && (typeof sampling !== "number" || !Number.isFinite(sampling) || sampling < 0 || sampling > 1)) {
        problems.push(`flowLogSampling: ${JSON.stringify(sampling)} is out of range; use a number between 0 and 1 (default 0.5).`);
    }
    (args.egressAllowList?.cidrs ?? []).forEach((cidr, i) => {
        const field = `egressAllowList.cidrs[${i}]`;
        const parsed = cidrRange(cidr);
        if ("problem" in parsed) {
            problems.push(`${field}: ${parsed.problem}.`);
        } else if (parsed.range.prefix === 0) {
            problems.push(`${field}: "${cidr}" would allow egress to the whole internet (I4); list the destinations you need.`);
        }
    });
    (args.egressAllowList?.fqdns ?? []).forEach((fqdn, i) => {
        const problem = fqdnProblem(fqdn);
        if (problem !== undefined) {
            problems.push(`egressAllowList.fqdns[${i}]: ${JSON.stringify(fqdn)} ${problem}.`);
        }
    });
    const seenRanges = new Set<string>();
    (args.secondaryRanges ?? []).forEach((range, i) => {
        const field = `secondaryRanges[${i}]`;
        if (typeof range?.rangeName !== "string" || !RANGE_NAME_RE.test(range.rangeName)) {
            problems.push(`${field}.rangeName: ${JSON.stringify(range?.rangeName)} must be a lower-case RFC 1035 name such as "pods".`);
        } else if (seenRanges.has(range.rangeName)) {
            problems.push(`${field}.rangeName: "${range.rangeName}" is used twice; give each secondary range its own name.`);
        }
        seenRanges.add(range?.rangeName);
        const rangeProblems = subnetCidrProblems(`${field}.ipCidrRange`, range?.ipCidrRange);
        problems.push(...rangeProblems);
        const primary = cidrRange(args.cidr);
        const secondary = cidrRange(range?.ipCidrRange);
        if (rangeProblems.length === 0 && "range" in primary && "range" in secondary && overlaps(primary.range, secondary.range)) {
            problems.push(`${field}.ipCidrRange: "${range.ipCidrRange}" overlaps the primary range "${args.cidr}"; choose a disjoint range.`);
        }
    });
    (args.restrictedGoogleDomains ?? []).forEach((domain, i) => {
        const problem = fqdnProblem(domain);
        if (problem !== undefined) {
            problems.push(`restrictedGoogleDomains[${i}]: ${JSON.stringify(domain)} ${problem}.`);
        } else if (domain === "googleapis.com") {
            problems.push(`restrictedGoogleDomains[${i}]: "googleapis.com" is always configured; remove it.`);
        }
    });
    return problems;
}

/** Stable, DNS-safe child-name fragment for a domain ("pkg.dev" -> "pkg-dev"). */
function domainSlug(domain: string): string {
    return domain.replace(/\./g, "-");
}

export class IsolatedNetwork extends pulumi.ComponentResource {
    /** The VPC (no auto subnets, no default routes). */
    readonly network: gcp.compute.Network;
    /** The single subnet (Private Google Access, flow logs). */
    readonly subnet: gcp.compute.Subnetwork;
    readonly networkId: pulumi.Output<string>;
    readonly networkSelfLink: pulumi.Output<string>;
    readonly subnetId: pulumi.Output<string>;
    readonly subnetSelfLink: pulumi.Output<string>;
    /** The primary subnet range, as passed. */
    readonly cidr: string;
    /** Deny-all ingress, deny-all egress, allow restricted VIP, and (with CIDRs) allow-listed egress. */
    readonly firewalls: gcp.compute.Firewall[];
    /** Routes replacing the deleted defaults: restricted VIP always, 0.0.0.0/0 only with an allow-list. */
    readonly routes: gcp.compute.Route[];
    /** The private `googleapis.com.` zone (plus one per `restrictedGoogleDomains` entry). */
    readonly dnsZones: gcp.dns.ManagedZone[];
    /** Present only when the egress allow-list is non-empty. */
    readonly router?: gcp.compute.Router;
    /** Present only when the egress allow-list is non-empty. */
    readonly nat?: gcp.compute.RouterNat;
    /** Present only when the allow-list has FQDNs. */
    readonly fqdnPolicy?: gcp.compute.NetworkFirewallPolicy;

    constructor(name: string, args: IsolatedNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before super(): an invalid network registers nothing, not even the component.
        throwIfProblems("IsolatedNetwork", name, validateIsolatedNetworkArgs(name, args));
        super("hardened-build-fleet:index:IsolatedNetwork", name, {}, opts);

        const project = args.project;
        const region = args.region;
        const cidrs = args.egressAllowList?.cidrs ?? [];
        const fqdns = args.egressAllowList?.fqdns ?? [];
        const hasEgress = cidrs.length > 0 || fqdns.length > 0;
        const labels = roleLabels(args.role, args.pool);
        const child = { parent: this };

        // I5: a VPC of its own. Default routes deleted so that nothing but the routes below leaves the VPC even
        // if a firewall rule is added by mistake; the firewall policy is evaluated first so FQDN allows can win
        // over the classic deny-all egress rule.
        // Named after the component (pools and the enclave already call theirs `<x>-net`, so a `-net`
        // suffix here gave `…-net-net-…`). The alias keeps live networks: same resource, old physical name.
        this.network = new gcp.compute.Network(name, {
            project,
            autoCreateSubnetworks: false,
            routingMode: "REGIONAL",
            deleteDefaultRoutesOnCreate: true,
            networkFirewallPolicyEnforcementOrder: "BEFORE_CLASSIC_FIREWALL",
            description: `hardened-build-fleet ${args.role} network${args.pool ? ` of pool ${args.pool}` : ""} (isolated, no peering)`,
        }, { ...child, aliases: [{ name: `${name}-net` }] });

        // I4/I12: Private Google Access for the restricted VIP, flow logs on every connection.
        this.subnet = new gcp.compute.Subnetwork(`${name}-subnet`, {
            project,
            region,
            network: this.network.id,
            ipCidrRange: args.cidr,
            stackType: "IPV4_ONLY",
            privateIpGoogleAccess: true,
            secondaryIpRanges: args.secondaryRanges?.length
                ? args.secondaryRanges.map((r) => ({ rangeName: r.rangeName, ipCidrRange: r.ipCidrRange }))
                : undefined,
            logConfig: {
                aggregationInterval: "INTERVAL_5_SEC",
                flowSampling: args.flowLogSampling ?? 0.5,
                metadata: "INCLUDE_ALL_METADATA",
            },
        }, child);

        const firewallLog = { metadata: "INCLUDE_ALL_METADATA" };
        this.firewalls = [
            // I3: nothing reaches the network.
            new gcp.compute.Firewall(`${name}-deny-ingress`, {
                project,
                network: this.network.id,
                direction: "INGRESS",
                priority: DENY_ALL_PRIORITY,
                sourceRanges: ["0.0.0.0/0"],
                denies: [{ protocol: "all" }],
                logConfig: firewallLog,
                description: "I3: deny all ingress",
            }, child),
            // I4: default-deny egress.
            new gcp.compute.Firewall(`${name}-deny-egress`, {
                project,
                network: this.network.id,
                direction: "EGRESS",
                priority: DENY_ALL_PRIORITY,
                destinationRanges: ["0.0.0.0/0"],
                denies: [{ protocol: "all" }],
                logConfig: firewallLog,
                description: "I4: deny all egress",
            }, child),
            // I4: Google APIs only through the restricted VIP.
            new gcp.compute.Firewall(`${name}-allow-vip`, {
                project,
                network: this.network.id,
                direction: "EGRESS",
                priority: ALLOW_PRIORITY,
                destinationRanges: [RESTRICTED_VIP_CIDR],
                allows: [{ protocol: "tcp", ports: ["443"] }],
                logConfig: firewallLog,
                description: "I4: allow HTTPS to restricted.googleapis.com",
            }, child),
        ];
        if (cidrs.length > 0) {
            this.firewalls.push(new gcp.compute.Firewall(`${name}-allow-egress`, {
                project,
                network: this.network.id,
                direction: "EGRESS",
                priority: ALLOW_PRIORITY,
                destinationRanges: [...cidrs],
                allows: [{ protocol: "tcp", ports: [...EGRESS_ALLOWED_TCP_PORTS] }],
                logConfig: firewallLog,
                description: "I4: allow-listed egress CIDRs (HTTPS only)",
            }, child));
        }

        // The restricted VIP needs a route to the default internet gateway (Google keeps the traffic on its
        // network); 0.0.0.0/0 exists only when NAT egress is allowed.
        this.routes = [
            new gcp.compute.Route(`${name}-vip-route`, {
                project,
                network: this.network.id,
                destRange: RESTRICTED_VIP_CIDR,
                nextHopGateway: "default-internet-gateway",
                priority: ALLOW_PRIORITY,
                description: "I4: restricted Google APIs VIP",
            }, child),
        ];
        if (hasEgress) {
            this.routes.push(new gcp.compute.Route(`${name}-default-route`, {
                project,
                network: this.network.id,
                destRange: "0.0.0.0/0",
                nextHopGateway: "default-internet-gateway",
                priority: ALLOW_PRIORITY,
                description: "I4: internet route for the allow-listed egress through Cloud NAT",
            }, child));
        }

        // I4: *.googleapis.com resolves to the restricted VIP, visible to this network only.
        const privateZone = (slug: string, domain: string) =>
            new gcp.dns.ManagedZone(`${name}-${slug}`, {
                project,
                dnsName: `${domain}.`,
                visibility: "private",
                privateVisibilityConfig: { networks: [{ networkUrl: this.network.id }] },
                labels,
                description: `I4: ${domain} to the restricted Google APIs VIP`,
            }, child);
        const googleapis = privateZone("googleapis", "googleapis.com");
        new gcp.dns.RecordSet(`${name}-googleapis-cname`, {
            project,
            managedZone: googleapis.name,
            name: "*.googleapis.com.",
            type: "CNAME",
            ttl: 300,
            rrdatas: ["restricted.googleapis.com."],
        }, child);
        new gcp.dns.RecordSet(`${name}-googleapis-a`, {
            project,
            managedZone: googleapis.name,
            name: "restricted.googleapis.com.",
            type: "A",
            ttl: 300,
            rrdatas: [...RESTRICTED_VIP_ADDRESSES],
        }, child);
        this.dnsZones = [googleapis];
        for (const domain of args.restrictedGoogleDomains ?? []) {
            const slug = domainSlug(domain);
            const zone = privateZone(slug, domain);
            new gcp.dns.RecordSet(`${name}-${slug}-a`, {
                project,
                managedZone: zone.name,
                name: `${domain}.`,
                type: "A",
                ttl: 300,
                rrdatas: [...RESTRICTED_VIP_ADDRESSES],
            }, child);
            new gcp.dns.RecordSet(`${name}-${slug}-cname`, {
                project,
                managedZone: zone.name,
                name: `*.${domain}.`,
                type: "CNAME",
                ttl: 300,
                rrdatas: [`${domain}.`],
            }, child);
            this.dnsZones.push(zone);
        }

        if (hasEgress) {
            // I4/I12: the only way out is this NAT, which logs every translation and error.
            this.router = new gcp.compute.Router(`${name}-router`, {
                project,
                region,
                network: this.network.id,
                description: "Cloud Router for the egress allow-list NAT",
            }, child);
            this.nat = new gcp.compute.RouterNat(`${name}-nat`, {
                project,
                region,
                router: this.router.name,
                natIpAllocateOption: "AUTO_ONLY",
                sourceSubnetworkIpRangesToNat: "LIST_OF_SUBNETWORKS",
                subnetworks: [{ name: this.subnet.id, sourceIpRangesToNats: ["ALL_IP_RANGES"] }],
                enableEndpointIndependentMapping: false,
                logConfig: { enable: true, filter: "ALL" },
            }, child);
        }

        if (fqdns.length > 0) {
            // I4: FQDN allow-list, evaluated before the classic deny-all egress rule (see the network above).
            this.fqdnPolicy = new gcp.compute.NetworkFirewallPolicy(`${name}-fqdn-policy`, {
                project,
                description: "I4: egress allow-list by FQDN",
            }, child);
            new gcp.compute.NetworkFirewallPolicyRule(`${name}-fqdn-egress`, {
                project,
                firewallPolicy: this.fqdnPolicy.name,
                ruleName: "allow-egress-fqdns",
                description: "I4: allow HTTPS to the allow-listed FQDNs",
                action: "allow",
                direction: "EGRESS",
                priority: ALLOW_PRIORITY,
                enableLogging: true,
                match: {
                    destFqdns: [...fqdns],
                    layer4Configs: [{ ipProtocol: "tcp", ports: [...EGRESS_ALLOWED_TCP_PORTS] }],
                },
            }, child);
            new gcp.compute.NetworkFirewallPolicyAssociation(`${name}-fqdn-assoc`, {
                project,
                attachmentTarget: this.network.id,
                firewallPolicy: this.fqdnPolicy.id,
            }, child);
        }

        this.cidr = args.cidr;
        this.networkId = this.network.id;
        this.networkSelfLink = this.network.selfLink;
        this.subnetId = this.subnet.id;
        this.subnetSelfLink = this.subnet.selfLink;
        this.registerOutputs({
            networkId: this.networkId,
            networkSelfLink: this.networkSelfLink,
            subnetId: this.subnetId,
            subnetSelfLink: this.subnetSelfLink,
            cidr: this.cidr,
        });
    }
}
