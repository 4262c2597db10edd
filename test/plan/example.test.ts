// The README's main job: `npm run plan` with no arguments plans the example fleet with no mandatory violation.
// The only test that runs the full example fleet (and the real policy pack), through the package bin.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { tempDir } from "../helpers/plan";

const ROOT = path.join(__dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "hardened-build-fleet-plan.js");

describe("plan command: the example fleet (package bin, no arguments)", function () {
    this.timeout(180000);

    it("plans index.ts with Pulumi.example.yaml from any directory: no mandatory violation (the dry-run advisories), exit 0, every zone drawn", function () {
        if (!fs.existsSync(path.join(ROOT, "index.ts")) || !fs.existsSync(path.join(ROOT, "components", "fleet", "index.ts"))) {
            this.skip();
        }
        const tmp = tempDir();
        try {
            // The program and stack come from the working directory's Pulumi project, as in a consumer
            // repository. The type check (on by default) is skipped here only for time: `npm run typecheck`
            // covers these sources and the consumer test covers the check itself.
            const graph = path.join(tmp.dir, "topology.mmd");
            const r = spawnSync(process.execPath, [BIN, "--graph", graph, "--no-typecheck"], { cwd: ROOT, encoding: "utf8" });
            assert.strictEqual(r.status, 0, `${r.stdout}\n${r.stderr}`);
            assert.match(r.stdout, /^Plan of hardened-build-fleet\/example/);
            // The example's perimeters are in dry run: one advisory each, which does not fail the plan.
            assert.match(r.stdout, /Violations: 2 \(0 mandatory, 2 advisory\)/);
            for (const policy of ["signer-perimeter", "runner-perimeter"]) {
                assert.match(r.stdout, new RegExp(`\\[advisory\\] ${policy}: `));
            }
            assert.strictEqual(r.stdout.match(/perimeters fleet-perimeter-enclave and fleet-perimeter-workers restrict \S+ in dry run only/g)?.length, 2, r.stdout);
            assert.match(r.stdout, /Result: PASS, no mandatory violations \(2 advisory findings\)\n$/);
            for (const zone of ["pool linux-release", "pool linux-spot", "pool containers", "worker project (every pool)", "signer enclave", "control plane"]) {
                assert.ok(r.stdout.includes(`  ${zone} (`), `zone ${zone} missing:\n${r.stdout}`);
            }
            const outside = r.stdout.indexOf("  outside every zone:");
            assert.doesNotMatch(outside < 0 ? "" : r.stdout.slice(outside), /gcp:orgpolicy\/policy:Policy/, "every guardrail is listed in its zone");
            const mmd = fs.readFileSync(graph, "utf8");
            assert.match(mmd, /-->\|"run\.invoker"\| svc_/);
            assert.match(mmd, /-->\|"cloudkms\.signer"\| key_/);
            assert.doesNotMatch(mmd, /linkStyle/, "no red edge on a clean fleet");
        } finally {
            tmp.cleanup();
        }
    });

    it("outside a Pulumi project, with no arguments, the bin says what to pass (exit 2)", () => {
        const tmp = tempDir();
        try {
            const r = spawnSync(process.execPath, [BIN], { cwd: tmp.dir, encoding: "utf8" });
            assert.strictEqual(r.status, 2);
            assert.match(r.stderr, /^error: no Pulumi\.yaml in .*: run hardened-build-fleet-plan in your Pulumi project's directory, or pass --program/);
        } finally {
            tmp.cleanup();
        }
    });

    it("the bin exits 2 with one error line on an unknown option", () => {
        const r = spawnSync(process.execPath, [BIN, "--nope"], { cwd: ROOT, encoding: "utf8" });
        assert.strictEqual(r.status, 2);
        assert.strictEqual(r.stdout, "");
        assert.strictEqual(r.stderr, "error: Unknown option '--nope'. Run hardened-build-fleet-plan --help for the options.\n");
    });

    it("the bin prints the usage with --help and exits 0", () => {
        const r = spawnSync(process.execPath, [BIN, "--help"], { cwd: ROOT, encoding: "utf8" });
        assert.strictEqual(r.status, 0);
        assert.match(r.stdout, /^Usage: hardened-build-fleet-plan \[options\]/);
        for (const option of ["--program", "--config", "--policy-config", "--policies", "--no-typecheck", "--preview", "--format", "--output", "--graph"]) {
            assert.ok(r.stdout.includes(option), option);
        }
    });
});
