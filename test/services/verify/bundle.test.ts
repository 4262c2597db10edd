/**
 * `hardened-build-fleet-verify --bundle`: the simulation's bundles verify end to end (sigstore-js
 * with the fleet trusted root and keys, timestamp required, then the SLSA checks), each way a bundle
 * can be wrong is refused with a reason, and `--vsa` writes a signed SLSA VSA that verifies on its own.
 */
import * as assert from "assert";
import { createHash, createPublicKey, generateKeyPairSync } from "crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { bundleFromJSON } from "@sigstore/bundle";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { simulate, SimSummary } from "../../../services/sim/simulate";
import { main } from "../../../services/verify/verify";

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
    return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("hardened-build-fleet-verify --bundle (Sigstore bundles, trusted root, VSA)", function () {
    this.timeout(120_000);
    let dir: string;
    let summary: SimSummary;
    const at = (...p: string[]) => path.join(dir, ...p);
    let args: (over?: Record<string, string>) => string[];

    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "hbf-verify-bundle-"));
        summary = await simulate({ jobs: 2, pools: 1, out: dir, concurrency: 1, attacks: false });
        assert.strictEqual(summary.ok, true, JSON.stringify(summary.jobs));
        const job = summary.jobs[0];
        args = (over = {}) => Object.entries({
            "--bundle": at(job.bundle!), "--trusted-root": at("trusted_root.json"), "--artifact": at(job.artifact), "--keys": at("keys.json"),
            "--source-uri": `https://github.com/${job.repository}`, ...over,
        }).flat();
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const variant = (name: string, edit: (b: any) => void): string => {
        const b = JSON.parse(readFileSync(at(summary.jobs[0].bundle!), "utf8"));
        edit(b);
        writeFileSync(at(name), JSON.stringify(b));
        return at(name);
    };

    it("verifies every job's bundle, naming the key version and the timestamp", async () => {
        for (const job of summary.jobs) {
            const r = await run(args({ "--bundle": at(job.bundle!), "--artifact": at(job.artifact), "--source-uri": `https://github.com/${job.repository}` }));
            assert.strictEqual(r.code, 0, r.err);
            assert.match(r.out, /^verified: .* signed by local:sha256:[0-9a-f]{64}, timestamped \d{4}-\d{2}-\d{2}T/);
        }
    });

    it("still applies the SLSA policy after the bundle verifies: another source repository is refused", async () => {
        const r = await run(args({ "--source-uri": "https://github.com/acme/other" }));
        assert.strictEqual(r.code, 1);
        assert.match(r.err, /not verified: source repository .* is not the expected/);
    });

    it("refuses a tampered payload, a missing timestamp, two signatures and a timestamp after the key's retirement", async () => {
        const tampered = variant("tampered.json", (b) => {
            const s = JSON.parse(Buffer.from(b.dsseEnvelope.payload, "base64").toString());
            s.predicate.buildDefinition.externalParameters.workflow.ref = "refs/heads/evil";
            b.dsseEnvelope.payload = Buffer.from(JSON.stringify(s)).toString("base64");
        });
        assert.match((await run(args({ "--bundle": tampered }))).err, /not verified: .*signature verification failed/);
        const untimed = variant("untimed.json", (b) => (b.verificationMaterial.timestampVerificationData.rfc3161Timestamps = []));
        assert.match((await run(args({ "--bundle": untimed }))).err, /not verified: .*expected 1 timestamps, got 0/);
        const twice = variant("twice.json", (b) => b.dsseEnvelope.signatures.push(b.dsseEnvelope.signatures[0]));
        const r2 = await run(args({ "--bundle": twice }));
        assert.strictEqual(r2.code, 1);
        assert.match(r2.err, /not verified: not a valid Sigstore bundle \(content\.dsseEnvelope\.signatures\)/);
        // Retired one second after the job started: the timestamp came later.
        const keys = JSON.parse(readFileSync(at("keys.json"), "utf8"));
        const stamped = Date.parse(/timestamped (\S+)/.exec((await run(args())).out)![1]);
        for (const [name, until, code] of [["retired-before.json", stamped, 1], ["retired-after.json", stamped + 60_000, 0]] as const) {
            writeFileSync(at(name), JSON.stringify({ ...keys, keys: keys.keys.map((k: any) => ({ ...k, state: "retired", validUntil: new Date(until).toISOString() })).concat([{ ...keys.keys[0], name: "local:next", state: "active", validFrom: new Date(until).toISOString() }]) }));
            const r = await run(args({ "--keys": at(name) }));
            assert.strictEqual(r.code, code, `${name}: ${r.err}`);
            if (code === 1) {
                assert.match(r.err, /Public key is not valid for timestamp/);
            }
        }
    });

    it("requires a log entry when the trusted root lists a log", async () => {
        const root = JSON.parse(readFileSync(at("trusted_root.json"), "utf8"));
        const logKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "der" });
        root.tlogs = [{ baseUrl: "https://rekor.example", hashAlgorithm: "SHA2_256", publicKey: { rawBytes: logKey.toString("base64"), keyDetails: "PKIX_ECDSA_P256_SHA_256", validFor: { start: "2020-01-01T00:00:00Z" } }, logId: { keyId: createHash("sha256").update(logKey).digest("base64") } }];
        writeFileSync(at("root-with-log.json"), JSON.stringify(root));
        const r = await run(args({ "--trusted-root": at("root-with-log.json") }));
        assert.strictEqual(r.code, 1);
        assert.match(r.err, /expected 1 tlog entries, got 0/);
    });

    it("refuses bad input with exit 2, naming the flag", async () => {
        const noRoot = args().filter((_, i, a) => a[i] !== "--trusted-root" && a[i - 1] !== "--trusted-root");
        const r = await run(noRoot);
        assert.strictEqual(r.code, 2);
        assert.match(r.err, /--trusted-root \(the fleet's trusted_root\.json, published beside the keyring\) is required/);
        const both = await run([...args(), "--envelope", at(summary.jobs[0].envelope!)]);
        assert.strictEqual(both.code, 2);
        assert.match(both.err, /pass --bundle or --envelope, not both/);
        const vsaNoKey = await run([...args(), "--vsa", at("vsa.json")]);
        assert.strictEqual(vsaNoKey.code, 2);
        assert.match(vsaNoKey.err, /--vsa-key \(the P-256 private key that signs the VSA\) is required/);
    });

    it("--vsa writes a SLSA VSA for the artifact, signed with the given key, that verifies with sigstore-js", async () => {
        const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
        writeFileSync(at("vsa-key.pem"), privateKey.export({ type: "pkcs8", format: "pem" }));
        const r = await run([...args(), "--vsa", at("vsa.json"), "--vsa-key", at("vsa-key.pem"), "--resource-uri", "pkg:generic/app@1"]);
        assert.strictEqual(r.code, 0, r.err);
        const bundle = bundleFromJSON(JSON.parse(readFileSync(at("vsa.json"), "utf8")));
        assert.ok(bundle.content.$case === "dsseEnvelope");
        const hint = bundle.verificationMaterial.content.$case === "publicKey" ? bundle.verificationMaterial.content.publicKey.hint : "";
        const trust = toTrustMaterial({ mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1", tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] },
            (h) => { assert.strictEqual(h, hint); return { publicKey: createPublicKey(publicKey.export({ type: "spki", format: "pem" })), validFor: () => true }; });
        new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundle));
        const vsa = JSON.parse(bundle.content.dsseEnvelope.payload.toString("utf8"));
        const job = summary.jobs[0];
        assert.strictEqual(vsa.predicateType, "https://slsa.dev/verification_summary/v1");
        assert.deepStrictEqual(vsa.subject[0].digest, { sha256: job.sha256 });
        assert.strictEqual(vsa.predicate.resourceUri, "pkg:generic/app@1");
        assert.strictEqual(vsa.predicate.verificationResult, "PASSED");
        assert.deepStrictEqual(vsa.predicate.verifiedLevels, ["SLSA_BUILD_LEVEL_3"]);
        assert.deepStrictEqual(vsa.predicate.inputAttestations[0].digest, { sha256: createHash("sha256").update(readFileSync(at(job.bundle!))).digest("hex") });
        // No VSA for what did not verify.
        const failed = await run([...args({ "--source-uri": "https://github.com/acme/other" }), "--vsa", at("vsa-failed.json"), "--vsa-key", at("vsa-key.pem")]);
        assert.strictEqual(failed.code, 1);
        assert.throws(() => readFileSync(at("vsa-failed.json")), /ENOENT/);
    });
});
