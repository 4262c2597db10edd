import * as assert from "assert";
import { validateFleetConfig } from "../../../components/config";
import { validateControlPlaneArgs } from "../../../components/controlPlane";
import { labelSetProblems, placeJob, runnerLabels, runsOnFor } from "../../../services/controlPlane/runsOn";
import { minimalFleetConfig } from "../../helpers/minimalFleet";

function gcePool(name: string, cidr: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { name, backend: "gce", cidr, image: "projects/acme-images/global/images/family/runner", ...extra };
}

function fleet(...pools: Record<string, unknown>[]): Record<string, any> {
    return { ...minimalFleetConfig(), pools };
}

describe("runs-on rule (services/controlPlane/runsOn.ts)", () => {
    const pools = [
        { name: "release", labels: runnerLabels("release") },
        { name: "gpu", labels: runnerLabels("gpu", ["cuda"]) },
    ];

    it("gives every runner GitHub's defaults, its pool label and the extra labels, once each", () => {
        assert.deepStrictEqual(runnerLabels("release"), ["self-hosted", "linux", "x64", "release"]);
        assert.deepStrictEqual(runnerLabels("arm", ["Linux", "big"], "t2a-standard-4"), ["self-hosted", "linux", "arm64", "arm", "big"]);
        assert.deepStrictEqual(runsOnFor("release"), ["self-hosted", "release"]);
    });

    it("places a job on the one pool it names when that pool's runners carry all its labels", () => {
        assert.deepStrictEqual(placeJob(pools, ["self-hosted", "release"]), { kind: "pool", pool: "release" });
        assert.deepStrictEqual(placeJob(pools, ["GPU", "cuda", "X64"]), { kind: "pool", pool: "gpu" });
        assert.deepStrictEqual(placeJob(pools, ["self-hosted", "linux"]), { kind: "unnamed", pools: ["release", "gpu"] });
        assert.deepStrictEqual(placeJob(pools, ["cuda"]), { kind: "unnamed", pools: ["gpu"] }, "fits only gpu's runners, yet names no pool");
        assert.deepStrictEqual(placeJob(pools, ["release", "cuda"]), { kind: "unrunnable", pools: ["release"], missing: ["cuda"] });
        assert.deepStrictEqual(placeJob(pools, ["release", "gpu"]), { kind: "unrunnable", pools: ["release", "gpu"], missing: ["gpu"] });
        assert.deepStrictEqual(placeJob(pools, ["ubuntu-latest"]), { kind: "foreign" });
    });

    it("reports nesting label sets, foreign pool labels and a missing pool label", () => {
        assert.deepStrictEqual(labelSetProblems(pools), []);
        const nested = labelSetProblems([{ name: "a", labels: ["self-hosted", "a"] }, { name: "b", labels: ["self-hosted", "a", "b"] }]);
        assert.ok(nested.some(([i, m]) => i === 1 && /carries "a", the pool label of pool "a"/.test(m)), JSON.stringify(nested));
        assert.ok(nested.some(([i, m]) => i === 0 && /label set nests with that of pool "b" \("a" within "b"\)/.test(m)), JSON.stringify(nested));
        const missing = labelSetProblems([{ name: "a", labels: ["self-hosted"] }]);
        assert.match(missing[0][1], /lacks its pool label "a"/);
    });
});

describe("fleet config: typed runner labels and groups per pool", () => {
    it("normalises labels and runner groups, gce by id and gke by name", () => {
        const result = validateFleetConfig(fleet(
            gcePool("release", "10.10.0.0/24", { labels: ["signed-builds"], runnerGroupId: 4 }),
            { name: "containers", backend: "gke", cidr: "10.12.0.0/22", image: "ghcr.io/actions/actions-runner:2.321.0", runnerGroupName: "release builders" },
        ));
        assert.deepStrictEqual(result.issues, []);
        const [release, containers] = result.config!.pools;
        assert.deepStrictEqual(release.labels, ["self-hosted", "linux", "x64", "release", "signed-builds"]);
        assert.strictEqual(release.runnerGroupId, 4);
        assert.deepStrictEqual(containers.labels, ["containers"]);
        assert.strictEqual(containers.runnerGroupName, "release builders");
    });

    it("refuses a pool carrying another pool's name, so the two label sets would nest", () => {
        const result = validateFleetConfig(fleet(gcePool("release", "10.10.0.0/24"), gcePool("fast", "10.11.0.0/24", { labels: ["release"] })));
        const issue = result.issues.find((i) => i.path === "pools[1].labels");
        assert.ok(issue, JSON.stringify(result.issues));
        assert.match(issue.message, /carries "release", the pool label of pool "release", so jobs asking for "release" could run here/);
        assert.deepStrictEqual(issue.value, ["self-hosted", "linux", "x64", "fast", "release"]);
        assert.match(issue.fix, /keep each pool's name out of every other pool's labels/);
        // A gke pool's scale-set name counts too.
        const withGke = validateFleetConfig(fleet(gcePool("release", "10.10.0.0/24", { labels: ["containers"] }),
            { name: "containers", backend: "gke", cidr: "10.12.0.0/22", image: "ghcr.io/actions/actions-runner:2.321.0" }));
        assert.ok(withGke.issues.some((i) => i.path === "pools[0].labels" && /pool label of pool "containers"/.test(i.message)), JSON.stringify(withGke.issues));
    });

    it("names every bad label, runner group and pool name in one pass", () => {
        const result = validateFleetConfig(fleet(
            gcePool("release", "10.10.0.0/24", { labels: ["ok", "has space", "release"], runnerGroupId: "3" }),
            { name: "containers", backend: "gke", cidr: "10.12.0.0/22", image: "ghcr.io/actions/actions-runner:2.321.0", labels: ["x"], runnerGroupId: 2, runnerGroupName: "/bad" },
            gcePool("self-hosted", "10.13.0.0/24"),
        ));
        const at = (path: string) => result.issues.find((i) => i.path === path);
        assert.match(at("pools[0].labels[1]")!.message, /is not a runner label/);
        assert.match(at("pools[0].labels[2]")!.message, /the pool's own name/);
        assert.match(at("pools[0].runnerGroupId")!.fix, /runnerGroupId: 3/);
        assert.match(at("pools[1].labels")!.message, /applies only to gce pools/);
        assert.match(at("pools[1].runnerGroupId")!.message, /applies only to gce pools/);
        assert.match(at("pools[1].runnerGroupName")!.message, /is not a runner group name/);
        assert.match(at("pools[2].name")!.message, /label of every self-hosted runner/);
        assert.strictEqual(result.config, undefined);
    });

    it("warns about a pool named like a GitHub default label", () => {
        const result = validateFleetConfig(fleet(gcePool("linux", "10.10.0.0/24")));
        assert.deepStrictEqual(result.issues, []);
        assert.ok(result.warnings.some((w) => /pools\[0\]\.name = "linux": is also a label GitHub gives runners by default/.test(w)), result.warnings.join("\n"));
    });
});

describe("ControlPlane: the same label rule for direct callers", () => {
    const args = (pools: Record<string, unknown>[]) => ({
        project: "acme-control", workerProject: "acme-workers", region: "europe-west1",
        pools: pools.map((p) => ({ runnerMember: "serviceAccount:r@acme-workers.iam.gserviceaccount.com", instanceGroupManager: "mig", image: "img", maxRunDurationSeconds: 3600, ...p })),
        image: `europe-docker.pkg.dev/acme/fleet/services@sha256:${"a".repeat(64)}`, signerUrl: "https://signer.example.run.app",
        builderId: "https://github.com/acme/hardened-build-fleet/fleet", githubConfigUrl: "https://github.com/acme",
        githubApp: { appId: 1, installationId: 2, privateKeySecret: "projects/acme-control/secrets/app-key" },
        webhookSecret: "projects/acme-control/secrets/hook",
    }) as any;

    it("accepts the default label sets and refuses nesting ones and bad runner groups", () => {
        assert.deepStrictEqual(validateControlPlaneArgs("cp", args([{ name: "a" }, { name: "b" }])), []);
        const problems = validateControlPlaneArgs("cp", args([
            { name: "a", labels: ["self-hosted", "a"] }, { name: "b", labels: ["self-hosted", "a", "b"], runnerGroupId: 0 },
        ]));
        assert.ok(problems.some((p) => /^pools\[1\]\.labels: carries "a", the pool label of pool "a"/.test(p)), problems.join("\n"));
        assert.ok(problems.some((p) => /^pools\[0\]\.labels: label set nests with that of pool "b"/.test(p)), problems.join("\n"));
        assert.ok(problems.some((p) => /^pools\[1\]\.runnerGroupId: 0 must be a positive integer/.test(p)), problems.join("\n"));
    });
});
