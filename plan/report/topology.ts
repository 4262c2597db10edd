/**
 * The fleet's topology for the graph renderers: isolation zones, the nodes inside them (identities,
 * networks, buckets, the signing key, services) and the edges that say who can reach or grant what.
 *
 * Grant and workload edges come from the policy pack's own stack model (report/model.ts): every IAM
 * form and reference spelling it resolves, members resolved through property dependencies in a
 * preview too. An edge whose IAM resource has a violation is marked `violated`. Project-level grants
 * are drawn only when they violate a policy.
 */
import * as crypto from "crypto";
import { CapturedResource, ProgramRun, Violation } from "../engine";
import { modelOf } from "./stackModel";
import { forEachString, known, Zone, Zoning, zoneResources } from "./zones";

export type NodeKind = "identity" | "network" | "bucket" | "key" | "service" | "project";

export interface TopologyNode {
    /** Stable id (from kind and resource name), safe in DOT and Mermaid. */
    id: string;
    kind: NodeKind;
    label: string;
    /** URN of the resource drawn; a project node has none. */
    urn?: string;
    /** Zone id, if the node belongs to one. */
    zone?: string;
}

export type EdgeKind = "grant" | "runs-as" | "runs-in" | "peering";

export interface TopologyEdge {
    from: string;
    to: string;
    kind: EdgeKind;
    /** The role (without `roles/`) for grants, else what the edge means. */
    label: string;
    /** URNs of the resources that create this edge (IAM grants, peerings). */
    via: string[];
    /** True when one of those resources has a violation: drawn red. */
    violated: boolean;
    /** Policies violated by those resources. */
    policies: string[];
}

export interface Topology {
    zones: Zone[];
    nodes: TopologyNode[];
    edges: TopologyEdge[];
}

const NODE_TYPES: Record<string, NodeKind> = {
    "gcp:serviceaccount/account:Account": "identity",
    "gcp:compute/network:Network": "network",
    "gcp:storage/bucket:Bucket": "bucket",
    "gcp:kms/cryptoKey:CryptoKey": "key",
    "gcp:cloudrunv2/service:Service": "service",
    "gcp:cloudrun/service:Service": "service",
};
const ID_PREFIX: Record<NodeKind, string> = { identity: "sa", network: "net", bucket: "bucket", key: "key", service: "svc", project: "project" };

function sanitize(s: string): string {
    return s.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_+|_+$/g, "") || "x";
}

function shortHash(s: string): string {
    return crypto.createHash("sha256").update(s).digest("hex").slice(0, 6);
}

function nodeLabel(r: CapturedResource, kind: NodeKind): string {
    switch (kind) {
        case "identity":
            // The project says enough: "runner@acme-workers" rather than the full service-account email.
            return (known(r.outputs.email) ?? known(r.inputs.accountId) ?? r.name).replace(/\.iam\.gserviceaccount\.com$/, "");
        case "network":
        case "bucket":
            return known(r.outputs.name) ?? known(r.inputs.name) ?? r.name;
        default:
            return known(r.inputs.name) ?? known(r.outputs.name) ?? r.name;
    }
}

/** Literal values by which a node's resource can be referenced (ids, names, emails, links). */
function aliasesOf(r: CapturedResource, kind: NodeKind): string[] {
    const out = [known(r.id), known(r.outputs.id), known(r.outputs.name), known(r.inputs.name), known(r.outputs.selfLink)];
    if (kind === "identity") {
        out.push(known(r.outputs.email), known(r.outputs.uniqueId));
    }
    if (kind === "bucket") {
        out.push(known(r.outputs.url));
    }
    if (kind === "service") {
        out.push(known(r.outputs.uri));
    }
    return out.filter((v): v is string => v !== undefined);
}

/** "roles/run.invoker" -> "run.invoker"; custom roles keep their last segment. */
export function roleLabel(role: unknown): string {
    const r = known(role);
    if (!r) {
        return "(role unknown)";
    }
    return r.startsWith("roles/") ? r.slice(6) : r.slice(r.lastIndexOf("/") + 1);
}

/** Builds the topology of `run`, marking edges whose resources appear in `violations`. */
export function buildTopology(run: ProgramRun, violations: readonly Violation[], zoning: Zoning = zoneResources(run)): Topology {
    const violatedBy = new Map<string, Set<string>>();
    for (const v of violations) {
        if (v.urn) {
            const set = violatedBy.get(v.urn) ?? new Set<string>();
            set.add(v.policy);
            violatedBy.set(v.urn, set);
        }
    }

    const nodes: TopologyNode[] = [];
    const nodeByUrn = new Map<string, TopologyNode>();
    const byAlias = new Map<string, TopologyNode>();
    const usedIds = new Set<string>();
    const uniqueId = (base: string, seed: string) => {
        let id = base;
        if (usedIds.has(id)) {
            id = `${base}_${shortHash(seed)}`;
        }
        usedIds.add(id);
        return id;
    };
    for (const r of run.resources) {
        const kind = NODE_TYPES[r.type];
        if (!kind || !r.custom) {
            continue;
        }
        const node: TopologyNode = { id: uniqueId(`${ID_PREFIX[kind]}_${sanitize(r.name)}`, r.urn), kind, label: nodeLabel(r, kind), urn: r.urn, zone: zoning.zoneOf(r.urn)?.id };
        nodes.push(node);
        nodeByUrn.set(r.urn, node);
        for (const a of aliasesOf(r, kind)) {
            if (!byAlias.has(a)) {
                byAlias.set(a, node);
            }
        }
    }

    const edges: TopologyEdge[] = [];
    const edgeIndex = new Map<string, TopologyEdge>();
    const addEdge = (from: TopologyNode, to: TopologyNode, kind: EdgeKind, label: string, via?: string) => {
        if (from === to) {
            return;
        }
        const key = `${from.id}\u0000${to.id}\u0000${kind}\u0000${label}`;
        let e = edgeIndex.get(key);
        if (!e) {
            e = { from: from.id, to: to.id, kind, label, via: [], violated: false, policies: [] };
            edgeIndex.set(key, e);
            edges.push(e);
        }
        if (via && !e.via.includes(via)) {
            e.via.push(via);
            const policies = violatedBy.get(via);
            if (policies) {
                e.violated = true;
                e.policies = [...new Set([...e.policies, ...policies])].sort();
            }
        }
    };
    const nodesIn = (r: CapturedResource, key: string, kinds?: NodeKind[]): TopologyNode[] => {
        const found = new Set<TopologyNode>();
        for (const u of r.propertyDependencies[key] ?? []) {
            const n = nodeByUrn.get(u);
            if (n) {
                found.add(n);
            }
        }
        forEachString(r.inputs[key], (s) => {
            const n = byAlias.get(s) ?? byAlias.get(s.replace(/^serviceAccount:/, ""));
            if (n) {
                found.add(n);
            }
        });
        return [...found].filter((n) => !kinds || kinds.includes(n.kind));
    };
    const projectNode = (project: string): TopologyNode => {
        const key = `project:${project}`;
        let n = byAlias.get(key);
        if (!n) {
            n = { id: uniqueId(`project_${sanitize(project)}`, key), kind: "project", label: `project ${project}` };
            nodes.push(n);
            byAlias.set(key, n);
        }
        return n;
    };

    // Grants and workloads as the policy pack's stack model resolves them (every IAM form and spelling).
    const g = modelOf(run);
    for (const gr of g.grants) {
        const members = gr.members.map((m) => (m.sa ? nodeByUrn.get(m.sa.urn) : undefined)).filter((n): n is TopologyNode => n?.kind === "identity");
        if (members.length === 0) {
            continue; // no fleet identity among the members
        }
        let target = gr.target ? nodeByUrn.get(gr.target.urn) : undefined;
        if (!target && gr.scope === "project" && violatedBy.has(gr.res.urn)) {
            target = projectNode(gr.targetId ?? "(unknown project)");
        }
        if (target) {
            const captured = run.byUrn.get(gr.res.urn);
            const label = captured?.inputs.policyData !== undefined ? "IAM policy" : roleLabel(gr.role);
            members.forEach((m) => addEdge(m, target!, "grant", label, gr.res.urn));
        }
    }
    for (const r of run.resources) {
        if (r.custom && r.type === "gcp:compute/networkPeering:NetworkPeering") {
            const [a] = nodesIn(r, "network", ["network"]);
            const [b] = nodesIn(r, "peerNetwork", ["network"]);
            if (a && b) {
                addEdge(a, b, "peering", "peering", r.urn);
            }
        }
    }
    // Workloads: a service runs as its identity; an identity's workloads run in their network.
    for (const n of g.compute) {
        const self = nodeByUrn.get(n.res.urn);
        const identities = n.identities.map((p) => (p.sa ? nodeByUrn.get(p.sa.urn) : undefined)).filter((x): x is TopologyNode => x !== undefined);
        const networks = n.networks.map((x) => nodeByUrn.get(x.urn)).filter((x): x is TopologyNode => x !== undefined);
        for (const id of identities) {
            if (self?.kind === "service") {
                addEdge(self, id, "runs-as", "runs as");
            }
            networks.forEach((net) => addEdge(id, net, "runs-in", "runs in"));
        }
    }
    return { zones: zoning.zones, nodes, edges };
}
