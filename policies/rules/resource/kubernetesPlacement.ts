/**
 * Runner pods stay in the gVisor sandbox pool (I6): the runtime class is gVisor, and no toleration,
 * node selector, node affinity or node name lets the scheduler place a runner pod on other nodes
 * (the system pool, a node pool of another role, a node without the sandbox). The `gvisor`
 * RuntimeClass itself must run the gVisor handler: a class of that name with another handler (runc,
 * kata, ...) makes every check of the name meaningless.
 */
import { NODE_CLASS_LABEL, RUNNER_TAINT } from "../../../components/runnerPool/podTemplate";
import { ROLE_LABEL } from "../../model/labels";
import { FleetResourcePolicy } from "../../meta";
import { get, list, unknown } from "../../model/props";
import { forRunnerPods } from "./kubernetesWorkload";
import { allOf, forTypes, undecided } from "../../recognisers/common";
import { PodTemplateSite } from "../../recognisers/podTemplates";

/** GKE Sandbox's node label and taint key; the gvisor RuntimeClass selects and tolerates it. */
export const GKE_SANDBOX_KEY = "sandbox.gke.io/runtime";
const GVISOR = "gvisor";

/** Node labels whose value says which pool a node belongs to, and the value a runner node carries. */
const POOL_KEYS: Record<string, string> = { [ROLE_LABEL]: "runner", [NODE_CLASS_LABEL]: "runner", [GKE_SANDBOX_KEY]: GVISOR };

/** Taints a runner pod may tolerate: the runner taint, the sandbox taint, and the node-condition taints. */
function toleratedOk(t: unknown): boolean {
    const key = get(t, "key");
    const op = get(t, "operator") ?? "Equal";
    const value = get(t, "value");
    if (typeof key === "string" && key.startsWith("node.kubernetes.io/")) {
        return true;
    }
    if (key === RUNNER_TAINT.key) {
        return op === "Equal" && value === RUNNER_TAINT.value;
    }
    if (key === GKE_SANDBOX_KEY) {
        return op === "Exists" || value === GVISOR;
    }
    return false;
}

function describeToleration(t: unknown): string {
    const key = get(t, "key");
    const op = get(t, "operator") ?? "Equal";
    if (key === undefined || key === null || key === "") {
        return op === "Exists" ? "tolerates every taint (operator Exists without a key)" : "has no key";
    }
    return `tolerates ${JSON.stringify(key)}${op === "Exists" ? " (any value)" : `=${JSON.stringify(get(t, "value") ?? "")}`}, a taint of non-runner nodes`;
}

/** Findings for one node-affinity match expression on a pool key. */
function expressionFinding(where: string, e: unknown): string | undefined {
    const key = get(e, "key");
    if (typeof key !== "string" || !(key in POOL_KEYS)) {
        return undefined;
    }
    const want = POOL_KEYS[key];
    const op = get(e, "operator");
    const values = list(e, "values");
    const vals = unknown(values) ? [] : values;
    const away =
        (op === "In" && !vals.includes(want)) ||
        (op === "NotIn" && vals.includes(want)) ||
        op === "DoesNotExist";
    return away ? `${where} requires ${key} ${op} ${JSON.stringify(vals)}, away from the ${want} nodes` : undefined;
}

export function placementFindings(site: PodTemplateSite, undecidable: (what: string) => void): string[] {
    const spec = site.spec;
    const out: string[] = [];
    const rc = get(spec, "runtimeClassName");
    if (unknown(rc)) {
        undecidable("runtimeClassName is unknown.");
    } else if (rc !== GVISOR) {
        out.push(`runtimeClassName is ${rc === undefined || rc === null ? "not set" : JSON.stringify(rc)}: the pod runs outside the gVisor sandbox (must be "gvisor")`);
    }
    const nodeName = get(spec, "nodeName");
    if (unknown(nodeName)) {
        undecidable("nodeName is unknown.");
    } else if (typeof nodeName === "string" && nodeName !== "") {
        out.push(`nodeName ${JSON.stringify(nodeName)} binds the pod to a node, bypassing the scheduler`);
    }
    const tolerations = list(spec, "tolerations");
    if (unknown(tolerations)) {
        undecidable("tolerations is unknown.");
    } else {
        tolerations.forEach((t, i) => {
            if (unknown(t) || unknown(get(t, "key")) || unknown(get(t, "value")) || unknown(get(t, "operator"))) {
                undecidable(`tolerations[${i}] is unknown.`);
            } else if (!toleratedOk(t)) {
                out.push(`tolerations[${i}] ${describeToleration(t)}`);
            }
        });
    }
    const selector = get(spec, "nodeSelector");
    if (unknown(selector)) {
        undecidable("nodeSelector is unknown.");
    } else if (selector !== null && typeof selector === "object") {
        for (const [key, want] of Object.entries(POOL_KEYS)) {
            const v = (selector as Record<string, unknown>)[key];
            if (unknown(v)) {
                undecidable(`nodeSelector["${key}"] is unknown.`);
            } else if (v !== undefined && v !== want) {
                out.push(`nodeSelector["${key}"] is ${JSON.stringify(v)}, away from the ${want} nodes`);
            }
        }
    }
    const terms = list(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms");
    if (unknown(terms)) {
        undecidable("affinity.nodeAffinity is unknown.");
    } else {
        terms.forEach((term, i) => {
            const exprs = list(term, "matchExpressions");
            if (unknown(exprs)) {
                undecidable(`nodeSelectorTerms[${i}].matchExpressions is unknown.`);
                return;
            }
            exprs.forEach((e, j) => {
                const f = expressionFinding(`affinity.nodeAffinity...nodeSelectorTerms[${i}].matchExpressions[${j}]`, e);
                if (f) {
                    out.push(f);
                }
            });
        });
    }
    return out;
}

/** GKE Sandbox's handler is `gvisor`; upstream gVisor's is `runsc`. */
const GVISOR_HANDLERS = new Set(["gvisor", "runsc"]);
const isRuntimeClass = (type: string): boolean => /^kubernetes:node\.k8s\.io\/[^:]+:RuntimeClass(Patch)?$/.test(type);

/** The `gvisor` RuntimeClass runs the gVisor handler. */
const runtimeClassHandler = forTypes(isRuntimeClass, (props, _args, report) => {
    const name = get(props, "metadata", "name");
    const handler = get(props, "handler");
    if (unknown(name)) {
        if (!unknown(handler) && !GVISOR_HANDLERS.has(String(handler))) {
            undecided(report, `the name of this RuntimeClass (handler ${JSON.stringify(handler)}) is unknown; if it is "gvisor", runner pods leave the sandbox.`);
        }
        return;
    }
    if (name !== GVISOR) {
        return;
    }
    if (unknown(handler)) {
        undecided(report, "the handler of RuntimeClass gvisor is unknown.");
    } else if (handler !== undefined && !GVISOR_HANDLERS.has(String(handler))) {
        report(`RuntimeClass "gvisor" has handler ${JSON.stringify(handler)}, not gVisor ("gvisor" or "runsc"): every runner pod asking for the sandbox runs outside it.`);
    }
});

export const k8sRunnerSandboxed: FleetResourcePolicy = {
    name: "k8s-runner-sandboxed",
    description:
        "[I6] Runner pods run in the gVisor sandbox pool: runtimeClassName gvisor, no toleration beyond the runner and sandbox taints, " +
        "no node selector, node affinity or nodeName that points away from the runner nodes; the gvisor RuntimeClass runs the gVisor handler.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "runner pods stay in the gVisor pool: `runtimeClassName: gvisor`; no toleration beyond `build-fleet-role=runner`, `sandbox.gke.io/runtime` and the `node.kubernetes.io/*` conditions (never `operator: Exists` without a key); no `nodeSelector`, required node affinity (`In`/`NotIn`/`DoesNotExist` on `build-fleet-role`, `build-fleet-node-class`, `sandbox.gke.io/runtime`) or `nodeName` pointing elsewhere; a `RuntimeClass` (or patch) named `gvisor` has handler `gvisor` or `runsc`",
        invariants: ["I6"],
        fix:
            "Set `runtimeClassName: gvisor`, tolerate only `build-fleet-role=runner:NoSchedule`, and select runner nodes only " +
            "(`build-fleet-role: runner`, `build-fleet-node-class: runner`); never tolerate everything or pin a nodeName.",
    },
    validateResource: allOf(forRunnerPods(placementFindings), runtimeClassHandler),
};

export const kubernetesPlacementPolicies: FleetResourcePolicy[] = [k8sRunnerSandboxed];
