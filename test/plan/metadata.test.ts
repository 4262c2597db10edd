// The pack's metadata in @pulumi/policy's own fields (remediationSteps, framework, tags, severity), so
// tools that read packs see the fix, the SLSA clause and the invariants; and reports that read those
// fields for any pack.
import * as assert from "assert";
import type { Policy } from "@pulumi/policy";
import { policies } from "../../policies/rules";
import { FleetPolicy, PACK_TAG, sdkMetadata, severityOf, slsaClause, SLSA_FRAMEWORK } from "../../policies/meta";
import { describePolicy } from "../../plan/report/policyInfo";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const protoutil = require("@pulumi/policy/protoutil");

describe("policy metadata in the SDK's fields", () => {
    it("every rule carries remediationSteps, framework, tags and severity derived from its meta", () => {
        assert.ok(policies.length >= 40);
        for (const p of policies as FleetPolicy[]) {
            assert.strictEqual(p.remediationSteps, p.meta.fix, p.name);
            assert.deepStrictEqual(p.framework, { ...SLSA_FRAMEWORK, specification: slsaClause(p.meta) }, p.name);
            assert.deepStrictEqual(p.tags, [PACK_TAG, ...p.meta.invariants], p.name);
            assert.strictEqual(p.severity, severityOf(p.meta), p.name);
        }
    });

    it("severity: critical for the key and provenance (I8-I11), medium for audit (I12), high for isolation; the highest wins", () => {
        assert.strictEqual(severityOf({ invariants: ["I9"], fix: "x" }), "critical");
        assert.strictEqual(severityOf({ invariants: ["I12"], fix: "x" }), "medium");
        assert.strictEqual(severityOf({ invariants: ["I3"], fix: "x" }), "high");
        assert.strictEqual(severityOf({ invariants: ["I12", "I5", "I10"], fix: "x" }), "critical");
        assert.strictEqual(severityOf({ invariants: ["I3"], fix: "x", severity: "low" }), "low");
        assert.strictEqual(sdkMetadata({ invariants: ["I4", "I12"], fix: "do y" }).framework.specification, slsaClause({ invariants: ["I4", "I12"], fix: "" }));
    });

    it("the analyzer announces them (GetAnalyzerInfo), as the Pulumi CLI and Pulumi Cloud read a pack", () => {
        const info = protoutil.makeAnalyzerInfo("hardened-build-fleet", "0.1.0", "advisory", { policies });
        const byName = new Map<string, any>(info.getPoliciesList().map((p: any) => [p.getName(), p]));
        const sample = policies[0] as FleetPolicy;
        const announced = byName.get(sample.name);
        assert.strictEqual(announced.getRemediationSteps(), sample.meta.fix);
        assert.strictEqual(announced.getFramework().getName(), "SLSA");
        assert.strictEqual(announced.getFramework().getSpecification(), slsaClause(sample.meta));
        assert.deepStrictEqual(announced.getTagsList(), [PACK_TAG, ...sample.meta.invariants]);
        assert.ok(announced.getSeverity() > 0, "severity set");
        assert.strictEqual(byName.size, policies.length);
    });

    it("reports read a foreign pack's SDK fields when it has no pack meta", () => {
        const foreign: Policy = {
            name: "acme-rule",
            description: "An ACME rule.",
            remediationSteps: "Do the ACME thing.",
            framework: { name: "SLSA", version: "1.1", reference: "https://slsa.dev", specification: "Build L3 Isolated: ACME clause" },
            tags: ["acme", "I5"],
        };
        const info = describePolicy(foreign);
        assert.deepStrictEqual([info.fix, info.slsaClause, info.invariants, info.invariantText], [
            "Do the ACME thing.", "Build L3 Isolated: ACME clause", ["I5"], "I5 pool separation",
        ]);
        const bare = describePolicy({ name: "bare", description: "Bare." });
        assert.deepStrictEqual([bare.fix, bare.slsaClause, bare.invariantText], ["—", "—", "—"]);
    });
});
