#!/usr/bin/env node
// Entry point of `npx hardened-build-fleet-verify`. Exit code from main(): 0 verified, 1 not verified, 2 bad input.
"use strict";
const cli = require("./load-entry")("services/verify/verify");

cli.main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
        process.stderr.write(`error: ${err && err.message ? err.message : String(err)}\n`);
        process.exit(2);
    },
);
