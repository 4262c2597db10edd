/**
 * The transparency-log path, checked as an outside consumer does it: with a log configured
 * (`npm run simulate -- --tlog`, a local Rekor-compatible log), every bundle carries a log entry with its
 * signed entry timestamp and inclusion proof, trusted_root.json lists the log, and @sigstore/verify alone
 * (timestamp threshold 1, log threshold 1) accepts it. It refuses the same bundle without its entry, with a
 * forged entry time, or against a trusted root naming another log's key. None of this package's
 * verification code runs here; each refusal has the untouched bundle as its control.
 */
import * as assert from "assert";
import { createPublicKey, generateKeyPairSync } from "crypto";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { bundleFromJSON, type SerializedBundle } from "@sigstore/bundle";
import { PublicKey, PublicKeyDetails, TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { simulate, SimSummary } from "../../../services/sim/simulate";

describe("simulation bundles with a transparency log verify with sigstore-js alone (log entry required)", function () {
    this.timeout(120_000);
    let dir: string;
    let summary: SimSummary;
    let root: TrustedRoot;
    let keys: Record<string, PublicKey>;
    const at = (...p: string[]) => path.join(dir, ...p);

    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "hbf-tlog-"));
        summary = await simulate({ jobs: 2, pools: 1, out: dir, concurrency: 1, attacks: false, tlog: 1 });
        assert.strictEqual(summary.ok, true, JSON.stringify(summary.jobs));
        root = TrustedRoot.fromJSON(JSON.parse(readFileSync(at("trusted_root.json"), "utf8")));
        const keysJson = JSON.parse(readFileSync(at("keys.json"), "utf8")) as { keys: { name: string; publicKeyPem: string; validFrom: string }[] };
        keys = Object.fromEntries(keysJson.keys.map((k) => [k.name, {
            rawBytes: createPublicKey(k.publicKeyPem).export({ type: "spki", format: "der" }),
            keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
            validFor: { start: new Date(k.validFrom), end: undefined },
        }]));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const bundleOf = (i: number): SerializedBundle => JSON.parse(readFileSync(at(summary.jobs[i].bundle!), "utf8"));
    const verify = (bundle: SerializedBundle, trusted: TrustedRoot = root): void => {
        new Verifier(toTrustMaterial(trusted, keys), { timestampThreshold: 1, tlogThreshold: 1, ctlogThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(bundle)));
    };

    it("lists the log in trusted_root.json, and every bundle carries one entry (SET and inclusion proof) that verifies", () => {
        assert.strictEqual(root.tlogs.length, 1);
        assert.match(root.tlogs[0].baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
        for (let i = 0; i < summary.jobs.length; i++) {
            const bundle = bundleOf(i);
            const entries = bundle.verificationMaterial.tlogEntries;
            assert.strictEqual(entries.length, 1);
            assert.strictEqual(entries[0].kindVersion?.kind, "dsse");
            assert.ok(entries[0].inclusionPromise?.signedEntryTimestamp, "a signed entry timestamp");
            assert.ok(entries[0].inclusionProof?.rootHash && entries[0].inclusionProof.checkpoint?.envelope, "an inclusion proof with its signed checkpoint");
            assert.strictEqual(bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length, 1, "the TSA timestamp is still there");
            verify(bundle);
        }
    });

    it("refuses the bundle without its log entry", () => {
        const bundle = bundleOf(0);
        verify(bundle);
        bundle.verificationMaterial.tlogEntries = [];
        assert.throws(() => verify(bundle), /tlog/i);
    });

    it("refuses a log entry whose integrated time was changed (the signed entry timestamp no longer matches)", () => {
        const bundle = bundleOf(0);
        const entry = bundle.verificationMaterial.tlogEntries[0];
        entry.integratedTime = String(Number(entry.integratedTime) - 3600);
        assert.throws(() => verify(bundle), /signature|SET|inclusion|tlog/i);
    });

    it("refuses the bundle against a trusted root that names another log key", () => {
        const other = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "der" });
        const forged = TrustedRoot.fromJSON(TrustedRoot.toJSON(root));
        forged.tlogs[0].publicKey = { ...forged.tlogs[0].publicKey!, rawBytes: other };
        assert.throws(() => verify(bundleOf(0), forged), /inclusion promise could not be verified/);
    });
});

describe("a Rekor v2 log (rekor-tiles, the private log on GCP)", function () {
    this.timeout(120_000);

    it("every bundle carries a dsse 0.0.2 entry with a checkpointed inclusion proof that sigstore-js verifies; without it, refused", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "hbf-tlog2-"));
        try {
            const summary = await simulate({ jobs: 1, pools: 1, out: dir, concurrency: 1, attacks: false, tlog: 2 });
            assert.strictEqual(summary.ok, true, JSON.stringify(summary.jobs));
            const root = TrustedRoot.fromJSON(JSON.parse(readFileSync(path.join(dir, "trusted_root.json"), "utf8")));
            const k = JSON.parse(readFileSync(path.join(dir, "keys.json"), "utf8")).keys[0];
            const keys = { [k.name]: { rawBytes: createPublicKey(k.publicKeyPem).export({ type: "spki", format: "der" }), keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, validFor: { start: new Date(k.validFrom), end: undefined } } };
            const bundle: SerializedBundle = JSON.parse(readFileSync(path.join(dir, summary.jobs[0].bundle!), "utf8"));
            const entry = bundle.verificationMaterial.tlogEntries[0];
            assert.deepStrictEqual(entry.kindVersion, { kind: "dsse", version: "0.0.2" });
            assert.strictEqual(entry.inclusionPromise, undefined, "Rekor v2 gives no signed entry timestamp: the checkpoint proves inclusion");
            const verify = (b: SerializedBundle) => new Verifier(toTrustMaterial(root, keys), { timestampThreshold: 1, tlogThreshold: 1, ctlogThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(b)));
            verify(bundle);
            bundle.verificationMaterial.tlogEntries = [];
            assert.throws(() => verify(bundle), /tlog/i);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("the signer fails closed on a configured log", function () {
    this.timeout(60_000);

    it("signs nothing when the log is down, or when the trusted root lists a log the bundle has no entry from", async () => {
        const { attest, witnessesFor, AttestationError } = await import("../../../services/signer/attest");
        const { FileSigningKey } = await import("../../../services/signer/signingKey");
        const { buildTrustedRoot } = await import("../../../services/lib/trustedRoot");
        const { startLocalTsa } = await import("../../../services/sim/localTsa");
        const { startLocalRekor } = await import("../../../services/sim/localRekor");
        const tsa = await startLocalTsa();
        const rekor = await startLocalRekor();
        try {
            const key = new FileSigningKey(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey);
            const base = {
                key, version: { name: key.name, state: "active" as const, validFrom: "1970-01-01T00:00:00Z" }, publicKeyPem: async () => (await key.publicKey()).pem,
                trustedRoot: buildTrustedRoot({ timestampAuthorities: [tsa.authority], transparencyLogs: [rekor.log] }),
            };
            const payload = Buffer.from(JSON.stringify({ _type: "https://in-toto.io/Statement/v1" }));
            // Control: with the log, the bundle is made and carries one entry.
            const ok = await attest(payload, { ...base, witnesses: witnessesFor({ tsaUrl: tsa.url, tlogUrl: rekor.url, retries: 0 }) });
            assert.strictEqual(ok.bundle.verificationMaterial.tlogEntries.length, 1);
            // The log is listed, but the signer was not given it: its own check refuses the entry-less bundle.
            await assert.rejects(attest(payload, { ...base, witnesses: witnessesFor({ tsaUrl: tsa.url }) }), (e: Error) => e instanceof AttestationError && /does not verify .*tlog/i.test(e.message));
            await rekor.close();
            await assert.rejects(attest(payload, { ...base, witnesses: witnessesFor({ tsaUrl: tsa.url, tlogUrl: rekor.url, retries: 0, timeoutMs: 2_000 }) }),
                (e: Error) => e instanceof AttestationError && /timestamp authority or log unavailable/.test(e.message));
        } finally {
            await tsa.close();
            await rekor.close().catch(() => undefined);
        }
    });
});

describe("the signer's identity-carrying client for the enclave's private log (Rekor v2 behind Cloud Run IAM)", function () {
    this.timeout(60_000);

    it("writes a dsse entry with the signer's ID token, and the bundle verifies with sigstore-js at log threshold 1", async () => {
        const { attest, witnessesFor } = await import("../../../services/signer/attest");
        const { IdentityRekorV2Witness } = await import("../../../services/signer/identityRekor");
        const { FileSigningKey } = await import("../../../services/signer/signingKey");
        const { buildTrustedRoot } = await import("../../../services/lib/trustedRoot");
        const { startLocalTsa } = await import("../../../services/sim/localTsa");
        const { startLocalRekor } = await import("../../../services/sim/localRekor");
        const tsa = await startLocalTsa();
        const rekor = await startLocalRekor({ apiVersion: 2 });
        try {
            const key = new FileSigningKey(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey);
            const trustedRoot = buildTrustedRoot({ timestampAuthorities: [tsa.authority], transparencyLogs: [rekor.log] });
            const audiences: string[] = [];
            const witness = new IdentityRekorV2Witness({ url: rekor.url, idToken: async (aud) => (audiences.push(aud), "signer-id-token") });
            const a = await attest(Buffer.from(JSON.stringify({ _type: "https://in-toto.io/Statement/v1" })), {
                key, version: { name: key.name, state: "active", validFrom: "1970-01-01T00:00:00Z" }, publicKeyPem: async () => (await key.publicKey()).pem,
                witnesses: [...witnessesFor({ tsaUrl: tsa.url }), witness], trustedRoot,
            });
            assert.deepStrictEqual(audiences, [rekor.url], "the token's audience is the log's own URL");
            assert.deepStrictEqual(rekor.requests.map((r) => [r.method, r.path, r.authorization]), [["POST", "/api/v2/log/entries", "Bearer signer-id-token"]]);
            const entry = a.bundle.verificationMaterial.tlogEntries[0];
            assert.deepStrictEqual(entry.kindVersion, { kind: "dsse", version: "0.0.2" });
            const keys = { [key.name]: { rawBytes: createPublicKey((await key.publicKey()).pem).export({ type: "spki", format: "der" }), keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, validFor: { start: new Date(0), end: undefined } } };
            new Verifier(toTrustMaterial(trustedRoot, keys), { timestampThreshold: 1, tlogThreshold: 1, ctlogThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(a.bundle)));
            // A log that refuses (e.g. the caller is not its invoker) makes the signing fail: no entry, no bundle.
            const refusing = new IdentityRekorV2Witness({ url: `${tsa.url}/nowhere`, idToken: async () => "t" });
            await assert.rejects(attest(Buffer.from("{}"), {
                key, version: { name: key.name, state: "active", validFrom: "1970-01-01T00:00:00Z" }, publicKeyPem: async () => (await key.publicKey()).pem,
                witnesses: [...witnessesFor({ tsaUrl: tsa.url }), refusing], trustedRoot,
            }), /timestamp authority or log unavailable.*transparency log answered 404/);
        } finally {
            await tsa.close();
            await rekor.close();
        }
    });
});
