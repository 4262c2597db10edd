/**
 * The reports read the same stack model the policy pack proves its rules over
 * (policies/model): a captured run is presented to it the way the analyzer presents a
 * stack (outputs as props, property dependencies and providers as resources), once per run.
 */
import type { PolicyResource } from "@pulumi/policy/policy";
import { CapturedResource, ProgramRun, providerUrnOf } from "../engine";
import { FleetGraph } from "../../policies/model";

const cache = new WeakMap<ProgramRun, FleetGraph>();

/** The stack model of `run`, built once. */
export function modelOf(run: ProgramRun): FleetGraph {
    let g = cache.get(run);
    if (!g) {
        g = new FleetGraph(asPolicyResources(run));
        cache.set(run, g);
    }
    return g;
}

function asPolicyResources(run: ProgramRun): PolicyResource[] {
    const byUrn = new Map<string, PolicyResource>();
    const make = (r: CapturedResource): PolicyResource => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: { ...r.inputs, ...r.outputs },
        opts: { protect: r.protect, ignoreChanges: r.ignoreChanges, aliases: r.aliases, additionalSecretOutputs: r.additionalSecretOutputs, customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 } },
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
    }) as unknown as PolicyResource;
    const custom = run.resources.filter((r) => r.custom || r.type.startsWith("pulumi:providers:"));
    for (const r of custom) {
        byUrn.set(r.urn, make(r));
    }
    for (const r of custom) {
        const pr = byUrn.get(r.urn)! as PolicyResource & { dependencies: PolicyResource[]; propertyDependencies: Record<string, PolicyResource[]>; provider?: unknown };
        pr.dependencies = r.dependencies.map((u) => byUrn.get(u)).filter((x): x is PolicyResource => x !== undefined);
        for (const [k, urns] of Object.entries(r.propertyDependencies)) {
            pr.propertyDependencies[k] = urns.map((u) => byUrn.get(u)).filter((x): x is PolicyResource => x !== undefined);
        }
        const provider = byUrn.get(providerUrnOf(r.provider) ?? "");
        if (provider) {
            pr.provider = { props: provider.props, type: provider.type, urn: provider.urn, name: provider.name };
        }
    }
    return custom.filter((r) => r.custom).map((r) => byUrn.get(r.urn)!);
}
