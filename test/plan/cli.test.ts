import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { config, FIXTURES, plan, PROGRAM, tempDir } from "../helpers/plan";

const base = (stack: string) => ["--program", PROGRAM, "--config", config(stack)];

/** Every exit-2 message is one `error:` paragraph: no stack trace lines. */
function assertCleanError(stderr: string, pattern: RegExp): void {
    assert.match(stderr, /^error: /, stderr);
    assert.match(stderr, pattern, stderr);
    assert.doesNotMatch(stderr, /^\s+at .+:\d+:\d+\)?$/m, `stack trace in: ${stderr}`);
    assert.strictEqual(stderr.trimEnd().split("\n\n").length, 1, `more than one paragraph: ${stderr}`);
}

describe("plan command", () => {
    let tmp: ReturnType<typeof tempDir>;
    before(() => {
        tmp = tempDir();
    });
    after(() => tmp.cleanup());

    describe("exit codes 0 and 1", () => {
        it("exits 0 with a clean stack and prints summary, zones and the advisory finding", async () => {
            const r = await plan(base("good"));
            assert.strictEqual(r.code, 0, r.stderr);
            assert.strictEqual(r.stderr, "");
            assert.match(r.stdout, /^Plan of plan-fixture\/good/);
            assert.match(r.stdout, /Per pool\n {2}alpha +3\n/);
            assert.match(r.stdout, /pool alpha \(3 resources\)\n {4}networks: {3}alpha-net-[0-9a-f]+ \(10\.10\.0\.0\/24\)\n {4}identities: alpha-runner@fixture-worker\.iam\.gserviceaccount\.com/);
            assert.match(r.stdout, /signer enclave \(4 resources\)/);
            assert.match(r.stdout, /\[advisory\] fixture-intake-grant-review/);
            assert.match(r.stdout, /Result: PASS, no mandatory violations \(1 advisory finding\)/);
        });

        it("exits 1 on a mandatory violation and groups it with invariant, SLSA clause and fix", async () => {
            const r = await plan(base("bad"));
            assert.strictEqual(r.code, 1, r.stderr);
            const group = r.stdout.slice(r.stdout.indexOf("[mandatory] fixture-no-external-ip"));
            assert.match(group, /^\[mandatory\] fixture-no-external-ip: Runner VMs have no external IP\.\n {2}invariant: I3 no inbound\n {2}SLSA: {6}Build L3 Isolated: no services open for remote influence\n {2}fix: {7}Remove accessConfigs/);
            assert.match(group, /- alpha-template \(gcp:compute\/instanceTemplate:InstanceTemplate\)\n {6}network interface has an access config \(external IP\)\n {6}urn:pulumi:bad::plan-fixture::/);
            // Mandatory groups come before advisory ones.
            assert.ok(r.stdout.indexOf("[mandatory]") < r.stdout.indexOf("[advisory]"));
            assert.match(r.stdout, /Violations: 2 \(1 mandatory, 1 advisory\); 3 policies evaluated/);
            assert.match(r.stdout, /Result: FAIL, 1 mandatory violation \(exit 1\)/);
        });

        it("prints \"—\" for a policy without metadata", async () => {
            const policyConfig = path.join(tmp.dir, "max1.json");
            fs.writeFileSync(policyConfig, JSON.stringify({ "fixture-stack-check": { maxResources: 1 } }));
            const r = await plan([...base("good"), "--policy-config", policyConfig]);
            assert.strictEqual(r.code, 0, r.stderr);
            assert.match(r.stdout, /\[advisory\] fixture-stack-check: A stack check without metadata\.\n {2}invariant: —\n {2}SLSA: {6}—\n {2}fix: {7}—\n {2}- \(stack\)/);
        });

        it("applies --policy-config enforcement levels (mandatory downgraded: exit 0)", async () => {
            const policyConfig = path.join(tmp.dir, "levels.json");
            fs.writeFileSync(policyConfig, JSON.stringify({ "fixture-no-external-ip": "advisory" }));
            const r = await plan([...base("bad"), "--policy-config", policyConfig]);
            assert.strictEqual(r.code, 0, r.stderr);
            assert.match(r.stdout, /\[advisory\] fixture-no-external-ip/);
        });

        it("--preview evaluates with unknown outputs and still resolves identities for the graph", async () => {
            const graph = path.join(tmp.dir, "preview.mmd");
            const r = await plan([...base("bad"), "--preview", "--graph", graph]);
            assert.strictEqual(r.code, 1, r.stderr);
            assert.match(r.stdout, /offline preview: computed outputs unknown/);
            // Emails are unknown in a preview: the account id stands in, and grants resolve by property dependencies.
            assert.match(r.stdout, /identities: alpha-runner\n/);
            const mmd = fs.readFileSync(graph, "utf8");
            assert.match(mmd, /sa_alpha_sa -->\|"storage\.objectCreator"\| bucket_alpha_intake/);
        });

        it("shows progress on stderr only when stderr is a terminal", async () => {
            const r = await plan(base("good"), { tty: true });
            assert.strictEqual(r.code, 0, r.stderr);
            assert.match(r.stderr, /registering resources: \d+/);
            assert.match(r.stderr, /evaluating 3 policies: \d+\/\d+ resources/);
            assert.ok(r.stderr.endsWith("\r\x1b[2K"), "progress line is cleared");
        });
    });

    describe("output formats", () => {
        it("--format json matches the documented schema", async () => {
            const r = await plan([...base("bad"), "--format", "json"]);
            assert.strictEqual(r.code, 1);
            const report: any = JSON.parse(r.stdout);
            const schema = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "plan", "report", "plan-report.schema.json"), "utf8"));
            const ajv = new Ajv({ strict: false, allErrors: true });
            const validate = ajv.compile(schema);
            const valid: boolean = validate(report);
            assert.ok(valid, JSON.stringify(validate.errors, null, 2));
            assert.strictEqual(report.schemaVersion, 3);
            assert.strictEqual(report.project, "plan-fixture");
            assert.strictEqual(report.stack, "bad");
            assert.strictEqual(report.preview, false);
            assert.deepStrictEqual(report.summary, {
                resources: 16, managedResources: 16, components: 0, violations: 2, mandatory: 1, advisory: 1,
                byPolicy: { "fixture-intake-grant-review": 1, "fixture-no-external-ip": 1 },
            });
            assert.strictEqual(report.resources.length, 16);
            const template = report.resources.find((x: any) => x.name === "alpha-template");
            assert.deepStrictEqual(Object.keys(template), ["urn", "type", "name", "parent", "custom", "inputs", "dependencies", "propertyDependencies"]);
            assert.strictEqual(template.custom, true);
            assert.match(template.parent, /pulumi:pulumi:Stack::plan-fixture-bad$/);
            const mandatory = report.violations.find((v: any) => v.enforcementLevel === "mandatory");
            assert.deepStrictEqual(Object.keys(mandatory), ["policy", "enforcementLevel", "message", "urn"]);
            assert.strictEqual(mandatory.urn, template.urn);
        });

        it("--format sarif is valid SARIF 2.1.0 with one rule per policy and one result per violation", async () => {
            const r = await plan([...base("bad"), "--format", "sarif"], { cwd: path.join(__dirname, "..", "..") });
            assert.strictEqual(r.code, 1);
            const log: any = JSON.parse(r.stdout);
            // The official OASIS schema is draft-04 ("id"); ajv's default dialect is draft-07 ("$id").
            const { $schema: _draft, id, ...sarifSchema } = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "sarif-schema-2.1.0.json"), "utf8"));
            const ajv = new Ajv({ strict: false, allErrors: true });
            addFormats(ajv);
            const validate = ajv.compile({ $id: id, ...sarifSchema });
            const valid: boolean = validate(log);
            assert.ok(valid, JSON.stringify(validate.errors, null, 2));

            const run = log.runs[0];
            assert.deepStrictEqual(run.tool.driver.rules.map((x: any) => x.id), ["fixture-no-external-ip", "fixture-intake-grant-review", "fixture-stack-check"]);
            const rule = run.tool.driver.rules[0];
            assert.match(rule.help.text, /^Fix: Remove accessConfigs.*\nInvariant: I3 no inbound\nSLSA: Build L3 Isolated: no services open for remote influence$/);
            assert.strictEqual(rule.defaultConfiguration.level, "error");
            assert.strictEqual(run.tool.driver.rules[2].help.text, "Fix: —\nInvariant: —\nSLSA: —");
            assert.strictEqual(run.results.length, 2);
            const [err, warn] = [run.results.find((x: any) => x.level === "error"), run.results.find((x: any) => x.level === "warning")];
            assert.strictEqual(err.ruleId, "fixture-no-external-ip");
            assert.strictEqual(err.ruleIndex, 0);
            assert.strictEqual(warn.ruleId, "fixture-intake-grant-review");
            assert.match(err.message.text, /^alpha-template \(gcp:compute\/instanceTemplate:InstanceTemplate\): network interface has an access config/);
            const loc = err.locations[0];
            assert.deepStrictEqual(loc.logicalLocations, [{ name: "alpha-template", fullyQualifiedName: "urn:pulumi:bad::plan-fixture::gcp:compute/instanceTemplate:InstanceTemplate::alpha-template", kind: "resource" }]);
            // Code scanning needs a file in the repository: the program, relative to the git root.
            assert.deepStrictEqual(loc.physicalLocation.artifactLocation, { uri: "test/fixtures/plan/fleet.ts", uriBaseId: "%SRCROOT%" });
            assert.notStrictEqual(err.partialFingerprints["hardenedBuildFleet/v1"], warn.partialFingerprints["hardenedBuildFleet/v1"]);
        });

        it("--output writes the report to a file (creating its directory) and says so on stderr", async () => {
            const out = path.join(tmp.dir, "reports", "plan.sarif");
            const r = await plan([...base("bad"), "--format", "sarif", "--output", out]);
            assert.strictEqual(r.code, 1);
            assert.strictEqual(r.stdout, "");
            assert.strictEqual(JSON.parse(fs.readFileSync(out, "utf8")).version, "2.1.0");
            assert.match(r.stderr, /^wrote sarif report to .*plan\.sarif: 2 violations \(1 mandatory\)\n$/);
        });

        it("--graph writes DOT with zone clusters and the violating grant in red", async () => {
            const file = path.join(tmp.dir, "topology.dot");
            const r = await plan([...base("good"), "--graph", file]);
            assert.strictEqual(r.code, 0, r.stderr);
            const dot = fs.readFileSync(file, "utf8");
            assert.match(dot, /^digraph fleet \{/);
            for (const cluster of ["cluster_pool_alpha", "cluster_signer", "cluster_control_plane"]) {
                assert.match(dot, new RegExp(`subgraph ${cluster} \\{`));
            }
            const poolCluster = dot.slice(dot.indexOf("subgraph cluster_pool_alpha"), dot.indexOf("}", dot.indexOf("subgraph cluster_pool_alpha")));
            assert.match(poolCluster, /sa_alpha_sa \[label="alpha-runner@fixture-worker\\n\(service account\)", shape=ellipse\];/);
            // The intake grant is flagged by a policy: red. The signer's grants are not.
            assert.match(dot, /sa_alpha_sa -> bucket_alpha_intake \[label="storage\.objectCreator", style=solid, color=red, fontcolor=red, penwidth=2/);
            assert.match(dot, /sa_enclave_sa -> key_enclave_key \[label="cloudkms\.signer", style=solid\];/);
            assert.match(dot, /sa_cp_sa -> svc_enclave_signer \[label="run\.invoker", style=solid\];/);
            assert.match(dot, /sa_enclave_sa -> bucket_enclave_provenance \[label="storage\.objectCreator", style=solid\];/);
        });

        it("--graph writes Mermaid with zone subgraphs and a red linkStyle for the violating grant", async () => {
            const file = path.join(tmp.dir, "topology.mmd");
            const r = await plan([...base("good"), "--graph", file]);
            assert.strictEqual(r.code, 0, r.stderr);
            const mmd = fs.readFileSync(file, "utf8");
            assert.match(mmd, /^flowchart LR\n/);
            assert.match(mmd, /subgraph zone_pool_alpha\["pool alpha"\]\n(.*\n)*? {4}sa_alpha_sa\(\["alpha-runner@/);
            assert.match(mmd, /subgraph zone_signer\["signer enclave"\]/);
            const edges = mmd.split("\n").filter((l) => /^ {2}\w+ (-->|-\.->|==>)/.test(l));
            const red = edges.findIndex((l) => l.includes("sa_alpha_sa -->|\"storage.objectCreator\"| bucket_alpha_intake"));
            assert.ok(red >= 0, mmd);
            assert.match(mmd, new RegExp(`linkStyle ${red} stroke:red`));
            // Stable ids: a second run draws the same graph.
            await plan([...base("good"), "--graph", file]);
            assert.strictEqual(fs.readFileSync(file, "utf8"), mmd);
        });
    });

    describe("exit code 2: bad input", () => {
        it("unknown option", async () => {
            const r = await plan([...base("good"), "--fromat", "json"]);
            assert.strictEqual(r.code, 2);
            assertCleanError(r.stderr, /Unknown option '--fromat'.*--help/);
        });

        it("stray positional argument", async () => {
            const r = await plan(["Pulumi.good.yaml"]);
            assert.strictEqual(r.code, 2);
            assertCleanError(r.stderr, /Pulumi\.good\.yaml.*--help/);
        });

        it("bad --format", async () => {
            const r = await plan([...base("good"), "--format", "xml"]);
            assert.strictEqual(r.code, 2);
            assertCleanError(r.stderr, /--format "xml" is not a report format; use one of table, json, sarif/);
        });

        it("bad --graph extension", async () => {
            const r = await plan([...base("good"), "--graph", "topology.png"]);
            assert.strictEqual(r.code, 2);
            assertCleanError(r.stderr, /--graph "topology\.png": the command writes graph source, not images; name the file \*\.dot \(Graphviz\) or \*\.mmd \(Mermaid\) and render it, e\.g\. --graph topology\.dot, then dot -Tpng topology\.dot -o topology\.png\./);
        });

        it("--graph without any extension", async () => {
            const r = await plan([...base("good"), "--graph", "topology"]);
            assert.strictEqual(r.code, 2);
            assertCleanError(r.stderr, /--graph "topology" has no graph extension; name the file \*\.dot \(Graphviz\) or \*\.mmd \(Mermaid\)/);
        });

        it("--output whose extension names no format, without --format", async () => {
            const r = await plan([...base("good"), "--output", path.join(tmp.dir, "plan.csv")]);
            assert.strictEqual(r.code, 2);
            assertCleanError(r.stderr, /--output ".*plan\.csv": cannot tell the report format from the extension; name the file \*\.json, \*\.sarif or \*\.txt, or pass --format table\|json\|sarif/);
        });

        it("missing program file", async () => {
            const r = await plan(["--program", "nope.ts", "--config", config("good")]);
            assert.strictEqual(r.code, 2);
            assertCleanError(r.stderr, /^error: program nope\.ts not found; pass --program/);
        });

        it("missing config file", async () => {
            const r = await plan(["--program", PROGRAM, "--config", "Pulumi.nope.yaml"]);
            assert.strictEqual(r.code, 2);
            assertCleanError(r.stderr, /^error: stack config Pulumi\.nope\.yaml not found; pass --config/);
        });

        it("unreadable YAML", async () => {
            const r = await plan(base("broken"));
            assert.strictEqual(r.code, 2);
            assertCleanError(r.stderr, /^error: cannot parse .*Pulumi\.broken\.yaml as YAML: .*Fix the YAML/);
        });

        it("missing policy config file", async () => {
            const r = await plan([...base("good"), "--policy-config", "nope.json"]);
            assert.strictEqual(r.code, 2);
            assertCleanError(r.stderr, /^error: policy config file nope\.json not found/);
        });

        it("policy config that is not JSON", async () => {
            const file = path.join(tmp.dir, "broken.json");
            fs.writeFileSync(file, "{ all: mandatory ");
            const r = await plan([...base("good"), "--policy-config", file]);
            assert.strictEqual(r.code, 2);
            assertCleanError(r.stderr, /^error: cannot parse policy config .*broken\.json as JSON: /);
        });

        it("invalid policy config (bad level, bad property value): every problem listed", async () => {
            const file = path.join(tmp.dir, "invalid.json");
            fs.writeFileSync(file, JSON.stringify({ "fixture-no-externl-ip": "mandatory", all: "strict", "fixture-stack-check": { maxResources: 0 } }));
            const r = await plan([...base("good"), "--policy-config", file]);
            assert.strictEqual(r.code, 2);
            assert.match(r.stderr, /^warning: policy config .*invalid\.json: fixture-no-externl-ip: no policy of that name in the pack \(did you mean "fixture-no-external-ip"\?\); its settings are ignored\n/);
            assertCleanError(r.stderr.slice(r.stderr.indexOf("error: ")), /^error: policy config .*invalid\.json: invalid policy pack config:/);
            assert.match(r.stderr, /all: enforcement level "strict" is not one of/);
            assert.match(r.stderr, /fixture-stack-check\.maxResources: must be >= 1/);
        });

        it("config validation errors: the full multi-line message listing every issue", async () => {
            const r = await plan(base("invalid"));
            assert.strictEqual(r.code, 2);
            assertCleanError(r.stderr, /^error: the program .*fleet\.ts failed with stack config .*Pulumi\.invalid\.yaml:\nInvalid hardened-build-fleet stack config \(\d+ problems\):\n/);
            // Every issue, one per line, each naming the field: the pool name, its range, the missing control-plane block.
            assert.match(r.stderr, /^hardened-build-fleet:pools\[0\]\.name = "Bad_Name": .*Fix: /m);
            assert.match(r.stderr, /^hardened-build-fleet:pools\[0\]\.cidr = "10\.0\.0\.1\/24": .*Fix: /m);
            assert.match(r.stderr, /^hardened-build-fleet:controlPlane is not set: .*Fix: .*githubApp/m);
            assert.doesNotMatch(r.stderr, /\(at /, "a config error needs no location");
        });

        it("program crash: the cause and where it happened, not a stack trace", async () => {
            const r = await plan(base("crash"));
            assert.strictEqual(r.code, 2);
            assertCleanError(r.stderr, /failed with stack config .*Pulumi\.crash\.yaml:\nTypeError: cannot read properties of undefined \(reading 'cidr'\) \(at .*fleet\.ts:\d+:\d+\)\n$/);
        });
    });

    it("resolves relative paths against the working directory", async () => {
        const r = await plan(["--program", "fleet.ts", "--config", "Pulumi.good.yaml", "--format", "json"], { cwd: FIXTURES });
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(JSON.parse(r.stdout).stack, "good");
    });
});

describe("plan command: --stack-reference", () => {
    it("rejects malformed values, all in one message naming each value and the fix (exit 2)", async () => {
        const r = await plan(["--program", PROGRAM, "--config", config("good"), "--stack-reference", "no-equals", "--stack-reference", "acme/net/prod=/nonexistent/outputs.json"]);
        assert.strictEqual(r.code, 2);
        assert.match(r.stderr, /--stack-reference "no-equals" is not <stack name>=<outputs\.json>/);
        assert.match(r.stderr, /--stack-reference acme\/net\/prod: cannot read .*outputs\.json as JSON .*pulumi stack output --json -s acme\/net\/prod/);
        assert.doesNotMatch(r.stderr, /TypeError/);
    });

    it("plans with the referenced stack's outputs passed as a file", async () => {
        const tmp = tempDir();
        try {
            const file = path.join(tmp.dir, "net.json");
            fs.writeFileSync(file, JSON.stringify({ region: "europe-west4" }));
            const r = await plan([...base("good"), "--stack-reference", `acme/net/prod=${file}`]);
            assert.strictEqual(r.code, 0, r.stderr);
        } finally {
            tmp.cleanup();
        }
    });
});
