/**
 * Offline expansion of the Kubernetes manifest components, the way @pulumi/kubernetes registers their
 * objects, so the per-resource and stack rules see every object:
 *
 * - `kubernetes:yaml/v2:ConfigGroup` / `ConfigFile` (provider-side components): inline `yaml`, `objs`
 *   and `files` (paths relative to the program's working directory, glob patterns) become child
 *   resources named `<prefix>:<namespace>/<name>` (prefix: `resourcePrefix`, default the component name;
 *   empty: none), typed `kubernetes:<group>/<version>:<Kind>` (`core` for the "" group), lists expanded.
 * - `kubernetes:yaml:ConfigGroup` / `ConfigFile` (v1, SDK-side): the SDK names and registers the objects
 *   itself; the engine answers its `kubernetes:yaml:decode` invoke.
 * - Helm: the `gha-runner-scale-set` chart is rendered into its AutoscalingRunnerSet (with the chart's
 *   containerMode changes), the kubernetes-mode service account, Role and RoleBinding, and, for inline
 *   credentials, its GitHub Secret; no other chart can be rendered
 *   without Helm and the chart, so it renders nothing and is marked.
 *
 * Kustomize directories (v1 and v2) are not built offline: they get no children.
 *
 * What cannot be expanded (remote URLs, globs that match nothing, missing files, unknown inputs in a
 * preview, other charts) is returned as a gap; the monitor stores the gaps in the component's
 * `unexpanded` output, which the pack's k8s-manifests-visible rule reports.
 */
import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { UNKNOWN } from "./types";

export const V2_MANIFEST_TYPES: readonly string[] = ["kubernetes:yaml/v2:ConfigGroup", "kubernetes:yaml/v2:ConfigFile", "kubernetes:helm.sh/v4:Chart"];

export interface ExpandedChild {
    type: string;
    name: string;
    inputs: Record<string, any>;
}

export interface Expansion {
    children: ExpandedChild[];
    gaps: string[];
}

/** Parses a YAML stream into objects, skipping empty documents. */
export function decodeYaml(text: string): Record<string, any>[] {
    return parseAllDocuments(text)
        .map((d) => {
            if (d.errors.length > 0) {
                throw new Error(`invalid YAML: ${d.errors[0].message}`);
            }
            return d.toJS();
        })
        .filter((o) => o !== null && typeof o === "object" && Object.keys(o).length > 0);
}

/** The provider's type token for an apiVersion and kind. */
export function typeToken(apiVersion: string, kind: string): string {
    return `kubernetes:${apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`}:${kind}`;
}

function isUrl(s: string): boolean {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
}

function isGlob(s: string): boolean {
    return /(^|[^\\])[*?[]/.test(s);
}

/** Objects to children: lists expanded, names prefixed as the provider does. */
function toChildren(objs: unknown[], prefix: string, gaps: string[]): ExpandedChild[] {
    const out: ExpandedChild[] = [];
    for (const o of objs) {
        if (o === null || typeof o !== "object") {
            continue;
        }
        const obj = o as Record<string, any>;
        if (obj.apiVersion === UNKNOWN || obj.kind === UNKNOWN || obj.metadata === UNKNOWN || obj.metadata?.name === UNKNOWN) {
            gaps.push("an object whose apiVersion, kind or name is unknown during preview");
            continue;
        }
        if (typeof obj.kind === "string" && obj.kind.endsWith("List") && Array.isArray(obj.items)) {
            out.push(...toChildren(obj.items, prefix, gaps));
            continue;
        }
        if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string" || typeof obj.metadata?.name !== "string") {
            gaps.push(`an object without apiVersion, kind or metadata.name (${JSON.stringify(obj).slice(0, 80)})`);
            continue;
        }
        const ns = obj.metadata.namespace;
        const base = typeof ns === "string" && ns !== "" ? `${ns}/${obj.metadata.name}` : obj.metadata.name;
        out.push({ type: typeToken(obj.apiVersion, obj.kind), name: prefix ? `${prefix}:${base}` : base, inputs: obj });
    }
    return out;
}

/** Reads manifest files as the provider does (paths relative to `cwd`, globs expanded); gaps for what it cannot read. */
function readFiles(files: unknown[], cwd: string, gaps: string[]): Record<string, any>[] {
    const objs: Record<string, any>[] = [];
    for (const f of files) {
        if (typeof f !== "string" || f === UNKNOWN) {
            gaps.push("a file path unknown during preview");
            continue;
        }
        if (isUrl(f)) {
            gaps.push(`remote manifest ${f} (not fetched offline)`);
            continue;
        }
        let matches = [f];
        if (isGlob(f)) {
            matches = (fs.globSync(f, { cwd }) as string[]).sort();
            if (matches.length === 0) {
                gaps.push(`glob ${f} matches no file under ${cwd}`);
            }
        }
        for (const m of matches) {
            const full = path.resolve(cwd, m);
            if (!fs.existsSync(full)) {
                gaps.push(`file ${m} does not exist under ${cwd}`);
                continue;
            }
            try {
                objs.push(...decodeYaml(fs.readFileSync(full, "utf8")));
            } catch (err) {
                gaps.push(`file ${m}: ${err instanceof Error ? err.message : String(err)}`);
            }
        }
    }
    return objs;
}

const GHA_CHART = /(^|\/)gha-runner-scale-set(-\d[^/]*|[:@][^/]*)?(\.tgz)?\/?$/;

/**
 * The objects the gha-runner-scale-set chart renders that carry the runner pod and credentials: the
 * AutoscalingRunnerSet (template with the containerMode changes) and the GitHub Secret for inline
 * credentials. undefined for any other chart.
 */
export function renderGhaChart(chart: unknown, releaseName: string, namespace: unknown, values: Record<string, any> | undefined): Record<string, any>[] | undefined {
    if (typeof chart !== "string" || !GHA_CHART.test(chart.trim())) {
        return undefined;
    }
    const v = values ?? {};
    const ns = typeof v.namespaceOverride === "string" && v.namespaceOverride !== "" ? v.namespaceOverride : typeof namespace === "string" ? namespace : "default";
    const template = structuredClone(v.template ?? { spec: { containers: [{ name: "runner", image: "ghcr.io/actions/actions-runner:latest", command: ["/home/runner/run.sh"] }] } });
    template.spec = template.spec ?? { containers: [{ name: "runner" }] };
    const mode = v.containerMode?.type;
    if (mode === "dind") {
        template.spec.initContainers = [...(template.spec.initContainers ?? []), { name: "dind", image: "docker:dind", securityContext: { privileged: true }, restartPolicy: "Always" }];
    } else if (mode === "kubernetes") {
        template.spec.volumes = [...(template.spec.volumes ?? []), {
            name: "work", ephemeral: { volumeClaimTemplate: { spec: v.containerMode?.kubernetesModeWorkVolumeClaim ?? { accessModes: ["ReadWriteOnce"] } } },
        }];
    }
    const labels = { ...(v.labels ?? {}) };
    const objs: Record<string, any>[] = [];
    if ((mode === "kubernetes" || mode === "kubernetes-novolume") && !template.spec.serviceAccountName) {
        // The container-hook Role the chart binds to the runner's own service account.
        const sa = `${releaseName}-gha-rs-kube-mode`;
        template.spec.serviceAccountName = sa;
        objs.push(
            { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa, namespace: ns, labels } },
            {
                apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: sa, namespace: ns, labels },
                rules: [
                    { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "create", "delete", "update", "patch"] },
                    { apiGroups: [""], resources: ["pods/exec"], verbs: ["get", "create"] },
                    { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "create", "delete"] },
                ],
            },
            {
                apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: sa, namespace: ns, labels },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: sa }, subjects: [{ kind: "ServiceAccount", name: sa, namespace: ns }],
            },
        );
    }
    let secretName = v.githubConfigSecret;
    if (secretName !== null && typeof secretName === "object") {
        secretName = `${releaseName}-gha-rs-github-secret`;
        objs.push({ apiVersion: "v1", kind: "Secret", metadata: { name: secretName, namespace: ns, labels }, stringData: v.githubConfigSecret });
    }
    objs.push({
        apiVersion: "actions.github.com/v1alpha1",
        kind: "AutoscalingRunnerSet",
        metadata: { name: v.runnerScaleSetName ?? releaseName, namespace: ns, labels },
        spec: { githubConfigUrl: v.githubConfigUrl, githubConfigSecret: secretName, minRunners: v.minRunners, maxRunners: v.maxRunners, template },
    });
    return objs;
}

/** Expands a provider-side manifest component (yaml/v2 ConfigGroup/ConfigFile, helm v4 Chart). */
export function expandRemoteComponent(type: string, name: string, inputs: Record<string, any>, cwd: string): Expansion {
    const gaps: string[] = [];
    const prefixInput = inputs.resourcePrefix;
    if (prefixInput === UNKNOWN) {
        return { children: [], gaps: ["resourcePrefix is unknown during preview"] };
    }
    const prefix = typeof prefixInput === "string" ? prefixInput : name;
    if (type === "kubernetes:helm.sh/v4:Chart") {
        if (inputs.chart === UNKNOWN || inputs.values === UNKNOWN) {
            return { children: [], gaps: ["the chart or its values are unknown during preview"] };
        }
        const objs = renderGhaChart(inputs.chart, typeof inputs.name === "string" ? inputs.name : name, inputs.namespace, inputs.values);
        if (objs === undefined) {
            return { children: [], gaps: [`chart ${JSON.stringify(inputs.chart)} cannot be rendered offline (no Helm, no chart)`] };
        }
        return { children: toChildren(objs, prefix, gaps), gaps };
    }
    const objs: unknown[] = [];
    if (type === "kubernetes:yaml/v2:ConfigFile") {
        objs.push(...readFiles([inputs.file], cwd, gaps));
    } else {
        const files = inputs.files;
        if (files === UNKNOWN) {
            gaps.push("files is unknown during preview");
        } else if (files !== undefined && files !== null) {
            objs.push(...readFiles(Array.isArray(files) ? files : [files], cwd, gaps));
        }
        if (inputs.yaml === UNKNOWN) {
            gaps.push("yaml is unknown during preview");
        } else if (typeof inputs.yaml === "string") {
            try {
                objs.push(...decodeYaml(inputs.yaml));
            } catch (err) {
                gaps.push(`yaml: ${err instanceof Error ? err.message : String(err)}`);
            }
        }
        if (inputs.objs === UNKNOWN) {
            gaps.push("objs is unknown during preview");
        } else if (Array.isArray(inputs.objs)) {
            objs.push(...inputs.objs);
        }
    }
    return { children: toChildren(objs, prefix, gaps), gaps };
}

/** Answers the Kubernetes SDK's own invokes (v1 yaml decode, v3 Helm template); undefined for others. */
export function k8sInvoke(token: string, args: Record<string, any>): Record<string, any> | undefined {
    if (token === "kubernetes:yaml:decode") {
        return { result: decodeYaml(String(args.text ?? "")) };
    }
    if (token === "kubernetes:kustomize:directory") {
        // Kustomize builds are not run offline: the Directory gets no children, which the pack reports.
        return { result: [] };
    }
    if (token === "kubernetes:helm:template") {
        const opts = JSON.parse(String(args.jsonOpts ?? "{}"));
        const objs = renderGhaChart(opts.chart, opts.release_name ?? "release", opts.namespace, opts.values);
        // Any other chart renders nothing here: the Chart then has no children, which the pack reports.
        return { result: objs ?? [] };
    }
    return undefined;
}
