import * as assert from "assert";
import { generateKeyPairSync } from "crypto";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import type { FastifyInstance } from "fastify";
import { buildBrokerApp, JIT_CONFIG_PATH } from "../../../../services/controlPlane/broker/app";
import type { InstanceRef } from "../../../../services/controlPlane/cloud";
import { GithubApiError, GithubClient } from "../../../../services/controlPlane/github";
import type { AuditEntry } from "../../../../services/controlPlane/http";
import { BootImage, Records } from "../../../../services/controlPlane/records";
import { keySigner } from "../../../../services/controlPlane/uploadPolicy";
import { IdTokenVerifier } from "../../../../services/lib/idToken";
import { DirectoryStore } from "../../../../services/lib/objectStore";
import { simPool } from "../../../../services/sim/fixtures";
import { IdentityIssuer } from "../../../../services/sim/identityIssuer";

const AUDIENCE = "https://broker.example.run.app";

describe("registration broker (one JIT config per VM)", () => {
    const pools = [simPool("pool-a"), simPool("pool-b")];
    const uploadKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
    let issuer: IdentityIssuer;
    let rogue: IdentityIssuer;
    let root: string;
    let records: Records;
    let app: FastifyInstance;
    let audit: AuditEntry[];
    let jitRequests: { name: string; labels: string[]; runnerGroupId: number }[];
    let members: Set<string>;
    let githubFails: boolean;
    let image: BootImage | Error;

    const vm = (over: Partial<Record<string, unknown>> = {}) => ({
        projectId: "sim-workers",
        projectNumber: 42,
        zone: "europe-west1-b",
        instanceId: "1234567890123456789",
        instanceName: "pool-a-mig-x1",
        instanceCreationTimestamp: 1_700_000_000,
        ...over,
    }) as any;
    const token = (opts: { email?: string; ce?: any; audience?: string; issuedAt?: number; emailVerified?: boolean; by?: IdentityIssuer } = {}) =>
        (opts.by ?? issuer).mint({
            audience: opts.audience ?? AUDIENCE,
            email: opts.email ?? pools[0].serviceAccount,
            ...(opts.ce === null ? {} : { computeEngine: opts.ce ?? vm() }),
            ...(opts.issuedAt !== undefined ? { issuedAt: opts.issuedAt } : {}),
            ...(opts.emailVerified !== undefined ? { emailVerified: opts.emailVerified } : {}),
        });
    const register = (tok: string | undefined, body: unknown = { pool: "pool-a" }) =>
        app.inject({
            method: "POST",
            url: JIT_CONFIG_PATH,
            headers: { "content-type": "application/json", ...(tok !== undefined ? { authorization: `Bearer ${tok}` } : {}) },
            payload: typeof body === "string" ? body : JSON.stringify(body),
        });
    const refusal = async (res: Awaited<ReturnType<typeof register>>, status: number, code: string) => {
        assert.strictEqual(res.statusCode, status, res.body);
        assert.strictEqual(JSON.parse(res.body).error.code, code, res.body);
        assert.strictEqual(jitRequests.length, 0, "GitHub must not be asked");
        assert.deepStrictEqual(await records.store.list(""), [], "nothing may be stored");
    };

    before(async () => {
        issuer = await IdentityIssuer.start();
        rogue = await IdentityIssuer.start();
    });
    after(async () => {
        await issuer.close();
        await rogue.close();
    });
    beforeEach(() => {
        root = mkdtempSync(path.join(tmpdir(), "hbf-broker-"));
        records = new Records(new DirectoryStore(root));
        audit = [];
        jitRequests = [];
        members = new Set(["pool-a/1234567890123456789", "pool-b/99"]);
        githubFails = false;
        const github: GithubClient = {
            generateJitConfig: async (req) => {
                if (githubFails) {
                    throw new GithubApiError(503, "GitHub POST /orgs/acme/actions/runners/generate-jitconfig: 503 unavailable");
                }
                jitRequests.push(req);
                return { runnerId: 77, runnerName: req.name, encodedJitConfig: "ZW5jb2RlZC1qaXQ=" };
            },
            listRunners: async () => [],
            listHookDeliveries: async () => [],
            redeliver: async () => undefined,
            getRun: async () => { throw new Error("unused"); },
            getJob: async () => { throw new Error("unused"); },
            getRef: async () => { throw new Error("unused"); },
        };
        image = { uri: "https://compute.googleapis.com/compute/v1/projects/sim-workers/global/images/runner-20260101", id: "4417293847562938471" };
        app = buildBrokerApp({
            pools,
            verifier: new IdTokenVerifier({ audience: AUDIENCE, certs: issuer.certSource() }),
            membership: { isMember: async (pool, i: InstanceRef) => members.has(`${pool.name}/${i.instanceId}`) },
            images: { bootImage: async () => { if (image instanceof Error) { throw image; } return image; } },
            github,
            records,
            uploadSigner: keySigner("broker@cp.iam.gserviceaccount.com", uploadKey.privateKey),
            uploadEndpoint: "https://storage.googleapis.com",
            uploadMaxBytes: 1024,
            audit: (e) => audit.push(e),
        });
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it("registers a JIT runner with the pool's labels and group and returns an upload grant for the VM's own location", async () => {
        const res = await register(token());
        assert.strictEqual(res.statusCode, 201, res.body);
        const body = JSON.parse(res.body);
        assert.strictEqual(body.jitConfig, "ZW5jb2RlZC1qaXQ=");
        assert.deepStrictEqual(body.runner, { id: 77, name: "pool-a-1234567890123456789" });
        assert.deepStrictEqual(jitRequests, [{ name: "pool-a-1234567890123456789", labels: pools[0].labels, runnerGroupId: 1 }]);
        assert.strictEqual(body.upload.prefix, "pool-a/1234567890123456789/");
        assert.strictEqual(body.upload.url, "https://storage.googleapis.com/sim-intake-pool-a/");
        const policy = JSON.parse(Buffer.from(body.upload.fields.policy, "base64").toString());
        assert.deepStrictEqual(policy.conditions.slice(0, 3), [{ bucket: "sim-intake-pool-a" }, ["starts-with", "$key", "pool-a/1234567890123456789/"], ["content-length-range", 0, 1024]]);
        const lifetime = Date.parse(policy.expiration) - Date.now();
        assert.ok(lifetime > 3500_000 && lifetime <= 3600_000, `the grant lives as long as the pool's maxRunDuration, got ${lifetime} ms`);
        const reg = await records.registration("1234567890123456789");
        assert.strictEqual(reg?.pool, "pool-a");
        assert.strictEqual(reg?.zone, "europe-west1-b");
        assert.deepStrictEqual(reg?.bootImage, { uri: "https://compute.googleapis.com/compute/v1/projects/sim-workers/global/images/runner-20260101", id: "4417293847562938471" });
        assert.strictEqual((await records.runner("pool-a-1234567890123456789"))?.runnerId, 77);
        assert.ok(!JSON.stringify(audit).includes("ZW5jb2RlZC1qaXQ="), "the JIT config is never logged");
    });

    it("gives a VM exactly one JIT config: a second request, a replayed token and a concurrent race get 409", async () => {
        const t = token();
        assert.strictEqual((await register(t)).statusCode, 201);
        const replay = await register(t);
        assert.strictEqual(replay.statusCode, 409);
        assert.strictEqual(JSON.parse(replay.body).error.code, "already-registered");
        assert.strictEqual((await register(token())).statusCode, 409);
        members.add("pool-a/555");
        const race = await Promise.all(Array.from({ length: 8 }, () => register(token({ ce: vm({ instanceId: "555" }) }))));
        assert.deepStrictEqual(race.map((r) => r.statusCode).sort(), [201, 409, 409, 409, 409, 409, 409, 409]);
        assert.strictEqual(jitRequests.length, 2);
        assert.strictEqual(audit.filter((a) => a.reason === "already-registered").length, 9);
    });

    it("refuses forged, expired, wrong-audience and missing tokens with 401", async () => {
        await refusal(await register(token({ by: rogue })), 401, "invalid-token");
        await refusal(await register(token({ issuedAt: Math.floor(Date.now() / 1000) - 7200 })), 401, "invalid-token");
        await refusal(await register(token({ audience: "https://signer.example.run.app" })), 401, "invalid-token");
        await refusal(await register(undefined), 401, "missing-token");
        const t = token();
        await refusal(await register(`${t.slice(0, -4)}AAAA`), 401, "invalid-token");
        assert.deepStrictEqual(audit.filter((a) => a.outcome === "refused").map((a) => a.tokenFailure ?? a.reason), ["unknown-kid", "expired", "wrong-audience", "missing-token", "bad-signature"]);
    });

    it("refuses a token without instance claims, an unverified email, a wrong or other pool's service account", async () => {
        await refusal(await register(token({ ce: null })), 403, "not-an-instance");
        await refusal(await register(token({ emailVerified: false })), 403, "no-verified-email");
        await refusal(await register(token({ email: "someone@other.iam.gserviceaccount.com" })), 403, "wrong-service-account");
        await refusal(await register(token({ email: pools[1].serviceAccount, ce: vm({ instanceId: "99" }) })), 403, "other-pool");
        await refusal(await register(token(), { pool: "pool-b" }), 403, "other-pool");
    });

    it("refuses an instance in another project, in a zone outside the region, or not in the pool's MIG", async () => {
        await refusal(await register(token({ ce: vm({ projectId: "attacker-project" }) })), 403, "wrong-project");
        await refusal(await register(token({ ce: vm({ zone: "us-central1-a" }) })), 403, "wrong-zone");
        await refusal(await register(token({ ce: vm({ instanceId: "42424242" }) })), 403, "not-in-pool-mig");
        await refusal(await register(token({ ce: vm({ instanceId: "../1" }) })), 403, "bad-instance-id");
    });

    it("answers bad input with 4xx and stores nothing", async () => {
        await refusal(await register(token(), { pool: "no-such-pool" }), 400, "unknown-pool");
        await refusal(await register(token(), {}), 400, "unknown-pool");
        const notJson = await register(token(), "not json {secret-ish}");
        await refusal(notJson, 400, "bad-request");
        assert.ok(!notJson.body.includes("secret-ish"), "the body is never echoed");
        await refusal(await register(token(), { pool: "pool-a", pad: "x".repeat(5000) }), 413, "body-too-large");
        const wrongRoute = await app.inject({ method: "GET", url: JIT_CONFIG_PATH });
        assert.strictEqual(wrongRoute.statusCode, 404);
    });

    it("records the boot image by self link and numeric id, and refuses a VM whose image it cannot pin", async () => {
        image = { uri: "projects/sim-workers/global/images/family/runner", id: "" };
        await refusal(await register(token()), 403, "image-not-immutable");
        image = { uri: "https://compute.googleapis.com/compute/v1/projects/sim-workers/global/images/runner-20260101", id: "latest" };
        await refusal(await register(token()), 403, "image-not-immutable");
        image = new Error("compute 503");
        await refusal(await register(token()), 503, "image-unavailable");
        assert.strictEqual(await records.registration("1234567890123456789"), undefined);
        assert.strictEqual(jitRequests.length, 0);
    });

    it("answers 502 when GitHub fails, keeping the claim so the VM cannot retry into a second config", async () => {
        githubFails = true;
        const res = await register(token());
        assert.strictEqual(res.statusCode, 502);
        assert.strictEqual(JSON.parse(res.body).error.code, "github-failed");
        assert.ok(await records.registration("1234567890123456789"));
        githubFails = false;
        assert.strictEqual((await register(token())).statusCode, 409);
        assert.strictEqual(jitRequests.length, 0);
    });
});
