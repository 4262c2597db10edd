/**
 * The generated reference pages are current: docs/config-reference.md renders the typed config model and
 * docs/policy-reference.md the pack's metadata, so a changed field or rule without `npm run docs` fails here.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { FLEET_CONFIG_KEYS, POOL_KEYS, SIGNER_KEYS } from "../../components/config/schema";
import { policies, severityOf } from "../../policies/rules";
import { configSections } from "../../tools/docs/configReference";
import { GENERATED_PAGES } from "../../tools/docs/generate";

const DOCS = path.join(__dirname, "..", "..", "docs");

describe("docs: generated reference pages", function () {
    this.timeout(60_000);

    for (const [page, render] of Object.entries(GENERATED_PAGES)) {
        it(`docs/${page} is what npm run docs renders`, () => {
            const committed = fs.readFileSync(path.join(DOCS, page), "utf8");
            // Compared line by line so a failure names the first stale line, not a 100 kB blob.
            const want = render().split("\n");
            const got = committed.split("\n");
            const first = want.findIndex((line, i) => got[i] !== line);
            assert.ok(first === -1 && got.length === want.length,
                `docs/${page} is stale (line ${first + 1}: ${JSON.stringify(got[first])}, expected ${JSON.stringify(want[first])}): run npm run docs`);
        });
    }

    it("the config reference covers every key the validator accepts, at the top level, in pools and in the signer", () => {
        const sections = new Map(configSections().map((s) => [s.name, new Set(s.fields.map((f) => f.name))]));
        const fieldsOf = (...names: string[]) => new Set(names.flatMap((n) => [...(sections.get(n) ?? [])]));
        assert.deepStrictEqual([...fieldsOf("FleetConfigInput")].sort(), [...FLEET_CONFIG_KEYS].sort());
        assert.deepStrictEqual([...fieldsOf("GcePoolInput", "GkePoolInput")].sort(), [...POOL_KEYS].sort());
        assert.deepStrictEqual([...fieldsOf("SignerInput")].sort(), [...SIGNER_KEYS].sort());
        for (const s of configSections()) {
            for (const f of s.fields) {
                assert.ok(f.doc.length > 0, `${s.name}.${f.name} has no JSDoc line: the reference would show an empty description`);
            }
        }
    });

    it("the policy reference gives every rule its invariants, severity, checks and fix", () => {
        const text = fs.readFileSync(path.join(DOCS, "policy-reference.md"), "utf8");
        for (const p of policies) {
            const at = text.indexOf(`### \`${p.name}\`\n`);
            assert.ok(at >= 0, `no section for ${p.name}`);
            const section = text.slice(at, text.indexOf("\n### ", at + 1) >>> 0 || undefined);
            assert.ok(section.includes(`**Invariants:** ${p.meta.invariants.join(", ")} (`), `${p.name}: invariants`);
            assert.ok(section.includes(`**Severity:** ${severityOf(p.meta)};`), `${p.name}: severity`);
            assert.ok(p.meta.checks.length > 10 && section.includes(p.meta.checks), `${p.name}: checks`);
            assert.ok(section.includes(p.meta.fix), `${p.name}: fix`);
        }
    });
});
