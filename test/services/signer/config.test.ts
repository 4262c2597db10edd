import * as assert from "assert";
import { generateKeyPairSync } from "crypto";
import { loadSignerConfig, SignerConfigError } from "../../../services/signer/config";
import { LocalTsa, startLocalTsa } from "../../../services/sim/localTsa";

const KEY = "projects/signer-prj/locations/europe-west1/keyRings/fleet/cryptoKeys/provenance";
const good = {
    SIGNER_KMS_KEY: KEY,
    SIGNER_KEY_VERSIONS: JSON.stringify([
        { name: `${KEY}/cryptoKeyVersions/1`, state: "retired", validFrom: "2025-01-01T00:00:00Z", validUntil: "2026-01-01T00:00:00Z" },
        { name: `${KEY}/cryptoKeyVersions/2`, state: "active", validFrom: "2025-12-20T00:00:00Z" },
        { name: `${KEY}/cryptoKeyVersions/3`, state: "published", validFrom: "2026-11-01T00:00:00Z" },
    ]),
    SIGNER_PROVENANCE_BUCKET: "fleet-provenance-1234",
    SIGNER_BUILDER_ID: "https://github.com/example-org/build-fleet/builder@v1",
    SIGNER_ALLOWED_CALLERS: "provenance-generator@ctl-prj.iam.gserviceaccount.com, Other-Gen@ctl-prj.iam.gserviceaccount.com",
    SIGNER_AUDIENCE: "https://signer-abc-ew.a.run.app",
    PORT: "8080",
    SIGNER_TSA_URL: "https://tsa-abc-ew.a.run.app",
    // A real chain, generated in before().
    SIGNER_TSA_CERT_CHAIN: "",
};
const NOW = new Date("2026-11-30T00:00:00Z");

function problemsOf(env: Record<string, string | undefined>): string[] {
    try {
        loadSignerConfig(env, NOW);
    } catch (err) {
        assert.ok(err instanceof SignerConfigError, String(err));
        return err.problems;
    }
    return [];
}

describe("signer config (cloud mode env vars)", () => {
    let tsa: LocalTsa;
    before(async () => {
        tsa = await startLocalTsa();
        good.SIGNER_TSA_CERT_CHAIN = tsa.certChainPem;
    });
    after(() => tsa.close());

    it("loads a valid environment", () => {
        const c = loadSignerConfig(good, NOW);
        assert.strictEqual(c.activeVersion.name, `${KEY}/cryptoKeyVersions/2`);
        assert.strictEqual(c.versions.length, 3);
        assert.deepStrictEqual(c.allowedCallers, ["provenance-generator@ctl-prj.iam.gserviceaccount.com", "other-gen@ctl-prj.iam.gserviceaccount.com"]);
        assert.strictEqual(c.port, 8080);
        assert.strictEqual(loadSignerConfig({ ...good, PORT: undefined }, NOW).port, 8080);
        assert.deepStrictEqual(c.witnesses, { tsaUrl: "https://tsa-abc-ew.a.run.app" });
        assert.strictEqual(c.trustedRoot.timestampAuthorities[0].certChainPem, tsa.certChainPem);
        assert.deepStrictEqual(c.trustedRoot.transparencyLogs, [], "no log unless SIGNER_TLOG_URL is set");
    });

    it("adds the log to the witnesses and the trusted root only when SIGNER_TLOG_URL and its key are set", () => {
        const logKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }) as string;
        const c = loadSignerConfig({ ...good, SIGNER_TLOG_URL: "https://rekor.sigstore.dev", SIGNER_TLOG_PUBLIC_KEY: logKey }, NOW);
        assert.strictEqual(c.witnesses.tlogUrl, "https://rekor.sigstore.dev");
        assert.strictEqual(c.trustedRoot.transparencyLogs?.[0].baseUrl, "https://rekor.sigstore.dev");
        assert.match(problemsOf({ ...good, SIGNER_TLOG_PUBLIC_KEY: logKey }).join("\n"), /SIGNER_TLOG_PUBLIC_KEY is set but SIGNER_TLOG_URL is not/);
        // Rekor v1 unless SIGNER_TLOG_API_VERSION says 2 (rekor-tiles); anything else is refused by name.
        assert.strictEqual(c.witnesses.tlogApiVersion, 1);
        const v2 = loadSignerConfig({ ...good, SIGNER_TLOG_URL: "https://rekor.internal.example", SIGNER_TLOG_PUBLIC_KEY: logKey, SIGNER_TLOG_API_VERSION: "2" }, NOW);
        assert.strictEqual(v2.witnesses.tlogApiVersion, 2);
        assert.match(problemsOf({ ...good, SIGNER_TLOG_URL: "https://rekor.sigstore.dev", SIGNER_TLOG_PUBLIC_KEY: logKey, SIGNER_TLOG_API_VERSION: "v2" }).join("\n"), /SIGNER_TLOG_API_VERSION "v2" must be 1 .* or 2/);
    });

    it("reports every bad variable in one pass, naming the variable, the value and the fix", () => {
        const p = problemsOf({
            SIGNER_KMS_KEY: `${KEY}/cryptoKeyVersions/1`,
            SIGNER_KEY_VERSIONS: "[",
            SIGNER_PROVENANCE_BUCKET: "gs://bucket",
            SIGNER_BUILDER_ID: "not a uri",
            SIGNER_ALLOWED_CALLERS: "alice@example.com",
            SIGNER_AUDIENCE: "http://signer",
            PORT: "http",
            SIGNER_TSA_URL: "tsa.internal",
            SIGNER_TSA_CERT_CHAIN: "not a pem",
            SIGNER_TLOG_URL: "https://rekor.example",
            SIGNER_TLOG_PUBLIC_KEY: "-----BEGIN PUBLIC KEY-----junk",
        });
        const expected = [
            /^SIGNER_KMS_KEY ".*cryptoKeyVersions\/1" must be the full key name .*without \/cryptoKeyVersions\/N/,
            /^SIGNER_KEY_VERSIONS "\[" must be a JSON array such as/,
            /^SIGNER_PROVENANCE_BUCKET "gs:\/\/bucket" must be a bucket name .* without gs:\/\//,
            /^SIGNER_BUILDER_ID "not a uri" must be an absolute URI/,
            /^SIGNER_ALLOWED_CALLERS entry "alice@example.com" must be a service account email/,
            /^SIGNER_AUDIENCE "http:\/\/signer" must be the service's https URL/,
            /^PORT "http" must be an integer 1-65535/,
            /^SIGNER_TSA_URL "tsa.internal" must be the https URL of the fleet's timestamp authority/,
            /^SIGNER_TSA_CERT_CHAIN holds no PEM certificate .*: set it to the timestamp authority's certificate chain/,
            /^SIGNER_TLOG_PUBLIC_KEY "-----BEGIN PUBLIC KEY-----junk" must be the log's PEM public key when SIGNER_TLOG_URL is set/,
        ];
        assert.strictEqual(p.length, expected.length, p.join("\n"));
        expected.forEach((re, i) => assert.match(p[i], re));
    });

    it("names unset variables", () => {
        const p = problemsOf({});
        assert.ok(p.some((x) => x.startsWith("SIGNER_KMS_KEY (unset)")), p.join("\n"));
        assert.ok(p.some((x) => x.startsWith("SIGNER_ALLOWED_CALLERS (unset) must list the provenance generator")), p.join("\n"));
        assert.ok(p.some((x) => x.startsWith("SIGNER_AUDIENCE (unset)")), p.join("\n"));
    });

    it("checks the key versions: exactly one active, versions of SIGNER_KMS_KEY only", () => {
        const twoActive = JSON.stringify([
            { name: `${KEY}/cryptoKeyVersions/1`, state: "active", validFrom: "2025-01-01T00:00:00Z" },
            { name: `${KEY}/cryptoKeyVersions/2`, state: "active", validFrom: "2025-01-01T00:00:00Z" },
        ]);
        assert.match(problemsOf({ ...good, SIGNER_KEY_VERSIONS: twoActive }).join("\n"), /SIGNER_KEY_VERSIONS must have exactly one active version .* found 2/);
        const foreign = JSON.stringify([{ name: "projects/x/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1", state: "active", validFrom: "2025-01-01T00:00:00Z" }]);
        assert.match(problemsOf({ ...good, SIGNER_KEY_VERSIONS: foreign }).join("\n"), /SIGNER_KEY_VERSIONS\[0\]\.name .* is not a version of projects\/signer-prj/);
    });

    it("refuses an active version whose window starts in the future (its envelopes would not verify)", () => {
        const future = JSON.stringify([{ name: `${KEY}/cryptoKeyVersions/1`, state: "active", validFrom: "2027-01-01T00:00:00Z" }]);
        assert.match(problemsOf({ ...good, SIGNER_KEY_VERSIONS: future }).join("\n"), /active version .*\/1 is valid only from 2027-01-01T00:00:00Z, after now/);
    });
});
