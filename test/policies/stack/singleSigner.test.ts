import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import { evaluateFleet, assertFinding, findings, SIGNER_PROJECT, WORKER_PROJECT } from "../../helpers/stackPolicy";

const P = "single-signer";

describe("stack rule single-signer (I9)", () => {
    it("flags a runner SA granted roles/cloudkms.signer at project level in the signer project", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.projects.IAMMember("bad-project-signer", { project: SIGNER_PROJECT, role: "roles/cloudkms.signer", member: f.pools.a.sa.member });
        });
        assertFinding(ev, P, /runner-a@worker-proj\.iam\.gserviceaccount\.com can sign .* via roles\/cloudkms\.signer on project signer-proj/, {
            alsoAllowed: ["runners-cannot-reach-enclave"],
        });
    });

    it("ignores a project-level signer grant in another project", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.projects.IAMMember("other-project-signer", { project: WORKER_PROJECT, role: "roles/cloudkms.signer", member: f.controlPlaneSa.member });
        });
        assert.deepStrictEqual(ev.violations, [], findings(ev));
    });

    it("flags token creator on the signer SA (impersonation)", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.serviceaccount.IAMMember("bad-token-creator", {
                serviceAccountId: f.signer.sa.name, role: "roles/iam.serviceAccountTokenCreator", member: f.controlPlaneSa.member,
            });
        });
        assertFinding(ev, P, /fleet-control@worker-proj.* can sign .* via roles\/iam\.serviceAccountTokenCreator on service account provenance-signer@signer-proj.*impersonates the signer/);
    });

    it("flags a custom role holding useToSign granted on the key ring", async () => {
        const ev = await evaluateFleet((f) => {
            const role = new gcp.projects.IAMCustomRole("sneaky-role", {
                project: SIGNER_PROJECT, roleId: "sneakySigner", title: "sneaky", permissions: ["cloudkms.cryptoKeyVersions.useToSign"],
            });
            new gcp.kms.KeyRingIAMMember("bad-ring-custom", { keyRingId: f.signer.ring.id, role: role.name, member: "user:mallory@example.com" });
        });
        assertFinding(ev, P, /user:mallory@example\.com can sign .* via projects\/signer-proj\/roles\/sneakySigner on key ring signer-ring/);
    });

    it("decides a custom role by its dependency during preview", async () => {
        const ev = await evaluateFleet((f) => {
            const role = new gcp.projects.IAMCustomRole("sneaky-role", {
                project: SIGNER_PROJECT, roleId: "sneakySigner", title: "sneaky", permissions: ["cloudkms.cryptoKeyVersions.useToSign"],
            });
            new gcp.kms.KeyRingIAMMember("bad-ring-custom", { keyRingId: f.signer.ring.id, role: role.name, member: "user:mallory@example.com" });
        }, { preview: true });
        assertFinding(ev, P, /user:mallory@example\.com can sign .* on key ring signer-ring/);
    });

    it("flags a custom role outside the stack (permissions cannot be checked)", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.kms.CryptoKeyIAMMember("external-custom", { cryptoKeyId: f.signer.key.id, role: "projects/other/roles/mystery", member: "group:ops@example.com" });
        });
        assertFinding(ev, P, /group:ops@example\.com .*custom role not defined in this stack/, { alsoAllowed: ["signer-key-versions-controlled"] });
    });

    it("flags signerVerifier on the key, cryptoOperator in a key ring IAM policy, and signer at folder scope", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.kms.CryptoKeyIAMMember("verifier-signs", { cryptoKeyId: f.signer.key.id, role: "roles/cloudkms.signerVerifier", member: "user:alice@example.com" });
            new gcp.kms.KeyRingIAMPolicy("ring-policy", {
                keyRingId: f.signer.ring.id,
                policyData: JSON.stringify({ bindings: [{ role: "roles/cloudkms.cryptoOperator", members: ["group:ops@example.com"] }] }),
            });
            new gcp.folder.IAMBinding("folder-signers", { folder: "folders/123", role: "roles/cloudkms.signer", members: ["user:bob@example.com"] });
        });
        assertFinding(ev, P, /user:alice@example\.com can sign .* roles\/cloudkms\.signerVerifier on crypto key signer-key/);
        assertFinding(ev, P, /group:ops@example\.com can sign .* roles\/cloudkms\.cryptoOperator on key ring/);
        assertFinding(ev, P, /user:bob@example\.com can sign .* roles\/cloudkms\.signer on folder folders\/123/);
    });

    it("flags owner at organization scope and counts conditional bindings", async () => {
        const ev = await evaluateFleet(() => {
            new gcp.organizations.IAMMember("org-owner", {
                orgId: "1234567890", role: "roles/owner", member: "user:carol@example.com",
                condition: { title: "business-hours", expression: "request.time.getHours(\"UTC\") < 18" },
            });
        });
        assertFinding(ev, P, /user:carol@example\.com can sign .* roles\/owner on organization 1234567890 \(conditional binding, still counted\).*can grant itself/, {
            alsoAllowed: ["provenance-by-control-plane", "signer-key-versions-controlled", "signer-invoked-by-generator-only", "platform-identity-impersonation"],
        });
    });

    it("flags cloudkms.admin on the key (can grant itself sign)", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.kms.CryptoKeyIAMMember("key-admin", { cryptoKeyId: f.signer.key.id, role: "roles/cloudkms.admin", member: "user:dave@example.com" });
        });
        assertFinding(ev, P, /user:dave@example\.com .*roles\/cloudkms\.admin .*can grant itself cloudkms\.cryptoKeyVersions\.useToSign/, { alsoAllowed: ["signer-key-versions-controlled"] });
    });

    it("flags a service-account key for the signer SA", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.serviceaccount.Key("signer-key-file", { serviceAccountId: f.signer.sa.name });
        });
        assertFinding(ev, P, /whoever holds service-account key signer-key-file can sign/);
    });

    it("flags a signer SA without sign permission", async () => {
        const ev = await evaluateFleet(undefined, { omit: { signerBinding: true } });
        assertFinding(ev, P, /the signer serviceAccount:provenance-signer@signer-proj\.iam\.gserviceaccount\.com lacks cloudkms\.cryptoKeyVersions\.useToSign/);
    });

    it("preview: a member whose email is unknown is resolved through propertyDependencies", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.kms.KeyRingIAMMember("runner-ring-signer", { keyRingId: f.signer.ring.id, role: "roles/cloudkms.signer", member: f.pools.b.sa.member });
        }, { preview: true });
        assertFinding(ev, P, /runner-b@worker-proj\.iam\.gserviceaccount\.com can sign .* on key ring signer-ring/, { alsoAllowed: ["runners-cannot-reach-enclave"] });
    });

    it("preview: a member that depends on no service account cannot be decided", async () => {
        const ev = await evaluateFleet((f) => {
            // The member is derived from another resource's output that is no service account.
            new gcp.kms.CryptoKeyIAMMember("opaque-member", { cryptoKeyId: f.signer.key.id, role: "roles/cloudkms.signer", member: f.pools.a.intake.url.apply((u) => `user:${u.slice(5)}@example.com`) });
        }, { preview: true });
        assertFinding(ev, P, /^cannot decide during preview: the member of opaque-member is unknown until apply/, {
            undecided: true, alsoAllowed: ["runners-cannot-reach-enclave"],
        });
    });
});
