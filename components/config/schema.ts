/**
 * The config keys the validator accepts at each level, and their defaults. The Pulumi.yaml
 * project schema must declare exactly FLEET_CONFIG_KEYS (a test keeps the two in step).
 */

/** Stack config namespace (the Pulumi project name). */
export const CONFIG_NAMESPACE = "hardened-build-fleet";

/** How a top-level key is stored in stack config, which decides how readFleetConfig decodes it. */
export type ConfigKeyKind = "string" | "boolean" | "object" | "array";

/** Top-level keys under `hardened-build-fleet:` and their kinds. */
export const FLEET_CONFIG_SCHEMA = {
    region: "string",
    workerProject: "string",
    signerProject: "string",
    allowSharedSignerProject: "boolean",
    enableApis: "boolean",
    github: "object",
    registrationBrokerUrl: "string",
    pools: "array",
    signer: "object",
    controlPlane: "object",
    perimeter: "object",
    guardrails: "object",
} as const satisfies Record<string, ConfigKeyKind>;

export type FleetConfigKey = keyof typeof FLEET_CONFIG_SCHEMA;
export const FLEET_CONFIG_KEYS = Object.keys(FLEET_CONFIG_SCHEMA) as FleetConfigKey[];

export const GITHUB_KEYS = ["configUrl", "scaleSetSecretName"] as const;
export const CONTROL_PLANE_KEYS = [
    "intakeRetentionDays", "project", "serviceImage", "githubApp", "webhookSecret", "runnerGroupId", "brokerIngress", "cidr",
] as const;
export const GITHUB_APP_KEYS = ["appId", "installationId", "privateKeySecret"] as const;
export const KEY_VERSION_KEYS = ["id", "state", "validFrom", "validUntil", "disabled"] as const;
export const EGRESS_KEYS = ["cidrs", "fqdns"] as const;

/** Pool fields valid for either backend. */
export const POOL_COMMON_KEYS = [
    "name", "backend", "machineType", "minRunners", "maxRunners", "spot", "cidr",
    "egressAllowList", "maxBuildDuration", "image", "containers",
] as const;
/** Pool fields that only make sense for a Compute Engine pool (gke pools are ARC scale sets, targeted by their name). */
export const POOL_GCE_ONLY_KEYS = ["confidentialCompute", "labels", "runnerGroupId"] as const;
/** Pool fields that only make sense for a GKE pool. */
export const POOL_GKE_ONLY_KEYS = ["podCidr", "serviceCidr", "masterCidr", "runnerGroupName"] as const;
export const POOL_KEYS = [...POOL_COMMON_KEYS, ...POOL_GCE_ONLY_KEYS, ...POOL_GKE_ONLY_KEYS] as const;

export const SIGNER_KEYS = [
    "keyAlgorithm", "protectionLevel", "allowSoftwareKeyForDevelopment", "serviceImage", "cidr",
    "verifiers", "provenanceRetentionDays", "keyVersions", "builderId", "lockProvenanceRetention", "auditLogRetentionDays", "lockAuditLog",
    "timestampAuthority", "transparencyLog", "privateTransparencyLog",
] as const;
export const PRIVATE_TRANSPARENCY_LOG_KEYS = ["image", "spannerProcessingUnits", "readers"] as const;
export const TIMESTAMP_AUTHORITY_KEYS = ["image", "certificateChainPem"] as const;
export const TRANSPARENCY_LOG_KEYS = ["url", "publicKeyPem", "apiVersion"] as const;

export const RUNNER_BACKENDS = ["gce", "gke"] as const;

/** Defaults applied by the validator (documented in Pulumi.yaml). */
export const DEFAULTS = {
    scaleSetSecretName: "arc-github-app",
    intakeRetentionDays: 7,
    machineType: "e2-standard-4",
    minRunners: 0,
    maxRunners: 10,
    maxBuildDuration: "3h",
    masterCidr: "172.16.0.0/28",
    keyAlgorithm: "EC_SIGN_P256_SHA256",
    protectionLevel: "HSM",
    provenanceRetentionDays: 365,
    auditLogRetentionDays: 400,
    /** The generator's own subnet when the control plane has a project of its own. */
    controlPlaneCidr: "10.201.0.0/26",
} as const;

/** I2: no build environment may live longer than a day. */
export const MAX_BUILD_DURATION_SECONDS = 24 * 60 * 60;
/** Pool names are prefixes of child resource names, which must fit 63 characters. */
export const MAX_POOL_NAME_LENGTH = 20;
