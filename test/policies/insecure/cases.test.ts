/**
 * Raw insecure programs: the pack must catch an insecure stack
 * that anyone wrote, not only one built from this package's components.
 *
 * First the raw baseline (baseline.ts) must evaluate to zero findings under the full pack, in normal
 * and preview mode. Then each variant of cases.ts runs alone, and the test asserts that exactly the
 * expected rule (plus the `also` rules the same change necessarily breaks) fires, at level mandatory,
 * naming the offending resource's URN, and that the rule claims the invariant the variant breaks.
 */
import * as assert from "assert";
import { policies } from "../../../policies/rules";
import { CASES, InsecureCase } from "./cases";
import { assertMandatory, assertOnly, describeFinding, evaluateVariant, listFindings, Result } from "../../helpers/insecureHarness";

async function evaluate(c?: InsecureCase, preview = false): Promise<Result> {
    return evaluateVariant(c?.mutate, c?.preview ?? preview, c?.policyConfig);
}

describe("raw insecure programs (raw @pulumi/gcp and @pulumi/kubernetes, no components)", function () {
    this.timeout(60_000);

    describe("the secure raw baseline", () => {
        for (const preview of [false, true]) {
            it(`evaluates to zero findings under the full pack (${preview ? "preview" : "normal"} mode)`, async () => {
                const { run, ev } = await evaluate(undefined, preview);
                assert.deepStrictEqual(ev.violations.map((v) => `${v.policy}/${v.enforcementLevel}`), [], `false positives on the baseline:\n${listFindings(ev)}`);
                // The baseline holds both backends and the enclave, so every variant starts from all of them.
                const types = new Set(run.resources.map((x) => x.type));
                for (const t of [
                    "gcp:compute/instanceTemplate:InstanceTemplate", "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
                    "gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool", "kubernetes:core/v1:Namespace", "kubernetes:core/v1:Pod",
                    "gcp:kms/cryptoKey:CryptoKey", "gcp:cloudrunv2/service:Service", "gcp:projects/iAMAuditConfig:IAMAuditConfig",
                ]) {
                    assert.ok(types.has(t), `baseline lacks ${t}`);
                }
            });
        }
    });

    describe("the case table", () => {
        it("has at least 30 distinct cases, uniquely named, each naming a rule of the pack that claims its invariant", () => {
            const names = CASES.map((c) => c.name);
            assert.strictEqual(new Set(names).size, names.length, "case names must be unique");
            const normal = CASES.filter((c) => !c.preview && c.gap === undefined).length;
            assert.ok(normal >= 30, `only ${normal} normal-mode cases`);
            for (const c of CASES.filter((x) => x.gap === undefined)) {
                for (const policy of [c.expectedPolicy, ...(c.also ?? []).map((a) => a.policy)]) {
                    assert.ok(policies.some((p) => p.name === policy), `${c.name}: no rule named ${policy} in the pack`);
                }
                const rule = policies.find((p) => p.name === c.expectedPolicy)!;
                assert.ok(rule.meta.invariants.includes(c.invariant), `${c.name}: ${c.expectedPolicy} claims ${rule.meta.invariants.join(", ")}, not ${c.invariant}`);
            }
        });
    });

    describe("each insecure variant is caught by the exact rule", () => {
        for (const c of CASES) {
            // A case no rule catches yet is skipped and reported (POLICY GAP), never weakened.
            const test = c.gap === undefined ? it : it.skip;
            const title = `${c.name} -> ${c.expectedPolicy} [${c.invariant}]${c.gap === undefined ? "" : ` (POLICY GAP: ${c.gap})`}`;
            test(title, async () => {
                const r = await evaluate(c);
                assertMandatory(r, c.expectedPolicy, c.offender, c.mentions);
                for (const a of c.also ?? []) {
                    assertMandatory(r, a.policy, a.offender);
                }
                // Exactly these rules fire: the variant breaks one invariant, and nothing else is flagged.
                assertOnly(r, new Set([c.expectedPolicy, ...(c.also ?? []).map((a) => a.policy)]));
                if (c.preview) {
                    // Decided from property dependencies, not left undecided.
                    const undecided = r.ev.violations.filter((v) => v.enforcementLevel !== "mandatory");
                    assert.deepStrictEqual(undecided.map((v) => v.policy), [], `undecided findings in preview:\n${undecided.map(describeFinding).join("\n")}`);
                }
            });
        }
    });
});
