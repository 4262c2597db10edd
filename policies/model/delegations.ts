/**
 * Token delegations: resources that make Google mint tokens for a service account and send them to
 * an endpoint the resource names (Pub/Sub push, Cloud Scheduler and Cloud Tasks HTTP targets,
 * Eventarc triggers). Whoever serves the endpoint holds the identity's token for the audience the
 * resource chooses, so each is one more way to act as that identity. (Pub/Sub BigQuery and Cloud
 * Storage subscriptions write as an identity into a table or bucket they name, but hand out no
 * token; they are not counted.) Read once per model.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { unknown } from "./props";
import { valuesAt } from "./computeKinds";
import { depsOf } from "./lookup";
import { Principal, T } from "./types";
import type { FleetGraph } from "./index";

interface DelegationSpec {
    /** Paths to the service-account email tokens are minted for (the first key is the dependency key). */
    identities: string[][];
    /** Paths to where the tokens go. */
    endpoints: string[][];
}

/** One row per kind, reviewable; a kind with no identity set mints nothing and is no delegation. */
export const DELEGATION_KINDS: Record<string, DelegationSpec> = {
    "gcp:pubsub/subscription:Subscription": {
        identities: [["pushConfig", "oidcToken", "serviceAccountEmail"]],
        endpoints: [["pushConfig", "pushEndpoint"]],
    },
    "gcp:cloudscheduler/job:Job": {
        identities: [["httpTarget", "oidcToken", "serviceAccountEmail"], ["httpTarget", "oauthToken", "serviceAccountEmail"]],
        endpoints: [["httpTarget", "uri"]],
    },
    "gcp:cloudtasks/queue:Queue": {
        identities: [["httpTarget", "oidcToken", "serviceAccountEmail"], ["httpTarget", "oauthToken", "serviceAccountEmail"]],
        endpoints: [["httpTarget", "uriOverride", "host"]],
    },
    "gcp:eventarc/trigger:Trigger": {
        identities: [["serviceAccount"]],
        endpoints: [["destination", "cloudRunService", "service"], ["destination", "workflow"], ["destination", "httpEndpoint", "uri"]],
    },
};

export interface Delegation {
    res: PolicyResource;
    identities: Principal[];
    /** True when an identity is unknown during a preview and depends on no service account. */
    identityUnknown: boolean;
    /** Literal endpoints; "unknown" entries are values unknown during a preview. */
    endpoints: (string | "unknown")[];
    /** Resources the endpoint values depend on (a Cloud Run service whose URL they carry). */
    endpointDeps: PolicyResource[];
}

const cache = new WeakMap<FleetGraph, Delegation[]>();

/** Every token delegation of the stack that names an identity. */
export function tokenDelegations(g: FleetGraph): Delegation[] {
    let out = cache.get(g);
    if (out) {
        return out;
    }
    out = [];
    for (const [type, spec] of Object.entries(DELEGATION_KINDS)) {
        for (const r of g.of(type)) {
            const props = g.props(r);
            const d: Delegation = { res: r, identities: [], identityUnknown: false, endpoints: [], endpointDeps: [] };
            for (const path of spec.identities) {
                for (const v of valuesAt(props, path)) {
                    const res = g.identitiesOf(r, path[0], v);
                    d.identities.push(...res.ids);
                    d.identityUnknown ||= res.unknown;
                }
            }
            if (d.identities.length === 0 && !d.identityUnknown) {
                continue;
            }
            for (const path of spec.endpoints) {
                for (const v of valuesAt(props, path)) {
                    d.endpoints.push(unknown(v) ? "unknown" : String(v));
                }
                d.endpointDeps.push(...depsOf(r, path[0], [T.runService, T.runServiceV1]));
            }
            out.push(d);
        }
    }
    cache.set(g, out);
    return out;
}

/** True when every place the delegation sends its tokens is one of `services` (by dependency, name or URL). */
export function sendsOnlyTo(g: FleetGraph, d: Delegation, services: PolicyResource[]): boolean {
    if (d.endpoints.length === 0 && d.endpointDeps.length === 0) {
        return false;
    }
    const urns = new Set(services.map((s) => s.urn));
    const known = services.flatMap((s) => {
        const props = g.props(s);
        return [props.name, props.uri, props.status?.url, ...(Array.isArray(props.urls) ? props.urls : [])].filter((x): x is string => typeof x === "string" && x !== "");
    });
    const viaDeps = d.endpointDeps.length > 0 && d.endpointDeps.every((x) => urns.has(x.urn));
    return d.endpoints.every((e) => (e === "unknown" ? viaDeps : known.some((k) => e === k || e.startsWith(`${k}/`) || (viaDeps && e.startsWith(k)))));
}

/** A readable form of where a delegation sends its tokens. */
export function endpointText(d: Delegation): string {
    const literal = d.endpoints.filter((e) => e !== "unknown");
    return literal.length > 0 ? literal.join(", ") : d.endpoints.length > 0 ? "an endpoint unknown until apply" : "the destination it names";
}

