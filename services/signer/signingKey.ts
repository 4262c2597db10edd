/**
 * The signer's key backends behind one interface: a Cloud KMS HSM key version (cloud mode) and a
 * P-256 PEM file (local mode). Both produce the same thing: an ECDSA P-256 signature, DER encoded,
 * over the SHA-256 digest of the bytes given (the DSSE PAE).
 *
 * The KMS backend sends the digest, never the data, with its CRC32C, and accepts the response only
 * when KMS confirms it received the digest intact (verifiedDigestCrc32c), the response names the
 * version asked for, and the signature's CRC32C matches: a corrupted or misrouted response is
 * refused rather than returned.
 */
import * as crypto from "crypto";
import { CRC32C } from "@google-cloud/storage";
import type { protos } from "@google-cloud/kms";
import type { ServiceMetrics } from "../lib/ops/metrics";

export const SIGNING_ALGORITHM = "EC_SIGN_P256_SHA256";

export interface PublicKeyInfo {
    pem: string;
    /** Cloud KMS algorithm name. */
    algorithm: string;
}

export interface SigningKey {
    /** The key id written into envelopes: the full cryptoKeyVersions/N name in cloud mode. */
    readonly name: string;
    /** DER ECDSA P-256 signature over sha256(data). */
    sign(data: Buffer): Promise<Buffer>;
    publicKey(): Promise<PublicKeyInfo>;
}

/** A failure of the key backend; the signer answers 502 and returns no signature. */
export class SigningKeyError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SigningKeyError";
    }
}

/** CRC32C (Castagnoli) of `data` as an unsigned 32-bit integer, the form KMS's Int64Value carries. */
export function crc32c(data: Buffer | string): number {
    const c = new CRC32C();
    c.update(typeof data === "string" ? Buffer.from(data, "utf8") : data);
    return c.valueOf() >>> 0;
}

/** An Int64Value as the client library returns it (string by default, or number/Long). */
function int64(value: unknown): number | undefined {
    const v = (value as { value?: unknown } | null | undefined)?.value;
    if (typeof v === "number") {
        return v;
    }
    if (typeof v === "string" && /^\d+$/.test(v)) {
        return Number(v);
    }
    if (v !== null && typeof v === "object" && typeof (v as any).toNumber === "function") {
        return (v as any).toNumber();
    }
    return undefined;
}

/** The subset of `KeyManagementServiceClient` the signer uses (so tests can hand in a gRPC-free object). */
export interface KmsClientLike {
    asymmetricSign(request: protos.google.cloud.kms.v1.IAsymmetricSignRequest, options?: KmsCallOptions): Promise<[protos.google.cloud.kms.v1.IAsymmetricSignResponse, ...unknown[]]>;
    getPublicKey(request: protos.google.cloud.kms.v1.IGetPublicKeyRequest, options?: KmsCallOptions): Promise<[protos.google.cloud.kms.v1.IPublicKey, ...unknown[]]>;
}

/** The google-gax call options the signer sets: a timeout per attempt, and its own retries instead of the library's. */
export interface KmsCallOptions {
    timeout?: number;
    maxRetries?: number;
}

/** A response that failed its integrity check: counted as `INTEGRITY` in kms.errors, never retried. */
function integrityFailure(metrics: ServiceMetrics | undefined, method: "asymmetricSign" | "getPublicKey", message: string): SigningKeyError {
    metrics?.count("kmsErrors", { method, code: "INTEGRITY" });
    return new SigningKeyError(message);
}

const EC_SIGN_P256_SHA256_ENUM = 12;
const HSM_ENUM = 2;

/** Fetches a version's public key with the PEM's CRC32C checked; refuses anything but an HSM P-256 key. */
export async function kmsPublicKey(client: KmsClientLike, name: string, metrics?: ServiceMetrics): Promise<PublicKeyInfo> {
    const [key] = await client.getPublicKey({ name });
    if (key.name !== name) {
        throw integrityFailure(metrics, "getPublicKey", `Cloud KMS returned the public key of ${JSON.stringify(key.name)} when ${name} was asked for`);
    }
    if (typeof key.pem !== "string" || int64(key.pemCrc32c) !== crc32c(key.pem)) {
        throw integrityFailure(metrics, "getPublicKey", `the public key of ${name} failed its CRC32C check (pemCrc32c): it was corrupted in transit`);
    }
    if (key.algorithm !== SIGNING_ALGORITHM && key.algorithm !== EC_SIGN_P256_SHA256_ENUM) {
        throw new SigningKeyError(`${name} has algorithm ${String(key.algorithm)}; the signer signs only with ${SIGNING_ALGORITHM}`);
    }
    if (key.protectionLevel !== "HSM" && key.protectionLevel !== HSM_ENUM) {
        throw new SigningKeyError(`${name} has protection level ${String(key.protectionLevel)}; the signer signs only with an HSM key`);
    }
    return { pem: key.pem, algorithm: SIGNING_ALGORITHM };
}

export class KmsSigningKey implements SigningKey {
    constructor(
        private readonly client: KmsClientLike,
        readonly name: string,
        private readonly metrics?: ServiceMetrics,
    ) {}

    async sign(data: Buffer): Promise<Buffer> {
        const digest = crypto.createHash("sha256").update(data).digest();
        let response: protos.google.cloud.kms.v1.IAsymmetricSignResponse;
        try {
            [response] = await this.client.asymmetricSign({
                name: this.name,
                digest: { sha256: digest },
                digestCrc32c: { value: crc32c(digest) },
            });
        } catch (err) {
            throw new SigningKeyError(`Cloud KMS asymmetricSign on ${this.name} failed: ${(err as Error).message}`);
        }
        if (response.verifiedDigestCrc32c !== true) {
            throw integrityFailure(this.metrics, "asymmetricSign", "Cloud KMS did not verify the digest's CRC32C (verifiedDigestCrc32c is false): the request was corrupted in transit");
        }
        if (response.name !== this.name) {
            throw integrityFailure(this.metrics, "asymmetricSign", `Cloud KMS answered for ${JSON.stringify(response.name)} when ${this.name} was asked to sign`);
        }
        const signature = response.signature;
        if (signature === null || signature === undefined || typeof signature === "string" || signature.length === 0) {
            throw new SigningKeyError("Cloud KMS returned no signature bytes");
        }
        const bytes = Buffer.from(signature);
        if (int64(response.signatureCrc32c) !== crc32c(bytes)) {
            throw integrityFailure(this.metrics, "asymmetricSign", "the signature from Cloud KMS failed its CRC32C check (signatureCrc32c): it was corrupted in transit");
        }
        return bytes;
    }

    publicKey(): Promise<PublicKeyInfo> {
        return kmsPublicKey(this.client, this.name, this.metrics);
    }
}

/** Parses a P-256 private key PEM (PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY`); throws saying what is wrong. */
export function loadP256PrivateKey(pem: string, source: string): crypto.KeyObject {
    let key: crypto.KeyObject;
    try {
        key = crypto.createPrivateKey({ key: pem, format: "pem" });
    } catch (err) {
        throw new Error(`${source} is not a PEM private key (PKCS#8 or SEC1): ${(err as Error).message}`);
    }
    if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
        throw new Error(`${source} is a ${key.asymmetricKeyType} key${key.asymmetricKeyDetails?.namedCurve ? ` on ${key.asymmetricKeyDetails.namedCurve}` : ""}; the signer needs an EC P-256 (prime256v1) key, e.g. openssl ecparam -name prime256v1 -genkey -noout`);
    }
    return key;
}

/** Local mode: a P-256 key from a file, signing with the same semantics as EC_SIGN_P256_SHA256. */
export class FileSigningKey implements SigningKey {
    readonly name: string;
    private readonly publicPem: string;

    constructor(private readonly key: crypto.KeyObject) {
        const pub = crypto.createPublicKey(key);
        this.publicPem = pub.export({ type: "spki", format: "pem" }) as string;
        // No KMS name exists; the id is the fingerprint of the public key, so it cannot collide with one.
        this.name = `local:sha256:${crypto.createHash("sha256").update(pub.export({ type: "spki", format: "der" })).digest("hex")}`;
    }

    async sign(data: Buffer): Promise<Buffer> {
        return crypto.sign("sha256", data, { key: this.key, dsaEncoding: "der" });
    }

    async publicKey(): Promise<PublicKeyInfo> {
        return { pem: this.publicPem, algorithm: SIGNING_ALGORITHM };
    }
}
