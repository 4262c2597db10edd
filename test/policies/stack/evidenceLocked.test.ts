/**
 * signer-evidence-locked: a production stack (the default: fail closed) locks the provenance bucket's
 * retention and the log bucket holding the Cloud KMS audit logs; a stack declared a trial
 * (`production: false`) may leave them unlocked.
 */
import * as assert from "assert";
import { SignerEnclave, SignerEnclaveArgs } from "../../../components/signerEnclave";
import { evaluatePolicies, ProgramRun, runProgram } from "../../../plan/engine";
import { stackPolicies } from "../../../policies/rules/stack";
import { MINIMAL_ENCLAVE_ARGS } from "../../helpers/enclaveArgs";

const POLICY = "signer-evidence-locked";
const base: SignerEnclaveArgs = MINIMAL_ENCLAVE_ARGS;

async function enclave(args: Partial<SignerEnclaveArgs>, preview: boolean): Promise<ProgramRun> {
    return runProgram(() => {
        new SignerEnclave("signer", { ...base, ...args });
    }, { preview });
}

async function findings(run: ProgramRun, production?: boolean) {
    const policy = stackPolicies.find((p) => p.name === POLICY)!;
    const ev = await evaluatePolicies(run, [policy], production === undefined ? {} : { policyConfig: { [POLICY]: { production } } });
    return ev.violations;
}

describe(`stack rule ${POLICY}`, function () {
    this.timeout(60000);

    for (const preview of [false, true]) {
        describe(preview ? "preview" : "up", () => {
            it("passes a production stack whose provenance retention and KMS audit log bucket are locked", async () => {
                const run = await enclave({ lockProvenanceRetention: true, lockAuditLog: true }, preview);
                assert.deepStrictEqual(await findings(run), []);
            });

            it("refuses a production stack (the default) with unlocked evidence, on each bucket's URN", async () => {
                const run = await enclave({}, preview);
                const v = await findings(run);
                assert.deepStrictEqual(v.map((x) => x.policy), [POLICY, POLICY]);
                assert.ok(v.every((x) => x.enforcementLevel === "mandatory"));
                const byUrn = Object.fromEntries(v.map((x) => [x.urn!.split("::").pop(), x.message]));
                assert.match(byUrn["signer-provenance"], /provenance bucket signer-provenance is not locked on a production stack[\s\S]*signer\.lockProvenanceRetention: true/);
                assert.match(byUrn["signer-kms-log"], /Cloud KMS audit log bucket signer-kms-log is not locked[\s\S]*signer\.lockAuditLog: true/);
                assert.ok(v.find((x) => x.urn!.endsWith("signer-provenance"))!.urn!.includes("gcp:storage/bucket:Bucket::"));
                assert.ok(v.find((x) => x.urn!.endsWith("signer-kms-log"))!.urn!.includes("gcp:logging/projectBucketConfig:ProjectBucketConfig::"));
            });

            it("refuses one unlocked bucket alone, and explicit production: true the same", async () => {
                const run = await enclave({ lockProvenanceRetention: true }, preview);
                assert.deepStrictEqual((await findings(run, true)).map((x) => x.urn!.split("::").pop()), ["signer-kms-log"]);
            });

            it("lets a trial stack (production: false) keep its buckets deletable", async () => {
                const run = await enclave({}, preview);
                assert.deepStrictEqual(await findings(run, false), []);
            });
        });
    }
});
