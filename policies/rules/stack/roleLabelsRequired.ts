/**
 * role-labels-required (classification, fail closed): every VM, instance template, node pool, GKE
 * cluster and Kubernetes workload/namespace carries `build-fleet-role` (runners also
 * `build-fleet-pool`), and no resource labelled non-runner is a runner by the graph (runs as a
 * runner identity, attaches to a runner network, or runs in a runner namespace): label laundering.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { labelsOf, POOL_LABEL, roleOf, poolOf, ROLE_LABEL } from "../../model/labels";
import { get, unknown, unwrap } from "../../model/props";
import { FleetStackPolicy } from "../../meta";
import { CORE_KINDS, depsOf, FleetGraph, isK8sWorkload, MANAGED_KINDS, T, UNDECIDED } from "../../model";
import { Report, stackRule } from "../../framework/stackRule";

/** Compute kinds that take no labels: they stay runners (fail closed) and need none. */
const UNLABELLABLE: ReadonlySet<string> = new Set([
    "gcp:cloudbuild/trigger:Trigger", "gcp:cloudbuild/workerPool:WorkerPool",
    "gcp:appengine/standardAppVersion:StandardAppVersion", "gcp:appengine/flexibleAppVersion:FlexibleAppVersion",
]);

/** Compute that must say which zone it is in: every kind the model classifies (model/computeKinds.ts) that takes labels. */
const GCP_TYPES: ReadonlySet<string> = new Set([...Object.keys(CORE_KINDS), ...Object.keys(MANAGED_KINDS)].filter((t) => !UNLABELLABLE.has(t)));

interface Config {
    requireRoleLabels?: boolean;
}

export const roleLabelsRequired: FleetStackPolicy = stackRule({
    name: "role-labels-required",
    description:
        `[I5, I9, I11] Every VM, instance template, node pool, GKE cluster and Kubernetes workload or namespace carries ${ROLE_LABEL} ` +
        `(runners also ${POOL_LABEL}), and nothing labelled signer or control-plane runs as a runner identity, on a runner ` +
        "network or in a runner namespace (classification fails closed).",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            requireRoleLabels: {
                type: "boolean",
                default: true,
                description: "Require the role label (and pool label for runners) on every compute and Kubernetes workload resource.",
            },
        },
    },
    meta: {
        checks: "every compute kind the model classifies that takes labels (VMs including `InstanceFromTemplate`/`InstanceFromMachineImage`, templates, node pools, clusters, Cloud Run services/jobs/worker pools (v1 labels in `metadata.labels`), Functions, Composer, Dataflow, Notebooks/Workbench, Dataproc, Workstations) and Kubernetes workloads/namespaces carry `build-fleet-role`; compute the model cannot see (a template or machine image outside the stack) is reported; a cluster labelled otherwise that hosts a runner node pool is a runner (runners also `build-fleet-pool`); nothing labelled signer or control-plane runs as a runner SA, on a runner network or in a runner namespace. Pack config `requireRoleLabels` (default true)",
        invariants: ["I5", "I9", "I11"],
        fix:
            `Label the resource ${ROLE_LABEL}=runner|signer|control-plane (and ${POOL_LABEL}=<pool> for runners) with roleLabels(); a ` +
            "resource that runs as a runner SA, on a runner network or in a runner namespace is a runner and must be labelled so.",
    },
    check: (g, report, args) => {
        const require = args.getConfig<Config>().requireRoleLabels !== false;
        // The model's runner namespaces: labelled ones, and those the graph proves (patches, runner pods, ARC kinds).
        const runnerNamespaces = g.runnerNamespaces;

        for (const r of g.resources) {
            if (require && (GCP_TYPES.has(r.type) || r.type === T.k8sNamespace || isK8sWorkload(r.type))) {
                checkLabels(g, r, report);
            }
        }

        // What the model cannot see, and labels the graph overrides.
        for (const n of g.compute) {
            if (n.opaque) {
                report(`${n.res.type.split(":").pop()} ${n.res.name}: ${n.opaque}; it cannot be classified (fail closed): declare it in the stack or set its service account and network explicitly`, n.res.urn);
            }
            if (n.overridden) {
                report(`${n.res.name} is ${n.overridden}: it runs tenant code, so it is a runner (label it runner)`, n.res.urn);
            }
        }
        // Label laundering: the graph says runner, the label says otherwise.
        for (const n of g.compute) {
            if (n.isRunner || n.role === undefined || n.role === "runner") {
                continue;
            }
            for (const p of n.identities) {
                const ri = g.runnerIdentities.get(p.id);
                if (ri?.direct) {
                    report(`${n.res.name} is labelled ${ROLE_LABEL}=${n.role} but runs as runner identity ${p.label} (${ri.via}): label it runner or give it its own service account`, n.res.urn);
                }
            }
            for (const net of n.networks) {
                const pn = g.runnerNetworks.get(net.urn);
                // A runner on the signer network is reported by runner-network-attachment.
                if (pn && !g.signerNetworks.has(net.urn)) {
                    report(`${n.res.name} is labelled ${ROLE_LABEL}=${n.role} but attaches to runner network ${g.networkLabel(net)}${pn.pools.size > 0 ? ` of pool ${[...pn.pools].join(", ")}` : ""}`, n.res.urn);
                }
            }
        }
        if (runnerNamespaces.size === 0) {
            return;
        }
        for (const r of g.resources) {
            if (!isK8sWorkload(r.type)) {
                continue;
            }
            const role = roleOf(r.type, g.props(r));
            if (role === undefined || role === "runner") {
                continue;
            }
            const ns = get(r.props, "metadata", "namespace");
            let nsName: string | undefined = typeof ns === "string" && !unknown(ns) ? ns : undefined;
            if (unknown(ns)) {
                const dep = depsOf(r, "metadata", [T.k8sNamespace]).find((d) => runnerNamespaces.has(String(get(d.props, "metadata", "name"))));
                nsName = dep ? String(get(dep.props, "metadata", "name")) : undefined;
            }
            if (nsName !== undefined && runnerNamespaces.has(nsName)) {
                report(`${r.name} is labelled ${ROLE_LABEL}=${role} but runs in runner namespace ${nsName}`, r.urn);
            }
        }
    },
});

function checkLabels(g: FleetGraph, r: PolicyResource, report: Report): void {
    const props = g.props(r);
    const labels = unwrap(labelsOf(r.type, props));
    const kind = r.type.split(":").pop();
    if (unknown(labels) || (labels && unknown((labels as any)[ROLE_LABEL]))) {
        report(`${UNDECIDED} the labels of ${kind} ${r.name} are unknown until apply, so its role cannot be classified`, r.urn);
        return;
    }
    const role = roleOf(r.type, props);
    if (role === undefined) {
        const raw = labels ? (labels as any)[ROLE_LABEL] : undefined;
        report(
            `${kind} ${r.name} has ${raw === undefined ? "no" : `an invalid (${JSON.stringify(raw)})`} ${ROLE_LABEL} label; ` +
                (r.type.startsWith("kubernetes:")
                    ? "Kubernetes objects without a role cannot be classified (fail closed)"
                    : "unlabelled compute is treated as a runner of no pool (fail closed) and cannot be checked against a pool"),
            r.urn,
        );
        return;
    }
    if (role === "runner" && poolOf(r.type, props) === undefined) {
        const raw = labels ? (labels as any)[POOL_LABEL] : undefined;
        if (unknown(raw)) {
            report(`${UNDECIDED} the ${POOL_LABEL} label of runner ${kind} ${r.name} is unknown until apply`, r.urn);
        } else {
            report(`runner ${kind} ${r.name} has no ${POOL_LABEL} label: pool separation (I5) cannot be checked for it`, r.urn);
        }
    }
}
