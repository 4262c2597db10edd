import * as assert from "assert";
import * as crypto from "crypto";
import { crc32c, kmsPublicKey, KmsSigningKey, SigningKeyError } from "../../../services/signer/signingKey";
import { FakeKms, p256, signDigestP256 } from "../../helpers/signer";

const V1 = "projects/signer-prj/locations/europe-west1/keyRings/fleet/cryptoKeys/provenance/cryptoKeyVersions/1";
const V2 = "projects/signer-prj/locations/europe-west1/keyRings/fleet/cryptoKeys/provenance/cryptoKeyVersions/2";

describe("Cloud KMS signing backend (fake client, no gRPC)", () => {
    let kms: FakeKms;
    beforeEach(() => {
        kms = new FakeKms();
        kms.addVersion(V1);
        kms.addVersion(V2);
    });

    it("computes CRC32C (Castagnoli) as KMS does", () => {
        assert.strictEqual(crc32c("123456789"), 0xe3069283);
        assert.strictEqual(crc32c(Buffer.alloc(0)), 0);
    });

    it("the test's digest signer is real ECDSA P-256 (sanity check of the fake)", () => {
        const key = p256();
        const data = Buffer.from("x");
        const sig = signDigestP256(key.privateKey, crypto.createHash("sha256").update(data).digest());
        assert.ok(crypto.verify("sha256", data, { key: key.publicKey, dsaEncoding: "der" }, sig));
    });

    it("sends only the SHA-256 digest with its CRC32C and returns a DER signature over the data", async () => {
        const data = Buffer.from("DSSEv1 28 application/vnd.in-toto+json 2 {}");
        const sig = await new KmsSigningKey(kms, V1).sign(data);
        const [req] = kms.signRequests;
        const digest = crypto.createHash("sha256").update(data).digest();
        assert.strictEqual(req.name, V1);
        assert.strictEqual(req.data, undefined, "the data itself never leaves the signer");
        assert.deepStrictEqual(Buffer.from(req.digest!.sha256 as Uint8Array), digest);
        assert.strictEqual(req.digestCrc32c!.value, crc32c(digest));
        assert.ok(crypto.verify("sha256", data, { key: kms.keys.get(V1)!.publicKey, dsaEncoding: "der" }, sig));
    });

    const refusals: [string, FakeKms["faults"], RegExp][] = [
        ["KMS did not verify the digest CRC32C", { unverifiedDigest: true }, /verifiedDigestCrc32c is false/],
        ["the signature CRC32C does not match", { badSignatureCrc: true }, /failed its CRC32C check \(signatureCrc32c\)/],
        ["the signature was corrupted after KMS computed its CRC32C", { corruptSignature: true }, /failed its CRC32C check \(signatureCrc32c\)/],
        ["the response names another key version", { answerAs: V2 }, /answered for .*cryptoKeyVersions\/2.* when .*cryptoKeyVersions\/1 was asked/],
    ];
    for (const [what, faults, message] of refusals) {
        it(`refuses to return a signature when ${what}`, async () => {
            kms.faults = faults;
            await assert.rejects(new KmsSigningKey(kms, V1).sign(Buffer.from("data")), (err: unknown) => err instanceof SigningKeyError && message.test(err.message));
        });
    }

    it("reports a KMS error as a SigningKeyError", async () => {
        await assert.rejects(new KmsSigningKey(kms, `${V1}0`).sign(Buffer.from("data")), (err: unknown) => err instanceof SigningKeyError && /NOT_FOUND/.test(err.message));
    });

    it("accepts the CRC32C as the client returns int64 values: string, number or Long", async () => {
        const key = new KmsSigningKey(
            {
                asymmetricSign: async (req) => {
                    const [res] = await kms.asymmetricSign(req);
                    const value = Number(res.signatureCrc32c!.value);
                    return [{ ...res, signatureCrc32c: { value: { toNumber: () => value } as any } }];
                },
                getPublicKey: (req) => kms.getPublicKey(req),
            },
            V1,
        );
        assert.ok((await key.sign(Buffer.from("d"))).length > 8);
    });

    it("fetches a public key with the PEM's CRC32C checked", async () => {
        assert.strictEqual((await kmsPublicKey(kms, V1)).pem, kms.keys.get(V1)!.publicPem);
        kms.faults = { badPemCrc: true };
        await assert.rejects(kmsPublicKey(kms, V1), /public key of .* failed its CRC32C check \(pemCrc32c\)/);
        kms.faults = { answerAs: V2 };
        await assert.rejects(kmsPublicKey(kms, V1), /returned the public key of .*\/2/);
        kms.faults = { protectionLevel: "SOFTWARE" };
        await assert.rejects(kmsPublicKey(kms, V1), /protection level SOFTWARE; the signer signs only with an HSM key/);
    });
});
