// Loads one of this package's entry modules: the compiled dist/ copy when it is present and not
// older than the TypeScript sources (an installed package ships no sources; a checkout builds dist/
// on `npm ci`), else the source through ts-node (transpile only), so a stale dist/ never runs.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const SOURCE_DIRS = ["plan", "policies", "components", "services"];

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

/** True when dist/<relative>.js exists and was built after the last source edit. */
function distIsCurrent(relative) {
    const built = path.join(root, "dist", `${relative}.js`);
    if (!fs.existsSync(built)) {
        return false;
    }
    const builtAt = fs.statSync(built).mtimeMs;
    return SOURCE_DIRS.every((d) => newestSource(path.join(root, d)) <= builtAt);
}

/** `relative` is the module's path without extension, e.g. "plan/cli". */
module.exports = function loadEntry(relative) {
    const source = path.join(root, `${relative}.ts`);
    if (distIsCurrent(relative) || !fs.existsSync(source)) {
        return require(path.join(root, "dist", `${relative}.js`));
    }
    // This package's compiler options, whatever the caller's directory; compile our .ts even under node_modules.
    require("ts-node").register({
        transpileOnly: true,
        project: path.join(root, "tsconfig.json"),
        skipIgnore: true,
        compilerOptions: { module: "commonjs" },
    });
    return require(source);
};
