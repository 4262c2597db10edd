/**
 * Graph measures over a captured run: the critical path a real `pulumi up` would walk.
 */
import { CapturedResource, ProgramRun } from "./types";

/**
 * The longest chain of custom resources, each waiting for the previous one, in a `pulumi up`.
 * A resource waits for its `dependencies` and for its explicit provider, which waits for the provider's
 * own dependencies (a Kubernetes provider built from a cluster's kubeconfig waits for the cluster);
 * depending on a component means waiting for every custom resource below it. Components and
 * providers add no step of their own. Linear time: each resource's chain length is memoised.
 */
export function longestDependencyChain(run: Pick<ProgramRun, "resources">): { length: number; path: string[] } {
    const byUrn = new Map<string, CapturedResource>(run.resources.map((r) => [r.urn, r]));
    const children = new Map<string, string[]>();
    for (const r of run.resources) {
        if (r.parent) {
            const list = children.get(r.parent) ?? [];
            list.push(r.urn);
            children.set(r.parent, list);
        }
    }
    const counts = (r: CapturedResource) => r.custom && !r.type.startsWith("pulumi:providers:");

    // Custom resources a dependency on `urn` stands for (itself, or every custom descendant of a component).
    const expansion = new Map<string, string[]>();
    const expand = (urn: string): string[] => {
        let out = expansion.get(urn);
        if (out) {
            return out;
        }
        const r = byUrn.get(urn);
        out = [];
        if (r && counts(r)) {
            out.push(urn);
        } else {
            for (const child of children.get(urn) ?? []) {
                out.push(...expand(child));
            }
        }
        expansion.set(urn, out);
        return out;
    };

    const depth = new Map<string, { length: number; next?: string }>();
    const visiting = new Set<string>();
    const chain = (urn: string): { length: number; next?: string } => {
        const known = depth.get(urn);
        if (known) {
            return known;
        }
        if (visiting.has(urn)) {
            throw new Error(`dependency cycle through ${urn}`);
        }
        visiting.add(urn);
        let best: { length: number; next?: string } = { length: 1 };
        const r = byUrn.get(urn)!;
        const provider = r.provider ? byUrn.get(r.provider.split("::").slice(0, -1).join("::")) : undefined;
        for (const dep of [...r.dependencies, ...(provider?.dependencies ?? [])]) {
            for (const target of expand(dep)) {
                const c = chain(target);
                if (c.length + 1 > best.length) {
                    best = { length: c.length + 1, next: target };
                }
            }
        }
        visiting.delete(urn);
        depth.set(urn, best);
        return best;
    };

    let start: string | undefined;
    let length = 0;
    for (const r of run.resources) {
        if (counts(r)) {
            const c = chain(r.urn);
            if (c.length > length) {
                length = c.length;
                start = r.urn;
            }
        }
    }
    const path: string[] = [];
    for (let cur = start; cur; cur = depth.get(cur)?.next) {
        path.push(cur);
    }
    return { length, path: path.reverse() };
}
