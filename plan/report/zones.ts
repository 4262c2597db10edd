/**
 * Which isolation zone each resource belongs to: a runner pool, the signer enclave or the control
 * plane. Decided, in order, by the role-label contract (`build-fleet-role`, `build-fleet-pool`), by
 * the nearest fleet component above the resource (RunnerPool, SignerEnclave, ControlPlane), and for
 * unlabelled identities and networks by the stack model the policy pack uses (report/model.ts): the
 * zone of the compute that runs as or in them. Organization-policy guardrails, which pin one project,
 * belong to the zone that project holds (the worker project, shared by every pool, is a zone of its
 * own). Never by resource name.
 */
import type { FleetRole } from "../../components/labels";
import { CapturedResource, ProgramRun, UNKNOWN } from "../engine";
import { poolOf, roleOf } from "../../policies/model/labels";
import { isIamGrantType } from "../../policies/recognisers/iamMembers";
import { modelOf } from "./stackModel";

/** A zone is a fleet role, and the worker project shared by the pools: each runner pool is its own zone, the signer and control plane one each. */
export type ZoneKind = FleetRole | "workers";

export interface Zone {
    /** "pool:<name>", "workers", "signer" or "control-plane". */
    id: string;
    kind: ZoneKind;
    /** The pool name, for kind "runner". */
    pool?: string;
    /** "pool linux-release", "worker project (every pool)", "signer enclave", "control plane". */
    label: string;
}

export interface Zoning {
    /** Pools in order of first appearance, then the signer enclave, then the control plane (only zones that occur). */
    zones: Zone[];
    /** The zone of a resource, by URN; undefined when it belongs to none. */
    zoneOf(urn: string): Zone | undefined;
}

const COMPONENT_KINDS: Record<string, ZoneKind> = { RunnerPool: "runner", SignerEnclave: "signer", ControlPlane: "control-plane" };

/** The last segment of a type token: `hardened-build-fleet:index:RunnerPool` -> `RunnerPool`. */
export function typeName(type: string): string {
    return type.slice(type.lastIndexOf(":") + 1);
}

/** True for IAM grant resources (`...IAMMember`, `...IamBinding`, `...IAMPolicy`, ...): the pack's own test. */
export const isIamGrant = isIamGrantType;

/** A string value that is known (not the preview sentinel). */
export function known(v: unknown): string | undefined {
    return typeof v === "string" && v !== UNKNOWN && v !== "" ? v : undefined;
}

function labelZone(r: CapturedResource): { kind?: ZoneKind; pool?: string } {
    if (!r.custom) {
        return {};
    }
    const role = roleOf(r.type, r.inputs);
    const pool = known(poolOf(r.type, r.inputs));
    if (role === "signer" || role === "control-plane") {
        return { kind: role };
    }
    if (role === "runner" || pool !== undefined) {
        return { kind: "runner", pool };
    }
    return {};
}

/** Classifies every resource of `run` into its isolation zone. Linear in the graph size (times its depth). */
export function zoneResources(run: ProgramRun): Zoning {
    const zones = new Map<string, Zone>();
    const byUrn = new Map<string, Zone | undefined>();
    const zoneFor = (kind: ZoneKind, pool?: string): Zone => {
        const id = kind === "runner" ? `pool:${pool ?? "(unnamed)"}` : kind;
        let z = zones.get(id);
        if (!z) {
            const label = kind === "runner" ? `pool ${pool ?? "(unnamed)"}` : kind === "signer" ? "signer enclave" : kind === "workers" ? "worker project (every pool)" : "control plane";
            z = kind === "runner" ? { id, kind, pool: pool ?? "(unnamed)", label } : { id, kind, label };
            zones.set(id, z);
        }
        return z;
    };

    // A RunnerPool component is named after its pool's label where its children carry one.
    const poolNameOf = new Map<string, string>();
    for (const r of run.resources) {
        const pool = labelZone(r).pool;
        if (pool === undefined) {
            continue;
        }
        for (let p = r.parent; p !== undefined; p = run.byUrn.get(p)?.parent) {
            const parent = run.byUrn.get(p);
            if (parent && !parent.custom && COMPONENT_KINDS[typeName(parent.type)] === "runner") {
                if (!poolNameOf.has(p)) {
                    poolNameOf.set(p, pool);
                }
                break;
            }
        }
    }

    // Labels first, then the nearest fleet component above (memoised up the parent chain).
    const inherited = new Map<string, Zone | undefined>();
    const resolve = (urn: string | undefined): Zone | undefined => {
        if (urn === undefined) {
            return undefined;
        }
        if (inherited.has(urn)) {
            return inherited.get(urn);
        }
        const r = run.byUrn.get(urn);
        let zone: Zone | undefined;
        if (r) {
            const own = labelZone(r);
            const componentKind = r.custom ? undefined : COMPONENT_KINDS[typeName(r.type)];
            if (own.kind === "runner") {
                zone = zoneFor("runner", own.pool ?? poolOfAncestor(r.parent));
            } else if (own.kind) {
                zone = zoneFor(own.kind);
            } else if (componentKind === "runner") {
                zone = zoneFor("runner", poolNameOf.get(r.urn) ?? r.name);
            } else if (componentKind) {
                zone = zoneFor(componentKind);
            } else {
                zone = resolve(r.parent);
            }
        }
        inherited.set(urn, zone);
        return zone;
    };
    const poolOfAncestor = (urn: string | undefined): string | undefined => {
        const z = resolve(urn);
        return z?.kind === "runner" ? z.pool : undefined;
    };
    for (const r of run.resources) {
        byUrn.set(r.urn, resolve(r.urn));
    }

    // Unlabelled identities and networks: the zone of the compute the stack model says runs as or in them
    // (the pack's own classification: unlabelled compute and compute running tenant code are runners).
    const g = modelOf(run);
    for (const n of g.compute) {
        const own = byUrn.get(n.res.urn);
        const zone = n.isRunner
            ? (own?.kind === "runner" ? own : zoneFor("runner", n.pool))
            : own ?? (n.role === "signer" || n.role === "control-plane" ? zoneFor(n.role) : undefined);
        if (!zone) {
            continue;
        }
        const adopt = (urn: string) => {
            if (byUrn.get(urn) === undefined) {
                byUrn.set(urn, zone);
            }
        };
        n.identities.forEach((p) => p.sa && adopt(p.sa.urn));
        n.networks.forEach((net) => adopt(net.urn));
        n.subnets.forEach((sub) => adopt(sub.urn));
        if (n.isRunner && own !== undefined && own.kind !== "runner") {
            byUrn.set(n.res.urn, zone); // a label never overrides what the graph proves
        }
    }

    zoneGuardrails(run, byUrn, zoneFor);

    const order: Zone[] = [];
    const seen = new Set<string>();
    for (const r of run.resources) {
        const z = byUrn.get(r.urn);
        if (z && !seen.has(z.id)) {
            seen.add(z.id);
            order.push(z);
        }
    }
    const rank = (z: Zone) => ({ runner: 0, workers: 1, signer: 2, "control-plane": 3 })[z.kind];
    const ordered = order.map((z, i) => ({ z, i })).sort((a, b) => rank(a.z) - rank(b.z) || a.i - b.i).map((x) => x.z);
    return { zones: ordered, zoneOf: (urn) => byUrn.get(urn) };
}

/** Resource types that pin an organization policy on the project named by their `parent` input. */
const GUARDRAIL_TYPES = new Set(["gcp:orgpolicy/policy:Policy"]);

/**
 * Puts each unzoned guardrail (an org policy on `projects/<id>`) in the zone of the project it pins: the
 * zone kind most of that project's resources belong to (a grant of one zone may live in another's
 * project), and for pools the one pool, or the worker project's zone when several pools share it.
 */
function zoneGuardrails(run: ProgramRun, byUrn: Map<string, Zone | undefined>, zoneFor: (kind: ZoneKind, pool?: string) => Zone): void {
    const zonesOfProject = new Map<string, Map<Zone, number>>();
    for (const r of run.resources) {
        const zone = byUrn.get(r.urn);
        const project = known(r.inputs.project);
        if (zone !== undefined && project !== undefined) {
            const counts = zonesOfProject.get(project) ?? new Map<Zone, number>();
            zonesOfProject.set(project, counts.set(zone, (counts.get(zone) ?? 0) + 1));
        }
    }
    for (const r of run.resources) {
        if (!GUARDRAIL_TYPES.has(r.type) || byUrn.get(r.urn) !== undefined) {
            continue;
        }
        const project = /^projects\/([^/]+)$/.exec(known(r.inputs.parent) ?? "")?.[1];
        const counts = [...(project !== undefined ? zonesOfProject.get(project) ?? [] : [])];
        const byKind = new Map<ZoneKind, number>();
        counts.forEach(([z, n]) => byKind.set(z.kind, (byKind.get(z.kind) ?? 0) + n));
        const kind = [...byKind].sort((a, b) => b[1] - a[1])[0]?.[0];
        const pools = counts.filter(([z]) => z.kind === "runner").map(([z]) => z);
        const zone = kind === undefined ? undefined : kind !== "runner" ? zoneFor(kind) : pools.length === 1 ? pools[0] : zoneFor("workers");
        if (zone !== undefined) {
            byUrn.set(r.urn, zone);
        }
    }
}

/** Calls `fn` for every string inside a plain value. */
export function forEachString(v: unknown, fn: (s: string) => void): void {
    if (typeof v === "string") {
        fn(v);
    } else if (Array.isArray(v)) {
        v.forEach((e) => forEachString(e, fn));
    } else if (v !== null && typeof v === "object") {
        for (const e of Object.values(v)) {
            forEachString(e, fn);
        }
    }
}
