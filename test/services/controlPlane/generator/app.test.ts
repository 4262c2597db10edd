import * as assert from "assert";
import { createHash } from "crypto";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { buildGeneratorService, FINALIZE_PATH, GeneratorService } from "../../../../services/controlPlane/generator/app";
import { BUILD_TYPE } from "../../../../services/controlPlane/generator/provenance";
import type { AuditEntry } from "../../../../services/controlPlane/http";
import { JobFacts, Records, RegistrationRecord } from "../../../../services/controlPlane/records";
import { SignerError, SignOutcome } from "../../../../services/controlPlane/signerClient";
import { IdTokenVerifier } from "../../../../services/lib/idToken";
import { DirectoryStore } from "../../../../services/lib/objectStore";
import { simPool } from "../../../../services/sim/fixtures";
import { IdentityIssuer } from "../../../../services/sim/identityIssuer";

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
    let storageNow: Date;

    const registration = (pool = "pool-a", instanceId = ID): RegistrationRecord => ({
        pool, project: "sim-workers", zone: "europe-west1-b", instanceId, instanceName: `${pool}-vm`, instanceCreationTimestamp: 1,
        serviceAccount: `${pool}-runner@x`, runnerName: `${pool}-${instanceId}`, uploadPrefix: `${pool}/${instanceId}/`,
        intakeBucket: `sim-intake-${pool}`, image: `projects/sim-workers/global/images/${pool}-runner-image`,
        bootImage: { uri: `https://compute.googleapis.com/compute/v1/projects/sim-workers/global/images/${pool}-runner-20260101`, id: "7265198349217465123" },
        registeredAt: "2026-01-01T09:59:00Z",
    });
    const facts = (status: string, extra: Partial<JobFacts> = {}): JobFacts => ({
        jobId: 500, runId: 400, runAttempt: 2, repository: "acme/app", headSha: SHA, headBranch: "main", workflowName: "release",
        workflowPath: ".github/workflows/release.yml", ref: "refs/heads/main", event: "push", repositoryId: 41, repositoryOwnerId: 42,
        runnerName: `pool-a-${ID}`, runnerId: 9, runnerGroupId: 1, labels: pools[0].labels, status,
        conclusion: status === "completed" ? "success" : null, startedAt: "2026-01-01T10:00:00Z",
        completedAt: status === "completed" ? "2026-01-01T10:07:00Z" : null, pool: "pool-a", deliveryId: `d-${status}`, receivedAt: "2026-01-01T10:07:01Z",
        ...extra,
    });
    /** A VM registered, its runner ran job 500 (in progress or completed), and it uploaded `object`. */
    const scenario = async (opts: { completed?: boolean; object?: string; bytes?: string; labels?: string[] } = {}) => {
        const reg = registration();
        await records.claimRegistration(reg);
        await records.putRunner({ runnerName: reg.runnerName, runnerId: 9, instanceId: ID, pool: "pool-a", createdAt: reg.registeredAt });
        await records.linkRunnerJob({ runnerName: reg.runnerName, jobId: 500, repository: "acme/app" });
        const labels = opts.labels ?? pools[0].labels;
        await records.putJobFacts(facts("in_progress", { labels }));
        if (opts.completed !== false) {
            await records.putJobFacts(facts("completed", { labels }));
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
        // Objects are created "during the job" unless a test moves the storage clock.
        storageNow = new Date("2026-01-01T10:05:00Z");
        intakeA = new DirectoryStore(path.join(root, "a"), () => storageNow);
        intakeB = new DirectoryStore(path.join(root, "b"), () => storageNow);
        signed = [];
        audit = [];
        signerAnswer = async () => {
            const envelope = { payloadType: "application/vnd.in-toto+json", payload: "e30=", signatures: [{ keyid: "k", sig: "c2ln" }] };
            return { status: "signed", envelope, bundle: { mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", dsseEnvelope: envelope } as any };
        };
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
        assert.strictEqual(bd.buildType, "https://actions.github.io/buildtypes/workflow/v1");
        assert.strictEqual(bd.buildType, BUILD_TYPE);
        assert.deepStrictEqual(bd.externalParameters, { workflow: { ref: "refs/heads/main", repository: "https://github.com/acme/app", path: ".github/workflows/release.yml" } });
        assert.deepStrictEqual(bd.internalParameters.github, {
            event_name: "push", repository_id: "41", repository_owner_id: "42", runner_environment: "self-hosted",
            workflow_ref: "acme/app/.github/workflows/release.yml@refs/heads/main",
        });
        assert.deepStrictEqual(bd.internalParameters.fleet, {
            pool: "pool-a",
            job: { id: 500, runId: 400, runAttempt: 2, workflowName: "release" },
            runner: { id: 9, name: `pool-a-${ID}`, groupId: 1, labels: pools[0].labels },
            location: { kind: "gce-instance", project: "sim-workers", zone: "europe-west1-b", instanceId: ID, instanceName: "pool-a-vm" },
            image: { uri: "https://compute.googleapis.com/compute/v1/projects/sim-workers/global/images/pool-a-runner-20260101", id: "7265198349217465123" },
        });
        assert.deepStrictEqual(bd.resolvedDependencies, [{ uri: "git+https://github.com/acme/app@refs/heads/main", digest: { gitCommit: SHA } }]);
        assert.deepStrictEqual(st.predicate.runDetails, {
            builder: { id: BUILDER },
            metadata: { invocationId: "https://github.com/acme/app/actions/runs/400/attempts/2/jobs/500", startedOn: "2026-01-01T10:00:00Z", finishedOn: "2026-01-01T10:07:00Z" },
        });
        const rec = await records.generated("sim-intake-pool-a", object);
        assert.strictEqual(rec?.jobId, 500);
        assert.match(rec!.envelopeObject, /^sha256\/[0-9a-f]{64}\/[0-9a-f]{64}\.intoto\.jsonl$/);
    });

    it("is idempotent: a second notification of the same object signs nothing", async () => {
        const object = await scenario();
        assert.strictEqual((await gen.generate("sim-intake-pool-a", object)).status, 201);
        const again = await gen.generate("sim-intake-pool-a", object);
        assert.strictEqual(again.status, 200);
        assert.strictEqual(signed.length, 1);
        assert.deepStrictEqual(await gen.reconcile(), {}, "nothing was deferred: the pass has nothing to read");
    });

    it("never records a null envelope: a signer holding another statement for the object is a refusal", async () => {
        const object = await scenario();
        signerAnswer = async () => ({ status: "exists" });
        await assert.rejects(gen.generate("sim-intake-pool-a", object), (err: any) => err.status === 422 && err.code === "signed-differently");
        assert.strictEqual(await records.generated("sim-intake-pool-a", object), undefined);
    });

    it("keeps the envelope when duplicate notifications race (the signer hands the stored envelope back)", async () => {
        const object = await scenario();
        let calls = 0;
        signerAnswer = async () => {
            const envelope = { payloadType: "application/vnd.in-toto+json", payload: "e30=", signatures: [{ keyid: "k", sig: `c2ln${++calls}` }] };
            return { status: "signed", envelope, bundle: { mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", dsseEnvelope: envelope } as any };
        };
        const results = await Promise.all(Array.from({ length: 6 }, () => gen.generate("sim-intake-pool-a", object)));
        const stored = await records.generated("sim-intake-pool-a", object);
        assert.ok(stored?.envelope, "the stored record keeps an envelope");
        for (const r of results) {
            assert.deepStrictEqual(r.envelope, stored!.envelope, "every answer names the one stored envelope");
            assert.strictEqual(r.envelopeObject, stored!.envelopeObject);
        }
    });

    const refused = async (bucket: string, object: string, status: number, code: string) => {
        await assert.rejects(gen.generate(bucket, object), (err: any) => {
            assert.strictEqual(err.status, status, err.message);
            assert.strictEqual(err.code, code);
            return true;
        });
        assert.strictEqual(signed.length, 0, "nothing may be signed");
        assert.strictEqual(await records.generated(bucket, object), undefined);
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
        // Only the runner name differs: the facts carry the broker's runner id (9) and the pool's group.
        await records.putRunner({ runnerName: reg.runnerName, runnerId: 9, instanceId: "6666", pool: "pool-a", createdAt: "x" });
        await records.linkRunnerJob({ runnerName: reg.runnerName, jobId: 600, repository: "acme/app" });
        await records.putJobFacts(facts("completed", { jobId: 600, runnerName: "pool-a-7777" }));
        assert.strictEqual(facts("completed").runnerId, 9);
        await intakeA.create("pool-a/6666/x.tgz", Buffer.from("x"), "application/octet-stream");
        await refused("sim-intake-pool-a", "pool-a/6666/x.tgz", 422, "job-mismatch");
    });

    it("refuses the uploads of a job that ran on this pool's runner without naming the pool, even before it completes", async () => {
        // GitHub gives `runs-on: [self-hosted]` to any runner: it fits pool-a's, but asked for no pool.
        const unnamed = await scenario({ labels: ["self-hosted"], completed: false });
        await refused("sim-intake-pool-a", unnamed, 422, "job-not-for-pool");
        await records.putJobFacts(facts("completed", { labels: ["self-hosted"] }));
        await refused("sim-intake-pool-a", unnamed, 422, "job-not-for-pool");
        // Refused with a record that says why and what to write instead, and answered the same way again.
        const record = await records.refused("sim-intake-pool-a", unnamed);
        assert.strictEqual(record?.code, "job-not-for-pool");
        assert.match(record!.message, /job 500 ran on runner pool-a-\d+ of pool "pool-a" without asking for that pool: runs-on \["self-hosted"\] names no pool.*runs-on: \[self-hosted, pool-a\]/);
        await assert.rejects(gen.generate("sim-intake-pool-a", unnamed), /without asking for that pool/);
        // A job that named the other pool gets nothing here either.
        rmSync(root, { recursive: true, force: true });
        await refused("sim-intake-pool-a", await scenario({ labels: ["self-hosted", "pool-b"] }), 422, "job-not-for-pool");
        // The variant that names the pool it ran on, all else equal, is signed: the labels alone decide.
        rmSync(root, { recursive: true, force: true });
        assert.strictEqual((await gen.generate("sim-intake-pool-a", await scenario({ labels: ["self-hosted", "pool-a"] }))).status, 201);
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
        assert.strictEqual(await records.generated("sim-intake-pool-a", object), undefined);
    });

    it("refuses for good, with a record, a job a key rotation overtook (the signer's outside_key_window), instead of a 502 on every redelivery", async () => {
        const object = await scenario();
        let calls = 0;
        signerAnswer = async () => {
            calls++;
            throw new SignerError(422, "outside_key_window", "signer refused (422): finishedOn 2026-01-01T10:07:00Z is outside the active key version's window");
        };
        const finalRefusal = (err: any) => err.status === 422 && err.code === "outside-key-window";
        await assert.rejects(gen.generate("sim-intake-pool-a", object), finalRefusal);
        assert.match((await records.refused("sim-intake-pool-a", object))!.message, /a key rotation overtook it/);
        assert.strictEqual(await records.generated("sim-intake-pool-a", object), undefined);
        // Redelivered: the record answers, the signer is not asked again.
        await assert.rejects(gen.generate("sim-intake-pool-a", object), finalRefusal);
        assert.strictEqual(calls, 1);
        // Any other signer refusal stays retryable (502, nothing recorded).
        rmSync(root, { recursive: true, force: true });
        const other = await scenario();
        signerAnswer = async () => { throw new SignerError(422, "statement_time", "signer refused (422): finishedOn is in the future"); };
        await assert.rejects(gen.generate("sim-intake-pool-a", other), (err: any) => err.status === 502 && err.code === "signer-refused");
        assert.strictEqual(await records.refused("sim-intake-pool-a", other), undefined);
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

    it("reconciles only deferred objects: signs them once their job completed, then forgets them, whatever the bucket holds", async () => {
        const object = await scenario({ completed: false });
        const deferred = await gen.generate("sim-intake-pool-a", object).catch((err) => err);
        assert.strictEqual(deferred.code, "job-not-completed");
        // Objects never deferred (stray, already refused) are not the pass's business.
        await intakeA.create("stray/file", Buffer.from("x"), "application/octet-stream");
        await intakeB.create("pool-b/8888/y", Buffer.from("y"), "application/octet-stream");
        assert.deepStrictEqual(await gen.reconcile(), { [object]: "job-not-completed" });
        await records.putJobFacts(facts("completed"));
        assert.deepStrictEqual(await gen.reconcile(), { [object]: "signed" });
        assert.strictEqual(signed.length, 1);
        assert.deepStrictEqual(await gen.reconcile(), {}, "the marker is gone once the object is settled");
        assert.deepStrictEqual(await records.store.list("pending/objects/"), []);
    });

    it("drops the marker of a deferred object refused for good, and names long objects by hash", async () => {
        const long = `pool-a/${ID}/${"d/".repeat(400)}x.bin`;
        const object = await scenario({ completed: false, object: long });
        await gen.generate("sim-intake-pool-a", object).catch(() => undefined);
        const [marker] = await records.store.list("pending/objects/");
        assert.match(marker, /^pending\/objects\/[0-9a-f]{64}\.json$/);
        await records.putJobFacts({ ...facts("completed"), conclusion: "failure" });
        assert.deepStrictEqual(await gen.reconcile(), { [object]: "job-not-successful" });
        assert.deepStrictEqual(await records.store.list("pending/objects/"), []);
        assert.strictEqual(signed.length, 0);
    });

    describe("uploads after the job ended", () => {
        it("refuses an object the store created after the job's completion, and records the refusal", async () => {
            storageNow = new Date("2026-01-01T10:07:02Z"); // completed_at 10:07:00
            const object = await scenario();
            await refused("sim-intake-pool-a", object, 422, "uploaded-after-completion");
            assert.strictEqual((await records.refused("sim-intake-pool-a", object))?.code, "uploaded-after-completion");
            // Redelivery gets the same answer from the record.
            await refused("sim-intake-pool-a", object, 422, "uploaded-after-completion");
        });

        it("accepts an upload in the job's last second (completed_at has whole seconds)", async () => {
            storageNow = new Date("2026-01-01T10:07:00.900Z");
            const object = await scenario();
            assert.strictEqual((await gen.generate("sim-intake-pool-a", object)).status, 201);
        });

        it("refuses an object created after the VM was deleted, or after its maximum lifetime", async () => {
            await records.recordScaleIn(ID, { instanceId: ID, pool: "pool-a", why: "test", at: "2026-01-01T10:04:00Z" });
            const object = await scenario(); // created 10:05, before completion but after the deletion
            await refused("sim-intake-pool-a", object, 422, "uploaded-after-scale-in");

            rmSync(root, { recursive: true, force: true });
            // maxRunDuration 3600 s from registration at 09:59: the VM cannot exist after 10:59.
            await records.putJobFacts(facts("completed", { completedAt: "2026-01-01T11:30:00Z" }));
            storageNow = new Date("2026-01-01T11:10:00Z");
            const late = await scenario({ object: `pool-a/${ID}/late.bin` });
            await refused("sim-intake-pool-a", late, 422, "uploaded-after-vm-lifetime");
        });

        it("refuses an object the store created before the job started (started_at), and accepts one in the job's first second", async () => {
            storageNow = new Date("2026-01-01T09:59:58.900Z"); // started_at 10:00:00, registered 09:59
            const early = await scenario();
            await refused("sim-intake-pool-a", early, 422, "uploaded-before-start");
            assert.match((await records.refused("sim-intake-pool-a", early))!.message, /created at 2026-01-01T09:59:58\.900Z, before job 500 started at 2026-01-01T10:00:00Z/);

            rmSync(root, { recursive: true, force: true });
            storageNow = new Date("2026-01-01T09:59:59.500Z");
            assert.strictEqual((await gen.generate("sim-intake-pool-a", await scenario())).status, 201);
        });

        it("refuses when the start time is unknown", async () => {
            await records.putJobFacts(facts("completed", { startedAt: null }));
            const object = await scenario();
            await refused("sim-intake-pool-a", object, 422, "start-time-unknown");
        });

        it("refuses when the completion time is unknown", async () => {
            await records.putJobFacts(facts("completed", { completedAt: null }));
            const object = await scenario();
            await refused("sim-intake-pool-a", object, 422, "completion-time-unknown");
        });
    });

    it("refuses a job whose source ref, event or ids could not be established", async () => {
        await records.putJobFacts(facts("completed", { ref: null, refUnresolved: "pull_request run lists no single pull request (a fork's pull request)" }));
        const object = await scenario();
        await refused("sim-intake-pool-a", object, 422, "source-unresolved");
        assert.match((await records.refused("sim-intake-pool-a", object))!.message, /fork's pull request/);
    });

    it("refuses a job whose facts name another runner id than the broker's", async () => {
        await records.putJobFacts(facts("completed", { runnerId: 999 }));
        const object = await scenario();
        await refused("sim-intake-pool-a", object, 422, "job-mismatch");
    });

    it("signs at most the pool's maxObjectsPerJob objects of one job, even when notified concurrently", async () => {
        gen = buildGeneratorService({
            pools: [simPool("pool-a", { maxObjectsPerJob: 3 }), pools[1]],
            intake: { "pool-a": intakeA, "pool-b": intakeB },
            records,
            signer: { sign: async (st) => (signed.push(st), signerAnswer()) },
            pushVerifier: new IdTokenVerifier({ audience: GEN_AUDIENCE, certs: issuer.certSource() }),
            pushServiceAccount: PUSH_SA,
            builderId: BUILDER,
            maxObjectBytes: 1024,
            audit: (e) => audit.push(e),
        });
        await scenario();
        const names = Array.from({ length: 8 }, (_, i) => `pool-a/${ID}/dist/f${i}.bin`);
        for (const n of names) {
            await intakeA.create(n, Buffer.from(n), "application/octet-stream");
        }
        const outcomes = await Promise.allSettled(names.map((n) => gen.generate("sim-intake-pool-a", n)));
        assert.strictEqual(outcomes.filter((o) => o.status === "fulfilled").length, 3);
        const over = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
        assert.strictEqual(over.length, 5);
        assert.ok(over.every((o) => o.reason.status === 422 && o.reason.code === "over-budget"), JSON.stringify(over.map((o) => o.reason.code)));
        assert.strictEqual(signed.length, 3);
        assert.strictEqual((await records.store.list("refused/")).length, 5, "every over-budget object is recorded");
        assert.strictEqual((await records.store.list("budget/500/")).length, 3);
    });

    it("answers a valid 1,020-character object name without a 500: record names are hashes", async () => {
        const prefix = `pool-a/${ID}/`;
        const segments = Array.from({ length: 9 }, (_, i) => `${i}`.repeat(99)).join("/");
        const object = `${prefix}${segments}/${"x".repeat(1020 - prefix.length - segments.length - 1)}`;
        assert.strictEqual(object.length, 1020);
        await scenario({ object });
        const res = await push(pushToken(), { bucketId: "sim-intake-pool-a", objectId: object, eventType: "OBJECT_FINALIZE" });
        assert.strictEqual(res.statusCode, 201, res.body);
        const again = await push(pushToken(), { bucketId: "sim-intake-pool-a", objectId: object, eventType: "OBJECT_FINALIZE" });
        assert.strictEqual(again.statusCode, 200, again.body);
        assert.strictEqual(signed.length, 1);
    });
});
