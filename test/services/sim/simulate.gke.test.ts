import * as assert from "assert";
import { createHash } from "crypto";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { POD_ATTACKS } from "../../../services/sim/podAttacks";
import { cli, simulate, SimSummary, verifyEnvelope } from "../../../services/sim/simulate";

describe("end-to-end simulation with GKE pools beside GCE pools (4 jobs, 1 GCE + 2 GKE pools)", function () {
    this.timeout(120_000);
    let out: string;
    let summary: SimSummary;

    before(async () => {
        out = mkdtempSync(path.join(tmpdir(), "hbf-sim-gke-"));
        summary = await simulate({ jobs: 4, pools: 1, gkePools: 2, repos: 4, out, concurrency: 2 });
    });
    after(() => rmSync(out, { recursive: true, force: true }));

    it("gives every job, VM or runner pod, a verified envelope, and lists pool, backend, artifact and envelope in summary.json", () => {
        assert.strictEqual(summary.ok, true, JSON.stringify(summary.jobs.filter((j) => !j.verified), null, 1));
        const written: SimSummary = JSON.parse(readFileSync(path.join(out, "summary.json"), "utf8"));
        assert.deepStrictEqual(written.jobs.map((j) => [j.pool, j.backend]).sort(), [["gke-a", "gke"], ["gke-b", "gke"], ["pool-a", "gce"], ["pool-a", "gce"]]);
        const keys = readFileSync(path.join(out, "keys.json"), "utf8");
        for (const job of written.jobs) {
            const artifact = readFileSync(path.join(out, job.artifact));
            assert.strictEqual(createHash("sha256").update(artifact).digest("hex"), job.sha256);
            const envelope = JSON.parse(readFileSync(path.join(out, job.envelope!), "utf8"));
            assert.strictEqual(verifyEnvelope(envelope, artifact, keys, job.repository), undefined, job.envelope);
            const location = JSON.parse(Buffer.from(envelope.payload, "base64").toString()).predicate.buildDefinition.internalParameters.fleet.location;
            assert.strictEqual(location.kind, job.backend === "gke" ? "gke-pod" : "gce-instance");
            if (job.backend === "gke") {
                assert.strictEqual(location.podUid, job.instanceId);
                assert.match(job.instanceId, /^[0-9a-f-]{36}$/);
            }
        }
        // Each GKE job's pod was scaled in after its job (and the deleted-pod attack's).
        assert.strictEqual(summary.podsDeleted, 3);
    });

    it("refuses every pod attack with its own status and code", () => {
        const byName = Object.fromEntries(summary.attacks.map((a) => [a.name, a]));
        for (const attack of POD_ATTACKS) {
            assert.ok(byName[attack.name], `${attack.name} ran`);
            assert.deepStrictEqual([byName[attack.name].refused, byName[attack.name].status, byName[attack.name].code], [true, attack.status, attack.code], attack.name);
        }
    });

    it("the command takes --gke-pools and refuses a bad count", async () => {
        const errors: string[] = [];
        const write = process.stderr.write;
        process.stderr.write = ((s: string) => (errors.push(s), true)) as typeof process.stderr.write;
        try {
            assert.strictEqual(await cli(["--gke-pools", "27", "--out", path.join(out, "never")]), 2);
        } finally {
            process.stderr.write = write;
        }
        assert.match(errors.join(""), /--gke-pools "27" must be an integer between 0 and 26/);
    });
});
