#!/usr/bin/env node
// Part of `npm run build`: puts the pack manifest beside the compiled pack, so an installed package's
// dist/policies is a policy pack directory: pulumi preview --policy-pack node_modules/hardened-build-fleet/dist/policies
// It also ships the lockfile inside the services image's build context (services/image-lock.json): npm never
// packs package-lock.json, and the image must install exactly the locked dependencies.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
fs.copyFileSync(path.join(root, "policies", "PulumiPolicy.yaml"), path.join(root, "dist", "policies", "PulumiPolicy.yaml"));
fs.copyFileSync(path.join(root, "package-lock.json"), path.join(root, "services", "image-lock.json"));
