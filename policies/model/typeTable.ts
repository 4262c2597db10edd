/**
 * The classification table's vocabulary and lookups. Fail closed is a property of the whole type
 * universe: every resource type the installed providers export has one reviewed row in
 * typeClasses.ts (a completeness test fails when a provider upgrade adds a type without one), and
 * the model reads its compute kinds and grant types from it. A type with no row (a newer provider,
 * a CRD, a dynamic provider) is unclassified: the pack refuses it where it touches the platform
 * (rules/stack/unclassifiedTypes.ts).
 */
import { TYPE_CLASSES, TypeClass } from "./typeClasses";

export type { TypeClass } from "./typeClasses";

export const TYPE_CLASS_NAMES: readonly TypeClass[] = ["runs", "grants", "network", "logs", "supply", "hostConfig", "secrets", "data", "hierarchy", "inert"];

/** Types the pack itself and the Pulumi engine register: never unclassified. */
const OWN = /^(pulumi:|hardened-build-fleet:)/;

/** The row of a type, or undefined when the table has none (unclassified). */
export function classOf(type: string): TypeClass | undefined {
    const row = TYPE_CLASSES[type];
    if (row !== undefined) {
        return row;
    }
    return OWN.test(type) ? "inert" : undefined;
}

/** Every type with a row of class `cls`. */
export function typesOfClass(cls: TypeClass): string[] {
    return Object.keys(TYPE_CLASSES).filter((t) => TYPE_CLASSES[t] === cls);
}

/**
 * Rows the table classifies as granting, delegating or configuring hosts that no rule of the pack
 * reads yet. They are judged like unclassified types (rules/stack/unclassifiedTypes.ts): refused
 * where they reference the platform (or, for host configuration, runner compute), advised elsewhere.
 * Deny and principal-access-boundary policies only take access away and are not listed.
 */
export const UNREAD_TYPES: ReadonlySet<string> = new Set([
    // Grants and delegations in shapes of their own.
    "gcp:privilegedaccessmanager/entitlement:entitlement", "gcp:privilegedaccessmanager/settings:Settings",
    "gcp:oslogin/sshPublicKey:SshPublicKey",
    "gcp:iam/workforcePool:WorkforcePool", "gcp:iam/workforcePoolProvider:WorkforcePoolProvider", "gcp:iam/workforcePoolProviderKey:WorkforcePoolProviderKey",
    "gcp:iam/workforcePoolProviderScimTenant:WorkforcePoolProviderScimTenant", "gcp:iam/workforcePoolProviderScimToken:WorkforcePoolProviderScimToken",
    "gcp:iam/workloadIdentityPool:WorkloadIdentityPool", "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
    "gcp:iam/workloadIdentityPoolManagedIdentity:WorkloadIdentityPoolManagedIdentity", "gcp:iam/workloadIdentityPoolNamespace:WorkloadIdentityPoolNamespace",
    "gcp:iam/oauthClient:OauthClient", "gcp:iam/oauthClientCredential:OauthClientCredential",
    "gcp:gkehub/membershipRbacRoleBinding:MembershipRbacRoleBinding", "gcp:gkehub/scopeRbacRoleBinding:ScopeRbacRoleBinding",
    // Host configuration: scripts, disks and zonal metadata on VMs.
    "gcp:osconfig/osPolicyAssignment:OsPolicyAssignment", "gcp:osconfig/patchDeployment:PatchDeployment", "gcp:osconfig/guestPolicies:GuestPolicies",
    "gcp:osconfig/v2PolicyOrchestrator:V2PolicyOrchestrator", "gcp:osconfig/v2PolicyOrchestratorForFolder:V2PolicyOrchestratorForFolder",
    "gcp:osconfig/v2PolicyOrchestratorForOrganization:V2PolicyOrchestratorForOrganization",
    "gcp:compute/attachedDisk:AttachedDisk", "gcp:compute/instanceSettings:InstanceSettings",
    // GitOps sources of clusters (Config Sync).
    "gcp:gkehub/feature:Feature", "gcp:gkehub/featureMembership:FeatureMembership",
]);
