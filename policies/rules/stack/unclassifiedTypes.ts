/**
 * unclassified-resource-types (fail closed over the type universe): a resource whose type has no
 * row in the classification table (model/typeClasses.ts) - a newer provider, a CRD, a dynamic
 * provider - may run code as, grant, or route anything. Where its inputs reference the platform (by
 * value or by property dependency: a platform identity, the signer key or key ring, a platform
 * project, the signer or control-plane network, a platform bucket) the pack cannot prove it safe:
 * a violation. Any other draws an advisory. A Kubernetes custom resource that embeds a pod spec in
 * a runner namespace is refused: the workload rules cannot read its pods.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { get, unknown } from "../../model/props";
import { classOf, UNREAD_TYPES } from "../../model/typeTable";
import { isArcRunnerType } from "../../recognisers/podTemplates";
import { FleetStackPolicy } from "../../meta";
import { depsOf, FleetGraph, str, T } from "../../model";
import { listText, stackRule, UNPROVEN } from "../../framework/stackRule";

/** A platform resource an unclassified resource may reference, with what it is. */
interface PlatformRefs {
    urns: Map<string, string>;
    /** Names, ids, emails and project ids (lower case) -> what they name. */
    tokens: Map<string, string>;
}

const TOKEN_PROPS = ["name", "email", "selfLink", "projectId", "accountId", "bucket", "keyRing"];

function platformRefs(g: FleetGraph): PlatformRefs {
    const urns = new Map<string, string>();
    const tokens = new Map<string, string>();
    const add = (r: PolicyResource, what: string) => {
        urns.set(r.urn, what);
        for (const k of TOKEN_PROPS) {
            const v = str(get(g.props(r), k));
            if (v && k !== "keyRing" && k !== "bucket") {
                tokens.set(v.toLowerCase(), what);
            }
        }
    };
    g.signerKeys.forEach((k) => {
        add(k, `signer key ${k.name}`);
        for (const ring of depsOf(k, "keyRing", [T.keyRing])) {
            add(ring, `signer key ring ${ring.name}`);
        }
        const ringRef = str(get(g.props(k), "keyRing"));
        if (ringRef) {
            tokens.set(ringRef.toLowerCase(), `signer key ring ${ringRef}`);
        }
    });
    const identity = (p: { id: string; label: string; sa?: PolicyResource }, zone: string) => {
        if (p.sa) {
            add(p.sa, `${zone} identity ${p.label}`);
        }
        const m = /^serviceAccount:(.+@.+)$/i.exec(p.label);
        if (m) {
            tokens.set(m[1].toLowerCase(), `${zone} identity ${p.label}`);
        }
    };
    g.signerIdentities.forEach((p) => identity(p, "signer"));
    const cpProjects = new Set<string>();
    for (const n of g.compute) {
        if (!n.isRunner && n.role !== undefined) {
            n.identities.forEach((p) => identity(p, n.role === "signer" ? "signer" : "control-plane"));
            const project = str(g.projectOf(n.res));
            if (project) {
                cpProjects.add(project);
            }
        }
    }
    g.signerNetworks.forEach((n) => add(n, `signer network ${n.name}`));
    g.controlPlaneNetworks.forEach((n) => add(n, `control-plane network ${n.name}`));
    g.provenanceBuckets.forEach((b) => add(b, `provenance bucket ${b.name}`));
    for (const b of g.of(T.bucket)) {
        if (g.intakeBuckets.has(b.urn)) {
            add(b, `intake bucket ${b.name}`);
        }
    }
    for (const p of g.signerProjects) {
        tokens.set(p.toLowerCase(), `signer project ${p}`);
    }
    for (const p of cpProjects) {
        if (!tokens.has(p.toLowerCase())) {
            tokens.set(p.toLowerCase(), `control-plane project ${p}`);
        }
    }
    for (const pr of g.of(T.project)) {
        const id = str(get(g.props(pr), "projectId"));
        if (id && tokens.has(id.toLowerCase())) {
            urns.set(pr.urn, tokens.get(id.toLowerCase())!);
        }
    }
    return { urns, tokens };
}

/** Runner compute (VMs, templates, clusters) and the runner networks: what host configuration must not reach unseen. */
function runnerComputeRefs(g: FleetGraph): PlatformRefs {
    const urns = new Map<string, string>();
    const tokens = new Map<string, string>();
    for (const n of g.compute) {
        if (n.isRunner) {
            urns.set(n.res.urn, `runner ${n.res.type.split(":").pop()} ${n.res.name}`);
            const name = str(get(g.props(n.res), "name"));
            if (name) {
                tokens.set(name.toLowerCase(), `runner ${n.res.type.split(":").pop()} ${n.res.name}`);
            }
            // A project's OS policies, zonal metadata and disks reach every VM of the project.
            const project = str(g.projectOf(n.res));
            if (project) {
                tokens.set(project.toLowerCase(), `project ${project}, where runner VMs run`);
            }
        }
    }
    g.runnerNetworks.forEach((pn) => urns.set(pn.network.urn, `runner network ${pn.network.name}`));
    return { urns, tokens };
}

/** What of the platform a resource's inputs reference, by property dependency or by value. */
function referencesOf(r: PolicyResource, props: Record<string, unknown>, refs: PlatformRefs): string[] {
    const found = new Set<string>();
    for (const deps of Object.values(r.propertyDependencies ?? {})) {
        for (const d of deps ?? []) {
            const what = d ? refs.urns.get(d.urn) : undefined;
            if (what) {
                found.add(what);
            }
        }
    }
    const walk = (v: unknown, depth: number): void => {
        if (depth > 12 || v === null || v === undefined) {
            return;
        }
        if (typeof v === "string") {
            if (unknown(v)) {
                return;
            }
            // Whole values and path segments: `projects/<p>/...`, `gs://<bucket>/x`, `serviceAccount:<email>`.
            for (const seg of [v.trim().toLowerCase(), ...v.toLowerCase().split(/[/\s"',=]+|:(?!\/)/)]) {
                const what = refs.tokens.get(seg);
                if (what) {
                    found.add(what);
                }
            }
            return;
        }
        if (typeof v === "object") {
            for (const child of Object.values(v as Record<string, unknown>)) {
                walk(child, depth + 1);
            }
        }
    };
    walk(props, 0);
    return [...found].sort();
}

/** Objects in a custom resource's inputs that look like pod specs (a `containers` list, or `steps` with images as in a Tekton TaskRun). */
function embedsPodSpec(v: unknown, depth = 0): boolean {
    if (depth > 10 || v === null || typeof v !== "object") {
        return false;
    }
    const o = v as Record<string, unknown>;
    if (!Array.isArray(v) && (Array.isArray(o.containers) || (Array.isArray(o.steps) && o.steps.some((s) => s && typeof s === "object" && "image" in s)))) {
        return true;
    }
    return Object.values(v as Record<string, unknown>).some((c) => embedsPodSpec(c, depth + 1));
}

export const unclassifiedResourceTypes: FleetStackPolicy = stackRule({
    name: "unclassified-resource-types",
    description:
        "[I7, I9, I10, I11] Every resource is of a type the classification table knows and a rule reads; a resource of an unclassified or unread type (newer provider, " +
        "CRD, dynamic provider) that references a platform identity, the signer key or key ring, a platform project or network, or a " +
        "platform bucket cannot be proven safe, and a custom resource embedding a pod spec in a runner namespace cannot be read as a pod.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "every resource's type has a row in the classification table; a resource of a type with none, or of a granting or host-configuring row no rule reads yet (`UNREAD_TYPES`), is refused when its inputs (by value or property dependency) reference a platform identity, the signer key or key ring, a platform project or network, or a platform bucket, and a custom resource embedding a pod spec in a runner namespace is refused; any other draws an advisory",
        invariants: ["I7", "I9", "I10", "I11"],
        fix:
            "Classify the type in policies/model/typeClasses.ts (and teach the model to read it), or keep the resource away from the " +
            "platform: no platform identity, key, project, network or bucket in its inputs; run runner pods as built-in workload kinds.",
    },
    check: (g, report) => {
        let refs: PlatformRefs | undefined;
        let runnerRefs: PlatformRefs | undefined;
        for (const r of g.resources) {
            const cls = classOf(r.type);
            const unread = cls !== undefined && UNREAD_TYPES.has(r.type);
            if ((cls !== undefined && !unread) || isArcRunnerType(r.type)) {
                continue;
            }
            refs ??= platformRefs(g);
            const kind = `${r.type} ${r.name}`;
            if (unread) {
                const props = g.props(r);
                const hits = referencesOf(r, props, refs);
                // Host configuration reaches whatever VMs it targets: runner compute counts too.
                const runnerHits = cls === "hostConfig" ? referencesOf(r, props, (runnerRefs ??= runnerComputeRefs(g))) : [];
                const all = [...hits, ...runnerHits];
                report(all.length > 0
                    ? `${kind} is classified ${cls}, but no rule of the pack reads it yet, and it references ${listText(all)}: the pack cannot prove it safe (fail closed)`
                    : `${UNPROVEN} ${kind} is classified ${cls}, but no rule of the pack reads it yet; it references no platform identity, key, project, network or bucket`, r.urn);
                continue;
            }
            // The model's view of the inputs: values unknown during a preview read as the unknown sentinel.
            const props = g.props(r);
            if (r.type.startsWith("kubernetes:") && embedsPodSpec(props)) {
                const ns = get(props, "metadata", "namespace");
                const names = unknown(ns)
                    ? depsOf(r, "metadata", [T.k8sNamespace]).map((d) => str(get(g.props(d), "metadata", "name"))).filter((x): x is string => x !== undefined)
                    : [typeof ns === "string" && ns !== "" ? ns : "default"];
                const runnerNs = names.filter((n) => g.runnerNamespaces.has(n));
                if (runnerNs.length > 0) {
                    report(`${kind} embeds a pod spec in runner namespace ${listText(runnerNs)}, but its kind has no row in the classification ` +
                        "table, so its pods cannot be checked as runner pods (isolation, credentials, lifetime): refused (fail closed)", r.urn);
                    continue;
                }
            }
            const hits = referencesOf(r, props, refs);
            if (hits.length > 0) {
                report(`${kind} is of a type the pack has no row for (a newer provider, a CRD or a dynamic provider) and references ` +
                    `${listText(hits)}: the pack cannot prove it safe (fail closed)`, r.urn);
            } else {
                report(`${UNPROVEN} ${kind} is of a type the pack has no row for, so no rule can see what it does; it references no platform ` +
                    "identity, key, project, network or bucket", r.urn);
            }
        }
    },
});
