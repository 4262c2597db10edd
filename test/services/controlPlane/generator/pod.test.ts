import * as assert from "assert";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { isPodPool, PoolSpec } from "../../../../services/controlPlane/pools";
import { objectKey } from "../../../../services/controlPlane/records";
import { uploadWithGrant } from "../../../../services/sim/fakeGcs";
import { startSimFleet, SimFleet } from "../../../../services/sim/fleet";
import { finalize, RanJob, runJob } from "../../../../services/sim/simulate";

/** The generator's refusals hold for uploads from runner pods exactly as for VMs: the same attribution path, keyed by pod UID. */
describe("provenance generator: uploads from runner pods of a GKE pool", function () {
    this.timeout(60_000);
    let fleet: SimFleet;
    let dir: string;
    let pool: PoolSpec;
    let repo = 0;
    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "hbf-gen-pod-"));
        fleet = await startSimFleet({ pools: 1, gkePools: 1, repos: 12, dir, quiet: true });
        pool = fleet.pools.find(isPodPool)!;
    });
    after(async () => {
        await fleet.close();
        rmSync(dir, { recursive: true, force: true });
    });
    /** One pod job in its own repository (concurrent pushes to one repository would move its ref). */
    const podJob = async (files: [string, string][], conclusion = "success"): Promise<RanJob> => {
        const ran = await runJob(fleet, pool, fleet.repositories[repo++], () => files.map(([n, b]) => [n, Buffer.from(b)]), conclusion);
        assert.strictEqual(ran.problem, undefined, ran.problem);
        return ran;
    };
    const answer = async (key: string) => {
        const res = await finalize(fleet, pool.intakeBucket, key);
        return [res.status, res.body?.error?.code ?? "signed"];
    };

    it("signs a pod's upload, attributed through the pod's registration to the job ARC's runner ran, and scales the pod in", async () => {
        const ran = await podJob([["dist/app.tar", "pod artifact"]]);
        assert.deepStrictEqual(await answer(ran.keys[0]), [201, "signed"]);
        const generated = (await fleet.records.generated(pool.intakeBucket, ran.keys[0]))!;
        const statement = JSON.parse(Buffer.from((generated.envelope as any).payload, "base64").toString());
        const fleetParams = statement.predicate.buildDefinition.internalParameters.fleet;
        assert.strictEqual(fleetParams.location.kind, "gke-pod");
        assert.strictEqual(fleetParams.location.podUid, ran.instanceId);
        assert.strictEqual(fleetParams.runner.name, ran.runnerName);
        assert.match(fleetParams.image.digest.sha256, /^[0-9a-f]{64}$/);
        assert.strictEqual(fleet.cluster!.runners.get(ran.runnerName)!.deleted, true, "the EphemeralRunner (and its pod) deleted after the job");
        assert.ok(await fleet.records.scaledIn(ran.instanceId));
    });

    it("refuses an upload made with the pod's grant after its job completed and the pod was deleted", async () => {
        const ran = await podJob([["dist/app.tar", "in time"]]);
        await new Promise((r) => setTimeout(r, 1100)); // past completed_at's whole second
        const late = `${ran.upload!.prefix}dist/late.tar`;
        assert.strictEqual((await uploadWithGrant(ran.upload!, late, Buffer.from("late"))).status, 204, "the grant itself still works");
        assert.deepStrictEqual(await answer(late), [422, "uploaded-after-completion"]);
        assert.deepStrictEqual(await answer(ran.keys[0]), [201, "signed"]);
    });

    it("refuses the uploads of a failed job", async () => {
        const ran = await podJob([["dist/app.tar", "failed build"]], "failure");
        assert.deepStrictEqual(await answer(ran.keys[0]), [422, "job-not-successful"]);
    });

    it("refuses the uploads of a pod's runner seen running a second job", async () => {
        const ran = await podJob([["dist/app.tar", "conflict"]]);
        assert.strictEqual(await fleet.records.linkRunnerJob({ runnerName: ran.runnerName, jobId: ran.job!.id + 100_000, repository: ran.job!.repository }), "conflict");
        assert.deepStrictEqual(await answer(ran.keys[0]), [422, "several-jobs"]);
    });

    it("refuses an object over the job's signing budget", async () => {
        const ran = await podJob([["dist/a.tar", "a"], ["dist/b.tar", "b"]]);
        // Every slot but one is held by other objects of the job; the first object takes the last one.
        for (let i = 0; i < 31; i++) {
            assert.ok(await fleet.records.takeBudgetSlot(ran.job!.id, objectKey(pool.intakeBucket, `held-${i}`), 32));
        }
        assert.deepStrictEqual(await answer(ran.keys[0]), [201, "signed"]);
        assert.deepStrictEqual(await answer(ran.keys[1]), [422, "over-budget"]);
    });
});
