/**
 * The consumer's policy on what a verified statement must say about its source: the repository
 * (mandatory, as in slsa-verifier), and optionally the fully qualified ref, the workflow file and
 * the triggering event. It reads GitHub's Actions build type (`externalParameters.workflow`,
 * `internalParameters.github.event_name`) and, for the repository only, this fleet's earlier layout
 * (`externalParameters.repository`). It runs on a statement whose signature, subject and builder were
 * already checked, so it is independent of how the envelope or bundle was verified.
 */
import type { Statement } from "../lib/statement";

export interface SourcePolicy {
    /** Expected source repository (https://github.com/org/repo, github.com/org/repo, git+https://...). */
    sourceUri: string;
    /** Expected fully qualified ref (`refs/heads/main`, `refs/tags/v1.2.0`, `refs/pull/42/merge`). */
    ref?: string;
    /** Expected workflow file path in the repository (`.github/workflows/release.yml`). */
    workflow?: string;
    /** Expected triggering event (`push`, `release`, ...). */
    event?: string;
}

export type PolicyResult = { ok: true; checked: string[] } | { ok: false; reason: string };

/** `git+https://GitHub.com/org/repo.git/` -> `github.com/org/repo`. */
export function normalizeRepository(uri: string): string {
    const bare = uri.trim().replace(/^git\+/, "").replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/\/+$/, "").replace(/\.git$/, "");
    const slash = bare.indexOf("/");
    return slash < 0 ? bare.toLowerCase() : bare.slice(0, slash).toLowerCase() + bare.slice(slash);
}

/** The source facts a statement records, wherever its build type puts them. */
export function sourceFacts(statement: Statement): { repository?: string; ref?: string; workflow?: string; event?: string } {
    const bd = statement.predicate.buildDefinition;
    const ext = bd.externalParameters as Record<string, any>;
    const github = (bd.internalParameters as Record<string, any> | undefined)?.github;
    const wf = ext.workflow !== null && typeof ext.workflow === "object" ? ext.workflow : {};
    const s = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
    return {
        repository: s(wf.repository) ?? s(ext.repository),
        ref: s(wf.ref),
        workflow: s(wf.path),
        event: s(github?.event_name),
    };
}

/** Checks every expectation of `policy`; the first mismatch is the answer. */
export function checkSourcePolicy(statement: Statement, policy: SourcePolicy): PolicyResult {
    const facts = sourceFacts(statement);
    const checked: string[] = [];
    const expect = (what: string, field: string, actual: string | undefined, expected: string | undefined, same: (a: string, b: string) => boolean): string | undefined => {
        if (expected === undefined) {
            return undefined;
        }
        if (actual === undefined) {
            return `the statement records no ${what} (${field})`;
        }
        if (!same(actual, expected)) {
            return `${what} ${JSON.stringify(actual)} is not the expected ${JSON.stringify(expected)}`;
        }
        checked.push(`${what} ${actual}`);
        return undefined;
    };
    const exact = (a: string, b: string) => a === b;
    const reason =
        expect("source repository", "externalParameters.workflow.repository", facts.repository, policy.sourceUri, (a, b) => normalizeRepository(a) === normalizeRepository(b)) ??
        expect("source ref", "externalParameters.workflow.ref", facts.ref, policy.ref, exact) ??
        expect("workflow", "externalParameters.workflow.path", facts.workflow, policy.workflow, exact) ??
        expect("event", "internalParameters.github.event_name", facts.event, policy.event, exact);
    return reason === undefined ? { ok: true, checked } : { ok: false, reason };
}
