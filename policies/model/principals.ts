/**
 * Principals of the model: service accounts of the stack (one principal per account whatever the
 * member spelling), literal members, Workload Identity principals of Kubernetes workloads, and
 * members unknown during a preview resolved from `propertyDependencies`.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { get, unknown } from "./props";
import { depsOf, str, uniq } from "./lookup";
import { NetworkIndex } from "./networks";
import { Principal, T } from "./types";

/**
 * What a Workload Identity principal of a GKE workload pool (`<project>.svc.id.goog`) stands for:
 * the pods of one namespace, of one cluster, or of every cluster of the project.
 */
export type WorkloadScope = { project: string } & ({ namespace: string } | { cluster: string } | { all: true });

const WI_POOL = String.raw`principal(?:Set)?://iam\.googleapis\.com/projects/[^/]+/locations/global/workloadIdentityPools/([^/]+)\.svc\.id\.goog`;
const WI_KSA = /^serviceAccount:([^[\]]+)\.svc\.id\.goog\[([^/\]]+)\/([^\]]+)\]$/i;
const WI_SUBJECT = new RegExp(`^${WI_POOL}/subject/ns/([^/]+)/sa/([^/]+)$`, "i");
const WI_NAMESPACE = new RegExp(`^${WI_POOL}/namespace/([^/]+)$`, "i");
const WI_CLUSTER = new RegExp(`^${WI_POOL}/kubernetes\\.cluster/(.+)$`, "i");
const WI_ALL = new RegExp(`^${WI_POOL}/\\*$`, "i");

/**
 * The Kubernetes workloads a Workload Identity principal stands for: `serviceAccount:<p>.svc.id.goog[<ns>/<ksa>]`,
 * `principal://.../workloadIdentityPools/<p>.svc.id.goog/subject/ns/<ns>/sa/<ksa>`, `principalSet://.../namespace/<ns>`,
 * `principalSet://.../kubernetes.cluster/<cluster URL>` and `principalSet://.../<p>.svc.id.goog/*`.
 */
export function workloadIdentityScope(member: string): WorkloadScope | undefined {
    const m = member.trim();
    let x = WI_KSA.exec(m);
    if (x) {
        return { project: x[1], namespace: x[2] };
    }
    if ((x = WI_SUBJECT.exec(m)) || (x = WI_NAMESPACE.exec(m))) {
        return { project: x[1], namespace: x[2] };
    }
    if ((x = WI_CLUSTER.exec(m))) {
        return { project: x[1], cluster: x[2] };
    }
    if ((x = WI_ALL.exec(m))) {
        return { project: x[1], all: true };
    }
    return undefined;
}

/** Federated principals from any workload identity pool or provider (GitHub OIDC, AWS, ...), GKE pools included. */
export function isFederatedPrincipal(id: string): boolean {
    return /^principal(Set)?:\/\//i.test(id) || /\.svc\.id\.goog\[/i.test(id);
}

/** Members anyone (or any Google account) can be: never acceptable for platform power. */
export function isPublicMember(id: string): boolean {
    return /^(allUsers|allAuthenticatedUsers)$/i.test(id) || /^domain:/i.test(id) || /^principalSet:\/\/goog\/public:all$/i.test(id);
}

export class PrincipalIndex extends NetworkIndex {
    protected readonly principals = new Map<string, Principal>();
    /** Workload Identity principals resolved from Kubernetes dependencies (preview), with their namespace. */
    protected readonly workloadPrincipals = new Map<string, { nsName?: string; nsUrn?: string }>();

    principalOfSa(sa: PolicyResource): Principal {
        let p = this.principals.get(sa.urn);
        if (!p) {
            const email = str(get(sa.props, "email")) ?? this.derivedEmail(sa);
            p = { id: sa.urn, label: email ? `serviceAccount:${email}` : `service account ${sa.name}`, sa };
            this.principals.set(sa.urn, p);
        }
        return p;
    }

    /** A principal from an IAM member string (any case; `serviceAccount:` by email or unique id). */
    principalOfMember(member: string): Principal {
        const m = /^(?:deleted:)?serviceAccount:(.+?)(?:\?uid=\d+)?$/i.exec(member.trim());
        if (m) {
            const email = m[1].toLowerCase();
            const sa = this.findSa(email);
            if (sa) {
                return this.principalOfSa(sa);
            }
            return this.literalPrincipal(`serviceAccount:${email}`);
        }
        const u = /^(user|group|domain):(.+)$/i.exec(member.trim());
        return this.literalPrincipal(u ? `${u[1].toLowerCase()}:${u[2].toLowerCase()}` : member.trim());
    }

    literalPrincipal(id: string): Principal {
        let p = this.principals.get(id);
        if (!p) {
            p = { id, label: id };
            this.principals.set(id, p);
        }
        return p;
    }

    protected unresolvedPrincipal(r: PolicyResource, prop: string): Principal {
        const id = `?${r.urn}#${prop}`;
        let p = this.principals.get(id);
        if (!p) {
            p = { id, label: `the ${prop} of ${r.name}`, unresolved: true };
            this.principals.set(id, p);
        }
        return p;
    }

    /**
     * Principals from dependencies of `prop`: service accounts; else the Workload Identity principals
     * of Kubernetes service accounts or namespaces it depends on; else one unresolved principal.
     */
    protected principalsFromDeps(r: PolicyResource, prop: string): Principal[] {
        const sas = depsOf(r, prop, [T.serviceAccount]);
        if (sas.length > 0) {
            return sas.map((sa) => this.principalOfSa(sa));
        }
        const wi = this.workloadPrincipalsFromDeps(r, prop);
        return wi.length > 0 ? wi : [this.unresolvedPrincipal(r, prop)];
    }

    /**
     * A member unknown during a preview that depends on a Kubernetes service account (or namespace)
     * is that account's (namespace's) Workload Identity principal.
     */
    private workloadPrincipalsFromDeps(r: PolicyResource, prop: string): Principal[] {
        const out: Principal[] = [];
        const nsOf = (d: PolicyResource): { nsName?: string; nsUrn?: string } => {
            if (d.type === T.k8sNamespace) {
                return { nsName: str(get(d.props, "metadata", "name")), nsUrn: d.urn };
            }
            const ns = get(d.props, "metadata", "namespace");
            if (typeof ns === "string" && !unknown(ns)) {
                return { nsName: ns };
            }
            const nsRes = depsOf(d, "metadata", [T.k8sNamespace])[0];
            return nsRes ? { nsName: str(get(nsRes.props, "metadata", "name")), nsUrn: nsRes.urn } : {};
        };
        for (const d of depsOf(r, prop, [T.k8sServiceAccount, T.k8sNamespace])) {
            const ns = nsOf(d);
            const ksa = d.type === T.k8sServiceAccount ? str(get(d.props, "metadata", "name")) ?? d.name : "*";
            const nsText = ns.nsName ?? (ns.nsUrn ? this.byUrn.get(ns.nsUrn)?.name : undefined) ?? "(unknown namespace)";
            const id = `wi:${ns.nsUrn ?? ns.nsName ?? d.urn}/${ksa}`;
            let p = this.principals.get(id);
            if (!p) {
                p = { id, label: `the Workload Identity principal of Kubernetes service account ${nsText}/${ksa}` };
                this.principals.set(id, p);
                this.workloadPrincipals.set(id, ns);
            }
            out.push(p);
        }
        return uniq(out);
    }

    /** Members of `member` (string) or `members` (array) -> principals. */
    protected principalsOfMembers(r: PolicyResource, prop: string, value: unknown): Principal[] {
        if (unknown(value)) {
            return this.principalsFromDeps(r, prop);
        }
        const values = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
        const out: Principal[] = [];
        let needDeps = false;
        for (const v of values) {
            if (unknown(v)) {
                needDeps = true;
            } else if (typeof v === "string" && v !== "") {
                out.push(this.principalOfMember(v));
            }
        }
        if (needDeps) {
            out.push(...this.principalsFromDeps(r, prop));
        }
        return uniq(out);
    }

    /** The identity a compute resource runs as, from a service-account email (literal or dependency). */
    identitiesOf(r: PolicyResource, prop: string, value: unknown): { ids: Principal[]; unknown: boolean } {
        if (unknown(value)) {
            const sas = depsOf(r, prop, [T.serviceAccount]);
            return { ids: sas.map((sa) => this.principalOfSa(sa)), unknown: sas.length === 0 };
        }
        if (typeof value === "string" && value !== "") {
            const sa = this.findSa(value);
            if (sa) {
                return { ids: [this.principalOfSa(sa)], unknown: false };
            }
            return { ids: [this.literalPrincipal(value === "default" ? "serviceAccount:default" : `serviceAccount:${value.toLowerCase()}`)], unknown: false };
        }
        return { ids: [], unknown: false };
    }

    /** Every principal the model knows (for classification passes). */
    allPrincipals(): Principal[] {
        return [...this.principals.values()];
    }

    /** The namespace a Workload Identity principal resolved from dependencies stands for. */
    workloadPrincipalNamespace(id: string): { nsName?: string; nsUrn?: string } | undefined {
        return this.workloadPrincipals.get(id);
    }
}
