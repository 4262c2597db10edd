/**
 * Bounded retries on every outbound call, against flaky stand-ins: the signer (from the generator),
 * the timestamp authority (from the signer), Cloud KMS and Cloud Storage. Each retries only what is
 * transient, stops at its bound, and, switched off, lets the same fault through.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import { retryingRequester } from "../../../../services/controlPlane/cloud";
import { GithubRestClient } from "../../../../services/controlPlane/github";
import { SignerClient, SignerError } from "../../../../services/controlPlane/signerClient";
import { FakeGithub } from "../../../../services/sim/fakeGithub";
import { gcsBucket } from "../../../../services/controlPlane/storage";
import { AttemptTimeoutError, backoffMs, retryableHttp, withRetry } from "../../../../services/lib/ops/retry";
import { resilientKms } from "../../../../services/signer/kmsCalls";
import { KmsSigningKey, SigningKeyError } from "../../../../services/signer/signingKey";
import { fetchTsaCertChain } from "../../../../services/signer/tsaClient";
import { flakyServer, FlakyServer } from "../../../helpers/flaky";
import { TestMetrics } from "../../../helpers/metrics";
import { FakeKms } from "../../../helpers/signer";

const noWait = async () => undefined;
const policy = { attempts: 3, timeoutMs: 2000, baseMs: 1, capMs: 4 };

describe("ops retry: the policy", () => {
    it("waits a random time below min(cap, base × 2^n): full jitter, bounded", () => {
        const p = { attempts: 5, timeoutMs: 1000, baseMs: 100, capMs: 1000 };
        assert.deepStrictEqual([1, 2, 3, 4, 5].map((n) => backoffMs(p, n, () => 0.999)), [99, 199, 399, 799, 999]);
        assert.deepStrictEqual([1, 2, 3].map((n) => backoffMs(p, n, () => 0)), [0, 0, 0]);
    });

    it("retries a retryable failure up to the bound, counting each retry; never a refusal", async () => {
        const t = new TestMetrics();
        let calls = 0;
        await assert.rejects(withRetry({ dependency: "signer", policy, retryable: retryableHttp, metrics: t.metrics, sleep: noWait }, async () => {
            calls++;
            throw Object.assign(new Error("busy"), { status: 503 });
        }), /busy/);
        assert.strictEqual(calls, 3);
        assert.strictEqual(await t.total("outboundRetries", { dependency: "signer", reason: "503" }), 2);

        calls = 0;
        await assert.rejects(withRetry({ dependency: "signer", policy, retryable: retryableHttp, sleep: noWait }, async () => {
            calls++;
            throw Object.assign(new Error("no"), { status: 403 });
        }), /no/);
        assert.strictEqual(calls, 1);
    });

    it("ends an attempt that does not answer at its timeout, and aborts its signal", async () => {
        let aborted = 0;
        const started = Date.now();
        await assert.rejects(withRetry({ dependency: "tsa", policy: { ...policy, attempts: 2, timeoutMs: 50 }, retryable: retryableHttp, sleep: noWait }, (signal) =>
            new Promise(() => signal.addEventListener("abort", () => aborted++))), AttemptTimeoutError);
        assert.strictEqual(aborted, 2);
        assert.ok(Date.now() - started < 1000);
    });
});

describe("ops retry: the signer client against a flaky signer", () => {
    let server: FlakyServer | undefined;
    afterEach(async () => server?.close());
    const exists = (_req: unknown, _body: Buffer, res: import("http").ServerResponse) =>
        res.writeHead(409, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "already_signed", message: "exists" } }));
    const client = (url: string, attempts = 3, t?: TestMetrics) =>
        new SignerClient({ url, idToken: async () => "id-token", retry: { ...policy, attempts, timeoutMs: 500 }, sleep: noWait, metrics: t?.metrics });

    it("gets through a reset connection, a 503 and an attempt that never answers", async () => {
        const t = new TestMetrics();
        server = await flakyServer(["reset", 503, "hang"], exists);
        assert.deepStrictEqual(await client(server.url, 4, t).sign({}), { status: "exists" });
        assert.strictEqual(server.requests, 4);
        assert.strictEqual(await t.total("outboundRetries", { dependency: "signer" }), 3);
    });

    it("switched off (one attempt), the same fault reaches the generator", async () => {
        server = await flakyServer([503], exists);
        await assert.rejects(client(server.url, 1).sign({}), (err: unknown) => err instanceof SignerError && err.status === 503);
        assert.strictEqual(server.requests, 1);
    });

    it("stops at its bound, and never repeats a refusal", async () => {
        server = await flakyServer([503, 503, 503, 503], exists);
        await assert.rejects(client(server.url).sign({}), (err: unknown) => err instanceof SignerError && err.status === 503);
        assert.strictEqual(server.requests, 3);
        await server.close();
        server = await flakyServer([400], exists);
        await assert.rejects(client(server.url).sign({}), (err: unknown) => err instanceof SignerError && err.status === 400);
        assert.strictEqual(server.requests, 1);
    });
});

describe("ops retry: the timestamp authority client", () => {
    it("gets the chain through a 502 and a reset; switched off, the 502 is the answer", async () => {
        const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        const healthy = (_req: unknown, _body: Buffer, res: import("http").ServerResponse) => res.writeHead(200).end(pem);
        const t = new TestMetrics();
        const server = await flakyServer([502, "reset"], healthy);
        try {
            assert.strictEqual(await fetchTsaCertChain({ url: server.url, idToken: async () => "t", sleep: noWait, metrics: t.metrics }), pem);
            assert.strictEqual(server.requests, 3);
            assert.strictEqual(await t.total("outboundRetries", { dependency: "tsa" }), 2);
        } finally {
            await server.close();
        }
        const off = await flakyServer([502], healthy);
        try {
            await assert.rejects(fetchTsaCertChain({ url: off.url, idToken: async () => "t", retry: { ...policy, attempts: 1 } }), /answered 502/);
        } finally {
            await off.close();
        }
    });
});

describe("ops retry: Cloud KMS as the signer calls it", () => {
    const NAME = "projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1";

    it("signs through two UNAVAILABLE answers, each counted as a KMS error and a retry; the signature verifies", async () => {
        const kms = new FakeKms();
        const key = kms.addVersion(NAME);
        kms.faults.unavailable = 2;
        const t = new TestMetrics();
        const signer = new KmsSigningKey(resilientKms(kms, { metrics: t.metrics, sleep: noWait }), NAME, t.metrics);
        const data = Buffer.from("pae bytes");
        const sig = await signer.sign(data);
        assert.ok(crypto.verify("sha256", data, { key: key.publicKey, dsaEncoding: "der" }, sig));
        assert.strictEqual(kms.signRequests.length, 3);
        assert.strictEqual(await t.total("kmsErrors", { method: "asymmetricSign", code: "UNAVAILABLE" }), 2);
        assert.strictEqual(await t.total("outboundRetries", { dependency: "kms", reason: "UNAVAILABLE" }), 2);
    });

    it("switched off (the bare client), the same outage fails the signature", async () => {
        const kms = new FakeKms();
        kms.addVersion(NAME);
        kms.faults.unavailable = 1;
        await assert.rejects(new KmsSigningKey(kms, NAME).sign(Buffer.from("x")), SigningKeyError);
    });

    it("never retries a permanent refusal or an integrity failure; counts both", async () => {
        const kms = new FakeKms();
        kms.addVersion(NAME);
        kms.disabled.add(NAME);
        const t = new TestMetrics();
        const signer = new KmsSigningKey(resilientKms(kms, { metrics: t.metrics, sleep: noWait }), NAME, t.metrics);
        await assert.rejects(signer.sign(Buffer.from("x")), SigningKeyError);
        assert.strictEqual(kms.signRequests.length, 1);
        assert.strictEqual(await t.total("kmsErrors", { code: "FAILED_PRECONDITION" }), 1);
        kms.disabled.clear();
        kms.faults.badSignatureCrc = true;
        await assert.rejects(signer.sign(Buffer.from("x")), /CRC32C/);
        assert.strictEqual(kms.signRequests.length, 2);
        assert.strictEqual(await t.total("kmsErrors", { code: "INTEGRITY" }), 1);
    });
});

describe("ops retry: Cloud Storage through the library's retries, as gcsBucket sets them", () => {
    const healthy = (req: import("http").IncomingMessage, _body: Buffer, res: import("http").ServerResponse) => {
        if ((req.url ?? "").includes("/o/missing")) {
            return res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: 404, message: "No such object" } }));
        }
        return res.writeHead(200, { "content-type": "application/octet-stream" }).end("record bytes");
    };

    it("reads through a 503 and a reset connection; a missing object is one request, not retried", async function () {
        this.timeout(30_000);
        const server = await flakyServer([503, "reset"], healthy);
        try {
            const store = gcsBucket("records", { apiEndpoint: server.url });
            assert.strictEqual((await store.read("jobs/1/completed.json"))?.toString(), "record bytes");
            assert.strictEqual(server.requests, 3);
            const before = server.requests;
            assert.strictEqual(await store.read("missing"), undefined);
            assert.strictEqual(server.requests, before + 1);
        } finally {
            await server.close();
        }
    });
});

describe("ops retry: GitHub through Octokit, with a timeout on each attempt", () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    let gh: FakeGithub;
    beforeEach(async () => {
        gh = new FakeGithub({ appId: "42", installationId: "7", appPublicKey: publicKey.export({ type: "spki", format: "pem" }).toString(), org: "acme", repositories: ["acme/app"], webhookSecret: "hook-secret-0123456789" });
        await gh.listen();
    });
    afterEach(() => gh.close());

    /** fetch whose first `hangs` runner listings never answer (until their signal aborts them). */
    const hanging = (hangs: number): typeof fetch => async (input, init) => {
        if (String(input).includes("/actions/runners") && hangs-- > 0) {
            return new Promise<Response>((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason)));
        }
        return fetch(input, init);
    };
    const client = (fetchImpl: typeof fetch, attemptTimeoutMs: number) => new GithubRestClient({
        baseUrl: gh.url, appId: "42", installationId: "7", org: "acme", retryBaseMs: 5, writesPerSecond: 1000,
        privateKey: async () => privateKey.export({ type: "pkcs8", format: "pem" }).toString(), fetch: fetchImpl, attemptTimeoutMs,
    });

    it("ends an attempt GitHub never answers and retries it; without the timeout the call is still hanging", async () => {
        const started = Date.now();
        assert.deepStrictEqual(await client(hanging(2), 100).listRunners(), []);
        assert.ok(Date.now() - started < 5000);
        const stuck = await Promise.race([client(hanging(1), 60_000).listRunners().then(() => "answered"), new Promise((r) => setTimeout(() => r("still hanging"), 500))]);
        assert.strictEqual(stuck, "still hanging");
    });
});

describe("ops retry: Compute Engine requests", () => {
    /** A transport that fails with gaxios-shaped errors (`response.status`) `failures` times, then answers. */
    const transport = (failures: unknown[]) => {
        const calls: any[] = [];
        return {
            calls,
            request: async (opts: any) => {
                calls.push(opts);
                const failure = failures.shift();
                if (failure !== undefined) {
                    throw failure;
                }
                return { data: { ok: true } as any };
            },
        };
    };
    const gaxios = (status: number) => Object.assign(new Error(`Request failed with status code ${status}`), { response: { status } });

    it("retries 503 and a reset connection with each attempt bounded; never a 403", async () => {
        const t = new TestMetrics();
        const flaky = transport([gaxios(503), Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })]);
        const res = await retryingRequester(flaky, { metrics: t.metrics, sleep: noWait }).request({ url: "https://compute.example/x", method: "GET" });
        assert.deepStrictEqual(res.data, { ok: true });
        assert.strictEqual(flaky.calls.length, 3);
        assert.ok(flaky.calls.every((c) => c.signal instanceof AbortSignal && c.timeout === 10_000));
        assert.strictEqual(await t.total("outboundRetries", { dependency: "compute" }), 2);

        const refused = transport([gaxios(403)]);
        await assert.rejects(retryingRequester(refused, { sleep: noWait }).request({ url: "https://compute.example/x", method: "GET" }), /403/);
        assert.strictEqual(refused.calls.length, 1);
    });
});
