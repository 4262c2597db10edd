/**
 * bin/load-entry.js: an installed package always runs its compiled dist/, whatever the files' times say;
 * only a development checkout (the repository's tsconfig.json and package-lock.json, not under
 * node_modules) falls back to the TypeScript sources when dist/ is missing or stale.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { resolveEntry, isDevelopmentCheckout } = require("../../bin/load-entry") as {
    resolveEntry(dir: string, relative: string): { file: string; compiled: boolean };
    isDevelopmentCheckout(dir: string): boolean;
};

const ROOT = path.join(__dirname, "..", "..");
const ENTRY = "services/verify/verify";

/** A package root with dist/<ENTRY>.js built at `builtAt` and its sources edited at `editedAt` (seconds). */
function packageRoot(base: string, opts: { dev: boolean; builtAt?: number; editedAt: number }): string {
    fs.mkdirSync(path.join(base, "services", "verify"), { recursive: true });
    fs.writeFileSync(path.join(base, `${ENTRY}.ts`), "export const from = 'source';\n");
    fs.utimesSync(path.join(base, `${ENTRY}.ts`), opts.editedAt, opts.editedAt);
    if (opts.builtAt !== undefined) {
        fs.mkdirSync(path.join(base, "dist", "services", "verify"), { recursive: true });
        fs.writeFileSync(path.join(base, "dist", `${ENTRY}.js`), "exports.from = 'dist';\n");
        fs.utimesSync(path.join(base, "dist", `${ENTRY}.js`), opts.builtAt, opts.builtAt);
    }
    if (opts.dev) {
        fs.writeFileSync(path.join(base, "tsconfig.json"), "{}\n");
        fs.writeFileSync(path.join(base, "package-lock.json"), "{}\n");
    }
    return base;
}

describe("bin/load-entry.js", () => {
    let tmp: string;
    beforeEach(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hbf-load-entry-"));
    });
    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("an installed package runs dist/ even when its shipped sources look newer (npm install resets times)", () => {
        const installed = packageRoot(path.join(tmp, "app", "node_modules", "hardened-build-fleet"), { dev: false, builtAt: 1000, editedAt: 2000 });
        assert.deepStrictEqual(resolveEntry(installed, ENTRY), { file: path.join(installed, "dist", `${ENTRY}.js`), compiled: true });
    });

    it("the old rule (times alone) would have run the sources there: the protection is the checkout test", () => {
        // Same layout with the checkout markers but outside node_modules: times now decide, and the source wins.
        const checkout = packageRoot(path.join(tmp, "checkout"), { dev: true, builtAt: 1000, editedAt: 2000 });
        assert.deepStrictEqual(resolveEntry(checkout, ENTRY), { file: path.join(checkout, `${ENTRY}.ts`), compiled: false });
    });

    it("a development checkout runs a current dist/, and the sources when dist/ is missing", () => {
        const current = packageRoot(path.join(tmp, "current"), { dev: true, builtAt: 3000, editedAt: 2000 });
        assert.strictEqual(resolveEntry(current, ENTRY).compiled, true);
        const unbuilt = packageRoot(path.join(tmp, "unbuilt"), { dev: true, editedAt: 2000 });
        assert.deepStrictEqual(resolveEntry(unbuilt, ENTRY), { file: path.join(unbuilt, `${ENTRY}.ts`), compiled: false });
    });

    it("needs every checkout marker: tsconfig.json alone, the lockfile alone, or a copy under node_modules is installed", () => {
        const onlyTsconfig = packageRoot(path.join(tmp, "a"), { dev: false, builtAt: 1000, editedAt: 2000 });
        fs.writeFileSync(path.join(onlyTsconfig, "tsconfig.json"), "{}\n");
        const onlyLock = packageRoot(path.join(tmp, "b"), { dev: false, builtAt: 1000, editedAt: 2000 });
        fs.writeFileSync(path.join(onlyLock, "package-lock.json"), "{}\n");
        const nested = packageRoot(path.join(tmp, "node_modules", "x"), { dev: true, builtAt: 1000, editedAt: 2000 });
        for (const dir of [onlyTsconfig, onlyLock, nested]) {
            assert.strictEqual(isDevelopmentCheckout(dir), false, dir);
            assert.strictEqual(resolveEntry(dir, ENTRY).compiled, true, dir);
        }
        assert.strictEqual(isDevelopmentCheckout(ROOT), true, "this repository is a development checkout");
    });

    it("an installed package without dist/ fails with a message saying what to do, never falls back to ts-node", () => {
        const broken = packageRoot(path.join(tmp, "node_modules", "hardened-build-fleet"), { dev: false, editedAt: 2000 });
        assert.throws(() => resolveEntry(broken, ENTRY), /dist\/services\/verify\/verify\.js is missing: this installed copy of the package was not built\. Reinstall it/);
    });

    it("the package never ships a checkout marker", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        for (const marker of ["tsconfig.json", "package-lock.json"]) {
            assert.ok(!pkg.files.some((f: string) => f === marker || f === `/${marker}`), `package.json files ships ${marker}`);
        }
    });
});
