/**
 * Schema-friendly input types of the provider facade: plain interfaces, `Input<T>` only where the component
 * accepts an Output, string enums as `as const` objects, no unions. They mirror the TypeScript API
 * (components/config/input.ts, the component Args); the facade converts them and the components validate
 * them exactly as they validate TypeScript callers.
 */
import * as pulumi from "@pulumi/pulumi";
import { ApiEndpoint, BrokerIngress, KeyVersionState, PerimeterMode, ProtectionLevel, ReleaseChannel, RunnerBackend } from "./enums";

/** Destinations a pool may reach besides the restricted Google APIs VIP (I4). */
export interface EgressAllowList {
    /** IPv4 network ranges, e.g. a package mirror ("203.0.113.0/24"). Default none. */
    cidrs?: string[];
    /** Exact host names, e.g. "github.com" (no wildcards: firewall FQDN objects cannot match them). Default none. */
    fqdns?: string[];
}

/** One runner pool, as written in stack config (`hardened-build-fleet:pools[i]`). */
export interface Pool {
    /** Pool name: lower-case letters, digits and hyphens, at most 20 characters (child names derive from it). Required. */
    name: string;
    /** Where the runners execute: "gce" (one VM per job) or "gke" (one gVisor pod per job). Required. */
    backend: RunnerBackend;
    /** Machine type of the runner VMs or GKE nodes. Default "e2-standard-4". */
    machineType?: string;
    /** Fewest runners kept warm. Default 0 (scale to zero). */
    minRunners?: number;
    /** Most runners at once. Default 10. */
    maxRunners?: number;
    /** Spot VMs or Spot nodes. Default false. */
    spot?: boolean;
    /** Primary IPv4 range of the pool subnet, /29 or larger, disjoint from every other fleet range (I5). Required. */
    cidr: string;
    /** Egress allow-list. Default empty: only Google APIs through the restricted VIP. */
    egressAllowList?: EgressAllowList;
    /** Longest life of one build environment (I2): "90m", "2h", "1h30m" or "3600s". Default "3h"; at most "24h". */
    maxBuildDuration?: string;
    /** Compute image (gce) or runner container image (gke). Required. */
    image: string;
    /** gce only: rootless Docker for the runner user (docker build, container: and services: jobs). Default false; an error on gke pools. */
    containers?: boolean;
    /** gce only: Confidential VM (AMD SEV; needs an n2d/c2d machine type). Default false. */
    confidentialCompute?: boolean;
    /** gce only: extra runner labels, e.g. ["gpu"]; every runner also carries self-hosted, linux, x64 (or arm64) and the pool name. Default none. */
    labels?: string[];
    /** gce only: GitHub runner group id of the JIT runners. Default controlPlane.runnerGroupId. */
    runnerGroupId?: number;
    /** gke only: GitHub runner group name of the ARC scale set. Default ARC's default group. */
    runnerGroupName?: string;
    /** gke only: secondary range for pods. Default: GKE allocates one. */
    podCidr?: string;
    /** gke only: secondary range for services. Default: GKE allocates one. */
    serviceCidr?: string;
    /** gke only: private control-plane range, an RFC 1918 /28. Default "172.16.0.0/28". */
    masterCidr?: string;
}

/** The GitHub registration target of the fleet. */
export interface Github {
    /** https URL of the GitHub organization or repository the runners register with (github.com, a GHE.com subdomain or a GitHub Enterprise Server; an enterprise URL is refused: the runners register as a GitHub App). Required. */
    configUrl: string;
    /** Name of the out-of-band Kubernetes Secret holding the GitHub App credentials (gke pools). Default "arc-github-app". */
    scaleSetSecretName?: string;
}

/** The signer enclave of the fleet (I8-I10). */
export interface Signer {
    /** Cloud KMS ASYMMETRIC_SIGN algorithm. Default "EC_SIGN_P256_SHA256". */
    keyAlgorithm?: string;
    /** "HSM" (default); "SOFTWARE" only with allowSoftwareKeyForDevelopment (I8). */
    protectionLevel?: ProtectionLevel;
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
    keyVersions?: KeyVersion[];
    /** SLSA builder.id, an https URI. Default `<github.configUrl>/hardened-build-fleet/<fleet name>`. */
    builderId?: string;
    /** Lock the provenance bucket's retention policy: IRREVERSIBLE, explicit opt-in (production stacks: the pack requires it). Default false. */
    lockProvenanceRetention?: boolean;
    /** Days the locked log bucket keeps the Cloud KMS audit logs (1-3650). Default 400. */
    auditLogRetentionDays?: number;
    /** Lock the KMS audit log bucket: IRREVERSIBLE, explicit opt-in (production stacks: the pack requires it). Default false. */
    lockAuditLog?: boolean;
    /** The enclave's RFC 3161 timestamp authority (sigstore's timestamp-server). Default unset: the TSA key is created but no TSA runs, and the signer answers 503 to every signing call until one does (every bundle is timestamped). */
    timestampAuthority?: SignerTimestampAuthority;
    /** A Rekor-compatible transparency log every bundle is written to (repository names become public on a public log). Default none. */
    transparencyLog?: SignerTransparencyLog;
    /** Deploy a private transparency log in the enclave (rekor-tiles, Spanner, a tiles bucket, its own HSM key); exclusive with transparencyLog. Default none. */
    privateTransparencyLog?: SignerPrivateTransparencyLog;
}

/** A private transparency log the fleet deploys in its enclave (sigstore rekor-tiles). */
export interface SignerPrivateTransparencyLog {
    /** rekor-tiles' GCP server image pinned by digest, `<registry>/<path>@sha256:<64 hex>` (mirror ghcr.io/sigstore/rekor-tiles/gcp). Required. */
    image: string;
    /** Spanner processing units of the sequencer: 100-900 in steps of 100, or multiples of 1000. Default 100. */
    spannerProcessingUnits?: number;
    /** IAM members allowed to read the log's tiles and checkpoints (auditors, monitors). Default none. */
    readers?: string[];
}

/** The fleet signer's timestamp authority (sigstore timestamp-server). */
export interface SignerTimestampAuthority {
    /** sigstore timestamp-server image pinned by digest, `<registry>/<path>@sha256:<64 hex>` (mirror ghcr.io/sigstore/timestamp-server). Required. */
    image: string;
    /** PEM chain certifying the TSA key, timestamping certificate first, root last (fetch-tsa-certs; docs/attestations.md). Default unset: the TSA service is not deployed yet (bootstrap step 1). */
    certificateChainPem?: string;
}

/** A Rekor-compatible log the fleet signer writes every bundle to. */
export interface SignerTransparencyLog {
    /** https base URL: https://rekor.sigstore.dev (public-good) or the fleet's private log. Required. */
    url: string;
    /** The log's PEM public key, ECDSA P-256 or Ed25519 (listed in the trusted root). Required. */
    publicKeyPem: string;
    /** The log's API: 1 (Rekor v1, e.g. rekor.sigstore.dev) or 2 (Rekor v2, rekor-tiles). Default 1. */
    apiVersion?: number;
}

/** VPC Service Controls perimeters around the signer and the workers. */
export interface Perimeter {
    /** Existing access policy, "accessPolicies/<number>" or the number. Required. */
    accessPolicy: string;
    /** Dry run (logs only) or enforced. Default dryRun. */
    mode?: PerimeterMode;
    /** Projects holding runner images (Artifact Registry) the runners may pull from. Default none. */
    imageProjects?: string[];
    /** Project numbers by project id; the rest are looked up. Default none. */
    projectNumbers?: { [projectId: string]: string };
}

/** Organization-policy guardrails on the fleet's projects. */
export interface Guardrails {
    /** Create the guardrails. Default true. */
    enabled?: boolean;
    /** Per-constraint switches, e.g. { "compute.requireOsLogin": true }. Default: every guardrail on. */
    constraints?: { [constraint: string]: boolean };
    /** Customer ids for iam.allowedPolicyMemberDomains. Default: not set. */
    allowedPolicyMemberDomains?: string[];
    /** gcp.resourceLocations values, e.g. "in:europe-west1-locations". Default: not set. */
    resourceLocations?: string[];
}

/** One signer key version; see the key rotation runbook in docs/runbooks.md. */
export interface KeyVersion {
    /** Stable logical id, never reused. Required. */
    id: string;
    /** published (in the keyring, not signing), active (the one signing version) or retired. Required. */
    state: KeyVersionState;
    /** RFC 3339 instant from which its signatures are valid. Required. */
    validFrom: string;
    /** RFC 3339 instant after which it signs nothing; required once retired. */
    validUntil?: string;
    /** retired only: disable it in KMS. Default false. */
    disabled?: boolean;
}

/** The enclave's RFC 3161 timestamp authority (sigstore timestamp-authority). */
export interface TimestampAuthority {
    /** timestamp-server image pinned by digest (`<registry>/<path>@sha256:<64 hex>`). Required. */
    image: pulumi.Input<string>;
    /** PEM chain certifying the TSA key (from fetch-tsa-certs); until set, the TSA service is not deployed. */
    certificateChainPem?: pulumi.Input<string>;
}

/** A Rekor-compatible transparency log the signer writes every bundle to. */
export interface TransparencyLog {
    /** The log's https base URL. Required. */
    url: string;
    /** The log's PEM public key. Required. */
    publicKeyPem: pulumi.Input<string>;
    /** The log's API: 1 (Rekor v1) or 2 (Rekor v2, rekor-tiles). Default 1. */
    apiVersion?: number;
}

/** A private transparency log deployed in the enclave (sigstore rekor-tiles). */
export interface PrivateTransparencyLog {
    /** rekor-tiles' GCP server image pinned by digest (`<registry>/<path>@sha256:<64 hex>`). Required. */
    image: pulumi.Input<string>;
    /** Spanner processing units of the sequencer. Default 100. */
    spannerProcessingUnits?: number;
    /** IAM members allowed to read the log's tiles and checkpoints. Default none. */
    readers?: pulumi.Input<string>[];
}

/** The GitHub App the broker (and the webhook receiver's reconcile) use. */
export interface GithubApp {
    /** The App's id. Required. */
    appId: number;
    /** The App installation id of the organization. Required. */
    installationId: number;
    /** Secret Manager secret id of the App's private key, created out of band ("projects/<p>/secrets/<s>"). Required. */
    privateKeySecret: string;
}

/** Control-plane settings of the fleet. */
export interface ControlPlaneSettings {
    /** Days after which intake objects are deleted. Default 7. */
    intakeRetentionDays?: number;
    /** Project of the control plane; never the worker project. Default the signer project (separate identities). */
    project?: string;
    /** Image of the control-plane services, pinned by digest. Default: this package's image, built and pinned. */
    serviceImage?: string;
    /** The GitHub App (ids and the Secret Manager id of its private key). Required. */
    githubApp: GithubApp;
    /** Secret Manager secret id of the workflow_job webhook secret, created out of band. Required. */
    webhookSecret: string;
    /** GitHub runner group of the JIT runners. Default 1. */
    runnerGroupId?: number;
    /** Broker ingress: "all" (IAM-gated to the pool identities) or "internal" (needs a shared VPC-SC perimeter). Default "all". */
    brokerIngress?: BrokerIngress;
    /** Subnet of the generator's own network (Direct VPC egress to the signer) when `project` is not the signer project; /26 or larger. Default "10.201.0.0/26". */
    cidr?: string;
}

/** The whole fleet config: the keys of the `hardened-build-fleet:` stack-config namespace without the prefix. */
export interface FleetConfig {
    /** GCP region of every regional resource, e.g. "europe-west1". Required. */
    region: string;
    /** Project of the runner pools (never the control plane's). Required. */
    workerProject: string;
    /** Project of the signer enclave; a project of its own (I10). Required. */
    signerProject: string;
    /** Let the signer share the worker project (development only; warns). Default false. */
    allowSharedSignerProject?: boolean;
    /** Enable the Google APIs the fleet uses in each of its projects (`gcp.projects.Service`, never disabled on destroy) and make every resource depend on its API. Default true; false when the organization enables APIs elsewhere (they must then be on before `pulumi up`: docs/deploy.md lists them). */
    enableApis?: boolean;
    /** GitHub registration target. Required. */
    github: Github;
    /** Override of the registration broker's URL (e.g. a custom domain). Default the deployed broker's Cloud Run URL. */
    registrationBrokerUrl?: string;
    /** The runner pools, at least one. Required. */
    pools: Pool[];
    /** The signer enclave. Required. */
    signer: Signer;
    /** The control plane: GitHub App and webhook secret references (required), project, images. Required. */
    controlPlane: ControlPlaneSettings;
    /** VPC Service Controls perimeters. Default: none. */
    perimeter?: Perimeter;
    /** Organization-policy guardrails. Default: every guardrail on. */
    guardrails?: Guardrails;
}

/** Tunables of the GCE backend. */
export interface GceOptions {
    /** Boot disk size in GB. Default 50. */
    bootDiskSizeGb?: number;
    /** Boot disk type. Default "pd-balanced". */
    bootDiskType?: string;
    /** Directory of the pre-installed runner in the pool image. Default "/opt/actions-runner". */
    runnerDir?: string;
    /** Unprivileged user the runner runs as. Default "runner". */
    runnerUser?: string;
    /** Path on the registration broker that issues JIT configs. Default "/v1/jit-config". */
    brokerPath?: string;
    /** Cloud Monitoring metric (GAUGE, resource type `global`, label `pool`) that the control plane writes with the pool's runner demand: queued plus running jobs. The autoscaler keeps one VM per unit. Default "custom.googleapis.com/hardened_build_fleet/runner_demand" (what the webhook receiver writes). */
    demandMetric?: string;
    /** Autoscaler cool-down (VM boot plus registration) in seconds. Default 120. */
    cooldownPeriodSeconds?: number;
}

/** Per-runner compute budget of a GKE pool. */
export interface RunnerResources {
    /** CPU in millicores. */
    cpuMillicores: number;
    /** Memory in MiB. */
    memoryMiB: number;
    /** Ephemeral storage (writable layer plus emptyDirs) in GiB. */
    ephemeralStorageGiB: number;
}

/** Tunables of the GKE backend. */
export interface GkeOptions {
    /** ARC chart version, exact. Default DEFAULT_ARC_CHART_VERSION ("0.12.1"). */
    chartVersion?: string;
    /** Namespace of the runner pods and the scale set. Default `runners-${pool.name}`. */
    runnerNamespace?: string;
    /** Namespace of the ARC controller and listener. Default "arc-system". */
    controllerNamespace?: string;
    /** Install the ARC controller chart in the cluster. Default true (the scale set needs it). */
    installController?: boolean;
    /** GKE release channel. Default "REGULAR". */
    releaseChannel?: ReleaseChannel;
    /** GKE deletion protection. Default true: destroying a pool's cluster takes a deliberate update first. */
    deletionProtection?: boolean;
    /** How Pulumi reaches the private control plane. "dns" (default): the IAM-gated DNS endpoint, reachable without any public IP endpoint or network path into the pool's VPC. "private-ip": the private IP endpoint (Pulumi must then run inside the pool's VPC). */
    apiEndpoint?: ApiEndpoint;
    /** Machine type of the small system node pool (kube-dns, ARC controller and listener). Default "e2-standard-2". */
    systemMachineType?: string;
    /** Per-runner compute budget. Default 2 CPU, 4096 MiB, 20 GiB ephemeral storage. */
    runnerResources?: RunnerResources;
    /** Read-only root filesystem for runner containers. Default false (see runnerPodTemplate.ts). */
    readOnlyRootFilesystem?: boolean;
    /** GitHub runner scale set name (the `runs-on` label). Default the pool name. */
    scaleSetName?: string;
}

/** Alert thresholds of FleetMonitoring (components/monitoring/alerts.ts); each defaults to DEFAULT_ALERT_THRESHOLDS. */
export interface AlertThresholds {
    /** Oldest deferred upload (generator backlog) in seconds before alerting. Default 3600. */
    backlogAgeSeconds?: number;
    /** Share of 5xx answers of any one service, over 5 minutes. Default 0.05. */
    errorRatio?: number;
    /** Share of the fleet's GitHub budget still unused below which to alert. Default 0.2. */
    githubHeadroom?: number;
    /** Signatures per completed job above which the signature rate is a signing-oracle symptom. Default 10. */
    signaturesPerJob?: number;
    /** Age of a pool's oldest queued job, in seconds, above which no VM is taking it. Default 900. */
    queueAgeSeconds?: number;
    /** Seconds without a demand point for a pool. Default 600. */
    demandSilenceSeconds?: number;
    /** Minutes a gce pool's MIG may stay larger than its demand before scale-in counts as stuck. Default 30. */
    scaleInStuckMinutes?: number;
}

/** The fleet's dashboard and alert policies. */
export interface MonitoringOptions {
    /** Create the dashboard, the alert policies and the metrics scope. Default true. */
    enabled?: boolean;
    /** Notification channel ids (`projects/<p>/notificationChannels/<n>`) every alert notifies. Default none (console only). */
    notificationChannels?: pulumi.Input<string>[];
    /** Alert thresholds; each field defaults to FleetMonitoring's. */
    thresholds?: AlertThresholds;
}

/** GitHub registration of a single RunnerPool. */
export interface PoolGithub {
    /** https URL of the GitHub organization, repository or enterprise (gke pools). Required for gke pools. */
    configUrl: pulumi.Input<string>;
    /** Name of the Kubernetes Secret holding the GitHub App credentials. Default "arc-github-app". */
    scaleSetSecretName?: pulumi.Input<string>;
}

/** One pool served by a ControlPlane. */
export interface ControlPlanePool {
    /** Pool name: bucket label and child-name suffix. Required. */
    name: string;
    /** "gce" pools register through the broker; "gke" pools (ARC) only get their intake bucket. Default "gce". */
    backend?: RunnerBackend;
    /** IAM member of the pool's runner identity, e.g. a RunnerPool's serviceAccountMember. Required. */
    runnerMember: pulumi.Input<string>;
    /** The runner SA's email as a literal, for the services' pool lists. Default: derived from runnerMember. */
    serviceAccountEmail?: string;
    /** gce: name of the pool's regional managed instance group. Required for gce pools. */
    instanceGroupManager?: pulumi.Input<string>;
    /** gce: base name of the pool's runner VMs. Default `<name>-runner`. */
    baseInstanceName?: string;
    /** gce: the full runner label set; contains the pool name and no other pool's. Default ["self-hosted", "linux", "x64", name]. */
    labels?: string[];
    /** gce: GitHub runner group id of the pool's JIT runners. Default the component's runnerGroupId. */
    runnerGroupId?: number;
    /** The pool's boot image, recorded in provenance. Required. */
    image: pulumi.Input<string>;
    /** The pool's maximum build duration in seconds: the upload credential's lifetime bound. Required. */
    maxRunDurationSeconds: number;
}

/** The generator's own network in the control-plane project (ControlPlaneArgs.generatorNetwork). */
export interface GeneratorNetwork {
    /** Subnet range, a canonical /26 or larger. Required. */
    cidr: string;
}

/** A network the provenance generator egresses into (Direct VPC egress). */
export interface GeneratorVpc {
    /** Network id. Required. */
    network: pulumi.Input<string>;
    /** Subnetwork id. Required. */
    subnetwork: pulumi.Input<string>;
}

/** A secondary range of an IsolatedNetwork subnet. */
export interface SecondaryRange {
    /** Range name. Required. */
    rangeName: string;
    /** IPv4 range. Required. */
    ipCidrRange: string;
}
