#!/usr/bin/env node
// `npm run bench`: prints the benchmark table (bench/bench.ts), then the control-plane figures
// (bench/controlPlane.ts); `npm run bench -- control-plane [options]` prints only the latter.
"use strict";
const load = require("../bin/load-entry");

const argv = process.argv.slice(2);
const controlPlaneOnly = argv[0] === "control-plane";

async function run() {
    if (!controlPlaneOnly) {
        const code = await load("bench/bench").main(argv);
        if (code !== 0 || argv.includes("--child")) {
            return code;
        }
    }
    return load("bench/controlPlane").main(controlPlaneOnly ? argv.slice(1) : []);
}

run().then(
    (code) => process.exit(code),
    (err) => {
        process.stderr.write(`error: ${err && err.stack ? err.stack : String(err)}\n`);
        process.exit(2);
    },
);
