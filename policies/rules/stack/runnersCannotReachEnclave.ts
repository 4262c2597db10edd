/**
 * runners-cannot-reach-enclave (I9, I10, I11): no runner identity holds any role on the signer key,
 * its key ring, the signer SA, the signer service or the provenance bucket, nor any role at
 * project, folder or organization scope over the signer project. Runner identities are the SAs
 * runner (or unlabelled) VMs, templates and node pools run as, the Workload Identity principals of
 * runner pods (graph.ts: a runner namespace's KSAs and principal sets), plus whatever those can
 * impersonate.
 */
import { FleetStackPolicy } from "../../meta";
import { Grant, UNDECIDED } from "../../model";
import { listText, stackRule } from "../../framework/stackRule";

export const runnersCannotReachEnclave: FleetStackPolicy = stackRule({
    name: "runners-cannot-reach-enclave",
    description:
        "[I9, I10, I11] No runner identity holds any role on the signer key, key ring, signer service account, signer " +
        "service or provenance bucket, or any project/folder/organization role over the signer project.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "no runner identity holds any role on the key, key ring, signer SA, signer service or provenance bucket, or any project/folder/org role over the signer project; runner identities include the Workload Identity principals runner pods act as (`serviceAccount:<p>.svc.id.goog[<ns>/<ksa>]`, `principal://…/subject/ns/<ns>/sa/<ksa>`, `principalSet://…/namespace/<ns>` of a runner namespace; the `kubernetes.cluster/` set of a runner cluster; the project's whole pool)",
        invariants: ["I9", "I10", "I11"],
        fix:
            "Remove the grant to the runner service account; runners reach the fleet only through their own intake bucket " +
            "(roles/storage.objectCreator) and the control plane signs on their behalf. Keep the signer in its own project.",
    },
    check: (g, report) => {
        const runnerNodes = g.compute.filter((n) => n.isRunner);
        if (runnerNodes.length === 0) {
            return;
        }
        const hasEnclave = g.signerKeys.length > 0 || g.signerNodes.length > 0 || g.provenanceBuckets.length > 0;
        if (!hasEnclave) {
            return;
        }
        for (const n of runnerNodes) {
            if (n.identityUnknown) {
                report(`${UNDECIDED} runner ${n.res.name} runs as a service account that is unknown until apply and depends on no service account in this stack`, n.res.urn);
            }
        }

        // The signer must not be a runner.
        for (const s of g.signerIdentities.values()) {
            const ri = g.runnerIdentities.get(s.id);
            if (ri) {
                report(`the signer identity ${s.label} is also a runner identity (${ri.via}); runners would sign their own provenance`, s.sa?.urn);
            }
        }

        const enclave: { urn: string; what: string }[] = [];
        for (const k of g.signerKeys) {
            enclave.push({ urn: k.urn, what: `signer key ${k.name}` });
            const { ring } = g.ringOfKey(k);
            if (ring) {
                enclave.push({ urn: ring.urn, what: `signer key ring ${ring.name}` });
            }
        }
        for (const s of g.signerIdentities.values()) {
            if (s.sa) {
                enclave.push({ urn: s.sa.urn, what: `signer service account ${s.label}` });
            }
        }
        for (const n of g.signerNodes) {
            enclave.push({ urn: n.res.urn, what: `signer service ${n.res.name}` });
        }
        for (const b of g.provenanceBuckets) {
            enclave.push({ urn: b.urn, what: `provenance bucket ${b.name}` });
        }

        const check = (gr: Grant, what: string, maybe: boolean) => {
            for (const p of gr.members) {
                if (p.unresolved) {
                    report(`${UNDECIDED} ${p.label} is unknown until apply and depends on no service account; it may be a runner identity holding ${g.roleText(gr)} on ${what}`, gr.res.urn);
                    continue;
                }
                const ri = g.runnerIdentities.get(p.id);
                if (!ri) {
                    continue;
                }
                const pools = ri.pools.size > 0 ? ` (pool ${listText([...ri.pools])})` : "";
                if (maybe) {
                    report(`${UNDECIDED} runner identity ${p.label}${pools} holds ${g.roleText(gr)} ${g.whereText(gr)}, which may be ${what}`, gr.res.urn);
                } else {
                    report(`runner identity ${p.label}${pools} holds ${g.roleText(gr)} on ${what} [${gr.res.name}]; runners must not reach the signing enclave`, gr.res.urn);
                }
            }
        };

        for (const e of enclave) {
            for (const gr of g.grantsByTarget.get(e.urn) ?? []) {
                check(gr, e.what, false);
            }
        }
        for (const project of g.signerProjects) {
            for (const gr of g.projectGrants.get(project) ?? []) {
                check(gr, `the signer project ${project}`, false);
            }
        }
        for (const gr of g.hierarchyGrants) {
            check(gr, `every project under ${gr.scope === "org" ? "organization" : "folder"} ${gr.targetId}, including the signer project`, false);
        }
        for (const gr of g.projectGrantsUnknown) {
            check(gr, "the signer project", true);
        }
        if (g.signerProjectUnknown) {
            for (const [project, grants] of g.projectGrants) {
                if (g.signerProjects.has(project)) {
                    continue;
                }
                for (const gr of grants) {
                    check(gr, "the signer project (its id is unknown)", true);
                }
            }
        }
        for (const gr of g.unknownTargetGrants) {
            if (gr.scope !== "project") {
                check(gr, "part of the signing enclave (the target is unknown)", true);
            }
        }
    },
});
