/**
 * OrgGuardrails (I3, I5, I6, I7, I10, I11): one gcp.orgpolicy.Policy per guardrail on the project, each
 * enforcing (boolean) or denying all (list); the switches; run.allowedIngress, allowed member domains and
 * resource locations; the `guardrails` config block; the fleet's guardrails per project; and the pack's
 * org-policy-not-weakened finding nothing on what the component creates.
 */
import { withoutTsaBootstrapWarnings } from "../../helpers/tsaChain";
import * as assert from "assert";
import { evaluatePolicies, ProgramRun, runProgram } from "../../../plan/engine";
import { GUARDRAIL_CONSTRAINTS, OrgGuardrails, OrgGuardrailsArgs } from "../../../components/orgGuardrails";
import { HardenedBuildFleet } from "../../../components/fleet";
import { rawFleetConfig, validateFleetConfig } from "../../../components/config";
import { orgPolicyNotWeakened } from "../../../policies/rules/resource/orgPolicy";
import { orgGuardrails } from "../../../policies/rules/stack/perimeterGuardrails";
import { minimalFleetConfig } from "../../helpers/minimalFleet";
import { assertIssueLines, assertRefusedInOnePass } from "../../helpers/rejection";
import { byType, component } from "../../helpers/graph";

const T = { component: "hardened-build-fleet:index:OrgGuardrails", policy: "gcp:orgpolicy/policy:Policy" };

async function build(args: Partial<OrgGuardrailsArgs> = {}): Promise<ProgramRun> {
    return runProgram(() => {
        new OrgGuardrails("guardrails", { project: "acme-signer", ...args });
    });
}

/** constraint -> spec of every org policy in the run. */
function specs(run: ProgramRun, project?: string): Record<string, unknown> {
    return Object.fromEntries(byType(run, T.policy)
        .filter((p) => project === undefined || p.inputs.parent === `projects/${project}`)
        .map((p) => [p.inputs.name.split("/policies/")[1], p.inputs.spec]));
}

/** The config's warnings but the pool validator's runner-hosts one (the minimal pool allow-lists nothing; runnerHosts.test.ts). */
function hardeningWarnings(config: Record<string, unknown>): string[] {
    return withoutTsaBootstrapWarnings(validateFleetConfig(config).warnings).filter((w) => !/egressAllowList\.fqdns = /.test(w));
}

describe("OrgGuardrails", function () {
    this.timeout(60000);

    it("sets every guardrail on the project by default, each enforcing or denying all, parented on the component", async () => {
        const run = await build();
        const c = component(run, T.component, "guardrails");
        const policies = byType(run, T.policy);
        // Written out, not derived from the catalogue: dropping or weakening a guardrail there must fail here.
        const ENFORCE = { rules: [{ enforce: "TRUE" }] };
        const DENY_ALL = { rules: [{ denyAll: "TRUE" }] };
        const EXPECTED_SPECS: Record<string, unknown> = {
            "iam.disableServiceAccountKeyCreation": ENFORCE,
            "iam.disableServiceAccountKeyUpload": ENFORCE,
            "iam.automaticIamGrantsForDefaultServiceAccounts": ENFORCE,
            "compute.requireShieldedVm": ENFORCE,
            "compute.requireOsLogin": ENFORCE,
            "compute.vmExternalIpAccess": DENY_ALL,
            "compute.disableSerialPortAccess": ENFORCE,
            "compute.skipDefaultNetworkCreation": ENFORCE,
            "compute.vmCanIpForward": DENY_ALL,
            "compute.restrictVpcPeering": DENY_ALL,
            "storage.uniformBucketLevelAccess": ENFORCE,
            "storage.publicAccessPrevention": ENFORCE,
        };
        assert.strictEqual(policies.length, 12);
        for (const p of policies) {
            const constraint = p.inputs.name.split("/policies/")[1];
            assert.strictEqual(p.inputs.parent, "projects/acme-signer");
            assert.strictEqual(p.inputs.name, `projects/acme-signer/policies/${constraint}`);
            assert.strictEqual(p.name, `guardrails-${constraint}`);
            assert.strictEqual(p.parent, c.urn);
        }
        assert.deepStrictEqual(specs(run), EXPECTED_SPECS);
        // The guardrails the issue names, with the right shape.
        assert.deepStrictEqual(specs(run)["iam.disableServiceAccountKeyCreation"], { rules: [{ enforce: "TRUE" }] });
        assert.deepStrictEqual(specs(run)["iam.disableServiceAccountKeyUpload"], { rules: [{ enforce: "TRUE" }] });
        assert.deepStrictEqual(specs(run)["compute.requireShieldedVm"], { rules: [{ enforce: "TRUE" }] });
        assert.deepStrictEqual(specs(run)["compute.requireOsLogin"], { rules: [{ enforce: "TRUE" }] });
        assert.deepStrictEqual(specs(run)["compute.vmExternalIpAccess"], { rules: [{ denyAll: "TRUE" }] });
        assert.deepStrictEqual(specs(run)["iam.automaticIamGrantsForDefaultServiceAccounts"], { rules: [{ enforce: "TRUE" }] });
    });

    it("switches guardrails off, and adds run.allowedIngress, member domains and locations when asked", async () => {
        const run = await build({
            constraints: { "compute.requireOsLogin": false, "compute.vmCanIpForward": false },
            runAllowedIngress: "internal",
            allowedPolicyMemberDomains: ["C0abc1234", "is:C0def5678"],
            resourceLocations: ["in:europe-west1-locations"],
        });
        const s = specs(run);
        assert.ok(!("compute.requireOsLogin" in s) && !("compute.vmCanIpForward" in s));
        assert.strictEqual(Object.keys(s).length, GUARDRAIL_CONSTRAINTS.length - 2 + 3);
        assert.deepStrictEqual(s["run.allowedIngress"], { rules: [{ values: { allowedValues: ["internal"] } }] });
        assert.deepStrictEqual(s["iam.allowedPolicyMemberDomains"], { rules: [{ values: { allowedValues: ["is:C0abc1234", "is:C0def5678"] } }] });
        assert.deepStrictEqual(s["gcp.resourceLocations"], { rules: [{ values: { allowedValues: ["in:europe-west1-locations"] } }] });
    });

    it("the pack's org-policy-not-weakened finds nothing on what it creates", async () => {
        const run = await build({ runAllowedIngress: "internal" });
        const ev = await evaluatePolicies(run, [orgPolicyNotWeakened]);
        assert.deepStrictEqual(ev.violations.map((v) => v.message), []);
    });

    it("rejects bad arguments in one pass and registers nothing", async () => {
        const run = await runProgram(() => {
            new OrgGuardrails("guardrails", {
                project: "Acme Signer",
                constraints: { "compute.requireOSLogin": true, "iam.disableServiceAccountKeyCreation": "yes" } as never,
                runAllowedIngress: "all" as never,
                resourceLocations: [""],
            });
        }, { allowError: true });
        assertRefusedInOnePass(run, [
            'project: "Acme Signer" is not a project id',
            "constraints.compute.requireOSLogin: not a guardrail this component manages; did you mean `compute.requireOsLogin`?",
            'constraints.iam.disableServiceAccountKeyCreation: "yes" must be true or false',
            'runAllowedIngress: "all" must be one of internal, internal-and-cloud-load-balancing',
            'resourceLocations: [""] must be a list of non-empty strings',
        ]);
    });
});

describe("config: the guardrails block and the fleet's guardrails", function () {
    this.timeout(60000);
    const raw = minimalFleetConfig;

    async function fleet(config: Record<string, unknown>): Promise<ProgramRun> {
        return runProgram(() => {
            new HardenedBuildFleet("fleet", { config: rawFleetConfig({ ...raw(), ...config }) });
        }, { config: { "gcp:project": "acme-workers" } });
    }

    /** The org-guardrails rule's findings on the fleet, as "<message>" lines. */
    async function guardrailFindings(run: ProgramRun): Promise<string[]> {
        const ev = await evaluatePolicies(run, [orgGuardrails]);
        return ev.violations.map((v) => `${v.policy}/${v.enforcementLevel}: ${v.message}`);
    }

    it("control plane in the signer project (the default): worker and signer sets, the signer's Cloud Run ingress left unset, a warning, and org-guardrails still demanding it", async () => {
        const run = await fleet({});
        assert.deepStrictEqual(byType(run, T.component).map((c) => c.name).sort(), ["fleet-guardrails-signer", "fleet-guardrails-workers"]);
        const signer = specs(run, "acme-signer");
        const workers = specs(run, "acme-workers");
        assert.ok(!("run.allowedIngress" in signer), "the public webhook receiver lives in the signer project");
        assert.ok(!("run.allowedIngress" in workers));
        assert.deepStrictEqual(signer["compute.vmCanIpForward"], { rules: [{ denyAll: "TRUE" }] });
        assert.ok(!("compute.vmCanIpForward" in workers) && !("compute.restrictVpcPeering" in workers), "GKE nodes forward and private control planes peer");
        for (const c of ["iam.disableServiceAccountKeyCreation", "iam.disableServiceAccountKeyUpload", "compute.requireShieldedVm", "compute.vmExternalIpAccess", "compute.requireOsLogin"]) {
            assert.ok(c in workers && c in signer, c);
        }
        const warnings = validateFleetConfig(raw()).warnings;
        assert.ok(warnings.some((w) => /^hardened-build-fleet:controlPlane\.project = "acme-signer": the signer project also hosts the control plane.*run\.allowedIngress is not pinned.*controlPlane\.project: acme-build-control/.test(w)), warnings.join("\n"));
        // The pack does not excuse the gap: the signer project's Cloud Run ingress is unpinned.
        const findings = await guardrailFindings(run);
        assert.strictEqual(findings.length, 1, findings.join("\n"));
        assert.match(findings[0], /^org-guardrails\/mandatory: [^]*\ncontrol-plane and signer project acme-signer lacks the organization-policy guardrails run\.allowedIngress \(missing\)/);
    });

    it("control plane in a project of its own: three sets, the signer's Cloud Run ingress internal, the control plane's unpinned; org-guardrails satisfied, no warning", async () => {
        const config = { controlPlane: { ...(raw().controlPlane as object), project: "acme-cp" } };
        const run = await fleet(config);
        assert.deepStrictEqual(byType(run, T.component).map((c) => c.name).sort(), ["fleet-guardrails-control-plane", "fleet-guardrails-signer", "fleet-guardrails-workers"]);
        assert.deepStrictEqual(specs(run, "acme-signer")["run.allowedIngress"], { rules: [{ values: { allowedValues: ["internal"] } }] });
        const cp = specs(run, "acme-cp");
        assert.ok(!("run.allowedIngress" in cp), "GitHub must reach the webhook receiver");
        assert.deepStrictEqual(Object.keys(cp).sort(), [...GUARDRAIL_CONSTRAINTS].sort());
        assert.deepStrictEqual(hardeningWarnings({ ...raw(), ...config }), []);
        assert.deepStrictEqual(await guardrailFindings(run), []);
    });

    it("follows the switches, domains and locations (no member-domain restriction where the public webhook lives, with a warning); enabled: false creates none", async () => {
        const guardrails = { constraints: { "compute.restrictVpcPeering": true, "storage.publicAccessPrevention": false }, allowedPolicyMemberDomains: ["C0abc1234"], resourceLocations: ["in:eu-locations"] };
        const run = await fleet({ guardrails, controlPlane: { ...(raw().controlPlane as object), project: "acme-cp" } });
        const workers = specs(run, "acme-workers");
        assert.deepStrictEqual(workers["compute.restrictVpcPeering"], { rules: [{ denyAll: "TRUE" }] });
        assert.ok(!("storage.publicAccessPrevention" in workers) && !("storage.publicAccessPrevention" in specs(run, "acme-signer")));
        assert.deepStrictEqual(workers["iam.allowedPolicyMemberDomains"], { rules: [{ values: { allowedValues: ["is:C0abc1234"] } }] });
        assert.deepStrictEqual(specs(run, "acme-signer")["iam.allowedPolicyMemberDomains"], { rules: [{ values: { allowedValues: ["is:C0abc1234"] } }] });
        assert.ok(!("iam.allowedPolicyMemberDomains" in specs(run, "acme-cp")), "it would refuse the webhook receiver's allUsers invoker");
        assert.deepStrictEqual(specs(run, "acme-cp")["gcp.resourceLocations"], { rules: [{ values: { allowedValues: ["in:eu-locations"] } }] });
        const warnings = hardeningWarnings({ ...raw(), guardrails, controlPlane: { ...(raw().controlPlane as object), project: "acme-cp" } });
        assert.deepStrictEqual(warnings.map((w) => w.split(":")[1].split(" ")[0]), ["guardrails.allowedPolicyMemberDomains"]);
        assert.match(warnings[0], /not set on the control-plane project acme-cp: it would refuse the webhook receiver's allUsers invoker/);
        const off = await fleet({ guardrails: { enabled: false } });
        assert.deepStrictEqual(byType(off, T.policy), []);
        assert.deepStrictEqual(hardeningWarnings({ ...raw(), guardrails: { enabled: false } }), [], "no guardrails, nothing to warn about");
    });

    it("a shared signer project (development) gets one set", async () => {
        const run = await fleet({ signerProject: "acme-workers", allowSharedSignerProject: true });
        assert.deepStrictEqual(byType(run, T.component).map((c) => c.name), ["fleet-guardrails"]);
        assert.ok(!("run.allowedIngress" in specs(run, "acme-workers")), "the control plane (and its public webhook receiver) shares it");
    });

    it("reports every bad field with its value and fix, at once", () => {
        const result = validateFleetConfig({
            ...raw(),
            guardrails: { enabled: "yes", constraints: { "compute.requireShieldedVM": true, "compute.requireOsLogin": "on" }, allowedPolicyMemberDomains: ["acme.example"], resourceLocations: ["Europe"], extra: 1 },
        });
        assertIssueLines(result.issues, [
            /^hardened-build-fleet:guardrails\.enabled = "yes": expected a boolean/,
            /^hardened-build-fleet:guardrails\.constraints\.compute\.requireShieldedVM = true: is not a guardrail this fleet manages\. Fix: did you mean `compute\.requireShieldedVm`\?/,
            /^hardened-build-fleet:guardrails\.constraints\.compute\.requireOsLogin = "on": expected a boolean\. Fix: write compute\.requireOsLogin: true/,
            /^hardened-build-fleet:guardrails\.allowedPolicyMemberDomains\[0\] = "acme\.example": is not a Google Workspace \/ Cloud Identity customer id\. Fix: use the directory customer id/,
            /^hardened-build-fleet:guardrails\.resourceLocations\[0\] = "Europe": is not a gcp\.resourceLocations value/,
            /^hardened-build-fleet:guardrails\.extra = 1: unknown key/,
        ]);
    });
});
