/**
 * FleetPerimeter (I4, I10, I11): the enclave (signer + control-plane project) and worker perimeters on the
 * captured graph: members by number and in one place, the restricted and VPC-accessible services, and
 * exactly the crossings the control plane's topology needs (runner uploads as the broker, the broker's MIG
 * reads, the webhook receiver's demand metric and scale-in, run.app invocations, image pulls); dry run
 * versus enforced; the `perimeter` config block; and the fleet wiring.
 */
import * as assert from "assert";
import { ProgramRun, runProgram } from "../../../plan/engine";
import {
    ENCLAVE_RESTRICTED_SERVICES, FleetPerimeter, FleetPerimeterArgs, WORKER_RESTRICTED_SERVICES, WORKER_VPC_ACCESSIBLE_SERVICES,
} from "../../../components/fleetPerimeter";
import { HardenedBuildFleet } from "../../../components/fleet";
import { FleetConfigError, formatIssue, rawFleetConfig, validateFleetConfig } from "../../../components/config";
import { minimalFleetConfig } from "../../helpers/minimalFleet";
import { assertIssueLines, assertRefusedInOnePass } from "../../helpers/rejection";
import { byType, component, one } from "../../helpers/graph";

const T = {
    component: "hardened-build-fleet:index:FleetPerimeter",
    perimeter: "gcp:accesscontextmanager/servicePerimeter:ServicePerimeter",
    memberResource: "gcp:accesscontextmanager/servicePerimeterResource:ServicePerimeterResource",
};
const GET_PROJECT = "gcp:organizations/getProject:getProject";
const BROKER = "serviceAccount:fleet-brk@acme-cp.iam.gserviceaccount.com";
const WEBHOOK = "serviceAccount:fleet-whk@acme-cp.iam.gserviceaccount.com";
const RUNNER = "serviceAccount:runner-a@acme-workers.iam.gserviceaccount.com";
const NUMBERS = { "acme-signer": "111111111111", "acme-workers": "222222222222", "acme-images": "333333333333", "acme-cp": "444444444444" };
const P = { signer: "projects/111111111111", workers: "projects/222222222222", images: "projects/333333333333", cp: "projects/444444444444" };
const base: FleetPerimeterArgs = {
    accessPolicy: "accessPolicies/987654321",
    signerProject: "acme-signer",
    workerProject: "acme-workers",
    controlPlaneProject: "acme-cp",
    brokerMember: BROKER,
    webhookMember: WEBHOOK,
    runnerMembers: [RUNNER],
    imageProjects: ["acme-images"],
    projectNumbers: NUMBERS,
};

const UPLOAD = { serviceName: "storage.googleapis.com", methodSelectors: [{ method: "google.storage.objects.create" }] };
const MEMBERSHIP = { serviceName: "compute.googleapis.com", methodSelectors: [{ method: "RegionInstanceGroupManagersService.ListManagedInstances" }] };
const WEBHOOK_OPS = [
    { serviceName: "monitoring.googleapis.com", methodSelectors: [{ method: "google.monitoring.v3.MetricService.CreateTimeSeries" }] },
    { serviceName: "compute.googleapis.com", methodSelectors: [{ method: "RegionInstanceGroupManagersService.DeleteInstances" }] },
];
const INVOKE = { serviceName: "run.googleapis.com", methodSelectors: [{ method: "*" }] };
const PULL = { serviceName: "artifactregistry.googleapis.com", methodSelectors: [{ permission: "artifactregistry.repositories.downloadArtifacts" }] };

/** The rules both topologies share, with `cp` the control plane's project member. */
function controlPlaneCalls(cp: string) {
    return {
        enclaveEgress: [
            { title: "broker reads runner MIG membership", egressFrom: { identities: [BROKER] }, egressTo: { resources: [P.workers], operations: [MEMBERSHIP] } },
            { title: "webhook receiver writes demand and scales in", egressFrom: { identities: [WEBHOOK] }, egressTo: { resources: [P.workers], operations: WEBHOOK_OPS } },
        ],
        workerIngress: [
            { title: "broker reads runner MIG membership", ingressFrom: { identities: [BROKER], sources: [{ resource: cp }] }, ingressTo: { resources: [P.workers], operations: [MEMBERSHIP] } },
            { title: "webhook receiver writes demand and scales in", ingressFrom: { identities: [WEBHOOK], sources: [{ resource: cp }] }, ingressTo: { resources: [P.workers], operations: WEBHOOK_OPS } },
        ],
        uploadsIn: { title: "runner uploads to the intake buckets", ingressFrom: { identities: [BROKER], sources: [{ resource: P.workers }] }, ingressTo: { resources: [cp], operations: [UPLOAD] } },
        uploadsOut: { title: "runner uploads to the intake buckets", egressFrom: { identities: [BROKER] }, egressTo: { resources: [cp], operations: [UPLOAD] } },
        invokeOut: { title: "runners invoke the broker", egressFrom: { identityType: "ANY_IDENTITY" }, egressTo: { resources: [cp], operations: [INVOKE] } },
        pull: { title: "runners pull images", egressFrom: { identities: [RUNNER] }, egressTo: { resources: [P.images], operations: [PULL] } },
    };
}

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

    describe("dry run (the default), control plane in a project of its own", () => {
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

        it("puts the signer and control-plane projects (by number) in the enclave, restricting KMS, Run, Storage, Secret Manager, Compute and logging", () => {
            const spec = perimeter(run, "enclave").inputs.spec;
            assert.deepStrictEqual(spec.resources, [P.signer, P.cp]);
            assert.deepStrictEqual(spec.restrictedServices, [...ENCLAVE_RESTRICTED_SERVICES]);
            for (const s of ["cloudkms.googleapis.com", "run.googleapis.com", "storage.googleapis.com", "secretmanager.googleapis.com", "compute.googleapis.com", "logging.googleapis.com"]) {
                assert.ok(spec.restrictedServices.includes(s), s);
            }
            assert.deepStrictEqual(spec.vpcAccessibleServices, { enableRestriction: true, allowedServices: ["RESTRICTED-SERVICES"] });
        });

        it("enclave ingress: uploads as the broker from the workers, and run.app invocations, both to the control-plane project only (never the signer's)", () => {
            const spec = perimeter(run, "enclave").inputs.spec;
            const calls = controlPlaneCalls(P.cp);
            assert.deepStrictEqual(spec.ingressPolicies, [calls.uploadsIn, {
                title: "invocations of the control plane services",
                ingressFrom: { identityType: "ANY_IDENTITY", sources: [{ accessLevel: "*" }] },
                ingressTo: { resources: [P.cp], operations: [INVOKE] },
            }]);
            for (const rule of spec.ingressPolicies) {
                assert.ok(!rule.ingressTo.resources.includes(P.signer), `${rule.title} must not admit anything to the signer project`);
                assert.ok(rule.ingressTo.operations.every((o: { serviceName: string }) => o.serviceName !== "cloudkms.googleapis.com"), rule.title);
            }
        });

        it("enclave egress: only the broker's MIG reads and the webhook receiver's demand metric and scale-in, into the worker project", () => {
            assert.deepStrictEqual(perimeter(run, "enclave").inputs.spec.egressPolicies, controlPlaneCalls(P.cp).enclaveEgress);
        });

        it("worker perimeter: own storage, images, logs, metrics and the broker's run.app reachable; ingress only the control plane's calls; egress uploads, broker calls and image pulls", () => {
            const spec = perimeter(run, "workers").inputs.spec;
            const calls = controlPlaneCalls(P.cp);
            assert.deepStrictEqual(spec.resources, [P.workers]);
            assert.deepStrictEqual(spec.restrictedServices, [...WORKER_RESTRICTED_SERVICES]);
            assert.deepStrictEqual(spec.vpcAccessibleServices, { enableRestriction: true, allowedServices: [...WORKER_VPC_ACCESSIBLE_SERVICES, "run.googleapis.com"] });
            for (const s of spec.vpcAccessibleServices.allowedServices) {
                assert.ok(spec.restrictedServices.includes(s), `${s} reachable from runner networks but not restricted`);
            }
            for (const s of ["cloudkms.googleapis.com", "secretmanager.googleapis.com", "compute.googleapis.com"]) {
                assert.ok(!spec.vpcAccessibleServices.allowedServices.includes(s), `${s} must not be callable from runner networks`);
                assert.ok(spec.restrictedServices.includes(s), `${s} restricted around the workers`);
            }
            assert.deepStrictEqual(spec.ingressPolicies, calls.workerIngress);
            assert.deepStrictEqual(spec.egressPolicies, [calls.uploadsOut, calls.invokeOut, calls.pull]);
        });

        it("declares membership in one place only: no ServicePerimeterResource", () => {
            assert.deepStrictEqual(byType(run, T.memberResource), []);
        });
    });

    it("signer project hosting the control plane: one member, Cloud Run left unrestricted, no ingress rule from anywhere", async () => {
        const run = await build({ controlPlaneProject: undefined, mode: "enforced" });
        const enclave = perimeter(run, "enclave").inputs.status;
        const calls = controlPlaneCalls(P.signer);
        assert.deepStrictEqual(enclave.resources, [P.signer]);
        assert.deepStrictEqual(enclave.restrictedServices, ENCLAVE_RESTRICTED_SERVICES.filter((s) => s !== "run.googleapis.com"));
        assert.deepStrictEqual(enclave.ingressPolicies, [calls.uploadsIn]);
        assert.deepStrictEqual(enclave.egressPolicies, calls.enclaveEgress);
        const workers = perimeter(run, "workers").inputs.status;
        assert.deepStrictEqual(workers.ingressPolicies, calls.workerIngress);
        assert.deepStrictEqual(workers.egressPolicies, [calls.uploadsOut, calls.invokeOut, calls.pull]);
    });

    it("enforced: the same config as status, no dry-run spec", async () => {
        const run = await build({ mode: "enforced" });
        for (const zone of ["enclave", "workers"] as const) {
            const p = perimeter(run, zone);
            assert.strictEqual(p.inputs.useExplicitDryRunSpec, false, zone);
            assert.strictEqual(p.inputs.spec, undefined, zone);
        }
        assert.deepStrictEqual(perimeter(run, "enclave").inputs.status.resources, [P.signer, P.cp]);
        assert.ok(perimeter(run, "enclave").inputs.status.restrictedServices.includes("cloudkms.googleapis.com"));
    });

    it("looks up project numbers it is not given (members are never project ids)", async () => {
        const run = await build({ projectNumbers: {} });
        const asked = run.invokes.filter((i) => i.token === GET_PROJECT).map((i) => i.args.projectId).sort();
        assert.deepStrictEqual(asked, ["acme-cp", "acme-images", "acme-signer", "acme-workers"]);
        const spec = perimeter(run, "enclave").inputs.spec;
        for (const m of spec.resources) {
            assert.match(m, /^projects\/[0-9]+$/);
        }
        assert.notStrictEqual(spec.resources[0], "projects/acme-signer");
    });

    it("no GCE runners and no image projects: no broker-invocation or image egress, no Cloud Run from runner networks", async () => {
        const run = await build({ imageProjects: [], runnersInvokeBroker: false });
        const spec = perimeter(run, "workers").inputs.spec;
        assert.deepStrictEqual(spec.egressPolicies, [controlPlaneCalls(P.cp).uploadsOut]);
        assert.deepStrictEqual(spec.vpcAccessibleServices.allowedServices, [...WORKER_VPC_ACCESSIBLE_SERVICES]);
    });

    it("rejects bad arguments in one pass and registers nothing", async () => {
        const run = await runProgram(() => {
            new FleetPerimeter("fleet-perimeter", {
                ...base,
                accessPolicy: "my-policy",
                workerProject: "acme-signer",
                brokerMember: "",
                projectNumbers: { "acme-signer": "acme" },
                enclaveRestrictedServices: ["storage.googleapis.com"],
                workerVpcAccessibleServices: ["storage.googleapis.com", "bigquery.googleapis.com"],
            });
        }, { allowError: true });
        assertRefusedInOnePass(run, [
            'accessPolicy: "my-policy" is not an access policy',
            'signerProject: "acme-signer" equals workerProject',
            "brokerMember: missing",
            'projectNumbers.acme-signer: "acme" is not a project number',
            'enclaveRestrictedServices: does not include "cloudkms.googleapis.com"',
            'workerVpcAccessibleServices: "bigquery.googleapis.com" is not in workerRestrictedServices',
        ]);
    });

    it("refuses the control plane in the worker project, and Cloud Run restricted around a signer project hosting the public webhook receiver", async () => {
        const run = await runProgram(() => {
            new FleetPerimeter("fleet-perimeter", { ...base, controlPlaneProject: "acme-workers" });
        }, { allowError: true });
        assertRefusedInOnePass(run, ['controlPlaneProject: "acme-workers" equals workerProject']);
        const shared = await runProgram(() => {
            new FleetPerimeter("fleet-perimeter", { ...base, controlPlaneProject: "acme-signer", enclaveRestrictedServices: [...ENCLAVE_RESTRICTED_SERVICES] });
        }, { allowError: true });
        assertRefusedInOnePass(shared, ['enclaveRestrictedServices: includes "run.googleapis.com" while the signer project hosts the control plane']);
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

    it("the fleet builds the perimeter from the block: the broker and webhook identities cross, every runner pulls images", async () => {
        const run = await runProgram(() => {
            new HardenedBuildFleet("fleet", { config: rawFleetConfig({ ...raw(), perimeter: { accessPolicy: "987654321", mode: "enforced", imageProjects: ["acme-images"], projectNumbers: NUMBERS } }) });
        }, { config: { "gcp:project": "acme-workers" } });
        const account = (n: string) => `serviceAccount:${one(run, "gcp:serviceaccount/account:Account", n).outputs.email}`;
        const broker = account("fleet-control-plane-broker-sa");
        const webhook = account("fleet-control-plane-webhook-sa");
        const enclave = one(run, T.perimeter, "fleet-perimeter-enclave").inputs.status;
        assert.deepStrictEqual(enclave.ingressPolicies.map((r: any) => r.ingressFrom.identities), [[broker]]);
        assert.deepStrictEqual(enclave.egressPolicies.map((r: any) => r.egressFrom.identities), [[broker], [webhook]]);
        const workers = one(run, T.perimeter, "fleet-perimeter-workers").inputs.status;
        // One GKE pool: no runner registers through the broker's run.app URL, so no invocation rule.
        assert.deepStrictEqual(workers.egressPolicies.map((r: any) => r.title), ["runner uploads to the intake buckets", "runners pull images"]);
        assert.deepStrictEqual(workers.egressPolicies[0].egressFrom.identities, [broker]);
        assert.deepStrictEqual(workers.egressPolicies[1].egressFrom.identities, [account("fleet-pool-containers-sa")]);
        assert.ok(!workers.vpcAccessibleServices.allowedServices.includes("run.googleapis.com"));
        // The minimal config keeps the control plane in the signer project: one member, Cloud Run not restricted.
        assert.deepStrictEqual(enclave.resources, [P.signer]);
        assert.ok(!enclave.restrictedServices.includes("run.googleapis.com"));
    });

    it("with controlPlane.project: the enclave holds both projects, restricts Cloud Run, and admits invocations to the control plane's project only", async () => {
        const run = await runProgram(() => {
            new HardenedBuildFleet("fleet", { config: rawFleetConfig({
                ...raw(), controlPlane: { ...(raw().controlPlane as object), project: "acme-cp" },
                perimeter: { accessPolicy: "987654321", mode: "enforced", projectNumbers: NUMBERS },
            }) });
        }, { config: { "gcp:project": "acme-workers" } });
        const enclave = one(run, T.perimeter, "fleet-perimeter-enclave").inputs.status;
        assert.deepStrictEqual(enclave.resources, [P.signer, P.cp]);
        assert.ok(enclave.restrictedServices.includes("run.googleapis.com"));
        assert.deepStrictEqual(enclave.ingressPolicies.map((r: any) => [r.title, r.ingressTo.resources]), [
            ["runner uploads to the intake buckets", [P.cp]], ["invocations of the control plane services", [P.cp]],
        ]);
    });

    it("a bad block stops the whole fleet before anything is registered", async () => {
        const run = await runProgram(() => {
            new HardenedBuildFleet("fleet", { config: rawFleetConfig({ ...raw(), perimeter: { accessPolicy: "nope" } }) });
        }, { allowError: true });
        assert.ok(run.error instanceof FleetConfigError, String(run.error));
        assert.deepStrictEqual(run.resources.map((r) => r.type), ["pulumi:pulumi:Stack"]);
    });
});
