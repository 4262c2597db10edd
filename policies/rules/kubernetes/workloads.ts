/**
 * Workloads and patches as the API server sees them (I6, I7).
 *
 * - k8s-runner-namespace-workloads: every pod in a runner namespace is a runner pod, whatever its
 *   labels say; the runner pod checks run on pod templates the per-resource rules exempted (labelled
 *   control-plane/signer, or unlabelled without gVisor). Runner pods never share a namespace with the
 *   ARC controller, and a Helm chart the pack cannot render in a runner namespace is refused (fail
 *   closed: its templates may hold any pod, RBAC or secret).
 * - k8s-runner-patches: `*Patch` resources. A patch of a runner pod template is overlaid on the
 *   patched object (or, when the stack does not define it, on the hardened reference template) and the
 *   result checked like a pod; a NamespacePatch may not weaken Pod Security or relabel a runner
 *   namespace; any other patch in a runner namespace that no rule can judge is an advisory.
 */
import { PolicyResource, ResourceValidationArgs } from "@pulumi/policy/policy";
import { runnerPodTemplate } from "../../../components/runnerPool/podTemplate";
import { ROLE_LABEL } from "../../model/labels";
import { FleetStackPolicy } from "../../meta";
import { get, unknown, unwrap } from "../../model/props";
import { PSS_ENFORCE_LABEL } from "../resource/kubernetesNamespace";
import { placementFindings } from "../resource/kubernetesPlacement";
import {
    hostAccessFindings, lifetimeFindings, persistentVolumeFindings, podSecurityFindings, saTokenFindings, secretsFindings,
} from "../resource/kubernetesWorkload";
import { isArcRunnerType, isGhaRunnerScaleSetChart, isPodHoldingType, PodTemplateSite, podTemplateSites } from "../../recognisers/podTemplates";
import { ARC_CONTROLLER_CHART_RE, K8sModel, K8sObject, nsKey, nsName, runnerNamespaceOf, UNKNOWN_NAME } from "../../model/kubernetes";
import { K8sReport, k8sStackRule } from "../../framework/kubernetesRule";

/** Provider-side charts, whose inputs (namespace, chart) the stack records; a v3 Chart records none (k8s-manifests-visible advises on it). */
const CHART_TYPES: readonly string[] = ["kubernetes:helm.sh/v4:Chart"];

/** Built-in API groups (and ARC's) whose objects create no pods beyond the pod-holding kinds judged here. */
const KNOWN_GROUPS = new Set([
    "rbac.authorization.k8s.io", "networking.k8s.io", "policy", "autoscaling", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io",
    "storage.k8s.io", "scheduling.k8s.io", "node.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "certificates.k8s.io",
    "flowcontrol.apiserver.k8s.io", "helm.sh", "actions.github.com", "actions.summerwind.dev", "monitoring.coreos.com", "cloud.google.com",
]);

type Check = (site: PodTemplateSite, undecidable: (what: string) => void, args: ResourceValidationArgs) => string[];
const CHECKS: Check[] = [podSecurityFindings, hostAccessFindings, persistentVolumeFindings, saTokenFindings, lifetimeFindings, secretsFindings, placementFindings];
const NO_CONFIG = { getConfig: () => ({}) } as unknown as ResourceValidationArgs;

/** Every runner pod finding of a site; undecidable parts collected separately. */
export function runnerPodFindings(site: PodTemplateSite, args: ResourceValidationArgs = NO_CONFIG): { findings: string[]; undecided: string[] } {
    const undecided: string[] = [];
    const findings = CHECKS.flatMap((c) => c(site, (w) => undecided.push(w), args));
    return { findings, undecided };
}

function judgeSites(o: K8sObject, sites: PodTemplateSite[], why: string, report: K8sReport, args: ResourceValidationArgs): void {
    for (const site of sites) {
        if (unknown(site.spec)) {
            report.advisory(`cannot decide during preview: the pod spec at ${site.path} of ${o.kind} ${o.name} in a runner namespace is unknown.`, o.urn);
            continue;
        }
        const { findings, undecided } = runnerPodFindings(site, args);
        if (findings.length > 0) {
            report.violation(`${o.kind} ${o.name} runs pods in runner namespace "${o.namespace}" (${why}), so they are runner pods whatever their labels say: ${findings.join("; ")}.`, o.urn);
        } else if (undecided.length > 0) {
            report.advisory(`cannot decide during preview: ${undecided.join(" ")}`, o.urn);
        }
    }
}

/**
 * A namespace that holds runners but is not labelled runner escapes k8s-runner-namespace-restricted:
 * it must still enforce Pod Security restricted, so the API server rejects weaker runner pods.
 */
function checkUnlabelledRunnerNamespaces(m: K8sModel, report: K8sReport): void {
    for (const o of m.objects) {
        if (o.kind !== "Namespace" || o.group !== "core" || o.patch || get(o.labels, ROLE_LABEL) === "runner") {
            continue;
        }
        const key = nsKey(o.cluster, o.name);
        const why = m.runnerNamespaces.get(key);
        if (why === undefined || !m.workloadNamespaces.has(key)) {
            continue;
        }
        const level = get(o.labels, PSS_ENFORCE_LABEL);
        if (unknown(level)) {
            report.advisory(`cannot decide during preview: the Pod Security label of namespace "${o.name}", which holds runners, is unknown.`, o.urn);
        } else if (level !== "restricted") {
            report.violation(`namespace "${o.name}" holds runners (${why}) but is not labelled ${ROLE_LABEL}=runner and has ${PSS_ENFORCE_LABEL}=${level === undefined ? "(not set)" : JSON.stringify(level)}; a runner namespace must enforce "restricted".`, o.urn);
        }
    }
}

function checkWorkloads(m: K8sModel, report: K8sReport, args: ResourceValidationArgs, resources: readonly PolicyResource[]): void {
    checkUnlabelledRunnerNamespaces(m, report);
    unrenderedCharts(m, report, resources);
    for (const o of m.objects) {
        if (o.patch || o.namespace === undefined) {
            continue;
        }
        const why = runnerNamespaceOf(m, o);
        const helm = o.type.startsWith("kubernetes:helm.sh/");
        if (o.namespace === UNKNOWN_NAME && (isPodHoldingType(o.type) || helm)) {
            const sites = podTemplateSites(o.type, o.props);
            if (!sites.every((s) => s.runner)) {
                report.advisory(`cannot decide during preview: the namespace of ${o.kind} ${o.name} is unknown, so it may run pods in a runner namespace.`, o.urn);
            }
            continue;
        }
        if (why === undefined) {
            continue;
        }
        const key = nsKey(o.cluster, o.namespace);
        if (helm) {
            const chart = get(o.props, "chart");
            if (typeof chart === "string" && ARC_CONTROLLER_CHART_RE.test(chart.trim())) {
                if (m.workloadNamespaces.has(key)) {
                    report.violation(`the ARC controller release ${o.name} shares namespace "${nsName(key)}" with runner pods: builds sit next to the controller's GitHub credentials and its service account.`, o.urn);
                }
                continue;
            }
            if (!isGhaRunnerScaleSetChart(chart)) {
                report.violation(
                    `Helm ${o.kind === "Release" ? "release" : "chart"} ${o.name} (chart ${JSON.stringify(unknown(chart) ? "unknown until apply" : chart)}) installs objects in runner namespace ` +
                    `"${nsName(key)}" that the pack cannot render: its pods, RBAC and secrets cannot be proven (fail closed); render it into objects the stack declares, or install it elsewhere.`,
                    o.urn,
                );
                continue;
            }
        }
        if (!isPodHoldingType(o.type) && !helm && o.group.includes(".") && !KNOWN_GROUPS.has(o.group) && !isArcRunnerType(o.type)) {
            report.advisory(`cannot decide: ${o.kind} ${o.name} (${o.group}) in runner namespace "${nsName(key)}" is a custom resource whose controller may create pods the pack cannot see.`, o.urn);
            continue;
        }
        // Sites the per-resource rules already judge as runner pods are not judged twice.
        judgeSites(o, podTemplateSites(o.type, o.props).filter((s) => !s.runner), why, report, args);
    }
}

/** Helm Chart components (the model skips them: their objects are their children) the engine could not render into a runner namespace. */
function unrenderedCharts(m: K8sModel, report: K8sReport, resources: readonly PolicyResource[]): void {
    const parents = new Set(resources.map((r) => r.parent?.urn).filter((u): u is string => u !== undefined));
    for (const r of resources) {
        if (!CHART_TYPES.includes(r.type)) {
            continue;
        }
        const props = (unwrap(r.props) ?? {}) as Record<string, any>;
        const gaps: string[] = Array.isArray(props.unexpanded) && props.unexpanded.length > 0 ? props.unexpanded
            : parents.has(r.urn) ? [] : ["no object of it is in the stack"];
        // The engine records the namespace it could not render into next to the gaps (plan/engine/monitor.ts).
        const ns = get(props, "unexpandedNamespace");
        if (gaps.length === 0 || isGhaRunnerScaleSetChart(get(props, "chart"))) {
            continue;
        }
        const key = nsKey(r.provider?.urn ?? "", typeof ns === "string" && ns !== "" ? ns : "default");
        const why = unknown(ns) ? "its namespace is unknown until apply" : m.runnerNamespaces.get(key);
        if (why !== undefined) {
            report.violation(`Helm chart ${r.name} installs objects the pack cannot render (${gaps.join("; ")}) into ${unknown(ns) ? "a namespace that may be a runner namespace" : `runner namespace "${nsName(key)}"`} ` +
                `(${why}): its pods, RBAC and secrets cannot be proven (fail closed)`, r.urn);
        }
    }
}

export const k8sRunnerNamespaceWorkloads: FleetStackPolicy = k8sStackRule({
    name: "k8s-runner-namespace-workloads",
    description:
        "[I6] Every pod template in a runner namespace is checked as a runner pod whatever its labels say; a namespace that holds runners " +
        "enforces Pod Security restricted whatever its labels say; runner pods never share a namespace with the ARC controller; Helm charts " +
        "the pack cannot render in a runner namespace are refused.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "every pod template in a runner namespace is checked as a runner pod (all runner pod checks), even when labelled control-plane or unlabelled without gVisor; a namespace that holds runners enforces Pod Security `restricted` even when it is not labelled runner; the ARC controller never shares a namespace with runner pods; a Helm release or chart the pack cannot render in a runner namespace (or, during a preview, in a namespace unknown until apply) is refused; a custom resource of an unknown API group (its controller may create pods) in a runner namespace is an advisory",
        invariants: ["I6", "I7"],
        fix:
            "Harden the workload like a runner pod (restricted security context, gVisor, no token, no secrets, a deadline) or move it out of the " +
            "runner namespace; install the ARC controller and other charts in their own namespace.",
    },
    check: (m, report, args) => checkWorkloads(m, report, args as unknown as ResourceValidationArgs, args.resources),
});

/** Overlays a server-side-apply patch on a base object: maps merge, lists of named items merge by name, other lists replace. */
export function overlay(base: unknown, patch: unknown): unknown {
    if (patch === undefined) {
        return base;
    }
    if (Array.isArray(patch) && Array.isArray(base) && patch.every((p) => typeof get(p, "name") === "string") && base.every((b) => typeof get(b, "name") === "string")) {
        const out = base.map((b) => {
            const p = patch.find((x) => get(x, "name") === get(b, "name"));
            return p === undefined ? b : overlay(b, p);
        });
        return [...out, ...patch.filter((p) => !base.some((b) => get(b, "name") === get(p, "name")))];
    }
    if (patch !== null && typeof patch === "object" && !Array.isArray(patch) && base !== null && typeof base === "object" && !Array.isArray(base)) {
        const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
        for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
            out[k] = overlay((base as Record<string, unknown>)[k], v);
        }
        return out;
    }
    return patch;
}

const REFERENCE = runnerPodTemplate({ pool: "reference", image: "reference", serviceAccountName: "runner", activeDeadlineSeconds: 3600 }).spec;

function checkPatches(m: K8sModel, report: K8sReport, args: ResourceValidationArgs): void {
    for (const p of m.objects.filter((o) => o.patch)) {
        const inRunnerNs = runnerNamespaceOf(m, p);
        const target = m.objects.find((o) => !o.patch && o.type === p.type.slice(0, -"Patch".length) && o.cluster === p.cluster && o.name === p.name && o.namespace === p.namespace);
        if (p.kind === "Namespace") {
            const key = nsKey(p.cluster, p.name);
            const runnerByGraph = [...m.objects].some((o) => !o.patch && o.namespace !== undefined && nsKey(o.cluster, o.namespace) === key && m.workloadNamespaces.has(key)) ||
                (target !== undefined && get(target.labels, ROLE_LABEL) === "runner");
            const runner = runnerByGraph || m.runnerNamespaces.has(key);
            if (!runner) {
                continue;
            }
            const labels = get(p.props, "metadata", "labels");
            if (unknown(labels)) {
                report.advisory(`cannot decide during preview: the labels NamespacePatch ${p.name} sets on runner namespace "${p.name}" are unknown.`, p.urn);
                continue;
            }
            const out: string[] = [];
            if (labels && typeof labels === "object" && PSS_ENFORCE_LABEL in labels && labels[PSS_ENFORCE_LABEL] !== "restricted") {
                out.push(`sets ${PSS_ENFORCE_LABEL}=${JSON.stringify(labels[PSS_ENFORCE_LABEL])} (must stay "restricted")`);
            }
            if (labels && typeof labels === "object" && ROLE_LABEL in labels && labels[ROLE_LABEL] !== "runner" && runnerByGraph) {
                out.push(`relabels it ${ROLE_LABEL}=${JSON.stringify(labels[ROLE_LABEL])}, but it holds runner workloads`);
            }
            if (out.length > 0) {
                report.violation(`NamespacePatch of runner namespace "${p.name}" ${out.join(" and ")}.`, p.urn);
            }
            continue;
        }
        const baseType = p.type.slice(0, -"Patch".length);
        if (isPodHoldingType(baseType)) {
            const patchSites = podTemplateSites(baseType, p.props);
            const targetSites = target ? podTemplateSites(baseType, target.props) : [];
            const runner = inRunnerNs !== undefined || patchSites.some((s) => s.runner) || targetSites.some((s) => s.runner);
            if (!runner) {
                if (p.namespace === UNKNOWN_NAME) {
                    report.advisory(`cannot decide during preview: the namespace of ${p.kind}Patch ${p.name} is unknown, so it may patch a runner pod.`, p.urn);
                }
                continue;
            }
            patchSites.forEach((site, i) => {
                if (site.spec === undefined || site.spec === null) {
                    return;
                }
                if (unknown(site.spec)) {
                    report.advisory(`cannot decide during preview: the pod spec ${p.kind}Patch ${p.name} applies to a runner pod is unknown.`, p.urn);
                    return;
                }
                const base = targetSites[i]?.spec ?? REFERENCE;
                // The deadline and placement of a patched Deployment etc. are judged on the target; a patch only adds what it sets.
                const merged: PodTemplateSite = { ...(targetSites[i] ?? site), spec: overlay(base, site.spec), runner: true };
                const { findings } = runnerPodFindings(merged, args);
                if (findings.length > 0) {
                    report.violation(`${p.kind}Patch ${p.name} weakens a runner pod${target ? "" : " (overlaid on the hardened reference template: the stack does not define the patched object)"}: ${findings.join("; ")}.`, p.urn);
                }
            });
            if (target === undefined) {
                // The reference template only judges what the patch sets; the patched object's own fields are unseen.
                report.advisory(`cannot decide: ${p.kind}Patch ${p.name} patches a runner pod this stack does not define; only the fields it sets were checked, the rest of the pod is unproven.`, p.urn);
            }
            continue;
        }
        if (["NetworkPolicy", "RoleBinding", "ClusterRoleBinding", "Role", "ClusterRole", "Secret", "ConfigMap"].includes(p.kind)) {
            continue; // judged by k8s-runner-network-policy, k8s-runner-rbac and k8s-runner-credentials
        }
        if (inRunnerNs !== undefined) {
            report.advisory(`cannot decide: ${p.kind}Patch ${p.name} changes an object in runner namespace "${p.namespace}" that no rule of the pack can judge; review it.`, p.urn);
        }
    }
}

export const k8sRunnerPatches: FleetStackPolicy = k8sStackRule({
    name: "k8s-runner-patches",
    description:
        "[I6] Server-side-apply patches (`*Patch`) cannot weaken runner pods (the patch is overlaid on the patched object and checked like a pod), " +
        "Pod Security or the role label of runner namespaces; other patches in runner namespaces are reported for review.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "`*Patch` resources: a patch of a runner pod template (runner namespace, runner labels or a runner target) is overlaid on the patched object, or on the hardened reference template when the stack does not define it (then also an advisory: the rest of that pod is unproven), and checked like a pod; a `NamespacePatch` may not lower Pod Security or relabel a namespace that holds runners; any other patch in a runner namespace that no rule judges is an advisory",
        invariants: ["I6"],
        fix: "Remove the patch or make it keep the runner pod hardened; never patch the Pod Security label of a runner namespace.",
    },
    check: (m, report, args) => checkPatches(m, report, args as unknown as ResourceValidationArgs),
});
