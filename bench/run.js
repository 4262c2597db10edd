#!/usr/bin/env node
// `npm run bench`: prints the benchmark table (bench/bench.ts).
"use strict";
const bench = require("../bin/load-entry")("bench/bench");

bench.main(process.argv.slice(2))
    .then((code) => (code === 0 && !process.argv.includes("--child") ? require("../bin/load-entry")("bench/signer").main() : code))
    .then(
    (code) => process.exit(code),
    (err) => {
        process.stderr.write(`error: ${err && err.stack ? err.stack : String(err)}\n`);
        process.exit(2);
    },
);
