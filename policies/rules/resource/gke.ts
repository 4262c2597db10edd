/**
 * GKE (I6, I7): hardened clusters, and runner node pools running gVisor with the GKE metadata
 * server, shielded nodes and their own service account.
 *
 * Node pools are checked as `gcp:container/nodePool:NodePool` resources and where they are inlined
 * in a cluster (`nodePools[]`, and the default pool's `nodeConfig` unless `removeDefaultNodePool`).
 * A pool is a runner pool when labelled `build-fleet-role=runner` or unlabelled (fail closed).
 * The one non-sandboxed system pool GKE Sandbox requires is recognised narrowly (see
 * isTaintedSystemPool) and still held to every other check.
 */
import { ReportViolation } from "@pulumi/policy/policy";
import { FleetResourcePolicy } from "../../meta";
import { ROLE_LABEL } from "../../model/labels";
import { get, list, unknown } from "../../model/props";
import { isDefaultComputeSa } from "./compute";
import { allOf, boolish, forTypes, isExplicitlyNonRunner, undecided } from "../../recognisers/common";

export const CLUSTER = "gcp:container/cluster:Cluster";
export const NODE_POOL = "gcp:container/nodePool:NodePool";

export const gkeClusterHardened: FleetResourcePolicy = {
    name: "gke-cluster-hardened",
    description: "[I6] GKE clusters have private nodes, Workload Identity, shielded nodes, network policy or Dataplane V2, no legacy ABAC and no client certificate.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "private nodes, no public control-plane endpoint, Workload Identity, shielded nodes, Dataplane V2 or network policy, no legacy ABAC, no client certificate",
        invariants: ["I6"],
        fix: "Set privateClusterConfig.enablePrivateNodes and enablePrivateEndpoint, workloadIdentityConfig.workloadPool, keep enableShieldedNodes, use datapathProvider \"ADVANCED_DATAPATH\" (or networkPolicy.enabled), and leave enableLegacyAbac and issueClientCertificate off.",
    },
    validateResource: forTypes([CLUSTER], (props, _args, report) => {
        const autopilot = boolish(get(props, "enableAutopilot")) === true;
        const missing: string[] = [];
        const check = (value: unknown, ok: (v: unknown) => boolean, label: string) => {
            if (unknown(value)) {
                undecided(report, `${label} is unknown.`);
            } else if (!ok(value)) {
                missing.push(label);
            }
        };
        check(get(props, "privateClusterConfig", "enablePrivateNodes"), (v) => boolish(v) === true, "private nodes (privateClusterConfig.enablePrivateNodes)");
        if (!autopilot) {
            // Autopilot always runs Workload Identity, shielded nodes and Dataplane V2.
            const pool = get(props, "workloadIdentityConfig", "workloadPool");
            if (!unknown(pool) && !(typeof pool === "string" && pool !== "")) {
                missing.push("Workload Identity (workloadIdentityConfig.workloadPool)");
            }
            check(get(props, "enableShieldedNodes"), (v) => boolish(v) !== false, "shielded nodes (enableShieldedNodes is false)");
            const datapath = get(props, "datapathProvider");
            const netpol = get(props, "networkPolicy", "enabled");
            if (datapath !== "ADVANCED_DATAPATH" && boolish(netpol) !== true) {
                if (unknown(datapath) || unknown(netpol)) {
                    undecided(report, "datapathProvider / networkPolicy.enabled is unknown.");
                } else {
                    missing.push("network policy enforcement (networkPolicy.enabled or datapathProvider \"ADVANCED_DATAPATH\")");
                }
            }
        }
        // No public control-plane endpoint: private endpoint on, or the public IP endpoint turned off.
        const privateEndpoint = get(props, "privateClusterConfig", "enablePrivateEndpoint");
        const publicIp = get(props, "controlPlaneEndpointsConfig", "ipEndpointsConfig", "enablePublicEndpoint");
        const ipEndpoints = get(props, "controlPlaneEndpointsConfig", "ipEndpointsConfig", "enabled");
        if (boolish(privateEndpoint) !== true && boolish(publicIp) !== false && boolish(ipEndpoints) !== false) {
            if (unknown(privateEndpoint) || unknown(publicIp) || unknown(ipEndpoints)) {
                undecided(report, "whether the control plane has a public endpoint is unknown.");
            } else {
                missing.push("no public control-plane endpoint (privateClusterConfig.enablePrivateEndpoint or controlPlaneEndpointsConfig.ipEndpointsConfig.enablePublicEndpoint: false)");
            }
        }
        check(get(props, "enableLegacyAbac"), (v) => boolish(v) !== true, "no legacy ABAC (enableLegacyAbac is true)");
        check(
            get(props, "masterAuth", "clientCertificateConfig", "issueClientCertificate"),
            (v) => boolish(v) !== true,
            "no client certificate (masterAuth.clientCertificateConfig.issueClientCertificate is true)",
        );
        if (missing.length > 0) {
            report(`GKE cluster is missing hardening controls: ${missing.join("; ")}.`);
        }
    }),
};

/**
 * Node label marking a pool's node class (components/runnerPool/podTemplate.ts NODE_CLASS_LABEL); the
 * value "system" marks the non-sandboxed pool GKE Sandbox requires for system pods.
 */
export const NODE_CLASS_LABEL = "build-fleet-node-class";

/**
 * GKE Sandbox needs at least one node pool without gVisor for system pods (kube-dns, the ARC
 * controller and listener). Such a pool is exempt from the gVisor check only (every other check
 * still applies) when it is marked `build-fleet-node-class=system` AND tainted NoSchedule/NoExecute,
 * so pods that do not tolerate the taint (runner pods) cannot land on it.
 */
function isTaintedSystemPool(nodeConfig: unknown): boolean {
    if (get(nodeConfig, "labels", NODE_CLASS_LABEL) !== "system") {
        return false;
    }
    const taints = list(nodeConfig, "taints");
    return !unknown(taints) && taints.some((t) => ["NO_SCHEDULE", "NO_EXECUTE"].includes(get(t, "effect")));
}

/** Findings for one node config (`nodeConfig` of a pool); `where` prefixes each path. */
function nodeConfigFindings(nodeConfig: unknown, where: string, report: ReportViolation): string[] {
    if (unknown(nodeConfig)) {
        undecided(report, `${where} is unknown.`);
        return [];
    }
    const out: string[] = [];
    const sandbox = get(nodeConfig, "sandboxConfig");
    const sandboxType = get(sandbox, "type");
    const sandboxTypeLegacy = get(sandbox, "sandboxType");
    const isGvisor = (v: unknown) => typeof v === "string" && v.toLowerCase() === "gvisor";
    if (!isGvisor(sandboxType) && !isGvisor(sandboxTypeLegacy) && !isTaintedSystemPool(nodeConfig)) {
        if (unknown(sandbox) || unknown(sandboxType) || unknown(sandboxTypeLegacy)) {
            undecided(report, `${where}.sandboxConfig is unknown.`);
        } else {
            out.push(`${where}.sandboxConfig.type is not "GVISOR" (runner pods must run in the gVisor sandbox)`);
        }
    }
    const mode = get(nodeConfig, "workloadMetadataConfig", "mode");
    if (unknown(mode)) {
        undecided(report, `${where}.workloadMetadataConfig.mode is unknown.`);
    } else if (mode !== "GKE_METADATA") {
        out.push(`${where}.workloadMetadataConfig.mode is ${mode === undefined ? "not set" : JSON.stringify(mode)}, not "GKE_METADATA" (pods could read node credentials from the metadata server)`);
    }
    const shielded = get(nodeConfig, "shieldedInstanceConfig");
    const secureBoot = boolish(get(shielded, "enableSecureBoot"));
    const integrity = boolish(get(shielded, "enableIntegrityMonitoring"));
    if (unknown(shielded) || secureBoot === "unknown" || integrity === "unknown") {
        undecided(report, `${where}.shieldedInstanceConfig is unknown.`);
    } else {
        if (secureBoot !== true) {
            out.push(`${where}.shieldedInstanceConfig.enableSecureBoot is not true (defaults to false)`);
        }
        if (integrity === false) {
            out.push(`${where}.shieldedInstanceConfig.enableIntegrityMonitoring is false`);
        }
    }
    const sa = get(nodeConfig, "serviceAccount");
    if (!unknown(sa) && (sa === undefined || sa === null || isDefaultComputeSa(sa))) {
        out.push(`${where}.serviceAccount is ${sa === undefined || sa === null ? "not set (GKE then uses the default compute service account)" : JSON.stringify(sa)}; nodes need their own least-privilege service account`);
    }
    return out;
}

export const gkeRunnerNodePoolHardened: FleetResourcePolicy = {
    name: "gke-runner-node-pool-hardened",
    description: "[I6] GKE runner node pools run gVisor, the GKE metadata server, shielded nodes and a non-default service account.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "gVisor, `GKE_METADATA`, secure boot and integrity monitoring, non-default SA (standalone and inline pools); a runner Autopilot cluster names a non-default node SA in `clusterAutoscaling.autoProvisioningDefaults.serviceAccount`",
        invariants: ["I6", "I7"],
        fix: "In nodeConfig set sandboxConfig.type \"GVISOR\", workloadMetadataConfig.mode \"GKE_METADATA\", shieldedInstanceConfig { enableSecureBoot: true, enableIntegrityMonitoring: true } and serviceAccount to the pool's own service account.",
    },
    validateResource: allOf(
        forTypes([NODE_POOL], (props, args, report) => {
            if (isExplicitlyNonRunner(args.type, props)) {
                return;
            }
            const findings = nodeConfigFindings(get(props, "nodeConfig"), "nodeConfig", report);
            if (findings.length > 0) {
                report(`runner node pool is not hardened: ${findings.join("; ")}.`);
            }
        }),
        forTypes([CLUSTER], (props, _args, report) => {
            if (isExplicitlyNonRunner(CLUSTER, props)) {
                return;
            }
            // Autopilot has no user-managed node pools (gVisor is chosen per pod via runtimeClassName), but
            // its nodes run as the default compute service account unless autoProvisioningDefaults names one.
            const autopilot = boolish(get(props, "enableAutopilot"));
            if (autopilot === "unknown") {
                undecided(report, "enableAutopilot is unknown.");
                return;
            }
            if (autopilot === true) {
                const sa = get(props, "clusterAutoscaling", "autoProvisioningDefaults", "serviceAccount");
                // As for node pools: an account unknown during a preview is another resource's output, never the default one.
                if (!unknown(sa) && (sa === undefined || sa === null || sa === "" || isDefaultComputeSa(sa))) {
                    report(`runner Autopilot cluster's nodes run as ${sa ? JSON.stringify(sa) : "the default compute service account (clusterAutoscaling.autoProvisioningDefaults.serviceAccount is not set)"}; ` +
                        "Autopilot nodes need their own least-privilege service account.");
                }
                return;
            }
            const findings: string[] = [];
            const pools = list(props, "nodePools");
            if (unknown(pools)) {
                undecided(report, "nodePools is unknown.");
            } else {
                pools.forEach((_p, i) => {
                    const poolRole = get(pools, i, "nodeConfig", "resourceLabels", ROLE_LABEL) ?? get(pools, i, "nodeConfig", "labels", ROLE_LABEL);
                    if (poolRole === "signer" || poolRole === "control-plane") {
                        return;
                    }
                    findings.push(...nodeConfigFindings(get(pools, i, "nodeConfig") ?? {}, `nodePools[${i}].nodeConfig`, report));
                });
            }
            // The default pool exists unless removed, or replaced by inline nodePools.
            const removeDefault = boolish(get(props, "removeDefaultNodePool")) === true;
            const hasInlinePools = !unknown(pools) && pools.length > 0;
            const nodeConfig = get(props, "nodeConfig");
            if (!removeDefault && (!hasInlinePools || nodeConfig !== undefined)) {
                findings.push(...nodeConfigFindings(nodeConfig ?? {}, "nodeConfig (default node pool)", report));
            }
            if (findings.length > 0) {
                report(`runner node pool inlined in the cluster is not hardened: ${findings.join("; ")}.`);
            }
        }),
    ),
};

export const gkePolicies: FleetResourcePolicy[] = [gkeClusterHardened, gkeRunnerNodePoolHardened];
