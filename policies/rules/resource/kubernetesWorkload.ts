/**
 * Kubernetes runner workloads (I1, I6, I7): Pod Security `restricted` at pod and container level,
 * no host access, no persistent volumes, no service-account token.
 *
 * Applies to Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers,
 * Jobs, CronJobs, PodTemplates, ARC AutoscalingRunnerSets and Helm releases (runner pod templates
 * in `values.template.spec`); see podTemplates.ts for how runner pods are recognised.
 */
import { ReportViolation } from "@pulumi/policy";
import { FleetResourcePolicy } from "../meta";
import { get, list, unknown } from "../props";
import { boolish, forTypes, numberish, undecided } from "./common";
import { containersOf, isPodHoldingType, PodTemplateSite, podTemplateSites } from "./podTemplates";

/** Runs `check` on every runner pod spec of the resource and reports its findings, one violation per pod spec. */
function forRunnerPods(check: (site: PodTemplateSite, undecidable: (what: string) => void) => string[]) {
    return forTypes(isPodHoldingType, (props, args, report: ReportViolation) => {
        for (const site of podTemplateSites(args.type, props)) {
            if (!site.runner) {
                continue;
            }
            if (unknown(site.spec)) {
                undecided(report, `the runner pod spec at ${site.path} is unknown.`);
                continue;
            }
            const findings = check(site, (what) => undecided(report, `${site.path}: ${what}`));
            if (findings.length > 0) {
                report(`runner pod at ${site.path}: ${findings.join("; ")}.`);
            }
        }
    });
}

const ALLOWED_SECCOMP = new Set(["RuntimeDefault", "Localhost"]);

/** The effective value of a container setting that overrides the pod-level one. */
function effective<T>(containerValue: T | "unknown" | undefined, podValue: T | "unknown" | undefined): T | "unknown" | undefined {
    return containerValue !== undefined ? containerValue : podValue;
}

function podSecurityFindings(site: PodTemplateSite, undecidable: (what: string) => void): string[] {
    const spec = site.spec;
    const out: string[] = [];
    if (site.gha && site.gha.containerMode === "dind") {
        out.push(`values.containerMode.type "dind" makes the chart add a privileged docker:dind sidecar`);
    } else if (site.gha && unknown(site.gha.containerMode)) {
        undecidable("values.containerMode.type is unknown (\"dind\" adds a privileged container).");
    }
    const psc = get(spec, "securityContext");
    if (unknown(psc)) {
        undecidable("securityContext is unknown.");
        return out;
    }
    const podNonRoot = boolish(get(psc, "runAsNonRoot"));
    const podUser = numberish(get(psc, "runAsUser"));
    const podSeccomp = get(psc, "seccompProfile", "type");
    if (podUser === 0) {
        out.push("securityContext.runAsUser is 0 (root)");
    }
    if (podSeccomp === "Unconfined") {
        out.push("securityContext.seccompProfile.type is Unconfined");
    }
    const { containers, unknownLists } = containersOf(spec);
    for (const l of unknownLists) {
        undecidable(`${l} is unknown.`);
    }
    for (const { label, container } of containers) {
        const sc = get(container, "securityContext");
        if (unknown(sc)) {
            undecidable(`${label}.securityContext is unknown.`);
            continue;
        }
        const privileged = boolish(get(sc, "privileged"));
        if (privileged === true) {
            out.push(`${label} is privileged`);
        }
        const ape = boolish(get(sc, "allowPrivilegeEscalation"));
        if (ape === "unknown") {
            undecidable(`${label}.securityContext.allowPrivilegeEscalation is unknown.`);
        } else if (ape !== false) {
            out.push(`${label}.securityContext.allowPrivilegeEscalation is ${ape === undefined ? "not set" : "true"} (must be false)`);
        }
        const nonRoot = effective(boolish(get(sc, "runAsNonRoot")), podNonRoot);
        if (nonRoot === "unknown") {
            undecidable(`${label}: runAsNonRoot is unknown.`);
        } else if (nonRoot !== true) {
            out.push(`${label}: runAsNonRoot is not true at container or pod level`);
        }
        const user = numberish(get(sc, "runAsUser"));
        if (user === 0) {
            out.push(`${label}.securityContext.runAsUser is 0 (root)`);
        }
        const caps = get(sc, "capabilities");
        const drop = list(caps, "drop");
        const add = list(caps, "add");
        if (unknown(caps) || unknown(drop) || unknown(add)) {
            undecidable(`${label}.securityContext.capabilities is unknown.`);
        } else {
            if (!drop.includes("ALL")) {
                out.push(`${label}.securityContext.capabilities.drop does not include "ALL"`);
            }
            const extra = add.filter((c) => c !== "NET_BIND_SERVICE");
            if (extra.length > 0) {
                out.push(`${label}.securityContext.capabilities.add has ${extra.map((c) => JSON.stringify(c)).join(", ")} (only NET_BIND_SERVICE is allowed)`);
            }
        }
        const cSeccomp = get(sc, "seccompProfile", "type");
        const seccomp = effective(cSeccomp, podSeccomp);
        if (unknown(seccomp)) {
            undecidable(`${label}: seccompProfile.type is unknown.`);
        } else if (typeof seccomp !== "string" || !ALLOWED_SECCOMP.has(seccomp)) {
            out.push(`${label}: seccompProfile.type is ${seccomp === undefined ? "not set" : JSON.stringify(seccomp)} at container and pod level (must be RuntimeDefault or Localhost)`);
        }
        const procMount = get(sc, "procMount");
        if (typeof procMount === "string" && procMount !== "Default") {
            out.push(`${label}.securityContext.procMount is ${JSON.stringify(procMount)} (must be Default)`);
        }
    }
    return out;
}

export const k8sRunnerPodSecurity: FleetResourcePolicy = {
    name: "k8s-runner-pod-security",
    description: "[I6] Runner pods meet Pod Security restricted: not privileged, no privilege escalation, non-root, drop ALL capabilities, seccomp RuntimeDefault/Localhost.",
    enforcementLevel: "mandatory",
    meta: {
        invariants: ["I6"],
        fix: "Set pod securityContext { runAsNonRoot: true, seccompProfile: { type: \"RuntimeDefault\" } } and on every container { allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: [\"ALL\"] } }; do not use ARC dind mode.",
    },
    validateResource: forRunnerPods(podSecurityFindings),
};

function hostAccessFindings(site: PodTemplateSite, undecidable: (what: string) => void): string[] {
    const spec = site.spec;
    const out: string[] = [];
    for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
        const v = boolish(get(spec, field));
        if (v === "unknown") {
            undecidable(`${field} is unknown.`);
        } else if (v === true) {
            out.push(`${field} is true`);
        }
    }
    const volumes = list(spec, "volumes");
    if (unknown(volumes)) {
        undecidable("volumes is unknown, so hostPath volumes cannot be ruled out.");
    } else {
        volumes.forEach((_v, i) => {
            const hostPath = get(volumes, i, "hostPath");
            if (hostPath !== undefined && hostPath !== null) {
                out.push(`volumes[${i}]${nameOf(volumes[i])} is a hostPath volume`);
            }
        });
    }
    if (boolish(get(spec, "securityContext", "windowsOptions", "hostProcess")) === true) {
        out.push("securityContext.windowsOptions.hostProcess is true");
    }
    const { containers, unknownLists } = containersOf(spec);
    for (const l of unknownLists) {
        undecidable(`${l} is unknown.`);
    }
    for (const { label, container } of containers) {
        const ports = list(container, "ports");
        if (unknown(ports)) {
            undecidable(`${label}.ports is unknown.`);
        } else {
            ports.forEach((_p, i) => {
                const hostPort = numberish(get(ports, i, "hostPort"));
                if (hostPort === "unknown") {
                    undecidable(`${label}.ports[${i}].hostPort is unknown.`);
                } else if (hostPort !== undefined && hostPort !== 0) {
                    out.push(`${label}.ports[${i}].hostPort is ${hostPort}`);
                }
            });
        }
        if (boolish(get(container, "securityContext", "windowsOptions", "hostProcess")) === true) {
            out.push(`${label}.securityContext.windowsOptions.hostProcess is true`);
        }
    }
    return out;
}

export const k8sRunnerNoHostAccess: FleetResourcePolicy = {
    name: "k8s-runner-no-host-access",
    description: "[I6] Runner pods have no host access: no hostNetwork, hostPID, hostIPC, hostPath volumes or hostPort.",
    enforcementLevel: "mandatory",
    meta: {
        invariants: ["I6"],
        fix: "Remove hostNetwork/hostPID/hostIPC, hostPath volumes and hostPort from the runner pod; use emptyDir for scratch space.",
    },
    validateResource: forRunnerPods(hostAccessFindings),
};

function nameOf(volume: unknown): string {
    const n = get(volume, "name");
    return typeof n === "string" ? ` "${n}"` : "";
}

function persistentVolumeFindings(site: PodTemplateSite, undecidable: (what: string) => void): string[] {
    const out: string[] = [];
    if (site.gha && site.gha.containerMode === "kubernetes") {
        out.push(`values.containerMode.type "kubernetes" makes the chart mount a work volume claim (kubernetesModeWorkVolumeClaim)`);
    }
    const volumes = list(site.spec, "volumes");
    if (unknown(volumes)) {
        undecidable("volumes is unknown, so persistent volumes cannot be ruled out.");
    } else {
        volumes.forEach((v, i) => {
            const pvc = get(volumes, i, "persistentVolumeClaim");
            if (pvc !== undefined && pvc !== null) {
                out.push(`volumes[${i}]${nameOf(v)} is a persistentVolumeClaim`);
            }
            const ephemeralClaim = get(volumes, i, "ephemeral", "volumeClaimTemplate");
            if (ephemeralClaim !== undefined && ephemeralClaim !== null) {
                out.push(`volumes[${i}]${nameOf(v)} is an ephemeral volumeClaimTemplate (a provisioned persistent disk)`);
            }
        });
    }
    if (site.volumeClaimTemplates !== undefined) {
        const vcts = list(site.volumeClaimTemplates);
        if (unknown(vcts)) {
            undecidable("spec.volumeClaimTemplates is unknown.");
        } else if (vcts.length > 0) {
            out.push(`spec.volumeClaimTemplates has ${vcts.length} claim(s): each replica keeps a persistent volume across pods`);
        }
    }
    return out;
}

export const k8sRunnerNoPersistentVolumes: FleetResourcePolicy = {
    name: "k8s-runner-no-persistent-volumes",
    description: "[I1] Runner pods mount no persistent volumes: no PVC volumes, no ephemeral volume claims, no StatefulSet volumeClaimTemplates.",
    enforcementLevel: "mandatory",
    meta: {
        invariants: ["I1"],
        fix: "Use emptyDir volumes for the runner's work directory; remove persistentVolumeClaim / ephemeral claim volumes and StatefulSet volumeClaimTemplates.",
    },
    validateResource: forRunnerPods(persistentVolumeFindings),
};

function saTokenFindings(site: PodTemplateSite, undecidable: (what: string) => void): string[] {
    const v = boolish(get(site.spec, "automountServiceAccountToken"));
    if (v === "unknown") {
        undecidable("automountServiceAccountToken is unknown.");
        return [];
    }
    return v === false ? [] : [`automountServiceAccountToken is ${v === undefined ? "not set (defaults to true)" : "true"}; the build could use the pod's service-account token`];
}

export const k8sRunnerNoSaToken: FleetResourcePolicy = {
    name: "k8s-runner-no-sa-token",
    description: "[I7] Runner pods do not mount a service-account token (automountServiceAccountToken false at pod level).",
    enforcementLevel: "mandatory",
    meta: {
        invariants: ["I7"],
        fix: "Set `automountServiceAccountToken: false` in the runner pod spec.",
    },
    validateResource: forRunnerPods(saTokenFindings),
};

export const kubernetesWorkloadPolicies: FleetResourcePolicy[] = [
    k8sRunnerPodSecurity,
    k8sRunnerNoHostAccess,
    k8sRunnerNoPersistentVolumes,
    k8sRunnerNoSaToken,
];
