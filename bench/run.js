#!/usr/bin/env node
// `npm run bench`: the compiled benchmark when dist/ exists, else the TypeScript sources through ts-node.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const compiled = path.join(root, "dist", "bench", "bench.js");
let bench;
if (fs.existsSync(compiled)) {
    bench = require(compiled);
} else {
    require("ts-node").register({ transpileOnly: true, project: path.join(root, "tsconfig.json"), skipIgnore: true, compilerOptions: { module: "commonjs" } });
    bench = require(path.join(root, "bench", "bench.ts"));
}

bench.main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
        process.stderr.write(`error: ${err && err.stack ? err.stack : String(err)}\n`);
        process.exit(2);
    },
);
