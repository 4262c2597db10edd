/**
 * Compute Engine VM and template rules (I1, I2, I3, I6, I7) over raw @pulumi/gcp resources.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { renderStartupScript } from "../../../components/runnerPool/startupScript";
import { Checked, check, evaluate, assertFired, assertMessage } from "../../helpers/resourcePolicy";
import { throwaway } from "../../helpers/throwaway";

const RUNNER = { "build-fleet-role": "runner", "build-fleet-pool": "a" };
const IMAGE = "projects/cos-cloud/global/images/family/cos-stable";
const SECRETS = "runner-vm-no-secrets-in-metadata";
const GOOD_METADATA = { "block-project-ssh-keys": "TRUE", "serial-port-enable": "FALSE" };
/** The package's own just-in-time startup script (no token in it, I7). */
const JIT_SCRIPT = renderStartupScript({ pool: "a", registrationBrokerUrl: "https://broker.example.com" });

/** A template that passes every rule; cases override parts of it. */
function goodTemplate(email: gcp.types.input.compute.InstanceTemplateServiceAccount["email"]): gcp.compute.InstanceTemplateArgs {
    return {
        machineType: "e2-standard-4",
        labels: RUNNER,
        disks: [{ sourceImage: IMAGE, boot: true, autoDelete: true }],
        networkInterfaces: [{ subnetwork: "projects/fleet-proj/regions/europe-west1/subnetworks/pool-a" }],
        shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
        scheduling: { maxRunDuration: { seconds: 7200 }, instanceTerminationAction: "DELETE", provisioningModel: "STANDARD" },
        metadata: { "block-project-ssh-keys": "TRUE", "serial-port-enable": "FALSE" },
        serviceAccount: { email, scopes: ["cloud-platform"] },
    };
}

type Case = { name: string; expect: string[]; args: (g: gcp.compute.InstanceTemplateArgs) => gcp.compute.InstanceTemplateArgs };

const TEMPLATE_CASES: Case[] = [
    { name: "good", expect: [], args: (g) => g },
    { name: "no-sa-block", expect: [], args: (g) => ({ ...g, serviceAccount: undefined }) },
    { name: "ext-ipv4", expect: ["runner-vm-no-external-ip"], args: (g) => ({ ...g, networkInterfaces: [{ network: "default", accessConfigs: [{}] }] }) },
    { name: "ext-ipv6", expect: ["runner-vm-no-external-ip"], args: (g) => ({ ...g, networkInterfaces: [{ network: "default", stackType: "IPV4_IPV6", ipv6AccessConfigs: [{ networkTier: "PREMIUM" }] }] }) },
    { name: "no-shield", expect: ["runner-vm-shielded"], args: (g) => ({ ...g, shieldedInstanceConfig: undefined }) },
    { name: "shield-no-secure-boot", expect: ["runner-vm-shielded"], args: (g) => ({ ...g, shieldedInstanceConfig: { enableVtpm: true, enableIntegrityMonitoring: true } }) },
    { name: "shield-defaults-ok", expect: [], args: (g) => ({ ...g, shieldedInstanceConfig: { enableSecureBoot: true } }) },
    { name: "shield-no-vtpm", expect: ["runner-vm-shielded"], args: (g) => ({ ...g, shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: false } }) },
    { name: "two-disks", expect: ["runner-vm-ephemeral-disks"], args: (g) => ({ ...g, disks: [{ sourceImage: IMAGE, boot: true }, { diskSizeGb: 100, autoDelete: false }] }) },
    { name: "keep-boot", expect: ["runner-vm-ephemeral-disks"], args: (g) => ({ ...g, disks: [{ sourceImage: IMAGE, boot: true, autoDelete: false }] }) },
    { name: "source-disk", expect: ["runner-vm-ephemeral-disks"], args: (g) => ({ ...g, disks: [{ source: "projects/fleet-proj/zones/europe-west1-b/disks/cache", boot: true }] }) },
    { name: "no-max-run", expect: ["runner-vm-bounded-lifetime"], args: (g) => ({ ...g, scheduling: { instanceTerminationAction: "DELETE" } }) },
    { name: "too-long", expect: ["runner-vm-bounded-lifetime"], args: (g) => ({ ...g, scheduling: { maxRunDuration: { seconds: 172800 }, instanceTerminationAction: "DELETE" } }) },
    { name: "stop-action", expect: ["runner-vm-bounded-lifetime"], args: (g) => ({ ...g, scheduling: { maxRunDuration: { seconds: 3600 }, instanceTerminationAction: "STOP" } }) },
    { name: "ssh-keys", expect: ["runner-vm-no-ssh"], args: (g) => ({ ...g, metadata: { "block-project-ssh-keys": "TRUE", "ssh-keys": "builder:ssh-ed25519 AAAAtest builder" } }) },
    { name: "no-block", expect: ["runner-vm-no-ssh"], args: (g) => ({ ...g, metadata: {} }) },
    { name: "serial-on", expect: ["runner-vm-serial-port-off"], args: (g) => ({ ...g, metadata: { "block-project-ssh-keys": "true", "serial-port-enable": "TRUE" } }) },
    { name: "serial-one", expect: ["runner-vm-serial-port-off"], args: (g) => ({ ...g, metadata: { "block-project-ssh-keys": "true", "serial-port-enable": "1" } }) },
    { name: "default-sa", expect: ["runner-vm-not-default-sa"], args: (g) => ({ ...g, serviceAccount: { email: "123456789-compute@developer.gserviceaccount.com", scopes: ["cloud-platform"] } }) },
    { name: "default-literal", expect: ["runner-vm-not-default-sa"], args: (g) => ({ ...g, serviceAccount: { email: "default", scopes: ["cloud-platform"] } }) },
    { name: "sa-no-email", expect: ["runner-vm-not-default-sa"], args: (g) => ({ ...g, serviceAccount: { scopes: ["cloud-platform"] } }) },
    { name: "forwarding", expect: ["runner-vm-no-ip-forwarding"], args: (g) => ({ ...g, canIpForward: true }) },
    // Signer-labelled VMs are exempt from runner-only rules (lifetime, disks), not from hardening.
    {
        name: "signer-vm",
        expect: ["runner-vm-no-ssh"],
        args: (g) => ({ ...g, labels: { "build-fleet-role": "signer" }, scheduling: undefined, disks: [{ sourceImage: IMAGE, boot: true }, { diskSizeGb: 10 }], metadata: {} }),
    },
    // Unlabelled VMs are runners (fail closed).
    { name: "unlabelled", expect: ["runner-vm-bounded-lifetime"], args: (g) => ({ ...g, labels: undefined, scheduling: undefined }) },
    // I7: no credentials in metadata or the startup script (judged by key name and value shape).
    { name: "jit-startup-script", expect: [], args: (g) => ({ ...g, metadataStartupScript: JIT_SCRIPT }) },
    { name: "jit-startup-script-metadata", expect: [], args: (g) => ({ ...g, metadata: { ...GOOD_METADATA, "startup-script": JIT_SCRIPT, "enable-oslogin": "TRUE" } }) },
    { name: "md-token-key", expect: [SECRETS], args: (g) => ({ ...g, metadata: { ...GOOD_METADATA, "runner-registration-token": "placeholder-not-a-token" } }) },
    { name: "md-password-key", expect: [SECRETS], args: (g) => ({ ...g, metadata: { ...GOOD_METADATA, db_passwd: "placeholder" } }) },
    { name: "md-jitconfig-key", expect: [SECRETS], args: (g) => ({ ...g, metadata: { ...GOOD_METADATA, "actions-jitconfig": "placeholder" } }) },
    { name: "md-empty-secret-key", expect: [], args: (g) => ({ ...g, metadata: { ...GOOD_METADATA, "api-key": "" } }) },
    { name: "md-pem-value", expect: [SECRETS], args: (g) => ({ ...g, metadata: { ...GOOD_METADATA, "tls-material": throwaway.pemPrivateKey() } }) },
    {
        name: "md-startup-script-token",
        expect: [SECRETS],
        args: (g) => ({ ...g, metadata: { ...GOOD_METADATA, "startup-script": `#!/bin/bash\n./config.sh --token ${throwaway.githubToken("ghr")}\n` } }),
    },
    { name: "startup-script-aws", expect: [SECRETS], args: (g) => ({ ...g, metadataStartupScript: `#!/bin/bash\nexport AWS_ACCESS_KEY_ID=${throwaway.awsAccessKeyId()}\n` }) },
    { name: "startup-script-google-key", expect: [SECRETS], args: (g) => ({ ...g, metadataStartupScript: `curl "https://example.com/?key=${throwaway.googleApiKey()}"` }) },
    // Credential files a startup script writes: a literal .npmrc token or Docker auth, not an environment reference.
    {
        name: "startup-script-npmrc",
        expect: [SECRETS],
        args: (g) => ({ ...g, metadataStartupScript: `#!/bin/bash\necho "//registry.npmjs.org/:_authToken=${randomBytes(18).toString("hex")}" > /home/runner/.npmrc\n` }),
    },
    {
        name: "startup-script-docker-auth",
        expect: [SECRETS],
        args: (g) => ({ ...g, metadataStartupScript: `#!/bin/bash\necho '{"auths":{"ghcr.io":{"auth":"${randomBytes(24).toString("base64")}"}}}' > /home/runner/.docker/config.json\n` }),
    },
    { name: "startup-script-npmrc-env-ref", expect: [], args: (g) => ({ ...g, metadataStartupScript: "#!/bin/bash\necho '//registry.npmjs.org/:_authToken=${NPM_TOKEN}' > /home/runner/.npmrc\n" }) },
    // Every VM is checked, whatever its role: metadata is readable by all code on the VM.
    { name: "signer-vm-secret", expect: [SECRETS], args: (g) => ({ ...g, labels: { "build-fleet-role": "signer" }, metadata: { ...GOOD_METADATA, "slack-webhook": throwaway.slackToken() } }) },
];

function program(preview: boolean) {
    return () => {
        const sa = new gcp.serviceaccount.Account("runner-sa", { accountId: "runner-a" });
        for (const c of TEMPLATE_CASES) {
            new gcp.compute.InstanceTemplate(`t-${c.name}`, c.args(goodTemplate(sa.email)));
        }
        // Regional templates and plain instances follow the same rules.
        new gcp.compute.RegionInstanceTemplate("rt-good", { ...(goodTemplate(sa.email) as gcp.compute.RegionInstanceTemplateArgs), region: "europe-west1" });
        new gcp.compute.RegionInstanceTemplate("rt-ext-ip", {
            ...(goodTemplate(sa.email) as gcp.compute.RegionInstanceTemplateArgs),
            region: "europe-west1",
            networkInterfaces: [{ network: "default", accessConfigs: [{}] }],
        });
        const instance: gcp.compute.InstanceArgs = {
            machineType: "e2-standard-4",
            zone: "europe-west1-b",
            labels: RUNNER,
            bootDisk: { initializeParams: { image: IMAGE }, autoDelete: true },
            networkInterfaces: [{ subnetwork: "projects/fleet-proj/regions/europe-west1/subnetworks/pool-a" }],
            shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
            scheduling: { maxRunDuration: { seconds: 3600 }, instanceTerminationAction: "DELETE" },
            metadata: { "block-project-ssh-keys": "TRUE" },
            serviceAccount: { email: sa.email, scopes: ["cloud-platform"] },
        };
        new gcp.compute.Instance("vm-good", instance);
        new gcp.compute.Instance("vm-attached", { ...instance, attachedDisks: [{ source: "projects/fleet-proj/zones/europe-west1-b/disks/cache" }] });
        new gcp.compute.Instance("vm-scratch", { ...instance, scratchDisks: [{ interface: "NVME" }] });
        new gcp.compute.Instance("vm-keep-boot", { ...instance, bootDisk: { initializeParams: { image: IMAGE }, autoDelete: false } });
        new gcp.compute.Instance("vm-default-sa", { ...instance, serviceAccount: { email: "default", scopes: ["cloud-platform"] } });
        // InstanceFromTemplate inherits what it does not set: only overrides are checked.
        const tmpl = new gcp.compute.InstanceTemplate("t-source", goodTemplate(sa.email));
        new gcp.compute.InstanceFromTemplate("ift-good", { zone: "europe-west1-b", sourceInstanceTemplate: tmpl.selfLinkUnique });
        new gcp.compute.InstanceFromTemplate("ift-secret", {
            zone: "europe-west1-b",
            sourceInstanceTemplate: tmpl.selfLinkUnique,
            metadataStartupScript: `#!/bin/bash\necho ${throwaway.githubToken()} > /tmp/t\n`,
        });
        new gcp.compute.Instance("vm-secret", { ...instance, metadata: { "block-project-ssh-keys": "TRUE", "github-token": pulumi.secret("placeholder-not-a-token") } });
        new gcp.compute.InstanceFromTemplate("ift-ext-ip", {
            zone: "europe-west1-b",
            sourceInstanceTemplate: tmpl.selfLinkUnique,
            networkInterfaces: [{ network: "default", accessConfigs: [{}] }],
            metadata: { "block-project-ssh-keys": "TRUE", "serial-port-enable": "true" },
        });
        if (preview) {
            // A deciding value that only exists after deployment: reported as undecidable (advisory).
            new gcp.compute.InstanceTemplate("t-computed-forwarding", { ...goodTemplate(sa.email), canIpForward: sa.email.apply(() => false) });
            // An unknown NAT IP does not hide the access config itself.
            const addr = new gcp.compute.Address("addr", { region: "europe-west1" });
            new gcp.compute.InstanceTemplate("t-computed-nat", { ...goodTemplate(sa.email), networkInterfaces: [{ network: "default", accessConfigs: [{ natIp: addr.address }] }] });
            // A computed metadata value: undecided under a neutral key, a violation under a credential key.
            new gcp.compute.InstanceTemplate("t-computed-md", { ...goodTemplate(sa.email), metadata: { ...GOOD_METADATA, "runner-sa": sa.email } });
            new gcp.compute.InstanceTemplate("t-computed-secret-md", { ...goodTemplate(sa.email), metadata: { ...GOOD_METADATA, "broker-credential": sa.email } });
            new gcp.compute.InstanceTemplate("t-computed-script", { ...goodTemplate(sa.email), metadataStartupScript: pulumi.interpolate`#!/bin/bash\necho ${sa.email}\n` });
        }
    };
}

describe("resource rules: Compute Engine VMs and templates", function () {
    this.timeout(120000);
    let c: Checked;
    before(async () => {
        c = await check(program(false));
    });

    for (const tc of TEMPLATE_CASES) {
        it(`template ${tc.name}: ${tc.expect.length === 0 ? "passes" : tc.expect.join(", ")}`, () => assertFired(c, `t-${tc.name}`, tc.expect));
    }

    it("messages name the offending field", () => {
        assertMessage(c, "t-ext-ipv4", "runner-vm-no-external-ip", "networkInterfaces[0].accessConfigs");
        assertMessage(c, "t-ext-ipv6", "runner-vm-no-external-ip", "ipv6AccessConfigs");
        assertMessage(c, "t-too-long", "runner-vm-bounded-lifetime", "172800");
        assertMessage(c, "t-no-shield", "runner-vm-shielded", "secure boot is off");
        assertMessage(c, "t-ssh-keys", "runner-vm-no-ssh", "ssh-keys");
        assertMessage(c, "t-sa-no-email", "runner-vm-not-default-sa", "default compute service account");
    });

    it("region templates", () => {
        assertFired(c, "rt-good", []);
        assertFired(c, "rt-ext-ip", ["runner-vm-no-external-ip"]);
    });

    it("instances: boot disk auto-deleted, no attached or scratch disks, no default SA", () => {
        assertFired(c, "vm-good", []);
        assertFired(c, "vm-attached", ["runner-vm-ephemeral-disks"]);
        assertFired(c, "vm-scratch", ["runner-vm-ephemeral-disks"]);
        assertFired(c, "vm-keep-boot", ["runner-vm-ephemeral-disks"]);
        assertFired(c, "vm-default-sa", ["runner-vm-not-default-sa"]);
    });

    it("instances from templates: only overrides are checked", () => {
        assertFired(c, "ift-good", []);
        assertFired(c, "ift-ext-ip", ["runner-vm-no-external-ip", "runner-vm-serial-port-off"]);
        assertFired(c, "ift-secret", [SECRETS]);
    });

    it("runner-vm-no-secrets-in-metadata: names the key or field and the kind of credential, never the value", () => {
        assertMessage(c, "t-md-token-key", SECRETS, "metadata[\"runner-registration-token\"]: the key names a credential");
        assertMessage(c, "t-md-pem-value", SECRETS, "metadata[\"tls-material\"] contains a PEM private key");
        assertMessage(c, "t-md-startup-script-token", SECRETS, "metadata[\"startup-script\"] contains a GitHub token");
        assertMessage(c, "t-startup-script-aws", SECRETS, "metadataStartupScript contains an AWS access key id");
        assertMessage(c, "t-startup-script-google-key", SECRETS, "a Google API key");
        assertMessage(c, "t-signer-vm-secret", SECRETS, "a Slack token");
        // A Pulumi secret reaches the policy unwrapped: it is judged like any other value.
        assertFired(c, "vm-secret", [SECRETS]);
        assertMessage(c, "vm-secret", SECRETS, "metadata[\"github-token\"]");
        for (const v of c.ev.violations.filter((x) => x.policy === SECRETS)) {
            assert.doesNotMatch(v.message, /placeholder|gh[pousr]_[A-Za-z0-9]{30}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|xoxb-\d|BEGIN/);
        }
    });

    it("violations are mandatory by default", () => {
        assert.ok(c.on("t-ext-ipv4").every((v) => v.enforcementLevel === "mandatory"));
    });

    describe("pack config", () => {
        it("maxBuildDurationSeconds lowers the bound", async () => {
            const strict = await evaluate(c.run, { policyConfig: { "runner-vm-bounded-lifetime": { maxBuildDurationSeconds: 3600 } } });
            assertFired(strict, "t-good", ["runner-vm-bounded-lifetime"]);
            assertMessage(strict, "t-good", "runner-vm-bounded-lifetime", "bound of 3600 seconds");
            assertFired(strict, "vm-good", []);
        });
        it("maxBuildDurationSeconds raises the bound", async () => {
            const lax = await evaluate(c.run, { policyConfig: { "runner-vm-bounded-lifetime": { maxBuildDurationSeconds: 200000 } } });
            assertFired(lax, "t-too-long", []);
        });
        it("an enforcement level override is reflected in each violation", async () => {
            const adv = await evaluate(c.run, { policyConfig: { "runner-vm-no-ssh": "advisory" } });
            const v = adv.on("t-ssh-keys").filter((x) => x.policy === "runner-vm-no-ssh");
            assert.ok(v.length > 0);
            assert.ok(v.every((x) => x.enforcementLevel === "advisory"));
            assert.ok(adv.on("t-ext-ipv4").every((x) => x.enforcementLevel === "mandatory"));
        });
        it("disabled removes the policy", async () => {
            const off = await evaluate(c.run, { policyConfig: { "runner-vm-no-external-ip": "disabled" } });
            assertFired(off, "t-ext-ipv4", []);
        });
    });

    describe("preview", () => {
        let p: Checked;
        before(async () => {
            p = await check(program(true), { preview: true });
        });
        it("unknown emails and ids produce no findings when the security settings are literal", () => {
            assertFired(p, "t-good", []);
            assert.deepStrictEqual(p.undecided("t-good"), []);
            assertFired(p, "vm-good", []);
            assertFired(p, "ift-good", []);
            assert.deepStrictEqual(p.undecided("ift-good"), []);
        });
        it("violations that do not depend on unknowns still fire", () => {
            for (const tc of TEMPLATE_CASES) {
                assertFired(p, `t-${tc.name}`, tc.expect);
            }
            assertFired(p, "t-computed-nat", ["runner-vm-no-external-ip"]);
        });
        it("an unknown metadata value is undecided under a neutral key and a violation under a credential key", () => {
            assertFired(p, "t-computed-md", []);
            assert.deepStrictEqual(p.undecided("t-computed-md"), [SECRETS]);
            assert.match(p.on("t-computed-md").find((x) => x.policy === SECRETS)!.message, /^cannot decide during preview: metadata\["runner-sa"\] is unknown/);
            assertFired(p, "t-computed-secret-md", [SECRETS]);
            assert.deepStrictEqual(p.undecided("t-computed-secret-md"), []);
            assert.deepStrictEqual(p.undecided("t-computed-script"), [SECRETS]);
        });
        it("an unknown deciding value is an advisory 'cannot decide during preview'", () => {
            assert.deepStrictEqual(p.undecided("t-computed-forwarding"), ["runner-vm-no-ip-forwarding"]);
            const v = p.on("t-computed-forwarding").find((x) => x.policy === "runner-vm-no-ip-forwarding")!;
            assert.strictEqual(v.enforcementLevel, "advisory");
            assert.match(v.message, /^cannot decide during preview: canIpForward is unknown/);
            assertFired(p, "t-computed-forwarding", []);
        });
    });
});
