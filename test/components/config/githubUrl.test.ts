import * as assert from "assert";
import { validateFleetConfig } from "../../../components/config";
import { readGithubConfigUrl } from "../../../components/config/githubUrl";
import { validateControlPlaneArgs } from "../../../components/controlPlane";
import { githubTargetOf } from "../../../components/controlPlane/services";
import { validateRunnerPoolArgs } from "../../../components/runnerPool";
import { minimalFleetConfig } from "../../helpers/minimalFleet";

const controlPlaneArgs = (githubConfigUrl: string) => ({
    project: "acme-control", workerProject: "acme-workers", region: "europe-west1",
    pools: [{ name: "a", runnerMember: "serviceAccount:r@acme-workers.iam.gserviceaccount.com", instanceGroupManager: "mig", image: "img", maxRunDurationSeconds: 3600 }],
    image: `europe-docker.pkg.dev/acme/fleet/services@sha256:${"a".repeat(64)}`, signerUrl: "https://signer.example.run.app",
    builderId: "https://github.com/acme/hardened-build-fleet/fleet", githubConfigUrl,
    githubApp: { appId: 1, installationId: 2, privateKeySecret: "projects/acme-control/secrets/app-key" },
    webhookSecret: "projects/acme-control/secrets/hook",
});

describe("github.configUrl: one reading for the validator and the components", () => {
    const urls = [
        "https://github.com/acme", "https://github.com/acme/app", "https://acme.ghe.com/platform", "https://ghe.acme.example/platform/app",
        "https://github.com/enterprises/acme", "https://acme.ghe.com/enterprises/acme", "https://github.com/", "https://github.com/acme/app/tree",
        "https://www.github.com/acme", "https://api.github.com/acme", "http://github.com/acme",
    ];

    it("accepts a URL in the validator exactly when ControlPlane accepts it", () => {
        for (const url of urls) {
            const validated = validateFleetConfig({ ...minimalFleetConfig(), github: { configUrl: url } });
            const configOk = !validated.issues.some((i) => i.path === "github.configUrl");
            const componentOk = !validateControlPlaneArgs("cp", controlPlaneArgs(url) as any).some((p) => p.startsWith("githubConfigUrl:"));
            assert.strictEqual(configOk, componentOk, `${url}: validator ${configOk}, ControlPlane ${componentOk}`);
            const poolArgs = { pool: minimalFleetConfig().pools[0], project: "acme-workers", region: "europe-west1", github: { configUrl: url } };
            const poolOk = !validateRunnerPoolArgs("pool-containers", poolArgs as any).some((p) => p.startsWith("github.configUrl:"));
            assert.strictEqual(configOk, poolOk, `${url}: validator ${configOk}, RunnerPool ${poolOk}`);
            assert.strictEqual(configOk, githubTargetOf(url) !== undefined, url);
        }
    });

    it("maps github.com, GHE.com and GitHub Enterprise Server to their APIs", () => {
        assert.deepStrictEqual(readGithubConfigUrl("https://github.com/acme/app"), { target: { serverUrl: "https://github.com", apiUrl: "https://api.github.com", org: "acme", repository: "acme/app" } });
        assert.deepStrictEqual(readGithubConfigUrl("https://acme.ghe.com/platform"), { target: { serverUrl: "https://acme.ghe.com", apiUrl: "https://api.acme.ghe.com", org: "platform" } });
        assert.deepStrictEqual(readGithubConfigUrl("https://ghe.acme.example/platform"), { target: { serverUrl: "https://ghe.acme.example", apiUrl: "https://ghe.acme.example/api/v3", org: "platform" } });
    });

    it("refuses an enterprise URL in the validator itself, saying why and what to write instead", () => {
        for (const [url, fix] of [["https://github.com/enterprises/acme", /https:\/\/github\.com\/acme/], ["https://acme.ghe.com/enterprises/acme", /https:\/\/acme\.ghe\.com\/acme/]] as const) {
            const issue = validateFleetConfig({ ...minimalFleetConfig(), github: { configUrl: url } }).issues.find((i) => i.path === "github.configUrl");
            assert.ok(issue, url);
            assert.strictEqual(issue.value, url);
            assert.match(issue.message, /names an enterprise; GitHub registers enterprise-level runners only for a personal access token \(classic\)/);
            assert.match(issue.fix, fix);
        }
        const www = validateFleetConfig({ ...minimalFleetConfig(), github: { configUrl: "https://api.github.com/acme" } }).issues.find((i) => i.path === "github.configUrl");
        assert.match(www!.fix, /use https:\/\/github\.com\/acme/);
    });
});
