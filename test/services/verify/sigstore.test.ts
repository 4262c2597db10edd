/**
 * The simulation's bundles checked the way an outside consumer does it: @sigstore/verify,
 * @sigstore/bundle and @sigstore/protobuf-specs only, against the trusted_root.json and keys.json
 * the simulation wrote, with a timestamp required (threshold 1). None of this package's
 * verification code runs here. Each refusal has its control: the untouched bundle verifies with
 * the same verifier, so the refusal comes from the change alone.
 */
import * as assert from "assert";
import { createHash, createPublicKey, X509Certificate } from "crypto";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { bundleFromJSON, ValidationError, type SerializedBundle } from "@sigstore/bundle";
import { PublicKey, PublicKeyDetails, TrustedRoot } from "@sigstore/protobuf-specs";
import { TSAWitness } from "@sigstore/sign";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { LocalTsa, startLocalTsa } from "../../../services/sim/localTsa";
import { simulate, SimSummary } from "../../../services/sim/simulate";

interface KeysJson {
    keys: { name: string; publicKeyPem: string; validFrom: string; validUntil?: string }[];
}

/** keys.json -> @sigstore/verify's public keys by hint, each valid over its window. */
function publicKeys(keys: KeysJson): Record<string, PublicKey> {
    return Object.fromEntries(
        keys.keys.map((k) => [
            k.name,
            {
                rawBytes: createPublicKey(k.publicKeyPem).export({ type: "spki", format: "der" }),
                keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
                validFor: { start: new Date(k.validFrom), end: k.validUntil === undefined ? undefined : new Date(k.validUntil) },
            },
        ]),
    );
}

/** The genTime of the bundle's one RFC 3161 timestamp, as the verifier reads it. */
function timestampOf(bundle: SerializedBundle, root: TrustedRoot, keys: KeysJson): Date {
    const signer = new Verifier(toTrustMaterial(root, publicKeys(keys)), { timestampThreshold: 1, tlogThreshold: 0, ctlogThreshold: 0 });
    const entity = toSignedEntity(bundleFromJSON(bundle));
    signer.verify(entity);
    const ts = entity.timestamps[0];
    assert.ok(ts.$case === "timestamp-authority");
    return ts.timestamp.signingTime;
}

describe("simulation bundles verify with sigstore-js alone (timestamps required)", function () {
    this.timeout(120_000);
    let out: string;
    let summary: SimSummary;
    let root: TrustedRoot;
    let keys: KeysJson;
    let otherTsa: LocalTsa;
    const read = (rel: string) => readFileSync(path.join(out, rel), "utf8");
    const verify = (bundle: unknown, k: KeysJson = keys, r: TrustedRoot = root) =>
        new Verifier(toTrustMaterial(r, publicKeys(k)), { timestampThreshold: 1, tlogThreshold: r.tlogs.length > 0 ? 1 : 0, ctlogThreshold: 0 }).verify(
            toSignedEntity(bundleFromJSON(bundle)),
        );

    before(async () => {
        out = mkdtempSync(path.join(tmpdir(), "hbf-bundles-"));
        summary = await simulate({ jobs: 4, pools: 2, out, concurrency: 2, attacks: false });
        root = TrustedRoot.fromJSON(JSON.parse(read("trusted_root.json")));
        keys = JSON.parse(read("keys.json"));
        otherTsa = await startLocalTsa();
    });
    after(async () => {
        await otherTsa.close();
        rmSync(out, { recursive: true, force: true });
    });
    const firstBundle = (): SerializedBundle => JSON.parse(read(summary.jobs[0].bundle!));

    it("every job has <artifact>.sigstore.json (v0.3, key version hint, one timestamp) that verifies at timestamp threshold 1", () => {
        assert.strictEqual(summary.ok, true, JSON.stringify(summary.jobs.filter((j) => !j.verified)));
        assert.strictEqual(summary.jobs.length, 4);
        assert.strictEqual(root.timestampAuthorities.length, 1);
        for (const job of summary.jobs) {
            assert.strictEqual(job.bundle, `${job.artifact}.sigstore.json`);
            const bundle: SerializedBundle = JSON.parse(read(job.bundle!));
            assert.strictEqual(bundle.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
            assert.strictEqual(bundle.verificationMaterial.publicKey?.hint, keys.keys[0].name);
            assert.strictEqual(bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length, 1);
            verify(bundle);
            // The bundle's envelope is the one beside it, and its subject is the artifact.
            assert.deepStrictEqual(JSON.parse(read(job.envelope!)), { payloadType: bundle.dsseEnvelope!.payloadType, payload: bundle.dsseEnvelope!.payload, signatures: bundle.dsseEnvelope!.signatures });
            const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope!.payload, "base64").toString("utf8"));
            assert.strictEqual(statement.subject[0].digest.sha256, createHash("sha256").update(readFileSync(path.join(out, job.artifact))).digest("hex"));
        }
    });

    it("refuses a bundle without a timestamp: the threshold is what makes the timestamp required", () => {
        const bundle = firstBundle();
        bundle.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [] };
        assert.throws(() => verify(bundle), /expected 1 timestamps, got 0/);
    });

    it("refuses a timestamp from another TSA over the same signature", async () => {
        const bundle = firstBundle();
        const entity = bundleFromJSON(bundle);
        const { rfc3161Timestamps } = await new TSAWitness({ tsaBaseURL: otherTsa.url }).testify(entity.content);
        bundle.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: rfc3161Timestamps.map((t) => ({ signedTimestamp: Buffer.from(t.signedTimestamp).toString("base64") })) };
        assert.throws(() => verify(bundle), /timestamp could not be verified/);
        // Control: the same bundle verifies once the other TSA is trusted too.
        const certificates = otherTsa.certChainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((pem) => ({ rawBytes: new X509Certificate(pem).raw }));
        const other = { subject: undefined, uri: otherTsa.url, certChain: { certificates }, validFor: { start: new Date(otherTsa.authority.validFrom), end: undefined }, operator: "" };
        verify(bundle, keys, { ...root, timestampAuthorities: [...root.timestampAuthorities, other] });
    });

    it("refuses a timestamp after the key version's retirement, and one before its window", () => {
        const bundle = firstBundle();
        const at = timestampOf(bundle, root, keys);
        const retired = (until: Date): KeysJson => ({ keys: keys.keys.map((k) => ({ ...k, validUntil: until.toISOString() })) });
        assert.throws(() => verify(bundle, retired(new Date(at.getTime() - 1000))), /Public key is not valid for timestamp/);
        verify(bundle, retired(new Date(at.getTime() + 60_000)));
        const later: KeysJson = { keys: keys.keys.map((k) => ({ ...k, validFrom: new Date(at.getTime() + 1000).toISOString() })) };
        assert.throws(() => verify(bundle, later), /Public key is not valid for timestamp/);
    });

    it("refuses a tampered payload", () => {
        const bundle = firstBundle();
        const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope!.payload, "base64").toString("utf8"));
        statement.subject[0].digest.sha256 = "0".repeat(64);
        bundle.dsseEnvelope!.payload = Buffer.from(JSON.stringify(statement)).toString("base64");
        assert.throws(() => verify(bundle), /signature verification failed/);
    });

    it("refuses a bundle with two signatures", () => {
        const bundle = firstBundle();
        bundle.dsseEnvelope!.signatures = [bundle.dsseEnvelope!.signatures[0], bundle.dsseEnvelope!.signatures[0]];
        assert.throws(() => verify(bundle), (err: any) => err instanceof ValidationError && err.fields?.includes("content.dsseEnvelope.signatures"));
        // Control: the same envelope with its one signature verifies.
        bundle.dsseEnvelope!.signatures = bundle.dsseEnvelope!.signatures.slice(0, 1);
        verify(bundle);
    });
});
