/**
 * The README and the docs/ pages are part of the contract: the README's SLSA mapping names files and
 * policies that exist, and every page names only files, policies, npm scripts, bins, command options and
 * page anchors that exist. (The generated reference pages and the TypeScript blocks: test/docs/.)
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { policies } from "../policies/rules";
import { USAGE as PLAN_USAGE } from "../plan/cli";

const ROOT = path.join(__dirname, "..");
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

/** README.md and every docs/*.md page, by path relative to the repository. */
const PAGES: Record<string, string> = Object.fromEntries([
    ["README.md", README],
    ...fs.readdirSync(path.join(ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => [`docs/${f}`, fs.readFileSync(path.join(ROOT, "docs", f), "utf8")]),
]);

/** Table rows (split cells) of the README whose first cell matches `first`. */
function rows(first: RegExp): string[][] {
    return README.split("\n")
        .filter((l) => l.startsWith("|"))
        .map((l) => l.split("|").slice(1, -1).map((c) => c.trim()))
        .filter((cells) => first.test(cells[0] ?? ""));
}

function backticked(cell: string): string[] {
    return [...cell.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
}

/** Every inline code span and every line of every fenced block of a page. */
function codeOf(text: string): string[] {
    const fenced = [...text.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].flatMap((m) => m[1].split("\n"));
    const prose = text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, "");
    return [...backticked(prose), ...fenced];
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
    return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

function anchorsOf(text: string): Set<string> {
    const withoutCode = text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, "");
    return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));
}

/** Paths into the repository a page names in code: `components/x.ts`, `test/`, `Pulumi.example.yaml`, ... */
const REPO_PATH = /^(?:(?:components|policies|plan|services|test|bench|bin|provider|docs|tools|images|\.ci)\/[\w./-]*|[\w.-]+\.(?:yaml|json|md|ts)|LICENSE)$/;
/** Names that look like repository files but are not (examples of files a user writes). */
const NOT_REPO_FILES = new Set(["policy-config.json", "keyring.json", "trusted_root.json", "keys.json", "app.tgz.sigstore.json", "app.tgz.vsa.json", "plan.sarif", "plan.json", "Pulumi.prod.yaml", "app.cdx.json", "Pulumi.yaml", "package.json", "tsconfig.json"]);

/** Base names of the repository's files: a bare `startupScript.ts` next to its component's path names one of them. */
function baseNames(dir = ROOT, into = new Set<string>()): Set<string> {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory() && !["node_modules", "dist", ".git"].includes(entry.name)) {
            baseNames(path.join(dir, entry.name), into);
        } else if (entry.isFile()) {
            into.add(entry.name);
        }
    }
    return into;
}

describe("README", () => {
    const mapping = rows(/^I\d+$/);

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

    it("gives the two quick-start commands the package actually has", () => {
        assert.match(README, /npm ci && npm run plan/);
        assert.match(README, /\nnpm test /);
        assert.ok(PKG.scripts.plan && PKG.scripts.test, "package.json defines plan and test");
    });

    it("stays short and links every docs page", () => {
        assert.ok(README.split("\n").length <= 220, `README.md has ${README.split("\n").length} lines: move detail into docs/`);
        const linked = new Set([...README.matchAll(/\]\((docs\/[^)#]+\.md)/g)].map((m) => m[1]));
        const unlinked = Object.keys(PAGES).filter((p) => p.startsWith("docs/") && !linked.has(p));
        assert.deepStrictEqual(unlinked, [], "add a line for each page to the README's Documentation table");
    });
});

describe("docs: what the README and the pages name exists", () => {
    const policyNames = new Set(policies.map((p) => p.name));
    // A code span is taken for a policy name when it is kebab-case and starts like one of the pack's rules.
    const policyPrefixes = new Set(policies.map((p) => p.name.split("-")[0]));
    const looksLikePolicy = (token: string) => /^[a-z0-9]+(-[a-z0-9]+){2,}$/.test(token) && policyPrefixes.has(token.split("-")[0]);

    it("every repository file and directory named in code exists", () => {
        const names = baseNames();
        const problems: string[] = [];
        for (const [page, text] of Object.entries(PAGES)) {
            for (const token of codeOf(text).flatMap((c) => c.split(/[\s,;()"'=]+/))) {
                const file = token.replace(/[.:]$/, "");
                if (!REPO_PATH.test(file) || NOT_REPO_FILES.has(file) || /[<>*{}]/.test(file)) {
                    continue;
                }
                const exists = file.includes("/") || file === "LICENSE" ? fs.existsSync(path.join(ROOT, file)) : names.has(file);
                if (!exists) {
                    problems.push(`${page}: ${file} does not exist`);
                }
            }
        }
        assert.deepStrictEqual([...new Set(problems)], []);
    });

    it("every policy named is in the pack", () => {
        const problems: string[] = [];
        for (const [page, text] of Object.entries(PAGES)) {
            const prose = text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, "");
            const fencedKeys = [...text.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].flatMap((m) => [...m[1].matchAll(/"([a-z0-9-]+)"\s*:/g)].map((k) => k[1]));
            // Whole inline code spans, and the keys of fenced JSON (a pack config names policies there).
            for (const token of [...backticked(prose), ...fencedKeys]) {
                if (looksLikePolicy(token) && !policyNames.has(token)) {
                    problems.push(`${page}: ${token} looks like a policy name but the pack has no such rule`);
                }
            }
        }
        assert.deepStrictEqual([...new Set(problems)], []);
    });

    it("every npm script, bin and plan option named exists", () => {
        const bins = new Set(Object.keys(PKG.bin));
        const problems: string[] = [];
        for (const [page, text] of Object.entries(PAGES)) {
            for (const line of codeOf(text)) {
                for (const [, script] of line.matchAll(/\bnpm run (?:-s |--silent )?([\w:-]+)/g)) {
                    if (!PKG.scripts[script]) {
                        problems.push(`${page}: npm run ${script}: no such script in package.json`);
                    }
                }
                for (const [, bin] of line.matchAll(/\b(hardened-build-fleet-[a-z-]+)/g)) {
                    if (!bins.has(bin)) {
                        problems.push(`${page}: ${bin}: no such bin in package.json`);
                    }
                }
                if (/hardened-build-fleet-plan|npm run plan --/.test(line)) {
                    for (const [, option] of line.matchAll(/(?:^|\s)(--[a-z-]+)/g)) {
                        if (!PLAN_USAGE.includes(`${option} `)) {
                            problems.push(`${page}: plan option ${option} is not in the plan command's --help`);
                        }
                    }
                }
            }
        }
        assert.deepStrictEqual([...new Set(problems)], []);
    });

    it("every link to a page, a file or an anchor resolves", () => {
        const anchors = new Map(Object.entries(PAGES).map(([p, t]) => [p, anchorsOf(t)]));
        const problems: string[] = [];
        for (const [page, text] of Object.entries(PAGES)) {
            const prose = text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, "");
            for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
                if (/^[a-z]+:/.test(target)) {
                    continue;
                }
                const [file, anchor] = target.split("#");
                const resolved = file === "" ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), file));
                if (!fs.existsSync(path.join(ROOT, resolved))) {
                    problems.push(`${page}: link ${target}: ${resolved} does not exist`);
                } else if (anchor !== undefined && !anchors.get(resolved)?.has(anchor)) {
                    problems.push(`${page}: link ${target}: ${resolved} has no heading with anchor #${anchor}`);
                }
            }
        }
        assert.deepStrictEqual(problems, []);
    });
});
