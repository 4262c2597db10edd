/**
 * The Kubernetes side of the stack, as the API server would see it: every object keyed by cluster
 * (its provider), namespace and name, and which namespaces are runner namespaces.
 *
 * A namespace is a runner namespace when it is labelled `build-fleet-role=runner` (by a Namespace or
 * a NamespacePatch), or when it holds an ARC runner kind, a `gha-runner-scale-set` release or any
 * runner pod: what the graph proves is never undone by a label. Namespaces are per cluster: the same
 * name in two clusters is two namespaces. Built once per stack resources array.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { ROLE_LABEL } from "./labels";
import { get, unknown, unwrap } from "./props";
import { groupKind, HELM_TYPES, isArcRunnerType, isGhaRunnerScaleSetChart, podTemplateSites } from "../recognisers/podTemplates";

/** Sentinel for a namespace or name that is unknown during a preview. */
export const UNKNOWN_NAME = "\u0000unknown";

export interface K8sObject {
    res: PolicyResource;
    urn: string;
    type: string;
    group: string;
    /** The kind without the `Patch` suffix. */
    kind: string;
    /** True for `*Patch` resources (server-side apply patches of an object the stack may not own). */
    patch: boolean;
    props: Record<string, any>;
    /** Cluster key: the provider URN ("" for the default provider). */
    cluster: string;
    /** metadata.name, or UNKNOWN_NAME. */
    name: string;
    /** The namespace the object lives in (undefined: cluster-scoped), or UNKNOWN_NAME. */
    namespace?: string;
    labels: Record<string, unknown> | undefined;
}

/** Kinds that are cluster-scoped (no namespace). */
const CLUSTER_SCOPED = new Set([
    "Namespace", "Node", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass", "RuntimeClass",
    "CustomResourceDefinition", "PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
    "CertificateSigningRequest", "CSIDriver", "IngressClass",
]);

export const ARC_CONTROLLER_CHART_RE = /(^|\/)(gha-runner-scale-set-controller|actions-runner-controller)(-\d[^/]*|[:@][^/]*)?(\.tgz)?\/?$/;

export interface K8sModel {
    objects: K8sObject[];
    /** `${cluster}|${namespace}` of every runner namespace, with why. */
    runnerNamespaces: Map<string, string>;
    /** `${cluster}|${namespace}` of namespaces where the ARC controller runs. */
    controllerNamespaces: Set<string>;
    /** `${cluster}|${namespace}` of namespaces that hold a runner workload. */
    workloadNamespaces: Set<string>;
    byUrn: Map<string, K8sObject>;
}

export function nsKey(cluster: string, ns: string): string {
    return `${cluster}|${ns}`;
}

/** Human-readable namespace of a key. */
export function nsName(key: string): string {
    return key.slice(key.indexOf("|") + 1);
}

function literalName(v: unknown): string | undefined {
    return typeof v === "string" && !unknown(v) ? v : undefined;
}

/** The namespace name a resource's namespace property resolves to, through property dependencies in a preview. */
function resolveNamespace(r: PolicyResource, raw: unknown, prop: string, namespaces: Map<string, string>): string {
    const lit = literalName(raw);
    if (lit !== undefined) {
        return lit;
    }
    if (!unknown(raw) && (raw === undefined || raw === null || raw === "")) {
        return "default";
    }
    const deps = (r.propertyDependencies?.[prop] ?? []).map((d) => namespaces.get(d.urn)).filter((n): n is string => n !== undefined);
    return deps.length === 1 ? deps[0] : UNKNOWN_NAME;
}

const cache = new WeakMap<object, K8sModel>();

export function k8sModel(resources: PolicyResource[]): K8sModel {
    const hit = cache.get(resources);
    if (hit) {
        return hit;
    }
    // Namespace resources by URN -> name, to resolve unknown namespace references in a preview.
    const nsByUrn = new Map<string, string>();
    for (const r of resources) {
        if (r.type === "kubernetes:core/v1:Namespace") {
            const n = literalName(get(unwrap(r.props), "metadata", "name"));
            if (n !== undefined) {
                nsByUrn.set(r.urn, n);
            }
        }
    }
    const objects: K8sObject[] = [];
    for (const r of resources) {
        if (!r.type.startsWith("kubernetes:") || r.type.startsWith("pulumi:providers")) {
            continue;
        }
        // Manifest components (yaml ConfigGroup/ConfigFile, Helm Chart) are modelled through their
        // children; in a stack policy their props are their outputs, not their inputs.
        if (r.type.startsWith("kubernetes:yaml") || r.type.startsWith("kubernetes:kustomize") || r.type.endsWith(":Chart")) {
            continue;
        }
        const props = (unwrap(r.props) ?? {}) as Record<string, any>;
        const cluster = r.provider?.urn ?? "";
        const helm = HELM_TYPES.includes(r.type);
        const gk = groupKind(r.type);
        const rawKind = gk?.[1] ?? r.type;
        const patch = !helm && rawKind.endsWith("Patch");
        const kind = patch ? rawKind.slice(0, -"Patch".length) : rawKind;
        const group = gk?.[0] ?? "";
        let namespace: string | undefined;
        if (helm) {
            const override = get(props, "values", "namespaceOverride");
            namespace = typeof override === "string" && override !== ""
                ? override
                : resolveNamespace(r, get(props, "namespace"), "namespace", nsByUrn);
        } else if (!CLUSTER_SCOPED.has(kind) && gk !== undefined) {
            namespace = resolveNamespace(r, get(props, "metadata", "namespace"), "metadata", nsByUrn);
        }
        const name = helm ? literalName(get(props, "name")) ?? r.name : literalName(get(props, "metadata", "name")) ?? UNKNOWN_NAME;
        const labels = get(props, "metadata", "labels");
        objects.push({ res: r, urn: r.urn, type: r.type, group, kind, patch, props, cluster, name, namespace, labels: labels && typeof labels === "object" ? labels : undefined });
    }

    const runnerNamespaces = new Map<string, string>();
    const controllerNamespaces = new Set<string>();
    const workloadNamespaces = new Set<string>();
    const mark = (key: string, why: string) => {
        if (!runnerNamespaces.has(key)) {
            runnerNamespaces.set(key, why);
        }
    };
    for (const o of objects) {
        if (o.kind === "Namespace" && o.group === "core" && get(o.labels, ROLE_LABEL) === "runner" && o.name !== UNKNOWN_NAME) {
            mark(nsKey(o.cluster, o.name), `it is labelled ${ROLE_LABEL}=runner`);
        }
        if (o.namespace === undefined || o.namespace === UNKNOWN_NAME) {
            continue;
        }
        const key = nsKey(o.cluster, o.namespace);
        const chart = get(o.props, "chart");
        if (o.type.startsWith("kubernetes:helm.sh/") && typeof chart === "string" && ARC_CONTROLLER_CHART_RE.test(chart.trim())) {
            controllerNamespaces.add(key);
            continue;
        }
        if (o.type.startsWith("kubernetes:helm.sh/") && isGhaRunnerScaleSetChart(chart)) {
            mark(key, "it holds a gha-runner-scale-set release");
            workloadNamespaces.add(key);
            const ctl = get(o.props, "values", "controllerServiceAccount", "namespace");
            if (typeof ctl === "string") {
                controllerNamespaces.add(nsKey(o.cluster, ctl));
            }
            continue;
        }
        if (isArcRunnerType(o.type)) {
            mark(key, `it holds the ARC runner kind ${o.kind}`);
            workloadNamespaces.add(key);
            continue;
        }
        if (!o.patch && podTemplateSites(o.type, o.props).some((s) => s.runner)) {
            mark(key, `it holds the runner ${o.kind} ${o.name}`);
            workloadNamespaces.add(key);
        }
    }
    const model: K8sModel = { objects, runnerNamespaces, controllerNamespaces, workloadNamespaces, byUrn: new Map(objects.map((o) => [o.urn, o])) };
    cache.set(resources, model);
    return model;
}

/** Why the object's namespace is a runner namespace, or undefined. */
export function runnerNamespaceOf(m: K8sModel, o: K8sObject): string | undefined {
    return o.namespace === undefined || o.namespace === UNKNOWN_NAME ? undefined : m.runnerNamespaces.get(nsKey(o.cluster, o.namespace));
}
