/**
 * One model of a stack that every stack rule and report reads: built once
 * per resources array, then frozen.
 *
 * Layers, each its own module: refs (one node per resource whatever the spelling), networks,
 * principals (service accounts, members, Workload Identity), workloads (runner namespaces),
 * compute (every kind that runs code, computeKinds.ts), grants (IAM in every form, ACLs,
 * credentials), describe (message text), classify (runner / platform / signer / networks).
 * Firewall semantics live in firewalls.ts over the same model.
 *
 * Unknown values (preview) are decided from `propertyDependencies`; what stays undecidable is kept
 * explicit (unresolved principals, unknown targets, opaque grants and compute) so rules say so.
 * Cost: every step is linear in resources + grant members.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { UNDECIDED_PREFIX } from "./props";
import { Classified } from "./classify";
import { sharedModel } from "../contract/share";

export class FleetGraph extends Classified {
    constructor(resources: PolicyResource[]) {
        super(resources);
        this.indexRunnerNamespaces();
        for (const r of resources) {
            this.indexCompute(r);
        }
        for (const r of resources) {
            this.indexGrantsOf(r);
        }
        this.classify();
        // Rules read the model; none may change it. The resources array is the host's, not ours.
        for (const v of Object.values(this)) {
            if (Array.isArray(v) && v !== resources) {
                Object.freeze(v);
            }
        }
        for (const n of this.compute) {
            Object.freeze(n);
        }
        for (const g of this.grants) {
            Object.freeze(g);
        }
        Object.freeze(this);
    }
}

const cache = new WeakMap<object, FleetGraph>();

/**
 * The model of one `args.resources` array, built once and shared by every caller passing that same
 * array (a pack composing these rules; tests), and by every stack policy of one evaluation when the
 * host opens a scope for it (share.ts). The analyzer builds a new array per stack policy.
 */
export function fleetGraph(resources: PolicyResource[]): FleetGraph {
    let g = cache.get(resources);
    if (!g) {
        g = sharedModel(resources.map((r) => r.urn), () => new FleetGraph(resources));
        cache.set(resources, g);
    }
    return g;
}

/** Prefix for findings a rule cannot decide because values are unknown during preview. */
export const UNDECIDED = UNDECIDED_PREFIX;

export * from "./types";
export { normRef, depsOf, resolveRef, str } from "./lookup";
export { workloadIdentityScope, isFederatedPrincipal, isPublicMember, WorkloadScope } from "./principals";
export { iamTypeOf } from "./grants";
export { MANAGED_KINDS, CORE_KINDS } from "./computeKinds";
