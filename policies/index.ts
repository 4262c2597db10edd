// The CrossGuard entry point for `pulumi preview --policy-pack policies`. Rules live in ./rules.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("hardened-build-fleet", { policies });
