/**
 * NetworkPolicies of runner namespaces (I4, I5): every runner namespace isolates its pods in both
 * directions (a policy selecting every pod with policyTypes Ingress and Egress), and no policy there
 * opens an allow-all: ingress from anywhere or from other builds, egress to anywhere, to every
 * namespace, to other builds, or to a /0 block that keeps the cluster's private ranges.
 *
 * The ARC controller's namespace, when it holds no runner workload, needs ingress isolation only:
 * the controller and listener must reach the API server and GitHub, and the VPC bounds that egress.
 */
import { get, list, unknown } from "../../model/props";
import { FleetStackPolicy } from "../../meta";
import { K8sObject, nsKey, nsName, UNKNOWN_NAME } from "../../model/kubernetes";
import { k8sStackRule } from "../../framework/kubernetesRule";
import { Cidr, coveredFamily, parseCidr, reachedTogether } from "../../model/cidr";

/** Private ranges a /0 egress block must except, or it also reaches pods, nodes and services. */
const PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

function emptySelector(sel: unknown): boolean {
    if (sel === undefined || sel === null) {
        return false;
    }
    const labels = get(sel, "matchLabels");
    const exprs = get(sel, "matchExpressions");
    const emptyMap = labels === undefined || labels === null || (typeof labels === "object" && Object.keys(labels).length === 0);
    const emptyList = exprs === undefined || exprs === null || (Array.isArray(exprs) && exprs.length === 0);
    return emptyMap && emptyList;
}

function isWorldCidr(c: unknown): boolean {
    return c === "0.0.0.0/0" || c === "::/0";
}

/** Why one peer opens everything (or other builds), or undefined. */
function openPeer(peer: unknown, direction: "ingress" | "egress"): string | undefined {
    const ip = get(peer, "ipBlock");
    if (ip !== undefined && ip !== null) {
        const cidr = get(ip, "cidr");
        if (!isWorldCidr(cidr)) {
            return undefined;
        }
        if (direction === "ingress") {
            return `ipBlock ${cidr} (the whole network)`;
        }
        const except = list(ip, "except");
        const kept = unknown(except) ? PRIVATE : PRIVATE.filter((p) => !except.includes(p));
        return kept.length > 0 ? `ipBlock ${cidr} without excepting ${kept.join(", ")} (pods, nodes and services of the cluster)` : undefined;
    }
    const ns = get(peer, "namespaceSelector");
    const pods = get(peer, "podSelector");
    if (ns !== undefined && ns !== null) {
        return emptySelector(ns) && (pods === undefined || pods === null || emptySelector(pods)) ? "namespaceSelector {} (every pod of every namespace)" : undefined;
    }
    if (pods !== undefined && pods !== null && emptySelector(pods)) {
        return "podSelector {} (every pod of the runner namespace: the other builds)";
    }
    return undefined;
}

/**
 * Egress ipBlocks of a namespace's policies that together cover every address of a family (e.g.
 * 0.0.0.0/1 and 128.0.0.0/1) while still reaching a private range: as open as one /0 block.
 * Single /0 blocks are openPeer's; a block unknown during a preview is left to the other checks.
 */
function unionOpens(policies: K8sObject[]): { text: string; urns: string[] } | undefined {
    const blocks: { cidr: Cidr; except: Cidr[]; urn: string }[] = [];
    for (const p of policies) {
        const spec = get(p.props, "spec");
        const rules = list(spec, "egress");
        for (const rule of unknown(rules) ? [] : rules) {
            if (dnsOnly(rule)) {
                continue;
            }
            const peers = list(rule, "to");
            for (const peer of unknown(peers) ? [] : peers) {
                const cidr = parseCidr(get(peer, "ipBlock", "cidr"));
                const except = list(peer, "ipBlock", "except");
                if (cidr && !isWorldCidr(cidr.text)) {
                    blocks.push({ cidr, except: unknown(except) ? [] : except.map(parseCidr).filter((c): c is Cidr => c !== undefined), urn: p.urn });
                }
            }
        }
    }
    const family = coveredFamily(blocks.map((b) => b.cidr));
    if (family === undefined || blocks.length < 2) {
        return undefined;
    }
    const reached = reachedTogether(blocks, PRIVATE.map((p) => parseCidr(p)!));
    return reached.length > 0
        ? { text: `egress ipBlocks ${blocks.map((b) => b.cidr.text).join(", ")} together cover every ${family} address and reach ${reached.map((c) => c.text).join(", ")} (pods, nodes and services of the cluster)`,
            urns: [...new Set(blocks.map((b) => b.urn))] }
        : undefined;
}

/** Every range a subnet of the stack declares (primary, and secondary: GKE pod and service ranges), with the subnet's name. */
function stackRanges(resources: readonly { type: string; name: string; props: unknown }[]): { cidr: Cidr; what: string }[] {
    const out: { cidr: Cidr; what: string }[] = [];
    for (const r of resources) {
        if (r.type !== "gcp:compute/subnetwork:Subnetwork") {
            continue;
        }
        const primary = parseCidr(get(r.props, "ipCidrRange"));
        if (primary) {
            out.push({ cidr: primary, what: `subnet ${r.name}` });
        }
        const secondary = list(r.props, "secondaryIpRanges");
        for (const sr of unknown(secondary) ? [] : secondary) {
            const c = parseCidr(get(sr, "ipCidrRange"));
            if (c) {
                out.push({ cidr: c, what: `range ${String(get(sr, "rangeName") ?? "?")} of subnet ${r.name}` });
            }
        }
    }
    return out;
}

/** Egress ipBlocks (other than /0, openPeer's) that reach a range of the stack's subnets: pods, nodes or services of a pool, or the signer. */
function fleetRangeFindings(spec: unknown, ranges: { cidr: Cidr; what: string }[]): string[] {
    const out: string[] = [];
    const rules = list(spec, "egress");
    (unknown(rules) ? [] : rules).forEach((rule, i) => {
        const peers = list(rule, "to");
        (unknown(peers) ? [] : peers).forEach((peer, j) => {
            const cidr = parseCidr(get(peer, "ipBlock", "cidr"));
            if (!cidr || isWorldCidr(cidr.text)) {
                return;
            }
            const except = list(peer, "ipBlock", "except");
            const block = { cidr, except: unknown(except) ? [] : except.map(parseCidr).filter((c): c is Cidr => c !== undefined) };
            const hit = ranges.filter((r) => reachedTogether([block], [r.cidr]).length > 0);
            if (hit.length > 0) {
                out.push(`spec.egress[${i}].to[${j}] is ipBlock ${cidr.text}, which reaches ${hit.map((h) => `${h.cidr.text} (${h.what})`).join(", ")}: pods, nodes or services of the fleet, other builds included`);
            }
        });
    });
    return out;
}

/** True when every port of a rule is DNS (53), the one any-destination egress rule that is allowed. */
function dnsOnly(rule: unknown): boolean {
    const ports = list(rule, "ports");
    return !unknown(ports) && ports.length > 0 && ports.every((p) => Number(get(p, "port")) === 53);
}

/** Ingress rules of a runner namespace's policy: runner pods serve nothing, so any ingress allow is a finding. */
function ingressFindings(spec: unknown): string[] {
    const rules = list(spec, "ingress");
    if (unknown(rules)) {
        return [];
    }
    return rules.map((_r, i) => `spec.ingress[${i}] allows connections into runner pods, which serve nothing`);
}

/** Allow-all findings of one NetworkPolicy spec. */
export function allowAllFindings(spec: unknown): string[] {
    const out: string[] = [];
    for (const direction of ["ingress", "egress"] as const) {
        const rules = list(spec, direction);
        if (unknown(rules)) {
            out.push(`spec.${direction} is unknown`);
            continue;
        }
        rules.forEach((rule, i) => {
            const peers = list(rule, direction === "ingress" ? "from" : "to");
            if (unknown(peers)) {
                out.push(`spec.${direction}[${i}] peers are unknown`);
                return;
            }
            if (peers.length === 0) {
                if (!(direction === "egress" && dnsOnly(rule))) {
                    out.push(`spec.${direction}[${i}] has no ${direction === "ingress" ? "from" : "to"}: it allows ${direction} ${direction === "ingress" ? "from" : "to"} everything`);
                }
                return;
            }
            peers.forEach((peer, j) => {
                const why = openPeer(peer, direction);
                if (why) {
                    out.push(`spec.${direction}[${i}].${direction === "ingress" ? "from" : "to"}[${j}] is ${why}`);
                }
            });
        });
    }
    return out;
}

/** The directions a policy isolates for every pod of its namespace. */
function isolates(spec: unknown): Set<string> {
    const out = new Set<string>();
    if (!emptySelector(get(spec, "podSelector") ?? {})) {
        return out;
    }
    const types = list(spec, "policyTypes");
    if (unknown(types)) {
        return out;
    }
    const effective = types.length > 0 ? types : ["Ingress", ...(get(spec, "egress") !== undefined ? ["Egress"] : [])];
    for (const t of effective) {
        out.add(String(t));
    }
    return out;
}

export const k8sRunnerNetworkPolicy: FleetStackPolicy = k8sStackRule({
    name: "k8s-runner-network-policy",
    description:
        "[I3, I4, I5] Every runner namespace has a default-deny NetworkPolicy in both directions; no NetworkPolicy (or NetworkPolicyPatch) there " +
        "allows ingress, all egress, traffic to every namespace or between builds, or egress to a /0 block that keeps the private ranges; " +
        "no LoadBalancer, NodePort or externalIPs Service exposes it.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "each runner namespace has a default deny for Ingress and Egress (a policy with `podSelector: {}`; the ARC controller's namespace with no runners needs Ingress only); no LoadBalancer, NodePort or `externalIPs` Service exposes it; no NetworkPolicy or NetworkPolicyPatch there allows any ingress (runner pods serve nothing), all egress, traffic from or to `namespaceSelector: {}` or `podSelector: {}` (other builds), ingress from a /0, or egress to a /0 that does not except 10/8, 172.16/12 and 192.168/16, or egress ipBlocks that together (across rules and policies of the namespace, exceptions subtracted) cover every address and still reach one of those ranges, or an egress ipBlock reaching a range of a subnet of the stack (a pool's nodes, pods or services, the signer); a NetworkPolicyPatch that opens nothing is still an advisory (the merged policy is unseen)",
        invariants: ["I3", "I4", "I5"],
        fix:
            "Add `{ podSelector: {}, policyTypes: [\"Ingress\", \"Egress\"] }` to every runner namespace and allow only DNS, the metadata " +
            "server, the restricted VIP and the allow-listed CIDRs (a /0 block must except 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16).",
    },
    check: (m, report, args) => {
        let ranges: { cidr: Cidr; what: string }[] | undefined;
        const byNs = new Map<string, K8sObject[]>();
        for (const o of m.objects) {
            if (o.kind !== "NetworkPolicy" || o.namespace === undefined) {
                continue;
            }
            if (o.namespace === UNKNOWN_NAME) {
                report.advisory("cannot decide during preview: the namespace of this NetworkPolicy is unknown, so it may open a runner namespace.", o.urn);
                continue;
            }
            const key = nsKey(o.cluster, o.namespace);
            byNs.set(key, [...(byNs.get(key) ?? []), o]);
        }
        for (const o of m.objects) {
            if (o.kind !== "Service" || o.group !== "core" || o.patch) {
                continue;
            }
            const key = o.namespace !== undefined && o.namespace !== UNKNOWN_NAME ? nsKey(o.cluster, o.namespace) : undefined;
            if (key === undefined || !m.runnerNamespaces.has(key) || (m.controllerNamespaces.has(key) && !m.workloadNamespaces.has(key))) {
                continue;
            }
            const type = get(o.props, "spec", "type");
            const external = list(o.props, "spec", "externalIPs");
            if (type === "LoadBalancer" || type === "NodePort" || (!unknown(external) && external.length > 0)) {
                report.violation(`Service ${o.name} exposes runner namespace "${nsName(key)}" (${type === "LoadBalancer" || type === "NodePort" ? `type ${type}` : "externalIPs"}): runner pods serve nothing.`, o.urn);
            } else if (unknown(type) || unknown(external)) {
                report.advisory(`cannot decide during preview: the type of Service ${o.name} in runner namespace "${nsName(key)}" is unknown.`, o.urn);
            }
        }
        for (const [key, why] of m.runnerNamespaces) {
            const policies = byNs.get(key) ?? [];
            const nsObj = m.objects.find((o) => o.kind === "Namespace" && !o.patch && nsKey(o.cluster, o.name) === key);
            // The Namespace, else anything in it, else the NamespacePatch that labelled it: a finding always names a resource.
            const subject = nsObj?.urn ?? m.objects.find((o) => o.namespace !== undefined && nsKey(o.cluster, o.namespace) === key)?.urn
                ?? m.objects.find((o) => o.kind === "Namespace" && o.patch && nsKey(o.cluster, o.name) === key)?.urn;
            const covered = new Set<string>();
            for (const p of policies) {
                const spec = get(p.props, "spec");
                if (p.patch) {
                    const open = allowAllFindings(spec);
                    if (open.length > 0) {
                        report.violation(`NetworkPolicyPatch in runner namespace "${nsName(key)}" opens it: ${open.join("; ")}.`, p.urn);
                    } else {
                        report.advisory(`cannot decide: NetworkPolicyPatch ${p.name} changes a policy of runner namespace "${nsName(key)}" that the stack does not fully define; the merged policy cannot be judged.`, p.urn);
                    }
                    continue;
                }
                if (unknown(spec)) {
                    report.advisory(`cannot decide during preview: the spec of NetworkPolicy ${p.name} in runner namespace "${nsName(key)}" is unknown.`, p.urn);
                    continue;
                }
                for (const d of isolates(spec)) {
                    covered.add(d);
                }
                const controllerOnly = m.controllerNamespaces.has(key) && !m.workloadNamespaces.has(key);
                const open = [...allowAllFindings(spec), ...fleetRangeFindings(spec, ranges ??= stackRanges(args.resources))];
                const inbound = controllerOnly || open.some((f) => f.startsWith("spec.ingress")) ? [] : ingressFindings(spec);
                if (open.length + inbound.length > 0) {
                    report.violation(`NetworkPolicy ${p.name} in runner namespace "${nsName(key)}" (${why}) opens it: ${[...open, ...inbound].join("; ")}.`, p.urn);
                }
            }
            const union = unionOpens(policies.filter((p) => !p.patch && !unknown(get(p.props, "spec"))));
            for (const urn of union?.urns ?? []) {
                report.violation(`NetworkPolicies of runner namespace "${nsName(key)}" (${why}) open it together: ${union!.text}.`, urn);
            }
            const controllerOnly = m.controllerNamespaces.has(key) && !m.workloadNamespaces.has(key);
            const needed = controllerOnly ? ["Ingress"] : ["Ingress", "Egress"];
            const missing = needed.filter((d) => !covered.has(d));
            if (missing.length > 0) {
                report.violation(
                    `runner namespace "${nsName(key)}" (${why}) has no default-deny NetworkPolicy for ${missing.join(" and ")} ` +
                    `(a policy with podSelector {} and policyTypes ${JSON.stringify(needed)}): its pods accept or open any connection not otherwise denied.`,
                    subject,
                );
            }
        }
    },
});
