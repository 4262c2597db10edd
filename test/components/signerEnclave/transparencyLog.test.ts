/**
 * The enclave's private transparency log: rekor-tiles on Cloud Run, digest-pinned, internal only, invoked by the
 * signer alone, with an HSM key, a Spanner sequencer and a tiles bucket only its own identity can use; the signer's
 * env points at it (Rekor v2, with its ID token); and the policy pack keeps it that way.
 */
import * as assert from "assert";
import { generateKeyPairSync } from "crypto";
import * as gcp from "@pulumi/gcp";
import { evaluatePolicies, ProgramRun, runProgram } from "../../../plan/engine";
import { policies } from "../../../policies/rules";
import { SignerEnclave, SignerEnclaveArgs, validateSignerEnclaveArgs } from "../../../components/signerEnclave";
import { loadSignerConfig } from "../../../services/signer/config";
import { throwawayTsaChain } from "../../helpers/tsaChain";
import { MINIMAL_ENCLAVE_ARGS } from "../../helpers/enclaveArgs";

/** The one resource of `run` named `name` (the log's bucket, Spanner instance and service share a name: their types differ). */
const named = (run: ProgramRun, name: string, type?: string) => {
    const found = run.resources.filter((r) => r.name === name && (type === undefined || r.type === type));
    assert.strictEqual(found.length, 1, `one resource named ${name}`);
    return found[0];
};

const IMAGE = `europe-docker.pkg.dev/signer-proj/ghcr/sigstore/rekor-tiles/gcp@sha256:${"d".repeat(64)}`;
const TSA_IMAGE = `europe-docker.pkg.dev/signer-proj/ghcr/sigstore/timestamp-server@sha256:${"c".repeat(64)}`;
const base: SignerEnclaveArgs = MINIMAL_ENCLAVE_ARGS;

describe("SignerEnclave private transparency log (rekor-tiles)", function () {
    this.timeout(60_000);
    let run: ProgramRun;
    let chain: string;
    const build = (args: Partial<SignerEnclaveArgs>, extra?: (e: SignerEnclave) => void) =>
        runProgram(() => {
            const e = new SignerEnclave("enc", { ...base, timestampAuthority: { image: TSA_IMAGE, certificateChainPem: chain }, ...args });
            extra?.(e);
            return { tlogUrl: e.privateTransparencyLog?.url };
        });

    before(async () => {
        chain = await throwawayTsaChain();
        run = await build({ privateTransparencyLog: { image: IMAGE, readers: ["group:log-auditors@acme.example"] } });
    });

    it("creates an HSM EC P-256 key for the log's checkpoints, protected, usable by the log's own identity only", () => {
        const key = named(run, "enc-tlog-key");
        assert.deepStrictEqual(key.inputs.versionTemplate, { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "HSM" });
        assert.strictEqual(key.protect, true);
        const sa = named(run, "enc-tlog-sa").outputs.email;
        assert.notStrictEqual(sa, named(run, "enc-sa").outputs.email, "not the signer's identity");
        assert.deepStrictEqual(named(run, "enc-tlog-key-signer").inputs.members, [`serviceAccount:${sa}`]);
        assert.deepStrictEqual(named(run, "enc-tlog-writer").inputs.members, [`serviceAccount:${sa}`]);
        const bucket = run.resources.find((r) => r.type === "gcp:storage/bucket:Bucket" && r.name === "enc-tlog")!;
        assert.deepStrictEqual([bucket.inputs.uniformBucketLevelAccess, bucket.inputs.publicAccessPrevention], [true, "enforced"]);
        assert.deepStrictEqual(named(run, "enc-tlog-readers").inputs.members, ["group:log-auditors@acme.example"]);
        assert.strictEqual(named(run, "enc-tlog-readers").inputs.role, "roles/storage.objectViewer");
        assert.deepStrictEqual(named(run, "enc-tlog-db-user").inputs.members, [`serviceAccount:${sa}`]);
    });

    it("runs rekor-tiles digest-pinned, internal only, as the log identity, on its bucket, Spanner database and KMS key; only the signer invokes it", () => {
        const svc = run.resources.find((r) => r.type === "gcp:cloudrunv2/service:Service" && r.name === "enc-tlog")!;
        assert.strictEqual(svc.inputs.ingress, "INGRESS_TRAFFIC_INTERNAL_ONLY");
        assert.strictEqual(svc.inputs.invokerIamDisabled, false);
        assert.strictEqual(svc.inputs.template.serviceAccount, named(run, "enc-tlog-sa").outputs.email);
        const c = svc.inputs.template.containers[0];
        assert.strictEqual(c.image, IMAGE);
        const args: string[] = c.args;
        assert.ok(args.includes(`--signer-kmskey=gcpkms://${named(run, "enc-tlog-key").id}/cryptoKeyVersions/1`), args.join(" "));
        assert.ok(args.some((a) => /^--gcp-spanner=projects\/signer-proj\/instances\/.+\/databases\/tlog$/.test(a)), args.join(" "));
        assert.ok(args.some((a) => a.startsWith("--gcp-bucket=")), args.join(" "));
        assert.ok(args.includes(`--hostname=${new URL(run.outputs.tlogUrl).host}`), args.join(" "));
        assert.deepStrictEqual(named(run, "enc-tlog-invokers").inputs.members, [`serviceAccount:${named(run, "enc-sa").outputs.email}`]);
    });

    it("points the signer at it (Rekor v2, with its ID token), and the signer's config loader accepts that environment", () => {
        const svc = named(run, "enc-signer");
        const env = Object.fromEntries((svc.inputs.template.containers[0].envs as { name: string; value: string }[]).map((e) => [e.name, e.value]));
        assert.strictEqual(env.SIGNER_TLOG_URL, run.outputs.tlogUrl);
        assert.strictEqual(env.SIGNER_TLOG_API_VERSION, "2");
        assert.strictEqual(env.SIGNER_TLOG_IDENTITY, "true");
        const config = loadSignerConfig(env, new Date());
        assert.deepStrictEqual([config.witnesses.tlogApiVersion, config.witnesses.tlogIdentity], [2, true]);
    });

    it("refuses a log image by tag, an impossible Spanner size, and both log options at once, naming each field", () => {
        const problems = validateSignerEnclaveArgs("enc", {
            ...base,
            privateTransparencyLog: { image: "ghcr.io/sigstore/rekor-tiles/gcp:v2.0.0", spannerProcessingUnits: 150 },
            transparencyLog: { url: "https://rekor.sigstore.dev", publicKeyPem: generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }).toString() },
        });
        assert.ok(problems.some((p) => /^privateTransparencyLog\.image: "ghcr\.io\/sigstore\/rekor-tiles\/gcp:v2\.0\.0" .*@sha256/.test(p)), problems.join("\n"));
        assert.ok(problems.some((p) => /^privateTransparencyLog\.spannerProcessingUnits: 150 is not a Spanner size/.test(p)), problems.join("\n"));
        assert.ok(problems.some((p) => /^privateTransparencyLog: set together with transparencyLog/.test(p)), problems.join("\n"));
    });

    describe("the policy pack keeps it in the enclave", () => {
        const violationsOf = (r: ProgramRun) => evaluatePolicies(r, policies).then((ev) => ev.violations);

        it("passes with the log as deployed", async () => {
            const orgLevel = new Set(["signer-perimeter", "org-guardrails", "signer-evidence-locked"]);
            const violations = (await violationsOf(run)).filter((v) => v.enforcementLevel === "mandatory" && !orgLevel.has(v.policy));
            assert.deepStrictEqual(violations.map((v) => `${v.policy} ${v.urn}: ${v.message}`), []);
        });

        it("single-signer refuses the signer's identity being able to sign the log's checkpoints", async () => {
            const bad = await build({ privateTransparencyLog: { image: IMAGE } }, (e) => {
                new gcp.kms.CryptoKeyIAMMember("signer-signs-checkpoints", { cryptoKeyId: e.privateTransparencyLog!.key.id, role: "roles/cloudkms.signer", member: e.signerMember });
            });
            const v = (await violationsOf(bad)).filter((x) => x.policy === "single-signer");
            assert.ok(v.some((x) => /can sign with signer key enc-tlog-key/.test(x.message)), v.map((x) => x.message).join("\n"));
        });

        it("signer-service-pinned-image refuses a log service by tag; signer-service-invokers-restricted-style rules refuse a public log", async () => {
            const bad = await build({ privateTransparencyLog: { image: IMAGE } }, (e) => {
                new gcp.cloudrunv2.Service("rogue-tlog", {
                    project: "signer-proj", location: "europe-west1", ingress: "INGRESS_TRAFFIC_ALL", labels: { "build-fleet-role": "signer" },
                    template: { serviceAccount: e.privateTransparencyLog!.serviceAccount.email, containers: [{ image: "ghcr.io/sigstore/rekor-tiles/gcp:latest" }] },
                }, { parent: e });
            });
            const violations = await violationsOf(bad);
            const urn = named(bad, "rogue-tlog").urn;
            const onRogue = violations.filter((v) => v.urn === urn && v.enforcementLevel === "mandatory").map((v) => v.policy);
            assert.ok(onRogue.includes("signer-service-pinned-image"), onRogue.join(", "));
            assert.ok(onRogue.length >= 2, `the public ingress is refused too: ${onRogue.join(", ")}`);
        });
    });
});
