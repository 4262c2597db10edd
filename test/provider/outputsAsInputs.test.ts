/**
 * Inputs that accept Outputs, the same way in every facade: a project, a region, a URL, an identity or an image
 * is usually another resource's output, so the schema types it as an Input (not `plain`) wherever the component
 * can wait for it; the few it must read at construction are listed here with the reason. construct() then takes
 * those Outputs: a RunnerPool is wired to the ControlPlane's brokerUrl output, as a Python program would.
 */
import * as assert from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { REPO_ROOT } from "../helpers/paths";
import { runProgram } from "../../plan/engine";
import { createComponentProvider, PROVIDER_NAME } from "../../provider/index";

const token = (component: string) => `${PROVIDER_NAME}:index:${component}`;
type Spec = Record<string, any>;

/** Inputs a user typically takes from another resource's outputs. */
const WIRED = /^(project|region|image|serviceImage|invokers|readers|verifiers|allowedCallers|provenanceReaders|runnerMembers|network|subnetwork|url)$|(Project|Url|Member|Pem)$/;

/** Those the components read at construction, so they stay plain, and why. */
const PLAIN_ON_PURPOSE: Record<string, string> = {
    "FleetPerimeter.signerProject": "compared with the other projects (the enclave and worker perimeters must differ) and looked up in projectNumbers",
    "FleetPerimeter.workerProject": "as signerProject",
    "FleetPerimeter.controlPlaneProject": "as signerProject",
    "ControlPlane.githubConfigUrl": "read into the GitHub API base and organization at construction, and refused there when it cannot be one",
    "TransparencyLog.url": "validated as an https URL at construction (the signer refuses to start without a usable log)",
};

/** The Input-or-plain of every wired input of every component and of the object types only components take. */
function wiredInputs(schema: Spec): Record<string, boolean> {
    const out: Record<string, boolean> = {};
    const scan = (owner: string, props: Record<string, Spec>) => {
        for (const [name, p] of Object.entries(props ?? {})) {
            if (WIRED.test(name)) {
                // A list is plain when its items are (the list itself is always a plain list of Inputs here).
                out[`${owner}.${name}`] = p.type === "array" ? p.items?.plain !== true : p.plain !== true;
            }
        }
    };
    for (const [t, r] of Object.entries<Spec>(schema.resources)) {
        scan(t.slice(t.lastIndexOf(":") + 1), r.inputProperties);
    }
    for (const name of ["ControlPlanePool", "GeneratorVpc", "PoolGithub", "TimestampAuthority", "TransparencyLog"]) {
        scan(name, schema.types[token(name)].properties);
    }
    return out;
}

describe("component provider: Outputs as inputs", function () {
    this.timeout(180_000);
    let provider: ComponentProvider;
    let schema: Spec;
    before(async () => {
        provider = createComponentProvider();
        schema = JSON.parse(await provider.getSchema());
    });

    it("every project, region, URL, identity and image input accepts an Output, but the listed few the components must read at construction", () => {
        const inputs = wiredInputs(schema);
        assert.ok(Object.keys(inputs).length >= 30, `${Object.keys(inputs).length} wired inputs found`);
        const plain = Object.entries(inputs).filter(([, accepts]) => !accepts).map(([k]) => k).sort();
        assert.deepStrictEqual(plain, Object.keys(PLAIN_ON_PURPOSE).sort());
        // The ones users wire most: the broker URL into a pool, the generator's member into the signer, image refs, regions.
        for (const k of ["RunnerPool.registrationBrokerUrl", "SignerEnclave.invokers", "ControlPlane.image", "ControlPlane.region", "ServiceImage.region", "OrgGuardrails.project"]) {
            assert.strictEqual(inputs[k], true, `${k} accepts an Output`);
        }
    });

    it("construct() takes them: a RunnerPool gets the ControlPlane's brokerUrl output, the others an Output region or project", async () => {
        let brokerUrl = "";
        const run = await runProgram(async () => {
            const cp = await provider.construct("cp", token("ControlPlane"), {
                project: pulumi.output("acme-build-control"), workerProject: pulumi.output("acme-build-workers"), region: pulumi.output("europe-west1"),
                pools: [{
                    name: "linux", runnerMember: "serviceAccount:linux@acme-build-workers.iam.gserviceaccount.com", instanceGroupManager: pulumi.output("linux-mig"),
                    image: "projects/acme-build-images/global/images/family/gha-runner", maxRunDurationSeconds: 7200,
                }],
                image: "europe-docker.pkg.dev/acme-build-control/fleet/services@sha256:" + "b".repeat(64),
                signerUrl: pulumi.output("https://signer-signer-123.europe-west1.run.app"),
                builderId: "https://github.com/acme/hardened-build-fleet/fleet",
                githubConfigUrl: "https://github.com/acme",
                githubApp: { appId: 123456, installationId: 7890123, privateKeySecret: "projects/acme-build-control/secrets/github-app-key" },
                webhookSecret: "projects/acme-build-control/secrets/github-webhook-secret",
            }, {});
            const url = cp.state.brokerUrl as pulumi.Output<string>;
            assert.ok(pulumi.Output.isInstance(url), "the ControlPlane's brokerUrl is an Output");
            url.apply((u) => (brokerUrl = u));
            await provider.construct("pool", token("RunnerPool"), {
                project: "acme-build-workers", region: "europe-west1", registrationBrokerUrl: url,
                pool: { name: "linux", backend: "gce", cidr: "10.10.0.0/24", image: "projects/acme-build-images/global/images/family/gha-runner" },
            }, {});
            await provider.construct("services", token("ServiceImage"), { project: "acme-build-control", region: pulumi.output("europe-west1") }, {});
            await provider.construct("guardrails", token("OrgGuardrails"), { project: pulumi.output("acme-build-signer") }, {});
        }, { configFile: path.join(REPO_ROOT, "Pulumi.example.yaml") });
        assert.strictEqual(run.error, undefined, String(run.error));
        const of = (type: string) => run.resources.filter((r) => r.type === type);

        assert.match(brokerUrl, /^https:\/\/cp-broker-[0-9a-z-]+\.a\.run\.app$/);
        const [template] = of("gcp:compute/instanceTemplate:InstanceTemplate");
        assert.ok(String(template.inputs.metadataStartupScript).includes(`${brokerUrl}/v1/jit-config`), "the pool's runners call the broker the ControlPlane deployed");
        assert.deepStrictEqual([...new Set(of("gcp:cloudrunv2/service:Service").map((s) => s.inputs.location))], ["europe-west1"]);
        const membership = of("gcp:projects/iAMMember:IAMMember").map((m) => JSON.stringify(m.inputs.condition ?? {})).find((c) => c.includes("instanceGroupManagers"));
        assert.match(membership ?? "", /projects\/acme-build-workers\/regions\/europe-west1\/instanceGroupManagers\/linux-mig/);
        const [repository] = of("gcp:artifactregistry/repository:Repository");
        assert.strictEqual(repository.inputs.location, "europe-west1");
        const policies = of("gcp:orgpolicy/policy:Policy");
        assert.ok(policies.length > 3);
        for (const p of policies) {
            assert.strictEqual(p.inputs.parent, "projects/acme-build-signer");
            assert.match(p.inputs.name, /^projects\/acme-build-signer\/policies\/[a-zA-Z.]+$/);
        }
    });

    it("a literal is still checked at construction: a bad region or project is refused, naming the field", async () => {
        await assert.rejects(provider.construct("services", token("ServiceImage"), { project: "acme-build-control", region: "Europe West" }, {}), /region: "Europe West" is not a region/);
        await assert.rejects(provider.construct("guardrails", token("OrgGuardrails"), { project: "Acme Signer" }, {}), /project: "Acme Signer" is not a project id/);
        await assert.rejects(provider.construct("guardrails", token("OrgGuardrails"), { project: "" }, {}), /project: "" is not a project id/);
    });
});
