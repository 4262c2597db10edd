/**
 * The fleet's trusted root: a Sigstore TrustedRoot document (the format cosign's `--trusted-root`,
 * sigstore-js and sigstore-go read) listing the fleet's timestamp authority and, when one is
 * configured, its transparency log. It holds no signing keys: those are in the keyring document,
 * published beside it. A verifier with both checks a fleet bundle offline.
 */
import * as crypto from "crypto";
import { HashAlgorithm, PublicKeyDetails, TrustedRoot } from "@sigstore/protobuf-specs";
import { VerificationError, type KeyFinderFunc } from "@sigstore/verify";

/** The media type every Sigstore client accepts (sigstore-go, sigstore-js, cosign). */
export const TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

export interface TimestampAuthorityInput {
    /** The TSA's base URL (identifies it; verifiers never call it). */
    uri: string;
    /** PEM certificates, leaf (the TSA's signing certificate) first, root last. */
    certChainPem: string;
    /** ISO 8601 instant from which its timestamps are trusted. */
    validFrom: string;
    /** ISO 8601 instant after which its timestamps are no longer trusted (a retired TSA key). */
    validUntil?: string;
}

export interface TransparencyLogInput {
    /** The log's base URL, e.g. https://rekor.sigstore.dev. */
    baseUrl: string;
    /** The log's PEM public key (ECDSA P-256 or Ed25519). */
    publicKeyPem: string;
    validFrom: string;
}

export interface TrustedRootInput {
    timestampAuthorities: TimestampAuthorityInput[];
    transparencyLogs?: TransparencyLogInput[];
}

/** Splits a PEM bundle into DER certificates, in order; throws naming the problem. */
export function pemCertificates(pem: string, source: string): Buffer[] {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) {
        throw new Error(`${source} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    }
    return blocks.map((b, i) => {
        try {
            return new crypto.X509Certificate(b).raw;
        } catch (err) {
            throw new Error(`${source} certificate ${i + 1} is not an X.509 certificate: ${(err as Error).message}`);
        }
    });
}

/** "CN=a\nO=b" (node's X509Certificate.subject) -> the one attribute asked for. */
function attribute(subject: string, name: string): string {
    return subject.split("\n").find((l) => l.startsWith(`${name}=`))?.slice(name.length + 1) ?? "";
}

function logKeyDetails(key: crypto.KeyObject): PublicKeyDetails {
    if (key.asymmetricKeyType === "ed25519") {
        return PublicKeyDetails.PKIX_ED25519;
    }
    if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") {
        return PublicKeyDetails.PKIX_ECDSA_P256_SHA_256;
    }
    throw new Error(`a transparency log key must be ECDSA P-256 or Ed25519, got ${key.asymmetricKeyType}`);
}

/** The TrustedRoot message for the fleet's TSA(s) and log(s). */
export function buildTrustedRoot(input: TrustedRootInput): TrustedRoot {
    if (input.timestampAuthorities.length === 0) {
        throw new Error("a fleet trusted root lists at least one timestamp authority: every bundle carries a timestamp");
    }
    return {
        mediaType: TRUSTED_ROOT_MEDIA_TYPE,
        certificateAuthorities: [],
        ctlogs: [],
        timestampAuthorities: input.timestampAuthorities.map((tsa, i) => {
            const chain = pemCertificates(tsa.certChainPem, `timestampAuthorities[${i}].certChainPem`);
            const root = new crypto.X509Certificate(chain[chain.length - 1]);
            return {
                subject: { organization: attribute(root.subject, "O"), commonName: attribute(root.subject, "CN") },
                uri: tsa.uri,
                certChain: { certificates: chain.map((rawBytes) => ({ rawBytes })) },
                validFor: { start: new Date(tsa.validFrom), end: tsa.validUntil === undefined ? undefined : new Date(tsa.validUntil) },
                operator: "",
            };
        }),
        tlogs: (input.transparencyLogs ?? []).map((log) => {
            const key = crypto.createPublicKey(log.publicKeyPem);
            const der = key.export({ type: "spki", format: "der" });
            return {
                baseUrl: log.baseUrl,
                hashAlgorithm: HashAlgorithm.SHA2_256,
                publicKey: { rawBytes: der, keyDetails: logKeyDetails(key), validFor: { start: new Date(log.validFrom), end: undefined } },
                // Rekor's log id is the SHA-256 of the DER public key.
                logId: { keyId: crypto.createHash("sha256").update(der).digest() },
                checkpointKeyId: undefined,
                operator: "",
            };
        }),
    };
}

/** The trusted_root.json text (protobuf JSON, as Sigstore clients parse it). */
export function trustedRootJson(root: TrustedRoot): string {
    return `${JSON.stringify(TrustedRoot.toJSON(root), null, 2)}\n`;
}

/** Parses a trusted_root.json; throws naming the problem. */
export function parseTrustedRoot(text: string, source = "trusted root"): TrustedRoot {
    let json: any;
    try {
        json = JSON.parse(text);
    } catch {
        throw new Error(`${source} is not JSON`);
    }
    if (typeof json?.mediaType !== "string" || !json.mediaType.startsWith("application/vnd.dev.sigstore.trustedroot")) {
        throw new Error(`${source} has mediaType ${JSON.stringify(json?.mediaType)}; a Sigstore trusted root has ${TRUSTED_ROOT_MEDIA_TYPE}`);
    }
    return TrustedRoot.fromJSON(json);
}

export interface VersionKey {
    /** The key version's name: the bundle's `publicKey.hint`. */
    name: string;
    publicKey: crypto.KeyObject | string;
    /** The version's window; absent = valid at any time (a bare PEM key). */
    window?: { validFrom: string; validUntil?: string };
}

/**
 * @sigstore/verify's key lookup for the fleet's key versions: the bundle's hint names the version,
 * and a timestamp counts only inside its window [validFrom, validUntil) (the keyring's semantics:
 * a timestamp at or after retirement, or before the version was published, is refused).
 */
export function keyFinder(keys: VersionKey[]): KeyFinderFunc {
    return (hint: string) => {
        const found = keys.find((k) => k.name === hint);
        if (found === undefined) {
            throw new VerificationError({ code: "PUBLIC_KEY_ERROR", message: `no key version named ${JSON.stringify(hint)} in the keyring` });
        }
        const from = found.window === undefined ? -Infinity : Date.parse(found.window.validFrom);
        const until = found.window?.validUntil === undefined ? Infinity : Date.parse(found.window.validUntil);
        return {
            publicKey: typeof found.publicKey === "string" ? crypto.createPublicKey(found.publicKey) : found.publicKey,
            validFor: (date: Date) => date.getTime() >= from && date.getTime() < until,
        };
    };
}
