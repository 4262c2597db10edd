/**
 * Finds the pod specs inside Kubernetes workloads, ARC runner scale sets and Helm releases, and
 * decides which of them are runner pods. Used by the runner workload rules (kubernetesWorkload.ts).
 *
 * A pod template is a runner's when the workload or the template is labelled
 * `build-fleet-role=runner`, when it asks for the gVisor runtime class, when it belongs to an ARC
 * runner kind (AutoscalingRunnerSet, EphemeralRunnerSet, EphemeralRunner, legacy RunnerDeployment,
 * RunnerReplicaSet, RunnerSet, Runner: always runners, whatever their labels say) or to a Helm release
 * of the `gha-runner-scale-set` chart (always a runner, fail closed). An explicit `signer` /
 * `control-plane` label exempts the built-in workload kinds only; the stack rules in
 * ../kubernetes/ still judge them as runners when they sit in a runner namespace.
 */
import { POOL_LABEL, ROLE_LABEL } from "../model/labels";
import { get, unknown } from "../model/props";

export type PodSpecPath = readonly string[];

/** One pod spec found in a resource. */
export interface PodTemplateSite {
    /**
     * The kind that runs the pods: a workload kind (`Pod`, `Deployment`, `Job`, ...),
     * `AutoscalingRunnerSet`, or `HelmRelease`.
     */
    kind: string;
    /** Where the pod spec sits in the resource's inputs, e.g. `spec.template.spec`. */
    path: string;
    /** The raw pod spec (may be the unknown sentinel during a preview). */
    spec: any;
    /** True when this pod template is a runner's. */
    runner: boolean;
    /** The `build-fleet-pool` label of the workload or its pod template, when literal. */
    pool?: string;
    /**
     * Job / CronJob: the Job-level `activeDeadlineSeconds` (raw) and where it sits; the Job
     * controller terminates every running pod of the Job when it is reached.
     */
    jobDeadline?: { path: string; value: unknown };
    /** StatefulSet `spec.volumeClaimTemplates` (raw), when the resource has it. */
    volumeClaimTemplates?: any;
    /**
     * Set for legacy ARC (actions.summerwind.dev) runners: the RunnerSpec / RunnerSet spec that holds
     * `dockerEnabled`, `dockerdWithinRunnerContainer` and `ephemeral` (raw).
     */
    legacy?: { config: any; path: string };
    /** Set for Helm releases of the ARC `gha-runner-scale-set` chart. */
    gha?: {
        /** `values.containerMode.type` (raw): "dind" adds a privileged sidecar, "kubernetes" a work volume claim. */
        containerMode: unknown;
        /** True when `values.template.spec` is absent and the chart's default runner pod is assumed. */
        chartDefaultPod: boolean;
        /** `values.githubConfigSecret` (raw): a name (pre-defined Secret) or inline credentials the chart turns into a Secret. */
        configSecret: unknown;
        /** `values.proxy` (raw): ARC puts `credentialSecretRef` proxy credentials into the runner's environment. */
        proxy: unknown;
    };
}

/** Where the pod spec and the pod template labels sit, by workload kind. */
const WORKLOAD_PATHS: Record<string, { spec: PodSpecPath; labels: PodSpecPath[] }> = {
    Pod: { spec: ["spec"], labels: [] },
    Deployment: { spec: ["spec", "template", "spec"], labels: [["spec", "template", "metadata", "labels"]] },
    StatefulSet: { spec: ["spec", "template", "spec"], labels: [["spec", "template", "metadata", "labels"]] },
    DaemonSet: { spec: ["spec", "template", "spec"], labels: [["spec", "template", "metadata", "labels"]] },
    ReplicaSet: { spec: ["spec", "template", "spec"], labels: [["spec", "template", "metadata", "labels"]] },
    ReplicationController: { spec: ["spec", "template", "spec"], labels: [["spec", "template", "metadata", "labels"]] },
    Job: { spec: ["spec", "template", "spec"], labels: [["spec", "template", "metadata", "labels"]] },
    CronJob: {
        spec: ["spec", "jobTemplate", "spec", "template", "spec"],
        labels: [
            ["spec", "jobTemplate", "metadata", "labels"],
            ["spec", "jobTemplate", "spec", "template", "metadata", "labels"],
        ],
    },
    PodTemplate: { spec: ["template", "spec"], labels: [["template", "metadata", "labels"]] },
};

/** API groups whose kinds above are the built-in workloads (`core` is the provider's name for ""). */
const WORKLOAD_GROUPS = new Set(["core", "apps", "batch", "extensions"]);

export const ARC_GROUP = "actions.github.com";
export const LEGACY_ARC_GROUP = "actions.summerwind.dev";
export const HELM_TYPES: readonly string[] = ["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"];

/**
 * Runner kinds: custom resources that only ever run runner pods (fail closed: unlabelled, they are
 * runners). Where the pod spec sits, where its labels sit, and (legacy ARC) where the RunnerSpec
 * fields (`dockerEnabled`, `ephemeral`) sit. HorizontalRunnerAutoscaler holds no pod spec: it is a
 * runner kind for namespace classification only.
 */
const ARC_PATHS: Record<string, Record<string, { spec: PodSpecPath; labels: PodSpecPath[]; legacyConfig?: PodSpecPath }>> = {
    [ARC_GROUP]: {
        AutoscalingRunnerSet: { spec: ["spec", "template", "spec"], labels: [["spec", "template", "metadata", "labels"]] },
        EphemeralRunnerSet: { spec: ["spec", "ephemeralRunnerSpec", "spec"], labels: [["spec", "ephemeralRunnerSpec", "metadata", "labels"]] },
        EphemeralRunner: { spec: ["spec", "spec"], labels: [["spec", "metadata", "labels"]] },
    },
    [LEGACY_ARC_GROUP]: {
        RunnerDeployment: { spec: ["spec", "template", "spec"], labels: [["spec", "template", "metadata", "labels"]], legacyConfig: ["spec", "template", "spec"] },
        RunnerReplicaSet: { spec: ["spec", "template", "spec"], labels: [["spec", "template", "metadata", "labels"]], legacyConfig: ["spec", "template", "spec"] },
        RunnerSet: { spec: ["spec", "template", "spec"], labels: [["spec", "template", "metadata", "labels"]], legacyConfig: ["spec"] },
        Runner: { spec: ["spec"], labels: [], legacyConfig: ["spec"] },
    },
};

/** Runner kinds without a pod spec (still runner objects). */
const ARC_PODLESS_KINDS: Record<string, ReadonlySet<string>> = {
    [LEGACY_ARC_GROUP]: new Set(["HorizontalRunnerAutoscaler"]),
    [ARC_GROUP]: new Set<string>(),
};

/** True for an ARC runner kind (current or legacy), with or without a pod spec. */
export function isArcRunnerType(type: string): boolean {
    const gk = groupKind(type);
    return gk !== undefined && (ARC_PATHS[gk[0]]?.[gk[1]] !== undefined || ARC_PODLESS_KINDS[gk[0]]?.has(gk[1]) === true);
}

/**
 * True when a Helm chart reference names ARC's `gha-runner-scale-set` chart: `gha-runner-scale-set`,
 * `repo/gha-runner-scale-set`, the OCI reference, or a packaged `gha-runner-scale-set-<version>.tgz`
 * (not `gha-runner-scale-set-controller`).
 */
export function isGhaRunnerScaleSetChart(chart: unknown): boolean {
    if (typeof chart !== "string") {
        return false;
    }
    return /(^|\/)gha-runner-scale-set(-\d[^/]*|[:@][^/]*)?(\.tgz)?\/?$/.test(chart.trim());
}

/** `[group, kind]` of a Kubernetes type token (`kubernetes:apps/v1:Deployment` -> `["apps","Deployment"]`). */
export function groupKind(type: string): [string, string] | undefined {
    const m = /^kubernetes:([^:]+):([^:]+)$/.exec(type);
    if (!m) {
        return undefined;
    }
    const apiVersion = m[1];
    const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.lastIndexOf("/")) : "core";
    return [group, m[2]];
}

/** True for a type whose resources can hold runner pods (the types the workload rules look at). */
export function isPodHoldingType(type: string): boolean {
    if (HELM_TYPES.includes(type)) {
        return true;
    }
    const gk = groupKind(type);
    if (!gk) {
        return false;
    }
    const [group, kind] = gk;
    return (WORKLOAD_GROUPS.has(group) && kind in WORKLOAD_PATHS) || ARC_PATHS[group]?.[kind] !== undefined;
}

/** The role named by a labels map, if it is a literal. */
function roleIn(labels: unknown): string | undefined {
    const role = get(labels, ROLE_LABEL);
    return typeof role === "string" ? role : undefined;
}

/** The first literal pool label among labels maps. */
function poolIn(...labels: unknown[]): string | undefined {
    for (const l of labels) {
        const pool = get(l, POOL_LABEL);
        if (typeof pool === "string") {
            return pool;
        }
    }
    return undefined;
}

/** Workload kinds that keep their pods running (restartPolicy Always) and so cannot bound a pod's lifetime. */
export const LONG_RUNNING_KINDS: ReadonlySet<string> = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"]);

/**
 * The namespace a pod-holding resource puts its pods in: `metadata.namespace` (Helm: `namespace`),
 * raw (may be the unknown sentinel during a preview); undefined when not set (the provider's
 * default namespace).
 */
export function podNamespaceOf(type: string, props: Record<string, any>): unknown {
    return HELM_TYPES.includes(type) ? get(props, "namespace") : get(props, "metadata", "namespace");
}

/** The property whose dependencies name the namespace resource (for a preview). */
export function podNamespaceProp(type: string): string {
    return HELM_TYPES.includes(type) ? "namespace" : "metadata";
}

/** True when a pod spec asks for the gVisor runtime class. */
function wantsGvisor(spec: unknown): boolean {
    const rc = get(spec, "runtimeClassName");
    return typeof rc === "string" && rc.toLowerCase() === "gvisor";
}

/**
 * Runner decision from the role labels found and the pod spec. `runnerKind` is true for kinds that
 * only ever run runner pods (ARC scale sets): unlabelled, they are runners (fail closed).
 */
function classify(roles: (string | undefined)[], spec: unknown, runnerKind = false): boolean {
    // A runner kind runs builds whatever its label says: a label never overrides what the kind proves.
    if (runnerKind || roles.includes("runner")) {
        return true;
    }
    if (roles.some((r) => r === "signer" || r === "control-plane")) {
        return false;
    }
    return wantsGvisor(spec);
}

/** The default runner pod of the gha-runner-scale-set chart when no `template.spec` is given. */
const CHART_DEFAULT_POD = { containers: [{ name: "runner" }] };

/** Every pod spec in a resource (empty when the type holds no pods). */
export function podTemplateSites(type: string, props: Record<string, any>): PodTemplateSite[] {
    if (HELM_TYPES.includes(type)) {
        const gha = isGhaRunnerScaleSetChart(get(props, "chart"));
        const spec = get(props, "values", "template", "spec");
        const templateLabels = get(props, "values", "template", "metadata", "labels");
        const pool = poolIn(templateLabels, get(props, "values", "labels"));
        if (gha) {
            const chartDefaultPod = spec === undefined || spec === null;
            return [{
                kind: "HelmRelease",
                path: chartDefaultPod ? "values.template.spec (absent: the chart's default runner pod)" : "values.template.spec",
                spec: chartDefaultPod ? CHART_DEFAULT_POD : spec,
                runner: true,
                pool,
                gha: { containerMode: get(props, "values", "containerMode", "type"), chartDefaultPod, configSecret: get(props, "values", "githubConfigSecret"), proxy: get(props, "values", "proxy") },
            }];
        }
        if (spec === undefined || spec === null) {
            return [];
        }
        return [{ kind: "HelmRelease", path: "values.template.spec", spec, runner: classify([roleIn(templateLabels)], spec), pool }];
    }
    const gk = groupKind(type);
    if (!gk || !isPodHoldingType(type)) {
        return [];
    }
    const [group, kind] = gk;
    const arc = ARC_PATHS[group]?.[kind];
    const paths = arc ?? WORKLOAD_PATHS[kind];
    const spec = get(props, ...paths.spec);
    const labelMaps = [get(props, "metadata", "labels"), ...paths.labels.map((p) => get(props, ...p))];
    const site: PodTemplateSite = { kind, path: paths.spec.join("."), spec, runner: classify(labelMaps.map(roleIn), spec, arc !== undefined), pool: poolIn(...labelMaps) };
    if (arc?.legacyConfig) {
        site.legacy = { config: get(props, ...arc.legacyConfig), path: arc.legacyConfig.join(".") };
    }
    if (kind === "StatefulSet") {
        site.volumeClaimTemplates = get(props, "spec", "volumeClaimTemplates");
    }
    if (kind === "Job") {
        site.jobDeadline = { path: "spec.activeDeadlineSeconds", value: get(props, "spec", "activeDeadlineSeconds") };
    } else if (kind === "CronJob") {
        site.jobDeadline = { path: "spec.jobTemplate.spec.activeDeadlineSeconds", value: get(props, "spec", "jobTemplate", "spec", "activeDeadlineSeconds") };
    }
    return [site];
}

/** One container of a pod spec with its list name and index, for messages. */
export interface ContainerRef {
    label: string;
    container: any;
}

/** All containers, init containers and ephemeral containers; `unknownLists` names lists unknown during a preview. */
export function containersOf(spec: unknown): { containers: ContainerRef[]; unknownLists: string[] } {
    const containers: ContainerRef[] = [];
    const unknownLists: string[] = [];
    for (const field of ["containers", "initContainers", "ephemeralContainers"]) {
        const v = get(spec, field);
        if (unknown(v)) {
            unknownLists.push(field);
            continue;
        }
        if (!Array.isArray(v)) {
            continue;
        }
        v.forEach((c, i) => {
            const name = get(c, "name");
            containers.push({ label: `${field}[${i}]${typeof name === "string" ? ` "${name}"` : ""}`, container: c });
        });
    }
    return { containers, unknownLists };
}
