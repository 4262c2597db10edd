/**
 * The resources the components output, as pulumi-eks outputs its cluster: the schema names each as a
 * reference into the installed @pulumi/gcp package's schema, and `construct()` returns the very resource
 * the component registered (its URN), so another language's program can wire it onward.
 */
import { REPO_ROOT } from "../helpers/paths";
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { readRawFleetConfig } from "../../components";
import { ProgramRun, runProgram } from "../../plan/engine";
import { createComponentProvider, PROVIDER_NAME } from "../../provider/index";

/** The runtime's wire serialization, as the provider server applies it to construct()'s state. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc: typeof import("@pulumi/pulumi/runtime/rpc") = require("@pulumi/pulumi/runtime/rpc");
const SIG_KEY = rpc.specialSigKey;
const RESOURCE_SIG = rpc.specialResourceSig;

const GCP_VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules", "@pulumi", "gcp", "package.json"), "utf8")) as { version: string }).version;
const token = (component: string) => `${PROVIDER_NAME}:index:${component}`;

/** A resource class of @pulumi/gcp. */
type GcpClass = abstract new (...args: never[]) => pulumi.CustomResource;

/** The type token of a resource class (its generated `__pulumiType`, which the declarations mark internal). */
function tokenOf(cls: GcpClass): string {
    return (cls as unknown as { __pulumiType: string }).__pulumiType;
}

/** The reference the package schema uses for a resource of the installed @pulumi/gcp. */
function gcpRef(cls: GcpClass): string {
    return `/gcp/v${GCP_VERSION}/schema.json#/resources/${tokenOf(cls).replace("/", "%2F")}`;
}

type Spec = Record<string, any>;

/** Every resource output of every component: `single` ones are one resource, `map` ones a map of them by name. */
const RESOURCE_OUTPUTS: Record<string, Record<string, [GcpClass, "single" | "map"]>> = {
    HardenedBuildFleet: {
        provenanceBucket: [gcp.storage.Bucket, "single"],
        signerKeyRing: [gcp.kms.KeyRing, "single"],
        signerKey: [gcp.kms.CryptoKey, "single"],
        signerServiceAccount: [gcp.serviceaccount.Account, "single"],
        generatorServiceAccount: [gcp.serviceaccount.Account, "single"],
        runnerServiceAccounts: [gcp.serviceaccount.Account, "map"],
    },
    SignerEnclave: {
        keyRing: [gcp.kms.KeyRing, "single"],
        key: [gcp.kms.CryptoKey, "single"],
        signerServiceAccount: [gcp.serviceaccount.Account, "single"],
        provenanceBucket: [gcp.storage.Bucket, "single"],
    },
    ControlPlane: {
        generatorServiceAccount: [gcp.serviceaccount.Account, "single"],
        serviceAccounts: [gcp.serviceaccount.Account, "map"],
    },
    RunnerPool: {
        serviceAccount: [gcp.serviceaccount.Account, "single"],
        network: [gcp.compute.Network, "single"],
        subnet: [gcp.compute.Subnetwork, "single"],
    },
    IsolatedNetwork: { network: [gcp.compute.Network, "single"], subnet: [gcp.compute.Subnetwork, "single"] },
    FleetPerimeter: { enclave: [gcp.accesscontextmanager.ServicePerimeter, "single"], workers: [gcp.accesscontextmanager.ServicePerimeter, "single"] },
    OrgGuardrails: { policies: [gcp.orgpolicy.Policy, "map"] },
    ServiceImage: { repository: [gcp.artifactregistry.Repository, "single"] },
};

/** A resource reference as it travels on the wire (the runtime's signature key and value, the URN, the id). */
interface WireRef {
    [SIG_KEY]: string;
    urn: string;
    id?: string;
}

/** The URN of a wire resource reference; fails on anything else (an id or URL string, a plain object). */
function urnOf(value: unknown, what: string): string {
    const ref = value as WireRef;
    assert.ok(typeof ref === "object" && ref !== null && ref[SIG_KEY] === RESOURCE_SIG, `${what} is not a resource reference: ${JSON.stringify(value)}`);
    assert.match(ref.urn, /^urn:pulumi:/, what);
    return ref.urn;
}

/** Asserts that the registered resource whose URN is `urn` has `cls`'s type (the reference names the right class). */
function assertRegistered(run: ProgramRun, urn: string, cls: GcpClass): void {
    const match = run.resources.find((r) => r.urn === urn);
    assert.ok(match, `${urn} was not registered`);
    assert.strictEqual(match.type, tokenOf(cls));
}

let provider: ComponentProvider;
let schema: Spec;

describe("component provider: resources as outputs", function () {
    this.timeout(180_000);
    before(async () => {
        provider = createComponentProvider();
        schema = JSON.parse(await provider.getSchema());
    });

    it("the schema names each as a reference into the installed @pulumi/gcp schema, required, and depends on that package", () => {
        for (const [component, outputs] of Object.entries(RESOURCE_OUTPUTS)) {
            const r = schema.resources[token(component)];
            for (const [name, [cls, kind]] of Object.entries(outputs)) {
                const spec = r.properties[name];
                assert.ok(spec, `${component}.${name} is not an output`);
                const ref = kind === "map" ? (assert.strictEqual(spec.type, "object", `${component}.${name} is a map`), spec.additionalProperties.$ref) : spec.$ref;
                assert.strictEqual(ref, gcpRef(cls), `${component}.${name}`);
                assert.ok((r.required ?? []).includes(name), `${component}.${name} is always set`);
                assert.match(spec.description, /\(gcp\.[a-z]+\.[A-Z]\w+\)/, `${component}.${name} names its class`);
            }
        }
        // The first reference has the form of the anchor's, e.g. pulumi-eks's `/aws/v6.x/schema.json#/resources/aws:eks%2Fcluster:Cluster`.
        assert.strictEqual(schema.resources[token("ControlPlane")].properties.generatorServiceAccount.$ref,
            `/gcp/v${GCP_VERSION}/schema.json#/resources/gcp:serviceaccount%2Faccount:Account`);
        assert.deepStrictEqual(schema.dependencies, [{ name: "gcp", version: GCP_VERSION }]);
        // No other output names a foreign resource: the table above is the complete list.
        const refs = Object.entries<Spec>(schema.resources).flatMap(([t, r]) => Object.entries<Spec>(r.properties)
            .filter(([, p]) => JSON.stringify(p).includes("/gcp/v")).map(([n]) => `${t.slice(t.lastIndexOf(":") + 1)}.${n}`));
        assert.deepStrictEqual(refs.sort(), Object.entries(RESOURCE_OUTPUTS).flatMap(([c, o]) => Object.keys(o).map((n) => `${c}.${n}`)).sort());
    });

    it("construct() of every component returns its own resources: on the wire, each is a reference to a registered resource of the named type", async () => {
        // The state serialized as the provider server serializes a ConstructResponse (resource references on).
        const wire: Record<string, Record<string, any>> = {};
        let poolNames: string[] = [];
        const run = await runProgram(async () => {
            poolNames = (readRawFleetConfig().pools as { name: string }[]).map((p) => p.name);
            for (const [component, inputs] of Object.entries(INPUTS)) {
                const { state } = await provider.construct(NAMES[component], token(component), inputs(), {});
                wire[component] = (await rpc.serializeResourceProperties(`construct(${component})`, state as pulumi.Inputs))[0];
            }
        }, { configFile: path.join(REPO_ROOT, "Pulumi.example.yaml") });
        assert.strictEqual(run.error, undefined, String(run.error));
        assert.deepStrictEqual(Object.keys(wire).sort(), Object.keys(RESOURCE_OUTPUTS).sort());
        for (const [component, outputs] of Object.entries(RESOURCE_OUTPUTS)) {
            for (const [name, [cls, kind]] of Object.entries(outputs)) {
                const value = wire[component][name];
                const entries: [string, unknown][] = kind === "map" ? Object.entries(value) : [[name, value]];
                assert.ok(entries.length > 0, `${component}.${name} is empty`);
                for (const [key, ref] of entries) {
                    assertRegistered(run, urnOf(ref, `${component}.${name} ${key}`), cls);
                }
            }
        }
        // The URLs and ids stay strings next to the references, and an id is not a reference (the check is not vacuous).
        assert.match(wire.ControlPlane.brokerUrl, /^https:\/\//);
        assert.throws(() => urnOf(wire.IsolatedNetwork.networkId, "networkId"), /is not a resource reference/);
        // The maps are keyed as documented, and name the same resources as the single outputs.
        assert.deepStrictEqual(Object.keys(wire.ControlPlane.serviceAccounts).sort(), ["broker", "generator", "push", "webhook"]);
        assert.strictEqual(urnOf(wire.ControlPlane.serviceAccounts.generator, "generator"), urnOf(wire.ControlPlane.generatorServiceAccount, "generatorServiceAccount"));
        assert.deepStrictEqual(Object.keys(wire.HardenedBuildFleet.runnerServiceAccounts), poolNames);
        assert.ok("iam.disableServiceAccountKeyCreation" in wire.OrgGuardrails.policies, Object.keys(wire.OrgGuardrails.policies).join());
        assert.notStrictEqual(urnOf(wire.FleetPerimeter.enclave, "enclave"), urnOf(wire.FleetPerimeter.workers, "workers"));
    });
});

const CONTROL_PLANE = {
    project: "acme-build-control", workerProject: "acme-build-workers", region: "europe-west1",
    pools: [{
        name: "linux", runnerMember: "serviceAccount:linux@acme-build-workers.iam.gserviceaccount.com", instanceGroupManager: "linux-mig",
        image: "projects/acme-build-images/global/images/family/gha-runner", maxRunDurationSeconds: 7200,
    }],
    image: "europe-docker.pkg.dev/acme-build-control/fleet/services@sha256:" + "b".repeat(64),
    signerUrl: "https://signer-signer-123.europe-west1.run.app",
    builderId: "https://github.com/acme/hardened-build-fleet/fleet",
    githubConfigUrl: "https://github.com/acme",
    githubApp: { appId: 123456, installationId: 7890123, privateKeySecret: "projects/acme-build-control/secrets/github-app-key" },
    webhookSecret: "projects/acme-build-control/secrets/github-webhook-secret",
};

/** The component names (a fleet name has at most 10 characters). */
const NAMES: Record<string, string> = {
    HardenedBuildFleet: "fleet", SignerEnclave: "signer", ControlPlane: "cp", RunnerPool: "pool", IsolatedNetwork: "net",
    FleetPerimeter: "perimeter", OrgGuardrails: "guardrails", ServiceImage: "services",
};

/** Valid inputs of every component, as another language's program would pass them. */
const INPUTS: Record<string, () => Record<string, unknown>> = {
    HardenedBuildFleet: () => ({ config: readRawFleetConfig() }),
    SignerEnclave: () => ({
        project: "acme-build-signer", region: "europe-west1", cidr: "10.200.0.0/26",
        serviceImage: "europe-docker.pkg.dev/acme-build-signer/signer/signer@sha256:" + "a".repeat(64),
        builderId: "https://github.com/acme/hardened-build-fleet/fleet", invokers: ["serviceAccount:cp@acme-build-control.iam.gserviceaccount.com"],
    }),
    ControlPlane: () => CONTROL_PLANE,
    RunnerPool: () => ({
        project: "acme-build-workers", region: "europe-west1", registrationBrokerUrl: "https://jit-broker-abc123-ew.a.run.app",
        pool: { name: "linux", backend: "gce", cidr: "10.10.0.0/24", image: "projects/acme-build-images/global/images/family/gha-runner" },
    }),
    IsolatedNetwork: () => ({ project: "acme-build-workers", region: "europe-west1", cidr: "10.20.0.0/24", role: "control-plane" }),
    FleetPerimeter: () => ({
        accessPolicy: "accessPolicies/123456", signerProject: "acme-build-signer", workerProject: "acme-build-workers",
        brokerMember: "serviceAccount:cp-brk@acme-build-signer.iam.gserviceaccount.com", webhookMember: "serviceAccount:cp-whk@acme-build-signer.iam.gserviceaccount.com",
        projectNumbers: { "acme-build-signer": "111111111111", "acme-build-workers": "222222222222" },
    }),
    OrgGuardrails: () => ({ project: "acme-build-signer" }),
    ServiceImage: () => ({ project: "acme-build-control", region: "europe-west1" }),
};
