/** Mermaid flowchart rendering of the topology: zones as subgraphs, violating edges red (linkStyle). */
import { EdgeKind, NodeKind, Topology, TopologyNode } from "./topology";

/** A Mermaid quoted label; quotes and markup-significant characters as entity codes. */
function q(s: string): string {
    return `"${s.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;")}"`;
}

function shape(kind: NodeKind, label: string): string {
    switch (kind) {
        case "identity":
            return `([${label}])`;
        case "network":
            return `{{${label}}}`;
        case "bucket":
            return `[(${label})]`;
        case "key":
            return `[/${label}/]`;
        case "service":
            return `[[${label}]]`;
        default:
            return `[${label}]`;
    }
}

const ARROWS: Record<EdgeKind, string> = { grant: "-->", "runs-as": "-.->", "runs-in": "-.->", peering: "==>" };

function node(n: TopologyNode, pad: string): string {
    return `${pad}${n.id}${shape(n.kind, q(n.label))}`;
}

export function renderMermaid(t: Topology): string {
    const out = ["flowchart LR"];
    for (const z of t.zones) {
        out.push(`  subgraph zone_${z.id.replace(/[^A-Za-z0-9]+/g, "_")}[${q(z.label)}]`);
        t.nodes.filter((n) => n.zone === z.id).forEach((n) => out.push(node(n, "    ")));
        out.push("  end");
    }
    t.nodes.filter((n) => n.zone === undefined).forEach((n) => out.push(node(n, "  ")));
    const red: number[] = [];
    t.edges.forEach((e, i) => {
        out.push(`  ${e.from} ${ARROWS[e.kind]}|${q(e.label)}| ${e.to}`);
        if (e.violated) {
            red.push(i);
        }
    });
    if (red.length > 0) {
        out.push(`  linkStyle ${red.join(",")} stroke:red,stroke-width:3px,color:red`);
    }
    return out.join("\n") + "\n";
}
