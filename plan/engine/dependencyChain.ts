/**
 * Graph measures over a captured run: the critical path a real `pulumi up` walks.
 *
 * The longest dependency chain creates a resource only after everything it depends on, and after
 * its explicit provider's dependencies (a Kubernetes provider built from a cluster's kubeconfig
 * waits for the cluster). Depending on a component means depending on all of its descendants.
 * Chain length counts provider-managed resources (components and providers take no time). Linear
 * in resources + dependency edges + parent edges (memoised DFS with an explicit stack, so long
 * chains hit no recursion limit).
 */
import { providerUrnOf } from "./types";

export interface GraphResource {
    urn: string;
    type: string;
    custom: boolean;
    parent?: string;
    dependencies: readonly string[];
    /** Provider reference `<providerUrn>::<id>`. */
    provider?: string;
}

export interface Chain {
    /** Number of managed resources on the longest chain. */
    length: number;
    /** URNs on that chain, first created first. */
    path: string[];
}

interface Finish {
    length: number;
    /** The managed resource ending the chain (undefined when length is 0). */
    end?: string;
}

function isManaged(r: GraphResource): boolean {
    return r.custom && !r.type.startsWith("pulumi:providers:");
}

export function longestDependencyChain(resources: readonly GraphResource[]): Chain {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const children = new Map<string, string[]>();
    for (const r of resources) {
        if (r.parent !== undefined) {
            const list = children.get(r.parent);
            if (list) {
                list.push(r.urn);
            } else {
                children.set(r.parent, [r.urn]);
            }
        }
    }
    const chainAt = new Map<string, Finish>(); // longest chain ending at a managed resource
    const prev = new Map<string, string | undefined>();
    const doneAt = new Map<string, Finish>(); // when a dependency on this resource is satisfied
    const longer = (a: Finish, b: Finish) => (b.length > a.length ? b : a);

    // What `done` waits for: a managed resource waits for itself; a component for its children;
    // anything else (providers, unknown URNs) for nothing.
    const waitsFor = (urn: string): string[] => {
        const r = byUrn.get(urn);
        if (!r || (r.custom && !isManaged(r))) {
            return [];
        }
        if (!isManaged(r)) {
            return children.get(urn) ?? [];
        }
        const providerUrn = providerUrnOf(r.provider);
        const provider = providerUrn ? byUrn.get(providerUrn) : undefined;
        return provider ? [...r.dependencies, ...provider.dependencies] : r.dependencies.slice();
    };

    // Post-order DFS with an explicit stack (no recursion limit on long chains). Each node is
    // expanded once and finished once: O(resources + dependency edges + parent edges).
    const inProgress = new Set<string>();
    const solve = (root: string) => {
        const stack: { urn: string; expanded: boolean }[] = [{ urn: root, expanded: false }];
        while (stack.length > 0) {
            const top = stack[stack.length - 1];
            if (doneAt.has(top.urn)) {
                stack.pop();
                continue;
            }
            const next = waitsFor(top.urn);
            if (!top.expanded) {
                top.expanded = true;
                inProgress.add(top.urn);
                for (const u of next) {
                    // A URN already in progress closes a cycle (a child waiting for its own parent): that edge adds nothing.
                    if (!doneAt.has(u) && !inProgress.has(u)) {
                        stack.push({ urn: u, expanded: false });
                    }
                }
                continue;
            }
            stack.pop();
            inProgress.delete(top.urn);
            let best: Finish = { length: 0 };
            for (const u of next) {
                best = longer(best, doneAt.get(u) ?? { length: 0 });
            }
            const r = byUrn.get(top.urn);
            if (r && isManaged(r)) {
                const chain = { length: best.length + 1, end: top.urn };
                chainAt.set(top.urn, chain);
                prev.set(top.urn, best.end);
                doneAt.set(top.urn, chain);
            } else {
                doneAt.set(top.urn, best);
            }
        }
    };

    let best: Finish = { length: 0 };
    for (const r of resources) {
        if (isManaged(r)) {
            solve(r.urn);
            best = longer(best, chainAt.get(r.urn)!);
        }
    }
    const path: string[] = [];
    for (let u = best.end; u !== undefined; u = prev.get(u)) {
        path.push(u);
    }
    return { length: best.length, path: path.reverse() };
}
