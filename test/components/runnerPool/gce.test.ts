/**
 * RunnerPool, GCE backend: the captured graph proves I1 (one boot disk, auto-deleted, no stateful MIG),
 * I2 (maxRunDuration + DELETE), I3 (no external IP, no SSH keys, serial port off), I5 (own network and
 * SA), I6 (Shielded/Confidential VM) and I7 (no SA key, least-privilege roles, no secret in metadata),
 * plus the pure startup-script renderer.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CapturedResource, ProgramRun, runProgram, UNKNOWN } from "../../../plan/engine";
import type { PoolConfig } from "../../../components/config";
import { confidentialInstanceType, DEFAULT_DEMAND_METRIC, RUNNER_VM_METADATA } from "../../../components/runnerPool/gce";
import { POOL_LABEL, ROLE_LABEL } from "../../../components/labels";
import { RunnerPool, RunnerPoolArgs } from "../../../components/runnerPool";
import { isValidServiceAccountId, serviceAccountIdFor } from "../../../components/config/names";
import { RUNNER_PROJECT_ROLES } from "../../../components/runnerPool/identity";
import { IDENTITY_ENDPOINT, renderStartupScript, startupScriptProblems } from "../../../components/runnerPool/startupScript";
import { ancestorsOf, byType, component, dependsOn, one, stackOf, walk } from "../../helpers/graph";
import { GCE_RUNNER_HOSTS } from "../../../components/config/runnerHosts";

const T = {
    pool: "hardened-build-fleet:index:RunnerPool",
    network: "hardened-build-fleet:index:IsolatedNetwork",
    template: "gcp:compute/instanceTemplate:InstanceTemplate",
    mig: "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
    autoscaler: "gcp:compute/regionAutoscaler:RegionAutoscaler",
    account: "gcp:serviceaccount/account:Account",
    key: "gcp:serviceaccount/key:Key",
    projectMember: "gcp:projects/iAMMember:IAMMember",
    subnet: "gcp:compute/subnetwork:Subnetwork",
    zone: "gcp:dns/managedZone:ManagedZone",
};

const BROKER = "https://jit-broker-abc123-ew.a.run.app";

const basePool: PoolConfig = {
    name: "pool-a",
    backend: "gce",
    machineType: "e2-standard-4",
    minRunners: 0,
    maxRunners: 10,
    spot: false,
    cidr: "10.10.0.0/24",
    egressAllowList: { cidrs: ["140.82.112.0/20"], fqdns: [...GCE_RUNNER_HOSTS] },
    maxBuildDurationSeconds: 10800,
    image: "projects/runner-images/global/images/family/gha-runner",
    confidentialCompute: false,
    masterCidr: "172.16.0.0/28",
};

function args(pool: Partial<PoolConfig> = {}, extra: Partial<RunnerPoolArgs> = {}): RunnerPoolArgs {
    return { pool: { ...basePool, ...pool }, project: "worker-proj", region: "europe-west1", registrationBrokerUrl: BROKER, ...extra };
}

async function build(a: RunnerPoolArgs = args(), opts: { preview?: boolean; name?: string } = {}): Promise<ProgramRun> {
    return runProgram(() => {
        const pool = new RunnerPool(opts.name ?? "pool-a", a);
        return {
            email: pool.serviceAccountEmail,
            member: pool.serviceAccountMember,
            subnet: pool.network.subnetSelfLink,
            template: pool.gce?.instanceTemplate.selfLink,
        };
    }, { preview: opts.preview ?? false });
}

describe("RunnerPool (gce)", function () {
    this.timeout(60000);

    it("containers: true changes only the startup script: the network, firewall, egress allow-list, identity and metadata are those of the same pool without it", async () => {
        const [plain, withEngine] = await Promise.all([build(), build(args({ containers: true }))]);
        const shape = (run: ProgramRun) => new Map(run.resources.map((r) => [`${r.type} ${r.name}`, r.type === T.template ? { ...r.inputs, metadataStartupScript: undefined } : r.inputs]));
        assert.deepStrictEqual(shape(withEngine), shape(plain));
        const scriptOf = (run: ProgramRun): string => one(run, T.template).inputs.metadataStartupScript;
        assert.match(scriptOf(withEngine), /dockerd-rootless\.sh/);
        assert.doesNotMatch(scriptOf(plain), /dockerd-rootless\.sh/);
        // The egress rules the pool gets are its allow-list, with nothing added for container registries.
        assert.ok(withEngine.resources.some((r) => r.type.includes("Firewall")), "the pool has firewall rules to compare");
    });

    describe("a standard pool", () => {
        let run: ProgramRun;
        let template: CapturedResource;
        before(async () => {
            run = await build();
            template = one(run, T.template);
        });

        it("registers a RunnerPool component whose descendants are every other resource", () => {
            const pool = component(run, T.pool, "pool-a");
            const stack = stackOf(run);
            assert.strictEqual(pool.parent, stack.urn);
            for (const r of run.resources) {
                if (r.urn === stack.urn || r.urn === pool.urn) {
                    continue;
                }
                assert.ok(ancestorsOf(run, r).includes(pool.urn), `${r.type} ${r.name} is not below the RunnerPool`);
                assert.ok(r.name.startsWith("pool-a-"), `${r.name} does not derive from the component name`);
            }
        });

        it("creates its own IsolatedNetwork child with the pool's role, CIDR and allow-list", () => {
            const net = component(run, T.network, "pool-a-net");
            assert.strictEqual(net.parent, component(run, T.pool, "pool-a").urn);
            const subnet = one(run, T.subnet);
            assert.strictEqual(subnet.inputs.ipCidrRange, "10.10.0.0/24");
            // The broker is a Cloud Run URL: run.app resolves to the restricted VIP inside the pool network.
            const zones = byType(run, T.zone).map((z) => z.inputs.dnsName).sort();
            assert.deepStrictEqual(zones, ["googleapis.com.", "run.app."]);
            assert.strictEqual(run.outputs.subnet, subnet.outputs.selfLink);
        });

        it("I6: Shielded VM with secure boot, vTPM and integrity monitoring; no Confidential VM unless configured", () => {
            assert.deepStrictEqual(template.inputs.shieldedInstanceConfig, { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true });
            assert.strictEqual(template.inputs.confidentialInstanceConfig, undefined);
        });

        it("I3/I5: one NIC on the pool's own subnet, no access configs (IPv4 or IPv6), no IP forwarding", () => {
            const subnet = one(run, T.subnet);
            const nics = template.inputs.networkInterfaces;
            assert.strictEqual(nics.length, 1);
            assert.strictEqual(nics[0].subnetwork, subnet.outputs.selfLink);
            assert.ok(template.propertyDependencies.networkInterfaces.includes(subnet.urn));
            assert.deepStrictEqual(Object.keys(nics[0]), ["subnetwork"]);
            assert.strictEqual(nics[0].accessConfigs, undefined);
            assert.strictEqual(nics[0].ipv6AccessConfigs, undefined);
            assert.strictEqual(template.inputs.canIpForward, false);
        });

        it("I1: exactly one disk, the boot disk, auto-deleted, from the pool image", () => {
            const disks = template.inputs.disks;
            assert.strictEqual(disks.length, 1);
            assert.strictEqual(disks[0].boot, true);
            assert.strictEqual(disks[0].autoDelete, true);
            assert.strictEqual(disks[0].sourceImage, basePool.image);
            assert.strictEqual(disks[0].source, undefined, "no pre-existing (persistent) disk attached");
        });

        it("I3/I7: metadata blocks project SSH keys, disables the serial port, enables OS Login and holds no ssh-keys or secret", () => {
            assert.deepStrictEqual(template.inputs.metadata, { "block-project-ssh-keys": "TRUE", "serial-port-enable": "FALSE", "enable-oslogin": "TRUE" });
            assert.deepStrictEqual(template.inputs.metadata, { ...RUNNER_VM_METADATA });
            for (const key of ["ssh-keys", "sshKeys", "startup-script"]) {
                assert.ok(!(key in template.inputs.metadata), `metadata has ${key}`);
            }
            const script: string = template.inputs.metadataStartupScript;
            assert.strictEqual(script, renderStartupScript({ pool: "pool-a", registrationBrokerUrl: BROKER }));
            assert.doesNotMatch(script, /ghp_|ghs_|github_pat_|BEGIN [A-Z ]*PRIVATE KEY|client_secret/);
        });

        it("I2: maxRunDuration equals the pool's max build duration, with termination action DELETE", () => {
            const s = template.inputs.scheduling;
            assert.deepStrictEqual(s.maxRunDuration, { seconds: 10800 });
            assert.strictEqual(s.instanceTerminationAction, "DELETE");
            assert.strictEqual(s.automaticRestart, false, "I1: never restart on the old disk");
        });

        it("uses standard provisioning when spot is off", () => {
            const s = template.inputs.scheduling;
            assert.strictEqual(s.provisioningModel, "STANDARD");
            assert.strictEqual(s.preemptible, false);
            assert.strictEqual(s.onHostMaintenance, "MIGRATE");
        });

        it("I7: runs as the pool SA with cloud-platform scope; carries role labels", () => {
            const sa = one(run, T.account);
            assert.deepStrictEqual(template.inputs.serviceAccount, { email: sa.outputs.email, scopes: ["cloud-platform"] });
            assert.ok(template.propertyDependencies.serviceAccount.includes(sa.urn));
            assert.deepStrictEqual(template.inputs.labels, { [ROLE_LABEL]: "runner", [POOL_LABEL]: "pool-a" });
            assert.deepStrictEqual(template.inputs.disks[0].labels, { [ROLE_LABEL]: "runner", [POOL_LABEL]: "pool-a" });
            assert.strictEqual(template.inputs.machineType, "e2-standard-4");
        });

        it("names the template with a prefix derived from the component name, so a change can replace it", () => {
            assert.strictEqual(template.inputs.namePrefix, "pool-a-");
            // The provider appends a unique suffix to the prefix.
            assert.match(template.outputs.name, /^pool-a-\d+$/);
            assert.strictEqual(template.name, "pool-a-template");
        });

        it("I1: a regional MIG on the template, recreating failed/stopped VMs, with no stateful fields and no fixed size", () => {
            const mig = one(run, T.mig);
            assert.strictEqual(mig.inputs.region, "europe-west1");
            assert.strictEqual(mig.inputs.baseInstanceName, "pool-a-runner");
            assert.strictEqual(mig.inputs.versions.length, 1);
            assert.strictEqual(mig.inputs.versions[0].instanceTemplate, template.outputs.selfLinkUnique);
            assert.ok(dependsOn(mig, template));
            for (const field of ["statefulDisks", "statefulInternalIps", "statefulExternalIps", "targetSize", "targetStoppedSize", "targetSuspendedSize"]) {
                assert.strictEqual(mig.inputs[field], undefined, `MIG sets ${field}`);
            }
            assert.deepStrictEqual(mig.inputs.instanceLifecyclePolicy, { defaultActionOnFailure: "REPAIR", forceUpdateOnRepair: "YES" });
            assert.deepStrictEqual(mig.inputs.updatePolicy, {
                type: "OPPORTUNISTIC", minimalAction: "REPLACE", replacementMethod: "SUBSTITUTE", instanceRedistributionType: "NONE",
            });
        });

        it("scales the MIG between minRunners and maxRunners on the per-group runner-demand metric (0 = scale to zero)", () => {
            const mig = one(run, T.mig);
            const autoscaler = one(run, T.autoscaler);
            assert.strictEqual(autoscaler.inputs.target, mig.outputs.id ?? mig.id);
            assert.ok(dependsOn(autoscaler, mig));
            const policy = autoscaler.inputs.autoscalingPolicy;
            assert.strictEqual(policy.minReplicas, 0);
            assert.strictEqual(policy.maxReplicas, 10);
            // Scale-out only: the autoscaler never picks a VM to delete (it cannot know whether it runs a job).
            assert.strictEqual(policy.mode, "ONLY_SCALE_OUT");
            assert.deepStrictEqual(policy.metrics, [{
                name: DEFAULT_DEMAND_METRIC,
                filter: 'resource.type = "global" AND metric.labels.pool = "pool-a"',
                singleInstanceAssignment: 1,
            }]);
            assert.strictEqual(policy.cpuUtilization, undefined, "per-instance signals cannot scale to zero");
        });

        it("I7: its own SA, with exactly logging.logWriter and monitoring.metricWriter, and no key anywhere", () => {
            const sa = one(run, T.account);
            assert.strictEqual(sa.inputs.accountId, serviceAccountIdFor("pool-a", "rn"));
            assert.strictEqual(sa.inputs.project, "worker-proj");
            const grants = byType(run, T.projectMember);
            assert.deepStrictEqual(grants.map((g) => g.inputs.role).sort(), [...RUNNER_PROJECT_ROLES].sort());
            for (const g of grants) {
                assert.strictEqual(g.inputs.member, `serviceAccount:${sa.outputs.email}`);
                assert.strictEqual(g.inputs.project, "worker-proj");
                assert.ok(dependsOn(g, sa));
            }
            assert.deepStrictEqual(byType(run, T.key), []);
            assert.strictEqual(run.resources.filter((r) => /serviceaccount\/key|hmacKey/i.test(r.type)).length, 0);
            assert.strictEqual(run.outputs.email, sa.outputs.email);
            assert.strictEqual(run.outputs.member, `serviceAccount:${sa.outputs.email}`);
        });

        it("I7: no input anywhere carries a GitHub token or private key", () => {
            for (const r of run.resources) {
                for (const [path, value] of walk(r.inputs)) {
                    if (typeof value === "string") {
                        assert.doesNotMatch(value, /ghp_|ghs_|github_pat_|PRIVATE KEY/, `${r.name}.${path}`);
                    }
                }
            }
        });

        it("warns nothing when the pool allow-lists the runner hosts", () => {
            assert.deepStrictEqual(run.logs.filter((l) => l.severity === "warning"), []);
        });
    });

    describe("spot and confidential pools", () => {
        it("spot: SPOT provisioning, preemptible, no automatic restart, TERMINATE on host maintenance", async () => {
            const run = await build(args({ spot: true }));
            const s = one(run, T.template).inputs.scheduling;
            assert.strictEqual(s.provisioningModel, "SPOT");
            assert.strictEqual(s.preemptible, true);
            assert.strictEqual(s.automaticRestart, false);
            assert.strictEqual(s.onHostMaintenance, "TERMINATE");
            assert.strictEqual(s.instanceTerminationAction, "DELETE");
            assert.deepStrictEqual(s.maxRunDuration, { seconds: 10800 });
        });

        it("confidential: Confidential VM (SEV on n2d) with TERMINATE, still Shielded", async () => {
            const run = await build(args({ confidentialCompute: true, machineType: "n2d-standard-4" }));
            const t = one(run, T.template).inputs;
            assert.deepStrictEqual(t.confidentialInstanceConfig, { confidentialInstanceType: "SEV" });
            assert.strictEqual(t.scheduling.onHostMaintenance, "TERMINATE");
            assert.strictEqual(t.scheduling.provisioningModel, "STANDARD");
            assert.deepStrictEqual(t.shieldedInstanceConfig, { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true });
        });

        it("maps machine series to their Confidential VM technology", () => {
            assert.strictEqual(confidentialInstanceType("n2d-standard-2"), "SEV");
            assert.strictEqual(confidentialInstanceType("c2d-highcpu-8"), "SEV");
            assert.strictEqual(confidentialInstanceType("c3-standard-4"), "TDX");
            assert.strictEqual(confidentialInstanceType("e2-standard-4"), undefined);
        });

        it("min/max come from config", async () => {
            const run = await build(args({ minRunners: 2, maxRunners: 7 }));
            const policy = one(run, T.autoscaler).inputs.autoscalingPolicy;
            assert.strictEqual(policy.minReplicas, 2);
            assert.strictEqual(policy.maxReplicas, 7);
        });
    });

    describe("preview", () => {
        it("runs with unknown computed outputs and still decides every hardening field from literals", async () => {
            const run = await build(args(), { preview: true });
            const t = one(run, T.template);
            assert.strictEqual(t.inputs.serviceAccount.email, UNKNOWN);
            assert.ok(t.propertyDependencies.serviceAccount.includes(one(run, T.account).urn));
            assert.strictEqual(t.inputs.networkInterfaces[0].subnetwork, UNKNOWN);
            assert.deepStrictEqual(t.inputs.scheduling.maxRunDuration, { seconds: 10800 });
            assert.deepStrictEqual(t.inputs.metadata, { ...RUNNER_VM_METADATA });
            assert.strictEqual(one(run, T.mig).inputs.versions[0].instanceTemplate, UNKNOWN);
        });
    });

    describe("bad input", () => {
        it("reports every problem at once, naming field, value and fix, and registers nothing", async () => {
            const run = await runProgram(() => {
                new RunnerPool("pool-a", args({ confidentialCompute: true, minRunners: 5, maxRunners: 2, maxBuildDurationSeconds: 0 }, {
                    registrationBrokerUrl: "http://broker.internal/?token=abc",
                }));
            }, { allowError: true });
            const message = String((run.error as Error).message);
            assert.match(message, /RunnerPool "pool-a"/);
            assert.match(message, /registrationBrokerUrl .* must use https/);
            assert.match(message, /must not carry credentials, a query or a fragment/);
            assert.match(message, /"e2-standard-4" does not support Confidential VM/);
            // A normalised pool goes through the config's pool validator, with its messages.
            assert.match(message, /pool\.minRunners = 5: is greater than maxRunners \(2\)\. Fix: /);
            assert.match(message, /pool\.maxBuildDuration = 0: must be greater than zero/);
            assert.deepStrictEqual(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack"), []);
        });

        it("requires a registration broker for gce pools", async () => {
            const run = await runProgram(() => {
                new RunnerPool("pool-a", args({}, { registrationBrokerUrl: undefined }));
            }, { allowError: true });
            assert.match(String((run.error as Error).message), /registrationBrokerUrl: missing for gce pool "pool-a"/);
        });

        it("rejects an invalid component name and network problems", async () => {
            const run = await runProgram(() => {
                new RunnerPool("Pool_A", args({ cidr: "10.10.0.5/24", egressAllowList: { cidrs: ["0.0.0.0/0"], fqdns: [] } }));
            }, { allowError: true });
            const message = String((run.error as Error).message);
            assert.match(message, /name: "Pool_A"/);
            assert.match(message, /pool\.cidr = "10.10.0.5\/24": is not a network address \(host bits are set\)\. Fix: use 10.10.0.0\/24/);
            // ...once: the network's own check of the same range is not repeated.
            assert.doesNotMatch(message, /network \(from pool "pool-a"\)/);
            assert.match(message, /whole internet/);
        });

        it("warns when a pool allow-lists no FQDN (its runners could not reach GitHub)", async () => {
            const run = await build(args({ egressAllowList: { cidrs: [], fqdns: [] } }));
            assert.ok(run.logs.some((l) => l.severity === "warning" && /allow-lists no FQDNs/.test(l.message)));
        });
    });
});

describe("serviceAccountIdFor", () => {
    it("derives valid, distinct ids, shortening long names with a hash", () => {
        assert.strictEqual(serviceAccountIdFor("pool-a", "rn"), "pool-a-rn");
        const long1 = serviceAccountIdFor("fleet-production-europe-pool-builders-a", "rn");
        const long2 = serviceAccountIdFor("fleet-production-europe-pool-builders-b", "rn");
        assert.ok(isValidServiceAccountId(long1), long1);
        assert.ok(isValidServiceAccountId(long2), long2);
        assert.notStrictEqual(long1, long2);
        assert.ok(long1.length <= 30);
        assert.ok(isValidServiceAccountId(serviceAccountIdFor("a", "cp")));
        assert.ok(isValidServiceAccountId(serviceAccountIdFor("9pool", "rn")));
    });
});

describe("renderStartupScript", () => {
    const script = renderStartupScript({ pool: "pool-a", registrationBrokerUrl: `${BROKER}/` });

    it("fetches a VM identity token for the broker audience in full format from the metadata server", () => {
        assert.ok(script.includes(`'${IDENTITY_ENDPOINT}'`));
        assert.match(script, /-H 'Metadata-Flavor: Google'/);
        assert.match(script, /readonly BROKER_AUDIENCE='https:\/\/jit-broker-abc123-ew\.a\.run\.app'/);
        assert.match(script, /--data-urlencode "audience=\$BROKER_AUDIENCE" --data-urlencode 'format=full'/);
    });

    it("POSTs the token to the broker (header file, not argv) and runs exactly one job as the runner user, without --jitconfig", () => {
        assert.match(script, /readonly BROKER_ENDPOINT='https:\/\/jit-broker-abc123-ew\.a\.run\.app\/v1\/jit-config'/);
        assert.match(script, /-X POST/);
        assert.match(script, /-H @"\$BOOT_DIR\/auth-header"/);
        assert.doesNotMatch(script, /Authorization: Bearer \$/, "the token never appears on a command line");
        assert.match(script, /runuser -u "\$RUNNER_USER" -- env -i HOME=.* \.\/run\.sh$/m);
        assert.match(script, /readonly RUNNER_USER='runner'/);
        assert.strictEqual((script.match(/\.\/run\.sh/g) ?? []).length, 1, "the runner starts once");
    });

    it("never puts the JIT config on a command line or in the job's environment: it is unpacked into the runner's own files", () => {
        for (const line of script.split("\n").filter((l) => !/^\s*#/.test(l))) {
            assert.doesNotMatch(line, /--jitconfig|JIT_CONFIG=|ACTIONS_RUNNER_INPUT_JITCONFIG/, line);
        }
        // The registration answer is read from a root-only file by the unpacker, written as 0600 runner-owned dot-files.
        assert.match(script, /python3 - "\$BOOT_DIR\/registration\.json" "\$RUNNER_DIR" "\$RUNNER_USER" "\$JOB_DIR" <<'PY'/);
        assert.match(script, /registration\.get\("jitConfig"\)/);
        assert.match(script, /re\.fullmatch\(r"\\\.\[A-Za-z0-9_\]\+", name\)/);
        assert.match(script, /0o600/);
        assert.match(script, /^umask 077$/m);
        // The only thing handed to the job: the upload credential, by path in the runner's .env.
        assert.match(script, /BUILD_FLEET_UPLOAD_CREDENTIALS=/);
    });

    it("passes shellcheck (skipped where shellcheck is not installed)", function () {
        const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: script, encoding: "utf8" });
        if (r.error !== undefined) {
            this.skip();
        }
        assert.strictEqual(r.status, 0, r.stdout);
    });

    it("unpacks a broker answer into the runner's config files (0600) and the upload credential (0400, named in .env); refuses path tricks", function () {
        const python = spawnSync("python3", ["--version"]);
        if (python.status !== 0) {
            this.skip();
        }
        const unpacker = script.slice(script.indexOf("<<'PY'\n") + "<<'PY'\n".length, script.indexOf("\nPY\n"));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jit-"));
        try {
            const [runnerDir, jobDir] = [path.join(dir, "runner"), path.join(dir, "job")];
            fs.mkdirSync(runnerDir);
            fs.mkdirSync(jobDir);
            const b64 = (t: string) => Buffer.from(t).toString("base64");
            const files = { ".runner": "{\"agentName\":\"r1\"}", ".credentials": "{\"scheme\":\"OAuth\"}", ".credentials_rsaparams": "{\"d\":\"x\"}" };
            const jit = b64(JSON.stringify(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, b64(v)]))));
            const upload = { url: "https://storage.googleapis.com/intake/", fields: { policy: "p" }, bucket: "intake", prefix: "pool-a/123/", expiresAt: "2026-01-01T00:00:00Z", maxBytes: 10 };
            const answer = path.join(dir, "registration.json");
            fs.writeFileSync(answer, JSON.stringify({ jitConfig: jit, runner: { id: 1, name: "r1" }, upload }));
            const user = os.userInfo().username;
            const r = spawnSync("python3", ["-", answer, runnerDir, user, jobDir], { input: unpacker, encoding: "utf8" });
            assert.strictEqual(r.status, 0, r.stderr);
            for (const [name, content] of Object.entries(files)) {
                assert.strictEqual(fs.readFileSync(path.join(runnerDir, name), "utf8"), content);
                assert.strictEqual(fs.statSync(path.join(runnerDir, name)).mode & 0o777, 0o600, name);
            }
            const credential = path.join(jobDir, "upload.json");
            assert.deepStrictEqual(JSON.parse(fs.readFileSync(credential, "utf8")), upload);
            assert.strictEqual(fs.statSync(credential).mode & 0o777, 0o400);
            assert.strictEqual(fs.readFileSync(path.join(runnerDir, ".env"), "utf8"), `BUILD_FLEET_UPLOAD_CREDENTIALS=${credential}\n`);
            // A JIT config naming a path outside the runner directory is refused, and nothing is written there.
            fs.writeFileSync(answer, JSON.stringify({ jitConfig: b64(JSON.stringify({ "../escape": b64("x") })), upload }));
            const bad = spawnSync("python3", ["-", answer, runnerDir, user, jobDir], { input: unpacker, encoding: "utf8" });
            assert.notStrictEqual(bad.status, 0);
            assert.match(bad.stderr, /unexpected JIT config entry/);
            assert.ok(!fs.existsSync(path.join(dir, "escape")));
            // An answer without a JIT config or upload credential is refused.
            fs.writeFileSync(answer, JSON.stringify({ upload }));
            assert.match(spawnSync("python3", ["-", answer, runnerDir, user, jobDir], { input: unpacker, encoding: "utf8" }).stderr, /lacks jitConfig or upload/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("blocks the metadata server for every non-root user (owner match) and for containers before fetching anything, and checks it", () => {
        const rule = "iptables -w -I OUTPUT 1 -d 169.254.169.254/32 -m owner ! --uid-owner 0 -j REJECT";
        assert.ok(script.includes(rule));
        assert.ok(script.includes("iptables -w -I FORWARD 1 -d 169.254.169.254/32 -j DROP"));
        assert.ok(script.includes("ip6tables -w -I OUTPUT 1 -d fd20:ce::254/128 -m owner ! --uid-owner 0 -j REJECT"), "the IPv6 metadata address too");
        assert.ok(script.indexOf(rule) < script.indexOf(IDENTITY_ENDPOINT), "the block precedes the token fetch");
        assert.match(script, /runuser -u "\$RUNNER_USER" -- curl -s -m 3 .*169\.254\.169\.254.*; then\n\s+log "the runner user can still reach the metadata server/);
        assert.match(script, /grep -qxE 'sudo\|wheel\|docker\|adm\|root/);
        assert.match(script, /sudo -n -l -U "\$RUNNER_USER"/);
    });

    it("always powers off at the end (trap on EXIT) so the MIG recreates a fresh VM", () => {
        assert.match(script, /trap finish EXIT/);
        assert.match(script, /systemctl poweroff/);
        assert.match(script, /^set -euo pipefail$/m);
    });

    it("refuses to reuse a disk that already started a job, and stops any SSH server", () => {
        assert.match(script, /if \[ -e "\$USED_MARKER" \]; then/);
        assert.ok(script.indexOf('touch "$USED_MARKER"') < script.indexOf("./run.sh"));
        assert.match(script, /systemctl disable --now ssh\.service sshd\.service/);
    });

    it("carries no secret: the only credential is fetched at boot into a root-only tmpfs directory, deleted before the job", () => {
        assert.doesNotMatch(script, /ghp_|ghs_|github_pat_|PRIVATE KEY/);
        assert.match(script, /mkdir -m 700 "\$BOOT_DIR"/);
        assert.match(script, /rm -f "\$BOOT_DIR\/token" "\$BOOT_DIR\/auth-header"/);
        assert.ok(script.lastIndexOf('rm -rf "$BOOT_DIR"') < script.indexOf("./run.sh"));
    });

    it("honours options and quotes values", () => {
        const custom = renderStartupScript({
            pool: "pool-b", registrationBrokerUrl: "https://broker.example.com/base", brokerPath: "/jit", runnerDir: "/srv/runner", runnerUser: "builder", failureBackoffSeconds: 5,
        });
        assert.match(custom, /readonly BROKER_ENDPOINT='https:\/\/broker\.example\.com\/base\/jit'/);
        assert.match(custom, /readonly RUNNER_DIR='\/srv\/runner'/);
        assert.match(custom, /readonly RUNNER_USER='builder'/);
        assert.match(custom, /sleep 5/);
    });

    it("rejects unsafe options, all at once", () => {
        const problems = startupScriptProblems({
            pool: "Pool A", registrationBrokerUrl: "http://user:pw@broker/x?y#z", runnerUser: "root", runnerDir: "relative/dir", brokerPath: "/a/../b", failureBackoffSeconds: -1,
        });
        assert.strictEqual(problems.length, 7, problems.join("\n"));
        assert.throws(() => renderStartupScript({ pool: "p", registrationBrokerUrl: "not a url" }), /is not a URL/);
    });
});
