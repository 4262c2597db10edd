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
 * - A platform repository (labelled control-plane or runner) is the fleet's own: it is no remote
 *   repository (whoever publishes upstream writes it), and a virtual one reads only upstreams of the
 *   stack that no runner identity (nor, for the release registry, anyone but the publishers) can write.
 * A grant whose role or members are unknown during preview is reported as undecided, never passed.
 */
import { FleetStackPolicy } from "../../meta";
import { PolicyResource } from "@pulumi/policy/policy";
import { FleetGraph, Grant, Principal, T, UNDECIDED } from "../../model";
import { roleOf } from "../../model/labels";
import { get, unknown } from "../../model/props";
import { resolveRef } from "../../model/lookup";
import { stackRule } from "../../framework/stackRule";

export const registryWritePublishingIdentityOnly: FleetStackPolicy = stackRule({
    name: "registry-write-publishing-identity-only",
    description:
        "[I11] Only the control plane's publishing identity can write the release registry; runner identities can write no " +
        "Artifact Registry repository, directly or through project, folder or organization roles.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "write roles on control-plane Artifact Registry repositories go only to control-plane service identities; runner identities hold no registry write role on any repository or over any project, folder or organization; a control-plane or runner repository is no `REMOTE_REPOSITORY` (its upstream's publishers write it), and a `VIRTUAL_REPOSITORY` one reads only upstreams of the stack that are not remote and that no runner identity (nor, for the release registry, anyone but the publishing identity) can write",
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
        for (const r of g.of(T.arRepository)) {
            const role = roleOf(r.type, g.props(r));
            if (role === "control-plane" || role === "runner") {
                upstreamFindings(g, r, role === "control-plane" ? publishers : undefined).forEach((m) => report(m, r.urn));
            }
        }
    },
});

/** Who besides `allowed` (undefined: any non-runner) can write a repository, by grants on it or over its project. */
function writersOf(g: FleetGraph, repo: PolicyResource, allowed: Set<string> | undefined): string[] {
    const over = [...(g.grantsByTarget.get(repo.urn) ?? []), ...g.grantsInProject(String(g.projectOf(repo) ?? "")).grants,
        ...g.grants.filter((gr) => gr.scope === "folder" || gr.scope === "org")];
    const out: string[] = [];
    for (const gr of over) {
        if (g.can(gr, "registryWrite") === "no") {
            continue;
        }
        for (const p of gr.members) {
            if (g.isRunner(p) || p.unresolved || (allowed !== undefined && !allowed.has(p.id))) {
                out.push(g.pathText(p, gr));
            }
        }
    }
    return out;
}

/** Why a platform repository may serve images nobody of the platform wrote (empty: it may not). */
function upstreamFindings(g: FleetGraph, repo: PolicyResource, publishers: Set<string> | undefined): string[] {
    const props = g.props(repo);
    const name = String(get(props, "repositoryId") ?? repo.name);
    const what = `${publishers ? "release registry" : "runner image repository"} ${name}`;
    const mode = get(props, "mode");
    if (unknown(mode)) {
        return [`${UNDECIDED} the mode of ${what} is unknown until apply; it may proxy a registry outside the fleet`];
    }
    if (mode === "REMOTE_REPOSITORY") {
        return [`${what} is a remote repository: it serves whatever its upstream (${upstreamText(get(props, "remoteRepositoryConfig"))}) publishes, a registry outside the fleet that its publishers write`];
    }
    if (mode !== "VIRTUAL_REPOSITORY") {
        return [];
    }
    const out: string[] = [];
    const ups = get(props, "virtualRepositoryConfig", "upstreamPolicies");
    for (const u of unknown(ups) ? [{ repository: ups }] : Array.isArray(ups) ? ups : []) {
        const ref = get(u, "repository");
        const res = resolveRef(repo, "virtualRepositoryConfig", ref, [T.arRepository], (x) => g.findRepositories(x, String(g.projectOf(repo) ?? "")));
        if (res.unknown) {
            out.push(`${UNDECIDED} an upstream of virtual ${what} is unknown until apply`);
        } else if (res.external !== undefined) {
            out.push(`virtual ${what} reads upstream ${res.external}, which this stack does not define: who writes it cannot be proven`);
        }
        for (const up of res.found) {
            const upName = String(get(g.props(up), "repositoryId") ?? up.name);
            if (get(g.props(up), "mode") === "REMOTE_REPOSITORY") {
                out.push(`virtual ${what} reads upstream ${upName}, a remote repository serving a registry outside the fleet`);
            }
            const writers = writersOf(g, up, publishers);
            if (writers.length > 0) {
                out.push(`virtual ${what} reads upstream ${upName}, which ${writers.join("; ")} can write: an image pushed there is served as the fleet's`);
            }
        }
    }
    return out;
}

function upstreamText(cfg: unknown): string {
    const pub = get(cfg, "dockerRepository", "publicRepository");
    const uri = get(cfg, "dockerRepository", "customRepository", "uri");
    return typeof uri === "string" ? uri : typeof pub === "string" ? pub : "its upstream";
}
