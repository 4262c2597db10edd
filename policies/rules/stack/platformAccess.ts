/**
 * Who can act as, invoke or re-key the platform (I9, I10).
 *
 * - platform-identity-impersonation: every way to act as a platform identity (the SAs signer and
 *   control-plane compute run as, and the signer's invokers): token creator (OpenID too), SA user,
 *   workload identity user from any pool or provider (GitHub OIDC principal sets included), key and
 *   SA admins, owner/editor, custom roles with those permissions, on the SA, its project, folder or
 *   org; HMAC keys; and token delegations (model/delegations.ts) that send its tokens anywhere but a
 *   platform service; and Pub/Sub Cloud Storage or BigQuery subscriptions that write as a platform or
 *   signer identity (each publisher to the topic writes as it). Only `platformAdmins` (pack config)
 *   may; the signer itself is single-signer's.
 * - signer-invoked-by-generator-only: the principals holding run.routes.invoke or any setIamPolicy
 *   over the signer service (service, project, folder, org IAM, custom roles included) are one
 *   service account that is no runner (the generator, of this stack or the control plane's), or
 *   exactly `signerInvokers`.
 * - signer-key-versions-controlled: nobody can add or import signer key versions outside the
 *   declared rotation path (CryptoKeyVersion resources in the stack): no import jobs on the signer
 *   key ring, no cryptoKeyVersions.create / import permissions except `signerKeyAdmins`.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { FleetStackPolicy } from "../../meta";
import { get, unknown } from "../../model/props";
import { Capability } from "../../model/roles";
import { FleetGraph, Grant, isFederatedPrincipal, isPublicMember, normRef, Principal, T, UNDECIDED } from "../../model";
import { endpointText, sendsOnlyTo, tokenDelegations } from "../../model/delegations";
import { subscriptionWrites } from "../../model/subscriptionWrites";
import { listText, Report, stackRule } from "../../framework/stackRule";

interface Config {
    platformAdmins?: string[];
    signerInvokers?: string[];
    signerKeyAdmins?: string[];
}

const memberList = (description: string): PolicyConfigJSONSchema => ({ type: "array", items: { type: "string" }, default: [], description });

/** True when `p` is named in a config list of members (`serviceAccount:x`, `user:y`, or a bare email). */
function listed(g: FleetGraph, p: Principal, list: string[] | undefined): boolean {
    return (list ?? []).some((m) => {
        const q = g.principalOfMember(m.includes(":") ? m : `serviceAccount:${m}`);
        return q.id === p.id || normRef(m).toLowerCase() === p.label.toLowerCase();
    });
}

/** The grants that reach a target resource: on it, and on its project, folder or org; `maybe` when the project is unknown. */
function grantsOver(g: FleetGraph, target: PolicyResource, project: string | undefined | symbol, extra: Grant[] = []): { grant: Grant; maybe: boolean }[] {
    const out = (g.grantsByTarget.get(target.urn) ?? []).concat(extra).map((grant) => ({ grant, maybe: false }));
    const scope = g.grantsInProject(typeof project === "string" ? project : (project as never) ?? "");
    scope.grants.forEach((grant) => out.push({ grant, maybe: false }));
    scope.maybe.forEach((grant) => out.push({ grant, maybe: true }));
    return out;
}

/** Reports each member of `over` that holds `cap` and is not `allowed`. */
function holders(g: FleetGraph, report: Report, over: { grant: Grant; maybe: boolean }[], cap: Capability, what: string,
    allowed: (p: Principal) => boolean, onHolder?: (p: Principal, gr: Grant) => void): void {
    for (const { grant: gr, maybe } of over) {
        const can = g.can(gr, cap);
        if (can === "no") {
            continue;
        }
        for (const p of gr.members) {
            if (p.unresolved) {
                report(`${UNDECIDED} ${p.label} is unknown until apply and depends on no service account; it may ${what} via ${g.roleText(gr)} ${g.whereText(gr)}`, gr.res.urn);
            } else if (allowed(p)) {
                onHolder?.(p, gr);
            } else if (can === "unknown" || maybe) {
                report(`${UNDECIDED} ${g.pathText(p, gr)} may let it ${what}`, gr.res.urn);
            } else {
                const why = can === "unchecked" ? " (custom role not defined in this stack: its permissions cannot be checked, fail closed)" : "";
                report(`${g.pathText(p, gr)} can ${what}${why}`, gr.res.urn);
            }
        }
    }
}

/** Platform identities other than the signer: SAs of signer/control-plane compute, and whoever may invoke the signer. */
export function platformIdentities(g: FleetGraph): Map<string, { p: Principal; why: string }> {
    const out = new Map<string, { p: Principal; why: string }>();
    for (const n of g.compute) {
        if (!n.isRunner && n.role !== undefined) {
            n.identities.filter((p) => p.sa && !g.signerIdentities.has(p.id)).forEach((p) => out.set(p.id, { p, why: `${n.res.name} (${n.role}) runs as it` }));
        }
    }
    for (const s of signerServices(g)) {
        for (const gr of g.grantsByTarget.get(s.res.urn) ?? []) {
            if (g.can(gr, "invokeOrAdmin") === "yes") {
                gr.members.filter((p) => p.sa && !g.signerIdentities.has(p.id) && !g.runnerIdentities.get(p.id)?.direct).forEach((p) => out.set(p.id, { p, why: `it invokes signer service ${s.res.name}` }));
            }
        }
    }
    return out;
}

/** Signer-labelled Cloud Run services that run as a signer identity. */
function signerServices(g: FleetGraph) {
    return g.signerNodes.filter((n) => n.kind === "runService" && n.identities.some((p) => g.signerIdentities.has(p.id)));
}

export const platformIdentityImpersonation: FleetStackPolicy = stackRule({
    name: "platform-identity-impersonation",
    description:
        "[I10] Nobody but the configured platform admins can act as a platform identity (control-plane services, the signer's invoker): " +
        "token creator (OpenID too), SA user, workload identity user from any pool or provider, key/SA admin, owner/editor or custom roles, " +
        "on the SA, its project, folder or org; no HMAC key exists for one; and no Pub/Sub push, Cloud Scheduler, Cloud Tasks or Eventarc " +
        "delegation mints its tokens for an endpoint that is not a platform service, and no Pub/Sub Cloud Storage or BigQuery subscription writes as the signer, or as a platform identity from a non-platform topic.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { platformAdmins: memberList("Members allowed to act as platform identities (break-glass admins).") } },
    meta: {
        checks: "nobody but pack config `platformAdmins` can act as a platform identity (the SAs of signer/control-plane compute other than the signer, and the signer's invoker): token creator (OpenID too), SA user, workload identity user from any pool or provider (GitHub OIDC `principalSet://` included), key/SA admin, owner/editor, custom roles with those permissions, on the SA, its project, folder or org; no SA or HMAC key for one; no token delegation (Pub/Sub push, Cloud Scheduler or Cloud Tasks HTTP target, Eventarc trigger) minting a platform identity's tokens for an endpoint that is not a platform service; no Pub/Sub subscription whose `cloudStorageConfig` or `bigqueryConfig` writes as the signer identity, or as a platform identity from a topic that is not the platform's (labelled control-plane or signer): its topic's publishers choose what it writes",
        invariants: ["I10"],
        fix: "Remove the grant or delegation: platform service accounts are used only by the services that run as them (a push subscription or scheduler job gets its own identity). List break-glass admins in platformAdmins.",
    },
    check: (g, report, args) => {
        const cfg = args.getConfig<Config>();
        for (const { p: target, why } of platformIdentities(g).values()) {
            const sa = target.sa!;
            const project = g.projectOf(sa);
            const extra = g.unknownTargetGrants.filter((gr) => gr.scope === "serviceAccount");
            const over = grantsOver(g, sa, project).concat(extra.map((grant) => ({ grant, maybe: true })));
            holders(g, report, over, "impersonate", `act as platform identity ${target.label} (${why})`,
                (p) => p.id === target.id || listed(g, p, cfg.platformAdmins));
            for (const k of g.credentials.get(target.id) ?? []) {
                report(`${k.type === T.hmacKey ? "HMAC key" : "service-account key"} ${k.name} is a standing credential for platform identity ${target.label}`, k.urn);
            }
        }
        // Google minting a platform identity's tokens for an endpoint the stack names: acting as it, unless
        // the endpoint is the platform's own service.
        const platform = platformIdentities(g);
        const services = g.compute.filter((n) => n.kind === "runService" && !n.isRunner && n.role !== undefined).map((n) => n.res);
        for (const d of tokenDelegations(g)) {
            const kind = d.res.type.split(":").pop();
            for (const p of d.identities) {
                const target = platform.get(p.id);
                if (!target || sendsOnlyTo(g, d, services)) {
                    continue;
                }
                if (d.endpoints.includes("unknown") && d.endpointDeps.length === 0) {
                    report(`${UNDECIDED} ${kind} ${d.res.name} mints tokens for platform identity ${target.p.label} (${target.why}) for an endpoint unknown until apply`, d.res.urn);
                } else {
                    report(`${kind} ${d.res.name} makes Google mint tokens for platform identity ${target.p.label} (${target.why}) and send them to ${endpointText(d)}, which is no platform service: whoever serves it can act as ${target.p.label}`, d.res.urn);
                }
            }
            if (d.identityUnknown && platform.size > 0) {
                report(`${UNDECIDED} ${kind} ${d.res.name} mints tokens for an identity unknown until apply that depends on no service account; it may be a platform identity`, d.res.urn);
            }
        }
        // Subscriptions that write as an identity: every publisher to the topic writes, as it, what it chose.
        // A platform topic's publishers are the platform's (runner-least-privilege keeps runners off it); the signer's identity writes for nobody.
        for (const w of subscriptionWrites(g)) {
            for (const p of w.identities) {
                const what = g.signerIdentities.has(p.id) ? "the signer identity" : w.platformTopic ? undefined : platform.get(p.id)?.why;
                if (what !== undefined) {
                    report(`${w.kind} subscription ${w.res.name} writes as platform identity ${p.label} (${what}) into ${w.destination}: whoever can publish to its topic writes, as ${p.label}, what it chose`, w.res.urn);
                }
            }
            if (w.identityUnknown) {
                report(`${UNDECIDED} ${w.kind} subscription ${w.res.name} writes as an identity unknown until apply that depends on no service account; it may be a platform identity`, w.res.urn);
            }
        }
    },
});

export const signerInvokedByGeneratorOnly: FleetStackPolicy = stackRule({
    name: "signer-invoked-by-generator-only",
    description:
        "[I10] Exactly one platform service account (the provenance generator) can invoke or administer the signer service: every role " +
        "holding run.routes.invoke or a setIamPolicy permission on the service, its project, folder or org counts, custom roles included.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { signerInvokers: memberList("The members allowed to invoke the signer (default: the one platform SA that does).") } },
    meta: {
        checks: "the principals holding `run.routes.invoke` or any `setIamPolicy` over each signer service (service, project, folder, org IAM; custom roles; unknown `roles/run.*` counted) are one non-runner service account of the stack (the generator), or exactly pack config `signerInvokers`",
        invariants: ["I10"],
        fix:
            "Grant roles/run.invoker on the signer service to the generator's service account only; remove run.* roles, owner/editor and IAM " +
            "admin roles over the signer project from everyone else (or list them in signerInvokers).",
    },
    check: (g, report, args) => {
        const cfg = args.getConfig<Config>();
        for (const s of signerServices(g)) {
            const invokers = new Map<string, Principal>();
            const invokerGrant = new Map<string, Grant>();
            const allowed = (p: Principal): boolean => {
                if (g.signerIdentities.has(p.id) && s.identities.includes(p)) {
                    return true;
                }
                if ((cfg.signerInvokers ?? []).length > 0) {
                    return listed(g, p, cfg.signerInvokers);
                }
                // A service account (of this stack, or of the control plane's own stack) that is no runner.
                return (p.sa !== undefined || /^serviceAccount:/i.test(p.id)) && !g.isRunner(p) && !isPublicMember(p.id) && !isFederatedPrincipal(p.id);
            };
            holders(g, report, grantsOver(g, s.res, g.projectOf(s.res)), "invokeOrAdmin", `invoke or administer signer service ${s.res.name}`, allowed,
                (p, gr) => {
                    if (!s.identities.includes(p)) {
                        invokers.set(p.id, p);
                        invokerGrant.set(p.id, gr);
                    }
                });
            if ((cfg.signerInvokers ?? []).length === 0 && invokers.size > 1) {
                const [, ...rest] = [...invokers.values()];
                report(`more than one identity can invoke signer service ${s.res.name}: ${listText([...invokers.values()].map((p) => p.label))}; ` +
                    "only the provenance generator may (name it in signerInvokers to choose)", invokerGrant.get(rest[0].id)?.res.urn);
            }
        }
    },
});

export const signerKeyVersionsControlled: FleetStackPolicy = stackRule({
    name: "signer-key-versions-controlled",
    description:
        "[I9] Nobody can add or import signer key versions outside the declared rotation path: no import job on the signer key ring, and no " +
        "role holding cloudkms.cryptoKeyVersions.create, importJobs or key/IAM admin on the key, ring, project, folder or org (except signerKeyAdmins).",
    enforcementLevel: "mandatory",
    configSchema: { properties: { signerKeyAdmins: memberList("Members allowed to create signer key versions outside Pulumi (break-glass).") } },
    meta: {
        checks: "nobody holds `cloudkms.cryptoKeyVersions.create`, import-job or key/IAM-admin permissions over a signer key (key, ring, project, folder, org; custom roles) except pack config `signerKeyAdmins`; no `KeyRingImportJob` on the signer ring. Versions come from `CryptoKeyVersion` resources in the stack (the rotation runbook)",
        invariants: ["I9"],
        fix: "Declare key versions as gcp.kms.CryptoKeyVersion resources in the stack (the rotation runbook); remove import jobs and cloudkms.admin/importer, owner/editor grants over the signer key.",
    },
    check: (g, report, args) => {
        const cfg = args.getConfig<Config>();
        const rings = new Set<string>();
        for (const key of g.signerKeys) {
            const { ring } = g.ringOfKey(key);
            if (ring) {
                rings.add(ring.urn);
            }
            const over = grantsOver(g, key, g.keyProject(key), ring ? g.grantsByTarget.get(ring.urn) ?? [] : []);
            holders(g, report, over, "keyVersions", `create or import versions of signer key ${key.name}`, (p) => listed(g, p, cfg.signerKeyAdmins));
        }
        for (const j of g.of(T.importJob)) {
            const lit = get(j.props, "keyRing");
            const found = typeof lit === "string" && !unknown(lit) ? g.findRings(lit) : [];
            const deps = (j.propertyDependencies?.keyRing ?? []).filter((d) => rings.has(d.urn));
            if (found.some((r) => rings.has(r.urn)) || deps.length > 0) {
                report(`import job ${j.name} on the signer key ring lets whoever holds it import key material outside the declared rotation path`, j.urn);
            }
        }
    },
});

