/**
 * The JSON report carries each resource's inputs (secrets masked, unknowns marked), its dependencies and
 * its property dependencies, so tools other than the pack (conftest/OPA, scripts) can check the plan.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { runProgram, ProgramRun } from "../../../plan/engine";
import { buildJsonReport } from "../../../plan/report/json";
import { buildPlanResult } from "../../../plan/report/result";
import { SECRET_MASK, UNKNOWN_MASK } from "../../../plan/report/inputs";

const SECRET = "s3cr3t-value-that-must-not-leak";

function program() {
    const sa = new gcp.serviceaccount.Account("sa", { accountId: "builder-sa" });
    const bucket = new gcp.storage.Bucket("bucket", { location: "EU", labels: { note: pulumi.secret(SECRET) } });
    // An id is known only after apply.
    new gcp.storage.Bucket("other", { location: "EU", labels: { origin: sa.id } });
    new gcp.storage.BucketIAMMember("grant", { bucket: bucket.name, role: "roles/storage.objectViewer", member: pulumi.interpolate`serviceAccount:${sa.email}` }, { dependsOn: [sa] });
}

function report(run: ProgramRun) {
    return buildJsonReport(buildPlanResult(run, { violations: [], notApplicable: [] }, []));
}

describe("plan JSON report: inputs and dependencies", function () {
    this.timeout(60000);
    let up: ProgramRun;
    let preview: ProgramRun;
    before(async () => {
        up = await runProgram(program, { config: { "gcp:project": "proj" } });
        preview = await runProgram(program, { config: { "gcp:project": "proj" }, preview: true });
    });

    it("carries inputs with every secret masked, never the secret's value", () => {
        for (const run of [up, preview]) {
            const json = report(run);
            const bucket = json.resources.find((r) => r.name === "bucket")!;
            assert.strictEqual(bucket.custom, true);
            assert.deepStrictEqual(bucket.inputs.labels, { note: SECRET_MASK });
            assert.strictEqual(bucket.inputs.location, "EU");
            assert.ok(!JSON.stringify(json).includes(SECRET), "the secret leaked into the report");
        }
    });

    it("carries dependencies and property dependencies by URN", () => {
        const json = report(up);
        const sa = json.resources.find((r) => r.name === "sa")!;
        const bucket = json.resources.find((r) => r.name === "bucket")!;
        const grant = json.resources.find((r) => r.name === "grant")!;
        assert.ok(grant.dependencies.includes(sa.urn) && grant.dependencies.includes(bucket.urn));
        assert.deepStrictEqual(grant.propertyDependencies.bucket, [bucket.urn]);
        assert.deepStrictEqual(grant.propertyDependencies.member, [sa.urn]);
        assert.strictEqual(grant.inputs.member, "serviceAccount:builder-sa@proj.iam.gserviceaccount.com");
    });

    it("marks values unknown until apply in a preview", () => {
        const other = report(preview).resources.find((r) => r.name === "other")!;
        assert.deepStrictEqual(other.inputs.labels, { origin: UNKNOWN_MASK });
        assert.notStrictEqual((report(up).resources.find((r) => r.name === "other")!.inputs.labels as Record<string, unknown>).origin, UNKNOWN_MASK);
    });
});
