import * as gcp from "@pulumi/gcp";
import { evaluateFleet, expectFinding, SIGNER_PROJECT } from "./fixture";

const P = "runners-cannot-reach-enclave";

describe("stack rule runners-cannot-reach-enclave (I9, I10, I11)", () => {
    it("flags any role of a runner on the signer key, even a non-signing one", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.kms.CryptoKeyIAMMember("runner-key-viewer", { cryptoKeyId: f.signer.key.id, role: "roles/cloudkms.viewer", member: f.pools.a.sa.member });
        });
        expectFinding(ev, P, /runner identity serviceAccount:runner-a@worker-proj\.iam\.gserviceaccount\.com \(pool a\) holds roles\/cloudkms\.viewer on signer key signer-key/);
    });

    it("flags a runner invoker on the signer service", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.cloudrunv2.ServiceIamMember("runner-invoker", {
                project: SIGNER_PROJECT, location: f.signer.service.location, name: f.signer.service.name, role: "roles/run.invoker", member: f.pools.b.sa.member,
            });
        });
        expectFinding(ev, P, /runner-b@.* holds roles\/run\.invoker on signer service signer-service/);
    });

    it("flags a runner reader on the provenance bucket", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.storage.BucketIAMMember("runner-prov-reader", { bucket: f.signer.provenance.name, role: "roles/storage.objectViewer", member: f.pools.a.sa.member });
        });
        expectFinding(ev, P, /runner-a@.* holds roles\/storage\.objectViewer on provenance bucket signer-provenance/);
    });

    it("flags any project-level role of a runner in the signer project", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.projects.IAMMember("runner-signer-project-viewer", { project: SIGNER_PROJECT, role: "roles/viewer", member: f.pools.a.sa.member });
        });
        expectFinding(ev, P, /runner-a@.* holds roles\/viewer on the signer project signer-proj/);
    });

    it("flags a runner that can act as the control plane, which invokes the signer (impersonation closure)", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.serviceaccount.IAMMember("runner-acts-as-cp", {
                serviceAccountId: f.controlPlaneSa.name, role: "roles/iam.serviceAccountUser", member: f.pools.a.sa.member,
            });
        });
        expectFinding(ev, P, /runner identity serviceAccount:fleet-control@worker-proj\.iam\.gserviceaccount\.com .*holds roles\/run\.invoker on signer service/, {
            // The control plane, now a runner identity, also reads intake buckets of both pools.
            alsoAllowed: ["pool-intake-separation", "provenance-by-control-plane"],
        });
    });

    it("flags token creator on the signer SA held by a runner (with single-signer)", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.serviceaccount.IAMMember("runner-token-creator", {
                serviceAccountId: f.signer.sa.name, role: "roles/iam.serviceAccountTokenCreator", member: f.pools.b.sa.member,
            });
        });
        expectFinding(ev, P, /runner-b@.* holds roles\/iam\.serviceAccountTokenCreator on signer service account/, { alsoAllowed: ["single-signer", "pool-intake-separation"] });
        expectFinding(ev, "single-signer", /runner-b@.* can sign with signer key signer-key.*impersonates the signer/, { alsoAllowed: [P, "pool-intake-separation"] });
    });

    it("preview: a grant whose member email is unknown is attributed to the runner SA it depends on", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.storage.BucketIAMMember("runner-prov-reader", { bucket: f.signer.provenance.name, role: "roles/storage.objectViewer", member: f.pools.a.sa.member });
        }, { preview: true });
        expectFinding(ev, P, /runner-a@worker-proj\.iam\.gserviceaccount\.com \(pool a\) holds roles\/storage\.objectViewer on provenance bucket/);
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
        expectFinding(ev, P, /^cannot decide during preview: runner mystery-runner runs as a service account that is unknown/, { undecided: true });
    });
});
