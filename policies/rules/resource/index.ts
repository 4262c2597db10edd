/**
 * The pack's per-resource rules (ResourceValidationPolicy), one concern per module.
 * Names are a contract used by reports and tests.
 */
import { FleetResourcePolicy } from "../../meta";
import { auditPolicies } from "./audit";
import { bucketVersioningWithLockedRetention } from "./bucketVersioningLock";
import { computePolicies } from "./compute";
import { firewallPolicies } from "./firewall";
import { gkePolicies } from "./gke";
import { kmsPolicies } from "./kms";
import { kubernetesNamespacePolicies } from "./kubernetesNamespace";
import { kubernetesPlacementPolicies } from "./kubernetesPlacement";
import { kubernetesWorkloadPolicies } from "./kubernetesWorkload";
import { migPolicies } from "./mig";
import { orgPolicyPolicies } from "./orgPolicy";
import { publicIamPolicies } from "./publicIam";
import { registryPolicies } from "./registry";
import { serviceAccountKeyPolicies } from "./serviceAccountKey";
import { signerServicePolicies } from "./signerService";

export * from "./audit";
export * from "./bucketVersioningLock";
export * from "./compute";
export * from "../../recognisers/credentials";
export * from "./firewall";
export * from "./gke";
export * from "./kms";
export * from "./kubernetesNamespace";
export * from "./kubernetesPlacement";
export * from "./kubernetesWorkload";
export * from "./mig";
export * from "./orgPolicy";
export * from "./publicIam";
export * from "./registry";
export * from "./serviceAccountKey";
export * from "./signerService";
export { PREVIEW_PREFIX } from "../../recognisers/common";

export const resourcePolicies: FleetResourcePolicy[] = [
    ...computePolicies,
    ...migPolicies,
    ...gkePolicies,
    ...kubernetesNamespacePolicies,
    ...kubernetesWorkloadPolicies,
    ...kubernetesPlacementPolicies,
    ...serviceAccountKeyPolicies,
    ...kmsPolicies,
    ...signerServicePolicies,
    ...publicIamPolicies,
    ...firewallPolicies,
    ...auditPolicies,
    ...orgPolicyPolicies,
    bucketVersioningWithLockedRetention,
    ...registryPolicies,
];
