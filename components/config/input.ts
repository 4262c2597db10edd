/**
 * Typed input interfaces for the fleet config, shaped like stack config: the keys of the
 * `hardened-build-fleet:` namespace, durations as written in YAML ("2h"), optional fields defaulted by
 * the validator. They give completion and compile-time checks to programs that build the config in
 * code; the validator still checks every value (CIDRs, names, overlaps) before anything is registered.
 * `test/components/config/typed.test.ts` keeps these keys in step with the validator's key lists.
 */
import type { GuardrailConstraint } from "./perimeter";

/**
 * A duration as the validator reads it: "90m", "2h", "1h30m", "3600s", or a whole number of seconds.
 * The template types catch a missing unit at compile time; the validator checks the range (0, 24h].
 */
export type DurationInput =
    | number
    | `${number}`
    | `${number}${"h" | "m" | "s"}`
    | `${number}h${number}${"m" | "s"}`
    | `${number}m${number}s`
    | `${number}h${number}m${number}s`;

/** Destinations a pool may reach besides the restricted Google APIs VIP (I4). */
export interface EgressAllowListInput {
    /** IPv4 network ranges, e.g. a package mirror ("203.0.113.0/24"). Default none. */
    cidrs?: string[];
    /** Exact host names, e.g. "github.com" (no wildcards: firewall FQDN objects cannot match them). Default none. */
    fqdns?: string[];
}

/** Pool fields valid for either backend. */
interface PoolInputCommon {
    /** Pool name: lower-case letters, digits and hyphens, at most 20 characters (child names derive from it). Required. */
    name: string;
    /** Machine type of the runner VMs or GKE nodes. Default "e2-standard-4". */
    machineType?: string;
    /** Fewest runners kept warm. Default 0 (scale to zero). */
    minRunners?: number;
    /** Most runners at once. Default 10. */
    maxRunners?: number;
    /** Spot VMs / Spot nodes. Default false. */
    spot?: boolean;
    /** The pool subnet's primary IPv4 range, /29 or larger, disjoint from every other fleet range (I5). Required. */
    cidr: string;
    /** Egress allow-list. Default empty: only Google APIs through the restricted VIP. */
    egressAllowList?: EgressAllowListInput;
    /** Longest life of one build environment (I2), e.g. "2h". Default "3h"; at most "24h". */
    maxBuildDuration?: DurationInput;
    /** Compute image (gce) or runner container image (gke). Required. */
    image: string;
    /**
     * gce only: rootless Docker (pinned, checksum-verified) for the runner user, so jobs can `docker build`
     * and run `container:`/`services:` containers. Default false. On a gke pool it is a config error
     * (gVisor under Pod Security restricted cannot run a rootless engine safely; docs/images.md).
     */
    containers?: boolean;
}

/** A Compute Engine pool: one Shielded VM per job. */
export interface GcePoolInput extends PoolInputCommon {
    /** Compute Engine backend: one Shielded VM per job. Required. */
    backend: "gce";
    /** Confidential VM (AMD SEV; needs an n2d/c2d machine type). Default false. */
    confidentialCompute?: boolean;
    /**
     * Extra runner labels, e.g. ["gpu"]. Every runner also carries `self-hosted`, `linux`, `x64` (or `arm64`) and the pool
     * name; a job targets this pool by naming the pool in `runs-on` (docs/workflow-authors.md). Default none.
     */
    labels?: string[];
    /** GitHub runner group id the JIT runners join (restrict the group to the repositories and workflows that may use the pool). Default `controlPlane.runnerGroupId`. */
    runnerGroupId?: number;
    runnerGroupName?: never;
    podCidr?: never;
    serviceCidr?: never;
    masterCidr?: never;
}

/** A GKE pool: one gVisor pod per job on a private cluster of its own. */
export interface GkePoolInput extends PoolInputCommon {
    /** GKE backend: one gVisor pod per job. Required. */
    backend: "gke";
    /** Secondary range for pods. Default: GKE allocates one. */
    podCidr?: string;
    /** Secondary range for services. Default: GKE allocates one. */
    serviceCidr?: string;
    /** Private control-plane range, an RFC 1918 /28. Default "172.16.0.0/28". */
    masterCidr?: string;
    /** GitHub runner group name the ARC scale set joins (restrict the group to the repositories and workflows that may use the pool). Default ARC's default group. */
    runnerGroupName?: string;
    runnerGroupId?: never;
    confidentialCompute?: never;
    /** ARC scale sets are targeted by their name (`runs-on: <pool>`), not by labels. */
    labels?: never;
}

/** One runner pool as written in stack config (`hardened-build-fleet:pools[i]`). */
export type PoolInput = GcePoolInput | GkePoolInput;

/** The GitHub registration target (`hardened-build-fleet:github`). */
export interface GithubInput {
    /** https URL of the GitHub organization or repository the runners register with (github.com, a GHE.com subdomain or a GitHub Enterprise Server; an enterprise URL is refused: the runners register as a GitHub App). Required. */
    configUrl: string;
    /** Name of the out-of-band Kubernetes Secret holding the GitHub App credentials (gke pools). Default "arc-github-app". */
    scaleSetSecretName?: string;
}

/** The signer enclave (`hardened-build-fleet:signer`, I8-I10). */
export interface SignerInput {
    /** Cloud KMS ASYMMETRIC_SIGN algorithm. Default "EC_SIGN_P256_SHA256". */
    keyAlgorithm?: string;
    /** "HSM" (default); "SOFTWARE" only with allowSoftwareKeyForDevelopment (I8). */
    protectionLevel?: "HSM" | "SOFTWARE";
    /** Allow a SOFTWARE key on a development stack (warns; not SLSA Build L3). Default false. */
    allowSoftwareKeyForDevelopment?: boolean;
    /** Container image of the signer service, pinned by digest (`...@sha256:<64 hex>`). Default: this package's image, built and pinned. */
    serviceImage?: string;
    /** IPv4 range of the enclave's own network, /26 or larger (Cloud Run Direct VPC egress). Required. */
    cidr: string;
    /** IAM members granted roles/cloudkms.publicKeyViewer, e.g. "group:release-verifiers@example.com". Default none. */
    verifiers?: string[];
    /** Days provenance objects are retained (bucket retention policy). Default 365. */
    provenanceRetentionDays?: number;
    /** Explicit key versions (rotation), first = the key's initial version; exactly one active. Default one active initial version. */
    keyVersions?: KeyVersionInput[];
    /** SLSA builder.id, an https URI. Default `<github.configUrl>/hardened-build-fleet/<fleet name>`. */
    builderId?: string;
    /** Lock the provenance bucket's retention policy: IRREVERSIBLE, explicit opt-in (production stacks: the pack requires it). Default false. */
    lockProvenanceRetention?: boolean;
    /** Days the locked log bucket keeps the Cloud KMS audit logs (1-3650). Default 400. */
    auditLogRetentionDays?: number;
    /** Lock the KMS audit log bucket: IRREVERSIBLE, explicit opt-in (production stacks: the pack requires it). Default false. */
    lockAuditLog?: boolean;
    /**
     * The enclave's RFC 3161 timestamp authority (sigstore's timestamp-server). Default unset: the TSA key is created
     * but no TSA runs, and the signer answers 503 to every signing call until one does (every bundle is timestamped).
     */
    timestampAuthority?: TimestampAuthorityInput;
    /** A Rekor-compatible transparency log every bundle is written to (repository names become public on a public log). Default none. */
    transparencyLog?: TransparencyLogInput;
    /** Deploy a private transparency log in the enclave (rekor-tiles, Spanner, a tiles bucket, its own HSM key); exclusive with transparencyLog. Default none. */
    privateTransparencyLog?: PrivateTransparencyLogInput;
}

/** A private transparency log in the enclave (`hardened-build-fleet:signer.privateTransparencyLog`). */
export interface PrivateTransparencyLogInput {
    /** rekor-tiles' GCP server image pinned by digest, `<registry>/<path>@sha256:<64 hex>` (mirror ghcr.io/sigstore/rekor-tiles/gcp). Required. */
    image: string;
    /** Spanner processing units of the sequencer: 100-900 in steps of 100, or multiples of 1000. Default 100. */
    spannerProcessingUnits?: number;
    /** IAM members allowed to read the log's tiles and checkpoints (auditors, monitors). Default none. */
    readers?: string[];
}

/** The enclave's timestamp authority (`hardened-build-fleet:signer.timestampAuthority`). */
export interface TimestampAuthorityInput {
    /** sigstore timestamp-server image pinned by digest, `<registry>/<path>@sha256:<64 hex>` (mirror ghcr.io/sigstore/timestamp-server). Required. */
    image: string;
    /** PEM chain certifying the TSA key, timestamping certificate first, root last (fetch-tsa-certs; docs/attestations.md). Default unset: the TSA service is not deployed yet (bootstrap step 1). */
    certificateChainPem?: string;
}

/** A Rekor-compatible log (`hardened-build-fleet:signer.transparencyLog`). */
export interface TransparencyLogInput {
    /** https base URL: https://rekor.sigstore.dev (public-good) or the fleet's private log. Required. */
    url: string;
    /** The log's PEM public key, ECDSA P-256 or Ed25519 (listed in the trusted root). Required. */
    publicKeyPem: string;
    /** The log's API: 1 (Rekor v1, e.g. rekor.sigstore.dev) or 2 (Rekor v2, rekor-tiles). Default 1. */
    apiVersion?: number;
}

/** VPC Service Controls perimeters around the signer and the workers (`hardened-build-fleet:perimeter`). */
export interface PerimeterInput {
    /** Existing access policy, "accessPolicies/<number>" or the number. Required. */
    accessPolicy: string;
    /** "dryRun" (logs only) or "enforced". Default "dryRun". */
    mode?: "dryRun" | "enforced";
    /** Projects holding runner images (Artifact Registry) the runners may pull from. Default none. */
    imageProjects?: string[];
    /** Project numbers by project id; the rest are looked up. Default none. */
    projectNumbers?: Record<string, string>;
}

/** Organization-policy guardrails on the fleet's projects (`hardened-build-fleet:guardrails`). */
export interface GuardrailsInput {
    /** Create the guardrails. Default true. */
    enabled?: boolean;
    /** Per-constraint switches, e.g. { "compute.requireOsLogin": true }. Default: every guardrail on. */
    constraints?: Partial<Record<GuardrailConstraint, boolean>>;
    /** Customer ids for iam.allowedPolicyMemberDomains. Default: not set. */
    allowedPolicyMemberDomains?: string[];
    /** gcp.resourceLocations values, e.g. "in:europe-west1-locations". Default: not set. */
    resourceLocations?: string[];
}

/** One signer key version (`signer.keyVersions[]`); see the key rotation runbook in docs/runbooks.md. */
export interface KeyVersionInput {
    /** Stable logical id, never reused. Required. */
    id: string;
    /** published (in the keyring, not signing), active (the one signing version) or retired. Required. */
    state: "published" | "active" | "retired";
    /** RFC 3339 instant from which its signatures are valid. Required. */
    validFrom: string;
    /** RFC 3339 instant after which it signs nothing; required once retired. */
    validUntil?: string;
    /** retired only: disable it in KMS (runbook step 3). Default false. */
    disabled?: boolean;
}

/** The GitHub App the broker registers runners with (`controlPlane.githubApp`). */
export interface GithubAppInput {
    /** The App's id. Required. */
    appId: number;
    /** The App installation id of the organization. Required. */
    installationId: number;
    /** Secret Manager secret id of the App's private key, created out of band: "projects/<p>/secrets/<s>". Required. */
    privateKeySecret: string;
}

/** The control plane (`hardened-build-fleet:controlPlane`). */
export interface ControlPlaneInput {
    /** Days after which intake objects are deleted. Default 7. */
    intakeRetentionDays?: number;
    /** Project of the control plane; never the worker project. Default the signer project (separate identities). */
    project?: string;
    /** Image of the control-plane services, pinned by digest. Default: this package's image, built and pinned. */
    serviceImage?: string;
    /** The GitHub App (ids and the Secret Manager id of its private key). Required. */
    githubApp: GithubAppInput;
    /** Secret Manager secret id of the workflow_job webhook secret, created out of band. Required. */
    webhookSecret: string;
    /** GitHub runner group of the JIT runners. Default 1. */
    runnerGroupId?: number;
    /** Broker ingress: "all" (IAM-gated to the pool identities) or "internal" (needs a shared VPC-SC perimeter). Default "all". */
    brokerIngress?: "all" | "internal";
    /** Subnet of the generator's own network (Direct VPC egress to the signer) when `project` is not the signer project; /26 or larger. Default "10.201.0.0/26". */
    cidr?: string;
}

/** The whole fleet config: the keys of the `hardened-build-fleet:` namespace without the prefix. */
export interface FleetConfigInput {
    /** GCP region of every regional resource, e.g. "europe-west1". Required. */
    region: string;
    /** Project of the runner pools (never the control plane's). Required. */
    workerProject: string;
    /** Project of the signer enclave; a project of its own (I10). Required. */
    signerProject: string;
    /** Let the signer share the worker project (development only; warns). Default false. */
    allowSharedSignerProject?: boolean;
    /**
     * Enable the Google APIs the fleet uses in each of its projects (`gcp.projects.Service`, never disabled on
     * destroy) and make every resource depend on its API. Default true; false when the organization enables
     * APIs elsewhere (they must then be on before `pulumi up`: docs/deploy.md lists them).
     */
    enableApis?: boolean;
    /** GitHub registration target. Required. */
    github: GithubInput;
    /** Override of the registration broker's URL (e.g. a custom domain). Default the deployed broker's Cloud Run URL. */
    registrationBrokerUrl?: string;
    /** The runner pools, at least one. Required. */
    pools: PoolInput[];
    /** The signer enclave. Required. */
    signer: SignerInput;
    /** The control plane: GitHub App and webhook secret references (required), project, images. Required. */
    controlPlane: ControlPlaneInput;
    /** VPC Service Controls perimeters. Default: none. */
    perimeter?: PerimeterInput;
    /** Organization-policy guardrails. Default: every guardrail on. */
    guardrails?: GuardrailsInput;
}

declare const RAW_FLEET_CONFIG: unique symbol;

/**
 * Fleet config read from stack config (`readRawFleetConfig()`), not yet checked by the compiler. The brand
 * keeps object literals on the typed `FleetConfigInput` path; the validator checks both alike.
 */
export type RawFleetConfig = Record<string, unknown> & { readonly [RAW_FLEET_CONFIG]: true };

/** What `HardenedBuildFleet` and `validateFleetConfig` accept: typed input, or raw stack config. */
export type FleetConfigSource = FleetConfigInput | RawFleetConfig;

/** Marks an untyped object (e.g. parsed from a stack file) as raw fleet config, to be validated in full. */
export function rawFleetConfig(raw: Record<string, unknown>): RawFleetConfig {
    return raw as RawFleetConfig;
}
