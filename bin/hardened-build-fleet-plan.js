#!/usr/bin/env node
// Entry point of `npx hardened-build-fleet-plan` / `npm run plan`: the TypeScript sources through ts-node
// (transpile only) when present, else the compiled dist/. Exit code from main(): 0, 1 or 2.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const source = path.join(root, "plan", "cli.ts");
const compiled = path.join(root, "dist", "plan", "cli.js");
let cli;
// The TypeScript sources win whenever they are present (a checkout, or a package installed with its
// sources), so a stale dist/ can never run; dist/ serves installs without sources.
if (fs.existsSync(source)) {
    // This package's compiler options, whatever the caller's directory; compile our .ts even under node_modules.
    require("ts-node").register({
        transpileOnly: true,
        project: path.join(root, "tsconfig.json"),
        skipIgnore: true,
        compilerOptions: { module: "commonjs" },
    });
    cli = require(source);
} else {
    cli = require(compiled);
}

// A reader that stops early (`| head`) is not an error of the plan.
process.stdout.on("error", (err) => {
    if (err.code === "EPIPE") {
        process.exit(0);
    }
    throw err;
});

cli.main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
        process.stderr.write(`error: ${err && err.message ? err.message : String(err)}\n`);
        process.exit(2);
    },
);
