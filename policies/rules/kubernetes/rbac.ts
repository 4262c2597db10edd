/**
 * RBAC as the API server evaluates it (I7, I10): no Role/ClusterRole binding (or binding patch) gives a
 * runner identity power over platform secrets or other pods. Runner identities are every service
 * account of a runner namespace, the groups that contain them (`system:serviceaccounts`,
 * `system:serviceaccounts:<runner ns>`) and the broad groups every caller holds (`system:authenticated`,
 * `system:unauthenticated`, `system:anonymous`). Dangerous is: secrets, pods/exec, pods/attach,
 * pods/portforward, creating pods or anything whose controller creates pods (jobs, deployments,
 * cronjobs, daemonsets, statefulsets, replicasets, custom kinds with pod templates), writing admission
 * configuration, approving certificate requests, nodes, nodes/proxy, serviceaccounts/token, any `*`,
 * and the escalate, bind and impersonate verbs. Aggregated ClusterRoles count the rules of every ClusterRole
 * they aggregate (including ClusterRoles that aggregate into the built-in admin/edit/view roles).
 */
import { get, list, unknown } from "../../model/props";
import { FleetStackPolicy } from "../../meta";
import { K8sModel, K8sObject, nsKey, UNKNOWN_NAME } from "../../model/kubernetes";
import { k8sStackRule } from "../../framework/kubernetesRule";

const BROAD_GROUPS = new Set(["system:authenticated", "system:unauthenticated", "system:serviceaccounts"]);
const DANGEROUS_RESOURCES = new Set(["secrets", "pods/exec", "pods/attach", "pods/portforward", "pods/ephemeralcontainers", "nodes", "nodes/proxy", "serviceaccounts/token", "*"]);
const ESCALATION_VERBS = new Set(["escalate", "bind", "impersonate", "*"]);
const WRITE_VERBS = new Set(["create", "update", "patch", "*"]);
/**
 * Resources whose creation makes the cluster start pods (the controller runs them with any secret,
 * service account or host setting the template names), built-in or custom kinds with a pod template.
 */
const POD_CREATING = new Set(["pods", "jobs", "cronjobs", "deployments", "daemonsets", "statefulsets", "replicasets", "replicationcontrollers",
    "scaledjobs", "scaledobjects", "taskruns", "pipelineruns", "workflows", "cronworkflows", "runners", "runnerdeployments", "runnersets",
    "autoscalingrunnersets", "ephemeralrunnersets", "ephemeralrunners"]);
/** Admission configuration: writing it sees or rewrites every object the cluster admits, other builds' pods included. */
const ADMISSION = new Set(["mutatingwebhookconfigurations", "validatingwebhookconfigurations", "mutatingadmissionpolicies",
    "mutatingadmissionpolicybindings", "validatingadmissionpolicies", "validatingadmissionpolicybindings"]);
/** Built-in ClusterRoles that are dangerous by themselves (edit and admin read secrets and exec into pods). */
const BUILTIN_DANGEROUS: Record<string, string> = {
    "cluster-admin": "every verb on every resource",
    admin: "secrets, pods/exec and RoleBindings in the namespace",
    edit: "secrets and pods/exec in the namespace",
};
const BUILTIN_HARMLESS = new Set(["view", "system:basic-user", "system:discovery", "system:public-info-viewer"]);
const AGGREGATE_TO = "rbac.authorization.k8s.io/aggregate-to-";

/** What is dangerous in a list of PolicyRules. */
export function dangerousRules(rules: unknown[]): string[] {
    const out: string[] = [];
    rules.forEach((rule) => {
        const verbs = list(rule, "verbs");
        const resources = list(rule, "resources");
        if (unknown(verbs) || unknown(resources)) {
            out.push("rules unknown during preview");
            return;
        }
        const vs = verbs.map(String);
        const rs = resources.map(String);
        for (const v of vs.filter((x) => ESCALATION_VERBS.has(x))) {
            out.push(`verb ${JSON.stringify(v)}${v === "*" ? ` on ${JSON.stringify(rs)}` : ""}`);
        }
        for (const r of rs.filter((x) => DANGEROUS_RESOURCES.has(x))) {
            if (!vs.includes("*")) {
                out.push(`${JSON.stringify(vs)} on ${JSON.stringify(r)}`);
            }
        }
        const writes = vs.filter((v) => WRITE_VERBS.has(v));
        if (writes.length > 0 && !vs.includes("*")) {
            for (const r of rs.filter((x) => POD_CREATING.has(x))) {
                out.push(`${JSON.stringify(writes)} on ${JSON.stringify(r)} (${r === "pods" ? "a new pod" : "its controller starts pods that"} can mount any secret of the namespace)`);
            }
            for (const r of rs.filter((x) => ADMISSION.has(x))) {
                out.push(`${JSON.stringify(writes)} on ${JSON.stringify(r)} (admission sees or rewrites every pod, other builds' included)`);
            }
        }
        // Approving certificate requests (or signing for a signer) mints credentials the API server trusts: a node's, any user's.
        if (rs.includes("certificatesigningrequests/approval") && writes.some((v) => v === "update" || v === "patch")) {
            out.push(`${JSON.stringify(writes)} on "certificatesigningrequests/approval" (approves a certificate for any identity)`);
        }
        if (rs.includes("signers") && vs.some((v) => v === "approve" || v === "sign")) {
            out.push(`${JSON.stringify(vs.filter((v) => v === "approve" || v === "sign"))} on "signers" (approves or signs certificates for any identity)`);
        }
        const urls = list(rule, "nonResourceURLs");
        if (!unknown(urls) && urls.includes("*") && vs.length > 0 && !vs.every((v) => v === "get")) {
            out.push(`${JSON.stringify(vs)} on every non-resource URL`);
        }
    });
    return [...new Set(out)];
}

function matchesSelector(labels: Record<string, unknown> | undefined, selector: unknown): boolean {
    const ml = get(selector, "matchLabels");
    if (ml === undefined || ml === null || typeof ml !== "object") {
        return false;
    }
    return Object.entries(ml).every(([k, v]) => labels?.[k] === v);
}

/** The rules of a role by name (ClusterRole: cluster-wide; Role: in its namespace), aggregation and patches included. */
function roleRules(m: K8sModel, cluster: string, kind: string, name: string, namespace: string | undefined): { rules: unknown[]; found: boolean; builtin?: string } {
    const roles = m.objects.filter((o) => o.kind === kind && o.group === "rbac.authorization.k8s.io" && o.cluster === cluster && o.name === name &&
        (kind === "ClusterRole" || o.namespace === namespace));
    const rules: unknown[] = [];
    for (const r of roles) {
        const rs = list(r.props, "rules");
        rules.push(...(unknown(rs) ? [{ verbs: "unknown" }] : rs));
    }
    if (kind === "ClusterRole") {
        // Aggregation: a ClusterRole with aggregationRule gets the rules of every matching ClusterRole;
        // the built-in admin/edit/view get the rules of ClusterRoles labelled aggregate-to-<name>.
        const selectors = roles.flatMap((r) => {
            const s = list(r.props, "aggregationRule", "clusterRoleSelectors");
            return unknown(s) ? [] : s;
        });
        const builtinAggregate = ["admin", "edit", "view"].includes(name) ? `${AGGREGATE_TO}${name}` : undefined;
        for (const o of m.objects) {
            if (o.kind !== "ClusterRole" || o.cluster !== cluster || o.name === name) {
                continue;
            }
            const aggregated = selectors.some((s) => matchesSelector(o.labels, s)) ||
                (builtinAggregate !== undefined && o.labels?.[builtinAggregate] === "true") ||
                // edit aggregates into admin, view into edit.
                (name === "admin" && o.labels?.[`${AGGREGATE_TO}edit`] === "true") ||
                ((name === "admin" || name === "edit") && o.labels?.[`${AGGREGATE_TO}view`] === "true");
            if (aggregated) {
                const rs = list(o.props, "rules");
                rules.push(...(unknown(rs) ? [] : rs));
            }
        }
    }
    const builtin = kind === "ClusterRole" ? BUILTIN_DANGEROUS[name] : undefined;
    return { rules, found: roles.length > 0 || builtin !== undefined || (kind === "ClusterRole" && BUILTIN_HARMLESS.has(name)), builtin };
}

/** Runner subjects of a binding, each described. */
function runnerSubjects(m: K8sModel, b: K8sObject): string[] {
    const subjects = list(b.props, "subjects");
    if (unknown(subjects)) {
        return ["subjects unknown during preview"];
    }
    const out: string[] = [];
    for (const s of subjects) {
        const kind = get(s, "kind");
        const name = get(s, "name");
        if (unknown(name) || unknown(kind)) {
            out.push("a subject unknown during preview");
            continue;
        }
        if (kind === "Group" && BROAD_GROUPS.has(name)) {
            out.push(`group ${name} (every ${name === "system:serviceaccounts" ? "service account, runner KSAs included" : "caller"})`);
        } else if (kind === "Group" && typeof name === "string" && name.startsWith("system:serviceaccounts:")) {
            const ns = name.slice("system:serviceaccounts:".length);
            if (m.runnerNamespaces.has(nsKey(b.cluster, ns))) {
                out.push(`group ${name} (the service accounts of runner namespace "${ns}")`);
            }
        } else if (kind === "User" && (name === "system:anonymous" || (typeof name === "string" && name.startsWith("system:serviceaccount:")))) {
            if (name === "system:anonymous") {
                out.push("user system:anonymous");
            } else {
                const [ns] = String(name).slice("system:serviceaccount:".length).split(":");
                if (m.runnerNamespaces.has(nsKey(b.cluster, ns))) {
                    out.push(`user ${name} (a runner KSA)`);
                }
            }
        } else if (kind === "ServiceAccount") {
            const raw = get(s, "namespace");
            const ns = typeof raw === "string" ? raw : b.namespace;
            if (unknown(raw) || ns === UNKNOWN_NAME) {
                out.push(`service account ${name} in a namespace unknown during preview`);
            } else if (ns !== undefined && m.runnerNamespaces.has(nsKey(b.cluster, ns))) {
                out.push(`service account ${ns}/${name} (a runner KSA)`);
            }
        }
    }
    return out;
}

export const k8sRunnerRbac: FleetStackPolicy = k8sStackRule({
    name: "k8s-runner-rbac",
    description:
        "[I7] No RoleBinding or ClusterRoleBinding (or patch) gives runner KSAs, their namespace's service-account group or broad groups " +
        "(system:authenticated, system:serviceaccounts, ...) secrets, pods/exec, pods/attach, creation of pods or pod-creating resources, admission " +
        "configuration, certificate approval, nodes, nodes/proxy, " +
        "serviceaccounts/token, any `*`, or escalate/bind/impersonate, directly or through aggregated ClusterRoles.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "no RoleBinding or ClusterRoleBinding (or patch) gives runner KSAs (every service account of a runner namespace), `system:serviceaccounts[:<runner ns>]`, `system:authenticated`, `system:unauthenticated` or `system:anonymous` secrets, `pods/exec`, `pods/attach`, `pods/portforward`, creating pods or pod-creating resources (jobs, cronjobs, deployments, daemonsets, statefulsets, replicasets, replicationcontrollers, ScaledJobs, TaskRuns, workflows, ARC runner kinds), writing admission configuration (webhook configurations, admission policies and bindings), approving certificate requests (`certificatesigningrequests/approval`, `approve`/`sign` on `signers`), `nodes`, `nodes/proxy`, `serviceaccounts/token`, any `*`, or `escalate`/`bind`/`impersonate`; built-in `cluster-admin`/`admin`/`edit` count as dangerous; aggregated ClusterRoles (and roles aggregated into `admin`/`edit`/`view`) carry the rules they aggregate; a role the stack does not define is an advisory",
        invariants: ["I7"],
        fix: "Bind no role to runner service accounts or broad groups; give platform components their own service accounts outside runner namespaces.",
    },
    check: (m, report) => {
        for (const b of m.objects) {
            if ((b.kind !== "RoleBinding" && b.kind !== "ClusterRoleBinding") || b.group !== "rbac.authorization.k8s.io") {
                continue;
            }
            const who = runnerSubjects(m, b);
            if (who.length === 0) {
                continue;
            }
            const refKind = get(b.props, "roleRef", "kind");
            const refName = get(b.props, "roleRef", "name");
            if (unknown(refKind) || unknown(refName) || typeof refName !== "string") {
                report.advisory(`cannot decide during preview: the roleRef of ${b.kind} ${b.name} is unknown; it binds ${who.join(", ")}.`, b.urn);
                continue;
            }
            const scope = b.kind === "ClusterRoleBinding" ? "cluster-wide" : `in namespace "${b.namespace}"`;
            const { rules, found, builtin } = roleRules(m, b.cluster, String(refKind), refName, b.namespace);
            const danger = [...(builtin ? [builtin] : []), ...dangerousRules(rules)];
            const undecidedSubjects = who.every((w) => w.includes("unknown"));
            if (danger.length > 0) {
                const msg = `${b.kind}${b.patch ? "Patch" : ""} ${b.name} gives ${who.join(", ")} ${refKind} ${refName} ${scope}: ${danger.join("; ")}.`;
                if (undecidedSubjects) {
                    report.advisory(`cannot decide during preview: ${msg}`, b.urn);
                } else {
                    report.violation(msg, b.urn);
                }
            } else if (!found) {
                report.advisory(`cannot decide: ${b.kind} ${b.name} binds ${who.join(", ")} to ${refKind} ${refName}, which the stack does not define.`, b.urn);
            }
        }
    },
});
