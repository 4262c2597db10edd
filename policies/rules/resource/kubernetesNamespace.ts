/**
 * Kubernetes runner namespaces enforce Pod Security `restricted` (I6), so the API server itself
 * rejects a runner pod that escapes the restricted profile, whoever creates it.
 */
import { FleetResourcePolicy } from "../../meta";
import { roleOf } from "../../model/labels";
import { get, unknown } from "../../model/props";
import { forTypes, undecided } from "../../recognisers/common";

export const NAMESPACE = "kubernetes:core/v1:Namespace";
export const PSS_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

export const k8sRunnerNamespaceRestricted: FleetResourcePolicy = {
    name: "k8s-runner-namespace-restricted",
    description: "[I6] Namespaces labelled build-fleet-role=runner enforce Pod Security restricted (pod-security.kubernetes.io/enforce=restricted).",
    enforcementLevel: "mandatory",
    meta: {
        checks: "runner namespaces have `pod-security.kubernetes.io/enforce=restricted`",
        invariants: ["I6"],
        fix: "Label the runner namespace `pod-security.kubernetes.io/enforce: restricted`.",
    },
    validateResource: forTypes([NAMESPACE], (props, args, report) => {
        if (roleOf(args.type, props) !== "runner") {
            return;
        }
        const level = get(props, "metadata", "labels", PSS_ENFORCE_LABEL);
        if (unknown(level)) {
            undecided(report, `metadata.labels["${PSS_ENFORCE_LABEL}"] is unknown.`);
        } else if (level !== "restricted") {
            report(`runner namespace has ${PSS_ENFORCE_LABEL}=${level === undefined ? "(not set)" : JSON.stringify(level)}; it must be "restricted" so the API server rejects non-restricted runner pods.`);
        }
    }),
};

export const kubernetesNamespacePolicies: FleetResourcePolicy[] = [k8sRunnerNamespaceRestricted];
