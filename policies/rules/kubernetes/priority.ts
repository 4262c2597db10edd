/**
 * Scheduling priority (I5): a build must not evict other builds or the platform. A PriorityClass
 * that is the cluster-wide default and preempts gives every pod without a class (runner pods
 * included) the power to evict lower-priority pods; a runner pod that names a preempting class
 * (the built-in system-critical classes, or a class of the stack that preempts) evicts them itself.
 */
import { get, unknown } from "../../model/props";
import { FleetStackPolicy } from "../../meta";
import { runnerNamespaceOf } from "../../model/kubernetes";
import { podTemplateSites } from "../../recognisers/podTemplates";
import { k8sStackRule } from "../../framework/kubernetesRule";

const BUILTIN_PREEMPTING = new Set(["system-cluster-critical", "system-node-critical"]);

export const k8sNoPreemptingPriority: FleetStackPolicy = k8sStackRule({
    name: "k8s-no-preempting-priority",
    description:
        "[I5] No PriorityClass is a preempting cluster-wide default, and no runner pod names a preempting PriorityClass: either lets a build evict other builds' or the platform's pods.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "no `PriorityClass` (or patch) has `globalDefault: true` with a `preemptionPolicy` other than `Never`; no runner pod (runner-labelled or in a runner namespace) has a `priorityClassName` of `system-cluster-critical`, `system-node-critical` or a class of the stack that preempts; a runner pod naming a class the stack does not define is an advisory",
        invariants: ["I5"],
        fix: "Give default classes `preemptionPolicy: Never` (or no `globalDefault`), and run runner pods without a priority class or with a non-preempting one.",
    },
    check: (m, report) => {
        const classes = new Map<string, { preempts: boolean }>();
        for (const o of m.objects) {
            if (o.kind !== "PriorityClass" || o.group !== "scheduling.k8s.io") {
                continue;
            }
            const policy = get(o.props, "preemptionPolicy");
            const preempts = unknown(policy) || policy !== "Never";
            classes.set(`${o.cluster}|${o.name}`, { preempts });
            const global = get(o.props, "globalDefault");
            if ((global === true || unknown(global)) && preempts) {
                report.violation(`PriorityClass${o.patch ? "Patch" : ""} ${o.name} is ${global === true ? "" : "possibly "}the cluster-wide default and preempts ` +
                    `(preemptionPolicy ${unknown(policy) ? "unknown until apply" : JSON.stringify(policy ?? "PreemptLowerPriority")}): every pod without a class, runner pods included, can evict lower-priority pods of other builds and the platform`, o.urn);
            }
        }
        for (const o of m.objects) {
            if (o.patch) {
                continue;
            }
            const inRunnerNs = runnerNamespaceOf(m, o) !== undefined;
            for (const site of podTemplateSites(o.type, o.props)) {
                if (!site.runner && !inRunnerNs) {
                    continue;
                }
                const name = get(site.spec, "priorityClassName");
                if (name === undefined || name === null || name === "") {
                    continue;
                }
                const own = typeof name === "string" ? classes.get(`${o.cluster}|${name}`) : undefined;
                if (unknown(name)) {
                    report.advisory(`cannot decide during preview: the priorityClassName of runner pod ${site.path} in ${o.kind} ${o.name} is unknown.`, o.urn);
                } else if (BUILTIN_PREEMPTING.has(String(name)) || own?.preempts) {
                    report.violation(`runner pod ${site.path} of ${o.kind} ${o.name} has priorityClassName ${JSON.stringify(name)}, which preempts: a build evicts other builds' and the platform's pods`, o.urn);
                } else if (own === undefined) {
                    report.advisory(`cannot decide: runner pod ${site.path} of ${o.kind} ${o.name} names PriorityClass ${JSON.stringify(name)}, which the stack does not define; it may preempt.`, o.urn);
                }
            }
        }
    },
});
