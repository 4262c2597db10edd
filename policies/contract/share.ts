/**
 * Sharing one model among the stack policies of one stack evaluation.
 *
 * The CrossGuard analyzer hands each stack policy a freshly deserialized resources array, so a cache
 * keyed by the array builds the model once per policy. A host that knows every policy of one
 * analyzeStack call sees the same stack (the offline engine, plan/engine/evaluate.ts) opens an
 * evaluation scope; inside it the first model built is reused by later policies whose arrays name
 * the same resources in the same order. Outside a scope (the Pulumi CLI) nothing is shared.
 */
const SCOPE = Symbol.for("hardened-build-fleet:stack-evaluation");

interface Scope {
    /** The model of the first array seen in this scope and that array's URNs. */
    model?: unknown;
    urns?: string[];
}

type Host = typeof globalThis & { [SCOPE]?: Scope };

/** Opens a scope for one analyzeStack call; `end()` closes it (always, in a finally). */
export function beginStackEvaluation(): { end: () => void } {
    const host = globalThis as Host;
    const scope: Scope = {};
    host[SCOPE] = scope;
    return {
        end: () => {
            if (host[SCOPE] === scope) {
                delete host[SCOPE];
            }
        },
    };
}

/** The model shared in the open scope for a stack with these URNs, building it with `build` the first time. */
export function sharedModel<M>(urns: string[], build: () => M): M {
    const scope = (globalThis as Host)[SCOPE];
    if (!scope) {
        return build();
    }
    if (scope.model !== undefined && scope.urns !== undefined && scope.urns.length === urns.length && scope.urns.every((u, i) => u === urns[i])) {
        return scope.model as M;
    }
    const model = build();
    scope.model = model;
    scope.urns = urns;
    return model;
}
