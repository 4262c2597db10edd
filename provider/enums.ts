/**
 * String enums of the provider schema, written as `as const` objects: the form the component analyzer
 * turns into schema enums (a plain string-literal union is rejected as a union).
 */

/** Where a pool's runners execute. */
export const RunnerBackend = {
    /** Compute Engine: one Shielded VM per job, from a managed instance group. */
    Gce: "gce",
    /** GKE: one gVisor pod per job, on a private cluster of the pool's own. */
    Gke: "gke",
} as const;
export type RunnerBackend = (typeof RunnerBackend)[keyof typeof RunnerBackend];

/** Isolation zone of a network (the `build-fleet-role` label). */
export const FleetRole = {
    /** Untrusted: tenant builds run here. */
    Runner: "runner",
    /** The signer enclave: the HSM key and the signer service. */
    Signer: "signer",
    /** Trusted platform services: registration broker, webhook receiver, provenance generator. */
    ControlPlane: "control-plane",
} as const;
export type FleetRole = (typeof FleetRole)[keyof typeof FleetRole];

/** Protection level of the signing key. */
export const ProtectionLevel = {
    /** Cloud HSM (I8): the only level that meets SLSA Build L3. */
    Hsm: "HSM",
    /** Software key: development stacks only, with allowSoftwareKeyForDevelopment. */
    Software: "SOFTWARE",
} as const;
export type ProtectionLevel = (typeof ProtectionLevel)[keyof typeof ProtectionLevel];

/** Rollout mode of the VPC Service Controls perimeters. */
export const PerimeterMode = {
    /** Explicit dry-run spec only: violations are logged, nothing is blocked. */
    DryRun: "dryRun",
    /** The perimeters block. */
    Enforced: "enforced",
} as const;
export type PerimeterMode = (typeof PerimeterMode)[keyof typeof PerimeterMode];

/** GKE release channel of a pool's cluster. */
export const ReleaseChannel = {
    /** Newest GKE versions first. */
    Rapid: "RAPID",
    /** The default balance of new features and stability. */
    Regular: "REGULAR",
    /** Versions that have run longest on the other channels. */
    Stable: "STABLE",
} as const;
export type ReleaseChannel = (typeof ReleaseChannel)[keyof typeof ReleaseChannel];

/** How Pulumi reaches a GKE pool's private control plane. */
export const ApiEndpoint = {
    /** The IAM-gated DNS endpoint: no public IP endpoint, no network path into the pool's VPC. */
    Dns: "dns",
    /** The private IP endpoint: Pulumi must run inside the pool's VPC. */
    PrivateIp: "private-ip",
} as const;
export type ApiEndpoint = (typeof ApiEndpoint)[keyof typeof ApiEndpoint];

/** State of a signer key version (rotation). */
export const KeyVersionState = {
    /** Announced in the keyring ahead of use; does not sign. */
    Published: "published",
    /** The one version the signer signs with. */
    Active: "active",
    /** Still published so old envelopes verify; never signs again. */
    Retired: "retired",
} as const;
export type KeyVersionState = (typeof KeyVersionState)[keyof typeof KeyVersionState];

/** Ingress of the registration broker. */
export const BrokerIngress = {
    /** Reachable from the runners' networks through the restricted VIP; invocable by the pools' runner identities only. */
    All: "all",
    /** Internal only: needs the worker and control-plane projects in one VPC Service Controls perimeter. */
    Internal: "internal",
} as const;
export type BrokerIngress = (typeof BrokerIngress)[keyof typeof BrokerIngress];

/** The value OrgGuardrails pins `run.allowedIngress` to. */
export const RunIngress = {
    /** Only traffic from inside the project's VPC networks, VPC-SC perimeters and Google services (the signer project). */
    Internal: "internal",
    /** As internal, plus Google Cloud load balancers. */
    InternalAndCloudLoadBalancing: "internal-and-cloud-load-balancing",
} as const;
export type RunIngress = (typeof RunIngress)[keyof typeof RunIngress];
