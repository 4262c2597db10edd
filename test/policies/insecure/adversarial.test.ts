/**
 * The adversarial suite (adversarial.ts): each one-change variant of the raw baseline is caught by
 * the exact rule, at level mandatory, naming the offending resource's URN; only that rule and the
 * rules the same change necessarily breaks fire. Where the offending value is an Output, the variant
 * runs again as a first preview and must be decided there too (from property dependencies). Every
 * secure-but-unusual variant draws no finding at all, in normal and preview mode.
 */
import * as assert from "assert";
import { policies } from "../../../policies/rules";
import { SECURE, Variant, VARIANTS } from "./adversarial";
import { checkCaught, checkClean } from "../../helpers/insecureHarness";

const check = (v: Variant, preview: boolean): Promise<void> => checkCaught(v, preview);

describe("adversarial suite: raw programs an attacker of the design would write", function () {
    this.timeout(60_000);

    it("has at least 80 one-change variants and 15 secure-but-unusual ones, uniquely named, each naming a rule that claims its invariant", () => {
        assert.ok(VARIANTS.length >= 80, `only ${VARIANTS.length} variants`);
        assert.ok(SECURE.length >= 15, `only ${SECURE.length} secure variants`);
        const names = [...VARIANTS, ...SECURE].map((v) => v.name);
        assert.strictEqual(new Set(names).size, names.length, "variant names must be unique");
        for (const v of VARIANTS) {
            const rule = policies.find((p) => p.name === v.policy);
            assert.ok(rule, `${v.name}: no rule named ${v.policy}`);
            assert.ok(rule.meta.invariants.includes(v.invariant), `${v.name}: ${v.policy} claims ${rule.meta.invariants.join(", ")}, not ${v.invariant}`);
        }
    });

    describe("each variant is caught by the exact rule", () => {
        for (const v of VARIANTS) {
            it(`${v.name} -> ${v.policy} [${v.invariant}]`, () => check(v, false));
            if (v.preview) {
                it(`preview: ${v.name} -> ${v.policy} [${v.invariant}]`, () => check(v, true));
            }
        }
    });

    describe("secure but unusual designs draw no finding", () => {
        for (const s of SECURE) {
            for (const preview of [false, true]) {
                it(`${s.name} (${preview ? "preview" : "normal"})`, () => checkClean(s.mutate, preview, s.previewAdvisory, s.policyConfig));
            }
        }
    });
});
