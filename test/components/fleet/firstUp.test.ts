/**
 * What a first `pulumi up` on fresh projects needs, checked on the plan's graph (plan/checks/firstUp.ts):
 * APIs before everything, the image reader grant before the signer service, the Workload Identity member
 * after its cluster, the GKE cluster after its network's allow rules. Each check is shown to fire on a
 * variant without the ordering, so a green result means the ordering is there.
 */
import * as assert from "assert";
import * as path from "path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { HardenedBuildFleet } from "../../../components/fleet";
import { rawFleetConfig } from "../../../components/config";
import { ProjectApis, apiForType } from "../../../components/projectApis";
import { fleetApis } from "../../../components/fleet/apis";
import { parseFleetConfig } from "../../../components/config";
import { ProgramRun, runProgram } from "../../../plan/engine";
import {
    apiOrderProblems, clusterNetworkOrderProblems, firstUpProblems, generatorRouteProblems, imageGrantOrderProblems, workloadIdentityOrderProblems,
} from "../../../plan/checks/firstUp";
import { REPO_ROOT } from "../../helpers/paths";
import { minimalFleetConfig } from "../../helpers/minimalFleet";
import { one } from "../../helpers/graph";

const EXAMPLE = path.join(REPO_ROOT, "Pulumi.example.yaml");
const PROGRAM = path.join(REPO_ROOT, "index.ts");

/** A run with the given transformation applied to every resource of the fleet (to remove one ordering). */
async function fleetWith(config: Record<string, any>, transformation?: pulumi.ResourceTransformation): Promise<ProgramRun> {
    return runProgram(() => {
        new HardenedBuildFleet("fleet", { config: rawFleetConfig(config) }, transformation ? { transformations: [transformation] } : undefined);
    }, { config: { "gcp:project": "acme-workers" } });
}

/** Drops `dependsOn` from resources matching `match`: the variant without the ordering under test. */
function withoutDependsOn(match: (type: string, name: string) => boolean): pulumi.ResourceTransformation {
    return ({ type, name, props, opts }) => (match(type, name) ? { props, opts: { ...opts, dependsOn: [] } } : undefined);
}

describe("first pulumi up on fresh projects: plan-graph checks", function () {
    this.timeout(180000);
    let up: ProgramRun;
    let preview: ProgramRun;
    before(async () => {
        up = await runProgram(PROGRAM, { configFile: EXAMPLE });
        preview = await runProgram(PROGRAM, { configFile: EXAMPLE, preview: true });
    });

    it("the example fleet has no first-up problem, in up and in preview; its generator's route waits only for the perimeter's enforcement", () => {
        for (const run of [up, preview]) {
            assert.deepStrictEqual(firstUpProblems(run), { apis: [], imageGrants: [], workloadIdentity: [], clusterNetwork: [], generatorRoute: [] });
            // The example's perimeter starts in dry run (docs/deploy.md): the route is there, internal once it is enforced.
            assert.deepStrictEqual(generatorRouteProblems(run).pending, [
                "fleet-control-plane-generator reaches fleet-signer-signer (project acme-build-signer) from acme-build-control once perimeter fleet-perimeter-enclave is enforced",
            ]);
        }
    });

    it("enables every API its resources need, per project, never disabling one on destroy", () => {
        const services = up.resources.filter((r) => r.type === "gcp:projects/service:Service");
        assert.ok(services.length > 0);
        for (const s of services) {
            assert.strictEqual(s.inputs.disableOnDestroy, false, s.name);
            assert.strictEqual(s.inputs.disableDependentServices, false, s.name);
        }
        const enabled = new Set(services.map((s) => `${s.inputs.project} ${s.inputs.service}`));
        for (const r of up.resources.filter((x) => x.custom && apiForType(x.type) !== undefined && typeof x.inputs.project === "string")) {
            assert.ok(enabled.has(`${r.inputs.project} ${apiForType(r.type)}`), `${r.name}: ${apiForType(r.type)} not enabled in ${r.inputs.project}`);
        }
        // The Cloud Run service agent named in the image reader grant exists once the signer project's Run API is on.
        const reader = up.resources.find((r) => r.type === "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")!;
        const signerRun = services.find((s) => s.inputs.project === "acme-build-signer" && s.inputs.service === "run.googleapis.com")!;
        assert.ok(reader.dependencies.includes(signerRun.urn));
    });

    it("the API check fires when a resource does not wait for its API", async () => {
        const run = await fleetWith(minimalFleetConfig(), withoutDependsOn((type, name) => type === "gcp:kms/keyRing:KeyRing" && name === "fleet-signer-ring"));
        assert.deepStrictEqual(apiOrderProblems(run).filter((p) => p.startsWith("fleet-signer-ring ")), [
            "fleet-signer-ring (gcp:kms/keyRing:KeyRing) does not wait for cloudkms.googleapis.com in acme-signer",
        ]);
    });

    it("enableApis: false creates no projects.Service and the API check has nothing to hold the plan to", async () => {
        const run = await fleetWith({ ...minimalFleetConfig(), enableApis: false });
        assert.strictEqual(run.resources.filter((r) => r.type === "gcp:projects/service:Service").length, 0);
        assert.deepStrictEqual(apiOrderProblems(run), []);
        assert.ok(run.resources.some((r) => r.type === "gcp:kms/keyRing:KeyRing"));
    });

    it("lists the APIs per project: GKE only with a GKE pool, orgpolicy only with guardrails", () => {
        const base = minimalFleetConfig();
        const gke = fleetApis(parseFleetConfig(base));
        assert.ok(gke["acme-workers"].includes("container.googleapis.com"));
        assert.ok(gke["acme-workers"].includes("orgpolicy.googleapis.com"));
        assert.deepStrictEqual(Object.keys(gke).sort(), ["acme-signer", "acme-workers"]);
        const gce = fleetApis(parseFleetConfig({
            ...base, guardrails: { enabled: false },
            pools: [{ name: "linux", backend: "gce", cidr: "10.10.0.0/24", image: "projects/acme-images/global/images/family/runner", egressAllowList: { fqdns: ["github.com"] } }],
        }));
        assert.ok(!gce["acme-workers"].includes("container.googleapis.com"));
        assert.ok(!Object.values(gce).flat().includes("orgpolicy.googleapis.com"));
    });

    it("the signer service waits for the image reader grant; the check fires without it", async () => {
        const cfg = { ...minimalFleetConfig(), controlPlane: { ...minimalFleetConfig().controlPlane, project: "acme-control" } };
        const ok = await fleetWith(cfg);
        assert.deepStrictEqual(imageGrantOrderProblems(ok), []);
        const svc = ok.resources.find((r) => r.type === "gcp:cloudrunv2/service:Service" && r.name === "fleet-signer-signer")!;
        const grant = ok.resources.find((r) => r.type === "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")!;
        assert.ok(svc.dependencies.includes(grant.urn));
        const bad = await fleetWith(cfg, withoutDependsOn((type, name) => type === "gcp:cloudrunv2/service:Service" && name === "fleet-signer-signer"));
        assert.deepStrictEqual(imageGrantOrderProblems(bad), ["fleet-signer-signer can start before fleet-images-reader-0 lets its Cloud Run service agent pull the image"]);
    });

    it("the Workload Identity member waits for its cluster; the check fires without it", async () => {
        const ok = await fleetWith(minimalFleetConfig());
        assert.deepStrictEqual(workloadIdentityOrderProblems(ok), []);
        const bad = await fleetWith(minimalFleetConfig(), withoutDependsOn((type) => type === "gcp:serviceaccount/iAMMember:IAMMember"));
        assert.deepStrictEqual(workloadIdentityOrderProblems(bad).map((p) => p.split(" names ")[0]), ["fleet-pool-containers-wi"]);
    });

    it("the GKE cluster waits for its network's allow rules, routes and DNS zones; the check fires without them", async () => {
        const ok = await fleetWith(minimalFleetConfig());
        assert.deepStrictEqual(clusterNetworkOrderProblems(ok), []);
        const bad = await fleetWith(minimalFleetConfig(), withoutDependsOn((type) => type === "gcp:container/cluster:Cluster"));
        const found = clusterNetworkOrderProblems(bad);
        for (const r of ["fleet-pool-containers-net-allow-vip", "fleet-pool-containers-net-vip-route", "fleet-pool-containers-net-googleapis", "fleet-pool-containers-gke-control-plane"]) {
            assert.ok(found.some((p) => p.includes(` ${r} (`)), `${r} not reported:\n${found.join("\n")}`);
        }
    });

    it("ProjectApis refuses a bad project id or API name, naming both", () => {
        assert.throws(() => new ProjectApis("apis", { projects: { "Bad_Project": ["run"] } }), /projects: key "Bad_Project" is not a project id[\s\S]*projects\.Bad_Project\[0\]: "run" is not a Google API service name/);
    });

    it("maps the fleet's resource types to their APIs", () => {
        assert.strictEqual(apiForType("gcp:kms/cryptoKey:CryptoKey"), "cloudkms.googleapis.com");
        assert.strictEqual(apiForType("gcp:projects/iAMCustomRole:IAMCustomRole"), "iam.googleapis.com");
        assert.strictEqual(apiForType("gcp:projects/iAMMember:IAMMember"), "cloudresourcemanager.googleapis.com");
        assert.strictEqual(apiForType("kubernetes:core/v1:Namespace"), undefined);
        void gcp;
    });
});

describe("first pulumi up: the generator's route to the internal-only signer", function () {
    this.timeout(180000);

    /** Drops the generator's Direct VPC egress: the variant without a route. */
    const noGeneratorVpc: pulumi.ResourceTransformation = ({ type, name, props, opts }) => (
        type === "gcp:cloudrunv2/service:Service" && name.endsWith("-generator")
            ? { props: { ...props, template: { ...props.template, vpcAccess: undefined } }, opts }
            : undefined);
    const separate = () => ({ ...minimalFleetConfig(), controlPlane: { ...minimalFleetConfig().controlPlane, project: "acme-control" } });

    it("the control plane in the signer project egresses into the enclave network: internal from the first up", async () => {
        assert.deepStrictEqual(generatorRouteProblems(await fleetWith(minimalFleetConfig())), { problems: [], pending: [] });
    });

    it("reports a generator without Direct VPC egress", async () => {
        assert.deepStrictEqual(generatorRouteProblems(await fleetWith(minimalFleetConfig(), noGeneratorVpc)).problems, [
            "fleet-control-plane-generator has no Direct VPC egress (all traffic) into a network, so fleet-signer-signer (internal ingress) refuses its calls",
        ]);
    });

    const enforced = () => ({ ...separate(), perimeter: { accessPolicy: "accessPolicies/123456789012", mode: "enforced" } });

    it("a control plane in a project of its own egresses into its own network, internal once one enforced perimeter holds both projects", async () => {
        const run = await fleetWith(enforced());
        assert.deepStrictEqual(generatorRouteProblems(run), { problems: [], pending: [] });
        const net = one(run, "gcp:compute/network:Network", "fleet-control-plane-net");
        assert.strictEqual(net.inputs.project, "acme-control");
        const generator = one(run, "gcp:cloudrunv2/service:Service", "fleet-control-plane-generator");
        assert.deepStrictEqual(generator.inputs.template.vpcAccess.egress, "ALL_TRAFFIC");
        assert.ok(generator.propertyDependencies.template.includes(net.urn), "the generator egresses into the control plane's network");
    });

    it("reports the variants without the route: no Direct VPC egress, or no perimeter around both projects", async () => {
        assert.deepStrictEqual(generatorRouteProblems(await fleetWith(enforced(), noGeneratorVpc)).problems, [
            "fleet-control-plane-generator has no Direct VPC egress (all traffic) into a network, so fleet-signer-signer (internal ingress) refuses its calls",
        ]);
        assert.deepStrictEqual(generatorRouteProblems(await fleetWith(separate())).problems, [
            "fleet-control-plane-generator egresses in acme-control, fleet-signer-signer is in acme-signer, and no perimeter restricting Cloud Run contains both: every signing call is refused",
        ]);
    });

    it("reports a control-plane network whose run.app name does not resolve to the restricted VIP", async () => {
        const noRunZone: pulumi.ResourceTransformation = ({ type, name, props, opts }) => (
            type === "gcp:dns/managedZone:ManagedZone" && name.startsWith("fleet-control-plane-net") && props.dnsName === "run.app."
                ? { props: { ...props, dnsName: "example.invalid." }, opts }
                : undefined);
        assert.deepStrictEqual(generatorRouteProblems(await fleetWith(enforced(), noRunZone)).problems, [
            "fleet-control-plane-generator's network fleet-control-plane-net lacks a private run.app zone, so its calls to fleet-signer-signer do not reach it as internal traffic",
        ]);
    });
});
