/**
 * Managed instance groups stay stateless (I1): a stateful policy or a per-instance config keeps
 * disks or IPs across instance re-creation, i.e. state that survives a build.
 *
 * MIGs take no labels, so every MIG is held to this unless its `allInstancesConfig.labels` mark it
 * signer / control-plane. Per-instance configs exist only to preserve state, so each one is flagged.
 */
import { FleetResourcePolicy } from "../../meta";
import { ROLE_LABEL } from "../../model/labels";
import { get, list, unknown } from "../../model/props";
import { allOf, forTypes, kindOf, undecided } from "../../recognisers/common";

export const INSTANCE_GROUP_MANAGER = "gcp:compute/instanceGroupManager:InstanceGroupManager";
export const REGION_INSTANCE_GROUP_MANAGER = "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager";
export const PER_INSTANCE_CONFIG_TYPES: readonly string[] = [
    "gcp:compute/perInstanceConfig:PerInstanceConfig",
    "gcp:compute/regionPerInstanceConfig:RegionPerInstanceConfig",
];

const STATEFUL_FIELDS = ["statefulDisks", "statefulInternalIps", "statefulExternalIps"] as const;

export const runnerMigStateless: FleetResourcePolicy = {
    name: "runner-mig-stateless",
    description: "[I1] Managed instance groups have no stateful disks or IPs, and no per-instance configs preserve state.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "no stateful disks/IPs on MIGs; no PerInstanceConfig",
        invariants: ["I1"],
        fix: "Remove `statefulDisks`, `statefulInternalIps`, `statefulExternalIps` from the instance group manager and delete any PerInstanceConfig / RegionPerInstanceConfig.",
    },
    validateResource: allOf(
        forTypes([INSTANCE_GROUP_MANAGER, REGION_INSTANCE_GROUP_MANAGER], (props, _args, report) => {
            const role = get(props, "allInstancesConfig", "labels", ROLE_LABEL);
            if (role === "signer" || role === "control-plane") {
                return;
            }
            for (const field of STATEFUL_FIELDS) {
                const entries = list(props, field);
                if (unknown(entries)) {
                    undecided(report, `${field} is unknown, so a stateful policy cannot be ruled out.`);
                } else if (entries.length > 0) {
                    report(`${field} makes the group stateful (${entries.length} entr${entries.length === 1 ? "y" : "ies"}): state survives instance re-creation, so builds are not isolated from earlier ones.`);
                }
            }
        }),
        forTypes(PER_INSTANCE_CONFIG_TYPES, (_props, args, report) => {
            report(`${kindOf(args.type)} preserves per-instance state (disks, IPs or metadata) in a managed instance group; runner groups must be stateless.`);
        }),
    ),
};

export const migPolicies: FleetResourcePolicy[] = [runnerMigStateless];
