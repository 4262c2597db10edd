import * as assert from "assert";
import { createHash } from "crypto";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { buildGeneratorService, FINALIZE_PATH, GeneratorService } from "../../services/controlPlane/generator/app";
import { BUILD_TYPE } from "../../services/controlPlane/generator/provenance";
import type { AuditEntry } from "../../services/controlPlane/http";
import { JobFacts, Records, RegistrationRecord } from "../../services/controlPlane/records";
import { SignerError, SignOutcome } from "../../services/controlPlane/signerClient";
import { IdTokenVerifier } from "../../services/lib/idToken";
import { DirectoryStore } from "../../services/lib/objectStore";
import { simPool } from "../../services/sim/fixtures";
import { IdentityIssuer } from "../../services/sim/identityIssuer";

const GEN_AUDIENCE = "https://generator.example.run.app";
const PUSH_SA = "push@cp.iam.gserviceaccount.com";
const BUILDER = "https://example.com/builders/fleet@v1";
const SHA = "c".repeat(40);
const ID = "1111111111111111111";

describe("provenance generator", () => {
    const pools = [simPool("pool-a"), simPool("pool-b")];
    let issuer: IdentityIssuer;
    let root: string;
    let records: Records;
    let intakeA: DirectoryStore;
    let intakeB: DirectoryStore;
    let signed: any[];
    let signerAnswer: () => Promise<SignOutcome>;
    let audit: AuditEntry[];
    let gen: GeneratorService;

    const registration = (pool = "pool-a", instanceId = ID): RegistrationRecord => ({
        pool, project: "sim-workers", zone: "europe-west1-b", instanceId, instanceName: `${pool}-vm`, instanceCreationTimestamp: 1,
        serviceAccount: `${pool}-runner@x`, runnerName: `${pool}-${instanceId}`, uploadPrefix: `${pool}/${instanceId}/`,
        intakeBucket: `sim-intake-${pool}`, image: `projects/sim-workers/global/images/${pool}-runner-image`, registeredAt: "2026-01-01T09:00:00Z",
    });
    const facts = (status: string, extra: Partial<JobFacts> = {}): JobFacts => ({
        jobId: 500, runId: 400, runAttempt: 2, repository: "acme/app", headSha: SHA, headBranch: "main", workflowName: "release",
        workflowPath: ".github/workflows/release.yml", ref: "main", runnerName: `pool-a-${ID}`, labels: pools[0].labels, status,
        conclusion: status === "completed" ? "success" : null, startedAt: "2026-01-01T10:00:00Z",
        completedAt: status === "completed" ? "2026-01-01T10:07:00Z" : null, pool: "pool-a", deliveryId: `d-${status}`, receivedAt: "2026-01-01T10:07:01Z",
        ...extra,
    });
    /** A VM registered, its runner ran job 500 (in progress or completed), and it uploaded `object`. */
    const scenario = async (opts: { completed?: boolean; object?: string; bytes?: string } = {}) => {
        const reg = registration();
        await records.claimRegistration(reg);
        await records.putRunner({ runnerName: reg.runnerName, runnerId: 9, instanceId: ID, pool: "pool-a", createdAt: reg.registeredAt });
        await records.linkRunnerJob({ runnerName: reg.runnerName, jobId: 500, repository: "acme/app" });
        await records.putJobFacts(facts("in_progress"));
        if (opts.completed !== false) {
            await records.putJobFacts(facts("completed"));
        }
        const object = opts.object ?? `pool-a/${ID}/dist/app.tgz`;
        await intakeA.create(object, Buffer.from(opts.bytes ?? "artifact bytes"), "application/octet-stream");
        return object;
    };
    const push = (token: string | undefined, attributes: Record<string, unknown>) =>
        gen.app.inject({
            method: "POST",
            url: FINALIZE_PATH,
            headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
            payload: JSON.stringify({ message: { attributes, messageId: "1" }, subscription: "projects/cp/subscriptions/intake" }),
        });
    const pushToken = (email = PUSH_SA, audience = GEN_AUDIENCE) => issuer.mint({ audience, email });

    before(async () => {
        issuer = await IdentityIssuer.start();
    });
    after(() => issuer.close());
    beforeEach(() => {
        root = mkdtempSync(path.join(tmpdir(), "hbf-gen-"));
        records = new Records(new DirectoryStore(path.join(root, "records")));
        intakeA = new DirectoryStore(path.join(root, "a"));
        intakeB = new DirectoryStore(path.join(root, "b"));
        signed = [];
        audit = [];
        signerAnswer = async () => ({ status: "signed", envelope: { payloadType: "application/vnd.in-toto+json", payload: "e30=", signatures: [{ keyid: "k", sig: "c2ln" }] } });
        gen = buildGeneratorService({
            pools,
            intake: { "pool-a": intakeA, "pool-b": intakeB },
            records,
            signer: { sign: async (s) => (signed.push(s), signerAnswer()) },
            pushVerifier: new IdTokenVerifier({ audience: GEN_AUDIENCE, certs: issuer.certSource() }),
            pushServiceAccount: PUSH_SA,
            builderId: BUILDER,
            maxObjectBytes: 1024,
            audit: (e) => audit.push(e),
        });
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it("builds SLSA v1 provenance from its own digest, the registration record and the webhook facts", async () => {
        const object = await scenario();
        const res = await push(pushToken(), { bucketId: "sim-intake-pool-a", objectId: object, eventType: "OBJECT_FINALIZE" });
        assert.strictEqual(res.statusCode, 201, res.body);
        assert.strictEqual(signed.length, 1);
        const st = signed[0];
        assert.strictEqual(st._type, "https://in-toto.io/Statement/v1");
        assert.strictEqual(st.predicateType, "https://slsa.dev/provenance/v1");
        assert.deepStrictEqual(st.subject, [{ name: "dist/app.tgz", digest: { sha256: createHash("sha256").update("artifact bytes").digest("hex") } }]);
        const bd = st.predicate.buildDefinition;
        assert.strictEqual(bd.buildType, BUILD_TYPE);
        assert.deepStrictEqual(bd.externalParameters, { repository: "https://github.com/acme/app", ref: "main", workflow: { path: ".github/workflows/release.yml", name: "release" }, commit: SHA });
        assert.deepStrictEqual(bd.internalParameters.pool, "pool-a");
        assert.deepStrictEqual(bd.internalParameters.image, "projects/sim-workers/global/images/pool-a-runner-image");
        assert.deepStrictEqual(bd.internalParameters.runner, { name: `pool-a-${ID}`, id: 9, labels: pools[0].labels });
        assert.deepStrictEqual(bd.resolvedDependencies, [{ uri: "git+https://github.com/acme/app@main", digest: { gitCommit: SHA } }]);
        assert.deepStrictEqual(st.predicate.runDetails, {
            builder: { id: BUILDER },
            metadata: { invocationId: "https://github.com/acme/app/actions/runs/400/attempts/2/jobs/500", startedOn: "2026-01-01T10:00:00Z", finishedOn: "2026-01-01T10:07:00Z" },
        });
        const rec = await records.generated(object);
        assert.strictEqual(rec?.jobId, 500);
    });

    it("is idempotent: a second notification of the same object signs nothing", async () => {
        const object = await scenario();
        assert.strictEqual((await gen.generate("sim-intake-pool-a", object)).status, 201);
        const again = await gen.generate("sim-intake-pool-a", object);
        assert.strictEqual(again.status, 200);
        assert.strictEqual(signed.length, 1);
        assert.deepStrictEqual(await gen.reconcile(), { [object]: "already-done" });
    });

    it("treats the signer's 409 (already signed) as done", async () => {
        const object = await scenario();
        signerAnswer = async () => ({ status: "exists" });
        const r = await gen.generate("sim-intake-pool-a", object);
        assert.strictEqual(r.status, 200);
        assert.strictEqual((await records.generated(object))?.envelope, null);
    });

    const refused = async (bucket: string, object: string, status: number, code: string) => {
        await assert.rejects(gen.generate(bucket, object), (err: any) => {
            assert.strictEqual(err.status, status, err.message);
            assert.strictEqual(err.code, code);
            return true;
        });
        assert.strictEqual(signed.length, 0, "nothing may be signed");
        assert.strictEqual(await records.generated(object), undefined);
        assert.ok(audit.some((a) => a.reason === code && a.object === object), `refusal ${code} must be logged`);
    };

    it("refuses objects outside a registered location", async () => {
        await scenario();
        await intakeA.create("loose.tgz", Buffer.from("x"), "application/octet-stream");
        await refused("sim-intake-pool-a", "loose.tgz", 422, "outside-registered-location");
        await refused("sim-intake-pool-a", `pool-b/${ID}/x.tgz`, 422, "outside-registered-location");
        await refused("sim-intake-pool-a", "pool-a/not-an-id/x.tgz", 422, "outside-registered-location");
        await refused("sim-intake-pool-a", `pool-a/${ID}`, 422, "outside-registered-location");
        await refused("some-other-bucket", `pool-a/${ID}/dist/app.tgz`, 422, "unknown-bucket");
    });

    it("refuses an object without a registration record, or whose record belongs to another pool", async () => {
        await intakeA.create("pool-a/2222/x.tgz", Buffer.from("x"), "application/octet-stream");
        await refused("sim-intake-pool-a", "pool-a/2222/x.tgz", 422, "no-registration");
        await records.claimRegistration(registration("pool-b", "3333"));
        await refused("sim-intake-pool-a", "pool-a/3333/x.tgz", 422, "no-registration");
    });

    it("defers objects of a job that has not completed, or of a runner no webhook showed running a job", async () => {
        const object = await scenario({ completed: false });
        await refused("sim-intake-pool-a", object, 409, "job-not-completed");
        const reg = registration("pool-a", "4444");
        await records.claimRegistration(reg);
        await records.putRunner({ runnerName: reg.runnerName, runnerId: 10, instanceId: "4444", pool: "pool-a", createdAt: "x" });
        await intakeA.create("pool-a/4444/x.tgz", Buffer.from("x"), "application/octet-stream");
        await refused("sim-intake-pool-a", "pool-a/4444/x.tgz", 409, "no-job-facts");
        // After the completed webhook the deferred object is signed.
        await records.putJobFacts(facts("completed"));
        assert.strictEqual((await gen.generate("sim-intake-pool-a", object)).status, 201);
    });

    it("refuses a runner linked to several jobs, or a job whose facts name another runner", async () => {
        const object = await scenario();
        await records.linkRunnerJob({ runnerName: `pool-a-${ID}`, jobId: 501, repository: "acme/app" });
        await refused("sim-intake-pool-a", object, 422, "several-jobs");

        rmSync(root, { recursive: true, force: true });
        const reg = registration("pool-a", "6666");
        await records.claimRegistration(reg);
        await records.putRunner({ runnerName: reg.runnerName, runnerId: 11, instanceId: "6666", pool: "pool-a", createdAt: "x" });
        await records.linkRunnerJob({ runnerName: reg.runnerName, jobId: 600, repository: "acme/app" });
        await records.putJobFacts(facts("completed", { jobId: 600, runnerName: "pool-a-7777" }));
        await intakeA.create("pool-a/6666/x.tgz", Buffer.from("x"), "application/octet-stream");
        await refused("sim-intake-pool-a", "pool-a/6666/x.tgz", 422, "job-mismatch");
    });

    it("refuses the uploads of a job that did not succeed", async () => {
        const reg = registration("pool-a", "9999");
        await records.claimRegistration(reg);
        await records.putRunner({ runnerName: reg.runnerName, runnerId: 12, instanceId: "9999", pool: "pool-a", createdAt: "x" });
        await records.linkRunnerJob({ runnerName: reg.runnerName, jobId: 700, repository: "acme/app" });
        await records.putJobFacts(facts("completed", { jobId: 700, runnerName: reg.runnerName, conclusion: "failure" }));
        await intakeA.create("pool-a/9999/x.tgz", Buffer.from("x"), "application/octet-stream");
        await refused("sim-intake-pool-a", "pool-a/9999/x.tgz", 422, "job-not-successful");
    });

    it("refuses a missing or oversized object", async () => {
        await scenario({ object: `pool-a/${ID}/big.bin`, bytes: "x".repeat(2048) });
        await refused("sim-intake-pool-a", `pool-a/${ID}/big.bin`, 422, "object-too-large");
        await refused("sim-intake-pool-a", `pool-a/${ID}/missing.bin`, 404, "no-object");
    });

    it("answers 502 and records nothing when the signer refuses", async () => {
        const object = await scenario();
        signerAnswer = async () => { throw new SignerError(400, "builder_id_mismatch", "signer refused (400): builder id"); };
        await assert.rejects(gen.generate("sim-intake-pool-a", object), (err: any) => err.status === 502 && err.code === "signer-refused");
        assert.strictEqual(await records.generated(object), undefined);
    });

    it("accepts pushes only from the push subscription's identity, and answers bad pushes with 4xx", async () => {
        const object = await scenario();
        const attrs = { bucketId: "sim-intake-pool-a", objectId: object, eventType: "OBJECT_FINALIZE" };
        const expect = async (res: any, status: number, code?: string) => {
            assert.strictEqual(res.statusCode, status, res.body);
            if (code !== undefined) {
                assert.strictEqual(JSON.parse(res.body).error.code, code);
            }
        };
        await expect(await push(undefined, attrs), 401, "missing-token");
        await expect(await push(pushToken(pools[0].serviceAccount), attrs), 403, "wrong-caller");
        await expect(await push(pushToken(PUSH_SA, "https://signer.example.run.app"), attrs), 401, "invalid-token");
        await expect(await push(pushToken(), { bucketId: "sim-intake-pool-a" }), 400, "bad-push");
        assert.strictEqual(signed.length, 0);
        const deleted = await push(pushToken(), { ...attrs, eventType: "OBJECT_DELETE" });
        await expect(deleted, 200);
        assert.match(JSON.parse(deleted.body).ignored, /OBJECT_DELETE/);
        assert.strictEqual(signed.length, 0);
        await expect(await push(pushToken(), attrs), 201);
    });

    it("reconciles every intake bucket, signing what is due and reporting what is refused", async () => {
        const object = await scenario();
        await intakeA.create("stray/file", Buffer.from("x"), "application/octet-stream");
        await intakeB.create("pool-b/8888/y", Buffer.from("y"), "application/octet-stream");
        assert.deepStrictEqual(await gen.reconcile(), {
            [object]: "signed",
            "stray/file": "outside-registered-location",
            "pool-b/8888/y": "no-registration",
        });
        assert.strictEqual(signed.length, 1);
    });
});
