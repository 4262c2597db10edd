#!/usr/bin/env node
// `npm run bench`: the TypeScript sources through ts-node when present, else the compiled dist/.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const source = path.join(root, "bench", "bench.ts");
const compiled = path.join(root, "dist", "bench", "bench.js");
let bench;
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
    bench = require(source);
} else {
    bench = require(compiled);
}

bench.main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
        process.stderr.write(`error: ${err && err.stack ? err.stack : String(err)}\n`);
        process.exit(2);
    },
);
