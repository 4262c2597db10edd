/** Graphviz DOT rendering of the topology: zones as clusters, violating edges red. */
import { EdgeKind, NodeKind, Topology, TopologyEdge, TopologyNode } from "./topology";

const SHAPES: Record<NodeKind, string> = {
    identity: "ellipse",
    network: "hexagon",
    bucket: "cylinder",
    key: "octagon",
    service: "component",
    project: "folder",
};
const ZONE_COLORS: Record<string, string> = { runner: "#2b6cb0", workers: "#2c5282", signer: "#9b2c2c", "control-plane": "#276749" };
const EDGE_STYLES: Record<EdgeKind, string> = { grant: "solid", "runs-as": "dashed", "runs-in": "dotted", peering: "bold" };

/** A DOT double-quoted string. */
function q(s: string): string {
    return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

function kindLabel(kind: NodeKind): string {
    return kind === "identity" ? "service account" : kind === "service" ? "Cloud Run service" : kind === "key" ? "signing key" : kind;
}

function node(n: TopologyNode, pad: string): string {
    return `${pad}${n.id} [label=${q(`${n.label}\n(${kindLabel(n.kind)})`)}, shape=${SHAPES[n.kind]}];`;
}

function edge(e: TopologyEdge): string {
    const attrs = [`label=${q(e.label)}`, `style=${EDGE_STYLES[e.kind]}`];
    if (e.violated) {
        attrs.push("color=red", "fontcolor=red", "penwidth=2", `tooltip=${q(`violates ${e.policies.join(", ")}`)}`);
    } else if (e.kind !== "grant") {
        attrs.push("color=gray40", "fontcolor=gray40");
    }
    return `  ${e.from} -> ${e.to} [${attrs.join(", ")}];`;
}

export function renderDot(t: Topology): string {
    const out = [
        "digraph fleet {",
        "  rankdir=LR;",
        "  compound=true;",
        '  graph [fontname="Helvetica", fontsize=12];',
        '  node [fontname="Helvetica", fontsize=10, style=filled, fillcolor=white];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ];
    for (const z of t.zones) {
        out.push(`  subgraph cluster_${z.id.replace(/[^A-Za-z0-9]+/g, "_")} {`);
        out.push(`    label=${q(z.label)};`, "    style=rounded;", `    color=${q(ZONE_COLORS[z.kind])};`);
        t.nodes.filter((n) => n.zone === z.id).forEach((n) => out.push(node(n, "    ")));
        out.push("  }");
    }
    t.nodes.filter((n) => n.zone === undefined).forEach((n) => out.push(node(n, "  ")));
    t.edges.forEach((e) => out.push(edge(e)));
    out.push("}");
    return out.join("\n") + "\n";
}
