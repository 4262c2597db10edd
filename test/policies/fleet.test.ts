/**
 * The no-false-positives test: the example fleet from Pulumi.example.yaml
 * evaluates to zero findings under the full pack, in normal and in preview mode. And the same fleet
 * with one deliberate insecure addition, made in the same program after the fleet is built, is
 * caught by the exact policy, naming the added resource.
 */
import * as assert from "assert";
import * as path from "path";
import * as gcp from "@pulumi/gcp";
import { evaluatePolicies, Evaluation, ProgramRun, runProgram } from "../../plan/engine";
import { policies } from "../../policies/rules";
import { HardenedBuildFleet, readRawFleetConfig } from "../../components";

const ROOT = path.resolve(__dirname, "..", "..");
const PROGRAM = path.join(ROOT, "index.ts");
const CONFIG_FILE = path.join(ROOT, "Pulumi.example.yaml");
/** The example's perimeter switched to enforced, with the project numbers given (no lookup). */
const ENFORCED_PERIMETER = {
    accessPolicy: "accessPolicies/123456789012",
    mode: "enforced",
    imageProjects: ["acme-build-images"],
    projectNumbers: { "acme-build-signer": "111111111111", "acme-build-workers": "222222222222", "acme-build-images": "333333333333" },
};

/** Every finding, one per line, for assertion messages. */
function listFindings(ev: Evaluation): string {
    return ev.violations.map((v) => `  [${v.policy}/${v.enforcementLevel}] ${v.urn ?? "(stack)"}\n    ${v.message.replace(/\n/g, "\n    ")}`).join("\n") || "  (none)";
}

function urnOf(r: ProgramRun, name: string): string {
    const found = r.resources.filter((x) => x.name === name);
    assert.strictEqual(found.length, 1, `expected exactly one resource named ${name}, found ${found.length}`);
    return found[0].urn;
}

describe("whole fleet: Pulumi.example.yaml under the full pack", function () {
    this.timeout(120_000);

    for (const preview of [false, true]) {
        const mode = preview ? "preview" : "normal";

        it(`reports nothing (${mode} mode)`, async () => {
            const r = await runProgram(PROGRAM, { configFile: CONFIG_FILE, preview });
            // Sanity: the example really is the multi-pool fleet (GCE and GKE pools, signer enclave).
            const types = new Set(r.resources.map((x) => x.type));
            for (const t of ["gcp:compute/instanceTemplate:InstanceTemplate", "gcp:container/nodePool:NodePool", "gcp:kms/cryptoKey:CryptoKey", "gcp:cloudrunv2/service:Service"]) {
                assert.ok(types.has(t), `the example fleet has no ${t}`);
            }
            const ev = await evaluatePolicies(r, policies);
            // The example's perimeters are in dry run, and the pack does not know the projects' numbers: one advisory per zone,
            // on the zone's own resource, naming both perimeters as candidates; nothing else.
            assert.deepStrictEqual(
                ev.violations.map((v) => `${v.policy}/${v.enforcementLevel} ${v.urn}`).sort(),
                [`runner-perimeter/advisory ${urnOf(r, "fleet-pool-linux-release-template")}`, `signer-perimeter/advisory ${urnOf(r, "fleet-signer-key")}`],
                `the example fleet must evaluate to the dry-run advisories only in ${mode} mode (false positives):\n${listFindings(ev)}`,
            );
            assert.ok(ev.violations.every((v) => /perimeters fleet-perimeter-enclave and fleet-perimeter-workers restrict \S+ in dry run only/.test(v.message)), listFindings(ev));
        });

        it(`reports nothing once the perimeters are enforced and the pack knows the projects' numbers (${mode} mode)`, async () => {
            const r = await runProgram(PROGRAM, { configFile: CONFIG_FILE, preview, config: { "hardened-build-fleet:perimeter": ENFORCED_PERIMETER } });
            const numbers = (project: keyof typeof ENFORCED_PERIMETER.projectNumbers) => ({ projectNumbers: { [project]: ENFORCED_PERIMETER.projectNumbers[project] } });
            const ev = await evaluatePolicies(r, policies, { policyConfig: { "signer-perimeter": numbers("acme-build-signer"), "runner-perimeter": numbers("acme-build-workers") } });
            assert.deepStrictEqual(ev.violations.map((v) => `${v.policy}/${v.enforcementLevel}`), [], `false positives in ${mode} mode:\n${listFindings(ev)}`);
        });

        it(`catches a runner SA granted roles/cloudkms.signer on the signer key after the fleet is built (${mode} mode)`, async () => {
            const r = await runProgram(() => {
                const fleet = new HardenedBuildFleet("fleet", { config: readRawFleetConfig() });
                const firstPool = fleet.pools[fleet.poolNames[0]];
                // The one insecure addition: a raw IAM member on the signer key for a runner identity.
                new gcp.kms.CryptoKeyIAMMember("rogue-runner-signer", {
                    cryptoKeyId: fleet.signer.keyId,
                    role: "roles/cloudkms.signer",
                    member: firstPool.serviceAccountMember,
                });
            }, { configFile: CONFIG_FILE, preview });
            const ev = await evaluatePolicies(r, policies);
            const rogue = urnOf(r, "rogue-runner-signer");
            const expected = ["single-signer", "runners-cannot-reach-enclave", "runner-least-privilege"];
            for (const policy of expected) {
                const hit = ev.violations.find((v) => v.policy === policy && v.urn === rogue);
                assert.ok(hit, `expected ${policy} to name ${rogue}; got:\n${listFindings(ev)}`);
                assert.strictEqual(hit.enforcementLevel, "mandatory", `${policy} must be mandatory (decided from property dependencies in preview): ${hit.message}`);
            }
            const dryRun = (v: { policy: string; enforcementLevel: string }) => ["signer-perimeter", "runner-perimeter"].includes(v.policy) && v.enforcementLevel === "advisory";
            const others = ev.violations.filter((v) => !expected.includes(v.policy) && !dryRun(v));
            assert.deepStrictEqual(others.map((v) => v.policy), [], `only the I9 rules and the runner allow-list may fire:\n${listFindings(ev)}`);
        });
    }
});
