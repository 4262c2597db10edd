import * as assert from "assert";
import type { GithubRun } from "../../../../services/controlPlane/github";
import { resolveRunRef } from "../../../../services/controlPlane/webhook/sourceRef";

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

    it("names a ref only when it points at the run's commit: a branch named like a tag, deleted before the job ends, does not make the tag's provenance", async () => {
        // The attack: the tag v1.0.0 is at OTHER; a branch v1.0.0 was pushed at SHA, built, then deleted.
        const attack = await resolveRunRef(refs({ "tags/v1.0.0": OTHER }), "acme/app", run({ head_branch: "v1.0.0" }));
        assert.strictEqual(attack.ref, null);
        assert.match(attack.unresolved!, /no ref named v1\.0\.0 holds the run's commit/);
        // The same with the roles swapped: a tag named like the default branch.
        assert.strictEqual((await resolveRunRef(refs({ "heads/main": OTHER }), "acme/app", run({}))).ref, null);
        // An annotated tag's ref shows its tag object, not its commit: not named either.
        const annotated = { getRef: async (_r: string, ref: string) => (ref === "tags/v2" ? { ref: "refs/tags/v2", object: { sha: SHA, type: "tag" } } : undefined) };
        assert.strictEqual((await resolveRunRef(annotated, "acme/app", run({ head_branch: "v2" }))).ref, null);
        // workflow_run: the job runs on the default branch, head_branch is the triggering run's.
        assert.strictEqual((await resolveRunRef(refs({ "heads/feature": SHA }), "acme/app", run({ head_branch: "feature", event: "workflow_run" }))).ref, null);
    });

    it("names a branch that moved on while the job ran when its recent history holds the run's commit; not a force-pushed one", async () => {
        const NEWER = "c".repeat(40);
        const history = (map: Record<string, { sha: string; recent?: string[] }>) => ({
            getRef: async (_r: string, ref: string) => (map[ref] === undefined ? undefined : { ref: `refs/${ref}`, object: { sha: map[ref].sha, type: "commit" }, recent: map[ref].recent }),
        });
        // A busy main: two pushes landed after the run's commit.
        assert.deepStrictEqual(await resolveRunRef(history({ "heads/main": { sha: NEWER, recent: [NEWER, OTHER, SHA] } }), "acme/app", run({})), { ref: "refs/heads/main" });
        // The control: the same branch without the run's commit in its history (force-pushed) is not named.
        const forced = await resolveRunRef(history({ "heads/main": { sha: NEWER, recent: [NEWER, OTHER] } }), "acme/app", run({}));
        assert.strictEqual(forced.ref, null);
        assert.match(forced.unresolved!, /no ref named main holds the run's commit .*searched 100 commits back/);
        // A tag at the commit and a branch of the same name holding it: no guess.
        const both = await resolveRunRef(history({ "heads/v3": { sha: NEWER, recent: [NEWER, SHA] }, "tags/v3": { sha: SHA } }), "acme/app", run({ head_branch: "v3" }));
        assert.strictEqual(both.ref, null);
        assert.match(both.unresolved!, /both refs\/heads\/v3 and refs\/tags\/v3 hold the run's commit/);
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

    it("names no pull request ref when the run lists several pull requests (each changing only that from a resolving run)", async () => {
        const one = run({ event: "pull_request", pull_requests: [{ number: 42, base: { ref: "main" } }] });
        assert.deepStrictEqual(await resolveRunRef(refs({}), "acme/app", one), { ref: "refs/pull/42/merge" });
        const two = await resolveRunRef(refs({}), "acme/app", { ...one, pull_requests: [{ number: 42, base: { ref: "main" } }, { number: 43, base: { ref: "main" } }] });
        assert.strictEqual(two.ref, null);
        assert.match(two.unresolved!, /no single pull request/);
        const target = run({ event: "pull_request_target", pull_requests: [{ number: 7, base: { ref: "release" } }] });
        assert.deepStrictEqual(await resolveRunRef(refs({}), "acme/app", target), { ref: "refs/heads/release" });
        const targets = await resolveRunRef(refs({}), "acme/app", { ...target, pull_requests: [{ number: 7, base: { ref: "release" } }, { number: 8, base: { ref: "main" } }] });
        assert.strictEqual(targets.ref, null);
        assert.match(targets.unresolved!, /no single pull request/);
    });

    it("leaves unknown events and unsafe names unresolved", async () => {
        assert.match((await resolveRunRef(refs({ "heads/main": SHA }), "acme/app", run({ event: "issues" }))).unresolved!, /no rule/);
        // The API answers for these names (a stand-in that would resolve them): only the name check refuses.
        for (const unsafe of ["../x", "a..b", "-x", "x.lock", "a b", "x@{1}"]) {
            const r = await resolveRunRef(refs({ [`heads/${unsafe}`]: SHA }), "acme/app", run({ head_branch: unsafe }));
            assert.strictEqual(r.ref, null, unsafe);
            assert.match(r.unresolved!, /is not a branch or tag name/, unsafe);
        }
        assert.deepStrictEqual(await resolveRunRef(refs({ "heads/x": SHA }), "acme/app", run({ head_branch: "x" })), { ref: "refs/heads/x" });
        const base = (ref: string) => run({ event: "pull_request_target", pull_requests: [{ number: 7, base: { ref } }] });
        assert.strictEqual((await resolveRunRef(refs({}), "acme/app", base("../release"))).ref, null);
        assert.deepStrictEqual(await resolveRunRef(refs({}), "acme/app", base("release")), { ref: "refs/heads/release" });
        assert.strictEqual((await resolveRunRef(refs({}), "acme/app", run({ head_branch: null }))).ref, null);
    });
});
