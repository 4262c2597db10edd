/**
 * Admission webhooks as the API server calls them (I5). A webhook receives every object its rules
 * match, and a mutating one may rewrite it, in every namespace: other builds' pods included. So no
 * webhook may be served from a runner namespace (a build there would serve it), and no mutating
 * webhook may call a URL outside the cluster (whoever serves that URL rewrites runner pods).
 * Configuration patches count as what they would make the configuration.
 */
import { get, list, unknown } from "../../model/props";
import { FleetStackPolicy } from "../../meta";
import { nsKey } from "../../model/kubernetes";
import { k8sStackRule } from "../../framework/kubernetesRule";

const KINDS = new Set(["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]);

export const k8sAdmissionWebhooks: FleetStackPolicy = k8sStackRule({
    name: "k8s-admission-webhooks",
    description:
        "[I5] No MutatingWebhookConfiguration or ValidatingWebhookConfiguration (or patch) is served from a runner namespace, and no " +
        "mutating webhook calls a URL outside the cluster: either lets a build, or an outside server, see or rewrite other builds' pods.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "no `MutatingWebhookConfiguration` or `ValidatingWebhookConfiguration` (or patch) is served from a runner namespace (a build would see, or rewrite, every pod the webhook matches, other builds' included), and no mutating webhook calls a `url` outside the cluster; webhooks whose service or URL is unknown until apply are advisories",
        invariants: ["I5"],
        fix: "Serve admission webhooks through an in-cluster Service in a platform namespace; never from a runner namespace, and never a mutating webhook by URL.",
    },
    check: (m, report) => {
        for (const o of m.objects) {
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
