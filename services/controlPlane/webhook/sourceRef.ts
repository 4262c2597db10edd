/**
 * The fully qualified ref a workflow run was for (`github.ref` inside the job), derived from what the
 * GitHub API says about the run. The REST run object carries only `head_branch`, which is a branch
 * name for a push to a branch, a tag name for a push of a tag or a release, and the head branch for
 * a pull request (a fork's branch named `main` included): on its own it is ambiguous, so it is never
 * recorded bare. When the API cannot settle the ref, the answer is null and the generator refuses to
 * sign (fail closed) rather than guess.
 */
import { REF_HISTORY_DEPTH, type GithubClient, type GithubRun } from "../github";

/**
 * Events whose `github.ref` is the branch or tag named by `head_branch`; any other event stays unresolved.
 * Not `workflow_run`: its job runs on the default branch while the run's head_branch is the triggering
 * run's (possibly a fork's) branch.
 */
const BRANCH_OR_TAG_EVENTS = new Set(["push", "create", "release", "workflow_dispatch", "schedule", "repository_dispatch"]);

/** A branch or tag name as git allows it (no `..`, no control characters, no leading `-` or `/`). */
function safeName(name: string): boolean {
    // eslint-disable-next-line no-control-regex
    return name.length > 0 && name.length <= 255 && !/[\u0000-\u0020~^:?*[\\\u007f]|\.\.|@\{|^[-/]|\/$|\.lock$|\/\//.test(name);
}

export interface ResolvedRef {
    /** `refs/heads/<b>`, `refs/tags/<t>`, `refs/pull/<n>/merge`, or null when it cannot be told. */
    ref: string | null;
    /** Why the ref is null (recorded with the facts and named in the generator's refusal). */
    unresolved?: string;
}

/**
 * `refs/pull/<n>/merge` for `pull_request` (from the run's pull request number; a fork's pull request
 * has none in the API, so it stays unresolved), the base branch for `pull_request_target`, the queue
 * branch for `merge_group`, and for the branch-or-tag events the one of `refs/heads/<name>` and
 * `refs/tags/<name>` that points at the run's commit.
 *
 * Existence alone proves nothing: a writer who may push branches but not tags pushes a branch named
 * like a release tag, deletes it before the job completes, and only the tag is left. So a ref is named
 * only when it holds the run's own commit: a tag that points at it, or a branch whose head is it or whose
 * recent history (the last REF_HISTORY_DEPTH commits) contains it, since on a busy repository the branch
 * moves on while the job runs. When both a tag and a branch of that name hold the commit, or neither
 * does (a force-pushed branch, an annotated tag whose commit the ref does not show), the ref stays
 * unresolved and the generator refuses to sign (fail closed).
 */
export async function resolveRunRef(github: Pick<GithubClient, "getRef">, repository: string, run: GithubRun): Promise<ResolvedRef> {
    const name = run.head_branch;
    if (run.event === "pull_request") {
        const n = run.pull_requests?.[0]?.number;
        return Number.isSafeInteger(n) && (n as number) > 0 && run.pull_requests!.length === 1
            ? { ref: `refs/pull/${n}/merge` }
            : { ref: null, unresolved: "pull_request run lists no single pull request (a fork's pull request); its merge ref cannot be told" };
    }
    if (run.event === "pull_request_target") {
        const base = run.pull_requests?.[0]?.base?.ref;
        return typeof base === "string" && safeName(base) && run.pull_requests!.length === 1
            ? { ref: `refs/heads/${base}` }
            : { ref: null, unresolved: "pull_request_target run lists no single pull request with a base branch" };
    }
    if (typeof name !== "string" || !safeName(name)) {
        return { ref: null, unresolved: `the run's head_branch ${JSON.stringify(name)} is not a branch or tag name` };
    }
    if (run.event === "merge_group") {
        return { ref: `refs/heads/${name}` };
    }
    if (!BRANCH_OR_TAG_EVENTS.has(run.event)) {
        return { ref: null, unresolved: `event ${JSON.stringify(run.event)}: no rule gives its ref` };
    }
    const [branch, tag] = await Promise.all([github.getRef(repository, `heads/${name}`), github.getRef(repository, `tags/${name}`)]);
    if (branch === undefined && tag === undefined) {
        return { ref: null, unresolved: `neither refs/heads/${name} nor refs/tags/${name} exists any more` };
    }
    const onBranch = branch !== undefined && (branch.object.sha === run.head_sha || (branch.recent ?? []).includes(run.head_sha));
    const onTag = tag !== undefined && tag.object.type === "commit" && tag.object.sha === run.head_sha;
    if (onBranch !== onTag) {
        return { ref: onBranch ? `refs/heads/${name}` : `refs/tags/${name}` };
    }
    if (onBranch && onTag) {
        return { ref: null, unresolved: `both refs/heads/${name} and refs/tags/${name} hold the run's commit: the run's ref cannot be told` };
    }
    const seen = [branch && `refs/heads/${name} at ${branch.object.sha}`, tag && `refs/tags/${name} at ${tag.object.type === "commit" ? tag.object.sha : `an annotated tag object ${tag.object.sha}`}`].filter(Boolean).join(" and ");
    return { ref: null, unresolved: `no ref named ${name} holds the run's commit ${run.head_sha} (${seen}; a branch is searched ${REF_HISTORY_DEPTH} commits back)` };
}
