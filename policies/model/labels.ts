/**
 * Reading the role-label contract from raw resource properties. Policies use only these labels
 * and the resource graph to classify resources, never resource names.
 */
import { FleetRole, POOL_LABEL, ROLE_LABEL } from "../../components/labels";

export { FleetRole, POOL_LABEL, ROLE_LABEL };

/** Where each resource type keeps its labels (GCP `labels`, GKE `resourceLabels`, node pool `nodeConfig.labels`, k8s `metadata.labels`). */
export function labelsOf(type: string, props: Record<string, any>): Record<string, unknown> | undefined {
    if (type.startsWith("kubernetes:")) {
        return props?.metadata?.labels;
    }
    if (type === "gcp:cloudrun/service:Service") {
        return props?.metadata?.labels;
    }
    if (type === "gcp:container/cluster:Cluster") {
        return props?.resourceLabels;
    }
    if (type === "gcp:container/nodePool:NodePool") {
        return props?.nodeConfig?.resourceLabels ?? props?.nodeConfig?.labels;
    }
    return props?.labels;
}

/** The `build-fleet-role` label value, or undefined when absent or not a known role. */
export function roleOf(type: string, props: Record<string, any>): FleetRole | undefined {
    const role = labelsOf(type, props)?.[ROLE_LABEL];
    return role === "runner" || role === "signer" || role === "control-plane" ? role : undefined;
}

/** The `build-fleet-pool` label value, if any. */
export function poolOf(type: string, props: Record<string, any>): string | undefined {
    const pool = labelsOf(type, props)?.[POOL_LABEL];
    return typeof pool === "string" ? pool : undefined;
}
