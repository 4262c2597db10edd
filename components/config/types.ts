/**
 * The normalised fleet config model. Every field is filled in: defaults are applied
 * by the validator, so components never re-derive them.
 */

import type { ConfigIssue } from "./issues";
import type { KeyVersionConfig } from "./keyVersions";
import type { GuardrailsConfig, PerimeterConfig } from "./perimeter";

export type { ConfigIssue } from "./issues";

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
    /**
     * The pool's full runner label set (`runsOn.runnerLabels`): GitHub's defaults, the pool name (the pool label that
     * jobs name in `runs-on`), then the configured extra labels. gke pools: the defaults and the pool name (ARC scale set).
     * Always set by the validator; a hand-built PoolConfig may leave it out (then `runnerLabels(name, [], machineType)`).
     */
    labels?: string[];
    /** gce: GitHub runner group id of the JIT runners; undefined: `controlPlane.runnerGroupId`. */
    runnerGroupId?: number;
    /** gke: GitHub runner group name of the ARC scale set; undefined: ARC's default group. */
    runnerGroupName?: string;
    /** gce only: rootless Docker for the runner user; present only when true. */
    containers?: true;
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
    /** Digest-pinned signer image; undefined: the fleet builds this package's own image and pins its digest. */
    serviceImage?: string;
    cidr: string;
    /** IAM members granted roles/cloudkms.publicKeyViewer. */
    verifiers: string[];
    provenanceRetentionDays: number;
    /** Explicit key versions (rotation); exactly one active. */
    keyVersions: KeyVersionConfig[];
    /** SLSA builder.id (https URI); undefined: `<github.configUrl>/hardened-build-fleet/<fleet name>`. */
    builderId?: string;
    /** Lock the provenance bucket's retention policy (irreversible: no shortening, no bucket deletion before expiry). */
    lockProvenanceRetention: boolean;
    /** Days the locked log bucket in the signer project keeps the Cloud KMS audit logs. */
    auditLogRetentionDays: number;
    /** Lock that log bucket (irreversible: retention cannot be shortened, the bucket cannot be deleted). */
    lockAuditLog: boolean;
    /** The enclave's timestamp authority; undefined: its key only, and the signer signs nothing until it runs. */
    timestampAuthority?: { image: string; certificateChainPem?: string };
    /** A Rekor-compatible log every bundle is written to; undefined: none. */
    transparencyLog?: { url: string; publicKeyPem: string; apiVersion: 1 | 2 };
    /** A log deployed in the enclave (rekor-tiles); undefined: none. */
    privateTransparencyLog?: { image: string; spannerProcessingUnits: number; readers: string[] };
}

/** The control plane (broker, webhook receiver, provenance generator), out of the worker project. */
export interface ControlPlaneConfig {
    intakeRetentionDays: number;
    /** Project of the control plane; defaults to the signer project (separate identities). */
    project: string;
    /** Digest-pinned image of the control-plane services; undefined: built from this package. */
    serviceImage?: string;
    /** The GitHub App the broker registers runners with; its private key is a Secret Manager secret id. */
    githubApp: { appId: number; installationId: number; privateKeySecret: string };
    /** Secret Manager secret id of the `workflow_job` webhook secret. */
    webhookSecret: string;
    /** GitHub runner group the JIT runners join. */
    runnerGroupId: number;
    /** Broker ingress: "all" (IAM-gated to the pool identities) or "internal" (needs a shared VPC-SC perimeter). */
    brokerIngress: "all" | "internal";
    /**
     * Subnet of the generator's own network (Direct VPC egress to the signer), used only when `project` is not the
     * signer project. Default "10.201.0.0/26".
     */
    cidr: string;
}

/** The whole fleet, as read from `hardened-build-fleet:*` stack config. */
export interface FleetConfig {
    region: string;
    workerProject: string;
    signerProject: string;
    allowSharedSignerProject: boolean;
    /** Enable the fleet's Google APIs in its projects and order every resource after its API (default true). */
    enableApis: boolean;
    github: { configUrl: string; scaleSetSecretName: string };
    /** Broker URL override (e.g. a custom domain in front of it); default: the deployed broker's run.app URL. */
    registrationBrokerUrl?: string;
    pools: PoolConfig[];
    signer: SignerConfig;
    controlPlane: ControlPlaneConfig;
    /** VPC Service Controls perimeters; undefined: none created (the pack then asks for one). */
    perimeter?: PerimeterConfig;
    /** Organization-policy guardrails on the fleet's projects. */
    guardrails: GuardrailsConfig;
}


/** The result of validating a raw config: the normalised config only when there are no issues. */
export interface FleetConfigValidation {
    config?: FleetConfig;
    issues: ConfigIssue[];
    warnings: string[];
}
