/**
 * Integration: the signer in local mode on 127.0.0.1 (ephemeral port) with a throwaway key,
 * over HTTP. The envelope is verified three ways: node:crypto over a PAE written here from the
 * DSSE spec, @sigstore/verify's Verifier, and this package's verifier.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { Writable } from "stream";
import { bundleFromJSON } from "@sigstore/bundle";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { DirectoryStore } from "../../../services/lib/objectStore";
import { envelopeObjectName } from "../../../services/signer/app";
import { LOCAL_MODE_WARNING, LocalSigner, startLocalSigner } from "../../../services/signer/dev";
import { parseTrustedKeys, verifyProvenance } from "../../../services/verify/verify";
import { ARTIFACT, BUILDER_ID, p256, sha256hex, statement, TestKey, SOURCE } from "../../helpers/signer";

/** PAE from the DSSE v1 spec, written independently of services/lib/dsse.ts. */
function specPae(type: string, body: Buffer): Buffer {
    return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
    const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text.length > 0 ? JSON.parse(text) : undefined };
}

/** Every file under `dir`, relative, sorted. */
function filesUnder(dir: string): string[] {
    return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import("fs").Dirent[])
        .filter((e) => e.isFile())
        .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
        .sort();
}

describe("signer in local mode (HTTP on loopback)", () => {
    let dir: string;
    let key: TestKey;
    let signer: LocalSigner;
    const startup: string[] = [];
    const logs: string[] = [];

    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "hbf-signer-"));
        key = p256();
        const stream = new Writable({ write: (chunk, _enc, cb) => (logs.push(chunk.toString()), cb()) });
        signer = await startLocalSigner({
            port: 0,
            keyPem: key.pkcs8Pem,
            storeDir: path.join(dir, "store"),
            builderId: BUILDER_ID,
            log: (l) => startup.push(l),
            logger: { level: "trace", stream },
        });
    });
    after(async () => {
        await signer.close();
        rmSync(dir, { recursive: true, force: true });
    });

    it("says loudly on startup that caller identity checks are off", () => {
        assert.strictEqual(startup[0], LOCAL_MODE_WARNING);
        assert.match(startup[0], /caller identity checks are OFF/);
        assert.match(startup[1], /^signer \(local mode\) listening on http:\/\/127\.0\.0\.1:\d+/);
    });

    it("signs a statement, returns the DSSE envelope and stores it create-only under the subject digest", async () => {
        const s = statement((x) => (x.predicate.buildDefinition.externalParameters.note = "SECRET-VALUE-7f3a"));
        const res = await post(`${signer.url}/v1/sign`, s);
        assert.strictEqual(res.status, 201, JSON.stringify(res.json));
        const env = res.json;
        assert.deepStrictEqual(Object.keys(env).sort(), ["payload", "payloadType", "signatures"]);
        assert.strictEqual(env.payloadType, "application/vnd.in-toto+json");
        assert.strictEqual(env.signatures.length, 1);
        assert.strictEqual(env.signatures[0].keyid, signer.keyid);
        assert.deepStrictEqual(JSON.parse(Buffer.from(env.payload, "base64").toString()), s, "the payload is the validated statement");

        // node:crypto over the spec's PAE, DER signature.
        const payload = Buffer.from(env.payload, "base64");
        const sig = Buffer.from(env.signatures[0].sig, "base64");
        assert.strictEqual(sig[0], 0x30, "DER SEQUENCE");
        assert.ok(crypto.verify("sha256", specPae(env.payloadType, payload), { key: key.publicKey, dsaEncoding: "der" }, sig));

        // Stored object: one JSON line, byte-identical to the response.
        const name = envelopeObjectName(sha256hex(ARTIFACT), s.predicate.runDetails.metadata.invocationId);
        assert.match(name, /^sha256\/[0-9a-f]{64}\/[0-9a-f]{64}\.intoto\.jsonl$/);
        const stored = await new DirectoryStore(path.join(dir, "store")).read(name);
        assert.strictEqual(stored?.toString(), `${JSON.stringify(env)}\n`);

        // The payload never reaches the logs.
        assert.ok(logs.length > 0, "the request was logged");
        assert.ok(!logs.join("").includes("SECRET-VALUE-7f3a"), "payload content must not be logged");
        assert.ok(!logs.join("").includes(env.payload.slice(0, 40)), "the encoded payload must not be logged");
    });

    it("stores one envelope per distinct subject digest, each verifying for its own artifact", async () => {
        const other = Buffer.from("second artifact");
        const s = statement((x) => {
            x.subject.push({ name: "dist/app.sig", digest: { sha256: sha256hex(other) } });
            x.subject.push({ name: "dist/app-copy.tgz", digest: { sha256: sha256hex(ARTIFACT) } });
        });
        const res = await post(`${signer.url}/v1/sign`, s);
        assert.strictEqual(res.status, 201, JSON.stringify(res.json));
        const store = new DirectoryStore(path.join(dir, "store"));
        const invocation = s.predicate.runDetails.metadata.invocationId;
        for (const artifact of [ARTIFACT, other]) {
            const line = await store.read(envelopeObjectName(sha256hex(artifact), invocation));
            assert.strictEqual(line?.toString(), `${JSON.stringify(res.json)}\n`);
            const keys = parseTrustedKeys(key.publicPem);
            assert.ok(verifyProvenance({ policy: { sourceUri: SOURCE }, envelopes: [res.json], artifact, keys, builderId: BUILDER_ID }).verified);
        }
    });

    it("produces envelopes @sigstore/verify accepts, and it refuses a tampered payload", async () => {
        const env = (await post(`${signer.url}/v1/sign`, statement())).json;
        const bundle = (e: any) =>
            bundleFromJSON({
                mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
                verificationMaterial: { publicKey: { hint: signer.keyid }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } },
                dsseEnvelope: e,
            });
        const trust = toTrustMaterial(
            { mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1", tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] },
            (hint: string) => {
                assert.strictEqual(hint, signer.keyid);
                return { publicKey: key.publicKey, validFor: () => true };
            },
        );
        const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
        assert.strictEqual(verifier.verify(toSignedEntity(bundle(env))).key, key.publicKey);
        const tampered = { ...env, payload: Buffer.from(Buffer.from(env.payload, "base64").toString().replace("dist/app.tgz", "dist/evil.tgz")).toString("base64") };
        assert.throws(() => verifier.verify(toSignedEntity(bundle(tampered))), /signature/i);
    });

    it("verifies with the package's verifier; refuses a tampered payload, a wrong key and a wrong builder id", async () => {
        const env = (await post(`${signer.url}/v1/sign`, statement())).json;
        const keyring = await (await fetch(`${signer.url}/v1/keys`)).json();
        const keys = parseTrustedKeys(JSON.stringify(keyring));
        assert.deepStrictEqual(verifyProvenance({ policy: { sourceUri: SOURCE }, envelopes: [env], artifact: ARTIFACT, keys }).verified, true);

        const tampered = { ...env, payload: Buffer.from(Buffer.from(env.payload, "base64").toString().replace(BUILDER_ID, `${BUILDER_ID}/x`)).toString("base64") };
        assert.deepStrictEqual(verifyProvenance({ policy: { sourceUri: SOURCE }, envelopes: [tampered], artifact: ARTIFACT, keys }), { verified: false, reason: "no signature verifies under the given keys (tampered payload or wrong key)" });
        assert.deepStrictEqual(verifyProvenance({ policy: { sourceUri: SOURCE }, envelopes: [env], artifact: ARTIFACT, keys: parseTrustedKeys(p256().publicPem), builderId: BUILDER_ID }).verified, false);
        const wrongBuilder = verifyProvenance({ policy: { sourceUri: SOURCE }, envelopes: [env], artifact: ARTIFACT, keys, builderId: "https://other.example/builder" });
        assert.ok(!wrongBuilder.verified && /builder id .* is not the expected "https:\/\/other.example\/builder"/.test(wrongBuilder.reason));
    });

    it("serves the keyring document with the file key and a health check", async () => {
        const doc: any = await (await fetch(`${signer.url}/v1/keys`)).json();
        // The same document is published next to the envelopes, content-addressed.
        assert.match(signer.keyringObject, /^keyring\/sha256-[0-9a-f]{64}\.json$/);
        const published = readFileSync(path.join(dir, "store", signer.keyringObject));
        assert.deepStrictEqual(JSON.parse(published.toString()), doc);
        assert.strictEqual(`keyring/sha256-${sha256hex(published)}.json`, signer.keyringObject);
        assert.strictEqual(doc.mediaType, "application/vnd.hardened-build-fleet.keyring.v1+json");
        assert.strictEqual(doc.builderId, BUILDER_ID);
        assert.deepStrictEqual(doc.keys, [{ name: signer.keyid, state: "active", validFrom: "1970-01-01T00:00:00Z", algorithm: "EC_SIGN_P256_SHA256", publicKeyPem: key.publicPem }]);
        assert.deepStrictEqual(await (await fetch(`${signer.url}/healthz`)).json(), { status: "ok" });
        const nf = await fetch(`${signer.url}/v1/nothing`);
        assert.strictEqual(nf.status, 404);
        assert.strictEqual(((await nf.json()) as any).error.code, "not_found");
    });

    it("never signs the same invocation and subject twice: the same statement gets the stored envelope (200), another one 409", async () => {
        const s = statement();
        const first = await post(`${signer.url}/v1/sign`, s);
        assert.strictEqual(first.status, 201);
        const name = envelopeObjectName(sha256hex(ARTIFACT), s.predicate.runDetails.metadata.invocationId);
        const before = readFileSync(path.join(dir, "store", name), "utf8");
        const same = await post(`${signer.url}/v1/sign`, s);
        assert.strictEqual(same.status, 200);
        assert.deepStrictEqual(same.json, first.json, "the stored envelope, not a new signature");
        const changed = structuredClone(s);
        changed.predicate.buildDefinition.externalParameters.workflow.ref = "refs/heads/other";
        const again = await post(`${signer.url}/v1/sign`, changed);
        assert.strictEqual(again.status, 409);
        assert.deepStrictEqual(Object.keys(again.json), ["error"]);
        assert.strictEqual(again.json.error.code, "already_signed");
        assert.strictEqual(readFileSync(path.join(dir, "store", name), "utf8"), before);
    });

    describe("bad input: a clear 4xx JSON error, nothing signed or stored", () => {
        let storedBefore: string[];
        beforeEach(() => (storedBefore = filesUnder(path.join(dir, "store"))));
        afterEach(() => assert.deepStrictEqual(filesUnder(path.join(dir, "store")), storedBefore, "nothing was stored"));

        const cases: [string, () => Promise<{ status: number; json: any }>, number, string, RegExp][] = [
            ["a wrong builder id", () => post(`${signer.url}/v1/sign`, statement((s) => (s.predicate.runDetails.builder.id = "https://attacker.example/b"))), 400, "builder_id_mismatch", /attacker\.example/],
            ["another predicate type", () => post(`${signer.url}/v1/sign`, statement((s) => (s.predicateType = "https://slsa.dev/provenance/v0.2"))), 400, "invalid_statement", /predicateType/],
            ["a bad subject digest", () => post(`${signer.url}/v1/sign`, statement((s) => (s.subject[0].digest.sha256 = "XYZ"))), 400, "invalid_statement", /sha256/],
            ["a body over the size limit", () => post(`${signer.url}/v1/sign`, statement((s) => (s.predicate.buildDefinition.externalParameters.pad = "x".repeat(300 * 1024)))), 413, "body_too_large", /larger than 262144 bytes/],
            ["a non-JSON content type", () => post(`${signer.url}/v1/sign`, JSON.stringify(statement()), { "content-type": "text/plain" }), 415, "unsupported_media_type", /Content-Type must be/],
            ["a JSON syntax error", () => post(`${signer.url}/v1/sign`, '{"_type": SECRET-IN-BODY'), 400, "invalid_json", /not valid JSON/],
            ["a __proto__ key", () => post(`${signer.url}/v1/sign`, JSON.stringify(statement()).replace("{", '{"__proto__":{"x":1},')), 400, "invalid_json", /__proto__/],
            ["an empty body", () => post(`${signer.url}/v1/sign`, ""), 400, "invalid_json", /empty/],
            ["a statement finished in the future", () => post(`${signer.url}/v1/sign`, statement((s) => (s.predicate.runDetails.metadata.finishedOn = new Date(Date.now() + 3600_000).toISOString()))), 422, "statement_time", /in the future/],
        ];
        for (const [what, send, status, code, message] of cases) {
            it(`refuses ${what} with ${status} ${code}`, async () => {
                const res = await send();
                assert.strictEqual(res.status, status, JSON.stringify(res.json));
                assert.deepStrictEqual(Object.keys(res.json), ["error"]);
                assert.deepStrictEqual(Object.keys(res.json.error).sort(), ["code", "message"]);
                assert.strictEqual(res.json.error.code, code);
                assert.match(res.json.error.message, message);
                assert.ok(!res.json.error.message.includes("SECRET-IN-BODY"), "the error never echoes the body");
            });
        }

        it("refuses a GET on the sign endpoint", async () => {
            const res = await fetch(`${signer.url}/v1/sign`);
            assert.strictEqual(res.status, 404);
        });

        it("never logs the body of a refused request", () => {
            assert.ok(!logs.join("").includes("SECRET-IN-BODY"));
        });
    });
});

describe("signer:dev command", () => {
    it("starts from a SEC1 PEM file and refuses a non-P-256 key or missing arguments (exit code 2)", async () => {
        const { cli } = await import("../../../services/signer/dev");
        const dir = mkdtempSync(path.join(tmpdir(), "hbf-signer-cli-"));
        const savedExit = process.exitCode;
        const savedWrite = process.stderr.write.bind(process.stderr);
        const savedOut = process.stdout.write.bind(process.stdout);
        const err: string[] = [];
        (process.stderr as any).write = (s: string) => (err.push(String(s)), true);
        // The request log goes to stdout; keep it out of the test report.
        (process.stdout as any).write = () => true;
        try {
            writeFileSync(path.join(dir, "sec1.pem"), p256().sec1Pem);
            const started = await cli(["--port", "0", "--key", path.join(dir, "sec1.pem"), "--store", path.join(dir, "store")]);
            assert.ok(started, err.join(""));
            try {
                assert.match(err.join(""), /LOCAL MODE: caller identity checks are OFF/);
                const res = await post(`${started.url}/v1/sign`, statement((s) => (s.predicate.runDetails.builder.id = "https://localhost/hardened-build-fleet/builder/local")));
                assert.strictEqual(res.status, 201, JSON.stringify(res.json));
            } finally {
                await started.close();
            }

            const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }) as string;
            writeFileSync(path.join(dir, "rsa.pem"), rsa);
            process.exitCode = undefined;
            assert.strictEqual(await cli(["--port", "0", "--key", path.join(dir, "rsa.pem"), "--store", dir]), undefined);
            assert.strictEqual(process.exitCode, 2);
            assert.match(err.join(""), /is a rsa key; the signer needs an EC P-256/);

            process.exitCode = undefined;
            assert.strictEqual(await cli(["--port", "x"]), undefined);
            assert.strictEqual(process.exitCode, 2);
            assert.match(err.join(""), /--port "x" must be an integer[\s\S]*--key is required[\s\S]*--store is required/);
        } finally {
            (process.stderr as any).write = savedWrite;
            (process.stdout as any).write = savedOut;
            process.exitCode = savedExit;
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
