/**
 * single-signer (I9): the principals able to sign with each signer key are exactly that key's one
 * signer: the signer SA for the provenance key, the timestamp authority's SA for the TSA key (the
 * identity the key's authoritative signing binding names, when it is a signer service's identity or a
 * dedicated account nothing else runs as).
 *
 * Counted: key, key ring, project, folder and organization IAM whose role holds
 * cloudkms.cryptoKeyVersions.useToSign (predefined or custom); roles that can change the key's IAM
 * (the holder can grant itself sign); impersonation of the signer SA (token creator, SA user,
 * workload identity user, key admin, SA admin, owner/editor) on the SA, its project, folder or org;
 * service-account keys for it; token delegations minting its tokens (model/delegations.ts); and
 * any non-runner compute but the signer service running as it. IAM conditions do not shrink the
 * set (fail closed).
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { FleetStackPolicy } from "../../meta";
import { Grant, Principal, T, UNDECIDED } from "../../model";
import { endpointText, tokenDelegations } from "../../model/delegations";
import { listText, stackRule } from "../../framework/stackRule";
import { SIGN_PERMISSION } from "../../model/roles";

interface Holder {
    principal: Principal;
    paths: string[];
    urn: string;
}

export const singleSigner: FleetStackPolicy = stackRule({
    name: "single-signer",
    description:
        "[I9] Exactly one identity can sign with each signer key (the signer's for the provenance key, the timestamp authority's for its key): key, key ring, project, folder and " +
        "organization IAM, custom roles holding cloudkms.cryptoKeyVersions.useToSign, IAM admin roles on the key, " +
        "impersonation of the signer SA, keys for it, delegations minting its tokens and any compute but the signer service running as it are all counted.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "the principals able to sign with each signer key are exactly the signer SA: key, key-ring, project, folder and org IAM (`Member`, `Binding`, `Policy`); custom roles holding `cloudkms.cryptoKeyVersions.useToSign`; roles that can set the key's IAM; impersonation of the signer SA (token creator, SA user, workload identity user, key admin); SA keys and HMAC keys for it; token delegations minting its tokens (Pub/Sub push, Cloud Scheduler, Cloud Tasks, Eventarc); any compute but the signer service running as it (a workflow, a function, a control-plane service). IAM conditions still count",
        invariants: ["I9"],
        fix:
            "Remove every grant that lets another principal sign (roles/cloudkms.signer/signerVerifier/cryptoOperator, owner/editor, " +
            "custom roles with useToSign, cloudkms.admin or IAM admin roles) or impersonate the signer SA, and every delegation or " +
            "workload other than the signer service that uses it; grant roles/cloudkms.signer on the key to the signer SA only, with an " +
            "authoritative CryptoKeyIAMBinding.",
    },
    check: (g, report) => {
        if (g.signerKeys.length === 0) {
            return;
        }
        // Compute that may run as a key's signer: the signer-labelled Cloud Run services (the signer, the TSA).
        const signerService = (n: (typeof g.compute)[number]) => n.kind === "runService" && n.role === "signer";
        const runElsewhere = (p: Principal) => g.compute.some((n) => !signerService(n) && n.identities.some((x) => x.id === p.id));
        /**
         * Each signer key has its own signer: the principals its authoritative signing binding names that are
         * a signer service's identity, or a dedicated service account nothing else runs as (the TSA key's, before
         * the TSA service exists). The provenance key's is the signer SA, the TSA key's the TSA's SA. A key
         * whose binding names none falls back to every signer identity.
         */
        const keySigners = (key: PolicyResource): Map<string, Principal> => {
            const named = new Map<string, Principal>();
            for (const gr of g.grantsByTarget.get(key.urn) ?? []) {
                if (/IAMMember$/.test(gr.res.type) || g.can(gr, "sign") !== "yes") {
                    continue;
                }
                for (const p of gr.members) {
                    if (!p.unresolved && (g.signerIdentities.has(p.id) || (p.sa !== undefined && !g.isRunner(p) && !runElsewhere(p)))) {
                        named.set(p.id, p);
                    }
                }
            }
            return named.size > 0 ? named : g.signerIdentities;
        };
        const signersByKey = new Map(g.signerKeys.map((k) => [k.urn, keySigners(k)]));
        const allSigners = new Map([...signersByKey.values()].flatMap((m) => [...m.entries()]));
        for (const key of g.signerKeys) {
            const own = signersByKey.get(key.urn)!;
            if (own.size > 1) {
                report(
                    `more than one signer identity for signer key ${key.name}: ${listText([...own.values()].map((p) => p.label))}; ` +
                        "the signer-labelled service(s) must all run as the one service account its binding names",
                    key.urn,
                );
            }
        }
        // Only a signer service may run as a signer identity: any other compute holding it (a
        // workflow, a function, a control-plane service...) can sign whatever it is given. Runner
        // compute running as it is runners-cannot-reach-enclave's.
        for (const n of g.compute) {
            if (n.isRunner || signerService(n)) {
                continue;
            }
            for (const p of n.identities.filter((x) => allSigners.has(x.id))) {
                report(`${n.res.type.split(":").pop()} ${n.res.name} (labelled ${n.role}) runs as the signer identity ${p.label}: only the signer service may; anything else holding it signs whatever it is given`, n.res.urn);
            }
        }
        for (const key of g.signerKeys) {
            checkKey(key);
        }

        function checkKey(key: PolicyResource): void {
            const keyName = key.name;
            const signers = signersByKey.get(key.urn)!;
            const holders = new Map<string, Holder>();
            const directSigners = new Set<string>();
            const signerUndecided = new Set<string>();
            const add = (p: Principal, path: string, urn: string) => {
                const h = holders.get(p.id);
                if (h) {
                    h.paths.push(path);
                } else {
                    holders.set(p.id, { principal: p, paths: [path], urn });
                }
            };

            // Direct use of the key: key, key ring, project and hierarchy grants.
            const consider = (gr: Grant, maybe: boolean) => {
                const sign = g.can(gr, "sign");
                const grantSign = g.can(gr, "grantSign");
                for (const p of gr.members) {
                    const isSigner = signers.has(p.id);
                    if (sign === "yes" && isSigner && !maybe) {
                        directSigners.add(p.id);
                        continue;
                    }
                    if (isSigner && (sign === "unknown" || (sign === "yes" && maybe))) {
                        signerUndecided.add(p.id);
                        continue;
                    }
                    if (isSigner) {
                        continue;
                    }
                    if (p.unresolved && (sign !== "no" || grantSign !== "no")) {
                        report(`${UNDECIDED} ${p.label} is unknown until apply and depends on no service account; it may be able to sign with key ${keyName} via ${g.roleText(gr)} ${g.whereText(gr)}`, gr.res.urn);
                        continue;
                    }
                    if (sign === "yes" || grantSign === "yes") {
                        if (maybe) {
                            report(`${UNDECIDED} ${g.pathText(p, gr)} may apply to key ${keyName} (its project or target is unknown)`, gr.res.urn);
                        } else {
                            add(p, sign === "yes" ? g.pathText(p, gr) : `${g.pathText(p, gr)} (can grant itself ${SIGN_PERMISSION})`, gr.res.urn);
                        }
                    } else if (sign === "unknown" || grantSign === "unknown") {
                        report(`${UNDECIDED} ${g.pathText(p, gr)}: the role's permissions are unknown, so it may allow signing with key ${keyName}`, gr.res.urn);
                    } else if (sign === "unchecked") {
                        add(p, `${g.pathText(p, gr)} (custom role not defined in this stack: its permissions cannot be checked for ${SIGN_PERMISSION})`, gr.res.urn);
                    }
                }
            };

            for (const gr of g.grantsByTarget.get(key.urn) ?? []) {
                consider(gr, false);
            }
            const { ring } = g.ringOfKey(key);
            if (ring) {
                for (const gr of g.grantsByTarget.get(ring.urn) ?? []) {
                    consider(gr, false);
                }
            }
            const inProject = g.grantsInProject(g.keyProject(key));
            for (const gr of inProject.grants) {
                consider(gr, false);
            }
            for (const gr of inProject.maybe) {
                consider(gr, true);
            }
            for (const gr of g.unknownTargetGrants) {
                if (gr.scope === "key" || gr.scope === "keyRing") {
                    consider(gr, true);
                }
            }

            // Impersonation of the signer SA(s): whoever can act as it signs as it.
            for (const s of signers.values()) {
                if (!s.sa) {
                    continue;
                }
                const sa = s.sa;
                const imp = (gr: Grant, maybe: boolean) => {
                    const can = g.can(gr, "impersonate");
                    for (const p of gr.members) {
                        if (p.id === s.id || signers.has(p.id)) {
                            continue;
                        }
                        if (p.unresolved && can !== "no") {
                            report(`${UNDECIDED} ${p.label} is unknown until apply and depends on no service account; it may be able to impersonate the signer ${s.label} via ${g.roleText(gr)} ${g.whereText(gr)}`, gr.res.urn);
                        } else if (can === "yes" && !maybe) {
                            add(p, `${g.pathText(p, gr)} (impersonates the signer ${s.label})`, gr.res.urn);
                        } else if (can === "yes" || can === "unknown") {
                            report(`${UNDECIDED} ${g.pathText(p, gr)} may let it impersonate the signer ${s.label}`, gr.res.urn);
                        } else if (can === "unchecked") {
                            add(p, `${g.pathText(p, gr)} (custom role not defined in this stack: it may impersonate the signer ${s.label})`, gr.res.urn);
                        }
                    }
                };
                for (const gr of g.grantsByTarget.get(sa.urn) ?? []) {
                    imp(gr, false);
                }
                const saProject = g.projectOf(sa);
                const saScope = g.grantsInProject(saProject === undefined ? "" : saProject);
                for (const gr of saScope.grants) {
                    imp(gr, false);
                }
                for (const gr of saScope.maybe) {
                    imp(gr, true);
                }
                for (const gr of g.unknownTargetGrants) {
                    if (gr.scope === "serviceAccount") {
                        imp(gr, true);
                    }
                }
                // Service-account keys sign as the signer; HMAC keys write its provenance bucket as it.
                for (const k of g.credentials.get(sa.urn) ?? []) {
                    const kind = k.type === T.hmacKey ? "HMAC key" : "service-account key";
                    add({ id: `key:${k.urn}`, label: `whoever holds ${kind} ${k.name}` }, `a standing credential for the signer ${s.label} [${k.type.split(":").pop()} ${k.name}]`, k.urn);
                }
            }
            // Google minting the signer's tokens for an endpoint the stack names: whoever serves it signs.
            for (const d of tokenDelegations(g)) {
                for (const p of d.identities.filter((x) => signers.has(x.id))) {
                    add({ id: `delegation:${d.res.urn}`, label: `whoever serves ${endpointText(d)}` }, `${d.res.type.split(":").pop()} ${d.res.name} makes Google mint tokens for the signer ${p.label} and send them there`, d.res.urn);
                }
            }
            for (const k of g.saKeysUnknown) {
                report(`${UNDECIDED} service-account key ${k.name} is for an account unknown during preview; it may be a key for the signer identity`, k.urn);
            }

            for (const h of holders.values()) {
                report(
                    `${h.principal.label} can sign with signer key ${keyName} but is not the signer identity` +
                        `${signers.size === 0 ? " (no signer identity was found)" : ""}: ${h.paths.join("; ")}`,
                    h.urn,
                );
            }
            if (signers.size === 0) {
                report(
                    `signer key ${keyName} has no signer identity: no signer-labelled Cloud Run service runs as a service account and no ` +
                        "authoritative signing binding (CryptoKeyIAMBinding/Policy) names one",
                    key.urn,
                );
            }
            for (const s of signers.values()) {
                if (directSigners.has(s.id)) {
                    continue;
                }
                if (signerUndecided.has(s.id)) {
                    report(`${UNDECIDED} whether the signer ${s.label} holds ${SIGN_PERMISSION} on key ${keyName} depends on values unknown until apply`, key.urn);
                } else {
                    report(`the signer ${s.label} lacks ${SIGN_PERMISSION} on signer key ${keyName}: grant it roles/cloudkms.signer on the key`, key.urn);
                }
            }
        }
    },
});
