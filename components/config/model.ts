/**
 * The normalised fleet config model. Every field is filled in: defaults are applied
 * by the validator, so components never re-derive them.
 */

/** Where a pool's runners execute. */
export type RunnerBackend = "gce" | "gke";

/** Destinations a pool may reach besides the restricted Google APIs VIP (I4). */
export interface EgressAllowList {
    /** IPv4 network ranges, e.g. a package mirror. */
    cidrs: string[];
    /** Exact host names (no wildcards: firewall FQDN objects cannot match them); lower-cased. */
    fqdns: string[];
}

/** One runner pool: its own network, identity and intake bucket (I5). */
export interface PoolConfig {
    name: string;
    backend: RunnerBackend;
    machineType: string;
    minRunners: number;
    maxRunners: number;
    spot: boolean;
    cidr: string;
    egressAllowList: EgressAllowList;
    /** Upper bound on one build's environment lifetime (I2), in seconds. */
    maxBuildDurationSeconds: number;
    image: string;
    /** gce only; always false for gke pools. */
    confidentialCompute: boolean;
    /** gke only: secondary range for pods; undefined lets GKE allocate it. */
    podCidr?: string;
    /** gke only: secondary range for services; undefined lets GKE allocate it. */
    serviceCidr?: string;
    /** gke only: private control-plane range (/28); set to the default for gce pools too, unused there. */
    masterCidr: string;
}

/** The signer enclave (I8-I10). */
export interface SignerConfig {
    keyAlgorithm: string;
    protectionLevel: string;
    allowSoftwareKeyForDevelopment: boolean;
    serviceImage: string;
    cidr: string;
    /** IAM members granted roles/cloudkms.publicKeyViewer. */
    verifiers: string[];
    provenanceRetentionDays: number;
}

/** The whole fleet, as read from `hardened-build-fleet:*` stack config. */
export interface FleetConfig {
    region: string;
    workerProject: string;
    signerProject: string;
    allowSharedSignerProject: boolean;
    github: { configUrl: string; scaleSetSecretName: string };
    /** Required when any pool uses the gce backend. */
    registrationBrokerUrl?: string;
    pools: PoolConfig[];
    signer: SignerConfig;
    controlPlane: { intakeRetentionDays: number };
}

/** One problem found in the raw config. */
export interface ConfigIssue {
    /** Field path without the namespace, e.g. `pools[1].cidr`. */
    path: string;
    /** The offending value as given (undefined when the field is missing). */
    value: unknown;
    /** What is wrong, without a trailing period. */
    message: string;
    /** How to fix it, without a trailing period. */
    fix: string;
}

/** The result of validating a raw config: the normalised config only when there are no issues. */
export interface FleetConfigValidation {
    config?: FleetConfig;
    issues: ConfigIssue[];
    warnings: string[];
}
