/**
 * runner-least-privilege (I7, I9, I10, I11): runner identities hold only allow-listed grants.
 *
 * Runner identities come from the model (model/classify.ts): pool SAs, the Workload Identity
 * principals of runner pods, groups with a runner member, anything a runner can impersonate; and
 * the public principals, which contain every runner. The rule does not know what roles mean: it
 * matches each grant against an allow-list of (role, where) entries and reports everything else, at
 * any scope and in any form (IAM member, binding, policy, storage ACL), plus every credential
 * (service-account or HMAC key) for a runner identity.
 *
 * Default allow-list: roles/logging.logWriter on a project that is not the signer's; roles/artifactregistry.reader on declared runner image repositories (labelled runner, or
 * named in `runnerImageRepositories`); roles/storage.objectCreator on the runner's own pool's intake
 * bucket (while the deployment still grants it: `runnerIntakeCreate`); GKE_NODE_ROLES on such a project
 * for the SA a runner node pool runs as while no build can act as it (GKE's node agents need them);
 * roles/run.invoker on a control-plane Cloud Run service whose identity cannot invoke the signer (the
 * registration broker; `runnerInvokesRegistration`); and acting as an SA of the same pool that itself
 * holds only allow-listed grants and runs no platform workload (a GKE pool's Workload Identity SA).
 * `runnerAllowedGrants` extends it.
 */
import { FleetStackPolicy } from "../../meta";
import { roleOf } from "../../model/labels";
import { get, UNKNOWN_VALUE } from "../../model/props";
import { depsOf, FleetGraph, Grant, isPublicMember, normRef, Principal, RunnerIdentity, str, T, UNDECIDED } from "../../model";
import { unresolvableForm } from "../../model/principalForms";
import { listText, stackRule } from "../../framework/stackRule";

/** One allow-list entry: a role and where it may be held. */
export interface AllowedGrant {
    role: string;
    /** project: any project but the signer's; bucket / repository / service (Cloud Run) / resource (any other IAM-bearing resource): limited to `targets` when given; any: anywhere. */
    scope: "project" | "bucket" | "repository" | "service" | "resource" | "any";
    /** Target ids (names or full ids) the entry is limited to; absent = any target of that scope. */
    targets?: string[];
}

interface Config {
    runnerAllowedGrants?: AllowedGrant[];
    runnerInvokesRegistration?: boolean;
    runnerImageRepositories?: string[];
    runnerIntakeCreate?: boolean;
}

export const RUNNER_LOG_ROLE = "roles/logging.logWriter";
export const RUNNER_IMAGE_ROLE = "roles/artifactregistry.reader";
export const RUNNER_INTAKE_ROLE = "roles/storage.objectCreator";
/**
 * What GKE's node agents write with the node SA (write-only): allowed to the SA of a runner node pool
 * only while it is a node identity alone, one no build acts as (not a Workload Identity target, not
 * the identity of another runner workload).
 */
export const GKE_NODE_ROLES: readonly string[] = ["roles/stackdriver.resourceMetadata.writer", "roles/monitoring.metricWriter"];

export const runnerLeastPrivilege: FleetStackPolicy = stackRule({
    name: "runner-least-privilege",
    description:
        "[I7, I9, I10, I11] Runner identities (pool SAs, runner Workload Identity principals, groups and public principals containing them, " +
        "and whatever they can impersonate) hold only allow-listed grants (logs, declared runner images, their own intake), at any scope " +
        "and in any IAM form, ACL or credential.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            runnerAllowedGrants: {
                type: "array",
                description: "Extra grants runner identities may hold: {role, scope: project|bucket|repository|service|resource|any, targets?: [ids or names]}.",
                items: {
                    type: "object",
                    required: ["role", "scope"],
                    additionalProperties: false,
                    properties: {
                        role: { type: "string" },
                        scope: { type: "string", enum: ["project", "bucket", "repository", "service", "resource", "any"] },
                        targets: { type: "array", items: { type: "string" } },
                    },
                },
                default: [],
            },
            runnerImageRepositories: {
                type: "array",
                items: { type: "string" },
                default: [],
                description: "Artifact Registry repositories runners pull images from (ids or names) besides those labelled runner.",
            },
            runnerInvokesRegistration: {
                type: "boolean",
                default: true,
                description: "Allow runners roles/run.invoker on control-plane Cloud Run services whose identity cannot invoke the signer (the registration broker).",
            },
            runnerIntakeCreate: {
                type: "boolean",
                default: true,
                description: "Allow runners roles/storage.objectCreator on their own pool's intake bucket (turn off once uploads use job-scoped tokens).",
            },
        },
    },
    meta: {
        checks: "runner identities (and `allUsers`/`allAuthenticatedUsers`, which contain them) hold only allow-listed grants: `roles/logging.logWriter` on a project that is not the signer's, `roles/artifactregistry.reader` on declared runner image repositories (labelled runner, or pack config `runnerImageRepositories`), `roles/storage.objectCreator` on their own pool's intake bucket (`runnerIntakeCreate`, default true), `roles/stackdriver.resourceMetadata.writer` and `roles/monitoring.metricWriter` for the SA of a runner GKE node pool that no build can act as (not a Workload Identity target), `roles/run.invoker` on a control-plane Cloud Run service whose identity cannot invoke the signer (the registration broker; `runnerInvokesRegistration`, default true), and acting as an SA of the same pool that itself holds only allow-listed grants and runs no platform workload (a GKE pool's Workload Identity SA). Any other role at any scope, in any IAM form (policyData too), ACL, and every SA or HMAC key is a violation; an IAM policy whose bindings cannot be read is an advisory. `runnerAllowedGrants` extends the list",
        invariants: ["I7", "I9", "I10", "I11"],
        fix:
            "Remove the grant or credential: runner identities write logs, read their declared image repositories and (at most) create objects in " +
            "their own intake location. Anything else a build needs goes through the control plane; extend runnerAllowedGrants only for a grant " +
            "no build can turn into platform power.",
    },
    check: (g, report, args) => {
        if (g.runnerIdentities.size === 0) {
            return;
        }
        const cfg = args.getConfig<Config>();
        const allowed = allowList(g, cfg);
        const zones = platformZones(g);
        const seenUnresolved = new Set<string>();
        for (const gr of g.grants) {
            for (const p of gr.members) {
                if (p.unresolved) {
                    if (!seenUnresolved.has(gr.res.urn)) {
                        seenUnresolved.add(gr.res.urn);
                        const near = nearPlatform(gr, zones);
                        // Near the enclave a first preview cannot prove the grant safe: fail closed, not an advisory.
                        report(near?.enclave
                            ? `${p.label} is unknown until apply and depends on no service account, and the grant is ${near.what}: ${g.roleText(gr)} ${g.whereText(gr)} cannot be proven safe before apply (fail closed)`
                            : `${UNDECIDED} ${p.label} is unknown until apply and depends on no service account; it may be a runner identity holding ${g.roleText(gr)} ${g.whereText(gr)}`, gr.res.urn);
                    }
                    continue;
                }
                const ri = runnerOf(g, p);
                if (!ri) {
                    const form = unresolvableForm(p);
                    const cap = form ? platformCapability(g, gr, zones) : undefined;
                    if (form && cap) {
                        report(`${p.label} may contain every runner (${form}), and it holds ${g.roleText(gr)} ${g.whereText(gr)} [${gr.res.name}], which carries ${cap}; ` +
                            "a principal whose membership the pack cannot resolve holds no platform capability (fail closed)", gr.res.urn);
                    }
                    continue;
                }
                const verdict = allowed(gr, ri);
                if (verdict === true) {
                    continue;
                }
                const pools = ri.pools.size > 0 ? ` (pool ${listText([...ri.pools].sort())})` : "";
                const why = ri.direct ? "" : `; it is a runner identity because ${ri.via}`;
                report(`${verdict === "unknown" ? `${UNDECIDED} ` : ""}runner identity ${p.label}${pools} holds ${g.roleText(gr)} ${g.whereText(gr)}` +
                    `${gr.conditional ? " (conditional, still counted)" : ""} [${gr.res.name}]${why}; it is not on the runner allow-list${imageProjectHint(gr)}`, gr.res.urn);
            }
        }
        for (const ri of g.runnerIdentities.values()) {
            for (const k of g.credentials.get(ri.principal.id) ?? []) {
                report(`${k.type === T.hmacKey ? "HMAC key" : "service-account key"} ${k.name} is a standing credential for runner identity ${ri.principal.label}; runners hold no credentials`, k.urn);
            }
        }
        for (const k of g.credentialsUnknown) {
            report(`${UNDECIDED} credential ${k.name} is for an account unknown until apply; it may be a runner identity's`, k.urn);
        }
        for (const o of g.opaqueGrants) {
            report(`${UNDECIDED} IAM policy ${o.res.name} ${o.why}; its bindings may grant runner identities anything`, o.res.urn);
        }
    },
});

/** What of the platform the grants may touch: the enclave (key, rings, signer SA and service, provenance, signer project) and the control plane. */
interface Zones {
    enclave: Set<string>;
    platform: Set<string>;
    enclaveProjects: Set<string>;
    platformProjects: Set<string>;
}

function platformZones(g: FleetGraph): Zones {
    const enclave = new Set<string>();
    const platform = new Set<string>();
    for (const k of g.signerKeys) {
        enclave.add(k.urn);
        depsOf(k, "keyRing", [T.keyRing]).forEach((r) => enclave.add(r.urn));
    }
    g.signerIdentities.forEach((p) => p.sa && enclave.add(p.sa.urn));
    g.signerNodes.forEach((n) => enclave.add(n.res.urn));
    g.provenanceBuckets.forEach((b) => enclave.add(b.urn));
    const platformProjects = new Set(g.signerProjects);
    for (const n of g.compute) {
        if (!n.isRunner) {
            platform.add(n.res.urn);
            n.identities.forEach((p) => p.sa && platform.add(p.sa.urn));
            const project = str(g.projectOf(n.res));
            if (project) {
                platformProjects.add(project);
            }
        }
    }
    g.intakeBuckets.forEach((_pool, urn) => platform.add(urn));
    // Identities that hold a grant on the enclave (the signer's invokers) are platform identities too.
    for (const gr of g.grants) {
        if (gr.target && enclave.has(gr.target.urn)) {
            gr.members.forEach((p) => p.sa && platform.add(p.sa.urn));
        }
    }
    enclave.forEach((u) => platform.add(u));
    return { enclave, platform, enclaveProjects: new Set(g.signerProjects), platformProjects };
}

/** Whether a grant applies to the enclave or the platform, and how to say so. */
function nearPlatform(gr: Grant, z: Zones): { enclave: boolean; what: string } | undefined {
    if (gr.target) {
        if (z.enclave.has(gr.target.urn)) {
            return { enclave: true, what: `on the enclave (${gr.target.name})` };
        }
        return z.platform.has(gr.target.urn) ? { enclave: false, what: `on the platform (${gr.target.name})` } : undefined;
    }
    if (gr.scope === "folder" || gr.scope === "org") {
        return { enclave: true, what: `at ${gr.scope} scope, over the signer project` };
    }
    if (gr.scope === "project") {
        if (gr.targetId === undefined) {
            return { enclave: true, what: "on a project unknown until apply (the signer's, perhaps)" };
        }
        if (z.enclaveProjects.has(gr.targetId)) {
            return { enclave: true, what: `on the signer project ${gr.targetId}` };
        }
        return z.platformProjects.has(gr.targetId) ? { enclave: false, what: `on platform project ${gr.targetId}` } : undefined;
    }
    return gr.targetUnknown && ["key", "keyRing", "serviceAccount", "runService", "bucket"].includes(gr.scope)
        ? { enclave: true, what: `on a ${gr.scope} unknown until apply` } : undefined;
}

/** The platform capability a grant carries where it applies (undefined: none, or not near the platform). */
function platformCapability(g: FleetGraph, gr: Grant, z: Zones): string | undefined {
    if (!nearPlatform(gr, z)) {
        return undefined;
    }
    const caps = ["sign", "grantSign", "keyVersions", "impersonate", "storageWrite", "invokeOrAdmin"] as const;
    for (const cap of caps) {
        const c = g.can(gr, cap);
        if (c !== "no") {
            return c === "yes" ? `the ${cap} capability` : `possibly the ${cap} capability (its role cannot be read)`;
        }
    }
    return undefined;
}

/**
 * Project-wide image reads stay refused by default (they cover every repository of the project, the
 * control plane's and the signer's images among them); the message gives the one-line fix for an
 * images project that holds runner images only.
 */
function imageProjectHint(gr: Grant): string {
    if (gr.role !== RUNNER_IMAGE_ROLE || gr.scope !== "project" || gr.targetId === undefined) {
        return "";
    }
    return `. It reads every repository of project ${gr.targetId}; if that project holds runner images only, allow it with ` +
        `runnerAllowedGrants: [{ "role": "${RUNNER_IMAGE_ROLE}", "scope": "project", "targets": ["${gr.targetId}"] }]`;
}

/** The runner identity a principal is, or stands for (public principals contain every runner). */
function runnerOf(g: FleetGraph, p: Principal): RunnerIdentity | undefined {
    const ri = g.runnerIdentities.get(p.id);
    if (ri) {
        return ri;
    }
    return isPublicMember(p.id) && !/^domain:/i.test(p.id)
        ? { principal: p, pools: new Set(), via: "every runner identity is one of its members", direct: false }
        : undefined;
}

function allowList(g: FleetGraph, cfg: Config): (gr: Grant, ri: RunnerIdentity, depth?: number) => boolean | "unknown" {
    const platformProjects = new Set(g.signerProjects);
    const declaredRepos = new Set<string>();
    for (const r of g.of(T.arRepository)) {
        if (roleOf(r.type, g.props(r)) === "runner") {
            declaredRepos.add(r.urn);
        }
    }
    for (const ref of cfg.runnerImageRepositories ?? []) {
        g.findRepositories(ref).forEach((r) => declaredRepos.add(r.urn));
    }
    const nodeIdentities = new Set<string>();
    for (const n of g.compute) {
        if (n.isRunner && (n.kind === "nodePool" || n.kind === "cluster")) {
            n.identities.forEach((p) => nodeIdentities.add(p.id));
        }
    }
    for (const n of g.compute) {
        if (n.isRunner && n.kind !== "nodePool" && n.kind !== "cluster") {
            n.identities.forEach((p) => nodeIdentities.delete(p.id));
        }
    }
    for (const gr of g.grants) {
        // A node SA that a build can act as (Workload Identity, token creator...) is a build identity.
        if (gr.members.some((m) => g.isRunner(m)) && g.can(gr, "impersonate") !== "no") {
            g.impersonationTargets(gr).forEach((sa) => nodeIdentities.delete(g.principalOfSa(sa).id));
        }
    }
    const repoRefs = new Set((cfg.runnerImageRepositories ?? []).map((x) => normRef(x)));
    const extra = cfg.runnerAllowedGrants ?? [];
    const targetMatches = (gr: Grant, targets: string[] | undefined): boolean => {
        if (!targets) {
            return true;
        }
        const ids = [gr.targetId, gr.target ? str(get(gr.target.props, "name")) : undefined, gr.target?.name].filter((x): x is string => x !== undefined);
        return targets.some((t) => ids.some((id) => normRef(id) === normRef(t) || normRef(id).endsWith(`/${normRef(t)}`)));
    };
    const platformSas = new Set<string>();
    for (const n of g.compute) {
        if (!n.isRunner) {
            n.identities.forEach((p) => platformSas.add(p.id));
        }
    }
    const signerInvokers = new Set<string>();
    for (const n of g.signerNodes) {
        for (const gr of g.grantsByTarget.get(n.res.urn) ?? []) {
            if (g.can(gr, "invokeOrAdmin") !== "no") {
                gr.members.forEach((p) => signerInvokers.add(p.id));
            }
        }
    }
    const check = (gr: Grant, ri: RunnerIdentity, depth = 0): boolean | "unknown" => {
        if (gr.scope === "acl") {
            return false; // no ACL entry is on the allow-list, whatever its role
        }
        if (gr.customRole) {
            // A custom role is allowed only when an entry names it (by its full name).
            const name = str(get(gr.customRole.props, "name")) ?? (gr.role === UNKNOWN_VALUE ? undefined : gr.role);
            return extra.some((e) => e.role === name && scopeOk(gr, e.scope) && targetMatches(gr, e.targets));
        }
        if (gr.role === UNKNOWN_VALUE) {
            return "unknown";
        }
        const role = gr.role;
        const nodeRole = GKE_NODE_ROLES.includes(role) && nodeIdentities.has(ri.principal.id);
        if ((role === RUNNER_LOG_ROLE || nodeRole) && gr.scope === "project" && !gr.conditional) {
            return gr.targetId !== undefined && !platformProjects.has(gr.targetId) ? true : gr.targetId === undefined ? "unknown" : false;
        }
        if (role === RUNNER_IMAGE_ROLE && gr.scope === "resource") {
            if (gr.target && declaredRepos.has(gr.target.urn)) {
                return true;
            }
            if (gr.targetId && [...repoRefs].some((r) => gr.targetId!.endsWith(` ${r}`) || gr.targetId!.endsWith(`/${r}`))) {
                return true;
            }
        }
        if (gr.scope === "serviceAccount" && gr.target && !gr.conditional && !depth) {
            // Acting as an SA of the same pool(s) that itself holds only allow-listed grants and runs no
            // platform workload (e.g. a GKE pool's Workload Identity SA) adds nothing a runner is not already.
            const t = g.runnerIdentities.get(g.principalOfSa(gr.target).id);
            if (t && t.pools.size > 0 && [...t.pools].every((x) => ri.pools.has(x)) && ri.pools.size === t.pools.size && !platformSas.has(t.principal.id)
                && g.grants.every((other) => !other.members.includes(t.principal) || check(other, t, 1) === true)
                && (g.credentials.get(t.principal.id) ?? []).length === 0) {
                return true;
            }
        }
        if (role === "roles/run.invoker" && gr.scope === "runService" && gr.target && cfg.runnerInvokesRegistration !== false) {
            // The registration endpoint: a control-plane service whose identity cannot invoke the signer.
            const node = g.computeByUrn.get(gr.target.urn);
            if (node && !node.isRunner && node.role === "control-plane" && node.identities.every((p) => !signerInvokers.has(p.id))) {
                return true;
            }
        }
        if (role === RUNNER_INTAKE_ROLE && gr.scope === "bucket" && cfg.runnerIntakeCreate !== false && gr.target) {
            const pool = g.intakeBuckets.get(gr.target.urn);
            if (pool !== undefined && ri.pools.size === 1 && ri.pools.has(pool)) {
                return true;
            }
        }
        return extra.some((e) => e.role === role && scopeOk(gr, e.scope) && targetMatches(gr, e.targets));
    };
    return check;
}

function scopeOk(gr: Grant, scope: AllowedGrant["scope"]): boolean {
    switch (scope) {
        case "any":
            return true;
        case "project":
            return gr.scope === "project";
        case "bucket":
            return gr.scope === "bucket";
        case "repository":
            return gr.scope === "resource" && (gr.target?.type === T.arRepository || /repositor/i.test(gr.res.type));
        case "service":
            return gr.scope === "runService";
        case "resource":
            return gr.scope === "resource";
    }
}
