/**
 * Test harness for the per-resource rules: run a raw program once, evaluate the resource pack, and
 * read the findings per resource (by logical name).
 */
import * as assert from "assert";
import { evaluatePolicies, EvaluateOptions, Evaluation, ProgramRun, runProgram, Violation } from "../../plan/engine";
import { resourcePolicies } from "../../policies/rules/resource";
import { PREVIEW_PREFIX } from "../../policies/recognisers/common";

export interface Checked {
    run: ProgramRun;
    ev: Evaluation;
    /** Every finding on the resource with this logical name. */
    on(name: string): Violation[];
    /** Sorted names of the policies that reported a decided (non-preview) finding on the resource. */
    fired(name: string): string[];
    /** Sorted names of the policies that reported "cannot decide during preview" on the resource. */
    undecided(name: string): string[];
}

/** Runs `program` and evaluates `resourcePolicies` over it. */
export async function check(program: () => unknown, opts: { preview?: boolean; config?: Record<string, unknown> } & EvaluateOptions = {}): Promise<Checked> {
    const run = await runProgram(program, { preview: opts.preview ?? false, config: opts.config ?? { "gcp:project": "fleet-proj" } });
    return evaluate(run, opts);
}

/** Evaluates `resourcePolicies` over an existing run (e.g. with another pack config). */
export async function evaluate(run: ProgramRun, opts: EvaluateOptions = {}): Promise<Checked> {
    const ev = await evaluatePolicies(run, resourcePolicies, opts);
    const urnOf = (name: string): string => {
        const found = run.resources.filter((r) => r.name === name && r.type !== "pulumi:pulumi:Stack");
        assert.strictEqual(found.length, 1, `expected exactly one resource named ${name}, found ${found.length}`);
        return found[0].urn;
    };
    // Resolve the name first: a mistyped name must fail even when nothing fired.
    const on = (name: string) => {
        const urn = urnOf(name);
        return ev.violations.filter((v) => v.urn === urn);
    };
    const isPreview = (v: Violation) => v.message.startsWith(PREVIEW_PREFIX);
    const names = (vs: Violation[]) => [...new Set(vs.map((v) => v.policy))].sort();
    return {
        run,
        ev,
        on,
        fired: (name) => names(on(name).filter((v) => !isPreview(v))),
        undecided: (name) => names(on(name).filter(isPreview)),
    };
}

/** Asserts the decided findings on `name` are exactly `policies` (order-insensitive). */
export function assertFired(c: Checked, name: string, policies: string[]): void {
    assert.deepStrictEqual(c.fired(name), [...policies].sort(), `findings on ${name}:\n${c.on(name).map((v) => `  ${v.policy} [${v.enforcementLevel}]: ${v.message}`).join("\n")}`);
}

/** Asserts some finding of `policy` on `name` has a message containing `text`. */
export function assertMessage(c: Checked, name: string, policy: string, text: string | RegExp): void {
    const msgs = c.on(name).filter((v) => v.policy === policy).map((v) => v.message);
    assert.ok(
        msgs.some((m) => (typeof text === "string" ? m.includes(text) : text.test(m))),
        `no ${policy} message on ${name} matching ${text}; got:\n${msgs.join("\n")}`,
    );
}
