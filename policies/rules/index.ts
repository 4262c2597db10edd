/**
 * The pack's rules, side-effect free so other packs can import and reuse them:
 * `import { policies } from "hardened-build-fleet/policies"`.
 */
import { kubernetesStackPolicies } from "./kubernetes";
import { FleetPolicy, withSdkMetadata } from "../meta";
import { resourcePolicies } from "./resource";
import { stackPolicies } from "./stack";

export { kubernetesStackPolicies, resourcePolicies, stackPolicies };
export * from "../meta";
export * from "../model/labels";

/** Every rule of the pack: per-resource rules first, then stack rules. */
export const policies: FleetPolicy[] = [...resourcePolicies, ...stackPolicies, ...kubernetesStackPolicies].map(withSdkMetadata);
