/**
 * `SignerEnclave`: the provenance signer of the fleet. An HSM signing key usable only by a dedicated signer
 * identity, the Cloud Run service that runs as that identity on an isolated network, the provenance bucket
 * only it writes, and KMS data-access audit logs. Invariants I8, I9, I10, I12.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { deterministicRunUrl } from "../controlPlane/cloudRunUrl";
import { imageReferenceProblem } from "../config/image";
import { isSpannerSize, logKeyProblem, tsaChainProblem } from "../config/witnesses";
import { IssueCollector, throwIfProblems } from "../config/issues";
import { DEFAULT_KEY_VERSIONS, KeyVersionConfig, validateKeyVersions } from "../config/keyVersions";
import { PROTECTION_LEVELS } from "../config/kms";
import { builderIdProblem, componentNameProblems, iamMemberProblem, isValidServiceAccountId, serviceAccountIdFor } from "../config/names";
import { directVpcEgressCidrProblem, IsolatedNetwork, isolatedNetworkArgsProblems } from "../isolatedNetwork";
import { DIRECT_VPC_EGRESS_MAX_PREFIX } from "../networks";
import { roleLabels } from "../labels";
import { createProvenanceBucket, MAX_RETENTION_DAYS } from "./provenanceBucket";
import { createSignerAuditLog, MAX_LOG_RETENTION_DAYS } from "./auditLog";
import { createTimestampAuthority, TimestampAuthority, TimestampAuthorityArgs } from "./timestampAuthority";
import { createPrivateTransparencyLog, PrivateTransparencyLog, PrivateTransparencyLogArgs } from "./transparencyLog";
import { createSignerKey, DEFAULT_SIGNING_ALGORITHM, SignerKeyVersion, SIGNING_ALGORITHMS } from "./key";
import { serviceOperations } from "../serviceImage/operations";

export const INVOKER_ROLE = "roles/run.invoker";
export const METRIC_WRITER_ROLE = "roles/monitoring.metricWriter";
/** Direct VPC egress needs a subnet of at least /26. */
export const MAX_SIGNER_SUBNET_PREFIX = DIRECT_VPC_EGRESS_MAX_PREFIX;
/** Longest enclave name: its network is `${name}-net`, which must fit the network name limit. */
export const MAX_SIGNER_NAME_LENGTH = 36;
/** Environment variables the signer service reads (names only; the values are resource names, never secrets). */
export const SIGNER_ENV = {
    service: "SERVICE",
    key: "SIGNER_KMS_KEY",
    keyVersions: "SIGNER_KEY_VERSIONS",
    bucket: "SIGNER_PROVENANCE_BUCKET",
    builderId: "SIGNER_BUILDER_ID",
    allowedCallers: "SIGNER_ALLOWED_CALLERS",
    audience: "SIGNER_AUDIENCE",
    tsaUrl: "SIGNER_TSA_URL",
    tsaCertChain: "SIGNER_TSA_CERT_CHAIN",
    tlogUrl: "SIGNER_TLOG_URL",
    tlogPublicKey: "SIGNER_TLOG_PUBLIC_KEY",
    tlogApiVersion: "SIGNER_TLOG_API_VERSION",
    tlogIdentity: "SIGNER_TLOG_IDENTITY",
} as const;

/** A Rekor-compatible transparency log the signer writes every bundle to (optional). */
export interface TransparencyLogArgs {
    /** The log's https base URL: https://rekor.sigstore.dev (public-good), or a private Rekor v2 / rekor-tiles. */
    url: string;
    /** The log's PEM public key (ECDSA P-256 or Ed25519): listed in the trusted root for offline inclusion checks. */
    publicKeyPem: pulumi.Input<string>;
    /** The log's API: 1 (Rekor v1, e.g. rekor.sigstore.dev) or 2 (Rekor v2, rekor-tiles). Default 1. */
    apiVersion?: number;
}

/** One entry of the signer's SIGNER_KEY_VERSIONS (and of the enclave's `keyring` output without the PEM). */
export interface SignerKeyVersionEnv {
    name: string;
    state: KeyVersionConfig["state"];
    validFrom: string;
    validUntil?: string;
}

/** The signer service's name for an enclave named `name` (explicit: Cloud Run names are at most 49 characters). */
export function signerServiceName(name: string): string {
    return `${name}-signer`;
}

export interface SignerEnclaveArgs {
    /** Project of the enclave (key, identity, service, bucket, network). A project of its own is recommended (I10). Required. */
    project: pulumi.Input<string>;
    /** Region of the key ring, service, bucket and subnet. Required. */
    region: pulumi.Input<string>;
    /** IPv4 range of the enclave's own `IsolatedNetwork` (role "signer"), /26 or larger for Direct VPC egress. Required. */
    cidr: string;
    /**
     * Container image of the signer service, pinned by digest (`<registry>/<path>@sha256:<64 hex>`), e.g.
     * `ServiceImage.imageRef`. Required. A literal that is not digest-pinned is rejected.
     */
    serviceImage: pulumi.Input<string>;
    /** SLSA `builder.id` the signer requires in every statement: an https URI (the generator writes the same). Required. */
    builderId: string;
    /**
     * Emails whose verified identity token the signer accepts (checked in the service, on top of Cloud Run IAM).
     * Default: the `serviceAccount:` members of `invokers`.
     */
    allowedCallers?: pulumi.Input<string>[];
    /**
     * IAM members allowed to invoke the signer service (the control-plane identity, e.g.
     * "serviceAccount:cp@p.iam.gserviceaccount.com"). Authoritative: nobody else gets `roles/run.invoker`. Required, non-empty.
     */
    invokers: pulumi.Input<string>[];
    /** IAM members granted `roles/cloudkms.publicKeyViewer` on the key. Default: none (the PEM is also an output). */
    verifiers?: pulumi.Input<string>[];
    /** IAM members granted `roles/storage.objectViewer` on the provenance bucket. Default: none. */
    provenanceReaders?: pulumi.Input<string>[];
    /** `ASYMMETRIC_SIGN` algorithm of the key (one of `SIGNING_ALGORITHMS`). Default "EC_SIGN_P256_SHA256". */
    keyAlgorithm?: string;
    /** Protection level of the key. Default "HSM"; "SOFTWARE" only with `allowSoftwareKeyForDevelopment` (I8). */
    protectionLevel?: string;
    /** Allow a SOFTWARE key (development stacks only; warns). Default false. */
    allowSoftwareKeyForDevelopment?: boolean;
    /**
     * Explicit key versions, in creation order: the first is the version KMS creates with the key, each later one
     * a `gcp.kms.CryptoKeyVersion`. States: published (in the keyring, not signing), active (the one signing
     * version), retired (in the keyring with validUntil, never signing). Default one active initial version.
     * Cloud KMS never rotates an asymmetric key: see the key rotation runbook in docs/runbooks.md.
     */
    keyVersions?: KeyVersionConfig[];
    /** Days provenance objects cannot be deleted or overwritten (bucket retention policy). Default 365. */
    provenanceRetentionDays?: number;
    /**
     * Lock the provenance bucket's retention policy. IRREVERSIBLE: the period can never be shortened and the bucket
     * cannot be deleted until its newest object expires. Default false (explicit opt-in, e.g. the second step of a
     * production rollout); the pack's `signer-evidence-locked` rule requires it on production stacks.
     */
    lockProvenanceRetention?: boolean;
    /** Days the locked log bucket keeps the Cloud KMS audit logs (1-3650). Default 400. */
    auditLogRetentionDays?: number;
    /** Lock that log bucket. IRREVERSIBLE (the bucket outlives its retention). Default false (explicit opt-in, as lockProvenanceRetention). */
    lockAuditLog?: boolean;
    /** Account id of the signer service account (6-30 chars). Default `${name}-signer`, shortened to fit. */
    signerAccountId?: string;
    /** Cloud Run deletion protection of the signer service. Default true (the provider's default, made explicit). */
    serviceDeletionProtection?: boolean;
    /** Flow-log sampling of the enclave subnet, 0..1. Default 0.5 (I12). */
    flowLogSampling?: number;
    /**
     * The enclave's RFC 3161 timestamp authority (sigstore timestamp-authority, digest-pinned, own HSM key and
     * identity). The TSA key is always created; the service once `certificateChainPem` is set. Default: key only,
     * and the signer answers 503 to every signing call until the TSA runs (every bundle carries a timestamp).
     */
    timestampAuthority?: TimestampAuthorityArgs;
    /** A transparency log for every bundle (repository names become public on a public log). Default none. */
    transparencyLog?: TransparencyLogArgs;
    /**
     * Deploy a private transparency log in the enclave (rekor-tiles on Cloud Run, Spanner, a tiles bucket, its own
     * HSM key and identity) and write every bundle to it. Exclusive with transparencyLog. Default none.
     */
    privateTransparencyLog?: PrivateTransparencyLogArgs;
}

/** The default signer account id for an enclave named `name`: `${name}-signer`, hash-shortened to 30 characters. */
export function defaultSignerAccountId(name: string): string {
    return serviceAccountIdFor(name, "signer");
}

/** Problems with literal IAM members in `field` (Outputs are checked by the policy pack instead). */
function memberProblems(field: string, members: unknown, required: boolean): string[] {
    if (members === undefined && !required) {
        return [];
    }
    if (!Array.isArray(members)) {
        return [`${field}: ${JSON.stringify(members)} must be a list of IAM members such as "serviceAccount:cp@proj.iam.gserviceaccount.com".`];
    }
    const problems: string[] = [];
    if (required && members.length === 0) {
        problems.push(`${field}: is empty; pass the control-plane identity, e.g. "serviceAccount:cp@proj.iam.gserviceaccount.com" (I10).`);
    }
    members.forEach((member, i) => {
        if (typeof member !== "string") {
            return; // an Output: not known until deployment
        }
        const problem = iamMemberProblem(member);
        if (problem !== undefined) {
            problems.push(`${field}[${i}]: "${member}" ${problem}; write e.g. "serviceAccount:<email>" or "group:<email>".`);
        }
    });
    return problems;
}

/** Every problem with `args` for a `SignerEnclave` named `name` (empty when valid), including its network's. */
export function validateSignerEnclaveArgs(name: string, args: SignerEnclaveArgs): string[] {
    const problems = componentNameProblems(name, MAX_SIGNER_NAME_LENGTH);
    if (args === undefined || args === null) {
        return [...problems, "args: missing; pass at least { project, region, cidr, serviceImage, invokers }."];
    }
    // The enclave network's own checks (cidr, flowLogSampling, project, region) under the same field names;
    // its name derives from the enclave's, checked above.
    problems.push(...isolatedNetworkArgsProblems({
        project: args.project, region: args.region, cidr: args.cidr, role: "signer", flowLogSampling: args.flowLogSampling,
    }));
    const small = directVpcEgressCidrProblem("cidr", args.cidr, "10.200.0.0/26");
    if (small !== undefined) {
        problems.push(small);
    }
    const algorithm = args.keyAlgorithm ?? DEFAULT_SIGNING_ALGORITHM;
    if (!SIGNING_ALGORITHMS.includes(algorithm)) {
        problems.push(`keyAlgorithm: ${JSON.stringify(algorithm)} is not an ASYMMETRIC_SIGN algorithm; use "${DEFAULT_SIGNING_ALGORITHM}" (recommended) or one of ${SIGNING_ALGORITHMS.join(", ")}.`);
    }
    const protection = args.protectionLevel ?? "HSM";
    if (!PROTECTION_LEVELS.includes(protection)) {
        problems.push(`protectionLevel: ${JSON.stringify(protection)} is not supported; use "HSM".`);
    } else if (protection !== "HSM" && args.allowSoftwareKeyForDevelopment !== true) {
        problems.push(`protectionLevel: "${protection}" keeps the signing key outside an HSM (I8); use "HSM", or set allowSoftwareKeyForDevelopment: true for a development stack.`);
    }
    if (args.serviceImage === undefined || args.serviceImage === "") {
        problems.push("serviceImage: missing; pass the signer container image pinned by digest, e.g. ServiceImage.imageRef or \"europe-docker.pkg.dev/proj/fleet/services@sha256:<64 hex>\".");
    } else if (typeof args.serviceImage === "string" && imageReferenceProblem(args.serviceImage) !== undefined) {
        problems.push(`serviceImage: "${args.serviceImage}" ${imageReferenceProblem(args.serviceImage)}; pass <registry>/<path>@sha256:<64 hex digits>, e.g. ServiceImage.imageRef.`);
    }
    const tsaImage = args.timestampAuthority?.image;
    if (args.timestampAuthority !== undefined && (tsaImage === undefined || tsaImage === "")) {
        problems.push("timestampAuthority.image: missing; pass sigstore's timestamp-server image pinned by digest, e.g. \"europe-docker.pkg.dev/proj/ghcr/sigstore/timestamp-server@sha256:<64 hex>\".");
    } else if (typeof tsaImage === "string" && imageReferenceProblem(tsaImage) !== undefined) {
        problems.push(`timestampAuthority.image: "${tsaImage}" ${imageReferenceProblem(tsaImage)}; pass <registry>/<path>@sha256:<64 hex digits> (a tag can change the code that timestamps).`);
    }
    const chain = args.timestampAuthority?.certificateChainPem;
    const chainProblem = typeof chain === "string" ? tsaChainProblem(chain) : undefined;
    if (chainProblem !== undefined) {
        problems.push(`timestampAuthority.certificateChainPem: ${chainProblem}; pass the output of fetch-tsa-certs (timestamping certificate first, root last).`);
    }
    const privateLog = args.privateTransparencyLog;
    if (privateLog !== undefined) {
        if (args.transparencyLog !== undefined) {
            problems.push("privateTransparencyLog: set together with transparencyLog; use one log: transparencyLog for an existing log (e.g. rekor.sigstore.dev), privateTransparencyLog to deploy one in the enclave.");
        }
        if (privateLog.image === undefined || privateLog.image === "") {
            problems.push("privateTransparencyLog.image: missing; pass rekor-tiles' GCP server image pinned by digest, e.g. \"europe-docker.pkg.dev/proj/ghcr/sigstore/rekor-tiles/gcp@sha256:<64 hex>\".");
        } else if (typeof privateLog.image === "string" && imageReferenceProblem(privateLog.image) !== undefined) {
            problems.push(`privateTransparencyLog.image: "${privateLog.image}" ${imageReferenceProblem(privateLog.image)}; pass <registry>/<path>@sha256:<64 hex digits> (a tag can change the code that signs the log's checkpoints).`);
        }
        const pu = privateLog.spannerProcessingUnits;
        if (pu !== undefined && !isSpannerSize(pu)) {
            problems.push(`privateTransparencyLog.spannerProcessingUnits: ${JSON.stringify(pu)} is not a Spanner size; use 100-900 in steps of 100, or a multiple of 1000.`);
        }
    }
    if (args.transparencyLog !== undefined) {
        let https = false;
        try {
            https = new URL(args.transparencyLog.url).protocol === "https:";
        } catch {
            https = false;
        }
        if (!https) {
            problems.push(`transparencyLog.url: ${JSON.stringify(args.transparencyLog.url)} must be the https URL of a Rekor-compatible log, e.g. "https://rekor.sigstore.dev".`);
        }
        const pem = args.transparencyLog.publicKeyPem;
        const keyProblem = typeof pem === "string" ? logKeyProblem(pem) : undefined;
        if (keyProblem !== undefined) {
            problems.push(`transparencyLog.publicKeyPem: ${keyProblem}; pass the log's public key (for rekor.sigstore.dev, from its trusted root).`);
        }
        const api = args.transparencyLog.apiVersion;
        if (api !== undefined && api !== 1 && api !== 2) {
            problems.push(`transparencyLog.apiVersion: ${JSON.stringify(api)} must be 1 (Rekor v1, e.g. rekor.sigstore.dev) or 2 (Rekor v2, rekor-tiles).`);
        }
    }
    if (args.keyVersions !== undefined) {
        const issues = new IssueCollector();
        validateKeyVersions(issues, args.keyVersions, "keyVersions");
        problems.push(...issues.issues.map((i) => `${i.path}: ${JSON.stringify(i.value)} ${i.message}; ${i.fix}.`));
    }
    if (builderIdProblem(args.builderId) !== undefined) {
        problems.push(`builderId: ${JSON.stringify(args.builderId)} ${builderIdProblem(args.builderId)}; use e.g. "https://github.com/acme/hardened-build-fleet/fleet".`);
    }
    problems.push(...memberProblems("invokers", args.invokers, true));
    problems.push(...memberProblems("verifiers", args.verifiers, false));
    problems.push(...memberProblems("provenanceReaders", args.provenanceReaders, false));
    const days = args.provenanceRetentionDays;
    if (days !== undefined && (typeof days !== "number" || !Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS)) {
        problems.push(`provenanceRetentionDays: ${JSON.stringify(days)} must be a whole number of days between 1 and ${MAX_RETENTION_DAYS} (default 365).`);
    }
    const logDays = args.auditLogRetentionDays;
    if (logDays !== undefined && (typeof logDays !== "number" || !Number.isInteger(logDays) || logDays < 1 || logDays > MAX_LOG_RETENTION_DAYS)) {
        problems.push(`auditLogRetentionDays: ${JSON.stringify(logDays)} must be a whole number of days between 1 and ${MAX_LOG_RETENTION_DAYS} (default 400).`);
    }
    if (args.signerAccountId !== undefined && (typeof args.signerAccountId !== "string" || !isValidServiceAccountId(args.signerAccountId))) {
        problems.push(`signerAccountId: ${JSON.stringify(args.signerAccountId)} must be 6-30 lower-case letters, digits or hyphens, starting with a letter.`);
    }
    return problems;
}

export class SignerEnclave extends pulumi.ComponentResource {
    /** The enclave's own network (role "signer"); the service egresses into it. */
    readonly network: IsolatedNetwork;
    readonly ringSuffix: random.RandomId;
    readonly keyRing: gcp.kms.KeyRing;
    readonly key: gcp.kms.CryptoKey;
    /** Authoritative `roles/cloudkms.signer` binding: exactly the signer SA (I9). */
    readonly signerBinding: gcp.kms.CryptoKeyIAMBinding;
    readonly verifierBinding?: gcp.kms.CryptoKeyIAMBinding;
    readonly signerServiceAccount: gcp.serviceaccount.Account;
    readonly service: gcp.cloudrunv2.Service;
    /** Authoritative `roles/run.invoker` binding: exactly the invokers (I10). */
    readonly invokerBinding: gcp.cloudrunv2.ServiceIamBinding;
    readonly bucket: gcp.storage.Bucket;
    readonly bucketWriterBinding: gcp.storage.BucketIAMBinding;
    readonly bucketReaderBinding?: gcp.storage.BucketIAMBinding;
    readonly kmsAuditConfig: gcp.projects.IAMAuditConfig;
    /** `roles/monitoring.metricWriter` on the signer's project: the service's own metrics (docs/operations.md). */
    readonly metricWriter: gcp.projects.IAMMember;
    /** Locked log bucket holding the KMS audit logs, and the sink feeding it (I12). */
    readonly kmsLogBucket: gcp.logging.ProjectBucketConfig;
    readonly kmsLogSink: gcp.logging.ProjectSink;

    /** Crypto key resource name (`projects/.../keyRings/.../cryptoKeys/...`). */
    readonly keyId: pulumi.Output<string>;
    /** Resource name of the active (signing) key version. */
    readonly keyVersionName: pulumi.Output<string>;
    /** PEM public key of the active key version, for verifiers. */
    readonly publicKeyPem: pulumi.Output<string>;
    /** Declared key versions with their KMS names (rotation). */
    readonly keyVersions: SignerKeyVersion[];
    /** Every published version with its validity window and PEM (empty for a KMS-disabled version: see the signer's keyring): what verifiers pin. */
    readonly keyring: pulumi.Output<(SignerKeyVersionEnv & { id: string; publicKeyPem: string })[]>;
    /** The SLSA builder.id the signer enforces. */
    readonly builderId: string;
    readonly serviceUrl: pulumi.Output<string>;
    readonly signerServiceAccountEmail: pulumi.Output<string>;
    /** `serviceAccount:<signer email>`. */
    readonly signerMember: pulumi.Output<string>;
    readonly provenanceBucketName: pulumi.Output<string>;
    /** The timestamp authority: its HSM key, identity and (once its chain is set) service. */
    readonly timestampAuthority: TimestampAuthority;
    /** The TSA key version fetch-tsa-certs certifies (`gcpkms://` + this). */
    readonly tsaKeyVersionName: pulumi.Output<string>;
    /** The TSA service's URL (the signer's SIGNER_TSA_URL). */
    readonly tsaUrl: pulumi.Output<string>;
    /** The private transparency log, when `privateTransparencyLog` is set. */
    readonly privateTransparencyLog?: PrivateTransparencyLog;

    constructor(name: string, args: SignerEnclaveArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before super(): an invalid enclave registers nothing.
        throwIfProblems("SignerEnclave", name, validateSignerEnclaveArgs(name, args));
        super("hardened-build-fleet:index:SignerEnclave", name, {}, opts);

        const project = args.project;
        const region = args.region;
        const algorithm = args.keyAlgorithm ?? DEFAULT_SIGNING_ALGORITHM;
        const protectionLevel = args.protectionLevel ?? "HSM";
        const labels = roleLabels("signer");
        if (protectionLevel !== "HSM") {
            pulumi.log.warn(`SignerEnclave "${name}": protectionLevel ${protectionLevel} (allowSoftwareKeyForDevelopment); not SLSA L3 (I8), development only.`, this);
        }

        // I10: a network of its own; no egress allow-list (the signer talks to Google APIs only). run.app resolves
        // to the restricted VIP too, so a generator attached to this network reaches the internal-only signer.
        this.network = new IsolatedNetwork(`${name}-net`, {
            project, region, cidr: args.cidr, role: "signer", flowLogSampling: args.flowLogSampling, restrictedGoogleDomains: ["run.app"],
        }, { parent: this });

        // I7/I9: a dedicated identity with no keys; the only principal allowed to sign.
        this.signerServiceAccount = new gcp.serviceaccount.Account(`${name}-sa`, {
            project,
            accountId: args.signerAccountId ?? defaultSignerAccountId(name),
            displayName: `Provenance signer (${name})`,
            description: "hardened-build-fleet signer identity: the only principal allowed to use the provenance key (I9).",
        }, { parent: this });
        this.signerServiceAccountEmail = this.signerServiceAccount.email;
        this.signerMember = pulumi.interpolate`serviceAccount:${this.signerServiceAccount.email}`;

        const signerKey = createSignerKey(name, {
            project, region, algorithm, protectionLevel, signerMember: this.signerMember, verifiers: args.verifiers ?? [],
            versions: args.keyVersions ?? DEFAULT_KEY_VERSIONS,
        }, this);
        this.ringSuffix = signerKey.ringSuffix;
        this.keyRing = signerKey.keyRing;
        this.key = signerKey.key;
        this.signerBinding = signerKey.signerBinding;
        this.verifierBinding = signerKey.verifierBinding;

        this.keyVersions = signerKey.versions;
        this.keyId = this.key.id;
        // KMS returns public keys of ENABLED versions only: a disabled (retired) version's PEM is what the signer
        // published while it was enabled (its keyring documents in the provenance bucket), not read here.
        const pems = this.keyVersions.map((v) => (v.disabled === true
            ? pulumi.output("")
            : gcp.kms.getKMSCryptoKeyVersionOutput({
                cryptoKey: this.key.id,
                version: v.name.apply((n) => Number(n.split("/").pop())),
            }, { parent: this }).publicKeys.apply((keys) => keys?.[0]?.pem ?? "")));
        const active = this.keyVersions.findIndex((v) => v.state === "active");
        this.keyVersionName = this.keyVersions[active].name;
        this.publicKeyPem = pems[active];
        const versionsEnv = pulumi.all(this.keyVersions.map((v) => v.name)).apply((names) => names.map((n, i): SignerKeyVersionEnv => {
            const v = this.keyVersions[i];
            return { name: n, state: v.state, validFrom: v.validFrom, ...(v.validUntil !== undefined ? { validUntil: v.validUntil } : {}) };
        }));
        this.keyring = pulumi.all([versionsEnv, pulumi.all(pems)]).apply(([env, keys]) => env.map((e, i) => ({ id: this.keyVersions[i].id, ...e, publicKeyPem: keys[i] })));
        this.builderId = args.builderId;
        const serviceName = signerServiceName(name);
        const allowedCallers = args.allowedCallers
            ?? args.invokers.map((m) => pulumi.output(m).apply((member) => member.replace(/^serviceAccount:/, "")));

        const provenance = createProvenanceBucket(name, {
            project, location: region, retentionDays: args.provenanceRetentionDays ?? 365, locked: args.lockProvenanceRetention ?? false,
            writerMember: this.signerMember, readers: args.provenanceReaders ?? [],
        }, this);
        this.bucket = provenance.bucket;
        this.bucketWriterBinding = provenance.writerBinding;
        this.bucketReaderBinding = provenance.readerBinding;
        this.provenanceBucketName = this.bucket.name;

        this.timestampAuthority = createTimestampAuthority(name, {
            project, region, keyRingId: this.keyRing.id, protectionLevel, network: this.network, signerMember: this.signerMember,
            deletionProtection: args.serviceDeletionProtection ?? true, args: args.timestampAuthority,
        }, this);
        this.tsaKeyVersionName = this.timestampAuthority.keyVersionName;
        this.tsaUrl = this.timestampAuthority.url;
        if (args.privateTransparencyLog !== undefined) {
            this.privateTransparencyLog = createPrivateTransparencyLog(name, {
                project, region, keyRingId: this.keyRing.id, protectionLevel, network: this.network, signerMember: this.signerMember,
                deletionProtection: args.serviceDeletionProtection ?? true, args: args.privateTransparencyLog,
            }, this);
        }
        const log = this.privateTransparencyLog;
        const attestationEnv = [
            { name: SIGNER_ENV.tsaUrl, value: this.tsaUrl },
            ...(args.timestampAuthority?.certificateChainPem !== undefined ? [{ name: SIGNER_ENV.tsaCertChain, value: args.timestampAuthority.certificateChainPem }] : []),
            // The private log sits behind Cloud Run IAM: the signer sends its ID token (SIGNER_TLOG_IDENTITY).
            ...(log !== undefined
                ? [
                    { name: SIGNER_ENV.tlogUrl, value: log.url }, { name: SIGNER_ENV.tlogPublicKey, value: log.publicKeyPem },
                    { name: SIGNER_ENV.tlogApiVersion, value: "2" }, { name: SIGNER_ENV.tlogIdentity, value: "true" },
                ]
                : []),
            ...(args.transparencyLog !== undefined
                ? [
                    { name: SIGNER_ENV.tlogUrl, value: args.transparencyLog.url }, { name: SIGNER_ENV.tlogPublicKey, value: args.transparencyLog.publicKeyPem },
                    { name: SIGNER_ENV.tlogApiVersion, value: String(args.transparencyLog.apiVersion ?? 1) },
                ]
                : []),
        ];

        const signerOps = serviceOperations(project, region);
        // The signer's metrics (signatures, latency, KMS errors) go to its own project; nothing else is granted there.
        this.metricWriter = new gcp.projects.IAMMember(`${name}-signer-metric-writer`, { project, role: METRIC_WRITER_ROLE, member: this.signerMember }, { parent: this });
        // I10: internal ingress only, runs as the signer SA, all egress into the enclave network.
        this.service = new gcp.cloudrunv2.Service(`${name}-signer`, {
            project,
            location: region,
            name: serviceName, // explicit: Cloud Run names are limited to 49 characters, and the deterministic URL needs it
            ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY",
            invokerIamDisabled: false,
            deletionProtection: args.serviceDeletionProtection ?? true,
            labels,
            template: {
                serviceAccount: this.signerServiceAccount.email,
                labels,
                vpcAccess: {
                    networkInterfaces: [{ network: this.network.networkId, subnetwork: this.network.subnetId }],
                    egress: "ALL_TRAFFIC",
                },
                containers: [{
                    // Digest-pinned (validated above for literals): the code that signs cannot change under the fleet.
                    image: args.serviceImage,
                    envs: [
                        { name: SIGNER_ENV.service, value: "signer" },
                        { name: SIGNER_ENV.key, value: this.keyId },
                        { name: SIGNER_ENV.keyVersions, value: versionsEnv.apply((v) => JSON.stringify(v)) },
                        { name: SIGNER_ENV.bucket, value: this.bucket.name },
                        { name: SIGNER_ENV.builderId, value: this.builderId },
                        // Checked on the verified caller identity in the service, not only by Cloud Run IAM.
                        { name: SIGNER_ENV.allowedCallers, value: pulumi.all(allowedCallers).apply((emails) => emails.join(",")) },
                        { name: SIGNER_ENV.audience, value: deterministicRunUrl(project, region, serviceName, { parent: this }) },
                        ...attestationEnv,
                        ...signerOps.envs,
                    ],
                    startupProbe: signerOps.startupProbe,
                    livenessProbe: signerOps.livenessProbe,
                }],
            },
            // Real ordering: the service takes requests as soon as it exists, and would fail them without its grants.
        }, { parent: this, dependsOn: [this.signerBinding, this.bucketWriterBinding] });
        this.serviceUrl = this.service.uri;

        // I10: AUTHORITATIVE invoker binding: the control plane and nobody else.
        this.invokerBinding = new gcp.cloudrunv2.ServiceIamBinding(`${name}-invokers`, {
            project,
            location: this.service.location,
            name: this.service.name,
            role: INVOKER_ROLE,
            members: [...args.invokers],
        }, { parent: this });

        // I12: every admin action and every use of the key (sign, get public key) is logged.
        this.kmsAuditConfig = new gcp.projects.IAMAuditConfig(`${name}-kms-audit`, {
            project,
            service: "cloudkms.googleapis.com",
            auditLogConfigs: [{ logType: "ADMIN_READ" }, { logType: "DATA_READ" }, { logType: "DATA_WRITE" }],
        }, { parent: this });
        const auditLog = createSignerAuditLog(name, {
            project, location: region, retentionDays: args.auditLogRetentionDays ?? 400, locked: args.lockAuditLog ?? false,
        }, this);
        this.kmsLogBucket = auditLog.bucket;
        this.kmsLogSink = auditLog.sink;

        this.registerOutputs({
            keyId: this.keyId,
            keyVersionName: this.keyVersionName,
            publicKeyPem: this.publicKeyPem,
            keyring: this.keyring,
            serviceUrl: this.serviceUrl,
            signerServiceAccountEmail: this.signerServiceAccountEmail,
            signerMember: this.signerMember,
            provenanceBucketName: this.provenanceBucketName,
            tsaKeyVersionName: this.tsaKeyVersionName,
            tsaUrl: this.tsaUrl,
        });
    }
}
