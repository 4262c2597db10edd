// Loads one of this package's entry modules: the TypeScript source through ts-node (transpile
// only) when present, so a stale dist/ never runs, else the compiled dist/ copy.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");

/** `relative` is the module's path without extension, e.g. "plan/cli". */
module.exports = function loadEntry(relative) {
    const source = path.join(root, `${relative}.ts`);
    if (fs.existsSync(source)) {
        // This package's compiler options, whatever the caller's directory; compile our .ts even under node_modules.
        require("ts-node").register({
            transpileOnly: true,
            project: path.join(root, "tsconfig.json"),
            skipIgnore: true,
            compilerOptions: { module: "commonjs" },
        });
        return require(source);
    }
    return require(path.join(root, "dist", `${relative}.js`));
};
