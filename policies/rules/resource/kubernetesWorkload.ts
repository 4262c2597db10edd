/**
 * Kubernetes runner workloads (I1, I2, I6, I7): Pod Security `restricted` at pod and container level,
 * no host access, no persistent volumes, no service-account token, a bounded lifetime, and no
 * secrets in the pod.
 *
 * Applies to Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers,
 * Jobs, CronJobs, PodTemplates, ARC AutoscalingRunnerSets and Helm releases (runner pod templates
 * in `values.template.spec`); see podTemplates.ts for how runner pods are recognised.
 */
import { ReportViolation, ResourceValidationArgs } from "@pulumi/policy/policy";
import { FleetResourcePolicy } from "../../meta";
import { get, list, unknown } from "../../model/props";
import { boolish, DEFAULT_MAX_BUILD_SECONDS, forTypes, maxBuildDurationSchema, numberish, undecided } from "../../recognisers/common";
import { hasValue, isSecretName } from "../../recognisers/credentials";
import { credentialInText as credentialIn } from "../../recognisers/kubernetesCredentials";
import { BROKER_TOKEN_AUDIENCE, BROKER_TOKEN_EXPIRATION_SECONDS } from "../../../components/runnerPool/podTemplate";
import { containersOf, isPodHoldingType, LONG_RUNNING_KINDS, PodTemplateSite, podTemplateSites } from "../../recognisers/podTemplates";

/** Runs `check` on every runner pod spec of the resource and reports its findings, one violation per pod spec. */
export function forRunnerPods(check: (site: PodTemplateSite, undecidable: (what: string) => void, args: ResourceValidationArgs) => string[]) {
    return forTypes(isPodHoldingType, (props, args, report: ReportViolation) => {
        for (const site of podTemplateSites(args.type, props)) {
            if (!site.runner) {
                continue;
            }
            if (unknown(site.spec)) {
                undecided(report, `the runner pod spec at ${site.path} is unknown.`);
                continue;
            }
            const findings = check(site, (what) => undecided(report, `${site.path}: ${what}`), args);
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

export function podSecurityFindings(site: PodTemplateSite, undecidable: (what: string) => void): string[] {
    const spec = site.spec;
    const out: string[] = [];
    if (site.gha && site.gha.containerMode === "dind") {
        out.push(`values.containerMode.type "dind" makes the chart add a privileged docker:dind sidecar`);
    } else if (site.gha && unknown(site.gha.containerMode)) {
        undecidable("values.containerMode.type is unknown (\"dind\" adds a privileged container).");
    }
    if (site.legacy) {
        out.push(...legacyDockerFindings(site.legacy, undecidable));
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

/**
 * Legacy ARC (actions.summerwind.dev) adds a privileged `docker` sidecar unless `dockerEnabled: false`,
 * and `dockerdWithinRunnerContainer: true` makes the runner container itself privileged.
 */
function legacyDockerFindings(legacy: { config: any; path: string }, undecidable: (what: string) => void): string[] {
    const out: string[] = [];
    const docker = boolish(get(legacy.config, "dockerEnabled"));
    const within = boolish(get(legacy.config, "dockerdWithinRunnerContainer"));
    if (docker === "unknown" || within === "unknown") {
        undecidable(`${legacy.path}.dockerEnabled / dockerdWithinRunnerContainer is unknown (legacy ARC runs a privileged Docker daemon by default).`);
        return out;
    }
    if (within === true) {
        out.push(`${legacy.path}.dockerdWithinRunnerContainer is true: the runner container runs privileged with its own Docker daemon`);
    } else if (docker !== false) {
        out.push(`${legacy.path}.dockerEnabled is ${docker === undefined ? "not set (defaults to true)" : "true"}: legacy ARC adds a privileged docker sidecar`);
    }
    return out;
}

export const k8sRunnerPodSecurity: FleetResourcePolicy = {
    name: "k8s-runner-pod-security",
    description: "[I6] Runner pods meet Pod Security restricted: not privileged, no privilege escalation, non-root, drop ALL capabilities, seccomp RuntimeDefault/Localhost.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "restricted profile at pod and container level: not privileged, no escalation, non-root, drop ALL, seccomp RuntimeDefault/Localhost; no ARC dind; legacy ARC (`actions.summerwind.dev`) without `dockerEnabled: false` or with `dockerdWithinRunnerContainer`",
        invariants: ["I6"],
        fix: "Set pod securityContext { runAsNonRoot: true, seccompProfile: { type: \"RuntimeDefault\" } } and on every container { allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: [\"ALL\"] } }; do not use ARC dind mode.",
    },
    validateResource: forRunnerPods(podSecurityFindings),
};

export function hostAccessFindings(site: PodTemplateSite, undecidable: (what: string) => void): string[] {
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
        checks: "no hostNetwork/PID/IPC, hostPath, hostPort",
        invariants: ["I6"],
        fix: "Remove hostNetwork/hostPID/hostIPC, hostPath volumes and hostPort from the runner pod; use emptyDir for scratch space.",
    },
    validateResource: forRunnerPods(hostAccessFindings),
};

function nameOf(volume: unknown): string {
    const n = get(volume, "name");
    return typeof n === "string" ? ` "${n}"` : "";
}

/** Volume sources that live and die with the pod (or are read-only projections of the API). */
const POD_LOCAL_VOLUMES: ReadonlySet<string> = new Set(["emptyDir", "configMap", "secret", "projected", "downwardAPI", "image"]);

export function persistentVolumeFindings(site: PodTemplateSite, undecidable: (what: string) => void): string[] {
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
            // An allow-list, not a deny-list: any other source (csi, nfs, iscsi, a cloud disk...) is storage that outlives the pod or is shared.
            const sources = v && typeof v === "object" ? Object.keys(v).filter((k) => k !== "name" && (v as Record<string, unknown>)[k] !== undefined && (v as Record<string, unknown>)[k] !== null) : [];
            for (const src of sources.filter((k) => !POD_LOCAL_VOLUMES.has(k) && k !== "persistentVolumeClaim" && k !== "ephemeral" && k !== "hostPath")) {
                out.push(`volumes[${i}]${nameOf(v)} is a ${src} volume: storage outside the pod, shared or kept across builds (allowed: ${[...POD_LOCAL_VOLUMES].join(", ")})`);
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
    description: "[I1] Runner pods mount no persistent or shared volumes: only pod-local sources (emptyDir, configMap, secret, projected, downwardAPI, image); no PVC, ephemeral claims, CSI, NFS or other network volumes, no StatefulSet volumeClaimTemplates.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "volumes are pod-local only (`emptyDir`, `configMap`, `secret`, `projected`, `downwardAPI`, `image`; `hostPath` is k8s-runner-no-host-access's): no PVC or ephemeral claims, no `csi`, `nfs` or other network or cloud volumes, no StatefulSet volumeClaimTemplates, no ARC kubernetes mode",
        invariants: ["I1"],
        fix: "Use emptyDir volumes for the runner's work directory; remove persistentVolumeClaim / ephemeral claim volumes and StatefulSet volumeClaimTemplates.",
    },
    validateResource: forRunnerPods(persistentVolumeFindings),
};

/** Pack config of k8s-runner-no-sa-token: the one projected token a runner pod may carry. */
export interface BrokerTokenConfig {
    brokerAudience?: string;
    maxTokenExpirationSeconds?: number;
}

/**
 * Why a projected serviceAccountToken source is not the broker token (undefined when it is).
 * Only a token for the broker's audience alone, living at most `maxExpiry` seconds, is allowed: without an
 * audience the token is the API server's (the cluster's default audience), and without expirationSeconds
 * it lives an hour.
 */
function brokerTokenProblem(token: unknown, audience: string, maxExpiry: number): string | undefined {
    const aud = get(token, "audience");
    const exp = numberish(get(token, "expirationSeconds"));
    // The broker token's audience and lifetime are literals: a value only known after the update is never it.
    if (unknown(aud)) {
        return "has an audience that is unknown until the update, so it cannot be shown to be the broker's";
    }
    if (exp === "unknown") {
        return "has an expirationSeconds that is unknown until the update, so it cannot be shown to be short";
    }
    if (aud === undefined || aud === null || aud === "") {
        return "has no audience, so the API server accepts it (the cluster's default audience)";
    }
    if (aud !== audience) {
        return `is for audience ${JSON.stringify(aud)}, not the registration broker's ${JSON.stringify(audience)}`;
    }
    if (exp === undefined) {
        return `sets no expirationSeconds (an hour by default), above ${maxExpiry}`;
    }
    if (exp > maxExpiry) {
        return `lives ${exp} seconds, above ${maxExpiry} (maxTokenExpirationSeconds)`;
    }
    return undefined;
}

export function saTokenFindings(site: PodTemplateSite, undecidable: (what: string) => void, args?: ResourceValidationArgs): string[] {
    const config = args?.getConfig<BrokerTokenConfig>() ?? {};
    const audience = config.brokerAudience ?? BROKER_TOKEN_AUDIENCE;
    const maxExpiry = config.maxTokenExpirationSeconds ?? BROKER_TOKEN_EXPIRATION_SECONDS;
    const out: string[] = [];
    const v = boolish(get(site.spec, "automountServiceAccountToken"));
    if (v === "unknown") {
        undecidable("automountServiceAccountToken is unknown.");
    } else if (v !== false) {
        out.push(`automountServiceAccountToken is ${v === undefined ? "not set (defaults to true)" : "true"}; the build could use the pod's service-account token`);
    }
    if (site.gha && (site.gha.containerMode === "kubernetes" || site.gha.containerMode === "kubernetes-novolume")) {
        out.push(`values.containerMode.type ${JSON.stringify(site.gha.containerMode)} gives the runner's service account a Role over pods, pods/exec and secrets and needs its token in the pod`);
    }
    // A projected serviceAccountToken source mounts a token whatever automountServiceAccountToken says:
    // only the broker token (its audience alone, short-lived) is allowed, and only once.
    const volumes = list(site.spec, "volumes");
    if (unknown(volumes)) {
        undecidable("volumes is unknown, so a projected service-account token cannot be ruled out.");
        return out;
    }
    const brokerTokens: string[] = [];
    volumes.forEach((vol, i) => {
        const sources = list(vol, "projected", "sources");
        if (unknown(sources)) {
            undecidable(`volumes[${i}]${nameOf(vol)}.projected.sources is unknown.`);
            return;
        }
        sources.forEach((src, j) => {
            const token = get(src, "serviceAccountToken");
            if (token === undefined || token === null) {
                return;
            }
            const where = `volumes[${i}]${nameOf(vol)}.projected.sources[${j}]`;
            const problem = brokerTokenProblem(token, audience, maxExpiry);
            if (problem !== undefined) {
                out.push(`${where} mounts a service-account token that ${problem}`);
            } else {
                brokerTokens.push(where);
            }
        });
    });
    if (brokerTokens.length > 1) {
        out.push(`${brokerTokens.join(" and ")} mount ${brokerTokens.length} broker tokens; a runner pod gets exactly one`);
    }
    return out;
}

export const k8sRunnerNoSaToken: FleetResourcePolicy = {
    name: "k8s-runner-no-sa-token",
    description: "[I7] Runner pods carry no Kubernetes API token: automountServiceAccountToken false, and no projected serviceAccountToken but the one broker token (the broker's audience alone, short-lived).",
    enforcementLevel: "mandatory",
    meta: {
        checks: "`automountServiceAccountToken: false` on the pod; every projected `serviceAccountToken` volume source (which mounts a token whatever automount says) is the broker token: `audience` equal to the registration broker's audience (pack config `brokerAudience`, default " +
            `\`${BROKER_TOKEN_AUDIENCE}\`) and \`expirationSeconds\` at most \`maxTokenExpirationSeconds\` (default ${BROKER_TOKEN_EXPIRATION_SECONDS}), at most one of them; ` +
            "no ARC `kubernetes`/`kubernetes-novolume` container mode (its Role gives the runner's own service account pods, pods/exec and secrets)",
        invariants: ["I7"],
        fix: `Set \`automountServiceAccountToken: false\` in the runner pod spec; keep only the projected token with \`audience: ${BROKER_TOKEN_AUDIENCE}\` and \`expirationSeconds: ${BROKER_TOKEN_EXPIRATION_SECONDS}\` (runnerPodTemplate does this).`,
    },
    configSchema: {
        properties: {
            brokerAudience: { type: "string", minLength: 1, default: BROKER_TOKEN_AUDIENCE, description: "The registration broker's pod-token audience: the only audience a runner pod's projected token may have." },
            maxTokenExpirationSeconds: { type: "integer", minimum: 600, maximum: 3600, default: BROKER_TOKEN_EXPIRATION_SECONDS, description: "Longest expirationSeconds of the broker token (Kubernetes' minimum is 600)." },
        },
    },
    validateResource: forRunnerPods(saTokenFindings),
};

/** The default for `maxBuildDurationSeconds`, as for runner VMs (runner-vm-bounded-lifetime). */

export function lifetimeFindings(site: PodTemplateSite, undecidable: (what: string) => void, args: ResourceValidationArgs): string[] {
    const bound = args.getConfig<{ maxBuildDurationSeconds?: number }>().maxBuildDurationSeconds ?? DEFAULT_MAX_BUILD_SECONDS;
    if (LONG_RUNNING_KINDS.has(site.kind)) {
        // The API server rejects activeDeadlineSeconds in these pod templates ("activeDeadlineSeconds in
        // ReplicaSet is not Supported"), and the controller restarts or replaces the pod forever.
        return [`a ${site.kind} keeps its pods running and replaces them forever, and the API server rejects activeDeadlineSeconds in its pod template, ` +
            `so a runner pod's lifetime cannot be bounded; run runners as ARC ephemeral runners, Jobs or Pods with activeDeadlineSeconds <= ${bound}`];
    }
    // A bare pod restarted in place keeps its emptyDir and filesystem: the next job runs in the last one's environment.
    const restart = get(site.spec, "restartPolicy");
    if (unknown(restart)) {
        undecidable("restartPolicy is unknown.");
    } else if (site.kind === "Pod" && restart === "Always") {
        return [`restartPolicy is "Always": the runner restarts in the same pod, with the last job's files and volumes; runner pods run once ("Never")`];
    }
    if (site.legacy) {
        const ephemeral = boolish(get(site.legacy.config, "ephemeral"));
        if (ephemeral === "unknown") {
            undecidable(`${site.legacy.path}.ephemeral is unknown.`);
        } else if (ephemeral === false) {
            return [`${site.legacy.path}.ephemeral is false: the runner takes job after job in the same pod`];
        }
    }
    // The pod's own deadline, and for Jobs the Job's deadline (the Job controller then terminates its running pods).
    const deadlines: { path: string; value: unknown }[] = [{ path: "activeDeadlineSeconds", value: get(site.spec, "activeDeadlineSeconds") }];
    if (site.jobDeadline) {
        deadlines.push(site.jobDeadline);
    }
    const out: string[] = [];
    let effective: { path: string; seconds: number } | undefined;
    const unknownPaths: string[] = [];
    for (const d of deadlines) {
        const n = numberish(d.value);
        if (n === "unknown") {
            unknownPaths.push(d.path);
        } else if (n !== undefined && n <= 0) {
            out.push(`${d.path} is ${n}; it must be a positive number of seconds`);
        } else if (n !== undefined && (effective === undefined || n < effective.seconds)) {
            effective = { path: d.path, seconds: n };
        }
    }
    if (effective !== undefined && effective.seconds <= bound) {
        return out;
    }
    if (unknownPaths.length > 0) {
        // The unknown deadline may be the one within the bound.
        undecidable(`${unknownPaths.join(" and ")} ${unknownPaths.length > 1 ? "are" : "is"} unknown, so the pod's lifetime bound cannot be checked.`);
        return out;
    }
    if (effective === undefined) {
        const where = deadlines.map((d) => d.path).join(" or ");
        out.push(`${where} is not set; a runner pod must be stopped after at most ${bound} seconds (maxBuildDurationSeconds)`);
    } else {
        out.push(`${effective.path} is ${effective.seconds} seconds, above the configured bound of ${bound} seconds (maxBuildDurationSeconds)`);
    }
    return out;
}

export const k8sRunnerBoundedLifetime: FleetResourcePolicy = {
    name: "k8s-runner-bounded-lifetime",
    description: "[I2] Runner pods have activeDeadlineSeconds > 0 and within the configured bound (for Jobs, the pod's or the Job's deadline).",
    enforcementLevel: "mandatory",
    configSchema: maxBuildDurationSchema("activeDeadlineSeconds of runner pods (the same meaning as runner-vm-bounded-lifetime's)"),
    meta: {
        checks: "runner pods have `activeDeadlineSeconds` > 0 and ≤ `maxBuildDurationSeconds` (pack config, default 86400; for Jobs/CronJobs the pod's or the Job's deadline); Deployments, StatefulSets, DaemonSets and ReplicaSets cannot bound it (the API server rejects it there); legacy ARC runners with `ephemeral: false` take job after job; a runner Pod with `restartPolicy: Always` restarts in place with the last job's files",
        invariants: ["I2"],
        fix:
            "Set `activeDeadlineSeconds` (<= maxBuildDurationSeconds) in the runner pod template (ARC: `template.spec`); run runners as " +
            "ARC ephemeral runners, Jobs or Pods, never as Deployments, StatefulSets, DaemonSets or ReplicaSets, which cannot bound a pod's lifetime.",
    },
    validateResource: forRunnerPods(lifetimeFindings),
};

/** Pod volume sources that deliver secrets into the pod. */
function secretVolumeFindings(volumes: any[]): string[] {
    const out: string[] = [];
    volumes.forEach((v, i) => {
        const where = `volumes[${i}]${nameOf(v)}`;
        const secret = get(v, "secret");
        if (secret !== undefined && secret !== null) {
            const name = get(secret, "secretName");
            out.push(`${where} mounts Secret${typeof name === "string" ? ` "${name}"` : ""}`);
        }
        const sources = list(v, "projected", "sources");
        if (!unknown(sources)) {
            sources.forEach((src, j) => {
                const ps = get(src, "secret");
                if (ps !== undefined && ps !== null) {
                    const name = get(ps, "name");
                    out.push(`${where}.projected.sources[${j}] projects Secret${typeof name === "string" ? ` "${name}"` : ""}`);
                }
            });
        }
        const driver = get(v, "csi", "driver");
        if (typeof driver === "string" && /secrets-store/i.test(driver)) {
            out.push(`${where} mounts secrets through the ${JSON.stringify(driver)} CSI driver`);
        }
    });
    return out;
}

export function secretsFindings(site: PodTemplateSite, undecidable: (what: string) => void): string[] {
    const out: string[] = [];
    const { containers, unknownLists } = containersOf(site.spec);
    for (const l of unknownLists) {
        undecidable(`${l} is unknown, so secrets in its env cannot be ruled out.`);
    }
    for (const { label, container } of containers) {
        const env = list(container, "env");
        if (unknown(env)) {
            undecidable(`${label}.env is unknown, so secrets in it cannot be ruled out.`);
        } else {
            env.forEach((e, i) => {
                const name = get(e, "name");
                const where = `${label}.env[${i}]${typeof name === "string" ? ` ${name}` : ""}`;
                const valueFrom = get(e, "valueFrom");
                if (unknown(valueFrom)) {
                    undecidable(`${where}.valueFrom is unknown.`);
                } else {
                    const ref = get(valueFrom, "secretKeyRef");
                    if (ref !== undefined && ref !== null) {
                        const sname = get(ref, "name");
                        out.push(`${where} reads Secret${typeof sname === "string" ? ` "${sname}"` : ""} (valueFrom.secretKeyRef)`);
                    }
                }
                const value = get(e, "value");
                if (isSecretName(name) && (unknown(value) || hasValue(value))) {
                    out.push(`${where} passes a credential as a literal value (the name says so)`);
                } else if (unknown(value)) {
                    undecidable(`${where}.value is unknown, so a credential in it cannot be ruled out.`);
                } else {
                    const kind = credentialIn(value);
                    if (kind !== undefined) {
                        out.push(`${where} holds ${kind}`);
                    }
                }
            });
        }
        const envFrom = list(container, "envFrom");
        if (unknown(envFrom)) {
            undecidable(`${label}.envFrom is unknown, so secret references cannot be ruled out.`);
        } else {
            envFrom.forEach((e, i) => {
                const ref = get(e, "secretRef");
                if (unknown(ref)) {
                    undecidable(`${label}.envFrom[${i}].secretRef is unknown.`);
                } else if (ref !== undefined && ref !== null) {
                    const sname = get(ref, "name");
                    out.push(`${label}.envFrom[${i}] imports Secret${typeof sname === "string" ? ` "${sname}"` : ""} into the environment (secretRef)`);
                }
            });
        }
        for (const field of ["command", "args"]) {
            const argv = list(container, field);
            if (!unknown(argv)) {
                const kind = argv.map((a) => (unknown(a) ? undefined : credentialIn(a))).find((k) => k !== undefined);
                if (kind !== undefined) {
                    out.push(`${label}.${field} holds ${kind}`);
                }
            }
        }
    }
    const volumes = list(site.spec, "volumes");
    if (unknown(volumes)) {
        undecidable("volumes is unknown, so secret volumes cannot be ruled out.");
    } else {
        out.push(...secretVolumeFindings(volumes));
    }
    const pullSecrets = list(site.spec, "imagePullSecrets");
    if (unknown(pullSecrets)) {
        undecidable("imagePullSecrets is unknown.");
    } else if (pullSecrets.length > 0) {
        out.push(`imagePullSecrets names ${pullSecrets.map((p) => JSON.stringify(get(p, "name") ?? "?")).join(", ")}: registry credentials kept in the runner namespace (GKE nodes pull with their own identity)`);
    }
    if (site.gha) {
        const cs = site.gha.configSecret;
        if (unknown(cs)) {
            undecidable("values.githubConfigSecret is unknown (inline credentials make the chart create a Secret in the runner namespace).");
        } else if (cs !== null && typeof cs === "object") {
            out.push(`values.githubConfigSecret holds inline GitHub credentials (${Object.keys(cs).join(", ")}): the chart writes them into a Secret in the runner namespace`);
        }
        for (const scheme of ["http", "https"]) {
            const ref = get(site.gha.proxy, scheme, "credentialSecretRef");
            if (unknown(ref)) {
                undecidable(`values.proxy.${scheme}.credentialSecretRef is unknown.`);
            } else if (typeof ref === "string" && ref !== "") {
                out.push(`values.proxy.${scheme}.credentialSecretRef ${JSON.stringify(ref)}: ARC puts the proxy credentials into every runner's environment`);
            }
        }
    }
    return out;
}

export const k8sRunnerNoSecretsInEnv: FleetResourcePolicy = {
    name: "k8s-runner-no-secrets-in-env",
    description:
        "[I7] Runner pods receive no secrets: no Kubernetes Secret through env (secretKeyRef), envFrom (secretRef) or secret/projected/" +
        "secrets-store volumes, and no credential-named or credential-shaped literal in env, command or args.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "runner pods get no Kubernetes Secret (`env[].valueFrom.secretKeyRef`, `envFrom[].secretRef`, `secret`, projected-secret or secrets-store CSI volumes) and no literal credential in env (by name or shape, as above), command or args (also `.npmrc` `_authToken`s, Docker `auths`, git credential URLs and `.pypirc` passwords a startup script writes); no `imagePullSecrets`; no inline `githubConfigSecret` credentials and no `proxy.*.credentialSecretRef` (ARC puts it in every runner's environment) in a `gha-runner-scale-set` release; ARC's listener is not a runner pod. Pulumi secrets arrive unwrapped, so secret-ness is invisible",
        invariants: ["I7"],
        fix:
            "Remove the Secret reference, secret volume or literal credential from the runner pod template: every step of the build can read " +
            "them. Runners register just in time (ARC hands the runner a one-time JIT config) and reach Google APIs as their pool's " +
            "Workload Identity, which holds no key.",
    },
    // CrossGuard unwraps Pulumi secrets before policies see them, so a value marked secret looks like any
    // other string: literals are judged by their variable name and shape, never by secret-ness. Only the
    // runner pod template counts: ARC's listener (listenerTemplate) and controller are not runner pods.
    validateResource: forRunnerPods(secretsFindings),
};

export const kubernetesWorkloadPolicies: FleetResourcePolicy[] = [
    k8sRunnerPodSecurity,
    k8sRunnerNoHostAccess,
    k8sRunnerNoPersistentVolumes,
    k8sRunnerNoSaToken,
    k8sRunnerBoundedLifetime,
    k8sRunnerNoSecretsInEnv,
];
