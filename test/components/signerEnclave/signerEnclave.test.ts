/**
 * SignerEnclave: the captured graph proves I8 (HSM key, protected), I9 (single signer), I10 (enclave
 * isolation, internal ingress, invoker = control plane) and I12 (KMS data-access audit).
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ProgramRun, runProgram, UNKNOWN } from "../../../plan/engine";
import { defaultSignerAccountId, SignerEnclave, SignerEnclaveArgs, validateSignerEnclaveArgs } from "../../../components/signerEnclave";
import { loadSignerConfig } from "../../../services/signer/config";
import { LocalTsa, startLocalTsa } from "../../../services/sim/localTsa";
import { ancestorsOf, byType, component, dependsOn, findKey, stackOf, walk } from "../../helpers/graph";
import type { CapturedResource } from "../../../plan/engine/types";

/** The enclave's own resource of `type`, leaving out the timestamp authority's (timestampAuthority.test.ts covers those). */
function one(run: ProgramRun, type: string, name?: string): CapturedResource {
    const own = run.resources.filter((r) => r.type === type && !/-tsa(-|$)/.test(r.name) && (name === undefined || r.name === name));
    assert.strictEqual(own.length, 1, `expected exactly one ${type}${name ? ` named ${name}` : ""} outside the TSA, found ${own.length}`);
    return own[0];
}

const T = {
    enclave: "hardened-build-fleet:index:SignerEnclave",
    network: "hardened-build-fleet:index:IsolatedNetwork",
    vpc: "gcp:compute/network:Network",
    subnet: "gcp:compute/subnetwork:Subnetwork",
    random: "random:index/randomId:RandomId",
    ring: "gcp:kms/keyRing:KeyRing",
    key: "gcp:kms/cryptoKey:CryptoKey",
    keyBinding: "gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding",
    sa: "gcp:serviceaccount/account:Account",
    saKey: "gcp:serviceaccount/key:Key",
    service: "gcp:cloudrunv2/service:Service",
    invoker: "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding",
    bucket: "gcp:storage/bucket:Bucket",
    bucketBinding: "gcp:storage/bucketIAMBinding:BucketIAMBinding",
    audit: "gcp:projects/iAMAuditConfig:IAMAuditConfig",
    nat: "gcp:compute/routerNat:RouterNat",
    logBucket: "gcp:logging/projectBucketConfig:ProjectBucketConfig",
    logSink: "gcp:logging/projectSink:ProjectSink",
};
const KMS_VERSION_INVOKE = "gcp:kms/getKMSCryptoKeyVersion:getKMSCryptoKeyVersion";

const CP = "serviceAccount:control-plane@cp-proj.iam.gserviceaccount.com";
const base: SignerEnclaveArgs = {
    project: "signer-proj",
    region: "europe-west1",
    cidr: "10.90.0.0/24",
    serviceImage: "europe-docker.pkg.dev/signer-proj/signer/signer@sha256:" + "a".repeat(64),
    invokers: [CP],
    builderId: "https://github.com/acme/hardened-build-fleet/enc",
};
const SIGNER_EMAIL = "signer-signer@signer-proj.iam.gserviceaccount.com";
const SIGNER = `serviceAccount:${SIGNER_EMAIL}`;

async function build(args: Partial<SignerEnclaveArgs> = {}, preview = false, name = "signer"): Promise<ProgramRun> {
    return runProgram(() => {
        const e = new SignerEnclave(name, { ...base, ...args });
        return {
            keyId: e.keyId, keyVersionName: e.keyVersionName, publicKeyPem: e.publicKeyPem, serviceUrl: e.serviceUrl,
            signerServiceAccountEmail: e.signerServiceAccountEmail, signerMember: e.signerMember, provenanceBucketName: e.provenanceBucketName,
        };
    }, { preview });
}

function validateAndThrow(a: SignerEnclaveArgs): void {
    const problems = validateSignerEnclaveArgs("enc", a);
    if (problems.length > 0) {
        throw new Error(problems.join("\n"));
    }
}

describe("SignerEnclave", function () {
    this.timeout(60000);

    describe("with defaults", () => {
        let run: ProgramRun;
        before(async () => {
            run = await build({ verifiers: ["group:verifiers@example.com"], provenanceReaders: ["group:auditors@example.com"] });
        });

        it("creates a key ring with a random suffix, protected from deletion", () => {
            const suffix = one(run, T.random);
            const ring = one(run, T.ring);
            assert.strictEqual(suffix.inputs.byteLength, 4);
            assert.strictEqual(ring.inputs.name, `signer-ring-${suffix.outputs.hex}`);
            assert.match(ring.inputs.name, /^signer-ring-[0-9a-f]{8}$/);
            assert.strictEqual(ring.inputs.location, "europe-west1");
            assert.strictEqual(ring.inputs.project, "signer-proj");
            assert.strictEqual(ring.protect, true);
        });

        it("creates an HSM EC_SIGN_P256_SHA256 ASYMMETRIC_SIGN key with role labels, protected from deletion", () => {
            const key = one(run, T.key);
            const ring = one(run, T.ring);
            assert.strictEqual(key.inputs.purpose, "ASYMMETRIC_SIGN");
            assert.deepStrictEqual(key.inputs.versionTemplate, { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "HSM" });
            assert.strictEqual(key.inputs.keyRing, ring.id);
            assert.deepStrictEqual(key.inputs.labels, { "build-fleet-role": "signer" });
            assert.strictEqual(key.inputs.rotationPeriod, undefined, "KMS cannot auto-rotate asymmetric keys");
            assert.strictEqual(key.inputs.deletionPolicy, "PREVENT");
            assert.strictEqual(key.protect, true);
        });

        it("creates a dedicated signer service account and no service-account key anywhere", () => {
            const sa = one(run, T.sa);
            assert.strictEqual(sa.inputs.accountId, "signer-signer");
            assert.strictEqual(sa.inputs.project, "signer-proj");
            assert.strictEqual(sa.outputs.email, SIGNER_EMAIL);
            assert.deepStrictEqual(byType(run, T.saKey), []);
        });

        it("grants roles/cloudkms.signer authoritatively to exactly the signer SA", () => {
            const key = one(run, T.key);
            const bindings = byType(run, T.keyBinding);
            const signer = bindings.filter((b) => b.inputs.role === "roles/cloudkms.signer");
            assert.strictEqual(signer.length, 1);
            assert.strictEqual(signer[0].inputs.cryptoKeyId, key.id);
            assert.deepStrictEqual(signer[0].inputs.members, [SIGNER]);
            assert.deepStrictEqual(signer[0].propertyDependencies.members, [one(run, T.sa).urn]);
            // No other grant anywhere can use the key to sign.
            const signingRoles = /cloudkms\.(signer|signerVerifier|admin|cryptoKeyEncrypterDecrypter)|roles\/(owner|editor)/;
            // (The TSA key has its own single signer: timestampAuthority.test.ts.)
            const tsaKey = byType(run, T.key).find((k) => k.name === "signer-tsa-key")!;
            const grants = run.resources.filter((r) => typeof r.inputs.role === "string" && signingRoles.test(r.inputs.role) && r.inputs.cryptoKeyId !== tsaKey.id);
            assert.deepStrictEqual(grants.map((g) => g.urn), [signer[0].urn]);
        });

        it("grants roles/cloudkms.publicKeyViewer to exactly the verifiers", () => {
            const viewer = byType(run, T.keyBinding).filter((b) => b.inputs.role === "roles/cloudkms.publicKeyViewer");
            assert.strictEqual(viewer.length, 1);
            assert.deepStrictEqual(viewer[0].inputs.members, ["group:verifiers@example.com"]);
            assert.strictEqual(viewer[0].inputs.cryptoKeyId, one(run, T.key).id);
        });

        it("runs the signer on Cloud Run v2 as the signer SA, ingress internal only, egress into its own network", () => {
            const svc = one(run, T.service);
            const vpc = one(run, T.vpc);
            const subnet = one(run, T.subnet);
            assert.strictEqual(svc.inputs.ingress, "INGRESS_TRAFFIC_INTERNAL_ONLY");
            assert.strictEqual(svc.inputs.template.serviceAccount, SIGNER_EMAIL);
            assert.strictEqual(svc.inputs.invokerIamDisabled, false);
            assert.strictEqual(svc.inputs.deletionProtection, true);
            assert.strictEqual(svc.inputs.location, "europe-west1");
            assert.strictEqual(svc.inputs.project, "signer-proj");
            assert.deepStrictEqual(svc.inputs.template.vpcAccess, {
                networkInterfaces: [{ network: vpc.id, subnetwork: subnet.id }],
                egress: "ALL_TRAFFIC",
            });
            assert.deepStrictEqual(svc.inputs.labels, { "build-fleet-role": "signer" });
            assert.deepStrictEqual(svc.inputs.template.labels, { "build-fleet-role": "signer" });
            assert.strictEqual(svc.inputs.template.containers.length, 1);
            assert.strictEqual(svc.inputs.template.containers[0].image, base.serviceImage);
        });

        it("passes the key, its versions, bucket, builder id, allowed callers and audience as plain env vars, and no secrets", () => {
            const svc = one(run, T.service);
            const key = one(run, T.key);
            const bucket = one(run, T.bucket);
            const envs = Object.fromEntries((svc.inputs.template.containers[0].envs as { name: string; value: string }[]).map((e) => [e.name, e.value]));
            assert.deepStrictEqual(Object.keys(envs).sort(), [
                "GOOGLE_CLOUD_PROJECT", "OTEL_RESOURCE_ATTRIBUTES", "SERVICE", "SIGNER_ALLOWED_CALLERS", "SIGNER_AUDIENCE", "SIGNER_BUILDER_ID", "SIGNER_KEY_VERSIONS", "SIGNER_KMS_KEY", "SIGNER_PROVENANCE_BUCKET", "SIGNER_TSA_URL",
            ]);
            // Operations: logs and metrics attributed to the signer's project and region; probes on the health endpoints.
            assert.strictEqual(envs.GOOGLE_CLOUD_PROJECT, svc.inputs.project);
            assert.strictEqual(envs.OTEL_RESOURCE_ATTRIBUTES, `cloud.region=${svc.inputs.location}`);
            assert.strictEqual(svc.inputs.template.containers[0].startupProbe.httpGet.path, "/readyz");
            assert.strictEqual(svc.inputs.template.containers[0].livenessProbe.httpGet.path, "/healthz");
            assert.strictEqual(envs.SERVICE, "signer");
            assert.strictEqual(envs.SIGNER_KMS_KEY, key.id);
            assert.deepStrictEqual(JSON.parse(envs.SIGNER_KEY_VERSIONS), [{ name: `${key.id}/cryptoKeyVersions/1`, state: "active", validFrom: "1970-01-01T00:00:00Z" }]);
            assert.strictEqual(envs.SIGNER_PROVENANCE_BUCKET, bucket.outputs.name);
            // The verified caller identity, checked in the service: exactly the invokers' service accounts.
            assert.strictEqual(envs.SIGNER_ALLOWED_CALLERS, CP.replace(/^serviceAccount:/, ""));
            assert.match(envs.SIGNER_AUDIENCE, /^https:\/\/signer-signer-\d+\.europe-west1\.run\.app$/);
            assert.match(svc.inputs.template.containers[0].image, /@sha256:[a-f0-9]{64}$/);
            assert.deepStrictEqual(findKey(run, "valueSource"), []);
            assert.deepStrictEqual(byType(run, "gcp:secretmanager/secret:Secret"), []);
        });

        it("waits for the signer's key and bucket grants before serving", () => {
            const svc = one(run, T.service);
            const keySigner = byType(run, T.keyBinding).find((b) => b.inputs.role === "roles/cloudkms.signer")!;
            const writer = byType(run, T.bucketBinding).find((b) => b.inputs.role === "roles/storage.objectCreator")!;
            assert.ok(svc.dependencies.includes(keySigner.urn));
            assert.ok(svc.dependencies.includes(writer.urn));
        });

        it("grants roles/run.invoker authoritatively to exactly the given invokers", () => {
            const svc = one(run, T.service);
            const inv = one(run, T.invoker);
            assert.strictEqual(inv.inputs.role, "roles/run.invoker");
            assert.deepStrictEqual(inv.inputs.members, [CP]);
            assert.strictEqual(inv.inputs.name, svc.outputs.name);
            assert.strictEqual(inv.inputs.location, "europe-west1");
            assert.strictEqual(inv.inputs.project, "signer-proj");
            assert.ok(dependsOn(inv, svc));
        });

        it("creates a private, retention-protected provenance bucket without versioning (Cloud Storage refuses versioning with a locked retention)", () => {
            const b = one(run, T.bucket);
            assert.strictEqual(b.inputs.uniformBucketLevelAccess, true);
            assert.strictEqual(b.inputs.publicAccessPrevention, "enforced");
            assert.deepStrictEqual(b.inputs.versioning, { enabled: false });
            assert.deepStrictEqual(b.inputs.retentionPolicy, { retentionPeriod: String(365 * 86400), isLocked: false });
            assert.strictEqual(b.inputs.forceDestroy, false);
            assert.strictEqual(b.inputs.location, "europe-west1");
            assert.strictEqual(b.inputs.project, "signer-proj");
            assert.deepStrictEqual(b.inputs.labels, { "build-fleet-role": "signer" });
        });

        it("lets only the signer SA write provenance, and the readers read it", () => {
            const b = one(run, T.bucket);
            const bindings = byType(run, T.bucketBinding);
            assert.ok(bindings.every((x) => x.inputs.bucket === b.outputs.name));
            const writer = bindings.filter((x) => x.inputs.role === "roles/storage.objectCreator");
            assert.strictEqual(writer.length, 1);
            assert.deepStrictEqual(writer[0].inputs.members, [SIGNER]);
            const readers = bindings.filter((x) => x.inputs.role === "roles/storage.objectViewer");
            assert.deepStrictEqual(readers.map((x) => x.inputs.members), [["group:auditors@example.com"]]);
            assert.deepStrictEqual(bindings.map((x) => x.inputs.role).sort(), ["roles/storage.objectCreator", "roles/storage.objectViewer"]);
        });

        it("turns on KMS admin and data-access audit logs in the signer project", () => {
            const audit = one(run, T.audit);
            assert.strictEqual(audit.inputs.service, "cloudkms.googleapis.com");
            assert.strictEqual(audit.inputs.project, "signer-proj");
            assert.deepStrictEqual(audit.inputs.auditLogConfigs.map((c: { logType: string }) => c.logType).sort(), ["ADMIN_READ", "DATA_READ", "DATA_WRITE"]);
            assert.ok(audit.inputs.auditLogConfigs.every((c: { exemptedMembers?: string[] }) => c.exemptedMembers === undefined));
        });

        it("creates its own isolated network (role signer, no NAT, no peering, no access configs)", () => {
            const enclave = component(run, T.enclave, "signer");
            const net = component(run, T.network, "signer-net");
            assert.strictEqual(net.parent, enclave.urn);
            assert.strictEqual(one(run, T.subnet).inputs.ipCidrRange, "10.90.0.0/24");
            assert.strictEqual(one(run, T.subnet).inputs.privateIpGoogleAccess, true);
            for (const zone of byType(run, "gcp:dns/managedZone:ManagedZone")) {
                assert.deepStrictEqual(zone.inputs.labels, { "build-fleet-role": "signer" });
            }
            assert.deepStrictEqual(byType(run, T.nat), []);
            assert.deepStrictEqual(run.resources.filter((r) => /peering/i.test(r.type)), []);
            assert.deepStrictEqual(findKey(run, "accessConfigs"), []);
        });

        it("puts every GCP resource in the signer project and grants nothing public", () => {
            for (const r of run.resources.filter((x) => x.custom && "project" in x.inputs)) {
                assert.strictEqual(r.inputs.project, "signer-proj", r.name);
            }
            const publicMembers = run.resources.flatMap((r) => walk(r.inputs).filter(([, v]) => v === "allUsers" || v === "allAuthenticatedUsers"));
            assert.deepStrictEqual(publicMembers, []);
        });

        it("exports key, key version, public key PEM, service URL, signer email and bucket name", () => {
            const key = one(run, T.key);
            const svc = one(run, T.service);
            const bucket = one(run, T.bucket);
            assert.strictEqual(run.outputs.keyId, key.id);
            assert.match(run.outputs.keyId, /^projects\/signer-proj\/locations\/europe-west1\/keyRings\/signer-ring-[0-9a-f]{8}\/cryptoKeys\/signer-key$/);
            assert.strictEqual(run.outputs.keyVersionName, `${key.id}/cryptoKeyVersions/1`);
            assert.match(run.outputs.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n?$/);
            assert.strictEqual(run.outputs.serviceUrl, svc.outputs.uri);
            assert.match(run.outputs.serviceUrl, /^https:\/\//);
            assert.strictEqual(run.outputs.signerServiceAccountEmail, SIGNER_EMAIL);
            assert.strictEqual(run.outputs.signerMember, SIGNER);
            assert.strictEqual(run.outputs.provenanceBucketName, bucket.outputs.name);
            const invokes = run.invokes.filter((i) => i.token === KMS_VERSION_INVOKE);
            assert.deepStrictEqual(invokes.map((i) => i.args), [{ cryptoKey: key.id, version: 1 }]);
        });

        it("parents every child on the enclave (or its network) and derives every child name from it", () => {
            const enclave = component(run, T.enclave, "signer");
            const net = component(run, T.network, "signer-net");
            assert.strictEqual(enclave.parent, stackOf(run).urn);
            const others = run.resources.filter((r) => r !== enclave && r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"));
            assert.ok(others.length >= 20, `${others.length} children`);
            for (const r of others) {
                assert.ok(r.parent === enclave.urn || r.parent === net.urn, `${r.name} parent ${r.parent}`);
                assert.ok(ancestorsOf(run, r).includes(enclave.urn), `${r.name} below the enclave`);
                assert.ok(r.name.startsWith("signer-"), `${r.name} derives from the enclave name`);
            }
            const direct = others.filter((r) => r.parent === enclave.urn && !/-tsa(-|$)/.test(r.name)).map((r) => r.type).sort();
            // The one project grant: the signer's metrics in its own project.
            assert.deepStrictEqual(direct, [T.invoker, T.service, T.keyBinding, T.keyBinding, T.key, T.ring, T.sa, T.audit, T.network, T.random, T.bucket, T.bucketBinding, T.bucketBinding, T.logBucket, T.logSink, "gcp:projects/iAMMember:IAMMember"].sort());
            const metricWriter = others.find((r) => r.type === "gcp:projects/iAMMember:IAMMember")!;
            assert.strictEqual(metricWriter.inputs.role, "roles/monitoring.metricWriter");
        });
    });

    it("omits the verifier and reader bindings when none are given", async () => {
        const run = await build();
        assert.deepStrictEqual(byType(run, T.keyBinding).filter((b) => !b.name.includes("-tsa-")).map((b) => b.inputs.role), ["roles/cloudkms.signer"]);
        assert.deepStrictEqual(byType(run, T.bucketBinding).map((b) => b.inputs.role), ["roles/storage.objectCreator"]);
    });

    it("applies a custom algorithm, retention, key version, account id and Output invokers", async () => {
        const run = await runProgram(() => {
            const cp = pulumi.output("serviceAccount:cp@cp-proj.iam.gserviceaccount.com");
            new SignerEnclave("enc", {
                ...base, keyAlgorithm: "EC_SIGN_P384_SHA384", provenanceRetentionDays: 30, lockProvenanceRetention: true,
                signerAccountId: "prov-signer", invokers: [cp, "group:cp-admins@example.com"], serviceDeletionProtection: false,
            });
        });
        assert.deepStrictEqual(one(run, T.key).inputs.versionTemplate, { algorithm: "EC_SIGN_P384_SHA384", protectionLevel: "HSM" });
        assert.deepStrictEqual(one(run, T.bucket).inputs.retentionPolicy, { retentionPeriod: String(30 * 86400), isLocked: true });
        assert.strictEqual(one(run, T.sa).inputs.accountId, "prov-signer");
        assert.deepStrictEqual(one(run, T.keyBinding).inputs.members, ["serviceAccount:prov-signer@signer-proj.iam.gserviceaccount.com"]);
        assert.deepStrictEqual(one(run, T.invoker).inputs.members, ["serviceAccount:cp@cp-proj.iam.gserviceaccount.com", "group:cp-admins@example.com"]);
        assert.strictEqual(one(run, T.service).inputs.deletionProtection, false);
        assert.strictEqual(run.invokes.find((i) => i.token === KMS_VERSION_INVOKE)?.args.version, 1);
    });

    describe("key rotation: each transition's KMS versions, signer env and published keyring", () => {
        const V1 = { id: "1", validFrom: "2026-01-01T00:00:00Z" };
        const V2 = { id: "2", validFrom: "2026-06-01T00:00:00Z" };
        let tsa: LocalTsa;
        before(async () => (tsa = await startLocalTsa()));
        after(() => tsa.close());
        async function stage(keyVersions: SignerEnclaveArgs["keyVersions"]) {
            const run = await runProgram(() => {
                const timestampAuthority = { image: `europe-docker.pkg.dev/signer-proj/ghcr/sigstore/timestamp-server@sha256:${"b".repeat(64)}`, certificateChainPem: tsa.certChainPem };
                const e = new SignerEnclave("enc", { ...base, keyVersions, timestampAuthority });
                return { keyVersionName: e.keyVersionName, keyring: e.keyring };
            });
            const env = (one(run, T.service).inputs.template.containers[0].envs as { name: string; value: string }[]).find((e) => e.name === "SIGNER_KEY_VERSIONS")!;
            return { run, versions: byType(run, "gcp:kms/cryptoKeyVersion:CryptoKeyVersion"), env: JSON.parse(env.value) as any[] };
        }

        it("1. one active version: no extra KMS version, the initial one signs", async () => {
            const { run, versions, env } = await stage([{ ...V1, state: "active" }]);
            assert.strictEqual(versions.length, 0);
            assert.deepStrictEqual(env.map((v) => [v.name.split("/").pop(), v.state]), [["1", "active"]]);
            assert.strictEqual(run.outputs.keyVersionName, `${one(run, T.key).id}/cryptoKeyVersions/1`);
        });

        it("2. a new version published: a protected, ENABLED KMS version, in the keyring, not signing", async () => {
            const { run, versions, env } = await stage([{ ...V1, state: "active" }, { ...V2, state: "published" }]);
            assert.strictEqual(versions.length, 1);
            assert.strictEqual(versions[0].name, "enc-key-version-2");
            assert.strictEqual(versions[0].inputs.state, "ENABLED");
            assert.strictEqual(versions[0].inputs.cryptoKey, one(run, T.key).id);
            assert.strictEqual(versions[0].protect, true);
            assert.deepStrictEqual(env.map((v) => v.state), ["active", "published"]);
            assert.strictEqual(env[1].name, versions[0].outputs.name);
            assert.strictEqual(run.outputs.keyVersionName, `${one(run, T.key).id}/cryptoKeyVersions/1`);
            assert.deepStrictEqual(run.outputs.keyring.map((k: any) => [k.id, k.state, k.publicKeyPem.startsWith("-----BEGIN PUBLIC KEY-----")]), [["1", "active", true], ["2", "published", true]]);
        });

        it("3. the new version active, the old one retired: same KMS resources, the signer signs with version 2 only", async () => {
            const { run, versions, env } = await stage([{ ...V1, state: "retired", validUntil: "2026-07-01T00:00:00Z" }, { ...V2, state: "active" }]);
            assert.deepStrictEqual(versions.map((v) => [v.name, v.inputs.state]), [["enc-key-version-2", "ENABLED"]]);
            assert.deepStrictEqual(env.map((v) => [v.state, v.validUntil]), [["retired", "2026-07-01T00:00:00Z"], ["active", undefined]]);
            assert.strictEqual(run.outputs.keyVersionName, versions[0].outputs.name);
            assert.deepStrictEqual(env.filter((v) => v.state === "active").map((v) => v.name), [versions[0].outputs.name]);
        });

        it("4. the retired version disabled in KMS: KMS refuses to sign with it, it stays in the signer's keyring", async () => {
            const V3 = { id: "3", validFrom: "2026-12-01T00:00:00Z" };
            const { run, versions, env } = await stage([
                { ...V1, state: "retired", validUntil: "2026-07-01T00:00:00Z" },
                { ...V2, state: "retired", validUntil: "2026-12-02T00:00:00Z", disabled: true },
                { ...V3, state: "active" },
            ]);
            assert.deepStrictEqual(versions.map((v) => [v.name, v.inputs.state, v.protect]), [["enc-key-version-2", "DISABLED", true], ["enc-key-version-3", "ENABLED", true]]);
            assert.deepStrictEqual(env.map((v) => v.state), ["retired", "retired", "active"]);
            assert.ok(env.every((v) => !("disabled" in v)), "the signer's SIGNER_KEY_VERSIONS schema has no disabled field");
            // No public-key lookup for the disabled version (KMS answers GetPublicKey for ENABLED versions only).
            const looked = run.invokes.filter((i) => i.token === KMS_VERSION_INVOKE).map((i) => i.args.version);
            assert.strictEqual(looked.length, 2);
            assert.strictEqual(run.outputs.keyring[1].publicKeyPem, "");
        });

        it("the signer service accepts the environment the component gives it (its own config loader)", async () => {
            const { run } = await stage([{ ...V1, state: "retired", validUntil: "2026-07-01T00:00:00Z" }, { ...V2, state: "active" }]);
            const env = Object.fromEntries((one(run, T.service).inputs.template.containers[0].envs as { name: string; value: string }[]).map((e) => [e.name, e.value]));
            const config = loadSignerConfig(env, new Date("2026-08-01T00:00:00Z"));
            assert.strictEqual(config.kmsKey, one(run, T.key).id);
            assert.strictEqual(config.activeVersion.name, byType(run, "gcp:kms/cryptoKeyVersion:CryptoKeyVersion")[0].outputs.name);
            assert.deepStrictEqual(config.allowedCallers, [CP.replace(/^serviceAccount:/, "")]);
            assert.strictEqual(config.builderId, "https://github.com/acme/hardened-build-fleet/enc");
        });

        it("rejects disabling a version that is not retired, or the unmanaged initial version, naming the field", () => {
            assert.throws(() => validateAndThrow({ ...base, keyVersions: [{ ...V1, state: "active" }, { ...V2, state: "published", disabled: true }] }),
                /keyVersions\[1\]\.disabled: true disables a published version in KMS/);
            assert.throws(() => validateAndThrow({ ...base, keyVersions: [{ ...V1, state: "retired", validUntil: "2026-07-01T00:00:00Z", disabled: true }, { ...V2, state: "active" }] }),
                /keyVersions\[0\]\.disabled: true is set on the key's initial version.*gcloud kms keys versions disable 1/);
        });

        it("rejects two active versions or a retired version without validUntil, naming the field", async () => {
            assert.throws(() => validateAndThrow({ ...base, keyVersions: [{ ...V1, state: "active" }, { ...V2, state: "active" }] }), /keyVersions: \["1","2"\] has 2 active versions/);
            assert.throws(() => validateAndThrow({ ...base, keyVersions: [{ ...V1, state: "retired" }, { ...V2, state: "active" }] }), /keyVersions\[0\]\.validUntil: .*required for a retired version/);
        });
    });

    it("shortens the default account id of a long enclave name to 30 characters, without collisions", async () => {
        // Long names keep a prefix plus a hash of the full name, so two enclaves sharing a prefix differ.
        const run = await build({}, false, "provenance-signer-euro-west1-a");
        const id = one(run, T.sa).inputs.accountId;
        assert.strictEqual(id, defaultSignerAccountId("provenance-signer-euro-west1-a"));
        assert.match(id, /^provenance-signe-[0-9a-f]{6}-signer$/);
        assert.ok(id.length <= 30);
        assert.notStrictEqual(id, defaultSignerAccountId("provenance-signer-euro-west1-b"));
        assert.strictEqual(defaultSignerAccountId("fleet-signer"), "fleet-signer-signer");
    });

    it("allows a SOFTWARE key only with allowSoftwareKeyForDevelopment, and warns", async () => {
        const run = await build({ protectionLevel: "SOFTWARE", allowSoftwareKeyForDevelopment: true });
        assert.deepStrictEqual(one(run, T.key).inputs.versionTemplate, { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "SOFTWARE" });
        assert.ok(run.logs.some((l) => l.severity === "warning" && /protectionLevel SOFTWARE/.test(l.message)), JSON.stringify(run.logs));
    });

    it("constructs in preview mode, with computed values unknown", async () => {
        const run = await build({}, true);
        assert.strictEqual(run.preview, true);
        const key = one(run, T.key);
        assert.strictEqual(key.id, UNKNOWN);
        assert.strictEqual(key.protect, true);
        assert.strictEqual(one(run, T.ring).protect, true);
        assert.deepStrictEqual(key.inputs.versionTemplate, { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "HSM" });
        const binding = one(run, T.keyBinding);
        assert.deepStrictEqual(binding.inputs.members, [UNKNOWN]);
        assert.deepStrictEqual(binding.propertyDependencies.members, [one(run, T.sa).urn]);
        assert.strictEqual(one(run, T.service).inputs.ingress, "INGRESS_TRAFFIC_INTERNAL_ONLY");
        assert.deepStrictEqual(one(run, T.invoker).inputs.members, [CP]);
    });

    describe("invalid arguments", () => {
        async function failing(args: Partial<SignerEnclaveArgs>, name = "signer"): Promise<string> {
            const run = await runProgram(() => {
                new SignerEnclave(name, { ...base, ...args } as SignerEnclaveArgs);
            }, { allowError: true });
            assert.ok(run.error instanceof Error, "the program fails");
            assert.deepStrictEqual(run.resources.map((r) => r.type), ["pulumi:pulumi:Stack"], "nothing registered");
            return (run.error as Error).message;
        }

        it("rejects a non-HSM key without allowSoftwareKeyForDevelopment", async () => {
            const message = await failing({ protectionLevel: "SOFTWARE" });
            assert.match(message, /SignerEnclave "signer"/);
            assert.match(message, /protectionLevel: "SOFTWARE" keeps the signing key outside an HSM \(I8\); use "HSM", or set allowSoftwareKeyForDevelopment: true/);
            assert.match(await failing({ protectionLevel: "EXTERNAL", allowSoftwareKeyForDevelopment: true }), /protectionLevel: "EXTERNAL" is not supported/);
        });

        it("rejects an unknown algorithm", async () => {
            assert.match(await failing({ keyAlgorithm: "GOOGLE_SYMMETRIC_ENCRYPTION" }), /keyAlgorithm: "GOOGLE_SYMMETRIC_ENCRYPTION" is not an ASYMMETRIC_SIGN algorithm; use "EC_SIGN_P256_SHA256"/);
        });

        it("rejects empty or public invokers and public verifiers/readers", async () => {
            assert.match(await failing({ invokers: [] }), /invokers: is empty; pass the control-plane identity/);
            const message = await failing({ invokers: ["allUsers", "cp@example.com"], verifiers: ["allAuthenticatedUsers"], provenanceReaders: ["allUsers"] });
            assert.match(message, /invokers\[0\]: "allUsers" is a public principal; nothing in the signer enclave is granted publicly \(I10\)/);
            assert.match(message, /invokers\[1\]: "cp@example.com" is not an IAM member/);
            assert.match(message, /verifiers\[0\]: "allAuthenticatedUsers"/);
            assert.match(message, /provenanceReaders\[0\]: "allUsers"/);
        });

        it("rejects a bad or too-small CIDR and out-of-range numbers, all at once", async () => {
            const message = await failing({ cidr: "10.90.0.0/28", provenanceRetentionDays: 0, flowLogSampling: 2, signerAccountId: "x" });
            assert.match(message, /cidr: "10\.90\.0\.0\/28" is smaller than \/26; Cloud Run Direct VPC egress needs at least a \/26, e\.g\. "10\.90\.0\.0\/26"/);
            assert.match(message, /provenanceRetentionDays: 0 must be a whole number of days between 1 and 36524/);
            assert.match(message, /flowLogSampling: 2 is out of range/);
            assert.match(message, /signerAccountId: "x" must be 6-30/);
            assert.match(await failing({ cidr: "10.90.0.0" }), /cidr: "10\.90\.0\.0" is an address, not a CIDR range/);
        });

        it("rejects an invalid or too-long enclave name", async () => {
            assert.match(await failing({}, "Signer"), /name: "Signer" must be lower-case/);
            assert.match(await failing({}, "s".repeat(37)), /at most 36 characters/);
        });
    });
});
