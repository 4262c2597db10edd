#!/usr/bin/env node
// Entry point of `npx hardened-build-fleet-plan` / `npm run plan`. Exit code from main(): 0, 1 or 2.
"use strict";
const cli = require("./load-entry")("plan/cli");

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
