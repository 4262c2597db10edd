/**
 * Kubernetes workloads of the model: the namespaces runner pods run in, and which Workload
 * Identity principals stand for them (a runner namespace's KSAs, a runner cluster, a whole
 * project's workload pool).
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { poolOf, roleOf } from "./labels";
import { get, unknown } from "./props";
import { k8sModel, nsName } from "./kubernetes";
import { isPodHoldingType, podNamespaceOf, podNamespaceProp, podTemplateSites } from "../recognisers/podTemplates";
import { depsOf, str } from "./lookup";
import { PrincipalIndex, workloadIdentityScope } from "./principals";
import { ComputeNode, Principal, RunnerNamespace, T } from "./types";

export class WorkloadIndex extends PrincipalIndex {
    /** Kubernetes namespaces runner pods run in, by name. */
    readonly runnerNamespaces = new Map<string, RunnerNamespace>();
    /** Namespace resources that are runner namespaces (also when their name is unknown during a preview). */
    protected readonly runnerNamespaceUrns = new Set<string>();

    private addRunnerNamespace(name: string, pool: string | undefined, via: string): void {
        let ns = this.runnerNamespaces.get(name);
        if (!ns) {
            ns = { name, pools: new Set(), via };
            this.runnerNamespaces.set(name, ns);
        }
        if (pool) {
            ns.pools.add(pool);
        }
    }

    /**
     * Runner namespaces: Namespaces labelled runner (by `metadata.name`), and the namespaces of
     * runner pods (runner-labelled or gVisor workloads, ARC runner sets, gha-runner-scale-set releases).
     */
    protected indexRunnerNamespaces(): void {
        for (const r of this.of(T.k8sNamespace)) {
            const props = this.props(r);
            if (roleOf(r.type, props) !== "runner") {
                continue;
            }
            this.runnerNamespaceUrns.add(r.urn);
            const name = str(get(props, "metadata", "name"));
            if (name) {
                this.addRunnerNamespace(name, poolOf(r.type, props), `Namespace ${r.name} is labelled runner`);
            }
        }
        for (const r of this.resources) {
            if (!isPodHoldingType(r.type)) {
                continue;
            }
            this.indexPodHolder(r);
        }
        // And every namespace the Kubernetes model calls a runner namespace (NamespacePatch labels,
        // ARC runner kinds, scale-set releases, Helm namespace overrides): one classification for
        // the Kubernetes rules and for the Workload Identity principals of the IAM rules.
        for (const [key, why] of k8sModel(this.resources).runnerNamespaces) {
            const name = nsName(key);
            if (!this.runnerNamespaces.has(name)) {
                this.addRunnerNamespace(name, undefined, `namespace ${name}: ${why}`);
            }
        }
    }

    private indexPodHolder(r: PolicyResource): void {
        const props = this.props(r);
        const sites = podTemplateSites(r.type, props).filter((site) => site.runner);
        if (sites.length === 0) {
            return;
        }
        const pool = sites.find((site) => site.pool !== undefined)?.pool ?? poolOf(r.type, props);
        const via = `runner pods of ${r.type.split(":").pop()} ${r.name} run there`;
        const ns = podNamespaceOf(r.type, props);
        if (unknown(ns)) {
            for (const d of depsOf(r, podNamespaceProp(r.type), [T.k8sNamespace])) {
                this.runnerNamespaceUrns.add(d.urn);
                const name = str(get(d.props, "metadata", "name"));
                if (name) {
                    this.addRunnerNamespace(name, pool, via);
                }
            }
        } else {
            // Without a namespace the pods land in the provider's default namespace.
            const providerNs = r.provider ? str(get(r.provider.props, "namespace")) : undefined;
            this.addRunnerNamespace(typeof ns === "string" && ns !== "" ? ns : providerNs ?? "default", pool, via);
        }
    }

    /** Why a Workload Identity principal is a runner identity, or undefined when it is not one. */
    protected workloadPrincipalRunner(p: Principal, runnerClusters: ComputeNode[], clusterNode: (ref: string) => ComputeNode[]): { via: string; pools: Set<string> } | undefined {
        const fromDeps = this.workloadPrincipalNamespace(p.id);
        if (fromDeps) {
            const ns = fromDeps.nsName !== undefined ? this.runnerNamespaces.get(fromDeps.nsName) : undefined;
            if (ns) {
                return { via: `it is the Workload Identity of runner namespace ${ns.name} (${ns.via})`, pools: ns.pools };
            }
            if (fromDeps.nsUrn !== undefined && this.runnerNamespaceUrns.has(fromDeps.nsUrn)) {
                return { via: "it is the Workload Identity of a runner namespace", pools: new Set() };
            }
            return undefined;
        }
        const scope = workloadIdentityScope(p.id);
        if (!scope) {
            return undefined;
        }
        if ("namespace" in scope) {
            const ns = this.runnerNamespaces.get(scope.namespace);
            return ns ? { via: `runner pods in namespace ${ns.name} act as it through Workload Identity (${ns.via})`, pools: ns.pools } : undefined;
        }
        if ("cluster" in scope) {
            const nodes = clusterNode(scope.cluster).filter((n) => n.isRunner);
            if (nodes.length === 0) {
                return undefined;
            }
            return { via: `every pod of runner cluster ${nodes[0].res.name} acts as it through Workload Identity`, pools: new Set(nodes.map((n) => n.pool).filter((x): x is string => x !== undefined)) };
        }
        // The whole workload pool of a project: every cluster there, so any runner pod of the project.
        const inProject = runnerClusters.filter((n) => this.projectOf(n.res) === scope.project);
        if (inProject.length === 0 && this.runnerNamespaces.size === 0) {
            return undefined;
        }
        const pools = new Set<string>();
        for (const n of inProject) {
            if (n.pool) {
                pools.add(n.pool);
            }
        }
        for (const ns of this.runnerNamespaces.values()) {
            ns.pools.forEach((x) => pools.add(x));
        }
        return { via: `every Kubernetes workload of project ${scope.project} acts as it through Workload Identity, runner pods included`, pools };
    }
}
