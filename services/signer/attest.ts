/**
 * Turns a validated in-toto statement into what the fleet publishes: a DSSE envelope and the
 * Sigstore bundle v0.3 around it, built with @sigstore/sign. The bundle carries
 * - the envelope, signed by the active key version (Cloud KMS HSM, or the local file key);
 * - `verificationMaterial.publicKey.hint` = that version's name (how verifiers pick the key);
 * - an RFC 3161 timestamp over the signature from the fleet's timestamp authority;
 * - a transparency-log entry with its inclusion proof, only when a log is configured.
 *
 * Before anything is returned the bundle is verified with @sigstore/verify against the fleet's own
 * trusted root and the active version's public key and window: a signature the key does not
 * verify, a timestamp from a TSA the trusted root does not list, or one outside the key version's
 * window never leaves the signer (verifiers would refuse it anyway; this fails closed early).
 */
import { BUNDLE_V03_MEDIA_TYPE, bundleToJSON, type Bundle, type SerializedBundle } from "@sigstore/bundle";
import type { TrustedRoot } from "@sigstore/protobuf-specs";
import { DSSEBundleBuilder, RekorWitness, TSAWitness, type Signature, type Signer, type Witness } from "@sigstore/sign";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { DsseEnvelope, INTOTO_PAYLOAD_TYPE } from "../lib/dsse";
import type { KeyVersion } from "../lib/keyring";
import { keyFinder } from "../lib/trustedRoot";
import { SigningKey, SigningKeyError } from "./signingKey";

/** application/vnd.dev.sigstore.bundle.v0.3+json */
export const BUNDLE_MEDIA_TYPE = BUNDLE_V03_MEDIA_TYPE;

/** Where the witnesses are: the TSA always, the log when configured. */
export interface WitnessConfig {
    /** Base URL of the RFC 3161 timestamp authority (sigstore timestamp-authority API). */
    tsaUrl: string;
    /** Base URL of a Rekor-compatible log; absent = no log. */
    tlogUrl?: string;
    /** The log's API: 1 (Rekor v1, rekor.sigstore.dev) or 2 (Rekor v2, rekor-tiles). Default 1. */
    tlogApiVersion?: 1 | 2;
    /** The log sits behind Cloud Run IAM (the enclave's private log): calls carry the signer's ID token. */
    tlogIdentity?: boolean;
    /** Per-request timeout for the TSA and the log, ms. Default 10 s. */
    timeoutMs?: number;
    /** Retries of a failed TSA or log request. Default 2. */
    retries?: number;
}

export interface Attestation {
    envelope: DsseEnvelope;
    bundle: SerializedBundle;
}

/** A failure to produce a verifiable bundle; nothing was returned or stored. */
export class AttestationError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "AttestationError";
    }
}

/**
 * @sigstore/sign's Signer over the fleet's key backend: signs the DSSE PAE it is handed, and names
 * the key version as the bundle's public-key hint.
 */
export class KeyVersionSigner implements Signer {
    constructor(
        private readonly key: SigningKey,
        private readonly publicKeyPem: () => Promise<string>,
    ) {}

    async sign(data: Buffer): Promise<Signature> {
        const signature = await this.key.sign(data);
        return { signature, key: { $case: "publicKey", publicKey: await this.publicKeyPem(), hint: this.key.name } };
    }
}

/** The witnesses for a configuration: the TSA first, then the log if there is one. */
export function witnessesFor(config: WitnessConfig): Witness[] {
    const fetchOptions = { timeout: config.timeoutMs ?? 10_000, retry: { retries: config.retries ?? 2 } };
    const witnesses: Witness[] = [new TSAWitness({ tsaBaseURL: config.tsaUrl, ...fetchOptions })];
    if (config.tlogUrl !== undefined) {
        witnesses.push(new RekorWitness({ rekorBaseURL: config.tlogUrl, entryType: "dsse", majorApiVersion: config.tlogApiVersion ?? 1, ...fetchOptions }));
    }
    return witnesses;
}

/** The DSSE envelope inside a bundle, in the `.intoto.jsonl` form. */
export function envelopeOf(bundle: SerializedBundle): DsseEnvelope {
    const env = bundle.dsseEnvelope;
    if (env === undefined) {
        throw new AttestationError("the bundle holds no DSSE envelope");
    }
    return { payloadType: env.payloadType, payload: env.payload, signatures: env.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig })) };
}

export interface AttestorOptions {
    key: SigningKey;
    /** The active version (its window bounds the timestamp). */
    version: KeyVersion;
    /** The active version's public key PEM (fetched after signing, cached by the caller). */
    publicKeyPem: () => Promise<string>;
    witnesses: Witness[];
    trustedRoot: TrustedRoot;
}

/**
 * Signs `payload` (the serialised statement) into a bundle and checks it as a verifier would:
 * timestamp threshold 1, log threshold 1 when the trusted root lists a log.
 */
export async function attest(payload: Buffer, opts: AttestorOptions): Promise<Attestation> {
    const builder = new DSSEBundleBuilder({ signer: new KeyVersionSigner(opts.key, opts.publicKeyPem), witnesses: opts.witnesses });
    let bundle: Bundle;
    try {
        bundle = await builder.create({ data: payload, type: INTOTO_PAYLOAD_TYPE });
    } catch (err) {
        if (err instanceof SigningKeyError) {
            throw err;
        }
        throw new AttestationError(`the bundle could not be built (timestamp authority or log unavailable?): ${(err as Error).message}`);
    }
    const trust = toTrustMaterial(opts.trustedRoot, keyFinder([{ name: opts.key.name, publicKey: await opts.publicKeyPem(), window: opts.version }]));
    try {
        new Verifier(trust, { timestampThreshold: 1, tlogThreshold: opts.trustedRoot.tlogs.length > 0 ? 1 : 0, ctlogThreshold: 0 }).verify(toSignedEntity(bundle));
    } catch (err) {
        throw new AttestationError(`the bundle does not verify against the fleet's trusted root and the active key version: ${(err as Error).message}`);
    }
    const serialized = bundleToJSON(bundle);
    return { envelope: envelopeOf(serialized), bundle: serialized };
}
