/**
 * Runners take jobs only through GitHub's exact hosts (FQDN rules take no wildcards): a RunnerPool warns,
 * naming the pool and the missing hosts, when its allow-list lacks them.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { RunnerPool } from "../../../components/runnerPool";
import { GCE_RUNNER_HOSTS, GKE_RUNNER_HOSTS, missingRunnerHosts } from "../../../components/config/runnerHosts";
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
