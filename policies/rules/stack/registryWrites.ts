/**
 * registry-write-publishing-identity-only (I11): only the control plane's publishing identity writes
 * the release registry; runner identities write no registry repository at all.
 *
 * - On an Artifact Registry repository labelled `build-fleet-role=control-plane` (the release registry),
 *   every grant that can push, retag, delete or change the repository's IAM goes to an identity a
 *   control-plane service runs as (the provenance generator publishes) and to nobody else.
 * - On any repository, and over any project, folder or organization (whose roles reach every repository
 *   in it), a runner identity holds no such grant: a job could otherwise push under any name, or move a
 *   tag a consumer trusts.
 * A grant whose role or members are unknown during preview is reported as undecided, never passed.
 */
import { FleetStackPolicy } from "../../meta";
import { Grant, Principal, T, UNDECIDED } from "../../model";
import { roleOf } from "../../model/labels";
import { get } from "../../model/props";
import { stackRule } from "../../framework/stackRule";

export const registryWritePublishingIdentityOnly: FleetStackPolicy = stackRule({
    name: "registry-write-publishing-identity-only",
    description:
        "[I11] Only the control plane's publishing identity can write the release registry; runner identities can write no " +
        "Artifact Registry repository, directly or through project, folder or organization roles.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "write roles on control-plane Artifact Registry repositories go only to control-plane service identities; runner identities hold no registry write role on any repository or over any project, folder or organization",
        invariants: ["I11"],
        fix:
            "Grant roles/artifactregistry.writer on the release registry to the provenance generator's service account only " +
            "(authoritative RepositoryIamBinding); give runners at most roles/artifactregistry.reader on their image repositories.",
    },
    check: (g, report) => {
        const publishers = new Set<string>();
        for (const n of g.compute) {
            if (n.role === "control-plane" && !n.isRunner) {
                n.identities.forEach((p) => publishers.add(p.id));
            }
        }
        const repoName = (r: { props: unknown; name: string }) => String(get(r.props, "repositoryId") ?? r.name);
        const judge = (gr: Grant, release: string | undefined, maybe: boolean) => {
            const can = g.can(gr, "registryWrite");
            if (can === "no") {
                return;
            }
            const undecided = can === "unknown" || maybe;
            const flag = (p: Principal, why: string) =>
                report(`${undecided ? `${UNDECIDED} ` : ""}${g.pathText(p, gr)} ${undecided ? "may let it write" : "can write"} ${why}`, gr.res.urn);
            for (const p of gr.members) {
                if (g.isRunner(p)) {
                    flag(p, `${release !== undefined ? `release registry ${release}` : "Artifact Registry repositories"}; runner identities may only read images`);
                } else if (release !== undefined && !publishers.has(p.id)) {
                    flag(p, `release registry ${release}; only the control plane's publishing identity may write it${p.unresolved ? " (the member is unknown until apply)" : ""}`);
                }
            }
        };
        const releases = g.of(T.arRepository).filter((r) => roleOf(r.type, g.props(r)) === "control-plane");
        const releaseUrns = new Set(releases.map((r) => r.urn));
        for (const r of g.of(T.arRepository)) {
            for (const gr of g.grantsByTarget.get(r.urn) ?? []) {
                judge(gr, releaseUrns.has(r.urn) ? repoName(r) : undefined, false);
            }
        }
        // Project, folder and organization roles reach every repository in them: runners only.
        for (const gr of g.grants) {
            if (gr.scope === "project" || gr.scope === "folder" || gr.scope === "org") {
                judge(gr, undefined, false);
            }
        }
    },
});
