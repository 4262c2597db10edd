/**
 * The signer's locked retention (I11, I12): the provenance bucket's retention policy is locked when
 * asked (an explicit, irreversible opt-in; unlocked by default), and the Cloud KMS audit logs of the signer project are routed by a sink into a locked log
 * bucket of the signer project. Both configurable; bad values rejected before anything is registered.
 */
import * as assert from "assert";
import { ProgramRun, runProgram } from "../../../plan/engine";
import { SignerEnclave, SignerEnclaveArgs } from "../../../components/signerEnclave";
import { KMS_AUDIT_LOG_FILTER } from "../../../components/signerEnclave/auditLog";
import { HardenedBuildFleet } from "../../../components/fleet";
import { rawFleetConfig } from "../../../components/config";
import { minimalFleetConfig } from "../../helpers/minimalFleet";
import { component, one } from "../../helpers/graph";
import { MINIMAL_ENCLAVE_ARGS } from "../../helpers/enclaveArgs";

const T = {
    enclave: "hardened-build-fleet:index:SignerEnclave",
    bucket: "gcp:storage/bucket:Bucket",
    logBucket: "gcp:logging/projectBucketConfig:ProjectBucketConfig",
    sink: "gcp:logging/projectSink:ProjectSink",
};
const base: SignerEnclaveArgs = MINIMAL_ENCLAVE_ARGS;

async function build(args: Partial<SignerEnclaveArgs> = {}): Promise<ProgramRun> {
    return runProgram(() => {
        new SignerEnclave("signer", { ...base, ...args });
    });
}

describe("SignerEnclave: locked retention and the KMS audit log bucket", function () {
    this.timeout(60000);

    it("locks the provenance retention and routes KMS audit logs to a locked regional log bucket in the signer project (opted in)", async () => {
        const run = await build({ lockProvenanceRetention: true, lockAuditLog: true });
        const enclave = component(run, T.enclave, "signer");
        assert.deepStrictEqual(one(run, T.bucket).inputs.retentionPolicy, { retentionPeriod: String(365 * 86400), isLocked: true });
        const logBucket = one(run, T.logBucket, "signer-kms-log");
        assert.strictEqual(logBucket.parent, enclave.urn);
        assert.strictEqual(logBucket.inputs.project, "signer-proj");
        assert.strictEqual(logBucket.inputs.location, "europe-west1");
        assert.strictEqual(logBucket.inputs.bucketId, "signer-kms-audit");
        assert.strictEqual(logBucket.inputs.locked, true);
        assert.strictEqual(logBucket.inputs.retentionDays, 400);
        const sink = one(run, T.sink, "signer-kms-log-sink");
        assert.strictEqual(sink.parent, enclave.urn);
        assert.strictEqual(sink.inputs.project, "signer-proj");
        assert.strictEqual(sink.inputs.destination, "logging.googleapis.com/projects/signer-proj/locations/europe-west1/buckets/signer-kms-audit");
        assert.ok(sink.propertyDependencies.destination.includes(logBucket.urn), "the sink's destination is computed from the bucket");
        assert.strictEqual(sink.inputs.filter, KMS_AUDIT_LOG_FILTER);
        assert.match(sink.inputs.filter, /protoPayload\.serviceName="cloudkms\.googleapis\.com"/);
        assert.match(sink.inputs.filter, /LOG_ID\("cloudaudit\.googleapis\.com\/data_access"\)/);
    });

    it("locks nothing by default: the locks are irreversible, so a trial stack's buckets stay deletable", async () => {
        const run = await build();
        assert.deepStrictEqual(one(run, T.bucket).inputs.retentionPolicy, { retentionPeriod: String(365 * 86400), isLocked: false });
        assert.strictEqual(one(run, T.logBucket).inputs.locked, false);
    });

    it("follows the switches: unlocked provenance retention, an unlocked log bucket, another retention", async () => {
        const run = await build({ lockProvenanceRetention: false, lockAuditLog: false, auditLogRetentionDays: 3650 });
        assert.deepStrictEqual(one(run, T.bucket).inputs.retentionPolicy, { retentionPeriod: String(365 * 86400), isLocked: false });
        assert.strictEqual(one(run, T.logBucket).inputs.locked, false);
        assert.strictEqual(one(run, T.logBucket).inputs.retentionDays, 3650);
    });

    it("rejects a log retention outside 1-3650 days before registering anything", async () => {
        const run = await runProgram(() => {
            new SignerEnclave("signer", { ...base, auditLogRetentionDays: 4000 });
        }, { allowError: true });
        assert.match(String((run.error as Error)?.message), /auditLogRetentionDays: 4000 must be a whole number of days between 1 and 3650 \(default 400\)/);
        assert.deepStrictEqual(run.resources.map((r) => r.type), ["pulumi:pulumi:Stack"]);
    });

    it("the fleet passes the signer config through (locks opt-in: lockAuditLog: true, provenance left unlocked)", async () => {
        const config = minimalFleetConfig();
        config.signer = { ...config.signer, lockProvenanceRetention: false, lockAuditLog: true, auditLogRetentionDays: 90 };
        const run = await runProgram(() => {
            new HardenedBuildFleet("fleet", { config: rawFleetConfig(config) });
        }, { config: { "gcp:project": "acme-workers" } });
        const provenance = run.resources.filter((r) => r.type === T.bucket && r.name === "fleet-signer-provenance");
        assert.strictEqual(provenance.length, 1);
        assert.strictEqual(provenance[0].inputs.retentionPolicy.isLocked, false);
        assert.strictEqual(one(run, T.logBucket).inputs.retentionDays, 90);
        assert.strictEqual(one(run, T.logBucket).inputs.locked, true);
    });
});
