/** Provider facade of `SignerEnclave` (components/signerEnclave/index.ts) for the component schema. */
import * as pulumi from "@pulumi/pulumi";
import type { Bucket } from "@pulumi/gcp/storage/bucket";
import type { CryptoKey } from "@pulumi/gcp/kms/cryptoKey";
import type { KeyRing } from "@pulumi/gcp/kms/keyRing";
import type { Account } from "@pulumi/gcp/serviceaccount/account";
import { implementationOf, SignerEnclaveOutputs } from "./implementation";
import { ProtectionLevel } from "./enums";
import { KeyVersion, PrivateTransparencyLog, TimestampAuthority, TransparencyLog } from "./types";

export interface SignerEnclaveArgs {
    /** Project of the enclave (key, identity, service, bucket, network). A project of its own is recommended (I10). Required. */
    project: pulumi.Input<string>;
    /** Region of the key ring, service, bucket and subnet. Required. */
    region: pulumi.Input<string>;
    /** IPv4 range of the enclave's own `IsolatedNetwork` (role "signer"), /26 or larger for Direct VPC egress. Required. */
    cidr: string;
    /** Container image of the signer service, pinned by digest (`<registry>/<path>@sha256:<64 hex>`), e.g. `ServiceImage.imageRef`. Required. A literal that is not digest-pinned is rejected. */
    serviceImage: pulumi.Input<string>;
    /** SLSA `builder.id` the signer requires in every statement: an https URI (the generator writes the same). Required. */
    builderId: string;
    /** IAM members allowed to invoke the signer service (the control-plane identity, e.g. "serviceAccount:cp@p.iam.gserviceaccount.com"). Authoritative: nobody else gets `roles/run.invoker`. Required, non-empty. */
    invokers: pulumi.Input<string>[];
    /** Emails whose verified identity token the signer accepts (checked in the service, on top of Cloud Run IAM). Default: the `serviceAccount:` members of `invokers`. */
    allowedCallers?: pulumi.Input<string>[];
    /** IAM members granted `roles/cloudkms.publicKeyViewer` on the key. Default: none (the PEM is also an output). */
    verifiers?: pulumi.Input<string>[];
    /** IAM members granted `roles/storage.objectViewer` on the provenance bucket. Default: none. */
    provenanceReaders?: pulumi.Input<string>[];
    /** `ASYMMETRIC_SIGN` algorithm of the key (one of `SIGNING_ALGORITHMS`). Default "EC_SIGN_P256_SHA256". */
    keyAlgorithm?: string;
    /** Protection level of the key. Default "HSM"; "SOFTWARE" only with `allowSoftwareKeyForDevelopment` (I8). */
    protectionLevel?: ProtectionLevel;
    /** Allow a SOFTWARE key (development stacks only; warns). Default false. */
    allowSoftwareKeyForDevelopment?: boolean;
    /** Explicit key versions, in creation order: the first is the version KMS creates with the key, each later one a `gcp.kms.CryptoKeyVersion`. States: published (in the keyring, not signing), active (the one signing version), retired (in the keyring with validUntil, never signing). Default one active initial version. Cloud KMS never rotates an asymmetric key: see the key rotation runbook in docs/runbooks.md. */
    keyVersions?: KeyVersion[];
    /** Days provenance objects cannot be deleted or overwritten (bucket retention policy). Default 365. */
    provenanceRetentionDays?: number;
    /** Lock the provenance bucket's retention policy. IRREVERSIBLE: the period can never be shortened and the bucket cannot be deleted until its newest object expires. Default false (explicit opt-in, e.g. the second step of a production rollout); the pack's `signer-evidence-locked` rule requires it on production stacks. */
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
    /** The enclave's RFC 3161 timestamp authority (sigstore timestamp-authority, digest-pinned, own HSM key and identity). The TSA key is always created; the service once `certificateChainPem` is set. Default: key only, and the signer answers 503 to every signing call until the TSA runs (every bundle carries a timestamp). */
    timestampAuthority?: TimestampAuthority;
    /** A transparency log for every bundle (repository names become public on a public log). Default none. */
    transparencyLog?: TransparencyLog;
    /** Deploy a private transparency log in the enclave (rekor-tiles on Cloud Run, Spanner, a tiles bucket, its own HSM key and identity) and write every bundle to it. Exclusive with transparencyLog. Default none. */
    privateTransparencyLog?: PrivateTransparencyLog;
}

/**
 * The provenance signer: an HSM key only the signer identity can use, the internal-only Cloud Run service that
 * runs as it, the provenance bucket only it writes, and KMS audit logs (I8, I9, I10, I12). Registers a
 * `SignerEnclave` of the same name as its child.
 */
export class SignerEnclave extends pulumi.ComponentResource implements SignerEnclaveOutputs {
    /** Id of the signing key. */
    public readonly keyId!: pulumi.Output<string>;
    /** Full name of the key version the service signs with. */
    public readonly keyVersionName!: pulumi.Output<string>;
    /** PEM public key of that version, for verifiers. */
    public readonly publicKeyPem!: pulumi.Output<string>;
    /** URL of the internal-only signer service. */
    public readonly serviceUrl!: pulumi.Output<string>;
    /** Email of the signer service account. */
    public readonly signerServiceAccountEmail!: pulumi.Output<string>;
    /** `serviceAccount:<email>` of the signer. */
    public readonly signerMember!: pulumi.Output<string>;
    /** Name of the provenance bucket. */
    public readonly provenanceBucketName!: pulumi.Output<string>;
    /** Id of the Cloud KMS key ring (`projects/<p>/locations/<l>/keyRings/<r>`): where verifiers find the keys. */
    public readonly keyRingId!: pulumi.Output<string>;
    /** The Cloud KMS key ring (gcp.kms.KeyRing): its `location` and `id` are where verifiers find the keys. */
    public readonly keyRing!: KeyRing;
    /** The signing key (gcp.kms.CryptoKey): grant `roles/cloudkms.publicKeyViewer` on it to verifiers. */
    public readonly key!: CryptoKey;
    /** The signer's service account (gcp.serviceaccount.Account). */
    public readonly signerServiceAccount!: Account;
    /** The provenance bucket (gcp.storage.Bucket): grant readers on it, or subscribe to its notifications. */
    public readonly provenanceBucket!: Bucket;

    constructor(name: string, args: SignerEnclaveArgs, opts?: pulumi.ComponentResourceOptions) {
        const body = implementationOf<SignerEnclaveArgs, SignerEnclaveOutputs>("SignerEnclave");
        // Validate before super(): invalid arguments register nothing, not even this facade.
        body.validate(name, args);
        super("hardened-build-fleet:index:SignerEnclave", name, {}, opts);
        const outputs = body.create(this, name, args);
        Object.assign(this, outputs);
        this.registerOutputs(outputs);
    }
}
