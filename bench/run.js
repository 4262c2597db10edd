#!/usr/bin/env node
// `npm run bench`: prints the benchmark table (bench/bench.ts), the local signer's figures
// (bench/signer.ts), the control-plane figures (bench/controlPlane.ts), then its cost at organization
// scale (bench/scale.ts); `npm run bench -- control-plane [options]`, `-- scale [options]` or `-- signer` prints only one;
// `npm run bench -- images` prints the generator's memory publishing a small and a large image (bench/imageMemory.ts).
"use strict";
const load = require("../bin/load-entry");

const argv = process.argv.slice(2);
const controlPlaneOnly = argv[0] === "control-plane";

// Every part runs even when an earlier one missed a target; the exit code is non-zero when any did.
async function run() {
    if (controlPlaneOnly) {
        return load("bench/controlPlane").main(argv.slice(1));
    }
    if (argv[0] === "scale") {
        return load("bench/scale").main(argv.slice(1));
    }
    if (argv[0] === "signer") {
        return load("bench/signer").main();
    }
    if (argv[0] === "images") {
        return load("bench/imageMemory").main(argv.slice(1));
    }
    const plan = await load("bench/bench").main(argv);
    if (argv.includes("--child") || argv.includes("--floor-only")) {
        return plan;
    }
    const signer = await load("bench/signer").main();
    const controlPlane = await load("bench/controlPlane").main([]);
    const scale = await load("bench/scale").main([]);
    return [plan, signer, controlPlane, scale].find((code) => code !== 0) ?? 0;
}

run().then(
    (code) => process.exit(code),
    (err) => {
        process.stderr.write(`error: ${err && err.stack ? err.stack : String(err)}\n`);
        process.exit(2);
    },
);
