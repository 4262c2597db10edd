/**
 * Test fixtures for the signer: throwaway P-256 keys generated at test time, a valid SLSA v1
 * statement, and a gRPC-free fake of the Cloud KMS client surface the signer uses
 * (asymmetricSign over a digest, getPublicKey) with switches that corrupt its responses.
 */
import * as crypto from "crypto";
import type { protos } from "@google-cloud/kms";
import { SLSA_PROVENANCE_V1, STATEMENT_TYPE } from "../../services/lib/statement";
import { crc32c, KmsClientLike } from "../../services/signer/signingKey";

export const BUILDER_ID = "https://github.com/example-org/build-fleet/builder@v1";
export const SOURCE = "https://github.com/example-org/app";
export const ARTIFACT = Buffer.from("the artifact bytes\n");
export const sha256hex = (b: Buffer | string) => crypto.createHash("sha256").update(b).digest("hex");

export interface TestKey {
    privateKey: crypto.KeyObject;
    publicKey: crypto.KeyObject;
    pkcs8Pem: string;
    sec1Pem: string;
    publicPem: string;
}

export function p256(): TestKey {
    const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
    return {
        privateKey,
        publicKey,
        pkcs8Pem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
        sec1Pem: privateKey.export({ type: "sec1", format: "pem" }) as string,
        publicPem: publicKey.export({ type: "spki", format: "pem" }) as string,
    };
}

/** A statement the fleet's signer accepts; `mutate` edits a deep copy. */
export function statement(mutate?: (s: any) => void, artifact: Buffer = ARTIFACT): any {
    const finished = new Date(Date.now() - 60_000);
    const s = {
        _type: STATEMENT_TYPE,
        subject: [{ name: "dist/app.tgz", digest: { sha256: sha256hex(artifact) } }],
        predicateType: SLSA_PROVENANCE_V1,
        predicate: {
            buildDefinition: {
                buildType: "https://github.com/example-org/build-fleet/buildtypes/github-actions-job/v1",
                externalParameters: {
                    workflow: { ref: "refs/heads/main", repository: SOURCE, path: ".github/workflows/build.yml" },
                },
                internalParameters: {
                    github: { event_name: "push", repository_id: "41", repository_owner_id: "42", runner_environment: "self-hosted" },
                    fleet: { pool: "pool-a", image: { uri: "https://compute.googleapis.com/compute/v1/projects/p/global/images/runner-1", id: "1234" } },
                },
                resolvedDependencies: [{ uri: `git+${SOURCE}@refs/heads/main`, digest: { gitCommit: "a".repeat(40) } }],
            },
            runDetails: {
                builder: { id: BUILDER_ID },
                metadata: {
                    invocationId: `${SOURCE}/actions/runs/1/attempts/1#${crypto.randomUUID()}`,
                    startedOn: new Date(finished.getTime() - 120_000).toISOString(),
                    finishedOn: finished.toISOString(),
                },
            },
        },
    };
    const copy = structuredClone(s);
    mutate?.(copy);
    return copy;
}

// ---- ECDSA P-256 over a precomputed digest (what KMS does); node:crypto only signs data it hashes itself ----
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const G: [bigint, bigint] = [
    0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
];
const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;
function inv(a: bigint, m: bigint): bigint {
    let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
    while (r1 !== 0n) {
        const q = r0 / r1;
        [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
    }
    return mod(s0, m);
}
type Pt = [bigint, bigint] | null;
function add(a: Pt, b: Pt): Pt {
    if (a === null) return b;
    if (b === null) return a;
    if (a[0] === b[0] && mod(a[1] + b[1], P) === 0n) return null;
    const l = a[0] === b[0] && a[1] === b[1] ? mod((3n * a[0] * a[0] - 3n) * inv(2n * a[1], P), P) : mod((b[1] - a[1]) * inv(b[0] - a[0], P), P);
    const x = mod(l * l - a[0] - b[0], P);
    return [x, mod(l * (a[0] - x) - a[1], P)];
}
function mul(k: bigint, pt: Pt): Pt {
    let r: Pt = null;
    for (let q = pt; k > 0n; k >>= 1n, q = add(q, q)) {
        if (k & 1n) r = add(r, q);
    }
    return r;
}
const derInt = (v: bigint) => {
    let hex = v.toString(16);
    if (hex.length % 2) hex = "0" + hex;
    if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = "00" + hex;
    const b = Buffer.from(hex, "hex");
    return Buffer.concat([Buffer.from([0x02, b.length]), b]);
};
export function signDigestP256(key: crypto.KeyObject, digest: Buffer): Buffer {
    const d = BigInt("0x" + Buffer.from(key.export({ format: "jwk" }).d!, "base64url").toString("hex"));
    const z = BigInt("0x" + digest.toString("hex"));
    for (;;) {
        const k = mod(BigInt("0x" + crypto.randomBytes(40).toString("hex")), N - 1n) + 1n;
        const r = mod(mul(k, G)![0], N);
        const s = mod(inv(k, N) * (z + r * d), N);
        if (r !== 0n && s !== 0n) {
            const body = Buffer.concat([derInt(r), derInt(s)]);
            return Buffer.concat([Buffer.from([0x30, body.length]), body]);
        }
    }
}

export interface FakeKmsFaults {
    /** asymmetricSign answers verifiedDigestCrc32c: false (KMS did not check the digest). */
    unverifiedDigest?: boolean;
    /** asymmetricSign's signatureCrc32c does not match the signature. */
    badSignatureCrc?: boolean;
    /** asymmetricSign flips a byte of the signature after computing its CRC32C (corruption in transit). */
    corruptSignature?: boolean;
    /** asymmetricSign and getPublicKey answer for this name instead. */
    answerAs?: string;
    /** getPublicKey's pemCrc32c does not match the PEM. */
    badPemCrc?: boolean;
    /** Sign with this key instead of the version's (a miswired backend). */
    signWith?: crypto.KeyObject;
    /** Report this protection level. */
    protectionLevel?: string;
    /** The next this-many calls fail with gRPC UNAVAILABLE (a transient outage); counts down. */
    unavailable?: number;
}

/** A gRPC-free stand-in for KeyManagementServiceClient's asymmetricSign/getPublicKey. */
export class FakeKms implements KmsClientLike {
    readonly keys = new Map<string, TestKey>();
    readonly signRequests: protos.google.cloud.kms.v1.IAsymmetricSignRequest[] = [];
    faults: FakeKmsFaults = {};
    /** Versions disabled in KMS: getPublicKey and asymmetricSign fail for them. */
    readonly disabled = new Set<string>();

    addVersion(name: string): TestKey {
        const key = p256();
        this.keys.set(name, key);
        return key;
    }

    private key(name: string | null | undefined): TestKey {
        if ((this.faults.unavailable ?? 0) > 0) {
            this.faults.unavailable!--;
            throw Object.assign(new Error("14 UNAVAILABLE: the service is currently unavailable"), { code: 14 });
        }
        const key = this.keys.get(name ?? "");
        if (key === undefined) {
            throw Object.assign(new Error(`5 NOT_FOUND: ${name} not found`), { code: 5 });
        }
        if (this.disabled.has(name!)) {
            throw Object.assign(new Error(`9 FAILED_PRECONDITION: ${name} is not enabled, current state is: DISABLED`), { code: 9 });
        }
        return key;
    }

    async asymmetricSign(req: protos.google.cloud.kms.v1.IAsymmetricSignRequest): Promise<[protos.google.cloud.kms.v1.IAsymmetricSignResponse]> {
        this.signRequests.push(req);
        const key = this.key(req.name);
        const digest = Buffer.from(req.digest?.sha256 as Uint8Array);
        if (digest.length !== 32 || req.data) {
            throw Object.assign(new Error("3 INVALID_ARGUMENT: digest.sha256 of 32 bytes required for EC_SIGN_P256_SHA256"), { code: 3 });
        }
        const sentCrc = req.digestCrc32c?.value;
        if (sentCrc !== undefined && sentCrc !== null && Number(sentCrc) !== crc32c(digest)) {
            throw Object.assign(new Error("3 INVALID_ARGUMENT: The checksum in field digest_crc32c did not match the data in field digest."), { code: 3 });
        }
        let signature = signDigestP256(this.faults.signWith ?? key.privateKey, digest);
        const crc = crc32c(signature);
        if (this.faults.corruptSignature) {
            signature = Buffer.from(signature);
            signature[signature.length - 1] ^= 0x01;
        }
        return [
            {
                signature,
                signatureCrc32c: { value: String(this.faults.badSignatureCrc ? (crc + 1) >>> 0 : crc) },
                verifiedDigestCrc32c: sentCrc !== undefined && sentCrc !== null && !this.faults.unverifiedDigest,
                name: this.faults.answerAs ?? req.name,
                protectionLevel: "HSM",
            },
        ];
    }

    async getPublicKey(req: protos.google.cloud.kms.v1.IGetPublicKeyRequest): Promise<[protos.google.cloud.kms.v1.IPublicKey]> {
        const key = this.key(req.name);
        const crc = crc32c(key.publicPem);
        return [
            {
                pem: key.publicPem,
                pemCrc32c: { value: String(this.faults.badPemCrc ? (crc + 1) >>> 0 : crc) },
                algorithm: "EC_SIGN_P256_SHA256",
                name: this.faults.answerAs ?? req.name,
                protectionLevel: (this.faults.protectionLevel ?? "HSM") as "HSM",
            },
        ];
    }
}
