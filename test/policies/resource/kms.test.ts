/**
 * Signer key rules (I8) and no-service-account-keys (I7) over raw KMS / IAM resources.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import { Checked, check, evaluate, assertFired, assertMessage } from "../../helpers/resourcePolicy";

const SIGNER = { "build-fleet-role": "signer" };

function program() {
    const ring = new gcp.kms.KeyRing("ring", { location: "europe-west1" }, { protect: true });
    new gcp.kms.KeyRing("ring-unprotected", { location: "europe-west1" });
    const good: gcp.kms.CryptoKeyArgs = {
        keyRing: ring.id,
        purpose: "ASYMMETRIC_SIGN",
        labels: SIGNER,
        versionTemplate: { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "HSM" },
    };
    new gcp.kms.CryptoKey("key-good", good, { protect: true });
    new gcp.kms.CryptoKey("key-prevent", { ...good, deletionPolicy: "PREVENT" });
    new gcp.kms.CryptoKey("key-encrypt", { ...good, purpose: "ENCRYPT_DECRYPT", versionTemplate: { algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION", protectionLevel: "HSM" } }, { protect: true });
    new gcp.kms.CryptoKey("key-p384", { ...good, versionTemplate: { algorithm: "EC_SIGN_P384_SHA384", protectionLevel: "HSM" } }, { protect: true });
    new gcp.kms.CryptoKey("key-software", { ...good, versionTemplate: { algorithm: "EC_SIGN_P256_SHA256" } }, { protect: true });
    new gcp.kms.CryptoKey("key-import-only", { ...good, importOnly: true, skipInitialVersionCreation: true }, { protect: true });
    new gcp.kms.CryptoKey("key-unprotected", good);
    // Unlabelled but ASYMMETRIC_SIGN: a signer key (fail closed).
    new gcp.kms.CryptoKey("key-unlabelled-sign", { ...good, labels: undefined, versionTemplate: { algorithm: "RSA_SIGN_PSS_2048_SHA256" } });
    // An unlabelled encryption key is none of these rules' business.
    new gcp.kms.CryptoKey("key-cmek", { keyRing: ring.id, purpose: "ENCRYPT_DECRYPT" });

    const sa = new gcp.serviceaccount.Account("runner-sa", { accountId: "runner-a" });
    new gcp.serviceaccount.Key("sa-key", { serviceAccountId: sa.name });
}

describe("resource rules: signer keys and service-account keys", function () {
    this.timeout(60000);
    let c: Checked;
    let p: Checked;
    before(async () => {
        c = await check(program);
        p = await check(program, { preview: true });
    });

    it("an HSM P-256 ASYMMETRIC_SIGN key, protected, on a protected ring passes", () => {
        assertFired(c, "key-good", []);
        assertFired(c, "key-prevent", []);
        assertFired(c, "ring", []);
        assertFired(c, "key-cmek", []);
    });
    it("signer-key-asymmetric-sign", () => {
        assertFired(c, "key-encrypt", ["signer-key-algorithm", "signer-key-asymmetric-sign"]);
        assertMessage(c, "key-encrypt", "signer-key-asymmetric-sign", "ENCRYPT_DECRYPT");
    });
    it("signer-key-algorithm", () => {
        assertFired(c, "key-p384", ["signer-key-algorithm"]);
        assertMessage(c, "key-p384", "signer-key-algorithm", "EC_SIGN_P384_SHA384");
    });
    it("signer-key-hsm", () => {
        assertFired(c, "key-software", ["signer-key-hsm"]);
        assertMessage(c, "key-software", "signer-key-hsm", "SOFTWARE");
        assertFired(c, "key-import-only", ["signer-key-hsm"]);
        assertMessage(c, "key-import-only", "signer-key-hsm", "importOnly");
    });
    it("signer-key-deletion-protected; key ring protection is a stack rule (a CMEK ring need not be protected)", () => {
        assertFired(c, "key-unprotected", ["signer-key-deletion-protected"]);
        // signer-key-ring-deletion-protected needs the keys of the ring: test/policies/insecure/ (stack) covers it.
        assertFired(c, "ring-unprotected", []);
    });
    it("any ASYMMETRIC_SIGN key is a signer key", () => {
        assertFired(c, "key-unlabelled-sign", ["signer-key-algorithm", "signer-key-deletion-protected", "signer-key-hsm"]);
    });
    it("allowedAlgorithms overrides the default allow-list", async () => {
        const cfg = await evaluate(c.run, { policyConfig: { "signer-key-algorithm": { allowedAlgorithms: ["EC_SIGN_P384_SHA384"] } } });
        assertFired(cfg, "key-p384", []);
        assertFired(cfg, "key-good", ["signer-key-algorithm"]);
    });
    it("no-service-account-keys", () => {
        assertFired(c, "sa-key", ["no-service-account-keys"]);
        assertFired(c, "runner-sa", []);
    });
    it("preview: an unknown key ring id does not change the verdicts", () => {
        assertFired(p, "key-good", []);
        assert.deepStrictEqual(p.undecided("key-good"), []);
        assertFired(p, "key-unprotected", ["signer-key-deletion-protected"]);
        assertFired(p, "sa-key", ["no-service-account-keys"]);
    });
});
