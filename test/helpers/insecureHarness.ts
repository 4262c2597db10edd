/**
 * Running a variant of the raw baseline (baseline.ts) under the full pack and asserting findings:
 * shared by the case table (cases.test.ts) and the adversarial suite (adversarial.test.ts).
 */
import * as assert from "assert";
import { evaluatePolicies, Evaluation, ProgramRun, runProgram, Violation } from "../../plan/engine";
import { policies } from "../../policies/rules";
import { perimeterPackConfig } from "./perimeterFixture";
import { buildBaseline, Mutations, noMutations, SIGNER_PROJECT, STACK_CONFIG, WORKER_PROJECT } from "./insecureBaseline";

export interface Result {
    run: ProgramRun;
    ev: Evaluation;
}

/** Runs the baseline with `mutate` applied, in normal or preview mode, and evaluates the full pack. */
export async function evaluateVariant(mutate: ((m: Mutations) => void) | undefined, preview: boolean, policyConfig?: Record<string, unknown>): Promise<Result> {
    const m = noMutations();
    mutate?.(m);
    const run = await runProgram(() => {
        buildBaseline(m);
    }, { config: STACK_CONFIG, preview });
    // The baseline's projects sit in the perimeters the perimeter rules expect (test/helpers/perimeterFixture.ts).
    const ev = await evaluatePolicies(run, policies, { policyConfig: { ...perimeterPackConfig(SIGNER_PROJECT, WORKER_PROJECT), ...policyConfig } });
    return { run, ev };
}

export function describeFinding(v: Violation): string {
    return `  [${v.policy}/${v.enforcementLevel}] ${v.urn ?? "(no resource)"}\n    ${v.message.replace(/\n/g, "\n    ")}`;
}

export function listFindings(ev: Evaluation): string {
    return ev.violations.map(describeFinding).join("\n") || "  (none)";
}

export function urnOf(run: ProgramRun, name: string): string {
    const found = run.resources.filter((r) => r.name === name && r.type !== "pulumi:pulumi:Stack");
    assert.strictEqual(found.length, 1, `expected exactly one resource named ${name}, found ${found.length}`);
    return found[0].urn;
}

/**
 * Asserts `policy` reported a mandatory finding naming `offender`'s URN (one of them, for a list) and,
 * when given, mentioning `mentions` in its message.
 */
export function assertMandatory(r: Result, policy: string, offender: string | string[] | undefined, mentions?: string): void {
    const urns = offender === undefined ? undefined : (Array.isArray(offender) ? offender : [offender]).map((n) => urnOf(r.run, n));
    const hits = r.ev.violations.filter((v) => v.policy === policy);
    assert.ok(hits.length > 0, `expected ${policy} to fire; got:\n${listFindings(r.ev)}`);
    const onOffender = urns === undefined ? hits : hits.filter((v) => v.urn !== undefined && urns.includes(v.urn));
    assert.ok(onOffender.length > 0, `expected ${policy} to name ${urns?.join(" or ")}; its findings:\n${hits.map(describeFinding).join("\n")}`);
    const decided = onOffender.filter((v) => v.enforcementLevel === "mandatory" && (mentions === undefined || v.message.includes(mentions)));
    assert.ok(
        decided.length > 0,
        `expected a mandatory ${policy} finding on ${urns?.join(" or ")}${mentions ? ` mentioning ${mentions}` : ""}, got only:\n${onOffender.map(describeFinding).join("\n")}`,
    );
}

/** Asserts that no rule outside `allowed` fired. */
export function assertOnly(r: Result, allowed: Set<string>): void {
    const stray = r.ev.violations.filter((v) => !allowed.has(v.policy));
    assert.deepStrictEqual(stray.map((v) => v.policy), [], `rules other than ${[...allowed].join(", ")} fired:\n${stray.map(describeFinding).join("\n")}`);
}

/** A one-change variant that must be caught (adversarial.ts, classes.ts). */
export interface CaughtVariant {
    policy: string;
    offender: string | string[];
    also?: { policy: string; offender?: string }[];
    mutate: (m: Mutations) => void;
    policyConfig?: Record<string, unknown>;
    /** Text the finding must contain. */
    mentions?: string;
}

/** Runs a variant and asserts it is caught by exactly its rule (and the rules it necessarily breaks too). */
export async function checkCaught(v: CaughtVariant, preview: boolean): Promise<void> {
    const r = await evaluateVariant(v.mutate, preview, v.policyConfig);
    assertMandatory(r, v.policy, v.offender, v.mentions);
    for (const a of v.also ?? []) {
        if (a.offender !== undefined) {
            assertMandatory(r, a.policy, a.offender);
        }
    }
    assertOnly(r, new Set([v.policy, ...(v.also ?? []).map((a) => a.policy)]));
}

/** Runs a sound variant and asserts no finding (in preview, only advisories when `previewAdvisory` says why). */
export async function checkClean(mutate: (m: Mutations) => void, preview: boolean, previewAdvisory?: string, policyConfig?: Record<string, unknown>): Promise<void> {
    const r = await evaluateVariant(mutate, preview, policyConfig);
    const findings = r.ev.violations.filter((v) => !(preview && previewAdvisory && v.enforcementLevel === "advisory"));
    assert.deepStrictEqual(findings.map((v) => `${v.policy}/${v.enforcementLevel}`), [], `false positives:\n${listFindings(r.ev)}`);
    if (preview && previewAdvisory) {
        assert.ok(r.ev.violations.length > 0, `expected an advisory (${previewAdvisory}), got none: a preview must not pass silently`);
    }
}
