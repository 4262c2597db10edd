/**
 * The plan summary: resources per component and per pool, and each isolation zone with its
 * networks and identities.
 */
import { CapturedResource, ProgramRun, STACK_TYPE } from "../engine";
import { known, typeName, Zoning, zoneResources } from "./zones";

export interface ComponentCount {
    urn: string;
    /** Short type name, e.g. "RunnerPool". */
    type: string;
    name: string;
    /** Nesting depth below the stack (0 = top-level component). */
    depth: number;
    /** Custom resources anywhere below the component. */
    resources: number;
}

export interface PoolCount {
    pool: string;
    resources: number;
}

export interface ZoneSummary {
    id: string;
    kind: string;
    /** The pool name, for a pool zone. */
    pool?: string;
    label: string;
    /** Networks, with their subnet ranges where known: "pool-a-net (10.10.0.0/24)". */
    networks: string[];
    /** Service-account emails (or account ids during a preview). */
    identities: string[];
    /** Custom resources in the zone. */
    resources: number;
}

export interface PlanSummary {
    project: string;
    stack: string;
    preview: boolean;
    /** Every registered resource except the stack (components, custom resources, providers). */
    resources: number;
    /** Provider-managed resources (what `pulumi up` creates), excluding providers. */
    customResources: number;
    components: number;
    byComponent: ComponentCount[];
    byPool: PoolCount[];
    zones: ZoneSummary[];
    /** Custom resources outside every zone. */
    unzoned: number;
    /** Those resources' URNs, in registration order. */
    unzonedUrns: string[];
}


/** True for a resource `pulumi up` creates: custom, not a provider. */
export function isManaged(r: CapturedResource): boolean {
    return r.custom && !r.type.startsWith("pulumi:providers:");
}

/** Summarises `run`; pass the zoning when the caller has it already. */
export function summarize(run: ProgramRun, zoning: Zoning = zoneResources(run)): PlanSummary {
    const counts = new Map<string, number>();
    const depth = new Map<string, number>();
    const components = run.resources.filter((r) => !r.custom && r.type !== STACK_TYPE);
    for (const c of components) {
        counts.set(c.urn, 0);
        let d = 0;
        for (let p = c.parent; p !== undefined && run.byUrn.get(p)?.type !== STACK_TYPE; p = run.byUrn.get(p)?.parent) {
            d++;
        }
        depth.set(c.urn, d);
    }
    const perZone = new Map<string, number>();
    let managed = 0;
    const unzonedUrns: string[] = [];
    for (const r of run.resources) {
        if (!isManaged(r)) {
            continue;
        }
        managed++;
        for (let p = r.parent; p !== undefined; p = run.byUrn.get(p)?.parent) {
            if (counts.has(p)) {
                counts.set(p, counts.get(p)! + 1);
            }
        }
        const z = zoning.zoneOf(r.urn);
        if (z) {
            perZone.set(z.id, (perZone.get(z.id) ?? 0) + 1);
        } else {
            unzonedUrns.push(r.urn);
        }
    }

    // Component tree in pre-order so nested components follow their parent.
    const childrenOf = new Map<string, CapturedResource[]>();
    for (const c of components) {
        const list = childrenOf.get(c.parent ?? "") ?? [];
        list.push(c);
        childrenOf.set(c.parent ?? "", list);
    }
    const byComponent: ComponentCount[] = [];
    const visit = (c: CapturedResource) => {
        byComponent.push({ urn: c.urn, type: typeName(c.type), name: c.name, depth: depth.get(c.urn) ?? 0, resources: counts.get(c.urn) ?? 0 });
        (childrenOf.get(c.urn) ?? []).forEach(visit);
    };
    components.filter((c) => !counts.has(c.parent ?? "")).forEach(visit);

    const subnetsOf = new Map<string, string[]>();
    for (const r of run.resources) {
        if (r.type === "gcp:compute/subnetwork:Subnetwork") {
            const cidr = known(r.inputs.ipCidrRange);
            for (const u of r.propertyDependencies.network ?? []) {
                if (cidr) {
                    subnetsOf.set(u, [...(subnetsOf.get(u) ?? []), cidr]);
                }
            }
        }
    }
    const zones: ZoneSummary[] = zoning.zones.map((z) => ({ id: z.id, kind: z.kind, pool: z.pool, label: z.label, networks: [], identities: [], resources: perZone.get(z.id) ?? 0 }));
    const zoneById = new Map(zones.map((z) => [z.id, z]));
    for (const r of run.resources) {
        const z = zoneById.get(zoning.zoneOf(r.urn)?.id ?? "");
        if (!z || !r.custom) {
            continue;
        }
        if (r.type === "gcp:compute/network:Network") {
            const name = known(r.outputs.name) ?? known(r.inputs.name) ?? r.name;
            const cidrs = subnetsOf.get(r.urn);
            z.networks.push(cidrs ? `${name} (${cidrs.join(", ")})` : name);
        } else if (r.type === "gcp:serviceaccount/account:Account") {
            z.identities.push(known(r.outputs.email) ?? known(r.inputs.accountId) ?? r.name);
        }
    }

    return {
        project: run.project,
        stack: run.stack,
        preview: run.preview,
        resources: run.resources.filter((r) => r.type !== STACK_TYPE).length,
        customResources: managed,
        components: components.length,
        byComponent,
        byPool: zones.filter((z) => z.kind === "runner").map((z) => ({ pool: z.pool ?? z.label, resources: z.resources })),
        zones,
        unzoned: unzonedUrns.length,
        unzonedUrns,
    };
}
