/**
 * The provenance signing key of a `SignerEnclave`: key ring with a random suffix, HSM `ASYMMETRIC_SIGN` key,
 * and its authoritative IAM. Invariants I8 (HSM key, protected) and I9 (single signer).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ASYMMETRIC_SIGN_ALGORITHMS } from "../config/kms";
import { KeyVersionConfig } from "../config/keyVersions";
import { roleLabels } from "../labels";

/** Cloud KMS `ASYMMETRIC_SIGN` algorithms a signer key may use: the config validator's list, one source. */
export const SIGNING_ALGORITHMS: readonly string[] = ASYMMETRIC_SIGN_ALGORITHMS;
export const DEFAULT_SIGNING_ALGORITHM = "EC_SIGN_P256_SHA256";

/**
 * The least-privileged predefined role that can sign: `cloudkms.cryptoKeyVersions.useToSign` without
 * `useToVerify`/`viewPublicKey` (the public key is published through the enclave's outputs instead).
 */
export const SIGNING_ROLE = "roles/cloudkms.signer";
export const PUBLIC_KEY_VIEWER_ROLE = "roles/cloudkms.publicKeyViewer";

export interface SignerKeyArgs {
    project: pulumi.Input<string>;
    region: pulumi.Input<string>;
    algorithm: string;
    protectionLevel: string;
    /** IAM member of the signer identity, the only principal granted `SIGNING_ROLE`. */
    signerMember: pulumi.Input<string>;
    /** Members granted `roles/cloudkms.publicKeyViewer`; no binding when empty. */
    verifiers: pulumi.Input<string>[];
    /** Declared key versions (validated: exactly one active); the first is the version KMS creates with the key. */
    versions: readonly KeyVersionConfig[];
}

/** One declared version, resolved to its KMS resource name. */
export interface SignerKeyVersion extends KeyVersionConfig {
    /** `projects/.../cryptoKeys/<key>/cryptoKeyVersions/<n>`. */
    name: pulumi.Output<string>;
    /** The `gcp.kms.CryptoKeyVersion` of every version after the first (KMS creates the first with the key). */
    resource?: gcp.kms.CryptoKeyVersion;
}

export interface SignerKey {
    ringSuffix: random.RandomId;
    keyRing: gcp.kms.KeyRing;
    key: gcp.kms.CryptoKey;
    signerBinding: gcp.kms.CryptoKeyIAMBinding;
    verifierBinding?: gcp.kms.CryptoKeyIAMBinding;
    versions: SignerKeyVersion[];
}

/** Creates the key ring, key and key IAM as children of `parent`, names derived from `name`. */
export function createSignerKey(name: string, args: SignerKeyArgs, parent: pulumi.Resource): SignerKey {
    // Key rings can never be deleted, so a re-created stack needs a fresh ring name.
    const ringSuffix = new random.RandomId(`${name}-ring-suffix`, { byteLength: 4 }, { parent });

    // I8 deletion protection: `protect: true` (not `retainOnDelete`). KMS never really deletes a key ring or
    // key; "deleting" the key schedules destruction of every version, which stops signing and is one
    // `pulumi destroy` or one forced replacement (e.g. an algorithm change) away. `protect` makes Pulumi refuse
    // both, so retiring the key is an explicit, reviewable `pulumi state unprotect`. `retainOnDelete` would let
    // a replacement go through silently and leave an orphaned, still-enabled key behind.
    const keyRing = new gcp.kms.KeyRing(`${name}-ring`, {
        project: args.project,
        location: args.region,
        name: pulumi.interpolate`${name}-ring-${ringSuffix.hex}`,
    }, { parent, protect: true });

    // I8: HSM-backed ASYMMETRIC_SIGN key. Cloud KMS does not rotate asymmetric keys automatically (no
    // rotationPeriod): rotation is a new key version, and verifiers keep trusting the old public keys.
    const key = new gcp.kms.CryptoKey(`${name}-key`, {
        keyRing: keyRing.id,
        name: `${name}-key`,
        purpose: "ASYMMETRIC_SIGN",
        versionTemplate: { algorithm: args.algorithm, protectionLevel: args.protectionLevel },
        labels: roleLabels("signer"),
        // Belt and braces with `protect`: the provider also refuses to destroy the key outside Pulumi's checks.
        deletionPolicy: "PREVENT",
    }, { parent, protect: true });

    // I9: AUTHORITATIVE for the signing role on this key: the signer SA and nobody else.
    const signerBinding = new gcp.kms.CryptoKeyIAMBinding(`${name}-key-signer`, {
        cryptoKeyId: key.id,
        role: SIGNING_ROLE,
        members: [args.signerMember],
    }, { parent });

    const verifierBinding = args.verifiers.length > 0
        ? new gcp.kms.CryptoKeyIAMBinding(`${name}-key-verifiers`, {
            cryptoKeyId: key.id,
            role: PUBLIC_KEY_VIEWER_ROLE,
            members: [...args.verifiers],
        }, { parent })
        : undefined;

    // Rotation: every declared version after the first is a KMS version of its own, created once and
    // protected (removing an entry from the config would schedule its destruction; verifiers of old
    // provenance need it). A version is ENABLED until the operator marks it retired *and* disabled (runbook
    // step 4, once the new signer revision serves): then KMS itself refuses to sign with it. Cloud KMS answers
    // GetPublicKey only for ENABLED versions, so the signer keeps serving a disabled version's PEM from the
    // keyring documents it published while the version was enabled.
    const versions: SignerKeyVersion[] = args.versions.map((v, i) => {
        if (i === 0) {
            return { ...v, name: pulumi.interpolate`${key.id}/cryptoKeyVersions/1` };
        }
        const resource = new gcp.kms.CryptoKeyVersion(`${name}-key-version-${v.id}`, {
            cryptoKey: key.id,
            state: v.disabled === true ? "DISABLED" : "ENABLED",
        }, { parent, protect: true });
        return { ...v, name: resource.name, resource };
    });

    return { ringSuffix, keyRing, key, signerBinding, verifierBinding, versions };
}
