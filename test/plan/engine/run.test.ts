import { TEST_FIXTURES } from "../../helpers/paths";
import * as assert from "assert";
import * as path from "path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { byName } from "../../helpers/graph";
import { runProgram, ProgramError, SECRET_PLACEHOLDER, UNKNOWN, loadStackConfig, StackConfigError } from "../../../plan/engine";

const FIXTURES = TEST_FIXTURES;

class Pair extends pulumi.ComponentResource {
    readonly account: gcp.serviceaccount.Account;
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("test:index:Pair", name, {}, opts);
        this.account = new gcp.serviceaccount.Account(`${name}-sa`, { accountId: `${name}-runner` }, { parent: this });
        new gcp.projects.IAMMember(`${name}-logs`, { project: "p1", role: "roles/logging.logWriter", member: this.account.member }, { parent: this, protect: true });
        this.registerOutputs({});
    }
}

describe("engine: runProgram", () => {
    it("captures parents, URNs with the full type chain, and dependencies", async () => {
        const run = await runProgram(() => {
            new Pair("a");
        }, { config: { "gcp:project": "worker-proj" } });
        const stack = run.resources[0];
        assert.strictEqual(stack.type, "pulumi:pulumi:Stack");
        const comp = byName(run, "a");
        assert.strictEqual(comp.parent, stack.urn);
        assert.strictEqual(comp.urn, "urn:pulumi:test::hardened-build-fleet::test:index:Pair::a");
        const sa = byName(run, "a-sa");
        assert.strictEqual(sa.urn, "urn:pulumi:test::hardened-build-fleet::test:index:Pair$gcp:serviceaccount/account:Account::a-sa");
        assert.strictEqual(sa.parent, comp.urn);
        const iam = byName(run, "a-logs");
        assert.deepStrictEqual(iam.propertyDependencies.member, [sa.urn]);
        assert.ok(iam.dependencies.includes(sa.urn));
        assert.strictEqual(iam.protect, true);
        assert.strictEqual(sa.protect, false);
    });

    it("returns provider-realistic outputs that references resolve to", async () => {
        const run = await runProgram(() => {
            const sa = new gcp.serviceaccount.Account("sa", { accountId: "signer" });
            const net = new gcp.compute.Network("net", { autoCreateSubnetworks: false });
            const ring = new gcp.kms.KeyRing("ring", { name: "ring-1", location: "europe-west1", project: "signer-proj" });
            const key = new gcp.kms.CryptoKey("key", { name: "prov", keyRing: ring.id, purpose: "ASYMMETRIC_SIGN", versionTemplate: { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "HSM" } });
            new gcp.kms.CryptoKeyIAMMember("bind", { cryptoKeyId: key.id, role: "roles/cloudkms.signer", member: sa.member });
            const version = gcp.kms.getKMSCryptoKeyVersionOutput({ cryptoKey: key.id });
            return { pem: version.publicKeys.apply((k) => k?.[0]?.pem), netId: net.id, selfLink: net.selfLink };
        }, { config: { "gcp:project": "worker-proj" } });
        const sa = byName(run, "sa");
        assert.strictEqual(sa.outputs.email, "signer@worker-proj.iam.gserviceaccount.com");
        assert.strictEqual(sa.id, "projects/worker-proj/serviceAccounts/signer@worker-proj.iam.gserviceaccount.com");
        const net = byName(run, "net");
        assert.match(net.id, /^projects\/worker-proj\/global\/networks\/net-[0-9a-f]{7}$/);
        assert.strictEqual(run.outputs.selfLink, `https://www.googleapis.com/compute/v1/${net.id}`);
        assert.strictEqual(byName(run, "key").id, "projects/signer-proj/locations/europe-west1/keyRings/ring-1/cryptoKeys/prov");
        assert.strictEqual(byName(run, "bind").inputs.member, "serviceAccount:signer@worker-proj.iam.gserviceaccount.com");
        assert.strictEqual(byName(run, "bind").inputs.cryptoKeyId, byName(run, "key").id);
        assert.match(run.outputs.pem, /^-----BEGIN PUBLIC KEY-----/);
        assert.strictEqual(run.invokes[0].token, "gcp:kms/getKMSCryptoKeyVersion:getKMSCryptoKeyVersion");
    });

    it("is deterministic: the same program yields the same ids", async () => {
        const prog = () => {
            new gcp.compute.Network("net", {});
        };
        const a = await runProgram(prog);
        const b = await runProgram(prog);
        assert.strictEqual(byName(a, "net").id, byName(b, "net").id);
    });

    it("leaves computed outputs unknown in preview, but keeps inputs and auto-names", async () => {
        const run = await runProgram(() => {
            const sa = new gcp.serviceaccount.Account("sa", { accountId: "runner" });
            new gcp.projects.IAMMember("logs", { project: "p1", role: "roles/logging.logWriter", member: sa.member });
            new gcp.compute.Network("net", { autoCreateSubnetworks: false });
        }, { preview: true });
        const sa = byName(run, "sa");
        assert.strictEqual(sa.id, UNKNOWN);
        assert.strictEqual(sa.outputs.email, UNKNOWN);
        assert.strictEqual(sa.outputs.accountId, "runner");
        const iam = byName(run, "logs");
        assert.strictEqual(iam.inputs.member, UNKNOWN);
        assert.strictEqual(iam.inputs.role, "roles/logging.logWriter");
        assert.deepStrictEqual(iam.propertyDependencies.member, [sa.urn]);
        assert.match(byName(run, "net").inputs.name, /^net-[0-9a-f]{7}$/);
    });

    it("keeps known stack outputs in preview and marks computed ones unknown", async () => {
        const run = await runProgram(() => {
            const sa = new gcp.serviceaccount.Account("sa", { accountId: "runner" });
            return { accountId: sa.accountId, email: sa.email, fixed: "literal" };
        }, { preview: true });
        assert.deepStrictEqual(run.outputs, { accountId: "runner", email: UNKNOWN, fixed: "literal" });
    });

    it("captures pulumi.log output", async () => {
        const run = await runProgram(() => {
            pulumi.log.warn("shared project in use");
        });
        assert.deepStrictEqual(run.logs, [{ severity: "warning", message: "shared project in use" }]);
    });

    it("rejects with what was registered when the program throws, or returns it with allowError", async () => {
        const prog = () => {
            new gcp.compute.Network("before", {});
            throw new Error("boom: bad config");
        };
        await assert.rejects(runProgram(prog), (err: unknown) => {
            assert.ok(err instanceof ProgramError);
            assert.match(err.message, /boom: bad config/);
            assert.ok(err.run.resources.some((r) => r.name === "before"));
            return true;
        });
        const run = await runProgram(prog, { allowError: true });
        assert.match(String(run.error), /boom/);
    });

    it("runs a program by path with config from a Pulumi.<stack>.yaml, secure values as secret placeholders", async () => {
        const run = await runProgram(path.join(FIXTURES, "program.ts"), { configFile: path.join(FIXTURES, "Pulumi.fixture.yaml") });
        assert.strictEqual(run.project, "fixture-project");
        assert.strictEqual(run.stack, "fixture");
        assert.strictEqual(run.outputs.greeting, "hello");
        assert.strictEqual(run.outputs.max, 3);
        assert.strictEqual(run.outputs.email, "fixture-a@fixture-worker.iam.gserviceaccount.com");
        assert.strictEqual(run.outputs.secretLength, SECRET_PLACEHOLDER.length);
        // Running the same path again registers afresh.
        const again = await runProgram(path.join(FIXTURES, "program.ts"), { configFile: path.join(FIXTURES, "Pulumi.fixture.yaml") });
        assert.strictEqual(again.resources.length, run.resources.length);
    });

    it("reports unreadable config files clearly", () => {
        assert.throws(() => loadStackConfig(path.join(FIXTURES, "Pulumi.missing.yaml")), (e: unknown) => e instanceof StackConfigError && /no such file/.test(e.message));
    });
});
