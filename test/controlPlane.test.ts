/**
 * ControlPlane (I11): one intake bucket per pool with uniform access, public access prevention and
 * lifecycle expiry; runners are object creators on their own bucket only; the control plane reads.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import { ProgramRun, runProgram, UNKNOWN } from "../plan/engine";
import { CONTROL_PLANE_PROJECT_ROLES, ControlPlane, ControlPlaneArgs, INTAKE_CONTROL_PLANE_ROLE, INTAKE_RUNNER_ROLE } from "../components/controlPlane";
import { POOL_LABEL, ROLE_LABEL } from "../components/labels";
import { ancestorsOf, byType, component, dependsOn, one, stackOf } from "./helpers/graph";

const T = {
    component: "hardened-build-fleet:index:ControlPlane",
    account: "gcp:serviceaccount/account:Account",
    bucket: "gcp:storage/bucket:Bucket",
    bucketMember: "gcp:storage/bucketIAMMember:BucketIAMMember",
    projectMember: "gcp:projects/iAMMember:IAMMember",
};

const RUNNER_A = "serviceAccount:pool-a-rn@worker-proj.iam.gserviceaccount.com";
const RUNNER_B = "serviceAccount:pool-b-rn@worker-proj.iam.gserviceaccount.com";

function args(extra: Partial<ControlPlaneArgs> = {}): ControlPlaneArgs {
    return {
        project: "worker-proj",
        region: "europe-west1",
        pools: [{ name: "pool-a", runnerMember: RUNNER_A }, { name: "pool-b", runnerMember: RUNNER_B }],
        ...extra,
    };
}

async function build(a: ControlPlaneArgs = args(), preview = false): Promise<ProgramRun> {
    return runProgram(() => {
        const cp = new ControlPlane("fleet-cp", a);
        return { email: cp.serviceAccountEmail, member: cp.member, intakeBuckets: cp.intakeBuckets };
    }, { preview });
}

describe("ControlPlane", function () {
    this.timeout(60000);

    let run: ProgramRun;
    before(async () => {
        run = await build();
    });

    it("creates the control-plane SA (no key) below the component, names derived from the component name", () => {
        const cp = component(run, T.component, "fleet-cp");
        assert.strictEqual(cp.parent, stackOf(run).urn);
        const sa = one(run, T.account);
        assert.strictEqual(sa.inputs.accountId, "fleet-cp-cp");
        assert.strictEqual(sa.inputs.project, "worker-proj");
        for (const r of run.resources.filter((x) => x.urn !== cp.urn && x.type !== "pulumi:pulumi:Stack")) {
            assert.strictEqual(r.parent, cp.urn, `${r.name} is not a child of the ControlPlane`);
            assert.ok(ancestorsOf(run, r).includes(cp.urn));
            assert.ok(r.name.startsWith("fleet-cp-"), r.name);
        }
        assert.strictEqual(byType(run, "gcp:serviceaccount/key:Key").length, 0);
        assert.strictEqual(run.outputs.email, sa.outputs.email);
        assert.strictEqual(run.outputs.member, `serviceAccount:${sa.outputs.email}`);
    });

    it("creates one intake bucket per pool: uniform access, public access prevention, lifecycle expiry, no versioning, role labels", () => {
        const buckets = byType(run, T.bucket);
        assert.deepStrictEqual(buckets.map((b) => b.name).sort(), ["fleet-cp-intake-pool-a", "fleet-cp-intake-pool-b"]);
        for (const b of buckets) {
            const pool = b.name.replace("fleet-cp-intake-", "");
            assert.strictEqual(b.inputs.project, "worker-proj");
            assert.strictEqual(b.inputs.location, "europe-west1");
            assert.strictEqual(b.inputs.uniformBucketLevelAccess, true);
            assert.strictEqual(b.inputs.publicAccessPrevention, "enforced");
            assert.deepStrictEqual(b.inputs.versioning, { enabled: false });
            assert.deepStrictEqual(b.inputs.lifecycleRules, [{ action: { type: "Delete" }, condition: { age: 7 } }]);
            assert.strictEqual(b.inputs.forceDestroy, false);
            assert.deepStrictEqual(b.inputs.labels, { [ROLE_LABEL]: "control-plane", [POOL_LABEL]: pool });
            assert.strictEqual(b.inputs.retentionPolicy, undefined);
        }
        assert.deepStrictEqual(run.outputs.intakeBuckets, {
            "pool-a": one(run, T.bucket, "fleet-cp-intake-pool-a").outputs.name,
            "pool-b": one(run, T.bucket, "fleet-cp-intake-pool-b").outputs.name,
        });
    });

    it("I11: each runner is objectCreator on its own bucket only; the control plane is objectViewer on every bucket; nothing else", () => {
        const sa = one(run, T.account);
        const grants = byType(run, T.bucketMember).map((g) => ({ bucket: g.inputs.bucket, role: g.inputs.role, member: g.inputs.member }));
        const bucketA = one(run, T.bucket, "fleet-cp-intake-pool-a").outputs.name;
        const bucketB = one(run, T.bucket, "fleet-cp-intake-pool-b").outputs.name;
        const cpMember = `serviceAccount:${sa.outputs.email}`;
        const key = (g: { bucket: string; role: string; member: string }) => `${g.bucket}|${g.role}|${g.member}`;
        assert.deepStrictEqual(grants.map(key).sort(), [
            { bucket: bucketA, role: "roles/storage.objectCreator", member: RUNNER_A },
            { bucket: bucketA, role: "roles/storage.objectViewer", member: cpMember },
            { bucket: bucketB, role: "roles/storage.objectCreator", member: RUNNER_B },
            { bucket: bucketB, role: "roles/storage.objectViewer", member: cpMember },
        ].map(key).sort());
        assert.strictEqual(INTAKE_RUNNER_ROLE, "roles/storage.objectCreator");
        assert.strictEqual(INTAKE_CONTROL_PLANE_ROLE, "roles/storage.objectViewer");
        for (const g of byType(run, T.bucketMember)) {
            const bucket = byType(run, T.bucket).find((b) => b.outputs.name === g.inputs.bucket);
            assert.ok(bucket && dependsOn(g, bucket), `${g.name} does not reference its bucket`);
        }
        // No runner holds anything on a bucket other than its own, and no bucket grant is public.
        assert.ok(!grants.some((g) => g.member === RUNNER_A && g.bucket !== bucketA));
        assert.ok(!grants.some((g) => g.member === RUNNER_B && g.bucket !== bucketB));
        assert.ok(!grants.some((g) => /allUsers|allAuthenticatedUsers/.test(g.member)));
    });

    it("grants the control-plane SA only log and metric writing at project level (runner-demand metric)", () => {
        const sa = one(run, T.account);
        const grants = byType(run, T.projectMember);
        assert.deepStrictEqual(grants.map((g) => g.inputs.role).sort(), [...CONTROL_PLANE_PROJECT_ROLES].sort());
        for (const g of grants) {
            assert.strictEqual(g.inputs.member, `serviceAccount:${sa.outputs.email}`);
        }
    });

    it("honours intakeRetentionDays", async () => {
        const r = await build(args({ intakeRetentionDays: 30 }));
        for (const b of byType(r, T.bucket)) {
            assert.deepStrictEqual(b.inputs.lifecycleRules, [{ action: { type: "Delete" }, condition: { age: 30 } }]);
        }
    });

    it("runs in preview with unknown runner members and still ties each grant to its runner through property dependencies", async () => {
        const r = await runProgram(() => {
            const runner = new gcp.serviceaccount.Account("runner-a", { project: "worker-proj", accountId: "runner-a-rn" });
            new ControlPlane("fleet-cp", args({ pools: [{ name: "pool-a", runnerMember: runner.member }] }));
        }, { preview: true });
        const runner = one(r, T.account, "runner-a");
        const grant = one(r, T.bucketMember, "fleet-cp-intake-pool-a-runner");
        assert.strictEqual(grant.inputs.member, UNKNOWN);
        assert.strictEqual(grant.inputs.role, "roles/storage.objectCreator");
        assert.deepStrictEqual(grant.propertyDependencies.member, [runner.urn]);
    });

    it("rejects bad input all at once and registers nothing", async () => {
        const r = await runProgram(() => {
            new ControlPlane("fleet-cp", {
                project: "",
                region: "europe-west1",
                pools: [{ name: "pool-a", runnerMember: RUNNER_A }, { name: "pool-a", runnerMember: "" }, { name: "Bad Pool", runnerMember: RUNNER_B }],
                intakeRetentionDays: 0,
            });
        }, { allowError: true });
        const message = String((r.error as Error).message);
        for (const expected of [/project: missing/, /"pool-a" appears twice/, /runnerMember: missing/, /"Bad Pool" is not a pool name/, /intakeRetentionDays: 0/]) {
            assert.match(message, expected);
        }
        assert.deepStrictEqual(r.resources.filter((x) => x.type !== "pulumi:pulumi:Stack"), []);
        const empty = await runProgram(() => new ControlPlane("fleet-cp", args({ pools: [] })), { allowError: true });
        assert.match(String((empty.error as Error).message), /pools: empty/);
    });
});
