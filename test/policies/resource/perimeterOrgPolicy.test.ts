/**
 * org-policy-not-weakened (I3, I6, I7, I10) over raw gcp.orgpolicy.Policy resources: guardrails set as
 * OrgGuardrails sets them pass; one switched off, reset, allowing all or extra values, or enforced only
 * under a condition is a violation on that policy, at any level; other constraints are none of its business.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { assertFired, assertMessage, Checked, check } from "../../helpers/resourcePolicy";

const RULE = "org-policy-not-weakened";

function policy(name: string, parent: string, constraint: string, spec: gcp.types.input.orgpolicy.PolicySpec | undefined, extra: Partial<gcp.orgpolicy.PolicyArgs> = {}) {
    new gcp.orgpolicy.Policy(name, { parent, name: `${parent}/policies/${constraint}`, spec, ...extra });
}

function program() {
    const p = "projects/fleet-proj";
    // Set as OrgGuardrails sets them.
    policy("ok-keys", p, "iam.disableServiceAccountKeyCreation", { rules: [{ enforce: "TRUE" }] });
    policy("ok-external-ip", p, "compute.vmExternalIpAccess", { rules: [{ denyAll: "TRUE" }] });
    policy("ok-run-ingress", p, "run.allowedIngress", { rules: [{ values: { allowedValues: ["internal"] } }] });
    policy("ok-run-ingress-is", p, "run.allowedIngress", { rules: [{ values: { allowedValues: ["is:internal-and-cloud-load-balancing"] } }] });
    policy("ok-dry-run-only", p, "compute.requireOsLogin", undefined, { dryRunSpec: { rules: [{ enforce: "FALSE" }] } });
    policy("ok-other-constraint", p, "compute.disableNestedVirtualization", { rules: [{ enforce: "FALSE" }] });
    // Weakened.
    policy("off-keys", p, "iam.disableServiceAccountKeyUpload", { rules: [{ enforce: "FALSE" }] });
    policy("reset-shielded", "folders/42", "compute.requireShieldedVm", { reset: true });
    policy("conditional-oslogin", p, "compute.requireOsLogin", { rules: [{ enforce: "TRUE", condition: { expression: "resource.matchTag('env', 'prod')" } }] });
    policy("conditional-off", "organizations/7", "compute.disableSerialPortAccess", { rules: [{ enforce: "TRUE" }, { enforce: "FALSE", condition: { expression: "resource.matchTag('team', 'ci')" } }] });
    policy("allow-external-ip", p, "compute.vmExternalIpAccess", { rules: [{ values: { allowedValues: ["projects/fleet-proj/zones/europe-west1-b/instances/bastion"] } }] });
    policy("allow-all-ip-forward", p, "compute.vmCanIpForward", { rules: [{ allowAll: "TRUE" }] });
    policy("run-ingress-all", p, "run.allowedIngress", { rules: [{ values: { allowedValues: ["all"] } }] });
    policy("run-ingress-inherit", p, "run.allowedIngress", { inheritFromParent: true, rules: [{ values: { allowedValues: ["internal"] } }] });
    policy("run-ingress-deny-some", p, "run.allowedIngress", { rules: [{ values: { deniedValues: ["all"] } }] });
    policy("no-rules", p, "storage.publicAccessPrevention", { rules: [] });
    // Preview: the name (so the constraint) is unknown.
    const later = new gcp.serviceaccount.Account("later", { accountId: "later-sa" });
    new gcp.orgpolicy.Policy("unknown-name", { parent: p, name: pulumi.interpolate`${later.name}/policies/compute.requireOsLogin`, spec: { rules: [{ enforce: "TRUE" }] } });
}

describe("resource rule org-policy-not-weakened", function () {
    this.timeout(60000);
    let c: Checked;
    let preview: Checked;
    before(async () => {
        c = await check(program);
        preview = await check(program, { preview: true });
    });

    it("passes guardrails set as OrgGuardrails sets them, dry-run-only specs and other constraints", () => {
        for (const name of ["ok-keys", "ok-external-ip", "ok-run-ingress", "ok-run-ingress-is", "ok-dry-run-only", "ok-other-constraint", "unknown-name"]) {
            assertFired(c, name, []);
        }
    });

    it("fires on each weakened guardrail, at any level, saying how", () => {
        const cases: [string, RegExp][] = [
            ["off-keys", /sets enforce: FALSE: it switches off the iam\.disableServiceAccountKeyUpload guardrail/],
            ["reset-shielded", /resets the constraint to Google's default .*everything below folders\/42/],
            ["conditional-oslogin", /is enforced only under a condition/],
            ["conditional-off", /sets enforce: FALSE under a condition/],
            ["allow-external-ip", /allows projects\/fleet-proj\/zones\/europe-west1-b\/instances\/bastion/],
            ["allow-all-ip-forward", /allows all values/],
            ["run-ingress-all", /allows all \(only internal or internal-and-cloud-load-balancing\)/],
            ["run-ingress-inherit", /inherits \(merges\) the parent's allowed values/],
            ["run-ingress-deny-some", /only denies some values, allowing every other/],
            ["no-rules", /has no rule with enforce: TRUE/],
        ];
        for (const [name, pattern] of cases) {
            assertFired(c, name, [RULE]);
            assertMessage(c, name, RULE, pattern);
            assert.ok(c.on(name).every((v) => v.enforcementLevel === "mandatory"), name);
        }
    });

    it("cannot decide a policy whose constraint is unknown during a preview: advisory, not a pass", () => {
        assert.deepStrictEqual(preview.undecided("unknown-name"), [RULE]);
        assert.ok(preview.on("unknown-name").every((v) => v.enforcementLevel === "advisory"));
        assertFired(preview, "off-keys", [RULE]);
    });
});
