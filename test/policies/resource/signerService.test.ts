/**
 * signer-service-internal-ingress, signer-service-no-public-invoker (I10) and no-public-iam (I7,
 * I10) over raw Cloud Run, IAM and storage ACL resources.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { Checked, check, assertFired, assertMessage } from "../../helpers/resourcePolicy";

const SIGNER = { "build-fleet-role": "signer" };
const IMAGE = "europe-docker.pkg.dev/signer-proj/signer/signer@sha256:" + "a".repeat(64);

function program(preview: boolean) {
    return () => {
        const sa = new gcp.serviceaccount.Account("signer-sa", { accountId: "signer" });
        const cp = new gcp.serviceaccount.Account("cp-sa", { accountId: "control-plane" });
        const base: gcp.cloudrunv2.ServiceArgs = {
            location: "europe-west1",
            labels: SIGNER,
            ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY",
            template: { serviceAccount: sa.email, containers: [{ image: IMAGE }] },
            deletionProtection: false,
        };
        const svc = new gcp.cloudrunv2.Service("svc-good", base);
        new gcp.cloudrunv2.Service("svc-all", { ...base, ingress: "INGRESS_TRAFFIC_ALL" });
        new gcp.cloudrunv2.Service("svc-default-ingress", { ...base, ingress: undefined });
        new gcp.cloudrunv2.Service("svc-lb", { ...base, ingress: "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" });
        new gcp.cloudrunv2.Service("svc-unlabelled-public-ingress", { ...base, labels: undefined, ingress: "INGRESS_TRAFFIC_ALL" });
        new gcp.cloudrunv2.Service("svc-no-invoker-iam", { ...base, invokerIamDisabled: true });
        new gcp.cloudrun.Service("v1-good", {
            location: "europe-west1",
            metadata: { labels: SIGNER, annotations: { "run.googleapis.com/ingress": "internal" } },
            template: { spec: { containers: [{ image: IMAGE }] } },
        });
        new gcp.cloudrun.Service("v1-all", {
            location: "europe-west1",
            metadata: { labels: SIGNER, annotations: { "run.googleapis.com/ingress": "all" } },
            template: { spec: { containers: [{ image: IMAGE }] } },
        });

        const cpMember = pulumi.interpolate`serviceAccount:${cp.email}`;
        new gcp.cloudrunv2.ServiceIamMember("inv-good", { name: svc.name, location: "europe-west1", role: "roles/run.invoker", member: cpMember });
        new gcp.cloudrunv2.ServiceIamMember("inv-all-users", { name: svc.name, location: "europe-west1", role: "roles/run.invoker", member: "allUsers" });
        new gcp.cloudrunv2.ServiceIamBinding("inv-binding-auth", { name: svc.name, location: "europe-west1", role: "roles/run.invoker", members: [cpMember, "allAuthenticatedUsers"] });
        new gcp.cloudrun.IamMember("v1-inv-all-users", { service: "signer", location: "europe-west1", role: "roles/run.invoker", member: "allUsers" });
        // policyData as gcp.organizations.getIAMPolicy renders it (the engine does not model that data source).
        const invokerPolicy = JSON.stringify({ bindings: [{ role: "roles/run.invoker", members: ["allUsers"] }] });
        new gcp.cloudrunv2.ServiceIamPolicy("inv-policy-public", { name: svc.name, location: "europe-west1", policyData: invokerPolicy });

        // no-public-iam: everything that is not a Cloud Run service grant.
        new gcp.projects.IAMMember("proj-all-users", { project: "fleet-proj", role: "roles/viewer", member: "allUsers" });
        new gcp.projects.IAMMember("proj-good", { project: "fleet-proj", role: "roles/viewer", member: cpMember });
        new gcp.storage.BucketIAMBinding("bucket-public", { bucket: "provenance", role: "roles/storage.objectViewer", members: ["allUsers"] });
        new gcp.kms.CryptoKeyIAMMember("key-public", { cryptoKeyId: "projects/p/locations/l/keyRings/r/cryptoKeys/k", role: "roles/cloudkms.signerVerifier", member: "allAuthenticatedUsers" });
        new gcp.serviceaccount.IAMBinding("sa-public", { serviceAccountId: sa.name, role: "roles/iam.serviceAccountTokenCreator", members: ["allAuthenticatedUsers"] });
        new gcp.cloudrunv2.JobIamMember("job-public", { name: "job", location: "europe-west1", role: "roles/run.invoker", member: "allUsers" });
        new gcp.storage.BucketAccessControl("acl-public", { bucket: "provenance", entity: "allUsers", role: "READER" });
        new gcp.storage.BucketACL("acl-predefined", { bucket: "provenance", predefinedAcl: "publicRead" });
        new gcp.storage.ObjectACL("acl-entities", { bucket: "provenance", object: "o", roleEntities: ["READER:allUsers"] });
        new gcp.storage.BucketAccessControl("acl-good", { bucket: "provenance", entity: "group-auditors@example.com", role: "READER" });
        const data = JSON.stringify({ bindings: [{ role: "roles/storage.objectViewer", members: ["allUsers"] }] });
        new gcp.storage.BucketIAMPolicy("bucket-policy-public", { bucket: "provenance", policyData: data });
        if (preview) {
            // policyData computed from an unknown email: a literal allUsers could hide inside.
            const computed = cp.email.apply((e) => JSON.stringify({ bindings: [{ role: "roles/storage.objectViewer", members: [`serviceAccount:${e}`] }] }));
            new gcp.storage.BucketIAMPolicy("bucket-policy-computed", { bucket: "provenance", policyData: computed });
        }
    };
}

describe("resource rules: signer service and public IAM", function () {
    this.timeout(60000);
    let c: Checked;
    let p: Checked;
    before(async () => {
        c = await check(program(false));
        p = await check(program(true), { preview: true });
    });

    it("signer-service-internal-ingress (v2 and v1)", () => {
        assertFired(c, "svc-good", []);
        assertFired(c, "svc-all", ["signer-service-internal-ingress"]);
        assertFired(c, "svc-default-ingress", ["signer-service-internal-ingress"]);
        assertMessage(c, "svc-default-ingress", "signer-service-internal-ingress", "INGRESS_TRAFFIC_ALL");
        assertFired(c, "svc-lb", ["signer-service-internal-ingress"]);
        assertFired(c, "svc-unlabelled-public-ingress", []);
        assertFired(c, "v1-good", []);
        assertFired(c, "v1-all", ["signer-service-internal-ingress"]);
    });
    it("signer-service-no-public-invoker: invokerIamDisabled; public IAM grants on Cloud Run are the stack rule's", () => {
        assertFired(c, "svc-no-invoker-iam", ["signer-service-no-public-invoker"]);
        assertFired(c, "svc-good", []);
        // Public grants need the target service, so the stack rule cloud-run-no-public-invoker judges them
        // (test/policies/stack/publicInvoker.test.ts); no resource rule may double-report them.
        for (const name of ["inv-good", "inv-all-users", "inv-binding-auth", "v1-inv-all-users", "inv-policy-public"]) {
            assertFired(c, name, []);
        }
    });
    it("no-public-iam: any other IAM resource or storage ACL", () => {
        for (const name of ["proj-all-users", "bucket-public", "key-public", "sa-public", "job-public", "acl-public", "acl-predefined", "acl-entities", "bucket-policy-public"]) {
            assertFired(c, name, ["no-public-iam"]);
        }
        assertFired(c, "proj-good", []);
        assertFired(c, "acl-good", []);
    });
    describe("preview", () => {
        it("an unknown member email is not public", () => {
            assertFired(p, "inv-good", []);
            assert.deepStrictEqual(p.undecided("inv-good"), []);
            assertFired(p, "svc-good", []);
            assert.deepStrictEqual(p.undecided("svc-good"), []);
        });
        it("an unknown policyData is an advisory 'cannot decide'", () => {
            assert.deepStrictEqual(p.undecided("bucket-policy-computed"), ["no-public-iam"]);
            assert.ok(p.on("bucket-policy-computed").every((v) => v.enforcementLevel === "advisory"));
        });
    });
});
