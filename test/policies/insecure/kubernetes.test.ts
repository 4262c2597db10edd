/**
 * Kubernetes as the API server sees it: the variants of kubernetes.ts on the raw baseline, under the
 * full pack. Each insecure variant must draw the exact rule at the exact level, naming the offending
 * resource's URN, and nothing else; each secure-but-unusual variant must draw nothing.
 */
import * as assert from "assert";
import { evaluatePolicies, Evaluation, ProgramRun, runProgram, Violation } from "../../../plan/engine";
import { policies } from "../../../policies/rules";
import { perimeterPackConfig } from "../../helpers/perimeterFixture";
import { buildBaseline, Mutations, noMutations, SIGNER_PROJECT, STACK_CONFIG, WORKER_PROJECT } from "../../helpers/insecureBaseline";
import { K8S_CASES, K8S_SECURE_CASES } from "./kubernetes";

async function evaluate(mutate: (m: Mutations) => void, preview: boolean): Promise<{ run: ProgramRun; ev: Evaluation }> {
    const m = noMutations();
    mutate(m);
    const run = await runProgram(() => {
        buildBaseline(m);
    }, { config: STACK_CONFIG, preview });
    return { run, ev: await evaluatePolicies(run, policies, { policyConfig: perimeterPackConfig(SIGNER_PROJECT, WORKER_PROJECT) }) };
}

function describe1(v: Violation): string {
    return `  [${v.policy}/${v.enforcementLevel}] ${v.urn ?? "(stack)"}\n    ${v.message}`;
}

function urnsOf(run: ProgramRun, names: string | string[]): string[] {
    return (Array.isArray(names) ? names : [names]).map((spec) => {
        const [kind, n] = spec.includes("::") ? spec.split("::") : [undefined, spec];
        const found = run.resources.filter((r) => r.name === n && r.type !== "pulumi:pulumi:Stack" && (kind === undefined || r.type.endsWith(`:${kind}`)));
        assert.strictEqual(found.length, 1, `expected exactly one resource named ${spec}, found ${found.length}`);
        return found[0].urn;
    });
}

describe("Kubernetes variants of the raw baseline (the API server's view)", function () {
    this.timeout(60_000);

    it("has at least 30 insecure and 5 secure variants, uniquely named, each naming a rule of the pack", () => {
        const names = [...K8S_CASES, ...K8S_SECURE_CASES].map((c) => c.name);
        assert.strictEqual(new Set(names).size, names.length);
        assert.ok(K8S_CASES.filter((c) => !c.preview).length >= 30, `only ${K8S_CASES.length} insecure variants`);
        assert.ok(K8S_SECURE_CASES.length >= 5);
        for (const c of K8S_CASES) {
            assert.ok(policies.some((p) => p.name === c.policy), `${c.name}: no rule ${c.policy}`);
        }
    });

    describe("insecure variants: the exact rule fires, naming the offender", () => {
        for (const c of K8S_CASES) {
            const level = c.level ?? "mandatory";
            it(`${c.name} -> ${c.policy} [${level}]${c.preview ? " (preview)" : ""}`, async () => {
                const { run, ev } = await evaluate(c.mutate, c.preview ?? false);
                const urns = urnsOf(run, c.offender);
                const all = ev.violations.map(describe1).join("\n") || "  (none)";
                const hits = ev.violations.filter((v) => v.policy === c.policy && v.urn !== undefined && urns.includes(v.urn) && v.enforcementLevel === level &&
                    (c.mentions === undefined || v.message.includes(c.mentions)));
                assert.ok(hits.length > 0, `expected a ${level} ${c.policy} finding on ${urns.join(" or ")}${c.mentions ? ` mentioning ${c.mentions}` : ""}; got:\n${all}`);
                for (const a of c.also ?? []) {
                    const au = urnsOf(run, a.offender);
                    assert.ok(ev.violations.some((v) => v.policy === a.policy && v.urn !== undefined && au.includes(v.urn)), `expected ${a.policy} too; got:\n${all}`);
                }
                const expectedAdvisory = (v: (typeof ev.violations)[number]) => (c.alsoAdvisory ?? []).some((a) =>
                    v.policy === a.policy && v.enforcementLevel === "advisory" && v.urn !== undefined && urnsOf(run, a.offender).includes(v.urn) && v.message.includes(a.mentions));
                for (const a of c.alsoAdvisory ?? []) {
                    assert.ok(ev.violations.some(expectedAdvisory), `expected a ${a.policy} advisory on ${a.offender} mentioning "${a.mentions}"; got:\n${all}`);
                }
                const allowed = new Set([c.policy, ...(c.also ?? []).map((a) => a.policy)]);
                const stray = ev.violations.filter((v) => !expectedAdvisory(v) && (!allowed.has(v.policy) || (level === "mandatory" && v.enforcementLevel !== "mandatory")));
                assert.deepStrictEqual(stray.map((v) => `${v.policy}/${v.enforcementLevel}`), [], `other findings:\n${stray.map(describe1).join("\n")}`);
            });
        }
    });

    describe("secure but unusual variants: no finding at all", () => {
        for (const c of K8S_SECURE_CASES) {
            it(`${c.name}${c.preview ? " (preview)" : ""}`, async () => {
                const { ev } = await evaluate(c.mutate, c.preview ?? false);
                assert.deepStrictEqual(ev.violations.map((v) => `${v.policy}/${v.enforcementLevel}`), [], `false positives:\n${ev.violations.map(describe1).join("\n")}`);
            });
        }
    });
});
