import * as assert from "assert";
import type { GithubRun } from "../../services/controlPlane/github";
import { resolveRunRef } from "../../services/controlPlane/webhook/sourceRef";

const SHA = "a".repeat(40);
const OTHER = "b".repeat(40);

/** A repository's refs, as GET /repos/{repo}/git/ref/{ref} answers. */
const refs = (map: Record<string, string>) => ({
    getRef: async (_repo: string, ref: string) => (map[ref] === undefined ? undefined : { ref: `refs/${ref}`, object: { sha: map[ref], type: "commit" } }),
});
const run = (over: Partial<GithubRun>): GithubRun => ({ id: 1, path: ".github/workflows/build.yml", head_branch: "main", head_sha: SHA, event: "push", run_attempt: 1, ...over });

describe("the fully qualified ref of a workflow run", () => {
    it("tells a branch from a tag of the same short name", async () => {
        assert.deepStrictEqual(await resolveRunRef(refs({ "heads/main": SHA }), "acme/app", run({})), { ref: "refs/heads/main" });
        assert.deepStrictEqual(await resolveRunRef(refs({ "tags/v1.2.0": SHA }), "acme/app", run({ head_branch: "v1.2.0" })), { ref: "refs/tags/v1.2.0" });
        assert.deepStrictEqual(await resolveRunRef(refs({ "tags/v1.2.0": SHA }), "acme/app", run({ head_branch: "v1.2.0", event: "release" })), { ref: "refs/tags/v1.2.0" });
        // Both exist: the one at the run's commit; when both or neither point there, no guess.
        assert.deepStrictEqual(await resolveRunRef(refs({ "heads/x": OTHER, "tags/x": SHA }), "acme/app", run({ head_branch: "x" })), { ref: "refs/tags/x" });
        assert.strictEqual((await resolveRunRef(refs({ "heads/x": SHA, "tags/x": SHA }), "acme/app", run({ head_branch: "x" }))).ref, null);
        assert.strictEqual((await resolveRunRef(refs({}), "acme/app", run({}))).ref, null);
    });

    it("gives a pull request its merge ref, never the head branch's name", async () => {
        // A fork's branch named main: GitHub's run carries head_branch "main" too.
        const pr = run({ event: "pull_request", head_branch: "main", pull_requests: [{ number: 42, base: { ref: "main" } }] });
        assert.deepStrictEqual(await resolveRunRef(refs({ "heads/main": SHA }), "acme/app", pr), { ref: "refs/pull/42/merge" });
        const fork = await resolveRunRef(refs({ "heads/main": SHA }), "acme/app", { ...pr, pull_requests: [] });
        assert.strictEqual(fork.ref, null);
        assert.match(fork.unresolved!, /fork's pull request/);
        const target = run({ event: "pull_request_target", head_branch: "feature", pull_requests: [{ number: 7, base: { ref: "release" } }] });
        assert.deepStrictEqual(await resolveRunRef(refs({}), "acme/app", target), { ref: "refs/heads/release" });
    });

    it("leaves unknown events and unsafe names unresolved", async () => {
        assert.match((await resolveRunRef(refs({ "heads/main": SHA }), "acme/app", run({ event: "issues" }))).unresolved!, /no rule/);
        assert.strictEqual((await resolveRunRef(refs({}), "acme/app", run({ head_branch: "../x" }))).ref, null);
        assert.strictEqual((await resolveRunRef(refs({}), "acme/app", run({ head_branch: null }))).ref, null);
    });
});
