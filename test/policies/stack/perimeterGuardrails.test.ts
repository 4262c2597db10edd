/**
 * org-guardrails (I3, I6, I7, I10) on the secure raw fleet (fixture.ts carries the guardrails) and
 * one-change variants: a missing, weakened, dry-run-only or folder-only guardrail, guardrails declared
 * external, and policies that name the project by number. Each case asserts the exact policy, level and URN.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import { fixtureProjectNumber, perimeterPackConfig } from "../../helpers/perimeterFixture";
import { SIGNER_PROJECT, WORKER_PROJECT } from "../../helpers/stackPolicy";
import { assertOnly as assertOnlyFinding, evaluateVariant, list, Result, urnOf, VariantOptions } from "../../helpers/perimeterHarness";

const POLICY = "org-guardrails";

function assertOnly(r: Result, name: string, level: "mandatory" | "advisory", pattern: RegExp): void {
    assertOnlyFinding(r, POLICY, name, level, pattern);
}

async function evaluate(variant: () => void, opts: VariantOptions = {}): Promise<Result> {
    return evaluateVariant(variant, { ...opts, policyConfig: { ...perimeterPackConfig(SIGNER_PROJECT, WORKER_PROJECT), ...opts.policyConfig } });
}

/** The worker project's finding names the first runner resource; the signer project's, the signer key. */
const WORKER_ANCHOR = "pool-a-template";
const SIGNER_ANCHOR = "signer-key";

describe("stack rule org-guardrails (I3, I6, I7, I10)", function () {
    this.timeout(120000);

    for (const preview of [false, true]) {
        it(`passes on the secure fleet with its guardrails (${preview ? "preview" : "normal"} mode)`, async () => {
            const r = await evaluate(() => undefined, { preview });
            assert.deepStrictEqual(r.ev.violations.map((v) => v.policy), [], list(r.ev));
        });
    }

    it("a runner project without the no-external-IP guardrail is a violation naming it", async () => {
        const r = await evaluate(() => undefined, { omit: { hardening: { guardrails: ["compute.vmExternalIpAccess"] } } });
        assertOnly(r, WORKER_ANCHOR, "mandatory", /^.*runner project worker-proj lacks the organization-policy guardrails compute\.vmExternalIpAccess \(missing\)/s);
    });

    it("a signer project without internal-only Cloud Run ingress is a violation on the signer key", async () => {
        const r = await evaluate(() => undefined, { omit: { hardening: { guardrails: ["run.allowedIngress"] } } });
        assertOnly(r, SIGNER_ANCHOR, "mandatory", /signer project signer-proj lacks the organization-policy guardrails run\.allowedIngress \(missing\)/);
    });

    describe("a control-plane project of its own (a Cloud Run service labelled control-plane)", () => {
        const CP_PROJECT = "control-proj";
        const service = () => new gcp.cloudrunv2.Service("cp-generator", {
            project: CP_PROJECT, location: "europe-west1", ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY",
            labels: { "build-fleet-role": "control-plane" },
            template: { containers: [{ image: `europe-docker.pkg.dev/${CP_PROJECT}/fleet/services@sha256:${"c".repeat(64)}` }] },
        });
        const guardrails = (omit: string[] = []) => {
            for (const c of ["iam.disableServiceAccountKeyCreation", "iam.disableServiceAccountKeyUpload", "iam.automaticIamGrantsForDefaultServiceAccounts"].filter((x) => !omit.includes(x))) {
                new gcp.orgpolicy.Policy(`cp-${c}`, { parent: `projects/${CP_PROJECT}`, name: `projects/${CP_PROJECT}/policies/${c}`, spec: { rules: [{ enforce: "TRUE" }] } });
            }
        };

        it("without the key guardrails: a violation naming its service (its identities could ask the signer to sign)", async () => {
            const r = await evaluate(() => {
                service();
                guardrails(["iam.disableServiceAccountKeyCreation"]);
            });
            assertOnly(r, "cp-generator", "mandatory", /control-plane project control-proj lacks the organization-policy guardrails iam\.disableServiceAccountKeyCreation \(missing\)/);
        });

        it("with them: passes (no runner or signer guardrail is demanded of it)", async () => {
            const r = await evaluate(() => {
                service();
                guardrails();
            });
            assert.deepStrictEqual(r.ev.violations.filter((v) => v.policy === POLICY).map((v) => v.message), [], list(r.ev));
        });
    });

    it("missing key-creation guardrails are reported for both projects", async () => {
        const r = await evaluate(() => undefined, { omit: { hardening: { guardrails: ["iam.disableServiceAccountKeyCreation"] } } });
        const hits = r.ev.violations.filter((v) => v.policy === POLICY && v.enforcementLevel === "mandatory");
        assert.deepStrictEqual(hits.map((v) => v.urn).sort(), [urnOf(r.run, WORKER_ANCHOR), urnOf(r.run, SIGNER_ANCHOR)].sort(), list(r.ev));
        assert.ok(hits.every((v) => v.message.includes("iam.disableServiceAccountKeyCreation (missing)")));
        assert.strictEqual(r.ev.violations.length, 2, list(r.ev));
    });

    it("a guardrail set with enforce: FALSE does not count (and org-policy-not-weakened is the resource rule's job)", async () => {
        const r = await evaluate(() => {
            new gcp.orgpolicy.Policy("keys-allowed", {
                parent: `projects/${WORKER_PROJECT}`, name: `projects/${WORKER_PROJECT}/policies/iam.disableServiceAccountKeyUpload`, spec: { rules: [{ enforce: "FALSE" }] },
            });
        }, { omit: { hardening: { guardrails: ["iam.disableServiceAccountKeyUpload"] } } });
        const hits = r.ev.violations.filter((v) => v.urn === urnOf(r.run, WORKER_ANCHOR));
        assert.strictEqual(hits.length, 1, list(r.ev));
        assert.strictEqual(hits[0].policy, POLICY);
        assert.match(hits[0].message, /iam\.disableServiceAccountKeyUpload \(sets enforce: FALSE\)/);
    });

    it("a guardrail in a dryRunSpec only does not count", async () => {
        const r = await evaluate(() => {
            new gcp.orgpolicy.Policy("shielded-dry-run", {
                parent: `projects/${WORKER_PROJECT}`, name: `projects/${WORKER_PROJECT}/policies/compute.requireShieldedVm`, dryRunSpec: { rules: [{ enforce: "TRUE" }] },
            });
        }, { omit: { hardening: { guardrails: ["compute.requireShieldedVm"] } } });
        assertOnly(r, WORKER_ANCHOR, "mandatory", /compute\.requireShieldedVm \(has no enforced spec \(a dryRunSpec only logs\)\)/);
    });

    it("a guardrail set only on a folder cannot be tied to the project: still a violation, saying so", async () => {
        const r = await evaluate(() => {
            new gcp.orgpolicy.Policy("folder-oslogin", { parent: "folders/1234", name: "folders/1234/policies/compute.requireOsLogin", spec: { rules: [{ enforce: "TRUE" }] } });
        }, { omit: { hardening: { guardrails: ["compute.requireOsLogin"] } } });
        assertOnly(r, WORKER_ANCHOR, "mandatory", /compute\.requireOsLogin \(set only on a folder or the organization in this stack/);
    });

    it("a guardrail naming the project by number counts when the pack knows the number", async () => {
        const n = fixtureProjectNumber(WORKER_PROJECT);
        const variant = () => {
            new gcp.orgpolicy.Policy("by-number", { parent: `projects/${n}`, name: `projects/${n}/policies/compute.requireOsLogin`, spec: { rules: [{ enforce: "TRUE" }] } });
        };
        const omit = { hardening: { guardrails: ["compute.requireOsLogin"] } };
        const known = await evaluate(variant, { omit, policyConfig: { [POLICY]: { projectNumbers: { [WORKER_PROJECT]: n } } } });
        assert.deepStrictEqual(known.ev.violations.map((v) => v.policy), [], list(known.ev));
        const unknownNumber = await evaluate(variant, { omit });
        assertOnly(unknownNumber, WORKER_ANCHOR, "mandatory", /compute\.requireOsLogin \(missing\)/);
    });

    it("guardrails declared external in pack config: an advisory, not a pass and not a failure", async () => {
        const r = await evaluate(() => undefined, { omit: { hardening: { guardrails: ["compute.requireOsLogin"] } }, policyConfig: { [POLICY]: { externalGuardrails: true } } });
        assertOnly(r, WORKER_ANCHOR, "advisory", /guardrails declared external .*compute\.requireOsLogin \(missing\)/);
    });
});
