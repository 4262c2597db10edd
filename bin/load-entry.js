// Loads one of this package's entry modules. An installed package always runs its compiled dist/:
// modification times say nothing after `npm install`, and an installed package has no tsconfig.json
// for ts-node to read. Only a development checkout of the repository may run the TypeScript sources
// (through ts-node, transpile only), when dist/ is missing or older than them, so a stale dist/
// never runs there.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const SOURCE_DIRS = ["plan", "policies", "components", "services", "bench", "provider"];

/**
 * A development checkout has the repository's tsconfig.json and package-lock.json, which `npm pack`
 * never ships (package.json `files` leaves tsconfig.json out; npm always leaves the lockfile out; a test
 * keeps both true), and it does not sit under node_modules. All three must hold.
 */
function isDevelopmentCheckout(dir) {
    return fs.existsSync(path.join(dir, "tsconfig.json"))
        && fs.existsSync(path.join(dir, "package-lock.json"))
        && !path.resolve(dir).split(path.sep).includes("node_modules");
}

/** Newest modification time of the .ts sources under `dir` (0 when there are none). */
function newestSource(dir) {
    let newest = 0;
    let entries;
    try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
        return 0;
    }
    for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
            newest = Math.max(newest, newestSource(p));
        } else if (e.name.endsWith(".ts")) {
            newest = Math.max(newest, fs.statSync(p).mtimeMs);
        }
    }
    return newest;
}

/** True when dist/<relative>.js exists and was built after the last source edit (checkout only). */
function distIsCurrent(dir, relative) {
    const built = path.join(dir, "dist", `${relative}.js`);
    if (!fs.existsSync(built)) {
        return false;
    }
    const builtAt = fs.statSync(built).mtimeMs;
    return SOURCE_DIRS.every((d) => newestSource(path.join(dir, d)) <= builtAt);
}

/** Which file `relative` (e.g. "plan/cli") loads from, for a package rooted at `dir`. */
function resolveEntry(dir, relative) {
    const built = path.join(dir, "dist", `${relative}.js`);
    if (!isDevelopmentCheckout(dir)) {
        if (!fs.existsSync(built)) {
            throw new Error(`hardened-build-fleet: ${built} is missing: this installed copy of the package was not built. ` +
                "Reinstall it from the registry, or run `npm run build` in its checkout.");
        }
        return { file: built, compiled: true };
    }
    const source = path.join(dir, `${relative}.ts`);
    if (distIsCurrent(dir, relative) || !fs.existsSync(source)) {
        return { file: built, compiled: true };
    }
    return { file: source, compiled: false };
}

/** `relative` is the module's path without extension, e.g. "plan/cli". */
function loadEntry(relative) {
    const entry = resolveEntry(root, relative);
    if (!entry.compiled) {
        // This checkout's compiler options, whatever the caller's directory.
        require("ts-node").register({
            transpileOnly: true,
            project: path.join(root, "tsconfig.json"),
            skipIgnore: true,
            compilerOptions: { module: "commonjs" },
        });
    }
    return require(entry.file);
}

module.exports = loadEntry;
module.exports.resolveEntry = resolveEntry;
module.exports.isDevelopmentCheckout = isDevelopmentCheckout;
