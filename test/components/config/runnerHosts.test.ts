/**
 * Runners take jobs only through GitHub's exact hosts (FQDN rules take no wildcards): the pool validator warns,
 * naming the pool and the missing hosts, when its allow-list lacks them: in the config validator's one-pass
 * report for a fleet, and in a RunnerPool's log for a pool written as in stack config.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { RunnerPool } from "../../../components/runnerPool";
import { GCE_RUNNER_HOSTS, GKE_RUNNER_HOSTS, missingRunnerHosts } from "../../../components/config/runnerHosts";
import { parseFleetConfig, rawFleetConfig, validateFleetConfig } from "../../../components/config";
import { HardenedBuildFleet } from "../../../components/fleet";
import { minimalFleetConfig } from "../../helpers/minimalFleet";
import { runProgram } from "../../../plan/engine";
import { REPO_ROOT } from "../../helpers/paths";

async function poolWarnings(fqdns: string[]): Promise<string[]> {
    const run = await runProgram(() => {
        new RunnerPool("pool", {
            project: "acme-workers", region: "europe-west1", registrationBrokerUrl: "https://broker.example.com",
            pool: { name: "linux", backend: "gce", cidr: "10.10.0.0/24", image: "projects/acme-images/global/images/family/runner", egressAllowList: { fqdns } },
        });
    });
    return run.logs.filter((l) => l.severity === "warning").map((l) => l.message);
}

describe("runner hosts a pool's allow-list needs", function () {
    this.timeout(60000);

    it("a pool warns about each missing host, naming the pool and the hosts", async () => {
        const warnings = (await poolWarnings(["github.com", "api.github.com"])).filter((w) => w.includes("does not allow"));
        assert.strictEqual(warnings.length, 1);
        for (const host of ["broker.actions.githubusercontent.com", "pipelines.actions.githubusercontent.com", "results-receiver.actions.githubusercontent.com", "codeload.github.com"]) {
            assert.ok(warnings[0].includes(host), `${host} not named: ${warnings[0]}`);
        }
        assert.match(warnings[0], /pool "linux" does not allow codeload\.github\.com, broker/);
    });

    it("no warning when the pool allows every required host", async () => {
        assert.deepStrictEqual((await poolWarnings([...GCE_RUNNER_HOSTS])).filter((w) => w.includes("does not allow") || w.includes("no FQDNs")), []);
    });

    it("the config validator warns in the same one-pass report as its errors, per pool, naming the field and the hosts", () => {
        const config = minimalFleetConfig();
        config.pools[0].egressAllowList = { fqdns: ["github.com", "api.github.com"] };
        config.signer.cidr = "10.200.0.0/30"; // an error in the same pass
        const result = validateFleetConfig(config);
        assert.deepStrictEqual(result.issues.map((i) => i.path), ["signer.cidr"]);
        assert.deepStrictEqual(result.warnings.filter((w) => w.includes("does not allow")), [
            "hardened-build-fleet:pools[0].egressAllowList.fqdns = [\"github.com\",\"api.github.com\"]: pool \"containers\" does not allow codeload.github.com, " +
                "broker.actions.githubusercontent.com, pipelines.actions.githubusercontent.com, results-receiver.actions.githubusercontent.com, which its " +
                "runners need to take jobs (FQDN rules take no wildcards); add them to egressAllowList.fqdns unless the pool reaches GitHub another way",
        ]);
        config.pools[0].egressAllowList = { fqdns: [...GKE_RUNNER_HOSTS] };
        assert.deepStrictEqual(validateFleetConfig(config).warnings.filter((w) => w.includes("egressAllowList")), []);
    });

    it("a fleet reports it once (from the config validator), not again from its RunnerPool", async () => {
        const run = await runProgram(() => {
            new HardenedBuildFleet("fleet", { config: rawFleetConfig(minimalFleetConfig()) });
        });
        const warnings = run.logs.filter((l) => l.severity === "warning" && l.message.includes("allow-lists no FQDNs"));
        assert.strictEqual(warnings.length, 1, warnings.map((w) => w.message).join("\n"));
        assert.match(warnings[0].message, /^hardened-build-fleet:pools\[0\]\.egressAllowList\.fqdns = \[\]: pool "containers" allow-lists no FQDNs/);
        // A normalised pool handed to a RunnerPool on its own: its reader reported the warning already.
        const pool = parseFleetConfig(minimalFleetConfig()).pools[0];
        const alone = await runProgram(() => {
            new RunnerPool("pool", { project: "acme-workers", region: "europe-west1", pool, github: { configUrl: "https://github.com/acme", scaleSetSecretName: "arc" } });
        });
        assert.deepStrictEqual(alone.logs.filter((l) => l.severity === "warning" && l.message.includes("FQDNs")).map((l) => l.message), []);
    });

    it("lists exact names only (no wildcards), and the example config allows them on every pool", () => {
        for (const host of [...GCE_RUNNER_HOSTS, ...GKE_RUNNER_HOSTS]) {
            assert.ok(!host.includes("*"), host);
        }
        const example = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.example.yaml"), "utf8")).config["hardened-build-fleet:pools"];
        for (const pool of example) {
            assert.deepStrictEqual(missingRunnerHosts({ backend: pool.backend, egressAllowList: { cidrs: [], fqdns: pool.egressAllowList.fqdns } }), [], pool.name);
        }
    });
});
