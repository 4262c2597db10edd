#!/usr/bin/env node
// `npm run bench`: prints the benchmark table (bench/bench.ts), the local signer's figures
// (bench/signer.ts), then the control-plane figures (bench/controlPlane.ts);
// `npm run bench -- control-plane [options]` prints only the last.
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
        const signer = await load("bench/signer").main();
        if (signer !== 0) {
            return signer;
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
