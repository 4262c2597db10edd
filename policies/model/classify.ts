/**
 * Classification: who is a runner, who is platform, which networks serve which pool, what the
 * signer is. Labels say what a resource claims to be; the graph decides: unlabelled compute is a
 * runner, and compute labelled otherwise that runs as a runner identity is a runner all the same.
 *
 * Runner identities: the identities runner compute runs as, the Workload Identity principals of
 * runner pods, groups with a membership of a runner identity in the stack, and whatever any of
 * those can impersonate. (Public principals contain every runner too: runnerLeastPrivilege.ts.)
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { poolOf, roleOf } from "./labels";
import { get, unknown, UNKNOWN_VALUE } from "./props";
import { GrantReader } from "./describe";
import { depsOf, push, resolveRef, str } from "./lookup";
import { ComputeNode, Grant, PoolNetwork, Principal, RunnerIdentity, T } from "./types";

export class Classified extends GrantReader {
    readonly runnerIdentities = new Map<string, RunnerIdentity>();
    readonly runnerNetworks = new Map<string, PoolNetwork>();
    readonly signerKeys: PolicyResource[] = [];
    readonly signerIdentities = new Map<string, Principal>();
    /** Where the signer identity came from. */
    signerIdentitySource: "service" | "binding" | "none" = "none";
    readonly signerNodes: ComputeNode[] = [];
    readonly signerNetworks = new Map<string, PolicyResource>();
    readonly controlPlaneNetworks = new Map<string, PolicyResource>();
    readonly signerProjects = new Set<string>();
    signerProjectUnknown = false;
    readonly provenanceBuckets: PolicyResource[] = [];
    /** Intake buckets (control-plane labelled, with a pool label) by URN -> pool. */
    readonly intakeBuckets = new Map<string, string>();
    /** Group principal id -> member principals (GroupMembership resources of the stack). */
    readonly groupMembers = new Map<string, Principal[]>();

    protected classify(): void {
        this.indexMemberships();
        // A cluster that hosts a runner node pool runs tenant code whatever its label says.
        for (const node of this.compute) {
            if (node.kind === "nodePool" && node.isRunner) {
                const project = str(this.projectOf(node.res));
                const res = resolveRef(node.res, "cluster", get(node.res.props, "cluster"), [T.cluster], (ref) => this.clusters.find(ref, project));
                for (const c of res.found) {
                    const cn = this.computeByUrn.get(c.urn);
                    if (cn && !cn.isRunner) {
                        cn.isRunner = true;
                        cn.overridden = `labelled ${cn.role} but hosts runner node pool ${node.res.name}`;
                    }
                }
            }
        }
        for (const node of this.compute) {
            if (node.isRunner) {
                this.addRunnerCompute(node);
            }
        }
        for (const node of this.compute) {
            if (node.isRunner) {
                continue;
            }
            const into = node.role === "signer" ? this.signerNetworks : this.controlPlaneNetworks;
            if (node.role === "signer") {
                this.signerNodes.push(node);
            }
            for (const n of node.networks) {
                into.set(n.urn, n);
            }
        }
        // Runner pods act as the Workload Identity principals of their namespace.
        const runnerClusters = this.compute.filter((n) => n.isRunner && (n.kind === "cluster" || n.kind === "nodePool"));
        for (const p of this.allPrincipals()) {
            if (p.sa || p.unresolved) {
                continue;
            }
            const hit = this.workloadPrincipalRunner(p, runnerClusters, (ref) => this.clusterNodes(ref));
            if (hit) {
                this.addRunnerIdentity(p, hit.pools, hit.via, true);
            }
        }
        this.closeRunnerIdentities();
        this.classifySigner();
        for (const b of this.of(T.bucket)) {
            const props = this.props(b);
            const role = roleOf(b.type, props);
            const pool = poolOf(b.type, props);
            if (role === "signer") {
                this.provenanceBuckets.push(b);
            } else if (role === "control-plane" && pool !== undefined) {
                this.intakeBuckets.set(b.urn, pool);
            }
        }
    }

    private addRunnerCompute(node: ComputeNode): void {
        const pools = new Set(node.pool ? [node.pool] : []);
        for (const p of node.identities) {
            this.addRunnerIdentity(p, pools, `${node.res.name} runs as it`, true);
        }
        for (const n of node.networks) {
            let pn = this.runnerNetworks.get(n.urn);
            if (!pn) {
                pn = { network: n, pools: new Set(), attached: [] };
                this.runnerNetworks.set(n.urn, pn);
            }
            if (node.pool) {
                pn.pools.add(node.pool);
            }
            pn.attached.push(node.res);
        }
    }

    /** GroupMembership resources: a member (literal or dependency) of a group (by key, name or dependency). */
    private indexMemberships(): void {
        for (const m of this.of(T.groupMembership)) {
            const key = get(m.props, "preferredMemberKey", "id");
            const members: Principal[] = unknown(key) || key === undefined
                ? depsOf(m, "preferredMemberKey", [T.serviceAccount]).map((sa) => this.principalOfSa(sa))
                : typeof key === "string" ? [this.findSa(key) ? this.principalOfSa(this.findSa(key)!) : this.principalOfMember(`user:${key}`)] : [];
            const gv = get(m.props, "group");
            const res = resolveRef(m, "group", gv, [T.group], (ref) => this.of(T.group).filter((g) => str(get(g.props, "name")) === ref));
            const groups = res.found.map((g) => str(get(g.props, "groupKey", "id"))).filter((x): x is string => x !== undefined);
            if (res.found.length === 0 && res.external) {
                groups.push(res.external);
            }
            for (const gid of groups) {
                const gp = this.principalOfMember(`group:${gid.replace(/^groups\//, "")}`);
                for (const p of members) {
                    push(this.groupMembers, gp.id, p);
                }
            }
        }
    }

    protected addRunnerIdentity(p: Principal, pools: Set<string>, via: string, direct: boolean): boolean {
        if (p.unresolved) {
            return false;
        }
        let ri = this.runnerIdentities.get(p.id);
        const isNew = !ri;
        if (!ri) {
            ri = { principal: p, pools: new Set(), via, direct };
            this.runnerIdentities.set(p.id, ri);
        } else if (direct && !ri.direct) {
            ri.direct = true;
            ri.via = via;
        }
        pools.forEach((x) => ri!.pools.add(x));
        return isNew;
    }

    /** Whatever a runner identity can impersonate, and every group it belongs to, is a runner identity (breadth-first, linear). */
    private closeRunnerIdentities(): void {
        const edges = new Map<string, { to: Principal; why: string }[]>();
        for (const [gid, members] of this.groupMembers) {
            for (const m of members) {
                push(edges, m.id, { to: this.principalOfMember(gid), why: "it is a member of the group" });
            }
        }
        for (const g of this.grants) {
            if (this.can(g, "impersonate") !== "yes") {
                continue;
            }
            for (const t of this.impersonationTargets(g)) {
                for (const m of g.members) {
                    push(edges, m.id, { to: this.principalOfSa(t), why: `it can impersonate it via ${this.roleText(g)} [${g.res.name}]` });
                }
            }
        }
        const queue = [...this.runnerIdentities.keys()];
        for (let i = 0; i < queue.length; i++) {
            const from = this.runnerIdentities.get(queue[i])!;
            for (const { to, why } of edges.get(queue[i]) ?? []) {
                if (to.id === from.principal.id) {
                    continue;
                }
                if (this.addRunnerIdentity(to, from.pools, `runner identity ${from.principal.label}: ${why}`, false)) {
                    queue.push(to.id);
                }
            }
        }
    }

    /** The service accounts of the stack a grant lets its members act as (when its role can). */
    impersonationTargets(g: Grant): PolicyResource[] {
        if (g.scope === "serviceAccount") {
            return g.target ? [g.target] : [];
        }
        if (g.scope === "project") {
            return g.targetId ? this.saByProject.get(g.targetId) ?? [] : [];
        }
        if (g.scope === "folder" || g.scope === "org") {
            return this.of(T.serviceAccount);
        }
        return [];
    }

    private classifySigner(): void {
        for (const k of this.of(T.cryptoKey)) {
            const props = this.props(k);
            // Any asymmetric signing key counts (fail closed); a CMEK key ring's encryption keys do not.
            if (get(props, "purpose") === "ASYMMETRIC_SIGN" || roleOf(k.type, props) === "signer") {
                this.signerKeys.push(k);
            }
        }
        // A signer-labelled service that cannot sign (no signing grant anywhere) is not a second
        // signer, as long as some signer-labelled service can.
        const labelled = this.signerNodes.flatMap((n) => n.identities);
        const signing = labelled.filter((p) => this.mayHoldSign(p));
        for (const p of signing.length > 0 ? signing : labelled) {
            this.signerIdentities.set(p.id, p);
        }
        if (this.signerIdentities.size > 0) {
            this.signerIdentitySource = "service";
        } else {
            // No signer service: the members of the authoritative signing binding on the key.
            for (const k of this.signerKeys) {
                for (const g of this.grantsByTarget.get(k.urn) ?? []) {
                    if (!/IAMMember$/.test(g.res.type) && this.can(g, "sign") === "yes") {
                        g.members.filter((p) => !p.unresolved).forEach((p) => this.signerIdentities.set(p.id, p));
                    }
                }
            }
            if (this.signerIdentities.size > 0) {
                this.signerIdentitySource = "binding";
            }
        }
        const addProject = (p: string | typeof UNKNOWN_VALUE | undefined) => {
            if (typeof p === "string") {
                this.signerProjects.add(p);
            } else if (p === UNKNOWN_VALUE) {
                this.signerProjectUnknown = true;
            }
        };
        this.signerKeys.forEach((k) => addProject(this.keyProject(k)));
        for (const p of this.signerIdentities.values()) {
            if (p.sa) {
                addProject(this.projectOf(p.sa));
            }
        }
        this.signerNodes.forEach((n) => addProject(this.projectOf(n.res)));
    }

    /** True when some grant of the stack may give `p` a signing role (or its role is unknown). */
    private mayHoldSign(p: Principal): boolean {
        return this.grants.some((g) => g.members.includes(p) && this.can(g, "sign") !== "no");
    }

    /** True when `p` is a runner identity. */
    isRunner(p: Principal): boolean {
        return this.runnerIdentities.has(p.id);
    }

    /** The runner pool(s) a network serves (from runner attachments). */
    poolsOfNetwork(n: PolicyResource): Set<string> {
        return this.runnerNetworks.get(n.urn)?.pools ?? new Set();
    }

    /** Networks of the fleet: runner, signer and control-plane networks. */
    fleetNetworks(): Map<string, { network: PolicyResource; zone: string }> {
        const out = new Map<string, { network: PolicyResource; zone: string }>();
        for (const [urn, pn] of this.runnerNetworks) {
            out.set(urn, { network: pn.network, zone: pn.pools.size > 0 ? `runner network of pool ${[...pn.pools].join(", ")}` : "runner network" });
        }
        for (const [urn, n] of this.controlPlaneNetworks) {
            if (!out.has(urn)) {
                out.set(urn, { network: n, zone: "control-plane network" });
            }
        }
        for (const [urn, n] of this.signerNetworks) {
            out.set(urn, { network: n, zone: "signer network" });
        }
        return out;
    }
}
