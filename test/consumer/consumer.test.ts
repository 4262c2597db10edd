// The package as a team gets it: `npm pack`, installed into two fresh projects: one from the
// `pulumi new typescript` template (package.json with `main`, tsconfig module/moduleResolution
// nodenext) and one with a commonjs tsconfig (moduleResolution node). In each: the consumer's own
// tsc type-checks a program that uses the fleet and hand-composed components and every documented
// import path; the bin plans the consumer's program with the consumer's Pulumi.yaml and stack
// config; a type error exits 2; `npm ls @pulumi/pulumi` shows one deduplicated copy.
//
// Slow (a build, two installs from the npm cache, several type checks): `npm run test:consumer`,
// which .ci/run runs after `npm test`. Offline when the npm cache holds every dependency.
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as crypto from "crypto";
import { pae } from "../../services/lib/dsse";
import { ARTIFACT, BUILDER_ID, p256, SOURCE, statement } from "../helpers/signer";
import { simulate } from "../../services/sim/simulate";

const ROOT = path.join(__dirname, "..", "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

interface Result {
    code: number;
    stdout: string;
    stderr: string;
    ms: number;
}

/** Runs a command to completion (asynchronously, so two installs can overlap). */
function run(cmd: string, args: string[], cwd: string): Promise<Result> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd, env: { ...process.env, npm_config_update_notifier: "false" } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started }));
    });
}

function ok(r: Result, what: string): Result {
    assert.strictEqual(r.code, 0, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r;
}

/** The consumer's program: the whole fleet from stack config, plus components composed by hand with the typed inputs. */
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import {
    FleetConfig, GcePoolInput, HardenedBuildFleet, IsolatedNetwork, IsolatedNetworkArgs, parseFleetConfig, readRawFleetConfig, roleLabels, RunnerPool,
} from "hardened-build-fleet";

const raw = readRawFleetConfig();
const config: FleetConfig = parseFleetConfig(raw);
const fleet = new HardenedBuildFleet("fleet", { config: raw });

// A network of the team's own for a package mirror, in the control-plane zone.
const mirrorArgs: IsolatedNetworkArgs = {
    project: config.workerProject,
    region: config.region,
    cidr: "10.40.0.0/24",
    role: "control-plane",
    egressAllowList: { fqdns: ["registry.npmjs.org"] },
};
const mirror = new IsolatedNetwork("mirror", mirrorArgs);

// One more pool, written as in YAML (typed: a misspelt key or "2 hours" would not compile).
const adhocPool: GcePoolInput = {
    name: "adhoc",
    backend: "gce",
    cidr: "10.41.0.0/24",
    maxBuildDuration: "90m",
    image: config.pools[0].image,
    egressAllowList: { fqdns: ["github.com", "api.github.com"] },
};
const adhoc = new RunnerPool("adhoc", {
    pool: adhocPool,
    project: config.workerProject,
    region: config.region,
    // The fleet's own registration broker (deployed by its control plane).
    registrationBrokerUrl: fleet.brokerUrl,
});

export const poolNames: string[] = fleet.poolNames;
export const signerKey: pulumi.Output<string> = fleet.signerPublicKeyPem;
export const mirrorNetwork = mirror.network.name;
export const adhocPoolUrn = adhoc.urn;
export const labels: Record<string, string> = roleLabels("runner", "adhoc");
`;

/** Every documented import path, for the type check (and, compiled, for a runtime require). */
const IMPORTS = `import { HardenedBuildFleet } from "hardened-build-fleet";
import { policies, FleetPolicy } from "hardened-build-fleet/policies";
import { runProgram, evaluatePolicies, ProgramRun } from "hardened-build-fleet/plan";

export const policyNames: string[] = policies.map((p: FleetPolicy) => p.name);
export const api: [typeof runProgram, typeof evaluatePolicies, typeof HardenedBuildFleet] = [runProgram, evaluatePolicies, HardenedBuildFleet];
export type Run = ProgramRun;
`;

const TYPE_ERROR = `import { HardenedBuildFleet, readRawFleetConfig } from "hardened-build-fleet";
const fleet = new HardenedBuildFleet("fleet", { config: readRawFleetConfig() });
export const pools: number = fleet.poolNames;
`;

interface Layout {
    name: string;
    tsconfig: object;
}

const LAYOUTS: Layout[] = [
    {
        // The `pulumi new typescript` template's tsconfig, with the imports file added to `files`.
        name: "template-nodenext",
        tsconfig: {
            compilerOptions: {
                strict: true, outDir: "bin", target: "es2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: true,
                experimentalDecorators: true, pretty: true, noFallthroughCasesInSwitch: true, noImplicitReturns: true, forceConsistentCasingInFileNames: true,
            },
            files: ["index.ts", "imports.ts"],
        },
    },
    {
        name: "commonjs-node10",
        tsconfig: {
            compilerOptions: { strict: true, target: "es2022", module: "commonjs", moduleResolution: "node", esModuleInterop: true, skipLibCheck: true, outDir: "bin" },
            include: ["index.ts", "imports.ts"],
        },
    },
];

function writeProject(dir: string, layout: Layout, tarball: string): void {
    fs.mkdirSync(dir, { recursive: true });
    const project = `acme-${layout.name}`;
    // The template's package.json (main, typescript and @types/node as dev dependencies), with this package added.
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({
        name: project,
        main: "index.ts",
        devDependencies: { "@types/node": pkg.devDependencies["@types/node"], typescript: pkg.dependencies.typescript },
        dependencies: { "@pulumi/pulumi": pkg.dependencies["@pulumi/pulumi"], "hardened-build-fleet": `file:${tarball}` },
    }, null, 2));
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(layout.tsconfig, null, 2));
    // The template's Pulumi.yaml: no main (package.json's is used), nodejs runtime.
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${project}\nruntime: nodejs\ndescription: A team's build fleet.\n`);
    // The package's example stack config, as the README tells a team to start.
    fs.copyFileSync(path.join(ROOT, "Pulumi.example.yaml"), path.join(dir, "Pulumi.dev.yaml"));
    fs.writeFileSync(path.join(dir, "index.ts"), PROGRAM);
    fs.writeFileSync(path.join(dir, "imports.ts"), IMPORTS);
}

describe("consumer: the packed package installed into fresh projects", function () {
    this.timeout(20 * 60_000);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hbf-consumer-"));
    let tarball = "";
    const timings: string[] = [];

    before(async () => {
        // `npm pack` runs `prepare` (the build), so the tarball holds a current dist/.
        const packed = ok(await run(NPM, ["pack", "--pack-destination", tmp, "--json"], ROOT), "npm pack");
        const info = JSON.parse(packed.stdout)[0];
        tarball = path.join(tmp, info.filename);
        timings.push(`npm pack (with build): ${packed.ms} ms, ${info.files.length} files`);
        const installs = await Promise.all(LAYOUTS.map(async (layout) => {
            const dir = path.join(tmp, layout.name);
            writeProject(dir, layout, tarball);
            return run(NPM, ["install", "--prefer-offline", "--no-audit", "--no-fund"], dir);
        }));
        installs.forEach((r, i) => {
            ok(r, `npm install in ${LAYOUTS[i].name}`);
            timings.push(`npm install (${LAYOUTS[i].name}): ${r.ms} ms`);
        });
    });

    after(() => {
        fs.rmSync(tmp, { recursive: true, force: true });
        console.log(`    timings:\n${timings.map((t) => `      ${t}`).join("\n")}`);
    });

    it("ships no source directories that shadow the subpath imports, and no tests", async () => {
        const listing = ok(await run("tar", ["-tzf", tarball], tmp), "tar").stdout.split("\n").filter(Boolean).map((f) => f.replace(/^package\//, ""));
        for (const shadow of ["policies/", "plan/", "components/", "index.ts", "test/", "tsconfig.json"]) {
            assert.ok(!listing.some((f) => f.startsWith(shadow)), `${shadow} is shipped`);
        }
        for (const needed of ["dist/components/index.d.ts", "dist/policies/rules/index.d.ts", "dist/plan/engine/index.d.ts", "dist/plan/cli.js", "dist/policies/index.js", "dist/policies/PulumiPolicy.yaml", "bin/hardened-build-fleet-plan.js"]) {
            assert.ok(listing.includes(needed), `${needed} is missing`);
        }
    });

    for (const layout of LAYOUTS) {
        describe(layout.name, () => {
            const dir = () => path.join(tmp, layout.name);

            it("has one deduplicated @pulumi/pulumi (and @pulumi/policy)", async () => {
                for (const name of ["@pulumi/pulumi", "@pulumi/policy"]) {
                    const r = ok(await run(NPM, ["ls", name, "--all", "--json"], dir()), `npm ls ${name}`);
                    const versions = new Set<string>();
                    const walk = (deps: Record<string, any> | undefined) => {
                        for (const [n, d] of Object.entries(deps ?? {})) {
                            if (n === name && d.version) {
                                versions.add(`${d.version}`);
                            }
                            walk(d.dependencies);
                        }
                    };
                    walk(JSON.parse(r.stdout).dependencies);
                    assert.strictEqual(versions.size, 1, `${name}: ${[...versions].join(", ")}`);
                    // One copy on disk, at the top level, not nested under the package.
                    assert.ok(fs.existsSync(path.join(dir(), "node_modules", name, "package.json")), `${name} not at the top level`);
                    assert.ok(!fs.existsSync(path.join(dir(), "node_modules", "hardened-build-fleet", "node_modules", name)), `${name} nested under hardened-build-fleet`);
                }
                const tree = ok(await run(NPM, ["ls", "@pulumi/pulumi"], dir()), "npm ls").stdout;
                assert.match(tree, /@pulumi\/pulumi@[\d.]+ deduped/);
            });

            it("the consumer's tsc type-checks the program and every documented import path", async () => {
                const r = await run(process.execPath, [path.join(dir(), "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", "."], dir());
                timings.push(`tsc --noEmit (${layout.name}): ${r.ms} ms`);
                ok(r, "tsc");
            });

            it("the import paths resolve at run time too", async () => {
                const script = [
                    "const root = require('hardened-build-fleet');",
                    "const { policies } = require('hardened-build-fleet/policies');",
                    "const plan = require('hardened-build-fleet/plan');",
                    "console.log(JSON.stringify([typeof root.HardenedBuildFleet, policies.length > 30, typeof plan.runProgram]));",
                ].join("\n");
                const r = ok(await run(process.execPath, ["-e", script], dir()), "node -e require");
                assert.strictEqual(r.stdout.trim(), JSON.stringify(["function", true, "function"]));
            });

            it("the bin plans the consumer's program with its Pulumi.yaml and only stack config", async () => {
                const bin = path.join(dir(), "node_modules", ".bin", "hardened-build-fleet-plan");
                const r = await run(bin, ["--format", "json"], dir());
                timings.push(`plan, type check on (${layout.name}): ${r.ms} ms`);
                assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
                const report = JSON.parse(r.stdout);
                assert.deepStrictEqual([report.project, report.stack], [`acme-${layout.name}`, "dev"]);
                const urns: string[] = report.resources.map((x: any) => x.urn);
                // The consumer's own program ran: its hand-composed components are there.
                assert.ok(urns.includes(`urn:pulumi:dev::acme-${layout.name}::hardened-build-fleet:index:RunnerPool::adhoc`), "hand-composed pool missing");
                assert.ok(urns.includes(`urn:pulumi:dev::acme-${layout.name}::hardened-build-fleet:index:IsolatedNetwork::mirror`), "hand-composed network missing");
                assert.ok(urns.some((u) => u.endsWith("hardened-build-fleet:index:HardenedBuildFleet::fleet")));
                assert.strictEqual(r.code, report.summary.mandatory > 0 ? 1 : 0, "exit code follows the mandatory findings");
            });

            it("the ./plan API runs the program with the consumer's tsconfig from plain node (no TS5110)", async () => {
                const script = [
                    "const { runProgram } = require('hardened-build-fleet/plan');",
                    "runProgram('index.ts', { configFile: 'Pulumi.dev.yaml' }).then(",
                    "  (r) => console.log(JSON.stringify({ project: r.project, resources: r.resources.length })),",
                    "  (e) => { console.error(String(e && e.cause || e)); process.exit(3); });",
                ].join("\n");
                const r = ok(await run(process.execPath, ["-e", script], dir()), "runProgram");
                const out = JSON.parse(r.stdout);
                assert.strictEqual(out.project, `acme-${layout.name}`);
                assert.ok(out.resources > 100, `${out.resources} resources`);
            });

            it("a type error exits 2 with the compiler's message; --no-typecheck plans it anyway", async () => {
                fs.writeFileSync(path.join(dir(), "broken.ts"), TYPE_ERROR);
                const bin = path.join(dir(), "node_modules", ".bin", "hardened-build-fleet-plan");
                const r = await run(bin, ["--program", "broken.ts"], dir());
                assert.strictEqual(r.code, 2, r.stderr);
                assert.match(r.stderr, /^error: the program broken\.ts does not type-check \(1 error; pulumi up would stop here too\)/);
                assert.match(r.stderr, /broken\.ts\(3,14\): error TS2322: Type 'string\[\]' is not assignable to type 'number'\./);
                const skipped = await run(bin, ["--program", "broken.ts", "--no-typecheck", "--format", "json"], dir());
                assert.ok(skipped.code === 0 || skipped.code === 1, `exit ${skipped.code}: ${skipped.stderr}`);
                assert.ok(JSON.parse(skipped.stdout).resources.some((x: any) => x.urn.endsWith("hardened-build-fleet:index:HardenedBuildFleet::fleet")));
            });

            it("--help answers from dist/ without loading the engine", async () => {
                const bin = path.join(dir(), "node_modules", ".bin", "hardened-build-fleet-plan");
                const r = ok(await run(bin, ["--help"], dir()), "--help");
                timings.push(`--help (${layout.name}): ${r.ms} ms`);
                assert.match(r.stdout, /^Usage: hardened-build-fleet-plan/);
            });
        });
    }

    describe("every bin of the installed package runs its compiled dist/", () => {
        const dir = () => path.join(tmp, LAYOUTS[1].name);
        const installed = () => path.join(dir(), "node_modules", "hardened-build-fleet");
        const bin = (name: string) => path.join(dir(), "node_modules", ".bin", name);

        before(() => {
            // What npm install does to times, made certain: every shipped TypeScript source newer than dist/.
            // A loader that compared times would now try ts-node with a tsconfig.json the package does not ship (TS5083).
            const later = new Date(Date.now() + 3_600_000);
            const touch = (d: string) => {
                for (const e of fs.readdirSync(d, { withFileTypes: true })) {
                    const p = path.join(d, e.name);
                    if (e.isDirectory()) {
                        touch(p);
                    } else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) {
                        fs.utimesSync(p, later, later);
                    }
                }
            };
            touch(path.join(installed(), "services"));
        });

        it("the package ships no development-checkout marker, and every bin it declares", () => {
            for (const marker of ["tsconfig.json", "package-lock.json"]) {
                assert.ok(!fs.existsSync(path.join(installed(), marker)), `${marker} is installed`);
            }
            assert.deepStrictEqual(Object.keys(pkg.bin).sort(), ["hardened-build-fleet-plan", "hardened-build-fleet-verify"],
                "a new bin (the signer, if shipped) needs its runs here");
            for (const name of Object.keys(pkg.bin)) {
                assert.ok(fs.existsSync(bin(name)), `${name} is not linked into node_modules/.bin`);
            }
        });

        it("hardened-build-fleet-plan --help", async () => {
            const r = ok(await run(bin("hardened-build-fleet-plan"), ["--help"], dir()), "plan --help");
            assert.match(r.stdout, /^Usage: hardened-build-fleet-plan/);
        });

        it("hardened-build-fleet-verify: --help (0), a good envelope (0), a tampered one (1), a missing file (2)", async () => {
            const key = p256();
            const stmt = statement();
            const payload = Buffer.from(JSON.stringify(stmt));
            const type = "application/vnd.in-toto+json";
            const sign = (body: Buffer) => crypto.sign("sha256", pae(type, body), { key: key.privateKey, dsaEncoding: "der" }).toString("base64");
            const envelope = { payloadType: type, payload: payload.toString("base64"), signatures: [{ keyid: "local", sig: sign(payload) }] };
            const tampered = { ...envelope, payload: Buffer.from(JSON.stringify({ ...stmt, subject: [{ name: "evil", digest: stmt.subject[0].digest }] })).toString("base64") };
            const file = (name: string, content: string | Buffer) => {
                fs.writeFileSync(path.join(dir(), name), content);
                return name;
            };
            const common = ["--artifact", file("app.tgz", ARTIFACT), "--keys", file("signer.pub", key.publicPem), "--builder-id", BUILDER_ID, "--source-uri", SOURCE];
            const verify = bin("hardened-build-fleet-verify");

            const help = ok(await run(verify, ["--help"], dir()), "verify --help");
            assert.match(help.stdout, /^usage: hardened-build-fleet-verify /);
            const good = await run(verify, ["--envelope", file("good.intoto.jsonl", `${JSON.stringify(envelope)}\n`), ...common], dir());
            assert.strictEqual(good.code, 0, good.stderr);
            assert.match(good.stdout, /^verified: dist\/app\.tgz sha256:[0-9a-f]{64} built by /);
            const bad = await run(verify, ["--envelope", file("bad.intoto.jsonl", JSON.stringify(tampered)), ...common], dir());
            assert.strictEqual(bad.code, 1, bad.stderr);
            assert.match(bad.stderr, /^not verified: no signature verifies under the given keys/);
            const missing = await run(verify, ["--envelope", "nope.jsonl", ...common], dir());
            assert.strictEqual(missing.code, 2, missing.stderr);
            assert.match(missing.stderr, /^error: --envelope \(or --bundle\) nope\.jsonl cannot be read: ENOENT/);
        });

        it("hardened-build-fleet-verify --bundle: a simulated job's Sigstore bundle (0), a tampered one (1), a bundle without its trusted root (2)", async () => {
            // The bundle, trusted root and keyring of one job of the local simulation (signer, TSA, generator in process).
            const out = path.join(dir(), "sim");
            const summary = await simulate({ jobs: 1, pools: 1, out, concurrency: 1, attacks: false });
            assert.strictEqual(summary.ok, true, JSON.stringify(summary.jobs));
            const job = summary.jobs[0];
            const at = (p: string) => path.join(out, p);
            const args = (bundle: string) => ["--bundle", bundle, "--trusted-root", at("trusted_root.json"), "--artifact", at(job.artifact), "--keys", at("keys.json"),
                "--source-uri", `https://github.com/${job.repository}`];
            const verify = bin("hardened-build-fleet-verify");

            const good = await run(verify, args(at(job.bundle!)), dir());
            assert.strictEqual(good.code, 0, good.stderr);
            assert.match(good.stdout, /^verified: .* signed by local:sha256:[0-9a-f]{64}, timestamped \d{4}-\d{2}-\d{2}T/);
            const bundle = JSON.parse(fs.readFileSync(at(job.bundle!), "utf8"));
            const claimed = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString());
            claimed.predicate.buildDefinition.externalParameters.workflow.ref = "refs/heads/evil";
            bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(claimed)).toString("base64");
            fs.writeFileSync(at("tampered.sigstore.json"), JSON.stringify(bundle));
            const bad = await run(verify, args(at("tampered.sigstore.json")), dir());
            assert.strictEqual(bad.code, 1, bad.stderr);
            assert.match(bad.stderr, /^not verified: .*signature verification failed/);
            const noRoot = await run(verify, args(at(job.bundle!)).filter((_, i, all) => all[i] !== "--trusted-root" && all[i - 1] !== "--trusted-root"), dir());
            assert.strictEqual(noRoot.code, 2, noRoot.stderr);
            assert.match(noRoot.stderr, /--trusted-root .* is required/);
        });
    });
});
