/**
 * The package's public surface: importing it creates nothing, and package.json points at the
 * files the build produces from sources that exist.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { runProgram } from "../plan/engine";

const ROOT = path.join(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

/** dist/x/y.js or .d.ts -> the x/y.ts source tsconfig.build.json compiles it from. */
function sourceOf(distPath: string): string {
    return path.join(ROOT, distPath.replace(/^\.?\/?dist\//, "").replace(/\.d\.ts$|\.js$/, ".ts"));
}

describe("package", () => {
    it("creates no resources when the library, the rules or the engine are imported", async () => {
        // Load fresh copies so module-level side effects, if any, would run now, under the mocks;
        // then put the shared copies back so other test files keep one class identity per module.
        const saved = new Map<string, NodeJS.Module>();
        for (const [key, mod] of Object.entries(require.cache)) {
            if (mod && key.startsWith(ROOT) && !key.includes(`${path.sep}node_modules${path.sep}`) && !key.includes(`${path.sep}test${path.sep}`)) {
                saved.set(key, mod);
                delete require.cache[key];
            }
        }
        try {
            const run = await runProgram(() => {
                /* eslint-disable @typescript-eslint/no-require-imports */
                require("../components");
                require("../policies/rules");
                require("../plan/engine");
                /* eslint-enable @typescript-eslint/no-require-imports */
            });
            assert.deepStrictEqual(run.resources.map((r) => r.type), ["pulumi:pulumi:Stack"]);
        } finally {
            for (const [key, mod] of saved) {
                require.cache[key] = mod;
            }
        }
    });

    it("points main, types and every export at build outputs of existing sources", () => {
        const targets: string[] = [pkg.main, pkg.types];
        for (const [subpath, entry] of Object.entries<any>(pkg.exports)) {
            if (subpath !== "./package.json") {
                targets.push(entry.types, entry.default);
            }
        }
        for (const t of targets) {
            assert.match(t, /^\.?\/?dist\//, `${t} is not a build output`);
            assert.ok(fs.existsSync(sourceOf(t)), `${t}: no source ${path.relative(ROOT, sourceOf(t))}`);
        }
        const build = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.build.json"), "utf8"));
        assert.strictEqual(build.compilerOptions.outDir, "dist");
        assert.strictEqual(build.compilerOptions.rootDir, ".");
    });

    it("exposes the plan command as a bin and keeps typescript below 6 (see DESIGN.md)", () => {
        assert.strictEqual(pkg.bin["hardened-build-fleet-plan"], "bin/hardened-build-fleet-plan.js");
        assert.ok(fs.existsSync(path.join(ROOT, pkg.bin["hardened-build-fleet-plan"])));
        assert.match(pkg.dependencies.typescript, /^\^5\./);
    });
});
