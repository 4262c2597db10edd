/**
 * Compute of the model: every resource that runs code, where it attaches and as whom it runs.
 * Unlabelled compute is a runner (fail closed); what the model cannot see (a template or machine
 * image outside the stack) is marked opaque so rules can refuse it.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { poolOf, roleOf } from "./labels";
import { get, unknown, UNKNOWN_VALUE } from "./props";
import { computeSpecOf, KindSpec, valuesAt } from "./computeKinds";
import { depsOf, resolveRef, str, uniq } from "./lookup";
import { ComputeKind, ComputeNode, T } from "./types";
import { WorkloadIndex } from "./workloads";
import { attachmentSubnets, findAttachments, NETWORK_ATTACHMENT } from "./networkAttachments";

export class ComputeIndex extends WorkloadIndex {
    readonly compute: ComputeNode[] = [];
    readonly computeByUrn = new Map<string, ComputeNode>();

    protected indexCompute(r: PolicyResource): void {
        // Every `runs` row of the classification table is compute (computeKinds.ts).
        const how = computeSpecOf(r.type, this.props(r));
        if (how && "core" in how) {
            this.computeNode(r, how.core);
        } else if (how) {
            this.computeNode(r, how.spec.kind, how.spec);
        }
    }

    /** Compute nodes a cluster reference (any spelling) names. */
    clusterNodes(ref: string): ComputeNode[] {
        return this.clusters.find(ref).map((c) => this.computeByUrn.get(c.urn)).filter((n): n is ComputeNode => n !== undefined);
    }

    protected computeNode(r: PolicyResource, kind: ComputeKind, spec?: KindSpec): ComputeNode {
        const existing = this.computeByUrn.get(r.urn);
        if (existing) {
            return existing;
        }
        const props = this.props(r);
        const role = roleOf(r.type, props);
        const node: ComputeNode = {
            res: r, kind, role, pool: poolOf(r.type, props),
            // An unlabelled workload is a runner, whatever its kind.
            isRunner: role === "runner" || role === undefined,
            networks: [], subnets: [], externalNetworks: [], networkUnknown: false, identities: [], identityUnknown: false,
        };
        this.computeByUrn.set(r.urn, node);
        this.compute.push(node);
        const project = str(this.projectOf(r));
        const at = new Attach(this, r, node, project);

        if (spec) {
            this.readSpec(r, props, spec, at);
        } else if (kind === "instance" || kind === "template") {
            this.readVm(r, props, node, at);
        } else if (kind === "cluster") {
            const net = get(props, "network");
            at.net("network", net === undefined ? "default" : net);
            const sub = get(props, "subnetwork");
            if (sub !== undefined) {
                at.subnet("subnetwork", sub);
            }
            const nc = get(props, "nodeConfig");
            at.identity("nodeConfig", unknown(nc) ? nc : get(nc, "serviceAccount"));
            const ap = get(props, "clusterAutoscaling");
            at.identity("clusterAutoscaling", unknown(ap) ? ap : get(ap, "autoProvisioningDefaults", "serviceAccount"));
            const pools = get(props, "nodePools");
            if (unknown(pools)) {
                at.identity("nodePools", pools);
            } else if (Array.isArray(pools)) {
                for (const p of pools) {
                    at.identity("nodePools", get(p, "nodeConfig", "serviceAccount"));
                }
            }
            if (node.identities.length === 0 && !node.identityUnknown) {
                // Nodes without a service account run as the project's default compute SA.
                node.identities.push(this.literalPrincipal(`serviceAccount:default compute service account of ${project ?? "the project"}`));
            }
        } else if (kind === "nodePool") {
            const res = resolveRef(r, "cluster", get(props, "cluster"), [T.cluster], (ref) => this.clusters.find(ref, project));
            for (const c of res.found) {
                const cn = this.computeNode(c, "cluster");
                node.networks.push(...cn.networks);
                node.subnets.push(...cn.subnets);
                node.externalNetworks.push(...cn.externalNetworks);
                node.networkUnknown ||= cn.networkUnknown;
            }
            if (res.external) {
                node.externalNetworks.push(`cluster ${res.external}`);
            }
            node.networkUnknown ||= res.unknown;
            const nc = get(props, "nodeConfig");
            at.identity("nodeConfig", unknown(nc) ? nc : get(nc, "serviceAccount"));
            this.additionalNics(props, at);
        } else if (kind === "runService") {
            this.readRunService(r, props, at);
        }
        node.networks = uniq(node.networks);
        node.subnets = uniq(node.subnets);
        node.identities = uniq(node.identities);
        return node;
    }

    /** Multi-NIC nodes: every additional node network puts the pool's nodes on that network too. */
    private additionalNics(props: Record<string, any>, at: Attach): void {
        const extra = get(props, "networkConfig", "additionalNodeNetworkConfigs");
        if (unknown(extra)) {
            at.net("networkConfig", UNKNOWN_VALUE);
            return;
        }
        for (const e of Array.isArray(extra) ? extra : []) {
            const net = get(e, "network");
            const sub = get(e, "subnetwork");
            if (net !== undefined && net !== null) {
                at.net("networkConfig", unknown(net) ? UNKNOWN_VALUE : net);
            }
            if (sub !== undefined && sub !== null) {
                at.subnet("networkConfig", unknown(sub) ? UNKNOWN_VALUE : sub);
            }
        }
    }

    private readSpec(r: PolicyResource, props: Record<string, any>, spec: KindSpec, at: Attach): void {
        for (const path of spec.identities) {
            for (const v of valuesAt(props, path)) {
                at.identity(path[0], unknown(v) ? UNKNOWN_VALUE : v);
            }
        }
        if (spec.defaultIdentity && at.node.identities.length === 0 && !at.node.identityUnknown) {
            at.node.identities.push(this.literalPrincipal(`serviceAccount:default service account of ${r.type.split(":")[1]} in ${at.project ?? "the project"}`));
        }
        for (const path of spec.networks) {
            for (const v of valuesAt(props, path)) {
                at.net(path[0], unknown(v) ? UNKNOWN_VALUE : v);
            }
        }
        for (const path of spec.subnets) {
            for (const v of valuesAt(props, path)) {
                at.subnet(path[0], unknown(v) ? UNKNOWN_VALUE : v);
            }
        }
        for (const path of spec.connectors ?? []) {
            for (const v of valuesAt(props, path)) {
                at.connector(path[0], unknown(v) ? UNKNOWN_VALUE : v);
            }
        }
    }

    private readVm(r: PolicyResource, props: Record<string, any>, node: ComputeNode, at: Attach): void {
        const nics = get(props, "networkInterfaces");
        if (unknown(nics)) {
            at.net("networkInterfaces", nics);
        } else if (Array.isArray(nics)) {
            for (const nic of nics) {
                const net = get(nic, "network");
                const sub = get(nic, "subnetwork");
                if (unknown(net) || unknown(sub) || unknown(nic)) {
                    at.net("networkInterfaces", UNKNOWN_VALUE);
                }
                if (!unknown(net) && net !== undefined) {
                    at.net("networkInterfaces", net);
                }
                if (!unknown(sub) && sub !== undefined) {
                    at.subnet("networkInterfaces", sub);
                }
                // A Private Service Connect interface: the VM gets an address in the attachment's subnets.
                const att = get(nic, "networkAttachment");
                if (att !== undefined && att !== null) {
                    at.networkAttachment("networkInterfaces", att);
                }
            }
        }
        const sa = get(props, "serviceAccount");
        at.identity("serviceAccount", unknown(sa) ? sa : get(sa, "email"));
        const hasNics = unknown(nics) || (Array.isArray(nics) && nics.length > 0);
        if (r.type === T.instanceFromTemplate) {
            // What the instance does not override comes from its template: inherit it, or fail closed.
            const tv = get(props, "sourceInstanceTemplate");
            const res = resolveRef(r, "sourceInstanceTemplate", tv, [T.instanceTemplate, T.regionInstanceTemplate], (ref) => this.templates.find(ref, at.project));
            for (const t of res.found) {
                const tn = this.computeNode(t, "template");
                if (!hasNics) {
                    node.networks.push(...tn.networks);
                    node.subnets.push(...tn.subnets);
                    node.networkUnknown ||= tn.networkUnknown;
                }
                if (sa === undefined) {
                    node.identities.push(...tn.identities);
                    node.identityUnknown ||= tn.identityUnknown;
                }
            }
            if (res.found.length === 0 && (sa === undefined || !hasNics)) {
                node.opaque = `its template ${res.external ?? "(unknown until apply)"} is not in this stack, so the model cannot see ${sa === undefined ? "its service account" : "its network"}`;
            }
        } else if (r.type === T.instanceFromMachineImage && (sa === undefined || !hasNics)) {
            node.opaque = `machine image ${str(get(props, "sourceMachineImage")) ?? "(unknown until apply)"} decides ${sa === undefined ? "its service account" : "its network"}, and the model cannot see it`;
        }
    }

    private readRunService(r: PolicyResource, props: Record<string, any>, at: Attach): void {
        const tpl = get(props, "template");
        if (unknown(tpl)) {
            at.identity("template", tpl);
            at.templateDeps("template");
            return;
        }
        if (r.type === T.runServiceV1) {
            at.identity("template", get(tpl, "spec", "serviceAccountName") ?? undefined);
        } else {
            at.identity("template", get(tpl, "serviceAccount"));
        }
        if (at.node.identities.length === 0 && !at.node.identityUnknown) {
            at.node.identities.push(this.literalPrincipal(`serviceAccount:default compute service account of ${at.project ?? "the project"}`));
        }
        const vpc = get(tpl, "vpcAccess");
        if (unknown(vpc)) {
            at.templateDeps("template");
            return;
        }
        const nics = get(vpc, "networkInterfaces");
        if (unknown(nics)) {
            at.templateDeps("template");
        } else if (Array.isArray(nics)) {
            for (const nic of nics) {
                const net = get(nic, "network");
                const sub = get(nic, "subnetwork");
                if (unknown(net) || unknown(sub)) {
                    at.templateDeps("template");
                }
                if (!unknown(net) && net !== undefined) {
                    at.net("template", net);
                }
                if (!unknown(sub) && sub !== undefined) {
                    at.subnet("template", sub);
                }
            }
        }
        at.connector("template", get(vpc, "connector"));
    }

    /** The networks a Serverless VPC Access connector attaches to. */
    connectorNetworks(c: PolicyResource): { networks: PolicyResource[]; subnets: PolicyResource[] } {
        const project = str(this.projectOf(c));
        const networks = [...resolveRef(c, "network", get(c.props, "network"), [T.network], (ref) => this.networks.find(ref, project)).found];
        const subnet = get(c.props, "subnet");
        const subName = unknown(subnet) ? subnet : get(subnet, "name");
        const subnets = resolveRef(c, "subnet", subName, [T.subnetwork], (ref) => this.subnets.find(ref, project)).found;
        for (const s of subnets) {
            networks.push(...this.networksOfSubnet(s));
        }
        return { networks, subnets };
    }

    findConnectors(ref: string, project?: string): PolicyResource[] {
        return this.connectors.find(ref, project);
    }
}

/** Adds networks, subnetworks and identities to one node, literal or from dependencies. */
class Attach {
    constructor(private readonly g: ComputeIndex, private readonly r: PolicyResource, readonly node: ComputeNode, readonly project: string | undefined) {}

    net(prop: string, value: unknown): void {
        const res = this.g.networksOfRef(this.r, prop, value);
        if (unknown(value)) {
            // Dependencies of a whole block: networks and subnetworks both count.
            this.node.networks.push(...res.found);
            const subs = depsOf(this.r, prop, [T.subnetwork]);
            this.node.subnets.push(...subs);
            for (const s of subs) {
                this.node.networks.push(...this.g.networksOfSubnet(s));
            }
            this.node.networkUnknown ||= res.found.length === 0 && subs.length === 0;
            return;
        }
        this.node.networks.push(...res.found);
        if (res.external) {
            this.node.externalNetworks.push(res.external);
        }
    }

    subnet(prop: string, value: unknown): void {
        const res = resolveRef(this.r, prop, value, [T.subnetwork], (ref) => this.g.findSubnets(ref, this.project));
        if (unknown(value)) {
            this.node.subnets.push(...res.found);
            const nets = depsOf(this.r, prop, [T.network]);
            this.node.networks.push(...nets);
            this.node.networkUnknown ||= res.found.length === 0 && nets.length === 0;
        } else if (res.external) {
            this.node.externalNetworks.push(res.external);
        } else {
            this.node.subnets.push(...res.found);
        }
        for (const s of res.found) {
            this.node.networks.push(...this.g.networksOfSubnet(s));
        }
    }

    networkAttachment(prop: string, value: unknown): void {
        const atts = resolveRef(this.r, prop, value, [NETWORK_ATTACHMENT], (ref) => findAttachments(this.g.of(NETWORK_ATTACHMENT), ref));
        this.node.networkUnknown ||= atts.unknown;
        if (atts.external) {
            this.node.externalNetworks.push(atts.external);
        }
        for (const a of atts.found) {
            const { subnets, unknown: unk } = attachmentSubnets(this.g, a);
            this.node.subnets.push(...subnets);
            this.node.networks.push(...subnets.flatMap((s) => this.g.networksOfSubnet(s)));
            this.node.networkUnknown ||= unk;
        }
    }

    identity(prop: string, value: unknown): void {
        const res = this.g.identitiesOf(this.r, prop, value);
        this.node.identities.push(...res.ids);
        this.node.identityUnknown ||= res.unknown;
    }

    connector(prop: string, value: unknown): void {
        if (unknown(value)) {
            this.templateDeps(prop);
        } else if (typeof value === "string" && value !== "") {
            for (const c of this.g.findConnectors(value, this.project)) {
                const cn = this.g.connectorNetworks(c);
                this.node.networks.push(...cn.networks);
                this.node.subnets.push(...cn.subnets);
            }
        }
    }

    /** A block unknown during a preview: networks, subnetworks and connectors it depends on. */
    templateDeps(prop: string): void {
        this.node.networks.push(...depsOf(this.r, prop, [T.network]));
        for (const s of depsOf(this.r, prop, [T.subnetwork])) {
            this.node.subnets.push(s);
            this.node.networks.push(...this.g.networksOfSubnet(s));
        }
        for (const c of depsOf(this.r, prop, [T.connector])) {
            const cn = this.g.connectorNetworks(c);
            this.node.networks.push(...cn.networks);
            this.node.subnets.push(...cn.subnets);
        }
    }
}
