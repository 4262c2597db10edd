#!/usr/bin/env node
// Entry point of `npx hardened-build-fleet-plan` / `npm run plan`: the compiled CLI when dist/ exists,
// else the TypeScript sources through ts-node (transpile only). Exit code from main(): 0, 1 or 2.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const compiled = path.join(root, "dist", "plan", "cli.js");
let cli;
if (fs.existsSync(compiled)) {
    cli = require(compiled);
} else {
    // This package's compiler options, whatever the caller's directory; compile our .ts even under node_modules.
    require("ts-node").register({
        transpileOnly: true,
        project: path.join(root, "tsconfig.json"),
        skipIgnore: true,
        compilerOptions: { module: "commonjs" },
    });
    cli = require(path.join(root, "plan", "cli.ts"));
}

cli.main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
        process.stderr.write(`error: ${err && err.message ? err.message : String(err)}\n`);
        process.exit(2);
    },
);
