/**
 * The release registry (I11): registry-write-publishing-identity-only (stack) and
 * release-registry-immutable-tags (resource), each with passing and violating cases in normal and
 * preview mode, checked by exact policy name and URN.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { assertFired, check } from "../../helpers/resourcePolicy";
import { evaluateFleet, findings, FleetHandles, REGION, WORKER_PROJECT } from "../../helpers/stackPolicy";

const P = "registry-write-publishing-identity-only";
const CONTROL = { "build-fleet-role": "control-plane" };
const PINNED = "europe-docker.pkg.dev/cp-proj/images/services@sha256:" + "b".repeat(64);

/** The generator (a control-plane Cloud Run service running as the control-plane SA) and its release registry. */
function releaseRegistry(f: FleetHandles, writers: (f: FleetHandles) => pulumi.Input<string>[] = (x) => [x.controlPlaneSa.member]) {
    new gcp.cloudrunv2.Service("cp-generator", {
        project: WORKER_PROJECT, location: REGION, name: "cp-generator", labels: CONTROL, ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY", deletionProtection: false,
        template: { serviceAccount: f.controlPlaneSa.email, labels: CONTROL, containers: [{ image: PINNED, envs: [{ name: "SERVICE", value: "generator" }] }] },
    });
    const repo = new gcp.artifactregistry.Repository("releases", {
        project: WORKER_PROJECT, location: REGION, repositoryId: "releases", format: "DOCKER", dockerConfig: { immutableTags: true }, labels: CONTROL,
    });
    new gcp.artifactregistry.RepositoryIamBinding("releases-writers", { project: WORKER_PROJECT, location: REGION, repository: repo.name, role: "roles/artifactregistry.writer", members: writers(f) });
    return repo;
}

const violationsOf = (ev: Awaited<ReturnType<typeof evaluateFleet>>) => ev.violations.filter((v) => v.policy === P);

describe("stack rule registry-write-publishing-identity-only (I11)", function () {
    this.timeout(120_000);

    for (const preview of [false, true]) {
        const mode = preview ? "preview" : "normal";
        it(`lets the publishing identity (the control-plane service's SA) write the release registry (${mode})`, async () => {
            const ev = await evaluateFleet((f) => void releaseRegistry(f), { preview });
            assert.deepStrictEqual(violationsOf(ev), [], findings(ev));
        });

        it(`flags a runner identity as a writer of the release registry (${mode})`, async () => {
            const ev = await evaluateFleet((f) => void releaseRegistry(f, (x) => [x.controlPlaneSa.member, Object.values(x.pools)[0].sa.member]), { preview });
            const v = violationsOf(ev);
            assert.ok(v.length >= 1, findings(ev));
            assert.ok(v.every((x) => x.urn?.endsWith("::releases-writers")), findings(ev));
            assert.ok(v.some((x) => /runner.* via roles\/artifactregistry\.writer .* (can|may let it) write release registry releases; runner identities may only read images/.test(x.message)), findings(ev));
            assert.ok(v.every((x) => x.enforcementLevel === "mandatory"));
        });

        it(`flags a writer that is not the control plane's publishing identity (${mode})`, async () => {
            const ev = await evaluateFleet((f) => void releaseRegistry(f, (x) => [x.controlPlaneSa.member, "user:release-manager@acme.example"]), { preview });
            const v = violationsOf(ev);
            assert.strictEqual(v.length, 1, findings(ev));
            assert.ok(v[0].urn?.endsWith("::releases-writers"));
            assert.match(v[0].message, /user:release-manager@acme\.example via roles\/artifactregistry\.writer .* release registry releases; only the control plane's publishing identity may write it/);
        });
    }

    it("flags a runner with write on any repository, or over the project", async () => {
        const ev = await evaluateFleet((f) => {
            const other = new gcp.artifactregistry.Repository("scratch", { project: WORKER_PROJECT, location: REGION, repositoryId: "scratch", format: "DOCKER" });
            new gcp.artifactregistry.RepositoryIamMember("scratch-runner-writer", { project: WORKER_PROJECT, location: REGION, repository: other.name, role: "roles/artifactregistry.writer", member: Object.values(f.pools)[0].sa.member });
            new gcp.projects.IAMMember("runner-project-repo-admin", { project: WORKER_PROJECT, role: "roles/artifactregistry.repoAdmin", member: Object.values(f.pools)[0].sa.member });
        });
        const v = violationsOf(ev);
        for (const res of ["scratch-runner-writer", "runner-project-repo-admin"]) {
            assert.ok(v.some((x) => x.urn?.endsWith(`::${res}`) && /can write Artifact Registry repositories; runner identities may only read images/.test(x.message)), `${res}:\n${findings(ev)}`);
        }
    });

    it("lets a runner read images (artifactregistry.reader is not a write)", async () => {
        const ev = await evaluateFleet((f) => {
            const repo = releaseRegistry(f);
            new gcp.artifactregistry.RepositoryIamMember("releases-runner-reader", { project: WORKER_PROJECT, location: REGION, repository: repo.name, role: "roles/artifactregistry.reader", member: Object.values(f.pools)[0].sa.member });
        });
        assert.deepStrictEqual(violationsOf(ev), [], findings(ev));
    });
});

describe("resource rule release-registry-immutable-tags (I11)", () => {
    const repo = (name: string, extra: Partial<gcp.artifactregistry.RepositoryArgs>) =>
        new gcp.artifactregistry.Repository(name, { location: REGION, repositoryId: name, format: "DOCKER", labels: CONTROL, ...extra });

    for (const preview of [false, true]) {
        const mode = preview ? "preview" : "normal";
        it(`passes a control-plane Docker repository with immutable tags, flags one without (${mode})`, async () => {
            const c = await check(() => {
                repo("good", { dockerConfig: { immutableTags: true } });
                repo("mutable", { dockerConfig: { immutableTags: false } });
                repo("unset", {});
                // Not the release registry: a runner image repository, and a non-Docker repository.
                repo("runner-images", { labels: { "build-fleet-role": "runner" } });
                repo("npm", { format: "NPM" });
            }, { preview });
            assertFired(c, "good", []);
            assertFired(c, "mutable", ["release-registry-immutable-tags"]);
            assertFired(c, "unset", ["release-registry-immutable-tags"]);
            assertFired(c, "runner-images", []);
            assertFired(c, "npm", []);
            const [v] = c.on("mutable");
            assert.strictEqual(v.urn, c.run.resources.find((r) => r.name === "mutable")!.urn);
            assert.match(v.message, /control-plane registry repository "mutable" does not set dockerConfig\.immutableTags: true/);
        });
    }
});
