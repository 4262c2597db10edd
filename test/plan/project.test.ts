// How the plan finds and compiles a consumer's program, as the Pulumi CLI and its Node.js language
// host do: Pulumi.yaml `main` or the project directory, package.json `main`, the project's tsconfig.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { projectProgram, readProject, resolveProgramEntry, stackConfigFiles, tsconfigFor } from "../../plan/engine/project";
import { loadStackConfig, StackConfigError } from "../../plan/engine/stackConfig";
import { CompileSetupError, TypeCheckError, typeCheckProgram } from "../../plan/engine/typescript";
import { runProgram } from "../../plan/engine/run";
import { FIXTURES, tempDir } from "../helpers/plan";

const YAML_GOOD = [
    "config:",
    "  hardened-build-fleet:signerProject: s",
    "  hardened-build-fleet:signer: { serviceImage: x, cidr: 10.9.0.0/26 }",
    "  hardened-build-fleet:pools: [{ name: a }]",
    "",
].join("\n");

describe("plan: consumer projects", () => {
    let tmp: ReturnType<typeof tempDir>;
    beforeEach(() => {
        tmp = tempDir();
    });
    afterEach(() => tmp.cleanup());
    const write = (rel: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(tmp.dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(tmp.dir, rel), text);
        return path.join(tmp.dir, rel);
    };

    it("Pulumi.yaml main may name a file or a directory; without main the directory's package.json main, else index.ts", () => {
        write("Pulumi.yaml", "name: p\nruntime: nodejs\nmain: src/\n");
        const entry = write("src/index.ts", "export {};\n");
        const project = readProject(tmp.dir)!;
        assert.strictEqual(project.main, "src/");
        assert.strictEqual(resolveProgramEntry(projectProgram(project)), entry);

        write("Pulumi.yaml", "name: p\nruntime:\n  name: nodejs\n  options:\n    tsconfig: tsconfig.pulumi.json\n");
        const main = write("app.ts", "export {};\n");
        write("package.json", JSON.stringify({ main: "app.ts" }));
        const again = readProject(tmp.dir)!;
        assert.strictEqual(resolveProgramEntry(projectProgram(again)), main);
        // The language host's tsconfig: runtime.options.tsconfig, relative to the project.
        assert.strictEqual(tsconfigFor(main, again), path.join(tmp.dir, "tsconfig.pulumi.json"));
        fs.rmSync(path.join(tmp.dir, "package.json"));
        assert.strictEqual(resolveProgramEntry(tmp.dir), undefined, "no index.ts, no main");
        const index = write("index.ts", "export {};\n");
        assert.strictEqual(resolveProgramEntry(tmp.dir), index);
    });

    it("stack configs are the Pulumi.<stack>.yaml files, not Pulumi.yaml", () => {
        for (const f of ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.eu.yaml", "other.yaml"]) {
            write(f, "config: {}\n");
        }
        assert.deepStrictEqual(stackConfigFiles(tmp.dir).map((f) => path.basename(f)), ["Pulumi.dev.yaml", "Pulumi.prod.eu.yaml"]);
    });

    it("rejects stack config whose shape does not match the types Pulumi.yaml declares, as the CLI does", () => {
        fs.copyFileSync(path.join(__dirname, "..", "..", "Pulumi.yaml"), path.join(tmp.dir, "Pulumi.yaml"));
        const good = write("Pulumi.dev.yaml", YAML_GOOD);
        assert.strictEqual(loadStackConfig(good).values["hardened-build-fleet:signer"], JSON.stringify({ serviceImage: "x", cidr: "10.9.0.0/26" }));
        const bad = write("Pulumi.bad.yaml", [
            "config:",
            "  hardened-build-fleet:signerProject: s",
            "  hardened-build-fleet:signer: just-a-string",
            "  hardened-build-fleet:pools:",
            "    - name: a",
            "    - b",
            "  hardened-build-fleet:allowSharedSignerProject: maybe",
            "  hardened-build-fleet:github: { secure: v1:abc }",
            "",
        ].join("\n"));
        assert.throws(() => loadStackConfig(bad), (e: unknown) => {
            assert.ok(e instanceof StackConfigError);
            assert.match(e.message, /Pulumi\.bad\.yaml does not match the config types .*Pulumi\.yaml declares \(the Pulumi CLI rejects it before the program runs\):\n/);
            const lines = e.message.split("\n").filter((l) => l.startsWith("  - "));
            assert.deepStrictEqual(lines, [
                "  - hardened-build-fleet:allowSharedSignerProject: expected a boolean, got a string \"maybe\"",
                "  - hardened-build-fleet:pools[1]: expected an object, got a string \"b\"",
                "  - hardened-build-fleet:signer: expected an object, got a string \"just-a-string\"",
            ]);
            return true;
        });
    });

    describe("type check with the project's tsconfig", function () {
        this.timeout(120_000);
        // Inside the fixtures so @pulumi/pulumi resolves; removed afterwards.
        let dir: string;
        before(() => {
            dir = fs.mkdtempSync(path.join(FIXTURES, ".scratch-"));
        });
        after(() => fs.rmSync(dir, { recursive: true, force: true }));
        const program = "import * as pulumi from \"@pulumi/pulumi\";\nexport const n: number = pulumi.getStack();\n";

        it("a commonjs tsconfig (module set, resolution left to TypeScript): the compiler's message", () => {
            fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "commonjs", strict: true } }));
            const entry = path.join(dir, "index.ts");
            fs.writeFileSync(entry, program);
            assert.throws(() => typeCheckProgram(entry, path.join(dir, "tsconfig.json")), (e: unknown) => {
                assert.ok(e instanceof TypeCheckError);
                assert.strictEqual(e.count, 1);
                assert.strictEqual(e.diagnostics, "index.ts(2,14): error TS2322: Type 'string' is not assignable to type 'number'.");
                return true;
            });
        });

        it("noCheck in the tsconfig skips the check, as the language host does", () => {
            fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "nodenext", moduleResolution: "nodenext", noCheck: true } }));
            const entry = path.join(dir, "index.ts");
            fs.writeFileSync(entry, program);
            typeCheckProgram(entry, path.join(dir, "tsconfig.json"));
        });

        it("an unreadable tsconfig and an ES module package are setup errors naming the file", () => {
            const entry = path.join(dir, "index.ts");
            fs.writeFileSync(path.join(dir, "tsconfig.json"), "{ \"compilerOptions\": { \"module\": \"nope\" } }");
            assert.throws(() => typeCheckProgram(entry, path.join(dir, "tsconfig.json")), (e: unknown) => e instanceof CompileSetupError && /cannot use .*tsconfig\.json: .*module/.test(e.message));
            fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
            assert.throws(() => typeCheckProgram(entry, undefined), (e: unknown) => e instanceof CompileSetupError && /ES module package \("type": "module"/.test(e.message)
                && /point --program at the compiled entry: compiled ES module JavaScript \(\.js or \.mjs\) works/.test(e.message));
        });

        it("runs a compiled ES module entry, as the refusal of ES module TypeScript says", async () => {
            fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
            const entry = path.join(dir, "index.js");
            fs.writeFileSync(entry, "export default async function () { return { answer: 42, format: typeof require }; }\n");
            const run = await runProgram(entry);
            assert.strictEqual(run.error, undefined, String(run.error));
            assert.deepStrictEqual(run.outputs, { answer: 42, format: "undefined" }, "loaded as an ES module");
        });
    });
});
