/**
 * The README is part of the contract: its SLSA mapping and policy tables must name files and
 * policies that exist, and every policy of the pack must be documented with its invariants.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { policies } from "../policies/rules";

const ROOT = path.join(__dirname, "..");
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

/** Table rows (split cells) of the README whose first cell matches `first`. */
function rows(first: RegExp): string[][] {
    return README.split("\n")
        .filter((l) => l.startsWith("|"))
        .map((l) => l.split("|").slice(1, -1).map((c) => c.trim()))
        .filter((cells) => first.test(cells[0] ?? ""));
}

function backticked(cell: string): string[] {
    return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

describe("README", () => {
    const mapping = rows(/^I\d+$/);
    const policyNames = new Set(policies.map((p) => p.name));

    it("maps every invariant I1-I12 exactly once", () => {
        assert.deepStrictEqual(mapping.map((r) => r[0]), Array.from({ length: 12 }, (_, i) => `I${i + 1}`));
    });

    it("names component code, policies and tests that exist for every invariant", () => {
        const problems: string[] = [];
        for (const [id, , , code, named, tests] of mapping) {
            for (const [what, cell] of [["component code", code], ["tests", tests]] as const) {
                const files = backticked(cell);
                if (files.length === 0) {
                    problems.push(`${id}: no ${what}`);
                }
                for (const f of files.filter((f) => !fs.existsSync(path.join(ROOT, f)))) {
                    problems.push(`${id}: ${what} file ${f} does not exist`);
                }
            }
            const listed = backticked(named);
            if (listed.length === 0) {
                problems.push(`${id}: no policy`);
            }
            for (const p of listed) {
                const meta = policies.find((x) => x.name === p)?.meta;
                if (!meta) {
                    problems.push(`${id}: policy ${p} is not in the pack`);
                } else if (!meta.invariants.includes(id as never)) {
                    problems.push(`${id}: policy ${p} does not declare ${id} (it declares ${meta.invariants.join(", ")})`);
                }
            }
        }
        assert.deepStrictEqual(problems, []);
    });

    it("documents every policy of the pack with its invariants and a fix", () => {
        const documented = new Map(rows(/^`[a-z][a-z0-9]*(-[a-z0-9]+)+`$/).map((r) => [backticked(r[0])[0], r]));
        for (const p of policies) {
            const row = documented.get(p.name);
            assert.ok(row, `policy ${p.name} has no row in the README policy tables`);
            for (const inv of p.meta.invariants) {
                assert.ok(row[1].split(/[ ,]+/).includes(inv), `policy ${p.name}: README row lacks invariant ${inv}`);
            }
            assert.ok(row[3] && row[3].length > 5, `policy ${p.name}: README row has no fix`);
        }
        for (const name of documented.keys()) {
            assert.ok(policyNames.has(name), `README documents ${name}, which is not in the pack`);
        }
    });

    it("gives the two quick-start commands the package actually has", () => {
        const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts;
        assert.match(README, /npm ci && npm run plan/);
        assert.match(README, /\nnpm test /);
        assert.ok(scripts.plan && scripts.test, "package.json defines plan and test");
    });
});
