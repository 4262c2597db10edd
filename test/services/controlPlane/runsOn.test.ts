import * as assert from "assert";
import { readFileSync } from "fs";
import * as path from "path";
import { defaultRunnerLabels, LabelledPool, Placement, placeJob, runnerLabels } from "../../../services/controlPlane/runsOn";
import { REPO_ROOT } from "../../helpers/paths";

const PAGE = path.join(REPO_ROOT, "docs", "workflow-authors.md");

/** The documented outcome of one row, as the Placement the rule must return. */
function documented(outcome: string): Placement["kind"] | { pool: string } {
    const pool = /^runs on pool `([a-z0-9-]+)`, with provenance$/.exec(outcome);
    if (pool !== null) {
        return { pool: pool[1] };
    }
    if (outcome.startsWith("names no pool: ")) {
        return "unnamed";
    }
    if (outcome.startsWith("never runs on the fleet")) {
        return "unrunnable";
    }
    if (outcome.startsWith("not the fleet's")) {
        return "foreign";
    }
    throw new Error(`docs/workflow-authors.md: outcome ${JSON.stringify(outcome)} is none of the documented forms`);
}

describe("docs/workflow-authors.md: the runs-on rule as documented is the rule the services apply", () => {
    const page = readFileSync(PAGE, "utf8");

    it("every example row gets the documented outcome from the matcher", () => {
        const block = /<!-- runs-on-examples: (.*?) -->\n([\s\S]*?)<!-- \/runs-on-examples -->/.exec(page);
        assert.ok(block, "the page has a runs-on-examples table");
        const pools: LabelledPool[] = block[1].split(" ").map((spec) => {
            const [, name, extra] = /^([a-z0-9-]+)=\[(.*)\]$/.exec(spec)!;
            return { name, labels: runnerLabels(name, extra === "" ? [] : extra.split(",")) };
        });
        const rows = block[2].split("\n").filter((l) => l.startsWith("| `["));
        assert.ok(rows.length >= 8, `expected the example rows, got ${rows.length}`);
        const kinds = new Set<string>();
        for (const row of rows) {
            const [, labels, outcome] = /^\| `\[(.*)\]` \| (.*) \|$/.exec(row)!;
            const placement = placeJob(pools, labels.split(",").map((l) => l.trim()));
            const want = documented(outcome);
            kinds.add(placement.kind);
            if (typeof want === "string") {
                assert.strictEqual(placement.kind, want, row);
            } else {
                assert.deepStrictEqual(placement, { kind: "pool", pool: want.pool }, row);
            }
        }
        assert.deepStrictEqual([...kinds].sort(), ["foreign", "pool", "unnamed", "unrunnable"], "every outcome is illustrated");
    });

    it("lists exactly the labels every gce runner carries", () => {
        const defaults = defaultRunnerLabels().map((l) => `\`${l}\``);
        assert.match(page, new RegExp(`carries ${defaults.slice(0, -1).join(", ")}, ${defaults[defaults.length - 1]} \\(\`arm64\` on Arm machine types\\)`));
        assert.deepStrictEqual(defaultRunnerLabels("t2a-standard-4").slice(-1), ["arm64"]);
    });
});
