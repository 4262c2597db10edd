/**
 * What the control plane may do in a GKE pool's runner namespace, with its own Google identities (GKE maps
 * a Google service account to the RBAC user named by its email): the broker confirms a registering pod
 * and the EphemeralRunner that owns it, and the webhook receiver deletes that EphemeralRunner after its
 * job (scale-in; ARC removes the pod with it). Nothing else: no list or watch, no secrets, no exec, and
 * nothing outside the runner namespace.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** The only rules the control plane holds in a runner namespace. */
export const CONTROL_PLANE_RUNNER_RULES = [
    { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
    { apiGroups: ["actions.github.com"], resources: ["ephemeralrunners"], verbs: ["get", "delete"] },
];

export interface ControlPlaneAccess {
    role: k8s.rbac.v1.Role;
    binding: k8s.rbac.v1.RoleBinding;
}

/** A Role with CONTROL_PLANE_RUNNER_RULES in `namespace`, bound to the control plane's identities (emails). */
export function controlPlaneRunnerAccess(
    name: string,
    args: { namespace: pulumi.Input<string>; identities: pulumi.Input<string>[]; labels: Record<string, string> },
    opts: pulumi.CustomResourceOptions,
): ControlPlaneAccess {
    const role = new k8s.rbac.v1.Role(`${name}-control-plane-access`, {
        metadata: { name: "control-plane-runner-access", namespace: args.namespace, labels: args.labels },
        rules: CONTROL_PLANE_RUNNER_RULES,
    }, opts);
    const binding = new k8s.rbac.v1.RoleBinding(`${name}-control-plane-access`, {
        metadata: { name: "control-plane-runner-access", namespace: args.namespace, labels: args.labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: args.identities.map((email) => ({ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: email })),
    }, opts);
    return { role, binding };
}
