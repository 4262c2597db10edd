import * as gcp from "@pulumi/gcp";
import { evaluateFleet, assertFinding, SIGNER_PROJECT, WORKER_PROJECT } from "../../helpers/stackPolicy";

const INTAKE = "pool-intake-separation";
const PROV = "provenance-by-control-plane";

describe("stack rule pool-intake-separation (I5, I11)", () => {
    it("flags a runner on another pool's intake bucket", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.storage.BucketIAMMember("a-on-b-intake", { bucket: f.pools.b.intake.name, role: "roles/storage.objectCreator", member: f.pools.a.sa.member });
        });
        assertFinding(ev, INTAKE, /runner identity serviceAccount:runner-a@.* \(of pool a\) holds roles\/storage\.objectCreator on intake bucket pool-b-intake-\w+ of pool b/);
    });

    it("preview: resolves the member through propertyDependencies", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.storage.BucketIAMBinding("b-on-a-intake", { bucket: f.pools.a.intake.name, role: "roles/storage.objectCreator", members: [f.pools.b.sa.member] });
        }, { preview: true });
        assertFinding(ev, INTAKE, /runner-b@worker-proj\.iam\.gserviceaccount\.com \(of pool b\) holds roles\/storage\.objectCreator on intake bucket .* of pool a/);
    });

    it("flags one service account serving two pools", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.compute.InstanceTemplate("b-as-runner-a", {
                project: WORKER_PROJECT, machineType: "e2-small",
                labels: { "build-fleet-role": "runner", "build-fleet-pool": "b" },
                disks: [{ boot: true, autoDelete: true, sourceImage: "projects/cos-cloud/global/images/family/cos-stable" }],
                networkInterfaces: [{ subnetwork: f.pools.b.subnet.id }],
                serviceAccount: { email: f.pools.a.sa.email, scopes: ["cloud-platform"] },
            });
        });
        assertFinding(ev, INTAKE, /runner identity serviceAccount:runner-a@.* serves pools a and b/);
    });

    it("flags project-level storage roles of a runner that cover other pools' intake buckets", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.projects.IAMMember("a-storage-viewer", { project: WORKER_PROJECT, role: "roles/storage.objectViewer", member: f.pools.a.sa.member });
        });
        assertFinding(ev, INTAKE, /runner-a@.* holds roles\/storage\.objectViewer on project worker-proj, which covers intake bucket pool-b-intake-\w+ of pool b/, {
            alsoAllowed: [PROV],
        });
    });
});

describe("stack rule provenance-by-control-plane (I11)", () => {
    it("flags a runner reading its own intake bucket", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.storage.BucketIAMMember("a-reads-own", { bucket: f.pools.a.intake.name, role: "roles/storage.objectViewer", member: f.pools.a.sa.member });
        });
        assertFinding(ev, PROV, /runner identity serviceAccount:runner-a@.* holds roles\/storage\.objectViewer on intake bucket pool-a-intake-\w+ of pool a .*may hold only roles\/storage\.objectCreator/);
    });

    it("preview: flags objectAdmin of a runner on its own intake bucket", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.storage.BucketIAMMember("b-admin-own", { bucket: f.pools.b.intake.name, role: "roles/storage.objectAdmin", member: f.pools.b.sa.member });
        }, { preview: true });
        assertFinding(ev, PROV, /runner-b@.* holds roles\/storage\.objectAdmin on intake bucket .* of pool b/);
    });

    it("flags a non-signer writer on the provenance bucket", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.storage.BucketIAMMember("cp-writes-provenance", { bucket: f.signer.provenance.name, role: "roles/storage.objectCreator", member: f.controlPlaneSa.member });
        });
        assertFinding(ev, PROV, /fleet-control@worker-proj.* via roles\/storage\.objectCreator on bucket signer-provenance-\w+ .*can write provenance bucket/);
    });

    it("flags a project-level storage admin in the signer project", async () => {
        const ev = await evaluateFleet(() => {
            new gcp.projects.IAMMember("ops-storage-admin", { project: SIGNER_PROJECT, role: "roles/storage.admin", member: "group:ops@example.com" });
        });
        assertFinding(ev, PROV, /group:ops@example\.com via roles\/storage\.admin on project signer-proj .*can write provenance bucket/);
    });

    it("accepts readers of the provenance bucket", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.storage.BucketIAMMember("auditor-reads", { bucket: f.signer.provenance.name, role: "roles/storage.objectViewer", member: "group:auditors@example.com" });
        });
        if (ev.violations.length > 0) {
            throw new Error(ev.violations.map((v) => v.message).join("\n"));
        }
    });
});
