/**
 * The provider facade's field descriptions are the components' own (what Python, Go, .NET and YAML users read
 * in their SDKs is what TypeScript users read): any difference fails, with the fix (`npm run schema:docs`).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { facadeDocDrift, FACADE_PAIRS, syncFacadeDocs } from "../../tools/facadeDocs";
import { REPO_ROOT } from "../helpers/paths";

describe("provider facade: descriptions come from the component Args", () => {
    it("every facade field that a component Args also has carries that field's description", () => {
        const drift = facadeDocDrift(REPO_ROOT);
        assert.deepStrictEqual(drift, [], `${drift.length} facade descriptions differ from the components'; run \`npm run schema:docs\`:\n` +
            drift.map((d) => `- ${d.field}\n    facade:    ${d.facade}\n    component: ${d.component}`).join("\n"));
    });

    it("detects a drifted description and the sync repairs it (on a copy of the tree)", () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "facade-docs-"));
        try {
            for (const file of new Set(FACADE_PAIRS.flatMap((p) => [p[0], p[2]]))) {
                fs.mkdirSync(path.dirname(path.join(tmp, file)), { recursive: true });
                fs.copyFileSync(path.join(REPO_ROOT, file), path.join(tmp, file));
            }
            syncFacadeDocs(tmp); // the copy starts in sync whatever the tree's state (the first test judges the tree)
            const file = path.join(tmp, "provider", "isolatedNetwork.ts");
            const source = fs.readFileSync(file, "utf8");
            const edited = source.replace(/\/\*\*[^*]*\*\/(\s*)region:/, "/** Somewhere. */$1region:");
            assert.notStrictEqual(edited, source, "the fixture edit did not apply");
            fs.writeFileSync(file, edited);
            assert.deepStrictEqual(facadeDocDrift(tmp).map((d) => d.field), ["provider/isolatedNetwork.ts: IsolatedNetworkArgs.region"]);
            assert.strictEqual(syncFacadeDocs(tmp), 1);
            assert.deepStrictEqual(facadeDocDrift(tmp), []);
            assert.strictEqual(fs.readFileSync(file, "utf8"), source);
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });
});
