import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { runProgram } from "../../../plan/engine/run";
import { pulumiCopies, secondPulumiCopyProblem } from "../../../plan/engine/pulumiCopies";
import { CompileSetupError } from "../../../plan/engine/typescript";
import { tempDir } from "../../helpers/plan";

describe("plan: a second copy of @pulumi/pulumi", () => {
    let tmp: { dir: string; cleanup: () => void };
    beforeEach(() => {
        tmp = tempDir();
    });
    afterEach(() => tmp.cleanup());

    /** A consumer project whose lockfile kept an older @pulumi/pulumi: npm nests ours, theirs is at the top. */
    const consumerWithOldPulumi = () => {
        const pkg = path.join(tmp.dir, "node_modules", "@pulumi", "pulumi");
        fs.mkdirSync(pkg, { recursive: true });
        fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name: "@pulumi/pulumi", version: "3.100.0", main: "index.js" }));
        fs.writeFileSync(path.join(pkg, "index.js"), "module.exports = {};\n");
        const entry = path.join(tmp.dir, "index.js");
        fs.writeFileSync(entry, "require('@pulumi/pulumi'); module.exports = { ok: true };\n");
        return entry;
    };

    it("refuses the program before running it, naming both copies, their versions and the fix", async () => {
        const entry = consumerWithOldPulumi();
        const problem = secondPulumiCopyProblem(tmp.dir, "^3.276.0");
        assert.match(problem!, /resolves a second copy of @pulumi\/pulumi \(3\.100\.0 at .*node_modules\/@pulumi\/pulumi\) besides hardened-build-fleet's \(3\.\d+\.\d+ at /);
        assert.match(problem!, /Fix: install one version in the program's project, `npm install @pulumi\/pulumi@"\^3\.276\.0"`/);
        await assert.rejects(runProgram(entry), (e: unknown) => e instanceof CompileSetupError && /second copy of @pulumi\/pulumi \(3\.100\.0/.test(e.message));
    });

    it("accepts a program that resolves this package's copy, and one that resolves none", async () => {
        const here = path.join(__dirname);
        const copies = pulumiCopies(here)!;
        assert.strictEqual(copies.theirs.dir, copies.ours.dir);
        assert.strictEqual(secondPulumiCopyProblem(here, "^3"), undefined);
        const entry = path.join(tmp.dir, "index.js");
        fs.writeFileSync(entry, "module.exports = { ok: true };\n");
        // A temp directory resolves no @pulumi/pulumi of its own: nothing to compare, and the program runs.
        assert.strictEqual(pulumiCopies(tmp.dir), undefined);
        const run = await runProgram(entry);
        assert.strictEqual(run.error, undefined);
        assert.deepStrictEqual(run.outputs, { ok: true });
    });
});
