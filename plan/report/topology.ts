/**
 * The fleet's topology for the graph renderers: isolation zones, the nodes inside them (identities,
 * networks, buckets, the signing key, services) and the edges that say who can reach or grant what.
 *
 * Grant edges come from IAM resources whose member is a fleet identity, resolved by literal
 * `serviceAccount:<email>` against service-account outputs or by the property dependencies of
 * `member`/`members` (so they resolve in a preview too). An edge whose IAM resource has a violation
 * is marked `violated`. Project-level grants are drawn only when they violate a policy.
 */
import * as crypto from "crypto";
import { CapturedResource, ProgramRun, Violation } from "../engine";
import { forEachString, isIamGrant, known, Zone, Zoning, zoneResources } from "./zones";

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
/** Input properties naming the target of an IAM grant, most specific first. */
const TARGET_KEYS = ["bucket", "cryptoKeyId", "keyRingId", "serviceAccountId", "name", "service"];
const IGNORED_KEYS = new Set(["role", "member", "members", "policyData", "condition", "etag", "location", "region", "project"]);

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

    for (const r of run.resources) {
        if (!r.custom) {
            continue;
        }
        if (isIamGrant(r.type)) {
            const members = ["member", "members", "policyData"].flatMap((k) => nodesIn(r, k, ["identity"]));
            if (members.length === 0) {
                continue; // no fleet identity among the members
            }
            const keys = [...TARGET_KEYS, ...Object.keys(r.inputs).filter((k) => !TARGET_KEYS.includes(k) && !IGNORED_KEYS.has(k))];
            let target: TopologyNode | undefined;
            for (const k of keys) {
                target = nodesIn(r, k)[0];
                if (target) {
                    break;
                }
            }
            if (!target && r.type.startsWith("gcp:projects/") && violatedBy.has(r.urn)) {
                target = projectNode(known(r.inputs.project) ?? "(unknown project)");
            }
            if (target) {
                for (const m of members) {
                    addEdge(m, target, "grant", r.inputs.policyData !== undefined ? "IAM policy" : roleLabel(r.inputs.role), r.urn);
                }
            }
            continue;
        }
        if (r.type === "gcp:compute/networkPeering:NetworkPeering") {
            const [a] = nodesIn(r, "network", ["network"]);
            const [b] = nodesIn(r, "peerNetwork", ["network"]);
            if (a && b) {
                addEdge(a, b, "peering", "peering", r.urn);
            }
            continue;
        }
        // Workloads: a service runs as its identity; an identity's workloads run in their network.
        const self = nodeByUrn.get(r.urn);
        if (self && self.kind !== "service") {
            continue;
        }
        const refs = new Set<TopologyNode>();
        for (const key of new Set([...Object.keys(r.propertyDependencies), ...Object.keys(r.inputs)])) {
            nodesIn(r, key).forEach((n) => refs.add(n));
        }
        const identities = [...refs].filter((n) => n.kind === "identity");
        if (identities.length === 0) {
            continue;
        }
        const networks = new Set([...refs].filter((n) => n.kind === "network"));
        // One hop through a non-node dependency (a node pool's cluster, an instance's subnet) to its network.
        for (const urns of Object.values(r.propertyDependencies)) {
            for (const u of urns) {
                const dep = run.byUrn.get(u);
                if (dep && !nodeByUrn.has(u)) {
                    for (const k of Object.keys(dep.propertyDependencies)) {
                        nodesIn(dep, k, ["network"]).forEach((n) => networks.add(n));
                    }
                }
            }
        }
        for (const id of identities) {
            if (self) {
                addEdge(self, id, "runs-as", "runs as");
            }
            networks.forEach((n) => addEdge(id, n, "runs-in", "runs in"));
        }
    }
    return { zones: zoning.zones, nodes, edges };
}
