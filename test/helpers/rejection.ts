/**
 * Assertions for rejected input: a component that refuses its arguments names every problem in one
 * error and registers nothing; a config block reports exactly the expected issue lines.
 */
import * as assert from "assert";
import { ProgramRun } from "../../plan/engine";
import { ConfigIssue, formatIssue } from "../../components/config";

/** The run failed with an error containing every text, and nothing but the stack was registered. */
export function assertRefusedInOnePass(run: ProgramRun, texts: string[]): void {
    const message = String((run.error as Error)?.message);
    for (const text of texts) {
        assert.ok(message.includes(text), `missing "${text}" in:\n${message}`);
    }
    assert.deepStrictEqual(run.resources.map((r) => r.type), ["pulumi:pulumi:Stack"]);
}

/** Exactly one formatted issue line per pattern (and no other). */
export function assertIssueLines(issues: ConfigIssue[], patterns: RegExp[]): void {
    const lines = issues.map(formatIssue);
    assert.strictEqual(lines.length, patterns.length, lines.join("\n"));
    for (const re of patterns) {
        assert.ok(lines.some((l) => re.test(l)), `no issue matching ${re}:\n${lines.join("\n")}`);
    }
}
