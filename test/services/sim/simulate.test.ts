import * as assert from "assert";
import { createHash } from "crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { startSimFleet, SimFleet } from "../../../services/sim/fleet";
import { cli, jobOnUnnamedPool, scaleTargetFailures, simulate, SimSummary, verifyEnvelope } from "../../../services/sim/simulate";

describe("end-to-end simulation on loopback (3 jobs, 2 pools)", function () {
    this.timeout(120_000);
    let out: string;
    let summary: SimSummary;

    before(async () => {
        out = mkdtempSync(path.join(tmpdir(), "hbf-sim-"));
        summary = await simulate({ jobs: 3, pools: 2, out, concurrency: 2 });
    });
    after(() => rmSync(out, { recursive: true, force: true }));

    it("produces a verifiable envelope per job and writes summary.json and keys.json", () => {
        assert.strictEqual(summary.ok, true, JSON.stringify(summary, null, 1));
        assert.strictEqual(summary.jobs.length, 3);
        assert.deepStrictEqual(new Set(summary.jobs.map((j) => j.pool)), new Set(["pool-a", "pool-b"]));
        const keys = readFileSync(path.join(out, "keys.json"), "utf8");
        for (const job of summary.jobs) {
            const artifact = readFileSync(path.join(out, job.artifact));
            assert.strictEqual(createHash("sha256").update(artifact).digest("hex"), job.sha256);
            const envelope = JSON.parse(readFileSync(path.join(out, job.envelope!), "utf8"));
            assert.strictEqual(verifyEnvelope(envelope, artifact, keys, job.repository), undefined);
            const statement = JSON.parse(Buffer.from(envelope.payload, "base64").toString());
            assert.match(statement.predicate.runDetails.metadata.invocationId, new RegExp(`/actions/runs/\\d+/attempts/1/jobs/${job.jobId}$`));
            const bd = statement.predicate.buildDefinition;
            assert.strictEqual(bd.internalParameters.fleet.runner.name, job.runnerName);
            assert.deepStrictEqual(bd.externalParameters.workflow, { ref: "refs/heads/main", repository: `https://github.com/${job.repository}`, path: ".github/workflows/build.yml" });
            assert.strictEqual(bd.internalParameters.github.event_name, "push");
            assert.match(bd.internalParameters.github.repository_id, /^\d+$/);
            assert.match(bd.internalParameters.fleet.image.id, /^\d+$/);
            // Independent checks fail on tampering.
            assert.match(verifyEnvelope(envelope, Buffer.concat([artifact, Buffer.from("x")]), keys, job.repository)!, /sha256/);
            assert.match(verifyEnvelope(envelope, artifact, keys, "acme/other")!, /source repository/);
            const tampered = { ...envelope, payload: Buffer.from(JSON.stringify({ ...statement, subject: [] })).toString("base64") };
            assert.match(verifyEnvelope(tampered, artifact, keys, job.repository)!, /signature/);
        }
        assert.deepStrictEqual(JSON.parse(readFileSync(path.join(out, "summary.json"), "utf8")).ok, true);
    });

    it("raises demand per pool and deletes every job's VM after its job", () => {
        assert.ok(summary.demandPeak["pool-a"] >= 1 && summary.demandPeak["pool-b"] >= 1, JSON.stringify(summary.demandPeak));
        // The 3 jobs' VMs, and the VM the job-on-unnamed-pool attack's job ran on (scaled in after it too).
        assert.strictEqual(summary.vmsDeleted, 4);
    });

    it("refuses every attack, each by the check meant to stop it", () => {
        const byName = Object.fromEntries(summary.attacks.map((a) => [a.name, a]));
        const expected: Record<string, [number, string]> = {
            "second-jit-config": [409, "already-registered"],
            "token-from-other-pool": [403, "other-pool"],
            "upload-into-other-job": [403, "AccessDenied"],
            "overwrite-own-upload": [403, "AccessDenied"],
            "forged-webhook": [401, "bad-signature"],
            "replayed-webhook": [409, "replayed-delivery"],
            "replayed-webhook-new-id": [409, "stale-event"],
            "runner-calls-signer": [403, "forbidden"],
            "runner-calls-generator": [403, "wrong-caller"],
            "runner-calls-webhook": [401, "bad-signature"],
            "job-on-unnamed-pool": [422, "job-not-for-pool"],
        };
        assert.deepStrictEqual(Object.keys(byName).sort(), Object.keys(expected).sort());
        for (const [name, [status, code]] of Object.entries(expected)) {
            assert.strictEqual(byName[name].refused, true, name);
            assert.strictEqual(byName[name].status, status, name);
            assert.strictEqual(byName[name].code, code, name);
        }
    });

    it("costs GitHub at most 3 requests per job, and a steady-state pass that does not grow with repositories or finished jobs", async () => {
        // Side by side: this run (2 repositories, 3 jobs) and one with 30x the repositories and more jobs.
        const bigOut = mkdtempSync(path.join(tmpdir(), "hbf-sim-scale-"));
        try {
            const big = await simulate({ jobs: 8, pools: 2, repos: 60, out: bigOut, concurrency: 2, attacks: false });
            assert.strictEqual(big.ok, true);
            for (const s of [summary, big]) {
                assert.deepStrictEqual(scaleTargetFailures(s), [], JSON.stringify(s.github));
                assert.ok(s.github.requestsPerJob > 0);
            }
            assert.strictEqual(big.repos, 60);
            assert.strictEqual(new Set(big.jobs.map((j) => j.repository)).size, 8, "the jobs ran in 8 different repositories");
            assert.strictEqual(big.github.reconcilePassRequests, summary.github.reconcilePassRequests);
            assert.strictEqual(big.github.reconcilePassSent, summary.github.reconcilePassSent);
            assert.deepStrictEqual(big.records, summary.records);
            // The old client listed every repository's runs on every pass; nothing does now.
            assert.deepStrictEqual(Object.keys(big.github.byRoute).filter((r) => /installation\/repositories|actions\/runs$/.test(r)), []);
            const written = JSON.parse(readFileSync(path.join(bigOut, "summary.json"), "utf8"));
            assert.deepStrictEqual(Object.keys(written.github).sort(), ["byRoute", "notModified", "reconcilePassRequests", "reconcilePassSent", "requests", "requestsPerJob"]);
            assert.deepStrictEqual(Object.keys(written.records).sort(), ["listsPerPass", "readsPerPass"]);
        } finally {
            rmSync(bigOut, { recursive: true, force: true });
        }
    });

    it("the command answers bad arguments with exit 2 and writes nothing", async () => {
        const dir = path.join(out, "never");
        const errors: string[] = [];
        const write = process.stderr.write;
        process.stderr.write = ((s: string) => (errors.push(s), true)) as typeof process.stderr.write;
        try {
            assert.strictEqual(await cli(["--jobs", "0", "--out", dir]), 2);
            assert.strictEqual(await cli(["--jobs", "2"]), 2);
            assert.strictEqual(await cli(["--bogus"]), 2);
        } finally {
            process.stderr.write = write;
        }
        assert.match(errors.join(""), /--jobs "0" must be an integer between 1 and 1000/);
        assert.match(errors.join(""), /--out is required/);
        assert.strictEqual(existsSync(dir), false);
    });
});

describe("simulation attack: a job that names no pool lands on a fleet runner", function () {
    this.timeout(60_000);
    let fleet: SimFleet;
    let dir: string;
    beforeEach(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "hbf-sim-placement-"));
        fleet = await startSimFleet({ pools: 2, dir, quiet: true });
    });
    afterEach(async () => {
        await fleet.close();
        rmSync(dir, { recursive: true, force: true });
    });

    it("is refused by the placement check, while the same steps naming the pool are signed", async () => {
        const [poolA] = fleet.pools;
        const attack = await jobOnUnnamedPool(fleet, poolA, ["self-hosted"]);
        assert.strictEqual(attack.status, 422, JSON.stringify(attack.body));
        assert.strictEqual(attack.body.error.code, "job-not-for-pool");
        assert.ok(fleet.audit.some((a) => a.service === "webhook" && a.reason === "pool-not-requested"), "the webhook recorded the misplaced job");
        assert.strictEqual((await fleet.webhook.demand())[poolA.name], 0, "never counted as demand");
        // The variant: the only change is that runs-on names the pool. Same VM flow, same upload: signed.
        const legit = await jobOnUnnamedPool(fleet, poolA, ["self-hosted", poolA.name]);
        assert.strictEqual(legit.status, 201, JSON.stringify(legit.body));
    });
});
