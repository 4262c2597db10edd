/**
 * provenance-by-control-plane (I11): on intake buckets a runner identity holds exactly
 * roles/storage.objectCreator (create, never read, overwrite or delete); and only the signer
 * identity can write the provenance bucket (bucket IAM, or storage write roles over its project), and
 * no Pub/Sub Cloud Storage subscription writes into it (whoever publishes to its topic would write
 * provenance: forgery).
 */
import { get } from "../../model/props";
import { FleetStackPolicy } from "../../meta";
import { Grant, UNDECIDED } from "../../model";
import { listText, stackRule } from "../../framework/stackRule";
import { INTAKE_RUNNER_ROLE } from "../../model/roles";
import { bucketMoves, subscriptionWrites } from "../../model/subscriptionWrites";

export const provenanceByControlPlane: FleetStackPolicy = stackRule({
    name: "provenance-by-control-plane",
    description:
        "[I11] Runners hold only roles/storage.objectCreator on their intake bucket (no read, overwrite or delete), and only " +
        "the signer identity can write the provenance bucket (no Pub/Sub subscription writes into it).",
    enforcementLevel: "mandatory",
    meta: {
        checks: "runners hold only `roles/storage.objectCreator` on intake buckets; only the signer identity can write the provenance bucket; no Pub/Sub subscription's `cloudStorageConfig`, Storage Transfer job or `BucketObject` of the stack writes into it (the objects would not be the signer's)",
        invariants: ["I11"],
        fix:
            "Grant runners roles/storage.objectCreator on their own intake bucket and nothing else there; grant write roles on the " +
            "provenance bucket to the signer SA only (authoritative BucketIAMBinding) and no storage write roles over its project; point Cloud Storage " +
            "subscriptions at a bucket of their own.",
    },
    check: (g, report) => {
        // Runners on intake buckets: create only.
        for (const [urn, pool] of g.intakeBuckets) {
            const bucket = g.byUrn.get(urn)!;
            const name = String(get(bucket.props, "name") ?? bucket.name);
            for (const gr of g.grantsByTarget.get(urn) ?? []) {
                for (const p of gr.members) {
                    if (!g.isRunner(p)) {
                        continue;
                    }
                    if (gr.role === INTAKE_RUNNER_ROLE && !gr.customRole) {
                        continue;
                    }
                    if (typeof gr.role !== "string" && !gr.customRole) {
                        report(`${UNDECIDED} runner identity ${p.label} holds a role unknown until apply on intake bucket ${name} of pool ${pool} [${gr.res.name}]`, gr.res.urn);
                        continue;
                    }
                    report(
                        `runner identity ${p.label} holds ${g.roleText(gr)} on intake bucket ${name} of pool ${pool} [${gr.res.name}]; ` +
                            `runners may hold only ${INTAKE_RUNNER_ROLE} there (no read, overwrite or delete)`,
                        gr.res.urn,
                    );
                }
            }
        }

        // Storage roles over an intake bucket's project (or folder/org) also reach the bucket.
        const seenProjects = new Set<string>();
        for (const [urn, pool] of g.intakeBuckets) {
            const bucket = g.byUrn.get(urn)!;
            const pr = g.projectOf(bucket);
            if (typeof pr !== "string" || seenProjects.has(pr)) {
                continue;
            }
            seenProjects.add(pr);
            const name = String(get(bucket.props, "name") ?? bucket.name);
            for (const gr of g.grantsInProject(pr).grants) {
                const t = g.touchesStorage(gr);
                if (t === false) {
                    continue;
                }
                for (const p of gr.members) {
                    if (!g.isRunner(p)) {
                        continue;
                    }
                    report(
                        `${t === "unknown" ? `${UNDECIDED} ` : ""}runner identity ${p.label} holds ${g.roleText(gr)} ${g.whereText(gr)}, which ` +
                            `${t === "unknown" ? "may cover" : "covers"} the intake buckets there (e.g. ${name} of pool ${pool}) [${gr.res.name}]; ` +
                            `runners may hold only ${INTAKE_RUNNER_ROLE}, on their own intake bucket`,
                        gr.res.urn,
                    );
                }
            }
        }

        // Provenance bucket: only the signer writes.
        if (g.provenanceBuckets.length === 0) {
            return;
        }
        const signers = g.signerIdentities;
        const check = (gr: Grant, bucketName: string, maybe: boolean) => {
            const can = g.can(gr, "storageWrite");
            if (can === "no") {
                return;
            }
            for (const p of gr.members) {
                if (signers.has(p.id)) {
                    continue;
                }
                if (p.unresolved) {
                    report(`${UNDECIDED} ${p.label} is unknown until apply and depends on no service account; it may write provenance bucket ${bucketName} via ${g.roleText(gr)}`, gr.res.urn);
                } else if (can === "unknown" || maybe) {
                    report(`${UNDECIDED} ${g.pathText(p, gr)} may let it write provenance bucket ${bucketName}`, gr.res.urn);
                } else {
                    const why = can === "unchecked" ? " (custom role not defined in this stack: its permissions cannot be checked)" : "";
                    report(`${g.pathText(p, gr)} can write provenance bucket ${bucketName}${why}; only the signer identity may write provenance`, gr.res.urn);
                }
            }
        };
        for (const b of g.provenanceBuckets) {
            const name = String(get(b.props, "name") ?? b.name);
            for (const gr of g.grantsByTarget.get(b.urn) ?? []) {
                check(gr, name, false);
            }
            const scope = g.grantsInProject(g.projectOf(b) ?? "");
            for (const gr of scope.grants) {
                check(gr, name, false);
            }
            for (const gr of scope.maybe) {
                check(gr, name, true);
            }
        }
        for (const gr of g.unknownTargetGrants) {
            if (gr.scope === "bucket") {
                check(gr, "(a bucket unknown until apply)", true);
            }
        }
        // A Cloud Storage subscription writes whatever the topic's publishers send: a grant to every publisher.
        const provenance = new Set(g.provenanceBuckets.map((b) => b.urn));
        for (const w of subscriptionWrites(g)) {
            const hit = w.buckets.filter((b) => provenance.has(b.urn));
            if (hit.length > 0) {
                report(`${w.kind} subscription ${w.res.name} writes every message of its topic into provenance bucket ${listText(hit.map((b) => String(get(b.props, "name") ?? b.name)))}: ` +
                    "whoever can publish to the topic writes provenance (forgery); only the signer identity may write provenance", w.res.urn);
            } else if (w.bucketUnknown) {
                report(`${UNDECIDED} ${w.kind} subscription ${w.res.name} writes into ${w.destination} that depends on no bucket of the stack; it may be the provenance bucket`, w.res.urn);
            }
        }
        // Transfer jobs and objects the stack uploads write provenance without the signer.
        for (const mv of bucketMoves(g)) {
            const hit = mv.buckets.filter((b) => provenance.has(b.urn));
            if (hit.length > 0) {
                report(`${mv.kind} ${mv.res.name} writes into provenance bucket ${listText(hit.map((b) => String(get(b.props, "name") ?? b.name)))}: provenance not signed by the signer (forgery); only the signer identity may write provenance`, mv.res.urn);
            } else if (mv.unknown) {
                report(`${UNDECIDED} ${mv.kind} ${mv.res.name} writes into a bucket unknown until apply that depends on no bucket of the stack; it may be the provenance bucket`, mv.res.urn);
            }
        }
    },
});
