#!/usr/bin/env node
// `npm run simulate`: the whole job flow on loopback (services/sim/simulate.ts).
"use strict";
const sim = require("../../bin/load-entry")("services/sim/simulate");

sim.cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
        process.stderr.write(`error: ${err && err.stack ? err.stack : String(err)}\n`);
        process.exit(2);
    },
);
