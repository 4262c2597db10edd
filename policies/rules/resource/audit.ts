/**
 * Network audit trail (I12): VPC flow logs on every private subnet, and Cloud NAT logging, so the
 * traffic of every build can be traced afterwards.
 */
import { FleetResourcePolicy } from "../../meta";
import { get, unknown } from "../../model/props";
import { boolish, forTypes, numberish, undecided } from "../../recognisers/common";

export const SUBNETWORK = "gcp:compute/subnetwork:Subnetwork";
export const ROUTER_NAT = "gcp:compute/routerNat:RouterNat";
/** Subnet purposes that carry VM traffic and support flow logs (absent = PRIVATE). */
const FLOW_LOG_PURPOSES = new Set(["PRIVATE", "PRIVATE_RFC_1918"]);

export const subnetFlowLogs: FleetResourcePolicy = {
    name: "subnet-flow-logs",
    description: "[I12] Private subnets have VPC flow logs enabled (logConfig set, sampling above 0).",
    enforcementLevel: "mandatory",
    meta: {
        checks: "private subnets have `logConfig` with sampling > 0 and no `filterExpr` other than `true`",
        invariants: ["I12"],
        fix: "Set `logConfig: { aggregationInterval: \"INTERVAL_5_SEC\", flowSampling: 1, metadata: \"INCLUDE_ALL_METADATA\" }` on the subnet.",
    },
    validateResource: forTypes([SUBNETWORK], (props, _args, report) => {
        const purpose = get(props, "purpose");
        if (unknown(purpose)) {
            undecided(report, "purpose is unknown, so it is not known whether flow logs apply.");
            return;
        }
        if (purpose !== undefined && purpose !== null && !FLOW_LOG_PURPOSES.has(String(purpose))) {
            return; // proxy-only, PSC and private-NAT subnets carry no VM flows
        }
        const logConfig = get(props, "logConfig");
        if (unknown(logConfig)) {
            undecided(report, "logConfig is unknown.");
        } else if (logConfig === undefined || logConfig === null) {
            report("subnet has no logConfig, so VPC flow logs are off; enable them for the build audit trail.");
        } else {
            const sampling = numberish(get(logConfig, "flowSampling"));
            if (sampling === 0) {
                report("logConfig.flowSampling is 0, so no flows are logged.");
            }
            const filter = get(logConfig, "filterExpr");
            if (unknown(filter)) {
                undecided(report, "logConfig.filterExpr is unknown.");
            } else if (typeof filter === "string" && filter.trim() !== "" && filter.trim() !== "true") {
                report(`logConfig.filterExpr ${JSON.stringify(filter)} drops flows from the log; the audit trail needs every flow (leave it unset or "true").`);
            }
        }
    }),
};

export const natLogging: FleetResourcePolicy = {
    name: "nat-logging",
    description: "[I12] Cloud NAT gateways log every translation and error (logConfig.enable true, filter ALL).",
    enforcementLevel: "mandatory",
    meta: {
        checks: "`RouterNat.logConfig.enable` true and `logConfig.filter` `ALL` (not `ERRORS_ONLY` or `TRANSLATIONS_ONLY`)",
        invariants: ["I12"],
        fix: "Set `logConfig: { enable: true, filter: \"ALL\" }` on the RouterNat.",
    },
    validateResource: forTypes([ROUTER_NAT], (props, _args, report) => {
        const enable = boolish(get(props, "logConfig", "enable"));
        if (enable === "unknown") {
            undecided(report, "logConfig.enable is unknown.");
        } else if (enable !== true) {
            report(`NAT logging is off (logConfig${get(props, "logConfig") === undefined ? " absent" : ".enable not true"}); egress of builds through this NAT would leave no trail.`);
        } else {
            // ERRORS_ONLY and TRANSLATIONS_ONLY each drop one half of the trail.
            const filter = get(props, "logConfig", "filter");
            if (unknown(filter)) {
                undecided(report, "logConfig.filter is unknown.");
            } else if (filter !== "ALL") {
                report(`NAT logging filter is ${JSON.stringify(filter ?? null)}, not "ALL": ${filter === "ERRORS_ONLY" ? "successful translations (every connection a build made)" : "dropped connections"} leave no trail.`);
            }
        }
    }),
};

export const auditPolicies: FleetResourcePolicy[] = [subnetFlowLogs, natLogging];
