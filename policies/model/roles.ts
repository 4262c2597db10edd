/**
 * What an IAM role lets its holder do, for the few capabilities the stack rules reason about.
 *
 * Predefined roles are listed from the Cloud IAM role reference (cloudkms, iam, storage,
 * resourcemanager pages); custom roles are judged by their `permissions`. Basic roles count where
 * they carry the capability or can grant it to themselves (owner: setIamPolicy everywhere).
 */

/** A capability the stack rules care about. */
export type Capability =
    /** cloudkms.cryptoKeyVersions.useToSign (I9). */
    | "sign"
    /** Can change who may sign: setIamPolicy on the key, key ring, project, folder or org (I9). */
    | "grantSign"
    /** Can act as a service account: access/ID tokens, signBlob/signJwt, actAs, keys, or change its IAM. */
    | "impersonate"
    /** Can create, overwrite or delete objects in a bucket, or change the bucket's IAM (I11). */
    | "storageWrite"
    /** Can call a Cloud Run service (run.routes.invoke) or change who can (any setIamPolicy) (I10). */
    | "invokeOrAdmin"
    /** Can add or import key versions (cryptoKeyVersions.create, import jobs) (I9). */
    | "keyVersions"
    /** Can push to, retag or delete from an Artifact Registry repository, or change who can (I11). */
    | "registryWrite";

export const SIGN_PERMISSION = "cloudkms.cryptoKeyVersions.useToSign";

const PERMISSIONS: Record<Capability, readonly string[]> = {
    sign: [SIGN_PERMISSION],
    grantSign: [
        "cloudkms.cryptoKeys.setIamPolicy",
        "cloudkms.keyRings.setIamPolicy",
        "resourcemanager.projects.setIamPolicy",
        "resourcemanager.folders.setIamPolicy",
        "resourcemanager.organizations.setIamPolicy",
    ],
    impersonate: [
        "iam.serviceAccounts.getAccessToken",
        "iam.serviceAccounts.getOpenIdToken",
        "iam.serviceAccounts.signBlob",
        "iam.serviceAccounts.signJwt",
        "iam.serviceAccounts.implicitDelegation",
        "iam.serviceAccounts.actAs",
        "iam.serviceAccounts.setIamPolicy",
        "iam.serviceAccountKeys.create",
    ],
    storageWrite: [
        "storage.objects.create",
        "storage.objects.delete",
        "storage.objects.update",
        "storage.buckets.setIamPolicy",
        "storage.objects.setIamPolicy",
    ],
    invokeOrAdmin: ["run.routes.invoke", "run.services.setIamPolicy", "resourcemanager.projects.setIamPolicy",
        "resourcemanager.folders.setIamPolicy", "resourcemanager.organizations.setIamPolicy"],
    keyVersions: ["cloudkms.cryptoKeyVersions.create", "cloudkms.importJobs.create", "cloudkms.importJobs.useToImport",
        "cloudkms.cryptoKeys.update", "cloudkms.cryptoKeys.setIamPolicy", "cloudkms.keyRings.setIamPolicy",
        "resourcemanager.projects.setIamPolicy", "resourcemanager.folders.setIamPolicy", "resourcemanager.organizations.setIamPolicy"],
    registryWrite: ["artifactregistry.repositories.uploadArtifacts", "artifactregistry.tags.create", "artifactregistry.tags.update",
        "artifactregistry.tags.delete", "artifactregistry.versions.delete", "artifactregistry.repositories.deleteArtifacts",
        "artifactregistry.repositories.update", "artifactregistry.repositories.setIamPolicy",
        "resourcemanager.projects.setIamPolicy", "resourcemanager.folders.setIamPolicy", "resourcemanager.organizations.setIamPolicy"],
};

const BASIC_ALL = ["roles/owner"];

/** Predefined roles granting each capability. */
const PREDEFINED: Record<Capability, readonly string[]> = {
    // Basic roles hold no Cloud KMS crypto operations (Editor cannot encrypt, decrypt or sign);
    // Owner can grant itself any role, which grantSign covers.
    sign: [
        "roles/cloudkms.signer",
        "roles/cloudkms.signerVerifier",
        "roles/cloudkms.cryptoOperator",
    ],
    grantSign: [
        ...BASIC_ALL,
        "roles/cloudkms.admin",
        "roles/iam.securityAdmin",
        "roles/resourcemanager.projectIamAdmin",
        "roles/resourcemanager.folderAdmin",
        "roles/resourcemanager.folderIamAdmin",
        "roles/resourcemanager.organizationAdmin",
    ],
    impersonate: [
        ...BASIC_ALL,
        "roles/editor",
        "roles/iam.serviceAccountTokenCreator",
        "roles/iam.serviceAccountOpenIdTokenCreator",
        "roles/iam.serviceAccountUser",
        "roles/iam.workloadIdentityUser",
        "roles/iam.serviceAccountKeyAdmin",
        "roles/iam.serviceAccountAdmin",
        "roles/iam.securityAdmin",
    ],
    storageWrite: [
        ...BASIC_ALL,
        "roles/editor",
        "roles/storage.admin",
        "roles/storage.objectAdmin",
        "roles/storage.objectCreator",
        "roles/storage.objectUser",
        "roles/storage.legacyBucketWriter",
        "roles/storage.legacyBucketOwner",
        "roles/storage.legacyObjectOwner",
    ],
    invokeOrAdmin: [
        ...BASIC_ALL,
        "roles/editor",
        "roles/run.invoker",
        "roles/run.servicesInvoker",
        "roles/run.developer",
        "roles/run.sourceDeveloper",
        "roles/run.admin",
        "roles/iam.securityAdmin",
        "roles/resourcemanager.projectIamAdmin",
        "roles/resourcemanager.folderAdmin",
        "roles/resourcemanager.folderIamAdmin",
        "roles/resourcemanager.organizationAdmin",
    ],
    keyVersions: [
        ...BASIC_ALL,
        "roles/editor",
        "roles/cloudkms.admin",
        "roles/cloudkms.importer",
        "roles/iam.securityAdmin",
        "roles/resourcemanager.projectIamAdmin",
        "roles/resourcemanager.folderAdmin",
        "roles/resourcemanager.folderIamAdmin",
        "roles/resourcemanager.organizationAdmin",
    ],
    registryWrite: [
        ...BASIC_ALL,
        "roles/editor",
        "roles/artifactregistry.writer",
        "roles/artifactregistry.repoAdmin",
        "roles/artifactregistry.admin",
        "roles/artifactregistry.createOnPushWriter",
        "roles/artifactregistry.createOnPushRepoAdmin",
        "roles/iam.securityAdmin",
        "roles/resourcemanager.projectIamAdmin",
        "roles/resourcemanager.folderAdmin",
        "roles/resourcemanager.folderIamAdmin",
        "roles/resourcemanager.organizationAdmin",
    ],
};

const PREDEFINED_SETS: Record<Capability, ReadonlySet<string>> = {
    sign: new Set(PREDEFINED.sign),
    grantSign: new Set(PREDEFINED.grantSign),
    impersonate: new Set(PREDEFINED.impersonate),
    storageWrite: new Set(PREDEFINED.storageWrite),
    invokeOrAdmin: new Set(PREDEFINED.invokeOrAdmin),
    keyVersions: new Set(PREDEFINED.keyVersions),
    registryWrite: new Set(PREDEFINED.registryWrite),
};

/** True when a predefined (`roles/...`) role grants `cap`. */
export function predefinedHas(role: string, cap: Capability): boolean {
    // Fail closed on Cloud Run roles this list does not know yet: only the viewer cannot invoke.
    if (cap === "invokeOrAdmin" && role.startsWith("roles/run.") && role !== "roles/run.viewer") {
        return true;
    }
    return PREDEFINED_SETS[cap].has(role);
}

/** True when a custom role's permission list grants `cap`. */
export function permissionsHave(permissions: readonly unknown[], cap: Capability): boolean {
    const wanted = PERMISSIONS[cap];
    // Whoever can set any IAM policy can grant itself invoke.
    return permissions.some((p) => typeof p === "string" && (wanted.includes(p) || (cap === "invokeOrAdmin" && p.endsWith(".setIamPolicy"))));
}

/**
 * Roles that can edit custom roles (`iam.roles.update`): whoever holds one where a custom role is
 * defined decides that role's future permissions, and so what every member bound to it can do.
 */
const ROLE_EDITORS = new Set(["roles/owner", "roles/iam.roleAdmin", "roles/iam.organizationRoleAdmin"]);
export const ROLE_UPDATE_PERMISSION = "iam.roles.update";

/** True when a predefined role, or a custom role's permission list, can edit custom roles. */
export function editsRoles(role: string, permissions?: readonly unknown[]): boolean {
    return permissions !== undefined ? permissions.includes(ROLE_UPDATE_PERMISSION) : ROLE_EDITORS.has(role);
}

/** The parent of a custom role name (`projects/p`, `organizations/o`), or undefined. */
export function customRoleParent(role: string): string | undefined {
    const m = /^((projects|organizations)\/[^/]+)\/roles\/[^/]+$/.exec(role);
    return m ? m[1] : undefined;
}

/** True for role names of custom roles (`projects/<p>/roles/<id>`, `organizations/<o>/roles/<id>`). */
export function isCustomRoleName(role: string): boolean {
    return /^(projects|organizations)\/[^/]+\/roles\/[^/]+$/.test(role);
}

/** Roles a runner may hold on its own intake bucket (I11): create objects, nothing else. */
export const INTAKE_RUNNER_ROLE = "roles/storage.objectCreator";
