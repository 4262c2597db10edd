/**
 * The stack-level CrossGuard rules: they see the whole resource graph (one shared index, see
 * graph.ts) and prove the separation invariants that no single resource shows.
 */
import { FleetStackPolicy } from "../../meta";
import { signerEvidenceLocked } from "./evidenceLocked";
import { kmsAuditLogging } from "./kmsAuditLogging";
import { platformIdentityImpersonation, signerInvokedByGeneratorOnly, signerKeyVersionsControlled } from "./platformAccess";
import { perimeterPolicies } from "./perimeter";
import { orgGuardrails } from "./perimeterGuardrails";
import { cloudRunNoPublicInvoker } from "./publicInvoker";
import { poolIntakeSeparation } from "./poolIntakeSeparation";
import { poolNetworkSeparation } from "./poolNetworkSeparation";
import { provenanceByControlPlane } from "./provenanceByControlPlane";
import { registryWritePublishingIdentityOnly } from "./registryWrites";
import { roleLabelsRequired } from "./roleLabelsRequired";
import { runnerEgressDefaultDeny } from "./runnerEgressDefaultDeny";
import { runnerLeastPrivilege } from "./runnerLeastPrivilege";
import { runnerMetadataOverrides } from "./runnerMetadataOverrides";
import { runnerNetworkAttachment } from "./runnerNetworkAttachment";
import { runnerNetworkNoIngress } from "./runnerNetworkNoIngress";
import { runnersCannotReachEnclave } from "./runnersCannotReachEnclave";
import { signerKeyRingDeletionProtected } from "./signerKeyRingProtected";
import { signerServicePinnedImage } from "./signerServiceImage";
import { singleSigner } from "./singleSigner";
import { unclassifiedResourceTypes } from "./unclassifiedTypes";

export {
    kmsAuditLogging,
    poolIntakeSeparation,
    poolNetworkSeparation,
    provenanceByControlPlane,
    registryWritePublishingIdentityOnly,
    roleLabelsRequired,
    platformIdentityImpersonation,
    runnerEgressDefaultDeny,
    runnerLeastPrivilege,
    runnerMetadataOverrides,
    runnerNetworkAttachment,
    runnerNetworkNoIngress,
    runnersCannotReachEnclave,
    signerInvokedByGeneratorOnly,
    signerKeyRingDeletionProtected,
    signerKeyVersionsControlled,
    signerEvidenceLocked,
    signerServicePinnedImage,
    singleSigner,
    unclassifiedResourceTypes,
};
export { fleetGraph, FleetGraph, UNDECIDED } from "../../model";
export { cloudRunNoPublicInvoker, orgGuardrails, perimeterPolicies };
export { perimeterWellFormed, runnerPerimeter, signerPerimeter } from "./perimeter";

export const stackPolicies: FleetStackPolicy[] = [
    singleSigner,
    signerKeyRingDeletionProtected,
    signerKeyVersionsControlled,
    signerInvokedByGeneratorOnly,
    signerServicePinnedImage,
    platformIdentityImpersonation,
    runnerLeastPrivilege,
    runnersCannotReachEnclave,
    poolNetworkSeparation,
    runnerNetworkAttachment,
    runnerNetworkNoIngress,
    runnerMetadataOverrides,
    poolIntakeSeparation,
    provenanceByControlPlane,
    registryWritePublishingIdentityOnly,
    runnerEgressDefaultDeny,
    kmsAuditLogging,
    signerEvidenceLocked,
    roleLabelsRequired,
    unclassifiedResourceTypes,
    ...perimeterPolicies, orgGuardrails, cloudRunNoPublicInvoker,
];
