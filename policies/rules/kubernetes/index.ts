/**
 * The Kubernetes stack rules: they read one model of the cluster objects (model.ts) and judge what
 * no single object shows (runner namespaces, NetworkPolicies, RBAC, admission webhooks, patches,
 * credentials, manifests).
 */
import { FleetStackPolicy } from "../../meta";
import { k8sAdmissionWebhooks } from "./admission";
import { k8sRunnerCredentials } from "./credentials";
import { k8sManifestsVisible } from "./manifests";
import { k8sRunnerNetworkPolicy } from "./networkPolicy";
import { k8sNoPreemptingPriority } from "./priority";
import { k8sRunnerRbac } from "./rbac";
import { k8sRunnerNamespaceWorkloads, k8sRunnerPatches } from "./workloads";

export { k8sAdmissionWebhooks, k8sManifestsVisible, k8sNoPreemptingPriority, k8sRunnerCredentials, k8sRunnerNamespaceWorkloads, k8sRunnerNetworkPolicy, k8sRunnerPatches, k8sRunnerRbac };
export { k8sModel, K8sModel, K8sObject } from "../../model/kubernetes";

export const kubernetesStackPolicies: FleetStackPolicy[] = [
    k8sRunnerNamespaceWorkloads,
    k8sRunnerPatches,
    k8sRunnerNetworkPolicy,
    k8sRunnerRbac,
    k8sRunnerCredentials,
    k8sAdmissionWebhooks,
    k8sManifestsVisible,
    k8sNoPreemptingPriority,
];
