/**
 * Class variants (classes.ts): each is caught by the exact rule at level mandatory, naming the
 * offending resource, in normal and in preview mode; unclassified resources that touch nothing of
 * the platform draw exactly one advisory.
 */
import * as assert from "assert";
import { CLASS_ADVISORIES, CLASS_SECURE, CLASS_VARIANTS } from "./classes";
import { checkCaught, checkClean, evaluateVariant, listFindings, urnOf } from "../../helpers/insecureHarness";

describe("classes of attack no list names (classification table, unclassified types)", function () {
    this.timeout(60_000);

    for (const v of CLASS_VARIANTS) {
        for (const preview of (v.modes ?? ["normal", "preview"]).map((m) => m === "preview")) {
            it(`${preview ? "preview: " : ""}${v.name} -> ${v.policy} [${v.cls}]`, () => checkCaught(v, preview));
        }
    }

    for (const c of CLASS_SECURE) {
        for (const preview of [false, true]) {
            it(`${preview ? "preview: " : ""}sound: ${c.name}`, () => checkClean(c.mutate, preview));
        }
    }

    for (const a of CLASS_ADVISORIES) {
        for (const preview of [false, true]) {
            it(`${preview ? "preview: " : ""}${a.name}: one advisory, no violation`, async () => {
                const r = await evaluateVariant(a.mutate, preview);
                const hits = r.ev.violations.filter((v) => v.policy === "unclassified-resource-types");
                assert.deepStrictEqual(hits.map((v) => [v.enforcementLevel, v.urn]), [["advisory", urnOf(r.run, a.offender)]], listFindings(r.ev));
                assert.deepStrictEqual(r.ev.violations.filter((v) => v.enforcementLevel === "mandatory").map((v) => v.policy), [], listFindings(r.ev));
            });
        }
    }
});
