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

    it("exposes the plan command as a bin and keeps typescript below 6 (@pulumi/pulumi peer-depends on typescript <7)", () => {
        assert.strictEqual(pkg.bin["hardened-build-fleet-plan"], "bin/hardened-build-fleet-plan.js");
        assert.ok(fs.existsSync(path.join(ROOT, pkg.bin["hardened-build-fleet-plan"])));
        assert.match(pkg.dependencies.typescript, /^\^5\./);
    });

    it("maps every subpath export's types for moduleResolution node (typesVersions) to the same declarations", () => {
        const mapped: Record<string, string[]> = pkg.typesVersions["*"];
        const subpaths = Object.keys(pkg.exports).filter((k) => k !== "." && k !== "./package.json");
        assert.deepStrictEqual(Object.keys(mapped).sort(), subpaths.map((k) => k.replace(/^\.\//, "")).sort());
        for (const sub of subpaths) {
            assert.deepStrictEqual(mapped[sub.replace(/^\.\//, "")], [pkg.exports[sub].types.replace(/^\.\//, "")], sub);
        }
    });

    it("ships only built files: no source directory shadows a subpath import under moduleResolution node", () => {
        const subpaths = Object.keys(pkg.exports).filter((k) => k !== "." && k !== "./package.json").map((k) => k.replace(/^\.\//, ""));
        const shipped: string[] = pkg.files.filter((f: string) => !f.startsWith("!"));
        for (const sub of subpaths) {
            assert.ok(!shipped.some((f) => f === sub || f.startsWith(`${sub}/`)), `files ships ${sub}/, which node10 resolution would take for "${pkg.name}/${sub}"`);
        }
        for (const source of ["components", "index.ts", "tsconfig.json", "test"]) {
            assert.ok(!shipped.includes(source), `files ships ${source}`);
        }
        assert.ok(shipped.includes("dist") && shipped.includes("bin"));
    });

    it("declares @pulumi/pulumi and @pulumi/policy as caret dependencies (as @pulumi/eks and @pulumi/awsx do), so a consumer's copy is shared", () => {
        for (const name of ["@pulumi/pulumi", "@pulumi/policy"]) {
            assert.match(pkg.dependencies[name] ?? "", /^\^\d+\.\d+\.\d+$/, name);
            assert.strictEqual(pkg.peerDependencies?.[name], undefined, `${name}: one declaration`);
            const installed = JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), "utf8")).version.replace(/^v/, "");
            const [major, minor] = pkg.dependencies[name].slice(1).split(".").map(Number);
            const [imajor, iminor] = installed.split(".").map(Number);
            assert.ok(imajor === major && iminor >= minor, `${name} ${installed} satisfies ${pkg.dependencies[name]}`);
        }
        // The pack's own manifest (used by pulumi preview --policy-pack policies) asks for the same ranges.
        const packManifest = JSON.parse(fs.readFileSync(path.join(ROOT, "policies", "package.json"), "utf8"));
        assert.strictEqual(packManifest.dependencies["@pulumi/pulumi"], pkg.dependencies["@pulumi/pulumi"]);
        assert.strictEqual(packManifest.dependencies["@pulumi/policy"], pkg.dependencies["@pulumi/policy"]);
    });

    it("exports exactly the public surface from the root entry: components, their Args, config entry points, role labels", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const root = require("../components");
        const names = Object.keys(root).filter((k) => k !== "__esModule").sort();
        for (const expected of ["HardenedBuildFleet", "RunnerPool", "IsolatedNetwork", "SignerEnclave", "ControlPlane", "readRawFleetConfig", "readFleetConfig", "parseFleetConfig", "validateFleetConfig", "FleetConfigError", "roleLabels", "ROLE_LABEL", "POOL_LABEL"]) {
            assert.ok(names.includes(expected), `${expected} is not exported`);
        }
        // Internals stay internal: validators of single components, child-name helpers, priorities.
        for (const internal of ["validateIsolatedNetworkArgs", "validateRunnerPoolArgs", "fleetChildNames", "defaultSignerAccountId", "DENY_ALL_PRIORITY", "INTAKE_RUNNER_ROLE"]) {
            assert.ok(!names.includes(internal), `${internal} is exported`);
        }
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const rules = require("../policies/rules");
        assert.ok(Array.isArray(rules.policies) && rules.policies.length > 0);
    });

    it("the published modules import @pulumi/policy from its policy module, never the index (1.21's index.d.ts breaks consumers without skipLibCheck)", () => {
        const offenders: string[] = [];
        const walk = (dir: string) => {
            for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
                const p = path.join(dir, e.name);
                if (e.isDirectory()) {
                    walk(p);
                } else if (e.name.endsWith(".ts")) {
                    fs.readFileSync(p, "utf8").split("\n").forEach((line, i) => {
                        if (/from "@pulumi\/policy"/.test(line)) {
                            offenders.push(`${path.relative(ROOT, p)}:${i + 1}`);
                        }
                    });
                }
            }
        };
        for (const dir of ["components", "policies/rules", "plan"]) {
            walk(path.join(ROOT, dir));
        }
        assert.deepStrictEqual(offenders, [], 'import from "@pulumi/policy/policy" instead');
    });
});
