// The plan command as a team importing the package uses it: the project's own program and stack
// config by default, its tsconfig, a type check, its own pack (--policies), policy config that
// behaves as the Pulumi CLI's, and warnings in every report format.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { config, FIXTURES, plan, PROGRAM, tempDir } from "../helpers/plan";

const NODENEXT = path.join(FIXTURES, "nodenext");
const base = (stack: string) => ["--program", PROGRAM, "--config", config(stack)];

/** A scratch directory inside the fixtures (so programs resolve this repository's node_modules), removed afterwards. */
function scratch(): { dir: string; cleanup: () => void } {
    const dir = fs.mkdtempSync(path.join(FIXTURES, ".scratch-"));
    return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

describe("plan command in a consumer project", () => {
    let tmp: ReturnType<typeof tempDir>;
    before(() => {
        tmp = tempDir();
    });
    after(() => tmp.cleanup());

    describe("which program and stack config", () => {
        it("defaults to `main` of the Pulumi.yaml in the working directory", async () => {
            // test/fixtures/plan/Pulumi.yaml: main: fleet.ts; several stacks there, so --config picks one.
            const r = await plan(["--config", "Pulumi.bad.yaml", "--format", "json"], { cwd: FIXTURES });
            assert.strictEqual(r.code, 1, r.stderr);
            const report = JSON.parse(r.stdout);
            assert.strictEqual(report.project, "plan-fixture");
            assert.ok(report.violations.some((v: any) => v.policy === "fixture-no-external-ip"), "the fixture fleet ran");
        });

        it("without main, runs the project directory: package.json main, and the only Pulumi.<stack>.yaml", async () => {
            const r = await plan(["--format", "json"], { cwd: NODENEXT });
            assert.strictEqual(r.code, 0, r.stderr);
            const report = JSON.parse(r.stdout);
            assert.deepStrictEqual([report.project, report.stack], ["nodenext-fixture", "dev"]);
            assert.deepStrictEqual(report.resources.map((x: any) => x.type), ["nodenext:index:App"]);
        });

        it("requires --config when the directory holds several stack configs", async () => {
            const r = await plan([], { cwd: FIXTURES });
            assert.strictEqual(r.code, 2);
            assert.match(r.stderr, /^error: 6 stack configs in .*plan \(Pulumi\.bad\.yaml, Pulumi\.broken\.yaml, Pulumi\.crash\.yaml, Pulumi\.good\.yaml, Pulumi\.invalid\.yaml, Pulumi\.warn\.yaml\); pass --config <file> to choose the stack to plan\.\n$/);
        });

        it("requires --config when there is no stack config, and a project or --program outside one", async () => {
            fs.writeFileSync(path.join(tmp.dir, "Pulumi.yaml"), "name: empty\nruntime: nodejs\n");
            let r = await plan(["--program", PROGRAM], { cwd: tmp.dir });
            assert.strictEqual(r.code, 2);
            assert.match(r.stderr, /^error: no stack config: there is no Pulumi\.<stack>\.yaml in .*; pass --config <Pulumi\.<stack>\.yaml>\.\n$/);
            fs.rmSync(path.join(tmp.dir, "Pulumi.yaml"));
            r = await plan([], { cwd: tmp.dir });
            assert.strictEqual(r.code, 2);
            assert.match(r.stderr, /^error: no Pulumi\.yaml in .*: run hardened-build-fleet-plan in your Pulumi project's directory, or pass --program <file or directory> and --config <Pulumi\.<stack>\.yaml>\.\n$/);
        });

        it("accepts a directory as --program, as the CLI does", async () => {
            const r = await plan(["--program", "nodenext", "--config", path.join("nodenext", "Pulumi.dev.yaml"), "--format", "json"], { cwd: FIXTURES });
            assert.strictEqual(r.code, 0, r.stderr);
            assert.strictEqual(JSON.parse(r.stdout).project, "nodenext-fixture");
        });
    });

    describe("type check (on by default, as in pulumi up)", () => {
        let dir: ReturnType<typeof scratch>;
        before(() => {
            dir = scratch();
            // The template's layout: package.json main, tsconfig module/moduleResolution nodenext.
            for (const f of ["Pulumi.yaml", "Pulumi.dev.yaml", "package.json", "tsconfig.json"]) {
                fs.copyFileSync(path.join(NODENEXT, f), path.join(dir.dir, f));
            }
            fs.writeFileSync(path.join(dir.dir, "index.ts"), [
                'import * as pulumi from "@pulumi/pulumi";',
                "const config = new pulumi.Config();",
                'const replicas: number = config.require("owner");',
                "export const count = replicas;",
                "",
            ].join("\n"));
        });
        after(() => dir.cleanup());

        it("a program with type errors exits 2 with the compiler's messages", async () => {
            const r = await plan([], { cwd: dir.dir, typecheck: true });
            assert.strictEqual(r.code, 2, r.stderr);
            assert.match(r.stderr, /^error: the program .*\.scratch-\w+ does not type-check \(1 error; pulumi up would stop here too\)\. Fix it, or pass --no-typecheck to plan anyway:\nindex\.ts\(3,7\): error TS2322: Type 'string' is not assignable to type 'number'\.\n$/);
            assert.strictEqual(r.stdout, "");
        });

        it("--no-typecheck plans it anyway", async () => {
            const r = await plan(["--format", "json"], { cwd: dir.dir });
            assert.strictEqual(r.code, 0, r.stderr);
            assert.strictEqual(JSON.parse(r.stdout).project, "nodenext-fixture");
        });

        it("a nodenext project that type-checks plans with exit 0 (no TS5110)", async () => {
            const r = await plan([], { cwd: NODENEXT, typecheck: true });
            assert.strictEqual(r.code, 0, r.stderr);
            assert.match(r.stdout, /^Plan of nodenext-fixture\/dev/);
        });
    });

    describe("--policies: a team's own pack", () => {
        const PACK = path.join(FIXTURES, "customPack.ts");

        it("evaluates the module's `policies` (re-levelled and extended) in every report", async () => {
            const r = await plan([...base("good"), "--policies", path.relative(FIXTURES, PACK), "--format", "json"], { cwd: FIXTURES });
            // The custom pack makes the intake review mandatory: exit 1 where the default pack passes.
            assert.strictEqual(r.code, 1, r.stderr);
            const report = JSON.parse(r.stdout);
            assert.deepStrictEqual(report.summary.byPolicy, { "acme-intake-labelled": 1, "fixture-intake-grant-review": 1 });
            assert.deepStrictEqual(report.violations.map((v: any) => [v.policy, v.enforcementLevel]).sort(), [["acme-intake-labelled", "advisory"], ["fixture-intake-grant-review", "mandatory"]]);
            const table = await plan([...base("good"), "--policies", PACK]);
            assert.match(table.stdout, /\[advisory\] acme-intake-labelled: Intake buckets carry a team label\.\n {2}invariant: I11 provenance by control plane\n {2}SLSA: {6}Build L3 Provenance unforgeable: provenance generated by the control plane\n {2}fix: {7}Add a `team` label/);
        });

        it("a module without a `policies` array: exit 2 naming what it exports", async () => {
            const r = await plan([...base("good"), "--policies", path.join(FIXTURES, "policies.ts")]);
            assert.strictEqual(r.code, 2);
            assert.match(r.stderr, /^error: --policies .*policies\.ts: the module exports no `policies` array \(it exports noExternalIp, intakeGrantReview, noMeta, fixturePolicies\); add `export const policies: Policy\[\] = \[\.\.\.\]`/);
        });

        it("a module that cannot be found: exit 2", async () => {
            const r = await plan([...base("good"), "--policies", "./no-such-pack"]);
            assert.strictEqual(r.code, 2);
            assert.match(r.stderr, /^error: --policies \.\/no-such-pack: no such file or package from /);
        });
    });

    describe("policy config as the Pulumi CLI reads it", () => {
        const write = (name: string, text: string) => {
            const file = path.join(tmp.dir, name);
            fs.writeFileSync(file, text);
            return file;
        };

        it("an empty file is no settings", async () => {
            const r = await plan([...base("good"), "--policy-config", write("empty.json", "\n")]);
            assert.strictEqual(r.code, 0, r.stderr);
            assert.strictEqual(r.stderr, "");
        });

        it("unknown policy names and properties warn (stderr and the reports) and the plan goes on", async () => {
            const file = write("typos.json", JSON.stringify({
                environments: ["acme/policy-settings"],
                "fixture-no-externl-ip": "advisory",
                "fixture-stack-check": { maxResource: 1 },
                "fixture-no-external-ip": { enforcementLevel: "mandatory", allowed: true },
            }));
            const r = await plan([...base("bad"), "--policy-config", file, "--format", "json"]);
            // The misspelled downgrade is ignored: the mandatory finding still fails the plan.
            assert.strictEqual(r.code, 1, r.stderr);
            const expected = [
                'fixture-no-externl-ip: no policy of that name in the pack (did you mean "fixture-no-external-ip"?); its settings are ignored',
                "environments: acme/policy-settings: Pulumi ESC environments cannot be opened offline; their policyConfig values are not applied",
                'fixture-no-external-ip.allowed: not a property of this policy (it takes no configuration); ignored',
                'fixture-stack-check.maxResource: not a property of this policy (did you mean "maxResources"? it takes maxResources); ignored',
            ];
            assert.deepStrictEqual(r.stderr.trimEnd().split("\n"), expected.map((w) => `warning: policy config ${file}: ${w}`));
            const report = JSON.parse(r.stdout);
            assert.deepStrictEqual(report.warnings, expected.map((message) => ({ source: "policy-config", message })));
            assert.ok(!report.violations.some((v: any) => v.policy === "fixture-stack-check"), "maxResources kept its default");
        });
    });

    describe("program warnings in every format", () => {
        const WARNING = "pool alpha allow-lists no FQDNs: its builds reach only Google APIs";

        it("table and stderr", async () => {
            const r = await plan(base("warn"));
            assert.strictEqual(r.code, 0, r.stderr);
            assert.match(r.stdout, new RegExp(`\\nProgram warnings\\n {2}${WARNING}\\n`));
            assert.strictEqual(r.stderr, `warning: ${WARNING}\n`);
        });

        it("JSON `warnings` and SARIF tool notifications", async () => {
            const json = await plan([...base("warn"), "--format", "json"]);
            assert.deepStrictEqual(JSON.parse(json.stdout).warnings, [{ source: "program", message: WARNING }]);
            const sarif = await plan([...base("warn"), "--format", "sarif"]);
            assert.deepStrictEqual(JSON.parse(sarif.stdout).runs[0].invocations[0].toolExecutionNotifications, [
                { level: "warning", message: { text: WARNING }, descriptor: { id: "program-warning" } },
            ]);
            assert.strictEqual(sarif.stderr, `warning: ${WARNING}\n`);
        });
    });

    describe("reports", () => {
        it("infers the format from the --output extension", async () => {
            const out = path.join(tmp.dir, "plan.json");
            const r = await plan([...base("good"), "--output", out]);
            assert.strictEqual(r.code, 0, r.stderr);
            assert.strictEqual(JSON.parse(fs.readFileSync(out, "utf8")).schemaVersion, 3);
            assert.match(r.stderr, /^wrote json report to /);
            const sarifOut = path.join(tmp.dir, "plan.sarif");
            await plan([...base("good"), "--output", sarifOut]);
            assert.strictEqual(JSON.parse(fs.readFileSync(sarifOut, "utf8")).version, "2.1.0");
        });

        it("explains the resource counts", async () => {
            const r = await plan(base("good"));
            assert.match(r.stdout, /\nResources: 16 registered = 16 managed \(what pulumi up creates\) \+ 0 components \(groupings, nothing created\) \+ 0 providers\n/);
            const json = JSON.parse((await plan([...base("good"), "--format", "json"])).stdout);
            assert.deepStrictEqual([json.summary.resources, json.summary.managedResources, json.summary.components], [16, 16, 0]);
        });

        it("lists the resources outside every zone, in the table and the JSON", async () => {
            const r = await plan(base("warn"));
            const json = JSON.parse((await plan([...base("warn"), "--format", "json"])).stdout);
            const stray = "urn:pulumi:warn::plan-fixture::gcp:storage/bucket:Bucket::stray";
            assert.ok(json.unzoned.includes(stray), JSON.stringify(json.unzoned));
            const good = JSON.parse((await plan([...base("good"), "--format", "json"])).stdout);
            assert.strictEqual(json.unzoned.length, good.unzoned.length + 1, "the stray bucket is the only addition");
            // The table lists exactly the JSON's resources, by name and type.
            const names = json.unzoned.map((urn: string) => json.resources.find((x: any) => x.urn === urn)).map((x: any) => `    ${x.name} (${x.type})`);
            const listed = r.stdout.slice(r.stdout.indexOf("  outside every zone:")).split("\n");
            assert.strictEqual(listed[0], `  outside every zone: ${json.unzoned.length} resources (no role label, no fleet component, no zoned workload using them)`);
            assert.deepStrictEqual(listed.slice(1, 1 + names.length), names);
            assert.strictEqual(listed[1 + names.length], "");
        });
    });
});
