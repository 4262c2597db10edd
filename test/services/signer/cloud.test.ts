/**
 * Cloud mode: the same app as `main` builds, with a fake KMS client object and the local identity
 * issuer standing in for Google. Only the provenance generator's verified identity gets anything
 * signed; KMS answers that fail their integrity checks never become envelopes.
 */
import * as assert from "assert";
import { mkdtempSync, readdirSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import type { FastifyInstance } from "fastify";
import { DirectoryStore } from "../../../services/lib/objectStore";
import { publishKeyring } from "../../../services/signer/app";
import { loadSignerConfig, SignerConfig } from "../../../services/signer/config";
import { createCloudSigner } from "../../../services/signer/main";
import { TSAWitness, type Witness } from "@sigstore/sign";
import { buildTrustedRoot } from "../../../services/lib/trustedRoot";
import { attest, BUNDLE_MEDIA_TYPE, witnessesFor } from "../../../services/signer/attest";
import { completeTrustedRoot } from "../../../services/signer/config";
import { KmsSigningKey } from "../../../services/signer/signingKey";
import { fetchTsaCertChain, IdentityTsaWitness } from "../../../services/signer/tsaClient";
import { IdentityIssuer } from "../../../services/sim/identityIssuer";
import { LocalTsa, startLocalTsa } from "../../../services/sim/localTsa";
import { parseTrustedKeys, verifyProvenance } from "../../../services/verify/verify";
import { ARTIFACT, BUILDER_ID, FakeKms, p256, statement, SOURCE } from "../../helpers/signer";

const KEY = "projects/signer-prj/locations/europe-west1/keyRings/fleet/cryptoKeys/provenance";
const V = (n: number) => `${KEY}/cryptoKeyVersions/${n}`;
const AUDIENCE = "https://signer-abc-ew.a.run.app";
const GENERATOR = "provenance-generator@ctl-prj.iam.gserviceaccount.com";
const day = 86400_000;

describe("signer in cloud mode (fake KMS, local identity issuer)", () => {
    let issuer: IdentityIssuer;
    let stranger: IdentityIssuer;
    let kms: FakeKms;
    let dir: string;
    let app: FastifyInstance;
    let config: SignerConfig;
    const activeFrom = new Date(Date.now() - 10 * day);

    let tsa: LocalTsa;
    let otherTsa: LocalTsa;
    let witnesses: Witness[];

    before(async () => {
        issuer = await IdentityIssuer.start();
        stranger = await IdentityIssuer.start();
        tsa = await startLocalTsa();
        otherTsa = await startLocalTsa();
    });
    after(async () => {
        await issuer.close();
        await stranger.close();
        await tsa.close();
        await otherTsa.close();
    });
    beforeEach(async () => {
        kms = new FakeKms();
        [1, 2, 3].forEach((n) => kms.addVersion(V(n)));
        dir = mkdtempSync(path.join(tmpdir(), "hbf-signer-cloud-"));
        config = loadSignerConfig({
            SIGNER_KMS_KEY: KEY,
            SIGNER_KEY_VERSIONS: JSON.stringify([
                { name: V(1), state: "retired", validFrom: new Date(Date.now() - 100 * day).toISOString(), validUntil: activeFrom.toISOString() },
                { name: V(2), state: "active", validFrom: new Date(activeFrom.getTime() - 7 * day).toISOString() },
                { name: V(3), state: "published", validFrom: new Date(Date.now() - day).toISOString() },
            ]),
            SIGNER_PROVENANCE_BUCKET: "fleet-provenance",
            SIGNER_BUILDER_ID: BUILDER_ID,
            SIGNER_ALLOWED_CALLERS: GENERATOR,
            SIGNER_AUDIENCE: AUDIENCE,
            SIGNER_TSA_URL: "https://tsa-abc-ew.a.run.app",
            SIGNER_TSA_CERT_CHAIN: tsa.certChainPem,
        });
        // The configured TSA's transport points at the loopback stand-in.
        witnesses = witnessesFor({ tsaUrl: tsa.url });
        app = createCloudSigner(config, { kms, store: new DirectoryStore(dir), certs: issuer.certSource(), witnesses });
        await app.ready();
    });
    afterEach(async () => {
        await app.close();
        rmSync(dir, { recursive: true, force: true });
    });

    const stored = () => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".jsonl"));
    const sign = (body: unknown, token?: string, url = "/v1/sign") =>
        app.inject({ method: "POST", url, headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, payload: JSON.stringify(body) });
    const generatorToken = () => issuer.mint({ audience: AUDIENCE, email: GENERATOR });

    it("signs for the generator with the active version only, ignoring any key the caller names", async () => {
        const res = await sign(statement(), generatorToken(), `/v1/sign?keyid=${encodeURIComponent(V(3))}`);
        assert.strictEqual(res.statusCode, 201, res.body);
        const env = res.json();
        assert.strictEqual(env.signatures[0].keyid, V(2));
        assert.deepStrictEqual(kms.signRequests.map((r) => r.name), [V(2)]);
        assert.strictEqual(stored().length, 1);

        const keyring = await app.inject({ method: "GET", url: "/v1/keys" });
        assert.strictEqual(keyring.statusCode, 200);
        const doc = keyring.json();
        assert.deepStrictEqual(doc.keys.map((k: any) => [k.name, k.state, k.validUntil !== undefined]), [[V(1), "retired", true], [V(2), "active", false], [V(3), "published", false]]);
        assert.strictEqual(doc.keys[1].publicKeyPem, kms.keys.get(V(2))!.publicPem);
        const verified = verifyProvenance({ policy: { sourceUri: SOURCE }, envelopes: [env], artifact: ARTIFACT, keys: parseTrustedKeys(JSON.stringify(doc)) });
        assert.ok(verified.verified, JSON.stringify(verified));
        assert.strictEqual(verified.keyid, V(2));
    });

    const refusedCallers: [string, () => string | undefined, number, string, RegExp][] = [
        ["no token", () => undefined, 401, "unauthenticated", /Authorization: Bearer/],
        ["a malformed token", () => "not.a.jwt", 401, "unauthenticated", /malformed/],
        ["a token from another issuer's key", () => stranger.mint({ audience: AUDIENCE, email: GENERATOR }), 401, "unauthenticated", /unknown-kid/],
        ["a token for another audience", () => issuer.mint({ audience: "https://other.a.run.app", email: GENERATOR }), 401, "unauthenticated", /wrong-audience/],
        ["an expired token", () => issuer.mint({ audience: AUDIENCE, email: GENERATOR, issuedAt: Math.floor(Date.now() / 1000) - 7200 }), 401, "unauthenticated", /expired/],
        ["another identity (a runner VM's)", () => issuer.mint({ audience: AUDIENCE, email: "pool-a@worker-prj.iam.gserviceaccount.com", computeEngine: { projectId: "worker-prj", projectNumber: 1, zone: "europe-west1-b", instanceId: "1", instanceName: "runner-1", instanceCreationTimestamp: 1 } }), 403, "forbidden", /pool-a@worker-prj.* may not call the signer/],
        ["the generator's email unverified", () => issuer.mint({ audience: AUDIENCE, email: GENERATOR, emailVerified: false }), 403, "forbidden", /not verified/],
    ];
    for (const [what, token, status, code, message] of refusedCallers) {
        it(`refuses ${what} (${status}) before reading the body: nothing signed or stored`, async () => {
            const res = await sign(statement(), token());
            assert.strictEqual(res.statusCode, status, res.body);
            assert.deepStrictEqual(res.json(), { error: { code, message: res.json().error.message } });
            assert.match(res.json().error.message, message);
            assert.strictEqual(kms.signRequests.length, 0, "KMS was never called");
            assert.deepStrictEqual(stored(), []);
        });
    }

    it("refuses an unauthenticated oversized body with 401, not 413 (identity first)", async () => {
        const res = await sign(statement((s) => (s.predicate.buildDefinition.externalParameters.pad = "x".repeat(400 * 1024))));
        assert.strictEqual(res.statusCode, 401);
    });

    const kmsFaults: [string, FakeKms["faults"], RegExp][] = [
        ["KMS did not verify the digest CRC32C", { unverifiedDigest: true }, /verifiedDigestCrc32c/],
        ["the signature's CRC32C does not match", { badSignatureCrc: true }, /signatureCrc32c/],
        ["the signature was corrupted in transit", { corruptSignature: true }, /signatureCrc32c/],
        ["KMS answered for another version", { answerAs: V(3) }, /answered for/],
    ];
    for (const [what, faults, message] of kmsFaults) {
        it(`returns 502 and stores nothing when ${what}`, async () => {
            kms.faults = faults;
            const res = await sign(statement(), generatorToken());
            assert.strictEqual(res.statusCode, 502, res.body);
            assert.strictEqual(res.json().error.code, "signing_failed");
            assert.match(res.json().error.message, message);
            assert.deepStrictEqual(stored(), []);
        });
    }

    it("never returns a signature that does not verify under the active version's public key (miswired backend)", async () => {
        kms.faults = { signWith: p256().privateKey };
        const res = await sign(statement(), generatorToken());
        assert.strictEqual(res.statusCode, 502);
        assert.strictEqual(res.json().error.code, "attestation_failed");
        assert.match(res.json().error.message, /does not verify against the fleet's trusted root and the active key version: signature verification failed/);
        assert.deepStrictEqual(stored(), []);
    });

    it("answers the bundle when asked: the key version as hint, one RFC 3161 timestamp, stored beside the envelope", async () => {
        const res = await app.inject({ method: "POST", url: "/v1/sign", headers: { "content-type": "application/json", accept: BUNDLE_MEDIA_TYPE, authorization: `Bearer ${generatorToken()}` }, payload: JSON.stringify(statement()) });
        assert.strictEqual(res.statusCode, 201, res.body);
        const bundle = res.json();
        assert.strictEqual(bundle.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
        assert.deepStrictEqual(bundle.verificationMaterial.publicKey, { hint: V(2) });
        assert.strictEqual(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1);
        assert.strictEqual(bundle.verificationMaterial.tlogEntries, undefined, "no log configured, no log entry");
        const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.startsWith("sha256")).sort();
        assert.strictEqual(files.filter((f) => f.endsWith(".sigstore.json")).length, 1);
        assert.strictEqual(files.filter((f) => f.endsWith(".intoto.jsonl")).length, 1);
        const trustedRoot = await app.inject({ method: "GET", url: "/v1/trusted-root" });
        assert.strictEqual(trustedRoot.json().timestampAuthorities[0].uri, "https://tsa-abc-ew.a.run.app");
    });

    it("fails closed (502, nothing stored) when the timestamp comes from a TSA the trusted root does not list", async () => {
        await app.close();
        app = createCloudSigner(config, { kms, store: new DirectoryStore(dir), certs: issuer.certSource(), witnesses: witnessesFor({ tsaUrl: otherTsa.url }) });
        const res = await sign(statement(), generatorToken());
        assert.strictEqual(res.statusCode, 502, res.body);
        assert.strictEqual(res.json().error.code, "attestation_failed");
        assert.match(res.json().error.message, /timestamp could not be verified/);
        assert.deepStrictEqual(stored(), []);
    });

    it("fails closed (502) when the timestamp authority is down, and signs nothing into the bucket", async () => {
        await app.close();
        app = createCloudSigner(config, { kms, store: new DirectoryStore(dir), certs: issuer.certSource(), witnesses: [new TSAWitness({ tsaBaseURL: "http://127.0.0.1:1", timeout: 500, retry: { retries: 0 } })] });
        const res = await sign(statement(), generatorToken());
        assert.strictEqual(res.statusCode, 502, res.body);
        assert.match(res.json().error.message, /timestamp authority or log unavailable/);
        assert.deepStrictEqual(stored(), []);
    });

    it("refuses a statement finished before the active version's window (verifiers would reject it)", async () => {
        const old = statement((s) => {
            s.predicate.runDetails.metadata.startedOn = new Date(activeFrom.getTime() - 30 * day).toISOString();
            s.predicate.runDetails.metadata.finishedOn = new Date(activeFrom.getTime() - 20 * day).toISOString();
        });
        const res = await sign(old, generatorToken());
        assert.strictEqual(res.statusCode, 422);
        assert.strictEqual(res.json().error.code, "outside_key_window");
        assert.strictEqual(kms.signRequests.length, 0);
    });

    it("keeps publishing a retired version disabled in KMS, from the keyring it published while enabled", async () => {
        const store = new DirectoryStore(dir);
        await publishKeyring(app, store);
        const before = (await app.inject({ method: "GET", url: "/v1/keys" })).json();
        kms.disabled.add(V(1));
        const restarted = createCloudSigner(config, { kms, store, certs: issuer.certSource() });
        try {
            const after = await restarted.inject({ method: "GET", url: "/v1/keys" });
            assert.strictEqual(after.statusCode, 200, after.body);
            assert.deepStrictEqual(after.json(), before);
        } finally {
            await restarted.close();
        }
        // Without a published document there is nothing trustworthy to serve: 502, not a guess.
        const empty = mkdtempSync(path.join(tmpdir(), "hbf-signer-empty-"));
        const fresh = createCloudSigner(config, { kms, store: new DirectoryStore(empty), certs: issuer.certSource() });
        try {
            assert.strictEqual((await fresh.inject({ method: "GET", url: "/v1/keys" })).statusCode, 502);
        } finally {
            await fresh.close();
            rmSync(empty, { recursive: true, force: true });
        }
    });

    it("answers 502 on /v1/keys when a public key fails its CRC32C check, and recovers after", async () => {
        kms.faults = { badPemCrc: true };
        const bad = await app.inject({ method: "GET", url: "/v1/keys" });
        assert.strictEqual(bad.statusCode, 502);
        assert.match(bad.json().error.message, /pemCrc32c/);
        kms.faults = {};
        const recovered = await app.inject({ method: "GET", url: "/v1/keys" });
        assert.strictEqual(recovered.statusCode, 200, recovered.body);
    });
});

describe("signer's identity-carrying TSA client (timestamp-authority behind Cloud Run IAM)", () => {
    it("sends the signer's ID token for the TSA's audience, and the timestamp it gets verifies in a bundle", async () => {
        const tsa = await startLocalTsa();
        try {
            const audiences: string[] = [];
            const opts = { url: tsa.url, idToken: async (aud: string) => (audiences.push(aud), "signer-id-token") };
            const chain = await fetchTsaCertChain(opts);
            assert.strictEqual(chain, tsa.certChainPem);
            const kms = new FakeKms();
            const name = `${KEY}/cryptoKeyVersions/1`;
            const key = kms.addVersion(name);
            const version = { name, state: "active" as const, validFrom: new Date(Date.now() - day).toISOString() };
            const trustedRoot = buildTrustedRoot(completeTrustedRoot({ timestampAuthorities: [{ uri: tsa.url, certChainPem: "", validFrom: "" }] }, chain));
            const { bundle } = await attest(Buffer.from(JSON.stringify(statement())), {
                key: new KmsSigningKey(kms, name), version, publicKeyPem: async () => key.publicPem, witnesses: [new IdentityTsaWitness(opts)], trustedRoot,
            });
            assert.strictEqual(bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length, 1);
            assert.deepStrictEqual(tsa.requests.map((r) => [r.method, r.path, r.authorization]), [
                ["GET", "/api/v1/timestamp/certchain", "Bearer signer-id-token"],
                ["POST", "/api/v1/timestamp", "Bearer signer-id-token"],
            ]);
            assert.deepStrictEqual(audiences, [tsa.url, tsa.url]);
        } finally {
            await tsa.close();
        }
    });
});
