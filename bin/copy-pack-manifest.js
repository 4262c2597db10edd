#!/usr/bin/env node
// Part of `npm run build`: puts the pack manifest beside the compiled pack, so an installed package's
// dist/policies is a policy pack directory: pulumi preview --policy-pack node_modules/hardened-build-fleet/dist/policies
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
fs.copyFileSync(path.join(root, "policies", "PulumiPolicy.yaml"), path.join(root, "dist", "policies", "PulumiPolicy.yaml"));
