import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import { workloadIdentityScope } from "../../../policies/model";
import { evaluateFleet, assertFinding, findings, REGION, SIGNER_PROJECT, WORKER_PROJECT } from "../../helpers/stackPolicy";

const P = "runners-cannot-reach-enclave";
const RUNNER_A = { "build-fleet-role": "runner", "build-fleet-pool": "a" };
const WI_POOL = `principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/${WORKER_PROJECT}.svc.id.goog`;

/** A Namespace labelled runner (pool a), Pod Security restricted. */
function runnerNamespace(name: string): k8s.core.v1.Namespace {
    return new k8s.core.v1.Namespace(`ns-${name}`, { metadata: { name, labels: { ...RUNNER_A, "pod-security.kubernetes.io/enforce": "restricted" } } });
}

/** roles/run.invoker on the signer service for `member`. */
function invoker(name: string, service: gcp.cloudrunv2.Service, member: gcp.cloudrunv2.ServiceIamMemberArgs["member"]): void {
    new gcp.cloudrunv2.ServiceIamMember(name, { project: SIGNER_PROJECT, location: REGION, name: service.name, role: "roles/run.invoker", member });
}

describe("stack rule runners-cannot-reach-enclave (I9, I10, I11)", () => {
    it("flags any role of a runner on the signer key, even a non-signing one", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.kms.CryptoKeyIAMMember("runner-key-viewer", { cryptoKeyId: f.signer.key.id, role: "roles/cloudkms.viewer", member: f.pools.a.sa.member });
        });
        assertFinding(ev, P, /runner identity serviceAccount:runner-a@worker-proj\.iam\.gserviceaccount\.com \(pool a\) holds roles\/cloudkms\.viewer on signer key signer-key/);
    });

    it("flags a runner invoker on the signer service", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.cloudrunv2.ServiceIamMember("runner-invoker", {
                project: SIGNER_PROJECT, location: f.signer.service.location, name: f.signer.service.name, role: "roles/run.invoker", member: f.pools.b.sa.member,
            });
        });
        assertFinding(ev, P, /runner-b@.* holds roles\/run\.invoker on signer service signer-service/, { alsoAllowed: ["signer-invoked-by-generator-only"] });
    });

    it("flags a runner reader on the provenance bucket", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.storage.BucketIAMMember("runner-prov-reader", { bucket: f.signer.provenance.name, role: "roles/storage.objectViewer", member: f.pools.a.sa.member });
        });
        assertFinding(ev, P, /runner-a@.* holds roles\/storage\.objectViewer on provenance bucket signer-provenance/);
    });

    it("flags any project-level role of a runner in the signer project", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.projects.IAMMember("runner-signer-project-viewer", { project: SIGNER_PROJECT, role: "roles/viewer", member: f.pools.a.sa.member });
        });
        assertFinding(ev, P, /runner-a@.* holds roles\/viewer on the signer project signer-proj/);
    });

    it("flags a runner that can act as the control plane, which invokes the signer (impersonation closure)", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.serviceaccount.IAMMember("runner-acts-as-cp", {
                serviceAccountId: f.controlPlaneSa.name, role: "roles/iam.serviceAccountUser", member: f.pools.a.sa.member,
            });
        });
        assertFinding(ev, P, /runner identity serviceAccount:fleet-control@worker-proj\.iam\.gserviceaccount\.com .*holds roles\/run\.invoker on signer service/, {
            // The control plane, now a runner identity, also reads intake buckets of both pools.
            alsoAllowed: ["pool-intake-separation", "provenance-by-control-plane", "signer-invoked-by-generator-only", "platform-identity-impersonation", "runner-least-privilege"],
        });
    });

    it("flags token creator on the signer SA held by a runner (with single-signer)", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.serviceaccount.IAMMember("runner-token-creator", {
                serviceAccountId: f.signer.sa.name, role: "roles/iam.serviceAccountTokenCreator", member: f.pools.b.sa.member,
            });
        });
        // The signer SA becomes a runner identity, so its own grants are off the runner allow-list too.
        assertFinding(ev, P, /runner-b@.* holds roles\/iam\.serviceAccountTokenCreator on signer service account/, { alsoAllowed: ["single-signer", "pool-intake-separation", "runner-least-privilege"] });
        assertFinding(ev, "single-signer", /runner-b@.* can sign with signer key signer-key.*impersonates the signer/, { alsoAllowed: [P, "pool-intake-separation", "runner-least-privilege"] });
    });

    it("preview: a grant whose member email is unknown is attributed to the runner SA it depends on", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.storage.BucketIAMMember("runner-prov-reader", { bucket: f.signer.provenance.name, role: "roles/storage.objectViewer", member: f.pools.a.sa.member });
        }, { preview: true });
        assertFinding(ev, P, /runner-a@worker-proj\.iam\.gserviceaccount\.com \(pool a\) holds roles\/storage\.objectViewer on provenance bucket/);
    });

    it("preview: a runner template whose service account is unknown and depends on nothing cannot be decided", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.compute.InstanceTemplate("mystery-runner", {
                project: "worker-proj", machineType: "e2-small",
                labels: { "build-fleet-role": "runner", "build-fleet-pool": "a" },
                disks: [{ boot: true, autoDelete: true, sourceImage: "projects/cos-cloud/global/images/family/cos-stable" }],
                networkInterfaces: [{ network: f.pools.a.network.id, subnetwork: f.pools.a.subnet.id }],
                serviceAccount: { email: f.pools.a.intake.url.apply((u) => `${u.slice(5, 20)}@worker-proj.iam.gserviceaccount.com`), scopes: ["cloud-platform"] },
            });
        }, { preview: true });
        assertFinding(ev, P, /^cannot decide during preview: runner mystery-runner runs as a service account that is unknown/, { undecided: true });
    });

    describe("Workload Identity principals of runner pods are runner identities", () => {
        it("parses the Workload Identity principal forms", () => {
            assert.deepStrictEqual(workloadIdentityScope("serviceAccount:p.svc.id.goog[runners/runner]"), { project: "p", namespace: "runners" });
            assert.deepStrictEqual(
                workloadIdentityScope("principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p.svc.id.goog/subject/ns/runners/sa/runner"),
                { project: "p", namespace: "runners" },
            );
            assert.deepStrictEqual(workloadIdentityScope(`${WI_POOL}/namespace/runners`), { project: WORKER_PROJECT, namespace: "runners" });
            assert.deepStrictEqual(workloadIdentityScope(`${WI_POOL}/kubernetes.cluster/https://container.googleapis.com/v1/projects/p/locations/l/clusters/c`), {
                project: WORKER_PROJECT, cluster: "https://container.googleapis.com/v1/projects/p/locations/l/clusters/c",
            });
            assert.deepStrictEqual(workloadIdentityScope(`${WI_POOL}/*`), { project: WORKER_PROJECT, all: true });
            assert.strictEqual(workloadIdentityScope("serviceAccount:runner-a@worker-proj.iam.gserviceaccount.com"), undefined);
            assert.strictEqual(workloadIdentityScope("principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/github/attribute.repository/acme/x"), undefined);
        });

        it("flags the KSA principal of a runner-labelled namespace granted run.invoker on the signer service", async () => {
            const ev = await evaluateFleet((f) => {
                runnerNamespace("runners-a");
                invoker("ksa-invoker", f.signer.service, `serviceAccount:${WORKER_PROJECT}.svc.id.goog[runners-a/runner]`);
            });
            assertFinding(ev, P, /runner identity serviceAccount:worker-proj\.svc\.id\.goog\[runners-a\/runner\] \(pool a\) holds roles\/run\.invoker on signer service signer-service \[ksa-invoker\]/, { alsoAllowed: ["signer-invoked-by-generator-only"] });
        });

        it("flags the principal:// subject form on the provenance bucket", async () => {
            const ev = await evaluateFleet((f) => {
                runnerNamespace("runners-a");
                new gcp.storage.BucketIAMMember("subject-reader", {
                    bucket: f.signer.provenance.name, role: "roles/storage.objectViewer",
                    member: `principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/${WORKER_PROJECT}.svc.id.goog/subject/ns/runners-a/sa/build`,
                });
            });
            assertFinding(ev, P, /runner identity principal:\/\/.*\/subject\/ns\/runners-a\/sa\/build \(pool a\) holds roles\/storage\.objectViewer on provenance bucket/);
        });

        it("flags the principalSet of the namespace of a runner-labelled Pod (no Namespace resource)", async () => {
            const ev = await evaluateFleet((f) => {
                new k8s.core.v1.Pod("runner-pod", {
                    metadata: { namespace: "build", labels: RUNNER_A },
                    spec: { runtimeClassName: "gvisor", automountServiceAccountToken: false, activeDeadlineSeconds: 3600, containers: [{ name: "runner", image: "ghcr.io/actions/actions-runner:2.328.0" }] },
                });
                new gcp.kms.CryptoKeyIAMMember("ns-key-viewer", { cryptoKeyId: f.signer.key.id, role: "roles/cloudkms.viewer", member: `${WI_POOL}/namespace/build` });
            });
            assertFinding(ev, P, /runner identity principalSet:\/\/.*\/namespace\/build \(pool a\) holds roles\/cloudkms\.viewer on signer key signer-key/);
        });

        it("flags the principalSet of a runner cluster and of the whole workload pool", async () => {
            for (const member of [
                `${WI_POOL}/kubernetes.cluster/https://container.googleapis.com/v1/projects/${WORKER_PROJECT}/locations/${REGION}/clusters/pool-a-gke`,
                `${WI_POOL}/*`,
            ]) {
                const ev = await evaluateFleet((f) => {
                    new gcp.container.Cluster("pool-a-gke", {
                        project: WORKER_PROJECT, location: REGION, name: "pool-a-gke", network: f.pools.a.network.id, subnetwork: f.pools.a.subnet.id,
                        resourceLabels: RUNNER_A, workloadIdentityConfig: { workloadPool: `${WORKER_PROJECT}.svc.id.goog` },
                        nodeConfig: { serviceAccount: f.pools.a.sa.email },
                    });
                    invoker("pool-invoker", f.signer.service, member);
                });
                assertFinding(ev, P, /holds roles\/run\.invoker on signer service signer-service \[pool-invoker\]/, { alsoAllowed: ["signer-invoked-by-generator-only"] });
            }
        });

        it("does not count the principal of a namespace that is not a runner's as a runner (only the invoker rule fires)", async () => {
            const ev = await evaluateFleet((f) => {
                runnerNamespace("runners-a");
                new k8s.core.v1.Namespace("ns-tools", { metadata: { name: "tools", labels: { "build-fleet-role": "control-plane" } } });
                invoker("tools-invoker", f.signer.service, `serviceAccount:${WORKER_PROJECT}.svc.id.goog[tools/publisher]`);
                invoker("tools-set-invoker", f.signer.service, `${WI_POOL}/namespace/tools`);
            });
            // Not runners; but federated principals are not the generator, so the signer-invoker rule (and only it) names both.
            assert.deepStrictEqual([...new Set(ev.violations.map((v) => v.policy))], ["signer-invoked-by-generator-only"], findings(ev));
            assert.strictEqual(ev.violations.length, 2, findings(ev));
        });

        it("preview: a member unknown until apply that depends on a KSA in a runner namespace is that namespace's principal", async () => {
            const ev = await evaluateFleet((f) => {
                const ns = runnerNamespace("runners-a");
                const ksa = new k8s.core.v1.ServiceAccount("runner-ksa", { metadata: { name: "runner", namespace: ns.metadata.name, labels: RUNNER_A }, automountServiceAccountToken: false });
                // The KSA's id is unknown in a first preview, so the member is too; it depends on the KSA only.
                invoker("ksa-invoker", f.signer.service, ksa.id.apply((id) => `serviceAccount:${WORKER_PROJECT}.svc.id.goog[${id}]`));
            }, { preview: true });
            assertFinding(ev, P, /runner identity the Workload Identity principal of Kubernetes service account runners-a\/runner \(pool a\) holds roles\/run\.invoker/, { alsoAllowed: ["signer-invoked-by-generator-only"] });
        });
    });
});
