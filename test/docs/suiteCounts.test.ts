/**
 * The suite sizes that docs/development.md states are the suites' real sizes: a variant added to a suite
 * without its line in the docs (or the other way round) fails here, so the counts are never typed by hand
 * and left to drift.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { SECURE, VARIANTS } from "../policies/insecure/adversarial";
import { CASES } from "../policies/insecure/cases";
import { K8S_CASES, K8S_SECURE_CASES } from "../policies/insecure/kubernetes";
import { REPO_ROOT } from "../helpers/paths";

const DOC = path.join(REPO_ROOT, "docs", "development.md");

/** The one number in `text` right before `phrase` after `anchor` (e.g. "103" in "... 103 one-change variants"). */
function countAfter(text: string, anchor: string, phrase: RegExp): number {
    const start = text.indexOf(anchor);
    assert.ok(start >= 0, `docs/development.md no longer mentions ${anchor}`);
    const m = phrase.exec(text.slice(start).replace(/\s+/g, " "));
    assert.ok(m, `docs/development.md: no count matching ${phrase} after ${anchor}`);
    return Number(m[1]);
}

describe("docs/development.md: suite sizes", () => {
    const text = fs.readFileSync(DOC, "utf8");

    it("states the raw insecure-program suite's size", () => {
        assert.strictEqual(countAfter(text, "the raw insecure-program suite", /(\d+) one-change variants/), CASES.length);
    });

    it("states the adversarial suite's variants, preview variants and secure designs", () => {
        const anchor = "the adversarial suite";
        assert.strictEqual(countAfter(text, anchor, /(\d+) one-change variants/), VARIANTS.length);
        assert.strictEqual(countAfter(text, anchor, /(\d+) of them also in preview mode/), VARIANTS.filter((v) => v.preview).length);
        assert.strictEqual(countAfter(text, anchor, /(\d+) secure-but-unusual designs/), SECURE.length);
    });

    it("states the Kubernetes suite's variants, preview variants and secure variants", () => {
        const anchor = "the Kubernetes suite";
        assert.strictEqual(countAfter(text, anchor, /(\d+) one-change variants/), K8S_CASES.length);
        assert.strictEqual(countAfter(text, anchor, /(\d+) preview variants/), K8S_CASES.filter((c) => c.preview).length);
        assert.strictEqual(countAfter(text, anchor, /(\d+) secure-but-unusual variants/), K8S_SECURE_CASES.length);
    });
});
