/**
 * Principal forms the model cannot resolve to a set of members it sees. Fail closed: such a principal
 * may contain every runner (a domain or group the stack does not define the whole membership of, a
 * federated principal set a build can obtain a token for, a new `principal://` form, a wildcard), so
 * it may hold no platform capability. Principals the model does resolve: service accounts, users,
 * the Workload Identity forms of GKE (principals.ts) and the public principals (treated as every
 * runner already).
 */
import { isPublicMember, workloadIdentityScope } from "./principals";
import { Principal } from "./types";

/** Why a principal's membership cannot be resolved, or undefined when it can. */
export function unresolvableForm(p: Principal): string | undefined {
    if (p.sa || p.unresolved) {
        return undefined;
    }
    const id = p.id.trim();
    if (/^(serviceAccount|user|deleted:serviceAccount|deleted:user):[^*]+$/i.test(id) || /^wi:/.test(id)) {
        return undefined;
    }
    if (isPublicMember(id) && !/^domain:/i.test(id)) {
        return undefined;
    }
    if (id.includes("*") && !workloadIdentityScope(id)) {
        return "it is a wildcard";
    }
    if (/^domain:/i.test(id)) {
        return "a domain's membership is outside the stack";
    }
    if (/^group:/i.test(id)) {
        return "a group's full membership is outside the stack";
    }
    if (/^(projectOwner|projectEditor|projectViewer):/i.test(id)) {
        return "a project role convenience value stands for whoever holds that role";
    }
    if (/^principal(Set)?:\/\//i.test(id)) {
        if (workloadIdentityScope(id)) {
            return undefined;
        }
        return /^principalSet:/i.test(id)
            ? "a federated principal set: any workload that can obtain a token for it (a build's OIDC token among them) is a member"
            : "a principal form the pack does not understand";
    }
    if (/^serviceAccount:.*\.svc\.id\.goog\[/i.test(id)) {
        return undefined;
    }
    return "a principal form the pack does not understand";
}
