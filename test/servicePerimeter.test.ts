/**
 * FleetPerimeter (I4, I10): the enclave and worker perimeters on the captured graph: members by number
 * and in one place, the restricted and VPC-accessible services, ingress only for the control plane,
 * egress only for image pulls (and intake reads when the control plane has its own project), dry run
 * versus enforced; the `perimeter` config block; and the fleet wiring.
 */
import * as assert from "assert";
import { ProgramRun, runProgram } from "../plan/engine";
import {
    ENCLAVE_RESTRICTED_SERVICES, FleetPerimeter, FleetPerimeterArgs, WORKER_RESTRICTED_SERVICES, WORKER_VPC_ACCESSIBLE_SERVICES,
} from "../components/servicePerimeter";
import { HardenedBuildFleet } from "../components/fleet";
import { FleetConfigError, formatIssue, rawFleetConfig, validateFleetConfig } from "../components/config";
import { minimalFleetConfig } from "./helpers/minimalFleet";
import { assertIssueLines, assertRefusedInOnePass } from "./helpers/rejection";
import { byType, component, one } from "./helpers/graph";

const T = {
    component: "hardened-build-fleet:index:FleetPerimeter",
    perimeter: "gcp:accesscontextmanager/servicePerimeter:ServicePerimeter",
    memberResource: "gcp:accesscontextmanager/servicePerimeterResource:ServicePerimeterResource",
};
const GET_PROJECT = "gcp:organizations/getProject:getProject";
const CP = "serviceAccount:cp@acme-workers.iam.gserviceaccount.com";
const RUNNER = "serviceAccount:runner-a@acme-workers.iam.gserviceaccount.com";
const NUMBERS = { "acme-signer": "111111111111", "acme-workers": "222222222222", "acme-images": "333333333333", "acme-cp": "444444444444" };
const base: FleetPerimeterArgs = {
    accessPolicy: "accessPolicies/987654321",
    signerProject: "acme-signer",
    workerProject: "acme-workers",
    controlPlaneMembers: [CP],
    runnerMembers: [RUNNER],
    imageProjects: ["acme-images"],
    projectNumbers: NUMBERS,
};

async function build(args: Partial<FleetPerimeterArgs> = {}, name = "fleet-perimeter"): Promise<ProgramRun> {
    return runProgram(() => {
        new FleetPerimeter(name, { ...base, ...args });
    }, { config: { "gcp:project": "acme-workers", "gcp:region": "europe-west1" } });
}

function perimeter(run: ProgramRun, zone: "enclave" | "workers") {
    return one(run, T.perimeter, `fleet-perimeter-${zone}`);
}

describe("FleetPerimeter", function () {
    this.timeout(60000);

    describe("dry run (the default), control plane in the worker project", () => {
        let run: ProgramRun;
        before(async () => {
            run = await build();
        });

        it("creates two regular perimeters under the component, named from it, in the given access policy, with unique titles", () => {
            const c = component(run, T.component, "fleet-perimeter");
            const perimeters = byType(run, T.perimeter).sort((a, b) => a.name.localeCompare(b.name));
            assert.deepStrictEqual(perimeters.map((p) => p.name), ["fleet-perimeter-enclave", "fleet-perimeter-workers"]);
            for (const p of perimeters) {
                assert.strictEqual(p.parent, c.urn);
                assert.strictEqual(p.inputs.parent, "accessPolicies/987654321");
                assert.strictEqual(p.inputs.perimeterType, "PERIMETER_TYPE_REGULAR");
            }
            assert.deepStrictEqual(perimeters.map((p) => p.inputs.name), [
                "accessPolicies/987654321/servicePerimeters/fleet_perimeter_enclave",
                "accessPolicies/987654321/servicePerimeters/fleet_perimeter_workers",
            ]);
            assert.deepStrictEqual(perimeters.map((p) => p.inputs.title), ["fleet-perimeter enclave", "fleet-perimeter workers"]);
        });

        it("sets only the explicit dry-run spec: nothing enforced yet", () => {
            for (const zone of ["enclave", "workers"] as const) {
                const p = perimeter(run, zone);
                assert.strictEqual(p.inputs.useExplicitDryRunSpec, true, zone);
                assert.strictEqual(p.inputs.status, undefined, `${zone}: no enforced status in dry run`);
                assert.ok(p.inputs.spec, `${zone}: dry-run spec`);
            }
        });

        it("puts the signer project (by number) alone in the enclave, restricting KMS, Run, Storage, Secret Manager and logging", () => {
            const spec = perimeter(run, "enclave").inputs.spec;
            assert.deepStrictEqual(spec.resources, ["projects/111111111111"]);
            for (const s of ["cloudkms.googleapis.com", "run.googleapis.com", "storage.googleapis.com", "secretmanager.googleapis.com", "logging.googleapis.com"]) {
                assert.ok(spec.restrictedServices.includes(s), s);
            }
            assert.deepStrictEqual(spec.restrictedServices, [...ENCLAVE_RESTRICTED_SERVICES]);
            assert.deepStrictEqual(spec.vpcAccessibleServices, { enableRestriction: true, allowedServices: ["RESTRICTED-SERVICES"] });
        });

        it("admits only the control plane, from the worker project, to Cloud Run of the signer project; no egress", () => {
            const spec = perimeter(run, "enclave").inputs.spec;
            assert.deepStrictEqual(spec.ingressPolicies, [{
                title: "control plane invokes the signer",
                ingressFrom: { identities: [CP], sources: [{ resource: "projects/222222222222" }] },
                ingressTo: { resources: ["projects/111111111111"], operations: [{ serviceName: "run.googleapis.com", methodSelectors: [{ method: "*" }] }] },
            }]);
            assert.deepStrictEqual(spec.egressPolicies, []);
        });

        it("limits the worker project's networks to restricted storage, images, logs and metrics; egress only to pull images", () => {
            const spec = perimeter(run, "workers").inputs.spec;
            assert.deepStrictEqual(spec.resources, ["projects/222222222222"]);
            assert.deepStrictEqual(spec.restrictedServices, [...WORKER_RESTRICTED_SERVICES]);
            assert.deepStrictEqual(spec.vpcAccessibleServices, { enableRestriction: true, allowedServices: [...WORKER_VPC_ACCESSIBLE_SERVICES] });
            for (const s of spec.vpcAccessibleServices.allowedServices) {
                assert.ok(spec.restrictedServices.includes(s), `${s} reachable from runner networks but not restricted`);
            }
            for (const s of ["cloudkms.googleapis.com", "secretmanager.googleapis.com", "run.googleapis.com"]) {
                assert.ok(!spec.vpcAccessibleServices.allowedServices.includes(s), `${s} must not be callable from runner networks`);
                assert.ok(spec.restrictedServices.includes(s), `${s} restricted around the workers`);
            }
            assert.deepStrictEqual(spec.ingressPolicies, []);
            assert.deepStrictEqual(spec.egressPolicies, [{
                title: "runners pull images",
                egressFrom: { identities: [RUNNER] },
                egressTo: {
                    resources: ["projects/333333333333"],
                    operations: [{ serviceName: "artifactregistry.googleapis.com", methodSelectors: [{ permission: "artifactregistry.repositories.downloadArtifacts" }] }],
                },
            }]);
        });

        it("declares membership in one place only: no ServicePerimeterResource", () => {
            assert.deepStrictEqual(byType(run, T.memberResource), []);
        });
    });

    it("enforced: the same config as status, no dry-run spec", async () => {
        const run = await build({ mode: "enforced" });
        for (const zone of ["enclave", "workers"] as const) {
            const p = perimeter(run, zone);
            assert.strictEqual(p.inputs.useExplicitDryRunSpec, false, zone);
            assert.strictEqual(p.inputs.spec, undefined, zone);
        }
        assert.deepStrictEqual(perimeter(run, "enclave").inputs.status.resources, ["projects/111111111111"]);
        assert.ok(perimeter(run, "enclave").inputs.status.restrictedServices.includes("cloudkms.googleapis.com"));
        assert.ok(run.logs.some((l) => l.severity === "warning" && /enforced while the control plane shares the worker project/.test(l.message)), JSON.stringify(run.logs));
        const separate = await build({ mode: "enforced", controlPlaneProject: "acme-cp" });
        assert.deepStrictEqual(separate.logs.filter((l) => l.severity === "warning"), []);
    });

    it("looks up project numbers it is not given (members are never project ids)", async () => {
        const run = await build({ projectNumbers: {} });
        const asked = run.invokes.filter((i) => i.token === GET_PROJECT).map((i) => i.args.projectId).sort();
        assert.deepStrictEqual(asked, ["acme-images", "acme-signer", "acme-workers"]);
        const spec = perimeter(run, "enclave").inputs.spec;
        assert.match(spec.resources[0], /^projects\/[0-9]+$/);
        assert.notStrictEqual(spec.resources[0], "projects/acme-signer");
        assert.strictEqual(perimeter(run, "workers").inputs.spec.egressPolicies[0].egressTo.resources.length, 1);
    });

    it("with a control-plane project: it joins the enclave; intake reads are the one egress (enclave) and ingress (workers)", async () => {
        const run = await build({ controlPlaneProject: "acme-cp", mode: "enforced" });
        const enclave = perimeter(run, "enclave").inputs.status;
        assert.deepStrictEqual(enclave.resources, ["projects/111111111111", "projects/444444444444"]);
        assert.deepStrictEqual(enclave.ingressPolicies, []);
        const read = { serviceName: "storage.googleapis.com", methodSelectors: [{ permission: "storage.objects.get" }, { permission: "storage.objects.list" }] };
        assert.deepStrictEqual(enclave.egressPolicies, [{
            title: "control plane reads the intake buckets", egressFrom: { identities: [CP] }, egressTo: { resources: ["projects/222222222222"], operations: [read] },
        }]);
        const workers = perimeter(run, "workers").inputs.status;
        assert.deepStrictEqual(workers.ingressPolicies, [{
            title: "control plane reads the intake buckets",
            ingressFrom: { identities: [CP], sources: [{ resource: "projects/444444444444" }] },
            ingressTo: { resources: ["projects/222222222222"], operations: [read] },
        }]);
    });

    it("no image projects: no egress at all from the workers", async () => {
        const run = await build({ imageProjects: [] });
        assert.deepStrictEqual(perimeter(run, "workers").inputs.spec.egressPolicies, []);
    });

    it("rejects bad arguments in one pass and registers nothing", async () => {
        const run = await runProgram(() => {
            new FleetPerimeter("fleet-perimeter", {
                ...base,
                accessPolicy: "my-policy",
                workerProject: "acme-signer",
                controlPlaneMembers: [],
                projectNumbers: { "acme-signer": "acme" },
                enclaveRestrictedServices: ["storage.googleapis.com"],
                workerVpcAccessibleServices: ["storage.googleapis.com", "bigquery.googleapis.com"],
            });
        }, { allowError: true });
        assertRefusedInOnePass(run, [
            'accessPolicy: "my-policy" is not an access policy',
            'signerProject: "acme-signer" equals workerProject',
            "controlPlaneMembers: empty",
            'projectNumbers.acme-signer: "acme" is not a project number',
            'enclaveRestrictedServices: does not include "cloudkms.googleapis.com"',
            'workerVpcAccessibleServices: "bigquery.googleapis.com" is not in workerRestrictedServices',
        ]);
    });
});

describe("config: the perimeter block", () => {
    const raw = minimalFleetConfig;

    it("is optional ({} or absent: no perimeter); accessPolicy by number is normalised; mode defaults to dryRun", () => {
        assert.strictEqual(validateFleetConfig(raw()).config?.perimeter, undefined);
        assert.strictEqual(validateFleetConfig({ ...raw(), perimeter: {} }).config?.perimeter, undefined);
        assert.deepStrictEqual(validateFleetConfig({ ...raw(), perimeter: { accessPolicy: "987654321" } }).config?.perimeter, {
            accessPolicy: "accessPolicies/987654321", mode: "dryRun", imageProjects: [], projectNumbers: {},
        });
    });

    it("reports every bad field with its value and fix, at once", () => {
        const result = validateFleetConfig({
            ...raw(),
            perimeter: { accessPolicy: "org-policy", mode: "enforce", imageProjects: ["Images!"], projectNumbers: { "acme-signer": "12ab" }, dryrun: true },
        });
        assertIssueLines(result.issues, [
            /^hardened-build-fleet:perimeter\.accessPolicy = "org-policy": is not an access policy name .*Fix: use the existing organization access policy/,
            /^hardened-build-fleet:perimeter\.mode = "enforce": is not a perimeter mode\. Fix: did you mean `enforced`\?/,
            /^hardened-build-fleet:perimeter\.imageProjects\[0\] = "Images!": is not a GCP project id/,
            /^hardened-build-fleet:perimeter\.projectNumbers\.acme-signer = "12ab": is not a project number .*Fix: write the number as a string/,
            /^hardened-build-fleet:perimeter\.dryrun = true: unknown key/,
        ]);
        assert.strictEqual(result.config, undefined);
    });

    it("refuses a perimeter when the signer shares the worker project", () => {
        const result = validateFleetConfig({ ...raw(), signerProject: "acme-workers", allowSharedSignerProject: true, perimeter: { accessPolicy: "1" } });
        assert.deepStrictEqual(result.issues.map((i) => i.path), ["perimeter"]);
        assert.match(formatIssue(result.issues[0]), /a project can be in only one regular perimeter.*Fix: give the signer its own signerProject/);
    });

    it("the fleet builds the perimeter from the block, with the control plane as the only ingress identity and every runner for image pulls", async () => {
        const run = await runProgram(() => {
            new HardenedBuildFleet("fleet", { config: rawFleetConfig({ ...raw(), perimeter: { accessPolicy: "987654321", mode: "enforced", imageProjects: ["acme-images"], projectNumbers: NUMBERS } }) });
        }, { config: { "gcp:project": "acme-workers" } });
        const enclave = one(run, T.perimeter, "fleet-perimeter-enclave").inputs.status;
        const cp = one(run, "gcp:serviceaccount/account:Account", "fleet-control-plane-sa");
        assert.deepStrictEqual(enclave.ingressPolicies[0].ingressFrom.identities, [`serviceAccount:${cp.outputs.email}`]);
        const runnerSa = byType(run, "gcp:serviceaccount/account:Account").filter((a) => a.name.startsWith("fleet-pool-"));
        assert.strictEqual(runnerSa.length, 1);
        assert.deepStrictEqual(one(run, T.perimeter, "fleet-perimeter-workers").inputs.status.egressPolicies[0].egressFrom.identities, [`serviceAccount:${runnerSa[0].outputs.email}`]);
    });

    it("a bad block stops the whole fleet before anything is registered", async () => {
        const run = await runProgram(() => {
            new HardenedBuildFleet("fleet", { config: rawFleetConfig({ ...raw(), perimeter: { accessPolicy: "nope" } }) });
        }, { allowError: true });
        assert.ok(run.error instanceof FleetConfigError, String(run.error));
        assert.deepStrictEqual(run.resources.map((r) => r.type), ["pulumi:pulumi:Stack"]);
    });
});
