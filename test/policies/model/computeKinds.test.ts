/**
 * Compute kinds beyond the common ones are classified like them: a VM created from a template,
 * a Cloud Run v1 service (labels in metadata), an unlabelled Cloud Run service, and an unlabelled
 * ARC runner set. Each would otherwise escape the rules.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import { evaluatePolicies, runProgram } from "../../../plan/engine";
import { resourcePolicies } from "../../../policies/rules";
import { assertFinding, evaluateFleet, findings, REGION, SIGNER_PROJECT, WORKER_PROJECT } from "../../helpers/stackPolicy";

const ATTACH = "runner-network-attachment";
const REACH = "runners-cannot-reach-enclave";
const LABELS = "role-labels-required";

describe("stack rules: classification of less common compute kinds", () => {
    it("treats a runner VM created with InstanceFromTemplate as a runner (signer network, signer SA)", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.compute.InstanceFromTemplate("vm-from-template", {
                project: WORKER_PROJECT,
                zone: `${REGION}-b`,
                sourceInstanceTemplate: f.pools.a.template.selfLinkUnique,
                labels: { "build-fleet-role": "runner", "build-fleet-pool": "a" },
                networkInterfaces: [{ network: f.signer.network.id, subnetwork: f.signer.subnet.id }],
                serviceAccount: { email: f.signer.sa.email, scopes: ["https://www.googleapis.com/auth/cloud-platform"] },
            });
        });
        assertFinding(ev, ATTACH, /vm-from-template.*signer network/, { alsoAllowed: [REACH, "single-signer", "pool-network-separation", LABELS, "runner-least-privilege"] }); // the signer SA becomes a runner identity
        assert.ok(ev.violations.some((v) => v.policy === REACH && /vm-from-template runs as it/.test(v.message)), findings(ev));
    });

    it("requires a role label on InstanceFromTemplate VMs and Cloud Run services", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.compute.InstanceFromTemplate("bare-vm", { project: WORKER_PROJECT, zone: `${REGION}-b`, sourceInstanceTemplate: f.pools.a.template.selfLinkUnique });
            new gcp.cloudrunv2.Service("bare-service", {
                project: WORKER_PROJECT, location: REGION, ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY",
                template: { containers: [{ image: "europe-docker.pkg.dev/x/y/z@sha256:" + "1".repeat(64) }] },
            });
        });
        const labelled = ev.violations.filter((v) => v.policy === LABELS).map((v) => v.urn?.split("::").pop()).sort();
        assert.deepStrictEqual(labelled, ["bare-service", "bare-vm"], findings(ev));
    });

    it("reads a Cloud Run v1 service's role from metadata.labels: a signer running as a runner SA is caught", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.cloudrun.Service("v1-signer", {
                project: SIGNER_PROJECT,
                location: REGION,
                metadata: { labels: { "build-fleet-role": "signer" }, annotations: { "run.googleapis.com/ingress": "internal" } },
                template: { spec: { serviceAccountName: f.pools.a.sa.email, containers: [{ image: "europe-docker.pkg.dev/x/y/z@sha256:" + "2".repeat(64) }] } },
            });
        });
        // The label is read (no "has no label" finding), so the service is a signer node running as a runner SA.
        assert.ok(!ev.violations.some((v) => v.policy === LABELS && v.urn?.endsWith("::v1-signer") && /has no build-fleet-role label/.test(v.message)), findings(ev));
        assert.ok(ev.violations.some((v) => v.policy === LABELS && v.urn?.endsWith("::v1-signer") && /labelled build-fleet-role=signer but runs as runner identity/.test(v.message)), findings(ev));
    });
});

describe("resource rules: an unlabelled ARC runner set is a runner workload", () => {
    it("applies the runner pod rules to an AutoscalingRunnerSet without role labels", async () => {
        const run = await runProgram(() => {
            new k8s.apiextensions.CustomResource("ars-unlabelled", {
                apiVersion: "actions.github.com/v1alpha1",
                kind: "AutoscalingRunnerSet",
                metadata: { namespace: "runners" },
                spec: {
                    githubConfigUrl: "https://github.com/acme",
                    template: { spec: { containers: [{ name: "runner", image: "ghcr.io/actions/actions-runner:2.321.0", securityContext: { privileged: true } }] } },
                },
            });
        });
        const ev = await evaluatePolicies(run, resourcePolicies);
        const fired = [...new Set(ev.violations.filter((v) => v.urn?.endsWith("::ars-unlabelled")).map((v) => v.policy))].sort();
        assert.ok(fired.includes("k8s-runner-pod-security"), fired.join(", "));
        assert.ok(fired.includes("k8s-runner-no-sa-token"), fired.join(", "));
    });
});
