import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import { evaluateFleet, assertFinding, findings, SIGNER_PROJECT, WORKER_PROJECT } from "../../helpers/stackPolicy";

const AUDIT = "kms-audit-logging";
const LABELS = "role-labels-required";

describe("stack rule kms-audit-logging (I12)", () => {
    it("flags a signer key without KMS data-access audit logs", async () => {
        for (const preview of [false, true]) {
            const ev = await evaluateFleet(undefined, { omit: { auditConfig: true }, preview });
            assertFinding(ev, AUDIT, /signer key signer-key \(project signer-proj\) has no DATA_READ and DATA_WRITE audit logging/);
        }
    });

    it("flags an audit config that logs DATA_READ only", async () => {
        const ev = await evaluateFleet(() => {
            new gcp.projects.IAMAuditConfig("kms-read-only", { project: SIGNER_PROJECT, service: "cloudkms.googleapis.com", auditLogConfigs: [{ logType: "DATA_READ" }] });
        }, { omit: { auditConfig: true } });
        assertFinding(ev, AUDIT, /has no DATA_WRITE audit logging/);
    });

    it("ignores an audit config for another project", async () => {
        const ev = await evaluateFleet(() => {
            new gcp.projects.IAMAuditConfig("kms-elsewhere", {
                project: WORKER_PROJECT, service: "cloudkms.googleapis.com", auditLogConfigs: [{ logType: "DATA_READ" }, { logType: "DATA_WRITE" }],
            });
        }, { omit: { auditConfig: true } });
        assertFinding(ev, AUDIT, /has no DATA_READ and DATA_WRITE audit logging/);
    });

    it("accepts an organization-wide allServices audit config", async () => {
        const ev = await evaluateFleet(() => {
            new gcp.organizations.IamAuditConfig("org-audit", {
                orgId: "1234567890", service: "allServices", auditLogConfigs: [{ logType: "DATA_READ" }, { logType: "DATA_WRITE" }],
            });
        }, { omit: { auditConfig: true } });
        assert.deepStrictEqual(ev.violations, [], findings(ev));
    });
});

describe("stack rule role-labels-required (classification)", () => {
    it("flags an unlabelled instance template (and still treats it as a runner)", async () => {
        const ev = await evaluateFleet(undefined, { omit: { templateLabels: ["a"] } });
        // Fail closed: the unlabelled template is a runner of no pool, so its SA's intake grant is unproven.
        assertFinding(ev, LABELS, /InstanceTemplate pool-a-template has no build-fleet-role label/, { alsoAllowed: ["pool-intake-separation", "runner-least-privilege"] });
        // ... and that intake grant is not a runner of this pool writing its own bucket, so it is off the allow-list too.
        assertFinding(ev, "pool-intake-separation", /runner-a@.* \(with no pool label\) holds roles\/storage\.objectCreator on intake bucket .* of pool a/, { alsoAllowed: [LABELS, "runner-least-privilege"] });
    });

    it("is configurable: requireRoleLabels false drops the missing-label finding", async () => {
        const ev = await evaluateFleet(undefined, { omit: { templateLabels: ["a"] }, policyConfig: { [LABELS]: { requireRoleLabels: false } } });
        const labelFindings = ev.violations.filter((v) => v.policy === LABELS);
        assert.deepStrictEqual(labelFindings, [], findings(ev));
    });

    it("flags a runner without a pool label", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.compute.Instance("lonely-runner", {
                project: WORKER_PROJECT, zone: "europe-west1-b", machineType: "e2-small",
                labels: { "build-fleet-role": "runner" },
                bootDisk: { autoDelete: true, initializeParams: { image: "projects/cos-cloud/global/images/family/cos-stable" } },
                networkInterfaces: [{ subnetwork: f.pools.a.subnet.id }],
                serviceAccount: { email: f.pools.a.sa.email, scopes: ["cloud-platform"] },
            });
        });
        assertFinding(ev, LABELS, /runner Instance lonely-runner has no build-fleet-pool label/);
    });

    it("flags label laundering: a control-plane template running as a runner SA", async () => {
        for (const preview of [false, true]) {
            const ev = await evaluateFleet((f) => {
                new gcp.compute.InstanceTemplate("laundered", {
                    project: WORKER_PROJECT, machineType: "e2-small",
                    labels: { "build-fleet-role": "control-plane" },
                    disks: [{ boot: true, autoDelete: true, sourceImage: "projects/cos-cloud/global/images/family/cos-stable" }],
                    networkInterfaces: [{ subnetwork: f.pools.b.subnet.id }],
                    serviceAccount: { email: f.pools.b.sa.email, scopes: ["cloud-platform"] },
                });
            }, { preview });
            assertFinding(ev, LABELS, /laundered is labelled build-fleet-role=control-plane but runs as runner identity serviceAccount:runner-b@/);
            assertFinding(ev, LABELS, /laundered is labelled build-fleet-role=control-plane but attaches to runner network pool-b-net/);
        }
    });

    it("flags unlabelled Kubernetes workloads and a control-plane workload in a runner namespace", async () => {
        const ev = await evaluateFleet(() => {
            const ns = new k8s.core.v1.Namespace("runners-a", {
                metadata: { name: "runners-a", labels: { "build-fleet-role": "runner", "build-fleet-pool": "a" } },
            });
            new k8s.apps.v1.Deployment("sneaky", {
                metadata: { namespace: ns.metadata.name, labels: { "build-fleet-role": "control-plane" } },
                spec: { selector: { matchLabels: { app: "x" } }, template: { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "x", image: "busybox" }] } } },
            });
            new k8s.batch.v1.Job("unlabelled-job", {
                metadata: { namespace: "default" },
                spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "x", image: "busybox" }] } } },
            });
        }, { preview: true });
        assertFinding(ev, LABELS, /Job unlabelled-job has no build-fleet-role label/);
        assertFinding(ev, LABELS, /sneaky is labelled build-fleet-role=control-plane but runs in runner namespace runners-a/);
    });

    it("flags a control-plane workload in a namespace made a runner namespace by a NamespacePatch (one classification)", async () => {
        const ev = await evaluateFleet(() => {
            new k8s.core.v1.NamespacePatch("runners-b-label", { metadata: { name: "runners-b", labels: { "build-fleet-role": "runner", "build-fleet-pool": "b" } } });
            new k8s.apps.v1.Deployment("patched-sneaky", {
                metadata: { namespace: "runners-b", labels: { "build-fleet-role": "control-plane" } },
                spec: { selector: { matchLabels: { app: "x" } }, template: { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "x", image: "busybox" }] } } },
            });
        });
        assertFinding(ev, LABELS, /patched-sneaky is labelled build-fleet-role=control-plane but runs in runner namespace runners-b/);
    });
});
