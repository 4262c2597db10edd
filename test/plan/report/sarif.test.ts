/**
 * SARIF rules of this package's pack link to their entry in docs/policy-reference.md (code scanning shows
 * the link on every alert); a rule of another pack gets no link.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as gcp from "@pulumi/gcp";
import { Policy, ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { evaluatePolicies, runProgram } from "../../../plan/engine";
import { packageVersion, policyReferenceUrl, REPOSITORY_URL } from "../../../plan/packageInfo";
import { buildPlanResult } from "../../../plan/report/result";
import { buildSarif } from "../../../plan/report/sarif";
import { policies } from "../../../policies/rules";

const ROOT = path.join(__dirname, "..", "..", "..");

const foreign: ResourceValidationPolicy = {
    name: "team-no-default-network",
    description: "The team's own rule.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(gcp.compute.Network, (_p, _a, report) => report("a network")),
};

describe("plan reports: SARIF help links", () => {
    it("links each of this package's rules to its policy-reference entry, and no other pack's rule", async () => {
        const run = await runProgram(() => {
            new gcp.compute.Network("net", { autoCreateSubnetworks: true });
        }, { config: { "gcp:project": "worker" } });
        const pack: Policy[] = [...policies.filter((p) => p.name === "subnet-flow-logs"), foreign];
        const result = buildPlanResult(run, await evaluatePolicies(run, pack), pack);
        const rules = buildSarif(result, { root: ROOT }).runs[0].tool.driver.rules ?? [];
        const byId = new Map(rules.map((r) => [r.id, r]));
        assert.strictEqual(byId.get("subnet-flow-logs")?.helpUri, `${REPOSITORY_URL}/blob/v${packageVersion()}/docs/policy-reference.md#subnet-flow-logs`);
        assert.ok(byId.has("team-no-default-network"), "the foreign rule is reported");
        assert.strictEqual(byId.get("team-no-default-network")?.helpUri, undefined);
    });

    it("every link lands on a heading of docs/policy-reference.md, in the repository package.json names", () => {
        const reference = fs.readFileSync(path.join(ROOT, "docs", "policy-reference.md"), "utf8");
        for (const p of policies) {
            const anchor = policyReferenceUrl(p.name).split("#")[1];
            assert.ok(reference.includes(`\n### \`${anchor}\`\n`), `no heading for #${anchor}`);
        }
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        assert.strictEqual(pkg.repository.url.replace(/^git\+/, "").replace(/\.git$/, ""), REPOSITORY_URL);
        assert.ok(pkg.homepage.startsWith(REPOSITORY_URL));
    });
});
