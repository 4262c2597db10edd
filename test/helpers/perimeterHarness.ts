/**
 * Shared by the perimeter and guardrail stack-rule tests: run the secure raw fleet (fixture.ts) plus a
 * variant, evaluate the stack rules with the signer's number known, and assert single findings by
 * exact policy, level and URN.
 */
import * as assert from "assert";
import { evaluatePolicies, Evaluation, ProgramRun, runProgram } from "../../plan/engine";
import { stackPolicies } from "../../policies/rules/stack";
import { perimeterPackConfig } from "./perimeterFixture";
import { FleetHandles, FleetOptions, REGION, secureFleet, SIGNER_PROJECT, WORKER_PROJECT } from "./stackPolicy";

export interface Result {
    run: ProgramRun;
    ev: Evaluation;
}

export interface VariantOptions extends FleetOptions {
    preview?: boolean;
    /** Pack config; default: the signer's number for signer-perimeter. */
    policyConfig?: Record<string, unknown>;
}

export async function evaluateVariant(variant: (f: FleetHandles) => void, opts: VariantOptions = {}): Promise<Result> {
    const run = await runProgram(() => {
        variant(secureFleet(opts));
    }, { config: { "gcp:project": WORKER_PROJECT, "gcp:region": REGION }, preview: opts.preview ?? false });
    const ev = await evaluatePolicies(run, stackPolicies, { policyConfig: opts.policyConfig ?? perimeterPackConfig(SIGNER_PROJECT, WORKER_PROJECT) });
    return { run, ev };
}

/** Every finding, for assertion messages. */
export function list(ev: Evaluation): string {
    return ev.violations.map((v) => `  [${v.policy}/${v.enforcementLevel}] ${v.urn}\n    ${v.message}`).join("\n") || "  (none)";
}

export function urnOf(run: ProgramRun, name: string): string {
    const found = run.resources.filter((r) => r.name === name && r.type !== "pulumi:pulumi:Stack");
    assert.strictEqual(found.length, 1, `expected one resource named ${name}`);
    return found[0].urn;
}

/** Exactly one finding: `policy` at `level` on the resource named `name`, matching `pattern`. */
export function assertOnly(r: Result, policy: string, name: string, level: "mandatory" | "advisory", pattern: RegExp): void {
    assert.strictEqual(r.ev.violations.length, 1, `expected exactly one finding, got:\n${list(r.ev)}`);
    const v = r.ev.violations[0];
    assert.strictEqual(v.policy, policy, list(r.ev));
    assert.strictEqual(v.urn, urnOf(r.run, name), list(r.ev));
    assert.strictEqual(v.enforcementLevel, level, list(r.ev));
    assert.match(v.message, pattern);
}
