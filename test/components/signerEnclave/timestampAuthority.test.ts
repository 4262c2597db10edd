/**
 * The enclave's timestamp authority: sigstore timestamp-authority on Cloud Run, digest-pinned, internal
 * only, invoked by the signer alone, with an HSM key only its own identity can use; the signer's env
 * points at it; and the policy pack keeps it that way (each variant that moves it out is refused).
 */
import * as assert from "assert";
import { generateKeyPairSync } from "crypto";
import * as gcp from "@pulumi/gcp";
import { evaluatePolicies, ProgramRun, runProgram } from "../../../plan/engine";
import { policies } from "../../../policies/rules";
import { SignerEnclave, SignerEnclaveArgs, validateSignerEnclaveArgs } from "../../../components/signerEnclave";
import { loadSignerConfig } from "../../../services/signer/config";
import { LocalTsa, startLocalTsa } from "../../../services/sim/localTsa";

const IMAGE = `europe-docker.pkg.dev/signer-proj/ghcr/sigstore/timestamp-server@sha256:${"c".repeat(64)}`;
const base: SignerEnclaveArgs = {
    project: "signer-proj",
    region: "europe-west1",
    cidr: "10.90.0.0/24",
    serviceImage: `europe-docker.pkg.dev/signer-proj/signer/signer@sha256:${"a".repeat(64)}`,
    invokers: ["serviceAccount:control-plane@cp-proj.iam.gserviceaccount.com"],
    builderId: "https://github.com/acme/hardened-build-fleet/enc",
};
const named = (run: ProgramRun, name: string) => {
    const found = run.resources.filter((r) => r.name === name);
    assert.strictEqual(found.length, 1, `one resource named ${name}`);
    return found[0];
};
const envOf = (run: ProgramRun, name: string) =>
    Object.fromEntries((named(run, name).inputs.template.containers[0].envs as { name: string; value: string }[]).map((e) => [e.name, e.value]));

describe("SignerEnclave timestamp authority", function () {
    this.timeout(60_000);
    let tsa: LocalTsa;
    let run: ProgramRun;
    const build = (args: Partial<SignerEnclaveArgs>, extra?: (e: SignerEnclave) => void) =>
        runProgram(() => {
            const e = new SignerEnclave("enc", { ...base, ...args });
            extra?.(e);
            return { tsaUrl: e.tsaUrl, tsaKeyVersionName: e.tsaKeyVersionName };
        });

    before(async () => {
        tsa = await startLocalTsa();
        run = await build({ timestampAuthority: { image: IMAGE, certificateChainPem: tsa.certChainPem } });
    });
    after(() => tsa.close());

    it("creates an HSM EC P-256 signing key for the TSA, protected, usable by the TSA's own service account only", () => {
        const key = named(run, "enc-tsa-key");
        assert.strictEqual(key.inputs.purpose, "ASYMMETRIC_SIGN");
        assert.deepStrictEqual(key.inputs.versionTemplate, { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "HSM" });
        assert.strictEqual(key.protect, true);
        assert.strictEqual(key.inputs.deletionPolicy, "PREVENT");
        const binding = named(run, "enc-tsa-key-signer");
        assert.strictEqual(binding.type, "gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding");
        assert.strictEqual(binding.inputs.cryptoKeyId, key.id);
        assert.deepStrictEqual(binding.inputs.members, [`serviceAccount:${named(run, "enc-tsa-sa").outputs.email}`]);
        assert.notStrictEqual(named(run, "enc-tsa-sa").outputs.email, named(run, "enc-sa").outputs.email, "not the signer's identity");
    });

    it("runs sigstore's timestamp-server digest-pinned, internal only, as the TSA identity, with the KMS key and the mounted chain", () => {
        const svc = named(run, "enc-tsa");
        assert.strictEqual(svc.inputs.ingress, "INGRESS_TRAFFIC_INTERNAL_ONLY");
        assert.strictEqual(svc.inputs.template.serviceAccount, named(run, "enc-tsa-sa").outputs.email);
        const c = svc.inputs.template.containers[0];
        assert.strictEqual(c.image, IMAGE);
        assert.ok(c.args.includes("--timestamp-signer=kms"), c.args.join(" "));
        assert.ok(c.args.includes(`--kms-key-resource=gcpkms://${named(run, "enc-tsa-key").id}/cryptoKeyVersions/1`), c.args.join(" "));
        assert.ok(c.args.includes("--certificate-chain-path=/etc/timestamp-authority/chain.pem"));
        assert.strictEqual(named(run, "enc-tsa-chain-version").inputs.secretData, tsa.certChainPem);
        assert.deepStrictEqual(named(run, "enc-tsa-chain-reader").inputs.members, [`serviceAccount:${named(run, "enc-tsa-sa").outputs.email}`]);
        assert.deepStrictEqual(named(run, "enc-tsa-invokers").inputs.members, [`serviceAccount:${named(run, "enc-sa").outputs.email}`], "only the signer asks for timestamps");
    });

    it("points the signer at it: SIGNER_TSA_URL is the TSA's URL, the chain is passed, and the signer's config loader accepts it", () => {
        const env = envOf(run, "enc-signer");
        assert.strictEqual(env.SIGNER_TSA_URL, run.outputs.tsaUrl);
        assert.strictEqual(env.SIGNER_TSA_CERT_CHAIN, tsa.certChainPem);
        assert.strictEqual(env.SIGNER_TLOG_URL, undefined, "no log unless configured");
        const config = loadSignerConfig(env, new Date());
        assert.strictEqual(config.witnesses.tsaUrl, run.outputs.tsaUrl);
        assert.strictEqual(run.outputs.tsaKeyVersionName, `${named(run, "enc-tsa-key").id}/cryptoKeyVersions/1`);
    });

    it("before the chain exists: the key and its identity, no TSA service, and the signer is told where the TSA will be", async () => {
        const bootstrap = await build({});
        assert.ok(named(bootstrap, "enc-tsa-key"));
        assert.strictEqual(bootstrap.resources.filter((r) => r.name === "enc-tsa").length, 0);
        const env = envOf(bootstrap, "enc-signer");
        assert.strictEqual(env.SIGNER_TSA_URL, bootstrap.outputs.tsaUrl);
        assert.strictEqual(env.SIGNER_TSA_CERT_CHAIN, undefined, "read from the TSA at start");
    });

    it("passes the log to the signer when one is configured", async () => {
        const logKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }).toString();
        const withLog = await build({ transparencyLog: { url: "https://rekor.sigstore.dev", publicKeyPem: logKey } });
        const env = envOf(withLog, "enc-signer");
        assert.strictEqual(env.SIGNER_TLOG_URL, "https://rekor.sigstore.dev");
        assert.strictEqual(env.SIGNER_TLOG_PUBLIC_KEY, logKey);
    });

    it("refuses a TSA image that is not pinned by digest, and a log that is not https, naming the field", () => {
        const problems = validateSignerEnclaveArgs("enc", { ...base, timestampAuthority: { image: "ghcr.io/sigstore/timestamp-server:v1.2.3" }, transparencyLog: { url: "http://rekor.local", publicKeyPem: "x" } });
        assert.ok(problems.some((p) => /^timestampAuthority\.image: "ghcr\.io\/sigstore\/timestamp-server:v1\.2\.3" .*@sha256/.test(p)), problems.join("\n"));
        assert.ok(problems.some((p) => /^transparencyLog\.url: "http:\/\/rekor\.local" must be the https URL/.test(p)), problems.join("\n"));
        assert.ok(problems.some((p) => /^transparencyLog\.publicKeyPem: is not a PEM public key/.test(p)), problems.join("\n"));
    });

    describe("the policy pack keeps it in the enclave", () => {
        const keyPolicies = (r: ProgramRun) => evaluatePolicies(r, policies).then((ev) => ev.violations);

        it("passes with the TSA as deployed: the TSA key's one signer is the TSA identity, the provenance key's the signer's", async () => {
            // The organization's perimeter and guardrails are the fleet's (OrgGuardrails, FleetPerimeter), not the enclave's.
            // The evidence locks are an irreversible opt-in of production stacks (signer-evidence-locked), not this trial enclave's.
            const orgLevel = new Set(["signer-perimeter", "org-guardrails", "signer-evidence-locked"]);
            const violations = (await keyPolicies(run)).filter((v) => v.enforcementLevel === "mandatory" && !orgLevel.has(v.policy));
            assert.deepStrictEqual(violations.map((v) => `${v.policy}: ${v.message}`), []);
        });

        it("single-signer refuses a second principal able to sign with the TSA key", async () => {
            const bad = await build({ timestampAuthority: { image: IMAGE, certificateChainPem: tsa.certChainPem } }, (e) => {
                new gcp.kms.CryptoKeyIAMMember("extra-tsa-signer", { cryptoKeyId: e.timestampAuthority.key.id, role: "roles/cloudkms.signer", member: "serviceAccount:control-plane@cp-proj.iam.gserviceaccount.com" });
            });
            const v = (await keyPolicies(bad)).filter((x) => x.policy === "single-signer");
            assert.ok(v.some((x) => /control-plane@cp-proj.* can sign with signer key enc-tsa-key but is not the signer identity/.test(x.message)), v.map((x) => x.message).join("\n"));
        });

        it("single-signer refuses the signer's identity being able to sign timestamps (it could back-date)", async () => {
            const bad = await build({ timestampAuthority: { image: IMAGE, certificateChainPem: tsa.certChainPem } }, (e) => {
                new gcp.kms.CryptoKeyIAMMember("signer-signs-timestamps", { cryptoKeyId: e.timestampAuthority.key.id, role: "roles/cloudkms.signer", member: e.signerMember });
            });
            const v = (await keyPolicies(bad)).filter((x) => x.policy === "single-signer");
            assert.ok(v.some((x) => /can sign with signer key enc-tsa-key/.test(x.message)), v.map((x) => x.message).join("\n"));
        });

        it("signer-key-hsm refuses a SOFTWARE TSA key; signer-service-pinned-image refuses a TSA image by tag", async () => {
            const bad = await build({ protectionLevel: "SOFTWARE", allowSoftwareKeyForDevelopment: true, timestampAuthority: { image: IMAGE, certificateChainPem: tsa.certChainPem } }, (e) => {
                new gcp.cloudrunv2.Service("rogue-tsa", {
                    project: "signer-proj", location: "europe-west1", ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY", labels: { "build-fleet-role": "signer" },
                    template: { serviceAccount: e.timestampAuthority.serviceAccount.email, containers: [{ image: "ghcr.io/sigstore/timestamp-server:latest" }] },
                }, { parent: e });
            });
            const violations = await keyPolicies(bad);
            const urnOf = (name: string) => named(bad, name).urn;
            assert.ok(violations.some((v) => v.urn === urnOf("enc-tsa-key") && /hsm/i.test(v.policy)), violations.filter((v) => v.urn === urnOf("enc-tsa-key")).map((v) => v.policy).join(", "));
            assert.ok(violations.some((v) => v.policy === "signer-service-pinned-image" && v.urn === urnOf("rogue-tsa")), violations.map((v) => v.policy).join(", "));
        });
    });
});
