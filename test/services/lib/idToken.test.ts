import * as assert from "assert";
import { X509Certificate } from "crypto";
import { bearerToken, IdTokenError, IdTokenFailure, IdTokenVerifier } from "../../../services/lib/idToken";
import { IdentityIssuer } from "../../../services/sim/identityIssuer";

const AUD = "https://signer.example.run.app";
const EMAIL = "provenance-generator@ctl-project.iam.gserviceaccount.com";
const GCE = {
    projectId: "worker-project",
    projectNumber: 123456789012,
    zone: "europe-west1-b",
    instanceId: "4242424242424242",
    instanceName: "runner-pool-a-x1",
    instanceCreationTimestamp: 1764500000,
    licenseId: ["1000201"],
};

async function rejects(p: Promise<unknown>, reason: IdTokenFailure, token?: string): Promise<void> {
    await assert.rejects(p, (err: unknown) => {
        assert.ok(err instanceof IdTokenError, `expected IdTokenError, got ${err}`);
        assert.strictEqual(err.reason, reason, err.message);
        if (token !== undefined) {
            assert.ok(!err.message.includes(token.split(".")[2]), "the error message must not contain the token");
        }
        return true;
    });
}

describe("IdTokenVerifier with the local identity issuer", () => {
    let issuer: IdentityIssuer;
    let other: IdentityIssuer;
    let verifier: IdTokenVerifier;
    before(async () => {
        issuer = await IdentityIssuer.start();
        other = await IdentityIssuer.start();
        verifier = new IdTokenVerifier({ audience: AUD, certs: issuer.certSource() });
    });
    after(async () => {
        await issuer.close();
        await other.close();
    });

    it("serves an X.509 certificate for the key id and verifies a format=full token's claims", async () => {
        const certs = await issuer.certSource().certs();
        assert.deepStrictEqual(Object.keys(certs), [issuer.kid]);
        const cert = new X509Certificate(certs[issuer.kid]);
        assert.strictEqual(cert.publicKey.asymmetricKeyType, "rsa");
        assert.ok(cert.verify(cert.publicKey), "the certificate is self-signed");

        const id = await verifier.verify(issuer.mint({ audience: AUD, email: EMAIL, computeEngine: GCE }));
        assert.strictEqual(id.email, EMAIL);
        assert.strictEqual(id.emailVerified, true);
        assert.strictEqual(id.aud, AUD);
        assert.strictEqual(id.iss, "https://accounts.google.com");
        assert.match(id.sub, /^1\d{20}$/);
        assert.strictEqual(id.exp - id.iat, 3600);
        assert.deepStrictEqual(id.computeEngine, GCE);
    });

    it("accepts any audience of a list and reports an unverified email as such", async () => {
        const v = new IdTokenVerifier({ audience: ["https://a.example", AUD], certs: issuer.certSource() });
        const id = await v.verify(issuer.mint({ audience: AUD, email: EMAIL, emailVerified: false }));
        assert.strictEqual(id.emailVerified, false);
        assert.strictEqual(id.computeEngine, undefined);
    });

    it("rejects a token for another audience", async () => {
        const token = issuer.mint({ audience: "https://other.example", email: EMAIL });
        await rejects(verifier.verify(token), "wrong-audience", token);
    });

    it("rejects an expired token, and one issued in the future", async () => {
        const now = Math.floor(Date.now() / 1000);
        const expired = issuer.mint({ audience: AUD, email: EMAIL, issuedAt: now - 7200, ttlSeconds: 3600 });
        await rejects(verifier.verify(expired), "expired", expired);
        await rejects(verifier.verify(issuer.mint({ audience: AUD, email: EMAIL, issuedAt: now + 600, ttlSeconds: 600 })), "not-yet-valid");
    });

    it("applies a tighter clock skew than the library's 300s", async () => {
        const now = Math.floor(Date.now() / 1000);
        const justExpired = issuer.mint({ audience: AUD, email: EMAIL, issuedAt: now - 3660, ttlSeconds: 3600 });
        assert.strictEqual((await verifier.verify(justExpired)).email, EMAIL, "inside the default 300s skew");
        const strict = new IdTokenVerifier({ audience: AUD, certs: issuer.certSource(), clockSkewSeconds: 10 });
        await rejects(strict.verify(justExpired), "expired");
    });

    it("rejects a token living longer than Google's one hour", async () => {
        await rejects(verifier.verify(issuer.mint({ audience: AUD, email: EMAIL, ttlSeconds: 2 * 86400 })), "lifetime-too-long");
    });

    it("rejects a token from an issuer that is not accepted", async () => {
        await rejects(verifier.verify(issuer.mint({ audience: AUD, email: EMAIL, issuer: "https://evil.example" })), "wrong-issuer");
        const custom = new IdTokenVerifier({ audience: AUD, certs: issuer.certSource(), issuers: ["https://evil.example"] });
        assert.strictEqual((await custom.verify(issuer.mint({ audience: AUD, email: EMAIL, issuer: "https://evil.example" }))).iss, "https://evil.example");
    });

    it("rejects a token signed by a key the issuer does not publish", async () => {
        const token = other.mint({ audience: AUD, email: EMAIL });
        await rejects(verifier.verify(token), "unknown-kid", token);
    });

    it("rejects a token whose payload was altered after signing", async () => {
        const [h, , s] = issuer.mint({ audience: AUD, email: EMAIL }).split(".");
        const forgedPayload = Buffer.from(issuer.mint({ audience: AUD, email: "attacker@x.iam.gserviceaccount.com" }).split(".")[1], "base64url");
        const token = `${h}.${forgedPayload.toString("base64url")}.${s}`;
        await rejects(verifier.verify(token), "bad-signature", token);
    });

    it("rejects a token whose signature was made by another key under the issuer's key id", async () => {
        const [, p, s] = other.mint({ audience: AUD, email: EMAIL }).split(".");
        const header = Buffer.from(JSON.stringify({ alg: "RS256", kid: issuer.kid, typ: "JWT" })).toString("base64url");
        await rejects(verifier.verify(`${header}.${p}.${s}`), "bad-signature");
    });

    it("rejects alg none and HS256 before looking at certificates", async () => {
        const [, p, s] = issuer.mint({ audience: AUD, email: EMAIL }).split(".");
        for (const alg of ["none", "HS256", "ES256"]) {
            const header = Buffer.from(JSON.stringify({ alg, kid: issuer.kid })).toString("base64url");
            await rejects(verifier.verify(`${header}.${p}.${s}`), "unsupported-algorithm");
        }
    });

    it("rejects malformed and missing tokens", async () => {
        await rejects(verifier.verify(""), "missing");
        await rejects(verifier.verify("a.b"), "malformed");
        await rejects(verifier.verify("a.b.c.d"), "malformed");
        await rejects(verifier.verify("!!.e30.sig"), "malformed");
        await rejects(verifier.verify(`${Buffer.from("[1]").toString("base64url")}.e30.sig`), "malformed");
        const token = issuer.mint({ audience: AUD, email: EMAIL });
        await rejects(verifier.verify(token.slice(0, token.lastIndexOf(".") + 1)), "malformed");
    });

    it("rejects compute_engine claims of the wrong shape", async () => {
        const bad = issuer.mint({ audience: AUD, email: EMAIL, computeEngine: { ...GCE, projectNumber: "1" as unknown as number } });
        await rejects(verifier.verify(bad), "malformed");
    });

    it("reports unreachable certificates as certs-unavailable", async () => {
        const dead = await IdentityIssuer.start();
        const source = dead.certSource();
        await dead.close();
        const v = new IdTokenVerifier({ audience: AUD, certs: source });
        await rejects(v.verify(issuer.mint({ audience: AUD, email: EMAIL })), "certs-unavailable");
    });

    it("refuses bad options with the field and the fix", () => {
        assert.throws(() => new IdTokenVerifier({ audience: "" }), /audience "" must be a non-empty string/);
        assert.throws(() => new IdTokenVerifier({ audience: [] }), /audience \[\] must be/);
        assert.throws(() => new IdTokenVerifier({ audience: AUD, clockSkewSeconds: 900 }), /clockSkewSeconds 900 must be an integer in 0-300/);
        assert.throws(() => new IdTokenVerifier({ audience: AUD, issuers: [] }), /issuers must not be empty/);
    });
});

describe("bearerToken", () => {
    it("extracts the token of a Bearer header and nothing else", () => {
        assert.strictEqual(bearerToken("Bearer abc.def.ghi"), "abc.def.ghi");
        assert.strictEqual(bearerToken("bearer  abc.def-_.g="), "abc.def-_.g=");
        assert.strictEqual(bearerToken(undefined), undefined);
        assert.strictEqual(bearerToken(["Bearer a.b.c"]), undefined);
        assert.strictEqual(bearerToken("Basic dXNlcjpwYXNz"), undefined);
        assert.strictEqual(bearerToken("Bearer "), undefined);
        assert.strictEqual(bearerToken("Bearer a b"), undefined);
    });
});

describe("IdentityIssuer metadata server (GCE identity endpoint stand-in)", () => {
    let issuer: IdentityIssuer;
    before(async () => {
        issuer = await IdentityIssuer.start();
    });
    after(() => issuer.close());

    it("mints instance identity tokens like GCE's: header required, format=full adds compute_engine, licenses=TRUE adds license ids", async () => {
        const md = await issuer.startMetadataServer({ email: "pool-a@worker.iam.gserviceaccount.com", computeEngine: GCE });
        try {
            const base = `${md.url}/computeMetadata/v1/instance/service-accounts/default`;
            const get = (path: string, headers: Record<string, string> = { "Metadata-Flavor": "Google" }) => fetch(`${base}${path}`, { headers });
            assert.strictEqual((await get(`/identity?audience=${encodeURIComponent(AUD)}`, {})).status, 403);
            assert.strictEqual((await get("/identity")).status, 400);
            assert.strictEqual(await (await get("/email")).text(), "pool-a@worker.iam.gserviceaccount.com");
            const verifier = new IdTokenVerifier({ audience: AUD, certs: issuer.certSource() });

            const standard = await verifier.verify(await (await get(`/identity?audience=${encodeURIComponent(AUD)}`)).text());
            assert.strictEqual(standard.computeEngine, undefined);
            const full = await verifier.verify(await (await get(`/identity?audience=${encodeURIComponent(AUD)}&format=full`)).text());
            const { licenseId: _licenses, ...withoutLicenses } = GCE;
            assert.deepStrictEqual(full.computeEngine, withoutLicenses);
            const withLicenses = await verifier.verify(await (await get(`/identity?audience=${encodeURIComponent(AUD)}&format=full&licenses=TRUE`)).text());
            assert.deepStrictEqual(withLicenses.computeEngine, GCE);
            assert.strictEqual(withLicenses.email, "pool-a@worker.iam.gserviceaccount.com");
        } finally {
            await md.close();
        }
    });
});
