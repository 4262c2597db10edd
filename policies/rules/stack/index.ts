/**
 * The stack-level CrossGuard rules: they see the whole resource graph (one shared index, see
 * graph.ts) and prove the separation invariants that no single resource shows.
 */
import { FleetStackPolicy } from "../meta";
import { kmsAuditLogging } from "./kmsAuditLogging";
import { platformIdentityImpersonation, signerInvokedByGeneratorOnly, signerKeyVersionsControlled } from "./platformAccess";
import { poolIntakeSeparation } from "./poolIntakeSeparation";
import { poolNetworkSeparation } from "./poolNetworkSeparation";
import { provenanceByControlPlane } from "./provenanceByControlPlane";
import { roleLabelsRequired } from "./roleLabelsRequired";
import { runnerEgressDefaultDeny } from "./runnerEgressDefaultDeny";
import { runnerLeastPrivilege } from "./runnerLeastPrivilege";
import { runnerMetadataOverrides } from "./runnerMetadataOverrides";
import { runnerNetworkAttachment } from "./runnerNetworkAttachment";
import { runnerNetworkNoIngress } from "./runnerNetworkNoIngress";
import { runnersCannotReachEnclave } from "./runnersCannotReachEnclave";
import { signerKeyRingDeletionProtected } from "./signerKeyRingProtected";
import { singleSigner } from "./singleSigner";

export {
    kmsAuditLogging,
    poolIntakeSeparation,
    poolNetworkSeparation,
    provenanceByControlPlane,
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
    singleSigner,
};
export { fleetGraph, FleetGraph, UNDECIDED } from "./model";

export const stackPolicies: FleetStackPolicy[] = [
    singleSigner,
    signerKeyRingDeletionProtected,
    signerKeyVersionsControlled,
    signerInvokedByGeneratorOnly,
    platformIdentityImpersonation,
    runnerLeastPrivilege,
    runnersCannotReachEnclave,
    poolNetworkSeparation,
    runnerNetworkAttachment,
    runnerNetworkNoIngress,
    runnerMetadataOverrides,
    poolIntakeSeparation,
    provenanceByControlPlane,
    runnerEgressDefaultDeny,
    kmsAuditLogging,
    roleLabelsRequired,
];
