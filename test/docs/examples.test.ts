/**
 * The docs' code is real: every TypeScript block in the README and docs/ type-checks against the package
 * (imported as `hardened-build-fleet`, as a consumer writes it), the getting-started example plans with
 * the outcome its page states, and the plan page's JSON example shows the example fleet's real summary.
 */
import * as assert from "assert";
import * as fs from "fs";
import Module from "module";
import * as path from "path";
import * as ts from "typescript";
import { evaluatePolicies, runProgram } from "../../plan/engine";
import { buildPlanResult } from "../../plan/report/result";
import { buildJsonReport } from "../../plan/report/json";
import { policies } from "../../policies/rules";

const ROOT = path.join(__dirname, "..", "..");
/** What a consumer imports, mapped to this repository's sources. */
const PACKAGE_PATHS: Record<string, string> = {
    "hardened-build-fleet": "components/index.ts",
    "hardened-build-fleet/policies": "policies/rules/index.ts",
    "hardened-build-fleet/plan": "plan/engine/index.ts",
};

interface Block {
    page: string;
    line: number;
    code: string;
}

function pages(): string[] {
    return ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
}

/** Every ```ts / ```typescript block of every page, with the line it starts on. */
function typescriptBlocks(): Block[] {
    const blocks: Block[] = [];
    for (const page of pages()) {
        const text = fs.readFileSync(path.join(ROOT, page), "utf8");
        for (const m of text.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```/gm)) {
            blocks.push({ page, line: text.slice(0, m.index).split("\n").length, code: m[1] });
        }
    }
    return blocks;
}

/** Type-checks the blocks as modules of one program, next to the docs (so node_modules resolve); returns the errors. */
function compile(blocks: Block[]): string[] {
    const files = new Map(blocks.map((b, i) => [path.join(ROOT, "docs", `__block${i}.ts`), b]));
    const options: ts.CompilerOptions = {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        moduleResolution: ts.ModuleResolutionKind.Node10,
        strict: true,
        esModuleInterop: true,
        skipLibCheck: true,
        noEmit: true,
        types: ["node"],
        baseUrl: ROOT,
        paths: Object.fromEntries(Object.entries(PACKAGE_PATHS).map(([k, v]) => [k, [v]])),
    };
    const host = ts.createCompilerHost(options);
    const { getSourceFile, fileExists, readFile } = host;
    host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
    host.readFile = (f) => files.get(f)?.code ?? readFile.call(host, f);
    host.getSourceFile = (f, lang, ...rest) =>
        files.has(f) ? ts.createSourceFile(f, files.get(f)!.code, lang) : getSourceFile.call(host, f, lang, ...rest);
    const program = ts.createProgram([...files.keys()], options, host);
    return ts.getPreEmitDiagnostics(program)
        .filter((d) => d.file && files.has(d.file.fileName))
        .map((d) => {
            const block = files.get(d.file!.fileName)!;
            const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
            return `${block.page}:${block.line + 1 + line}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
        });
}

/** Loads a docs block as a Pulumi program: imports of the package go to this repository's sources. */
function programOf(code: string): () => unknown {
    let js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
    for (const [spec, file] of Object.entries(PACKAGE_PATHS)) {
        js = js.split(JSON.stringify(spec)).join(JSON.stringify(path.join(ROOT, file)));
    }
    return () => {
        const filename = path.join(ROOT, "docs", "__example.js");
        const m = new Module(filename);
        m.filename = filename;
        m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(ROOT);
        (m as unknown as { _compile(code: string, file: string): void })._compile(js, filename);
        return m.exports;
    };
}

function section(page: string, heading: string): string {
    const text = fs.readFileSync(path.join(ROOT, page), "utf8");
    const at = text.indexOf(`\n${heading}\n`);
    assert.ok(at >= 0, `${page} has no heading "${heading}"`);
    const next = text.indexOf("\n## ", at + heading.length + 2);
    return text.slice(at, next < 0 ? undefined : next);
}

describe("docs: code examples", function () {
    this.timeout(240_000);

    it("every TypeScript block in the README and docs/ compiles against the package (and a broken one is reported)", () => {
        const blocks = typescriptBlocks();
        assert.ok(blocks.length >= 2, `expected the getting-started and sigstore-js examples, found ${blocks.length} blocks`);
        // A deliberately broken block in the same program proves the check reports errors, with page and line.
        const broken: Block = { page: "(broken)", line: 10, code: 'import { HardenedBuildFleet } from "hardened-build-fleet";\nnew HardenedBuildFleet("f", { config: { region: 1 } });\n' };
        const errors = compile([...blocks, broken]);
        assert.ok(errors.some((e) => e.startsWith("(broken):12: TS")), `the broken block was not reported:\n${errors.join("\n")}`);
        assert.deepStrictEqual(errors.filter((e) => !e.startsWith("(broken):")), []);
    });

    it("the getting-started example has no placeholder and plans with its documented outcome", async () => {
        const text = section("docs/getting-started.md", "## Using the components in your own program");
        const code = /```ts\n([\s\S]*?)```/.exec(text)?.[1];
        assert.ok(code, "no TypeScript block in the section");
        assert.doesNotMatch(code, /@sha256:\.\.\.|<[a-z ]+>/, "the example must run as written");
        assert.match(text, /\*\*no mandatory violation and two advisories\*\*, `signer-perimeter` and `runner-perimeter`/);
        const run = await runProgram(programOf(code));
        const ev = await evaluatePolicies(run, policies);
        assert.deepStrictEqual(
            ev.violations.map((v) => `${v.policy}/${v.enforcementLevel}`).sort(),
            ["runner-perimeter/advisory", "signer-perimeter/advisory"],
            ev.violations.map((v) => `${v.policy} ${v.urn}: ${v.message}`).join("\n"),
        );
    });

    it("the plan page's JSON example has the example fleet's real summary", async () => {
        const block = /```json\n(\{ "schemaVersion"[\s\S]*?)```/.exec(fs.readFileSync(path.join(ROOT, "docs", "plan.md"), "utf8"))?.[1];
        assert.ok(block, "docs/plan.md has no JSON report example");
        const documented = JSON.parse(block);
        const run = await runProgram(path.join(ROOT, "index.ts"), { configFile: path.join(ROOT, "Pulumi.example.yaml") });
        const ev = await evaluatePolicies(run, policies);
        const report = buildJsonReport(buildPlanResult(run, ev, policies));
        assert.deepStrictEqual(Object.keys(documented), Object.keys(report), "the example's keys are the report's, in order");
        assert.deepStrictEqual(documented.summary, report.summary, "update the summary in docs/plan.md's JSON example");
        assert.strictEqual(documented.schemaVersion, report.schemaVersion);
    });
});
