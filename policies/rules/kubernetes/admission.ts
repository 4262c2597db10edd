/**
 * Admission webhooks as the API server calls them (I5). A webhook receives every object its rules
 * match, and a mutating one may rewrite it, in every namespace: other builds' pods included. So no
 * webhook may be served from a runner namespace (a build there would serve it), and no mutating
 * webhook may call a URL outside the cluster (whoever serves that URL rewrites runner pods).
 * Configuration patches count as what they would make the configuration. A MutatingAdmissionPolicy
 * rewrites objects in the API server with CEL the pack cannot evaluate: one that may match pods
 * rewrites runner pods after every rule here judged them, so it is refused (fail closed).
 */
import { get, list, unknown } from "../../model/props";
import { FleetStackPolicy } from "../../meta";
import { nsKey } from "../../model/kubernetes";
import { k8sStackRule } from "../../framework/kubernetesRule";

const KINDS = new Set(["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]);

/** Resources of a match rule that cover pods (every resource, pods, a pods subresource). */
const podsMatched = (resources: unknown[]): boolean => resources.some((r) => r === "*" || r === "pods" || r === "*/*" || (typeof r === "string" && r.startsWith("pods/")));

/** Why a MutatingAdmissionPolicy may rewrite pods, or undefined when its match constraints leave pods out. */
function mutatesPods(props: Record<string, any>): string | undefined {
    const rules = list(props, "spec", "matchConstraints", "resourceRules");
    if (unknown(rules)) {
        return "its matchConstraints are unknown until apply";
    }
    if (rules.length === 0) {
        return undefined;
    }
    for (const r of rules) {
        const resources = list(r, "resources");
        if (unknown(resources) || podsMatched(resources)) {
            return `matchConstraints.resourceRules name ${unknown(resources) ? "resources unknown until apply" : JSON.stringify(resources)}`;
        }
    }
    return undefined;
}

export const k8sAdmissionWebhooks: FleetStackPolicy = k8sStackRule({
    name: "k8s-admission-webhooks",
    description:
        "[I5] No MutatingWebhookConfiguration or ValidatingWebhookConfiguration (or patch) is served from a runner namespace, no " +
        "mutating webhook calls a URL outside the cluster, and no MutatingAdmissionPolicy may rewrite pods: each lets a build, an outside " +
        "server or unevaluated CEL see or rewrite other builds' pods.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "no `MutatingWebhookConfiguration` or `ValidatingWebhookConfiguration` (or patch) is served from a runner namespace (a build would see, or rewrite, every pod the webhook matches, other builds' included), no mutating webhook calls a `url` outside the cluster, and no `MutatingAdmissionPolicy` (or patch) has `matchConstraints.resourceRules` that may match pods (`pods`, `pods/*`, `*`, or unknown until apply: its CEL mutations are not evaluated); webhooks whose service or URL is unknown until apply are advisories",
        invariants: ["I5"],
        fix: "Serve admission webhooks through an in-cluster Service in a platform namespace; never from a runner namespace, and never a mutating webhook by URL; " +
            "keep MutatingAdmissionPolicies off pods (set the pod fields in the workload itself).",
    },
    check: (m, report) => {
        for (const o of m.objects) {
            if (o.kind === "MutatingAdmissionPolicy" && o.group === "admissionregistration.k8s.io") {
                const why = mutatesPods(o.props);
                if (why !== undefined) {
                    report.violation(`MutatingAdmissionPolicy${o.patch ? "Patch" : ""} ${o.name} may rewrite pods (${why}): its CEL mutations run in the API server ` +
                        "after every check of the pack, so runner pods (and other builds') are not proven to stay as declared; refused (fail closed)", o.urn);
                }
                continue;
            }
            if (!KINDS.has(o.kind) || o.group !== "admissionregistration.k8s.io") {
                continue;
            }
            const mutating = o.kind.startsWith("Mutating");
            const what = `${o.kind}${o.patch ? "Patch" : ""} ${o.name}`;
            const hooks = list(o.props, "webhooks");
            if (unknown(hooks)) {
                report.advisory(`cannot decide during preview: the webhooks of ${what} are unknown; one may be served from a runner namespace`, o.urn);
                continue;
            }
            hooks.forEach((w, i) => {
                const name = typeof get(w, "name") === "string" ? get(w, "name") : `#${i}`;
                const service = get(w, "clientConfig", "service");
                const url = get(w, "clientConfig", "url");
                if (unknown(service) || unknown(get(service, "namespace")) || unknown(url)) {
                    report.advisory(`cannot decide during preview: where webhook ${name} of ${what} is served is unknown until apply`, o.urn);
                    return;
                }
                const ns = get(service, "namespace");
                if (typeof ns === "string") {
                    const why = m.runnerNamespaces.get(nsKey(o.cluster, ns));
                    if (why !== undefined) {
                        report.violation(
                            `webhook ${name} of ${what} is served from runner namespace "${ns}" (${why}): a build there ${mutating ? "rewrites" : "sees"} ` +
                            "every object the webhook matches, other builds' pods included",
                            o.urn,
                        );
                    }
                } else if (mutating && typeof url === "string") {
                    report.violation(`mutating webhook ${name} of ${what} calls ${url}, outside the cluster: whoever serves it rewrites every pod it matches, runner pods included`, o.urn);
                }
            });
        }
    },
});
