/**
 * The component provider (provider/): the schema `pulumi package add` turns into Python, Go, .NET and YAML
 * SDKs covers every component with its inputs (types, required fields, descriptions) and outputs; each
 * component constructs through `ComponentProvider.construct()` under the offline engine; and the policy pack
 * still passes on the whole fleet built that way (and still fires on an insecure addition to it).
 */
import { REPO_ROOT } from "../helpers/paths";
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as gcp from "@pulumi/gcp";
import { parse as parseYaml } from "yaml";
import type { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import type * as components from "../../components";
import type { GceBackendOptions } from "../../components/runnerPool/gce";
import type { GkeBackendOptions } from "../../components/runnerPool/gke";
import { readRawFleetConfig } from "../../components";
import { ProgramRun, runProgram, evaluatePolicies, Evaluation } from "../../plan/engine";
import { policies } from "../../policies/rules";
import * as facade from "../../provider/index";
import { createComponentProvider, PROVIDER_COMPONENTS, PROVIDER_NAME } from "../../provider/index";

const ROOT = REPO_ROOT;
const CONFIG_FILE = path.join(ROOT, "Pulumi.example.yaml");
const PACKAGE_VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const token = (component: string) => `${PROVIDER_NAME}:index:${component}`;

/** True when A and B are the same type (compile-time checks below, run by `npm run typecheck`). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function sameKeys<A, B>(check: Equal<keyof A, keyof B>): void {
    assert.strictEqual(check, true);
}

interface PropertySpec {
    type?: string;
    $ref?: string;
    items?: PropertySpec;
    additionalProperties?: PropertySpec;
    plain?: boolean;
    optional?: boolean;
    description?: string;
}
interface ResourceSpec {
    isComponent: boolean;
    description?: string;
    inputProperties: Record<string, PropertySpec>;
    requiredInputs?: string[];
    properties: Record<string, PropertySpec>;
    required?: string[];
}
interface TypeSpec {
    type: string;
    description?: string;
    properties?: Record<string, PropertySpec>;
    required?: string[];
    enum?: { name: string; value: string; description?: string }[];
}
interface PackageSchema {
    name: string;
    version: string;
    resources: Record<string, ResourceSpec>;
    types: Record<string, TypeSpec>;
}

/** `string`, `string[]`, `map<string>`, `Pool`, `Pool[]` ... for compact assertions. */
function shape(p: PropertySpec): string {
    if (p.$ref !== undefined) {
        // A resource of another package as the package's token, e.g. `gcp:storage/bucket:Bucket`.
        const foreign = /^\/\w+\/v[^/]+\/schema\.json#\/resources\/(.*)$/.exec(p.$ref);
        return foreign !== null ? decodeURIComponent(foreign[1]) : p.$ref.replace(`#/types/${PROVIDER_NAME}:index:`, "");
    }
    if (p.type === "array" && p.items !== undefined) {
        return `${shape(p.items)}[]`;
    }
    if (p.type === "object" && p.additionalProperties !== undefined) {
        return `map<${shape(p.additionalProperties)}>`;
    }
    return String(p.type);
}

/** Each property as `name: shape` (with `?` when optional and ` plain` when not an Input), sorted. */
function describeProperties(props: Record<string, PropertySpec>, required: string[] = []): string[] {
    return Object.entries(props)
        .map(([name, p]) => `${name}${required.includes(name) ? "" : "?"}: ${shape(p)}${p.plain ? " plain" : ""}`)
        .sort();
}

let provider: ComponentProvider;
let schema: PackageSchema;

describe("component provider: schema", function () {
    this.timeout(180_000);

    before(async () => {
        provider = createComponentProvider();
        schema = JSON.parse(await provider.getSchema()) as PackageSchema;
    });

    it("names the package and serves exactly the eight components, as components", () => {
        assert.strictEqual(schema.name, "hardened-build-fleet");
        assert.strictEqual(schema.version, PACKAGE_VERSION, "provider/package.json version must follow the package's");
        assert.deepStrictEqual(Object.keys(schema.resources).sort(), [
            "ControlPlane", "FleetPerimeter", "HardenedBuildFleet", "IsolatedNetwork", "OrgGuardrails", "RunnerPool", "ServiceImage", "SignerEnclave",
        ].map(token));
        assert.deepStrictEqual(PROVIDER_COMPONENTS.map((c) => token(c.name)).sort(), Object.keys(schema.resources).sort());
        for (const [name, r] of Object.entries(schema.resources)) {
            assert.strictEqual(r.isComponent, true, name);
            assert.ok((r.description ?? "").length > 40, `${name} has no description`);
        }
    });

    // The SDK's schema generator keeps the descriptions of components, properties and enum members, not of
    // object types or enums themselves: those are documented through their properties and members.
    it("describes every input and output of every component, every property of every type, every enum member", () => {
        for (const [name, r] of Object.entries(schema.resources)) {
            for (const [prop, p] of [...Object.entries(r.inputProperties), ...Object.entries(r.properties)]) {
                assert.ok((p.description ?? "").trim().length > 5, `${name}.${prop} has no description`);
            }
        }
        for (const [name, t] of Object.entries(schema.types)) {
            for (const [prop, p] of Object.entries(t.properties ?? {})) {
                assert.ok((p.description ?? "").trim().length > 3, `${name}.${prop} has no description`);
            }
            for (const member of t.enum ?? []) {
                assert.ok((member.description ?? "").trim().length > 3, `${name}.${member.name} has no description`);
            }
        }
    });

    it("HardenedBuildFleet: the stack-config-shaped config as plain typed input, the fleet's outputs", () => {
        const fleet = schema.resources[token("HardenedBuildFleet")];
        assert.deepStrictEqual(describeProperties(fleet.inputProperties, fleet.requiredInputs), [
            "config: FleetConfig plain",
            "gce?: GceOptions plain",
            "gke?: GkeOptions plain",
            "monitoring?: MonitoringOptions plain",
        ]);
        assert.deepStrictEqual(describeProperties(fleet.properties, fleet.required), [
            "brokerUrl: string",
            "controlPlaneServiceAccountEmail: string",
            "generatorServiceAccount: gcp:serviceaccount/account:Account", "generatorServiceAccountEmail: string",
            "intakeBuckets: map<string>",
            "poolNames: string[]",
            "provenanceBucket: gcp:storage/bucket:Bucket",
            "provenanceBucketName: string",
            "runnerServiceAccountEmails: map<string>",
            "runnerServiceAccounts: map<gcp:serviceaccount/account:Account>",
            "signerKey: gcp:kms/cryptoKey:CryptoKey",
            "signerKeyId: string",
            "signerKeyRing: gcp:kms/keyRing:KeyRing",
            "signerKeyRingId: string",
            "signerKeyVersionName: string",
            "signerPublicKeyPem: string",
            "signerServiceAccount: gcp:serviceaccount/account:Account",
            "signerServiceAccountEmail: string",
            "signerServiceUrl: string",
            "webhookUrl: string",
        ]);
        const config = schema.types[token("FleetConfig")];
        assert.deepStrictEqual(describeProperties(config.properties ?? {}, config.required), [
            "allowSharedSignerProject?: boolean plain",
            "controlPlane: ControlPlaneSettings plain", "enableApis?: boolean plain",
            "github: Github plain",
            "guardrails?: Guardrails plain",
            "perimeter?: Perimeter plain",
            "pools: Pool[] plain",
            "region: string plain",
            "registrationBrokerUrl?: string plain",
            "signer: Signer plain",
            "signerProject: string plain",
            "workerProject: string plain",
        ]);
        const pool = schema.types[token("Pool")];
        assert.deepStrictEqual(describeProperties(pool.properties ?? {}, pool.required), [
            "backend: RunnerBackend plain",
            "cidr: string plain",
            "confidentialCompute?: boolean plain",
            "containers?: boolean plain",
            "egressAllowList?: EgressAllowList plain",
            "image: string plain",
            "labels?: string[] plain",
            "machineType?: string plain",
            "masterCidr?: string plain",
            "maxBuildDuration?: string plain",
            "maxRunners?: integer plain",
            "minRunners?: integer plain",
            "name: string plain",
            "podCidr?: string plain",
            "runnerGroupId?: integer plain",
            "runnerGroupName?: string plain",
            "serviceCidr?: string plain",
            "spot?: boolean plain",
        ]);
        const signer = schema.types[token("Signer")];
        assert.deepStrictEqual(signer.required?.sort(), ["cidr"]);
        const cpSettings = schema.types[token("ControlPlaneSettings")];
        assert.deepStrictEqual(cpSettings.required?.sort(), ["githubApp", "webhookSecret"]);
        assert.strictEqual(shape(signer.properties?.protectionLevel ?? {}), "ProtectionLevel");
    });

    it("marks the outputs renamed to the glossary's terms as deprecated aliases, naming the new output", () => {
        const deprecated = Object.entries(schema.resources).flatMap(([t, r]: [string, any]) => Object.entries<any>(r.properties ?? {})
            .filter(([, p]) => p.deprecationMessage !== undefined)
            .map(([name, p]) => `${t.slice(t.lastIndexOf(":") + 1)}.${name}: ${/use `(\w+)`/i.exec(p.deprecationMessage)?.[1]}`));
        assert.deepStrictEqual(deprecated.sort(), [
            "ControlPlane.member: generatorMember",
            "ControlPlane.serviceAccountEmail: generatorServiceAccountEmail",
            "HardenedBuildFleet.controlPlaneServiceAccountEmail: generatorServiceAccountEmail",
        ]);
    });

    it("string enums come from the `as const` objects, with their members' descriptions", () => {
        const values = (name: string) => schema.types[token(name)].enum?.map((m) => `${m.name}=${m.value}`);
        assert.deepStrictEqual(values("RunnerBackend"), ["Gce=gce", "Gke=gke"]);
        assert.deepStrictEqual(values("ProtectionLevel"), ["Hsm=HSM", "Software=SOFTWARE"]);
        assert.deepStrictEqual(values("FleetRole"), ["Runner=runner", "Signer=signer", "ControlPlane=control-plane"]);
        assert.deepStrictEqual(values("ReleaseChannel"), ["Rapid=RAPID", "Regular=REGULAR", "Stable=STABLE"]);
        assert.deepStrictEqual(values("ApiEndpoint"), ["Dns=dns", "PrivateIp=private-ip"]);
        assert.ok(schema.types[token("RunnerBackend")].enum?.every((m) => (m.description ?? "").length > 10));
    });

    it("RunnerPool, SignerEnclave, ControlPlane, IsolatedNetwork: Input<T> where the component takes Outputs, plain where it validates literals", () => {
        const expected: Record<string, { inputs: string[]; outputs: string[] }> = {
            RunnerPool: {
                inputs: [
                    "additionalRoles?: string[] plain", "controlPlaneIdentities?: string[] plain", "flowLogSampling?: number plain", "gce?: GceOptions plain", "github?: PoolGithub plain",
                    "gke?: GkeOptions plain", "pool: Pool plain", "project: string", "region: string", "registrationBrokerUrl?: string",
                    "restrictedGoogleDomains?: string[] plain", "serviceAccountId?: string plain",
                ],
                outputs: [
                    "backend: string", "cluster?: string", "instanceGroupManager?: string", "instanceTemplate?: string", "network: gcp:compute/network:Network",
                    "networkSelfLink: string", "poolName: string", "runnerNamespace?: string", "serviceAccount: gcp:serviceaccount/account:Account",
                    "serviceAccountEmail: string", "serviceAccountMember: string", "subnet: gcp:compute/subnetwork:Subnetwork", "subnetSelfLink: string",
                ],
            },
            SignerEnclave: {
                inputs: [
                    "allowSoftwareKeyForDevelopment?: boolean plain", "allowedCallers?: string[] plain", "auditLogRetentionDays?: integer plain", "builderId: string plain", "cidr: string plain", "flowLogSampling?: number plain", "invokers: string[] plain", "keyAlgorithm?: string plain", "keyVersions?: KeyVersion[] plain", "lockAuditLog?: boolean plain", "lockProvenanceRetention?: boolean plain", "privateTransparencyLog?: PrivateTransparencyLog plain", "project: string", "protectionLevel?: ProtectionLevel plain",
                    "provenanceReaders?: string[] plain", "provenanceRetentionDays?: integer plain", "region: string", "serviceDeletionProtection?: boolean plain",
                    "serviceImage: string", "signerAccountId?: string plain", "timestampAuthority?: TimestampAuthority plain", "transparencyLog?: TransparencyLog plain",
                    "verifiers?: string[] plain",
                ],
                outputs: [
                    "key: gcp:kms/cryptoKey:CryptoKey", "keyId: string", "keyRing: gcp:kms/keyRing:KeyRing", "keyRingId: string", "keyVersionName: string",
                    "provenanceBucket: gcp:storage/bucket:Bucket", "provenanceBucketName: string", "publicKeyPem: string", "serviceUrl: string",
                    "signerMember: string", "signerServiceAccount: gcp:serviceaccount/account:Account", "signerServiceAccountEmail: string",
                ],
            },
            ControlPlane: {
                inputs: [
                    "allowWorkerProjectForDevelopment?: boolean plain", "brokerAudience?: string plain", "brokerIngress?: BrokerIngress plain",
                    "builderId: string plain", "generatorNetwork?: GeneratorNetwork plain", "generatorVpc?: GeneratorVpc plain", "githubApp: GithubApp plain", "githubConfigUrl: string plain",
                    "image: string", "intakeRetentionDays?: integer plain", "pools: ControlPlanePool[] plain", "project: string", "region: string",
                    "releaseRegistry?: boolean plain", "runnerGroupId?: integer plain", "serviceAccountId?: string plain", "serviceDeletionProtection?: boolean plain", "signerUrl: string",
                    "webhookSecret: string plain", "workerProject: string",
                ],
                outputs: [
                    "brokerUrl: string", "generatorMember: string", "generatorServiceAccount: gcp:serviceaccount/account:Account",
                    "generatorServiceAccountEmail: string", "intakeBuckets: map<string>", "member: string",
                    "serviceAccountEmail: string", "serviceAccounts: map<gcp:serviceaccount/account:Account>", "webhookUrl: string",
                ],
            },
            IsolatedNetwork: {
                inputs: [
                    "cidr: string plain", "egressAllowList?: EgressAllowList plain", "flowLogSampling?: number plain", "pool?: string plain", "project: string",
                    "region: string", "restrictedGoogleDomains?: string[] plain", "role: FleetRole plain", "secondaryRanges?: SecondaryRange[] plain",
                ],
                outputs: [
                    "network: gcp:compute/network:Network", "networkId: string", "networkSelfLink: string", "subnet: gcp:compute/subnetwork:Subnetwork",
                    "subnetId: string", "subnetSelfLink: string",
                ],
            },
            FleetPerimeter: {
                inputs: [
                    "accessPolicy: string plain", "brokerMember: string", "controlPlaneProject?: string plain", "enclaveRestrictedServices?: string[] plain",
                    "imageProjects?: string[] plain", "mode?: PerimeterMode plain", "projectNumbers?: map<string> plain", "runnerMembers?: string[] plain",
                    "runnersInvokeBroker?: boolean plain", "signerProject: string plain", "webhookMember: string", "workerProject: string plain",
                    "workerRestrictedServices?: string[] plain", "workerVpcAccessibleServices?: string[] plain",
                ],
                outputs: [
                    "enclave: gcp:accesscontextmanager/servicePerimeter:ServicePerimeter", "enclaveName: string", "mode: string",
                    "workers: gcp:accesscontextmanager/servicePerimeter:ServicePerimeter", "workersName: string",
                ],
            },
            OrgGuardrails: {
                inputs: [
                    "allowedPolicyMemberDomains?: string[] plain", "constraints?: map<boolean> plain", "project: string", "resourceLocations?: string[] plain",
                    "runAllowedIngress?: RunIngress plain",
                ],
                outputs: ["constraintNames: string[]", "policies: map<gcp:orgpolicy/policy:Policy>", "policyNames: map<string>"],
            },
            ServiceImage: {
                inputs: ["project: string", "readers?: string[] plain", "region: string", "sourceRoot?: string plain"],
                outputs: ["imageName: string", "imageRef: string", "repository: gcp:artifactregistry/repository:Repository", "repositoryId: string"],
            },
        };
        for (const [component, want] of Object.entries(expected)) {
            const r = schema.resources[token(component)];
            assert.deepStrictEqual(describeProperties(r.inputProperties, r.requiredInputs), want.inputs, `${component} inputs`);
            assert.deepStrictEqual(describeProperties(r.properties, r.required), want.outputs, `${component} outputs`);
        }
        // The invokers' items are Inputs (an Output such as the control plane's member), the list itself plain.
        assert.strictEqual(schema.resources[token("SignerEnclave")].inputProperties.invokers.items?.plain, undefined);
        const cpPool = schema.types[token("ControlPlanePool")];
        assert.deepStrictEqual(describeProperties(cpPool.properties ?? {}, cpPool.required), [
            "backend?: RunnerBackend plain", "baseInstanceName?: string plain", "image: string", "instanceGroupManager?: string",
            "labels?: string[] plain", "maxRunDurationSeconds: integer plain", "name: string plain", "runnerGroupId?: integer plain", "runnerMember: string", "serviceAccountEmail?: string plain",
        ]);
    });

    it("keeps the facade's inputs in step with the TypeScript API (compile-time)", () => {
        sameKeys<facade.FleetConfig, components.FleetConfigInput>(true);
        sameKeys<facade.Pool, Record<keyof components.GcePoolInput | keyof components.GkePoolInput, unknown>>(true);
        sameKeys<facade.Signer, components.SignerInput>(true);
        sameKeys<facade.SignerTimestampAuthority, components.TimestampAuthorityInput>(true);
        sameKeys<facade.SignerTransparencyLog, components.TransparencyLogInput>(true);
        sameKeys<facade.SignerPrivateTransparencyLog, components.PrivateTransparencyLogInput>(true);
        sameKeys<facade.Github, components.GithubInput>(true);
        sameKeys<facade.ControlPlaneSettings, components.ControlPlaneInput>(true);
        sameKeys<facade.EgressAllowList, components.EgressAllowListInput>(true);
        sameKeys<facade.GceOptions, GceBackendOptions>(true);
        sameKeys<facade.GkeOptions, GkeBackendOptions>(true);
        sameKeys<facade.HardenedBuildFleetArgs, components.HardenedBuildFleetArgs>(true);
        sameKeys<facade.RunnerPoolArgs, components.RunnerPoolArgs>(true);
        sameKeys<facade.SignerEnclaveArgs, components.SignerEnclaveArgs>(true);
        sameKeys<facade.ControlPlaneArgs, components.ControlPlaneArgs>(true);
        sameKeys<facade.IsolatedNetworkArgs, components.IsolatedNetworkArgs>(true);
        sameKeys<facade.FleetPerimeterArgs, components.FleetPerimeterArgs>(true);
        sameKeys<facade.OrgGuardrailsArgs, components.OrgGuardrailsArgs>(true);
        sameKeys<facade.ServiceImageArgs, components.ServiceImageArgs>(true);
    });
});

/** The rules about the fleet's organization-level hardening (its perimeters and guardrails), which no single component carries. */
const FLEET_LEVEL_RULES = ["signer-perimeter", "runner-perimeter", "org-guardrails"];

/** The digest-pinned services image the standalone ControlPlane is given. */
const CP_IMAGE = "europe-docker.pkg.dev/acme-build-control/fleet/services@sha256:" + "b".repeat(64);

/**
 * Asserts that the full pack reports nothing on `run` but the dry-run advisories of a fleet whose perimeters are in
 * dry run. A single component is checked without the fleet-level rules: its perimeters and guardrails belong to the fleet.
 */
async function assertNoFindings(run: ProgramRun, scope: "fleet in dry run" | "component" = "component", extraConfig: Record<string, unknown> = {}): Promise<void> {
    // These programs are trial stacks: they leave the irreversible evidence locks off (opt-in), as a trial stack declares.
    const trial = { "signer-evidence-locked": { production: false } };
    const policyConfig = { ...trial, ...(scope === "component" ? Object.fromEntries(FLEET_LEVEL_RULES.map((r) => [r, "disabled"])) : {}), ...extraConfig };
    const ev = await evaluatePolicies(run, policies, { policyConfig });
    const expected = scope === "component" ? [] : ["runner-perimeter/advisory", "signer-perimeter/advisory"];
    assert.deepStrictEqual(ev.violations.map((v) => `${v.policy}/${v.enforcementLevel}`).sort(), expected, listFindings(ev));
}

/** Constructs `component` through the provider inside the offline engine; returns the run and the result state. */
async function construct(component: string, name: string, inputs: Record<string, unknown> | (() => Record<string, unknown>), extra?: () => void): Promise<ProgramRun> {
    return runProgram(async () => {
        const result = await provider.construct(name, token(component), typeof inputs === "function" ? inputs() : inputs, {});
        extra?.();
        return { urn: result.urn, ...result.state };
    }, { configFile: CONFIG_FILE });
}

function listFindings(ev: Evaluation): string {
    return ev.violations.map((v) => `  [${v.policy}/${v.enforcementLevel}] ${v.urn ?? "(stack)"}: ${v.message}`).join("\n") || "  (none)";
}

/** The URN without `urn:pulumi:<stack>::<project>::`. */
function suffix(urn: string): string {
    return urn.split("::").slice(2).join("::");
}

const WORKER = { project: "acme-build-workers", region: "europe-west1" };
const GCE_POOL = {
    name: "linux",
    backend: "gce",
    cidr: "10.10.0.0/24",
    image: "projects/acme-build-images/global/images/family/gha-runner",
    maxBuildDuration: "2h",
    egressAllowList: { fqdns: ["GitHub.com", "api.github.com"] },
};

describe("component provider: construct() under the offline engine", function () {
    this.timeout(180_000);

    before(async () => {
        provider ??= createComponentProvider();
        await provider.getSchema();
    });

    describe("HardenedBuildFleet from Pulumi.example.yaml", () => {
        let tsRun: ProgramRun;
        let providerRun: ProgramRun;

        before(async () => {
            const { HardenedBuildFleet } = await import("../../components");
            tsRun = await runProgram(() => {
                new HardenedBuildFleet("fleet", { config: readRawFleetConfig() });
            }, { configFile: CONFIG_FILE });
            providerRun = await construct("HardenedBuildFleet", "fleet", () => ({ config: readRawFleetConfig() }));
        });

        it("returns the facade's URN and every schema output, resolved", () => {
            assert.strictEqual(suffix(providerRun.outputs.urn as string), `${token("HardenedBuildFleet")}::fleet`);
            const outputs = Object.keys(schema.resources[token("HardenedBuildFleet")].properties).sort();
            assert.deepStrictEqual(Object.keys(providerRun.outputs).filter((k) => k !== "urn").sort(), outputs);
            assert.deepStrictEqual(providerRun.outputs.poolNames, ["linux-release", "linux-spot", "containers"]);
            for (const pool of providerRun.outputs.poolNames as string[]) {
                assert.match(providerRun.outputs.intakeBuckets[pool] as string, /intake/, `intake bucket of ${pool}`);
                assert.match(providerRun.outputs.runnerServiceAccountEmails[pool] as string, /@acme-build-workers\.iam\.gserviceaccount\.com$/);
            }
            assert.match(providerRun.outputs.signerPublicKeyPem as string, /^-----BEGIN PUBLIC KEY-----/);
        });

        it("registers the TypeScript component as its child under the same name: the same resources, one parent type deeper", () => {
            const facadeUrn = providerRun.outputs.urn as string;
            const inner = providerRun.resources.filter((r) => r.type === token("HardenedBuildFleet") && r.parent === facadeUrn);
            assert.strictEqual(inner.length, 1, "exactly one TypeScript HardenedBuildFleet under the facade");
            assert.strictEqual(suffix(inner[0].urn), `${token("HardenedBuildFleet")}$${token("HardenedBuildFleet")}::fleet`);
            // Every resource of the TypeScript path, with the same name (so the same physical names), under the facade.
            const lift = (r: { type: string; name: string; urn: string }) => suffix(r.urn).replace(/^hardened-build-fleet:index:HardenedBuildFleet\$/, "");
            const tsUrns = tsRun.resources.filter((r) => r.parent !== undefined).map((r) => suffix(r.urn)).sort();
            const providerUrns = providerRun.resources.filter((r) => r.parent !== undefined && r.urn !== facadeUrn).map(lift).sort();
            assert.deepStrictEqual(providerUrns, tsUrns);
            assert.ok(tsUrns.length > 100, `the example fleet has ${tsUrns.length} resources`);
        });

        it("passes the policy pack: no finding on what construct() registered but the dry-run perimeters' advisories", async () => {
            await assertNoFindings(providerRun, "fleet in dry run");
        });

        it("and the pack still fires on an insecure addition next to the provider-built fleet", async () => {
            const run = await construct("HardenedBuildFleet", "fleet", () => ({ config: readRawFleetConfig() }), () => {
                // A runner identity granted the signer role on the signer project: the pack sees through the facade.
                new gcp.projects.IAMMember("rogue-runner-signer", {
                    project: "acme-build-signer",
                    role: "roles/cloudkms.signer",
                    member: "serviceAccount:fleet-pool-linux-release-rn@acme-build-workers.iam.gserviceaccount.com",
                });
            });
            const rogue = run.resources.find((r) => r.name === "rogue-runner-signer");
            assert.ok(rogue);
            const ev = await evaluatePolicies(run, policies);
            const hit = ev.violations.find((v) => v.policy === "single-signer" && v.urn === rogue.urn);
            assert.ok(hit, `single-signer must name ${rogue.urn}:\n${listFindings(ev)}`);
            assert.strictEqual(hit.enforcementLevel, "mandatory");
        });

        it("rejects an invalid config with every problem at once and registers nothing", async () => {
            const run = await runProgram(async () => {
                const config = readRawFleetConfig();
                const pools = (config.pools as Record<string, unknown>[]).map((p, i) => (i === 0 ? { ...p, cidr: "10.0.0.1/24", maxBuildDuration: "30h" } : p));
                await provider.construct("fleet", token("HardenedBuildFleet"), { config: { ...config, pools, regoin: "x" } }, {});
            }, { configFile: CONFIG_FILE, allowError: true });
            const message = String((run.error as Error | undefined)?.message);
            assert.match(message, /Invalid hardened-build-fleet stack config \(3 problems\)/);
            assert.match(message, /pools\[0\]\.cidr = "10\.0\.0\.1\/24": is not a network address/);
            assert.match(message, /pools\[0\]\.maxBuildDuration = "30h": is 30h, above the 24h maximum/);
            assert.match(message, /regoin = "x": unknown key\. Fix: did you mean `region`/);
            assert.deepStrictEqual(run.resources.filter((r) => r.parent !== undefined).map((r) => r.urn), []);
        });
    });

    it("RunnerPool: a pool written as in YAML, normalised by the component (2h lifetime, lower-cased FQDNs, gce defaults)", async () => {
        const run = await construct("RunnerPool", "pool-linux", {
            ...WORKER,
            pool: GCE_POOL,
            registrationBrokerUrl: "https://jit-broker-abc123-ew.a.run.app",
        });
        assert.strictEqual(suffix(run.outputs.urn as string), `${token("RunnerPool")}::pool-linux`);
        assert.strictEqual(run.outputs.poolName, "linux");
        assert.strictEqual(run.outputs.backend, "gce");
        assert.match(run.outputs.instanceTemplate as string, /instanceTemplates/);
        assert.strictEqual(run.outputs.cluster, undefined);
        const template = run.resources.find((r) => r.type === "gcp:compute/instanceTemplate:InstanceTemplate");
        assert.ok(template);
        assert.deepStrictEqual(template.inputs.scheduling.maxRunDuration, { seconds: 7200 });
        assert.strictEqual(template.inputs.machineType, "e2-standard-4");
        const fqdnRule = run.resources.find((r) => r.type === "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule"
            || r.type === "gcp:compute/networkFirewallPolicyWithRules:NetworkFirewallPolicyWithRules");
        assert.ok(fqdnRule, "the FQDN allow-list rule exists");
        assert.match(JSON.stringify(fqdnRule.inputs), /"github\.com"/);
        const inner = run.resources.find((r) => r.type === token("RunnerPool") && r.parent === run.outputs.urn);
        assert.ok(inner, "the TypeScript RunnerPool is the facade's child");
        await assertNoFindings(run);
    });

    it("RunnerPool: a gke pool (gVisor node pool, ARC scale set) with the GKE tunables' enums, passing the pack", async () => {
        const run = await construct("RunnerPool", "pool-k8s", {
            ...WORKER,
            pool: { name: "k8s", backend: "gke", cidr: "10.11.0.0/22", image: "ghcr.io/actions/actions-runner:2.321.0", maxBuildDuration: "90m", egressAllowList: { fqdns: ["github.com"] } },
            github: { configUrl: "https://github.com/acme" },
            gke: { releaseChannel: "STABLE", apiEndpoint: "dns", runnerResources: { cpuMillicores: 4000, memoryMiB: 8192, ephemeralStorageGiB: 40 } },
        });
        assert.strictEqual(run.outputs.backend, "gke");
        assert.strictEqual(run.outputs.runnerNamespace, "runners-k8s");
        assert.strictEqual(run.outputs.instanceTemplate, undefined);
        const cluster = run.resources.find((r) => r.type === "gcp:container/cluster:Cluster");
        assert.strictEqual(cluster?.inputs.releaseChannel.channel, "STABLE");
        const nodePools = run.resources.filter((r) => r.type === "gcp:container/nodePool:NodePool");
        assert.ok(nodePools.some((np) => np.inputs.nodeConfig?.sandboxConfig?.type === "GVISOR"), "a gVisor node pool");
        await assertNoFindings(run);
    });

    it("RunnerPool: a gke-only field on a gce pool is refused through the provider, naming the field, before anything is registered", async () => {
        const run = await runProgram(async () => {
            await provider.construct("pool-linux", token("RunnerPool"), { ...WORKER, pool: { ...GCE_POOL, masterCidr: "172.16.0.0/28", maxBuildDuration: "2 hours" }, registrationBrokerUrl: "https://broker.example.com" }, {});
        }, { allowError: true });
        const message = String((run.error as Error | undefined)?.message);
        assert.match(message, /RunnerPool "pool-linux": invalid arguments/);
        assert.match(message, /pool\.masterCidr = "172\.16\.0\.0\/28": applies only to gke pools\. Fix: remove it from this gce pool, or set backend: gke\./);
        assert.match(message, /pool\.maxBuildDuration = "2 hours": is not a duration/);
        assert.deepStrictEqual(run.resources.filter((r) => r.parent !== undefined).map((r) => r.type), []);
    });

    it("SignerEnclave, ControlPlane and IsolatedNetwork construct with their outputs, passing the pack", async () => {
        const signer = await construct("SignerEnclave", "signer", {
            project: "acme-build-signer",
            region: "europe-west1",
            cidr: "10.200.0.0/26",
            serviceImage: "europe-docker.pkg.dev/acme-build-signer/signer/signer@sha256:" + "a".repeat(64),
            builderId: "https://github.com/acme/hardened-build-fleet/fleet",
            invokers: ["serviceAccount:cp@acme-build-control.iam.gserviceaccount.com"],
            protectionLevel: "HSM",
        });
        assert.strictEqual(suffix(signer.outputs.urn as string), `${token("SignerEnclave")}::signer`);
        assert.match(signer.outputs.publicKeyPem as string, /BEGIN PUBLIC KEY/);
        const key = signer.resources.find((r) => r.type === "gcp:kms/cryptoKey:CryptoKey");
        assert.strictEqual(key?.inputs.versionTemplate.protectionLevel, "HSM");
        assert.strictEqual(key?.protect, true);
        await assertNoFindings(signer);

        const cp = await construct("ControlPlane", "cp", {
            project: "acme-build-control",
            workerProject: WORKER.project,
            region: WORKER.region,
            pools: [{
                name: "linux", runnerMember: "serviceAccount:linux@acme-build-workers.iam.gserviceaccount.com", instanceGroupManager: "linux-mig",
                image: "projects/acme-build-images/global/images/family/gha-runner", maxRunDurationSeconds: 7200,
            }],
            image: CP_IMAGE,
            signerUrl: "https://signer-signer-123.europe-west1.run.app",
            builderId: "https://github.com/acme/hardened-build-fleet/fleet",
            githubConfigUrl: "https://github.com/acme",
            githubApp: { appId: 123456, installationId: 7890123, privateKeySecret: "projects/acme-build-control/secrets/github-app-key" },
            webhookSecret: "projects/acme-build-control/secrets/github-webhook-secret",
        });
        assert.match(cp.outputs.webhookUrl as string, /^https:\/\/.*\/v1\/github\/webhook$/);
        assert.deepStrictEqual(Object.keys(cp.outputs.intakeBuckets as object), ["linux"]);
        assert.match(cp.outputs.generatorMember as string, /^serviceAccount:/);
        assert.match(cp.outputs.generatorServiceAccountEmail as string, /@acme-build-control\.iam\.gserviceaccount\.com$/);
        // The deprecated outputs are aliases of the glossary's names.
        assert.strictEqual(cp.outputs.member, cp.outputs.generatorMember);
        assert.strictEqual(cp.outputs.serviceAccountEmail, cp.outputs.generatorServiceAccountEmail);
        // A ControlPlane given an image built elsewhere: the pack is told which image its public webhook may run.
        await assertNoFindings(cp, "component", { "cloud-run-no-public-invoker": { webhookImages: [CP_IMAGE] } });

        const net = await construct("IsolatedNetwork", "net", { ...WORKER, cidr: "10.20.0.0/24", role: "control-plane" });
        assert.match(net.outputs.subnetSelfLink as string, /subnetworks/);
        const subnet = net.resources.find((r) => r.type === "gcp:compute/subnetwork:Subnetwork");
        assert.strictEqual(subnet?.inputs.ipCidrRange, "10.20.0.0/24");
        await assertNoFindings(net);
    });

    it("FleetPerimeter, OrgGuardrails and ServiceImage construct through the provider with their outputs", async () => {
        const perimeter = await construct("FleetPerimeter", "perimeter", {
            accessPolicy: "accessPolicies/123456", mode: "dryRun", signerProject: "acme-build-signer", workerProject: "acme-build-workers",
            controlPlaneProject: "acme-build-control", brokerMember: "serviceAccount:cp-brk@acme-build-control.iam.gserviceaccount.com",
            webhookMember: "serviceAccount:cp-whk@acme-build-control.iam.gserviceaccount.com",
            projectNumbers: { "acme-build-signer": "111111111111", "acme-build-workers": "222222222222", "acme-build-control": "333333333333" },
        });
        assert.strictEqual(perimeter.error, undefined, String(perimeter.error));
        assert.strictEqual(perimeter.outputs.mode, "dryRun");
        assert.match(perimeter.outputs.enclaveName as string, /^accessPolicies\/123456\/servicePerimeters\//);
        assert.strictEqual(perimeter.resources.filter((r) => r.type === "gcp:accesscontextmanager/servicePerimeter:ServicePerimeter").length, 2);

        const guardrails = await construct("OrgGuardrails", "guardrails", { project: "acme-build-signer", runAllowedIngress: "internal", constraints: { "compute.requireOsLogin": false } });
        assert.strictEqual(guardrails.error, undefined, String(guardrails.error));
        const constraints = guardrails.outputs.constraintNames as string[];
        assert.ok(constraints.includes("run.allowedIngress") && !constraints.includes("compute.requireOsLogin"), JSON.stringify(constraints));
        assert.strictEqual((guardrails.outputs.policyNames as Record<string, string>)["run.allowedIngress"], "projects/acme-build-signer/policies/run.allowedIngress");

        const image = await construct("ServiceImage", "services", { project: "acme-build-control", region: "europe-west1" });
        assert.strictEqual(image.error, undefined, String(image.error));
        assert.match(image.outputs.imageRef as string, /^europe-west1-docker\.pkg\.dev\/acme-build-control\/.*@sha256:[0-9a-f]{64}$/);

        // A bad argument is refused through the provider before anything is registered.
        await assert.rejects(provider.construct("guardrails", token("OrgGuardrails"), { project: "acme-build-signer", constraints: { "no.such.constraint": true } }, {}),
            /no\.such\.constraint/);
    });
});

/** The fenced block of `language` that follows the line starting with `lead` in docs/other-languages.md. */
function readmeBlock(lead: string, language: string): string {
    const readme = fs.readFileSync(path.join(ROOT, "docs", "other-languages.md"), "utf8");
    const at = readme.indexOf(`\n${lead}`);
    assert.ok(at >= 0, `docs/other-languages.md has no paragraph starting "${lead}"`);
    const match = new RegExp("```" + language + "\\n([\\s\\S]*?)```").exec(readme.slice(at));
    assert.ok(match, `docs/other-languages.md has no ${language} block after "${lead}"`);
    return match[1];
}

const camel = (snake: string) => snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

describe("component provider: the Python and YAML programs of docs/other-languages.md", function () {
    this.timeout(180_000);

    before(async () => {
        provider ??= createComponentProvider();
        schema ??= JSON.parse(await provider.getSchema()) as PackageSchema;
    });

    it("the YAML program builds, through the provider, a fleet the policy pack passes", async () => {
        const program = parseYaml(readmeBlock("YAML (`Pulumi.yaml`", "yaml")) as {
            resources: Record<string, { type: string; properties: Record<string, unknown> }>;
            outputs: Record<string, string>;
        };
        const { fleet } = program.resources;
        assert.strictEqual(fleet.type, "hardened-build-fleet:HardenedBuildFleet");
        const outputs = schema.resources[token("HardenedBuildFleet")].properties;
        for (const ref of Object.values(program.outputs)) {
            const property = /^\$\{fleet\.(\w+)\}$/.exec(ref)?.[1];
            assert.ok(property !== undefined && property in outputs, `${ref} is not an output of HardenedBuildFleet`);
        }
        const run = await runProgram(async () => {
            const result = await provider.construct("fleet", token("HardenedBuildFleet"), fleet.properties, {});
            return result.state;
        });
        assert.deepStrictEqual(run.outputs.poolNames, ["linux", "containers"]);
        await assertNoFindings(run, "fleet in dry run");
    });

    it("the Python program uses only classes, enum members and arguments the schema defines", () => {
        const python = readmeBlock("Python (`__main__.py`)", "python");
        const types = new Map(Object.entries(schema.types).map(([t, spec]) => [t.replace(`${PROVIDER_NAME}:index:`, ""), spec]));
        const classes = [...python.matchAll(/hbf\.(\w+)\(/g)].map((m) => m[1]);
        assert.ok(classes.length >= 6);
        const known = new Set<string>();
        for (const cls of classes) {
            const spec = cls.endsWith("Args") ? types.get(cls.slice(0, -"Args".length))?.properties : schema.resources[token(cls)]?.inputProperties;
            assert.ok(spec, `hbf.${cls} is not in the schema`);
            Object.keys(spec).forEach((k) => known.add(k));
        }
        for (const [, kwarg] of python.matchAll(/\b([a-z_]+)=/g)) {
            assert.ok(known.has(camel(kwarg)), `${kwarg}= is not an input of any class the example uses`);
        }
        for (const [, enumName, member] of python.matchAll(/hbf\.(\w+)\.([A-Z_]+)\b/g)) {
            const members = types.get(enumName)?.enum?.map((m) => m.name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase());
            assert.ok(members?.includes(member), `hbf.${enumName}.${member} is not an enum member`);
        }
        for (const [, output] of python.matchAll(/fleet\.([a-z_]+)\)/g)) {
            assert.ok(camel(output) in schema.resources[token("HardenedBuildFleet")].properties, `fleet.${output} is not an output`);
        }
    });
});
