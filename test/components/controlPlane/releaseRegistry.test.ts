/**
 * ControlPlane's release registry: an immutable-tag Artifact Registry repository that only the
 * generator (the publishing identity) writes, named to the generator through RELEASE_REGISTRY; both
 * registry policies pass on it and fire on the variants they guard against.
 */
import * as assert from "assert";
import { ControlPlane, ControlPlaneArgs } from "../../../components/controlPlane";
import { RELEASE_WRITER_ROLE } from "../../../components/controlPlane/releaseRegistry";
import { evaluatePolicies, runProgram } from "../../../plan/engine";
import { policies } from "../../../policies/rules";
import { loadGeneratorConfig } from "../../../services/controlPlane/generator/config";
import { byType, one } from "../../helpers/graph";

const args = (extra: Partial<ControlPlaneArgs> = {}): ControlPlaneArgs => ({
    project: "cp-proj",
    workerProject: "worker-proj",
    region: "europe-west1",
    pools: [{ name: "pool-a", runnerMember: "serviceAccount:pool-a-rn@worker-proj.iam.gserviceaccount.com", instanceGroupManager: "pool-a-mig", image: "projects/img/global/images/runner", maxRunDurationSeconds: 3600 }],
    image: `europe-west1-docker.pkg.dev/cp-proj/fleet/services@sha256:${"c".repeat(64)}`,
    signerUrl: "https://fleet-signer-123.europe-west1.run.app",
    builderId: "https://github.com/acme/hardened-build-fleet/test",
    githubConfigUrl: "https://github.com/acme",
    githubApp: { appId: 42, installationId: 4242, privateKeySecret: "projects/cp-proj/secrets/github-app-key" },
    webhookSecret: "projects/cp-proj/secrets/github-webhook-secret",
    ...extra,
});
const REGISTRY_POLICIES = ["registry-write-publishing-identity-only", "release-registry-immutable-tags"];

describe("ControlPlane release registry", function () {
    this.timeout(60_000);

    it("creates nothing without releaseRegistry: image uploads stay refused", async () => {
        const run = await runProgram(() => void new ControlPlane("fleet-cp", args()));
        assert.deepStrictEqual(byType(run, "gcp:artifactregistry/repository:Repository"), []);
        const generator = byType(run, "gcp:cloudrunv2/service:Service").find((s) => s.inputs.name === "fleet-cp-generator")!;
        assert.ok(!(generator.inputs.template.containers[0].envs as { name: string }[]).some((e) => e.name === "RELEASE_REGISTRY"));
    });

    it("with releaseRegistry: immutable tags, the generator as the only writer, RELEASE_REGISTRY in its environment; the pack passes", async () => {
        const run = await runProgram(() => void new ControlPlane("fleet-cp", args({ releaseRegistry: true })));
        assert.strictEqual(run.error, undefined, String(run.error));
        const repo = one(run, "gcp:artifactregistry/repository:Repository", "fleet-cp-releases");
        assert.strictEqual(repo.inputs.format, "DOCKER");
        assert.deepStrictEqual(repo.inputs.dockerConfig, { immutableTags: true });
        assert.strictEqual(repo.inputs.labels["build-fleet-role"], "control-plane");
        const writers = one(run, "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding", "fleet-cp-releases-writers");
        const generatorEmail = one(run, "gcp:serviceaccount/account:Account", "fleet-cp-sa").outputs.email;
        assert.strictEqual(writers.inputs.role, RELEASE_WRITER_ROLE);
        assert.deepStrictEqual(writers.inputs.members, [`serviceAccount:${generatorEmail}`]);
        const generator = byType(run, "gcp:cloudrunv2/service:Service").find((s) => s.inputs.name === "fleet-cp-generator")!;
        const env = Object.fromEntries((generator.inputs.template.containers[0].envs as { name: string; value: string }[]).map((e) => [e.name, e.value]));
        assert.strictEqual(env.RELEASE_REGISTRY, "europe-west1-docker.pkg.dev/cp-proj/fleet-cp-releases");
        assert.strictEqual(loadGeneratorConfig(env).releaseRegistry, "europe-west1-docker.pkg.dev/cp-proj/fleet-cp-releases");
        const pack = policies.filter((p) => REGISTRY_POLICIES.includes(p.name));
        assert.strictEqual(pack.length, 2);
        const ev = await evaluatePolicies(run, pack);
        assert.deepStrictEqual(ev.violations, []);
    });
});
