/**
 * ControlPlane: out of the worker project; three Cloud Run services (broker, webhook receiver,
 * provenance generator) each with its own identity and a digest-pinned image; intake buckets no
 * runner can touch (uploads go through job-scoped tokens of the broker); the records bucket; GCS ->
 * Pub/Sub -> authenticated push to the generator; secrets by reference with one reader each; the
 * demand metric writer and the conditioned scale-in role in the worker project.
 */
import * as assert from "assert";
import { CapturedResource, ProgramRun, runProgram } from "../../../plan/engine";
import {
    ControlPlane, ControlPlaneArgs, DEMAND_WRITER_ROLE, INTAKE_BROKER_ROLE, INTAKE_CONTROL_PLANE_ROLE, MEMBERSHIP_PERMISSIONS, PUBLIC_INVOKER,
    SCALE_IN_PERMISSIONS, SECRET_ACCESSOR_ROLE, SELF_SIGN_ROLE,
} from "../../../components/controlPlane";
import { SUBSCRIBER_ROLE, UPLOADS_MAX_DELIVERY_ATTEMPTS } from "../../../components/controlPlane/deadLetter";
import { BROKER_PATH, githubTargetOf, NOTIFICATION_PATH, SERVICE_ENV, WEBHOOK_PATH } from "../../../components/controlPlane/services";
import { DEFAULT_DEMAND_METRIC } from "../../../components/runnerPool/gce";
import { BROKER_RESPONSE_FIELDS, DEFAULT_BROKER_PATH } from "../../../components/runnerPool/startupScript";
import { JIT_CONFIG_PATH, JitConfigResponse } from "../../../services/controlPlane/broker/app";
import { DEMAND_METRIC } from "../../../services/controlPlane/cloud";
import { FINALIZE_PATH } from "../../../services/controlPlane/generator/app";
import { WEBHOOK_PATH as SERVICE_WEBHOOK_PATH } from "../../../services/controlPlane/webhook/app";
import { POOL_LABEL, ROLE_LABEL } from "../../../components/labels";
import { loadBrokerConfig } from "../../../services/controlPlane/broker/config";
import { loadGeneratorConfig } from "../../../services/controlPlane/generator/config";
import { loadWebhookConfig } from "../../../services/controlPlane/webhook/config";
import { byType, component, one, stackOf } from "../../helpers/graph";

const T = {
    component: "hardened-build-fleet:index:ControlPlane",
    account: "gcp:serviceaccount/account:Account",
    bucket: "gcp:storage/bucket:Bucket",
    bucketBinding: "gcp:storage/bucketIAMBinding:BucketIAMBinding",
    bucketMember: "gcp:storage/bucketIAMMember:BucketIAMMember",
    projectMember: "gcp:projects/iAMMember:IAMMember",
    service: "gcp:cloudrunv2/service:Service",
    invoker: "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding",
    secret: "gcp:secretmanager/secretIamBinding:SecretIamBinding",
    topic: "gcp:pubsub/topic:Topic",
    topicBinding: "gcp:pubsub/topicIAMBinding:TopicIAMBinding",
    subscription: "gcp:pubsub/subscription:Subscription",
    notification: "gcp:storage/notification:Notification",
    customRole: "gcp:projects/iAMCustomRole:IAMCustomRole",
    saMember: "gcp:serviceaccount/iAMMember:IAMMember",
};

const RUNNER_A = "serviceAccount:pool-a-rn@worker-proj.iam.gserviceaccount.com";
const RUNNER_B = "serviceAccount:pool-b-rn@worker-proj.iam.gserviceaccount.com";
const IMAGE = `europe-west1-docker.pkg.dev/cp-proj/fleet/services@sha256:${"c".repeat(64)}`;
const APP_KEY = "projects/cp-proj/secrets/github-app-key";
const HOOK = "projects/cp-proj/secrets/github-webhook-secret";

function args(extra: Partial<ControlPlaneArgs> = {}): ControlPlaneArgs {
    return {
        project: "cp-proj",
        workerProject: "worker-proj",
        region: "europe-west1",
        pools: [
            { name: "pool-a", runnerMember: RUNNER_A, instanceGroupManager: "pool-a-mig", image: "projects/img/global/images/runner", maxRunDurationSeconds: 3600 },
            { name: "pool-b", backend: "gke", runnerMember: RUNNER_B, image: "ghcr.io/actions/actions-runner:2.321.0", maxRunDurationSeconds: 1800 },
        ],
        image: IMAGE,
        signerUrl: "https://fleet-signer-123.europe-west1.run.app",
        builderId: "https://github.com/acme/hardened-build-fleet/test",
        githubConfigUrl: "https://github.com/acme",
        githubApp: { appId: 42, installationId: 4242, privateKeySecret: APP_KEY },
        webhookSecret: HOOK,
        ...extra,
    };
}

async function build(a: ControlPlaneArgs = args()): Promise<ProgramRun> {
    return runProgram(() => {
        const cp = new ControlPlane("fleet-cp", a);
        return { email: cp.generatorServiceAccountEmail, member: cp.generatorMember, intakeBuckets: cp.intakeBuckets, webhookUrl: cp.webhookUrl, brokerUrl: cp.brokerUrl };
    });
}

const email = (run: ProgramRun, name: string) => one(run, T.account, name).outputs.email as string;
const env = (svc: { inputs: any }) => Object.fromEntries((svc.inputs.template.containers[0].envs as { name: string; value: string }[]).map((e) => [e.name, e.value]));

describe("ControlPlane", function () {
    this.timeout(60000);

    let run: ProgramRun;
    let sa: Record<"broker" | "webhook" | "generator" | "push", string>;
    before(async () => {
        run = await build();
        assert.strictEqual(run.error, undefined, String(run.error));
        sa = {
            broker: email(run, "fleet-cp-broker-sa"), webhook: email(run, "fleet-cp-webhook-sa"),
            generator: email(run, "fleet-cp-sa"), push: email(run, "fleet-cp-push-sa"),
        };
    });

    it("names the generator's identity generator*; the deprecated control-plane names still return the same values", async () => {
        const run = await runProgram(() => {
            const cp = new ControlPlane("fleet-cp", args());
            return {
                email: cp.generatorServiceAccountEmail, member: cp.generatorMember, grant: cp.intakeGrants["pool-a"].generator.id,
                legacyEmail: cp.serviceAccountEmail, legacyMember: cp.member, legacyGrant: cp.intakeGrants["pool-a"].controlPlane.id,
            };
        });
        assert.strictEqual(run.outputs.email, email(run, "fleet-cp-sa"));
        assert.strictEqual(run.outputs.member, `serviceAccount:${run.outputs.email}`);
        assert.strictEqual(run.outputs.legacyEmail, run.outputs.email);
        assert.strictEqual(run.outputs.legacyMember, run.outputs.member);
        assert.strictEqual(run.outputs.legacyGrant, run.outputs.grant);
    });

    it("puts every control-plane resource in the control-plane project; only the demand writer and scale-in grant touch the worker project", () => {
        const cp = component(run, T.component, "fleet-cp");
        assert.strictEqual(cp.parent, stackOf(run).urn);
        const inWorker = run.resources.filter((r) => r.inputs?.project === "worker-proj").map((r) => r.name).sort();
        assert.deepStrictEqual(inWorker, [
            "fleet-cp-broker-membership", "fleet-cp-membership", "fleet-cp-scale-in", "fleet-cp-webhook-demand-writer", "fleet-cp-webhook-scale-in",
        ]);
        for (const type of [T.account, T.bucket, T.service, T.topic, T.subscription]) {
            for (const r of byType(run, type)) {
                assert.strictEqual(r.inputs.project, "cp-proj", `${r.name} is not in the control-plane project`);
            }
        }
        for (const r of run.resources.filter((x) => x.urn !== cp.urn && x.type !== "pulumi:pulumi:Stack")) {
            assert.strictEqual(r.parent, cp.urn, `${r.name} is not a child of the ControlPlane`);
            assert.ok(r.name.startsWith("fleet-cp-"), r.name);
        }
        assert.strictEqual(byType(run, "gcp:serviceaccount/key:Key").length, 0);
        // Renamed live children keep their identity: the generator's log grant was the control-plane SA's.
        assert.deepStrictEqual(one(run, T.projectMember, "fleet-cp-generator-logging-logwriter").aliases, [`urn:pulumi:test::hardened-build-fleet::hardened-build-fleet:index:ControlPlane$gcp:projects/iAMMember:IAMMember::fleet-cp-logging-logwriter`]);
    });

    it("runs each service as its own identity, from the digest-pinned image, with the right ingress", () => {
        const services: Record<string, CapturedResource> = Object.fromEntries(byType(run, T.service).map((s) => [s.inputs.name, s]));
        assert.deepStrictEqual(Object.keys(services).sort(), ["fleet-cp-broker", "fleet-cp-generator", "fleet-cp-webhook"]);
        assert.strictEqual(services["fleet-cp-broker"].inputs.template.serviceAccount, sa.broker);
        assert.strictEqual(services["fleet-cp-webhook"].inputs.template.serviceAccount, sa.webhook);
        assert.strictEqual(services["fleet-cp-generator"].inputs.template.serviceAccount, sa.generator);
        assert.strictEqual(new Set(Object.values(services).map((s) => s.inputs.template.serviceAccount)).size, 3);
        for (const s of Object.values(services)) {
            assert.match(s.inputs.template.containers[0].image, /@sha256:[a-f0-9]{64}$/);
            assert.strictEqual(s.inputs.invokerIamDisabled, false);
            assert.deepStrictEqual(s.inputs.labels, { [ROLE_LABEL]: "control-plane" });
        }
        assert.strictEqual(services["fleet-cp-broker"].inputs.ingress, "INGRESS_TRAFFIC_ALL");
        assert.strictEqual(services["fleet-cp-webhook"].inputs.ingress, "INGRESS_TRAFFIC_ALL");
        assert.strictEqual(services["fleet-cp-generator"].inputs.ingress, "INGRESS_TRAFFIC_INTERNAL_ONLY");
        assert.strictEqual(run.outputs.webhookUrl, `${services["fleet-cp-webhook"].outputs.uri}${WEBHOOK_PATH}`);
        // Instances and concurrency are set deliberately: timers need an instance with CPU, caps bound the GitHub and signing rates.
        const scaling = (n: string) => {
            const t = services[n].inputs.template;
            return [t.scaling.minInstanceCount, t.scaling.maxInstanceCount, t.maxInstanceRequestConcurrency, t.containers[0].resources.cpuIdle];
        };
        assert.deepStrictEqual(scaling("fleet-cp-webhook"), [1, 4, 40, false]);
        assert.deepStrictEqual(scaling("fleet-cp-broker"), [0, 5, 20, true]);
        assert.deepStrictEqual(scaling("fleet-cp-generator"), [1, 10, 10, false]);
        // The generator streams uploads; its memory is chosen for 10 notifications in flight, not left to the default.
        assert.deepStrictEqual(services["fleet-cp-generator"].inputs.template.containers[0].resources.limits, { cpu: "1", memory: "1Gi" });
    });

    it("grants invokers authoritatively: broker = gce runner identities, webhook = allUsers (HMAC-authenticated), generator = push identity", () => {
        const invokers: Record<string, any> = Object.fromEntries(byType(run, T.invoker).map((b) => [b.name, b.inputs]));
        assert.deepStrictEqual(invokers["fleet-cp-broker-invokers"].members, [RUNNER_A]);
        assert.deepStrictEqual(invokers["fleet-cp-webhook-invokers"].members, [PUBLIC_INVOKER]);
        assert.deepStrictEqual(invokers["fleet-cp-generator-invokers"].members, [`serviceAccount:${sa.push}`]);
        for (const b of Object.values(invokers)) {
            assert.strictEqual(b.role, "roles/run.invoker");
        }
    });

    it("wires each service's environment: pools, records, audiences, secrets by version reference (never values), signer and builder id", () => {
        const services: Record<string, Record<string, string>> = Object.fromEntries(byType(run, T.service).map((s) => [s.inputs.name, env(s)]));
        const records = one(run, T.bucket, "fleet-cp-records").outputs.name;
        const github = {
            GITHUB_API_URL: "https://api.github.com", GITHUB_ORG: "acme", GITHUB_APP_ID: "42", GITHUB_APP_INSTALLATION_ID: "4242",
            GITHUB_APP_PRIVATE_KEY_SECRET: `${APP_KEY}/versions/latest`,
        };
        // Logs and metrics of every service are attributed to the control plane's project and region.
        const ops = { GOOGLE_CLOUD_PROJECT: "cp-proj", OTEL_RESOURCE_ATTRIBUTES: "cloud.region=europe-west1" };
        const broker = services["fleet-cp-broker"];
        assert.match(broker.BROKER_URL, /^https:\/\/fleet-cp-broker-\d+\.europe-west1\.run\.app$/);
        const pools = JSON.parse(broker.BROKER_POOLS);
        assert.deepStrictEqual({ ...broker, BROKER_URL: "", BROKER_POOLS: "" }, { SERVICE: "broker", BROKER_URL: "", BROKER_POOLS: "", RECORDS_BUCKET: records, ...github, ...ops });
        assert.deepStrictEqual(pools, [{
            name: "pool-a", labels: ["self-hosted", "linux", "x64", "pool-a"], runnerGroupId: 1, project: "worker-proj", region: "europe-west1", mig: "pool-a-mig",
            serviceAccount: "pool-a-rn@worker-proj.iam.gserviceaccount.com", intakeBucket: one(run, T.bucket, "fleet-cp-intake-pool-a").outputs.name,
            image: "projects/img/global/images/runner", maxRunDurationSeconds: 3600,
        }]);
        const webhook = services["fleet-cp-webhook"];
        assert.deepStrictEqual({ ...webhook, WEBHOOK_POOLS: "" }, {
            SERVICE: "webhook", WEBHOOK_POOLS: "", RECORDS_BUCKET: records, ...github,
            WEBHOOK_SECRET_VERSION: `${HOOK}/versions/latest`, WEBHOOK_METRIC_PROJECT: "worker-proj", ...ops,
        });
        assert.strictEqual(webhook.WEBHOOK_POOLS, broker.BROKER_POOLS);
        const generator = services["fleet-cp-generator"];
        assert.match(generator.GENERATOR_URL, /^https:\/\/fleet-cp-generator-\d+\.europe-west1\.run\.app$/);
        assert.deepStrictEqual({ ...generator, GENERATOR_URL: "", GENERATOR_POOLS: "" }, {
            SERVICE: "generator", GENERATOR_URL: "", GENERATOR_POOLS: "", RECORDS_BUCKET: records, GENERATOR_PUSH_SERVICE_ACCOUNT: sa.push,
            SIGNER_URL: "https://fleet-signer-123.europe-west1.run.app", BUILDER_ID: "https://github.com/acme/hardened-build-fleet/test",
            GITHUB_SERVER_URL: "https://github.com", ...ops,
        });
        // Probes: liveness asks no dependency, startup waits for them.
        for (const svc of byType(run, T.service)) {
            const container = svc.inputs.template.containers[0];
            assert.deepStrictEqual([container.livenessProbe.httpGet.path, container.startupProbe.httpGet.path], ["/healthz", "/readyz"], svc.inputs.name);
        }
        // The generator never sees the App key or the webhook secret.
        assert.ok(!Object.keys(generator).some((k) => k.startsWith("GITHUB_APP") || k.startsWith("WEBHOOK_SECRET")));
    });

    it("gives each service an environment its own config loader accepts (broker, webhook receiver, generator)", () => {
        const services: Record<string, Record<string, string>> = Object.fromEntries(byType(run, T.service).map((s) => [s.inputs.name, env(s)]));
        const broker = loadBrokerConfig(services["fleet-cp-broker"]);
        assert.strictEqual(broker.url, services["fleet-cp-broker"].BROKER_URL);
        assert.deepStrictEqual(broker.pools.map((p) => [p.name, p.serviceAccount, p.mig]), [["pool-a", "pool-a-rn@worker-proj.iam.gserviceaccount.com", "pool-a-mig"]]);
        assert.strictEqual(broker.github.privateKeySecret, `${APP_KEY}/versions/latest`);
        const webhook = loadWebhookConfig(services["fleet-cp-webhook"]);
        assert.strictEqual(webhook.secretVersion, `${HOOK}/versions/latest`);
        assert.strictEqual(webhook.metricProject, "worker-proj");
        const generator = loadGeneratorConfig(services["fleet-cp-generator"]);
        assert.strictEqual(generator.signerUrl, "https://fleet-signer-123.europe-west1.run.app");
        assert.strictEqual(generator.pushServiceAccount, sa.push);
        assert.strictEqual(generator.builderId, "https://github.com/acme/hardened-build-fleet/test");
        // An upload the broker's grants allow is one the generator reads: one limit for both.
        assert.strictEqual(broker.uploadMaxBytes, generator.maxObjectBytes);
    });

    it("uses the services' own paths, answer fields and demand metric (the components cannot import the services' runtime)", () => {
        assert.strictEqual(BROKER_PATH, JIT_CONFIG_PATH);
        assert.strictEqual(DEFAULT_BROKER_PATH, JIT_CONFIG_PATH);
        assert.strictEqual(WEBHOOK_PATH, SERVICE_WEBHOOK_PATH);
        assert.strictEqual(NOTIFICATION_PATH, FINALIZE_PATH);
        assert.strictEqual(DEFAULT_DEMAND_METRIC, DEMAND_METRIC);
        const answer: Record<(typeof BROKER_RESPONSE_FIELDS)[keyof typeof BROKER_RESPONSE_FIELDS], unknown> = {} as JitConfigResponse;
        assert.deepStrictEqual(Object.keys(answer), []);
    });

    it("derives the GitHub target from the config URL: organization, repository, GitHub Enterprise Server", () => {
        assert.deepStrictEqual(githubTargetOf("https://github.com/acme"), { serverUrl: "https://github.com", apiUrl: "https://api.github.com", org: "acme" });
        assert.deepStrictEqual(githubTargetOf("https://github.com/acme/app/"), { serverUrl: "https://github.com", apiUrl: "https://api.github.com", org: "acme", repository: "acme/app" });
        assert.deepStrictEqual(githubTargetOf("https://ghe.acme.example/platform"), { serverUrl: "https://ghe.acme.example", apiUrl: "https://ghe.acme.example/api/v3", org: "platform" });
        assert.strictEqual(githubTargetOf("https://github.com/enterprises/acme"), undefined);
        assert.strictEqual(githubTargetOf("https://github.com/"), undefined);
    });

    it("gives the App key to the broker and the webhook receiver (reconcile), the webhook secret to the webhook receiver only; the broker signs only as itself", () => {
        const secrets = Object.fromEntries(byType(run, T.secret).map((b) => [b.inputs.secretId, b.inputs]));
        assert.deepStrictEqual(secrets[APP_KEY], { secretId: APP_KEY, role: SECRET_ACCESSOR_ROLE, members: [`serviceAccount:${sa.broker}`, `serviceAccount:${sa.webhook}`] });
        assert.deepStrictEqual(secrets[HOOK], { secretId: HOOK, role: SECRET_ACCESSOR_ROLE, members: [`serviceAccount:${sa.webhook}`] });
        const selfSign = one(run, T.saMember);
        assert.deepStrictEqual(selfSign.inputs, {
            serviceAccountId: one(run, T.account, "fleet-cp-broker-sa").outputs.name, role: SELF_SIGN_ROLE, member: `serviceAccount:${sa.broker}`,
        });
    });

    it("keeps runners off the intake buckets: the broker creates (token source), the generator reads, authoritatively", () => {
        assert.strictEqual(byType(run, T.bucketMember).length, 0);
        for (const pool of ["pool-a", "pool-b"]) {
            const bucket = one(run, T.bucket, `fleet-cp-intake-${pool}`);
            assert.strictEqual(bucket.inputs.uniformBucketLevelAccess, true);
            assert.strictEqual(bucket.inputs.publicAccessPrevention, "enforced");
            assert.deepStrictEqual(bucket.inputs.labels, { [ROLE_LABEL]: "control-plane", [POOL_LABEL]: pool });
            assert.deepStrictEqual(one(run, T.bucketBinding, `fleet-cp-intake-${pool}-creators`).inputs, {
                bucket: bucket.outputs.name, role: INTAKE_BROKER_ROLE, members: [`serviceAccount:${sa.broker}`],
            });
            assert.deepStrictEqual(one(run, T.bucketBinding, `fleet-cp-intake-${pool}-readers`).inputs, {
                bucket: bucket.outputs.name, role: INTAKE_CONTROL_PLANE_ROLE, members: [`serviceAccount:${sa.generator}`],
            });
        }
        const allMembers = run.resources.flatMap((r) => [r.inputs?.member, ...(r.inputs?.members ?? [])]).filter(Boolean);
        assert.ok(!allMembers.includes(RUNNER_B), "a gke runner identity holds a grant");
        assert.deepStrictEqual(allMembers.filter((m) => m === RUNNER_A).length, 1, "the gce runner identity holds more than the broker invoker");
        assert.deepStrictEqual(one(run, T.bucketBinding, "fleet-cp-records-writers").inputs.members, [`serviceAccount:${sa.broker}`, `serviceAccount:${sa.webhook}`]);
        // Deleting is allowed under pending/ only: the facts stay create-only.
        const pending = one(run, T.bucketBinding, "fleet-cp-records-pending").inputs;
        assert.deepStrictEqual(pending.members, [`serviceAccount:${sa.webhook}`, `serviceAccount:${sa.generator}`]);
        assert.strictEqual(pending.role, "roles/storage.objectUser");
        assert.match(pending.condition.expression, /^resource\.name\.startsWith\("projects\/_\/buckets\/[^/"]+\/objects\/pending\/"\)$/);
    });

    it("notifies the generator of finalized uploads through its own project's topic, pushed with the push identity's OIDC token", () => {
        const topic = one(run, T.topic, "fleet-cp-uploads");
        const notes = byType(run, T.notification);
        assert.deepStrictEqual(notes.map((n) => [n.inputs.topic, n.inputs.eventTypes, n.inputs.payloadFormat]), [
            [topic.id, ["OBJECT_FINALIZE"], "JSON_API_V1"], [topic.id, ["OBJECT_FINALIZE"], "JSON_API_V1"],
        ]);
        const publishers = one(run, T.topicBinding, "fleet-cp-uploads-publishers").inputs;
        assert.strictEqual(publishers.role, "roles/pubsub.publisher");
        assert.strictEqual(publishers.members.length, 1);
        assert.match(publishers.members[0], /^serviceAccount:service-\d+@gs-project-accounts\.iam\.gserviceaccount\.com$/);
        const sub = one(run, T.subscription, "fleet-cp-uploads-push");
        const generator = byType(run, T.service).find((s) => s.inputs.name === "fleet-cp-generator")!;
        assert.strictEqual(sub.inputs.pushConfig.pushEndpoint, `${generator.outputs.uri}${NOTIFICATION_PATH}`);
        assert.strictEqual(sub.inputs.pushConfig.oidcToken.serviceAccountEmail, sa.push);
    });

    it("dead-letters a notification after a bounded number of pushes; only Pub/Sub's own agent forwards, and the dead letters are kept", () => {
        const sub = one(run, T.subscription, "fleet-cp-uploads-push").inputs;
        const deadTopic = one(run, T.topic, "fleet-cp-uploads-dead-letter");
        assert.deepStrictEqual(sub.deadLetterPolicy, { deadLetterTopic: deadTopic.id, maxDeliveryAttempts: UPLOADS_MAX_DELIVERY_ATTEMPTS });
        assert.ok(UPLOADS_MAX_DELIVERY_ATTEMPTS >= 5 && UPLOADS_MAX_DELIVERY_ATTEMPTS <= 100, "Pub/Sub accepts 5 to 100 attempts");
        assert.deepStrictEqual(sub.retryPolicy, { minimumBackoff: "10s", maximumBackoff: "600s" });
        // The agent of the control-plane project itself (the number its storage agent carries), authoritative on both ends.
        const gcsAgent = one(run, T.topicBinding, "fleet-cp-uploads-publishers").inputs.members[0] as string;
        const agent = `serviceAccount:service-${/service-(\d+)@/.exec(gcsAgent)![1]}@gcp-sa-pubsub.iam.gserviceaccount.com`;
        const publish = one(run, T.topicBinding, "fleet-cp-uploads-dead-letter-publishers").inputs;
        assert.deepStrictEqual([publish.topic, publish.role, publish.members], [deadTopic.outputs.name, "roles/pubsub.publisher", [agent]]);
        const forward = one(run, "gcp:pubsub/subscriptionIAMBinding:SubscriptionIAMBinding", "fleet-cp-uploads-push-forwarders").inputs;
        assert.deepStrictEqual([forward.subscription, forward.role, forward.members], [one(run, T.subscription, "fleet-cp-uploads-push").outputs.name, SUBSCRIBER_ROLE, [agent]]);
        const kept = one(run, T.subscription, "fleet-cp-uploads-dead-letter").inputs;
        assert.deepStrictEqual([kept.topic, kept.project, kept.pushConfig, kept.expirationPolicy, kept.messageRetentionDuration],
            [deadTopic.outputs.name, "cp-proj", undefined, { ttl: "" }, "604800s"]);
        // The subscription waits for the publisher grant: a dead letter forwarded before it exists would be dropped.
        const pushSub = one(run, T.subscription, "fleet-cp-uploads-push");
        assert.ok(pushSub.dependencies.includes(one(run, T.topicBinding, "fleet-cp-uploads-dead-letter-publishers").urn));
    });

    it("lets only the webhook receiver write the demand metric and scale in, and only the broker read MIG membership, conditioned on the pools' MIGs", () => {
        assert.deepStrictEqual(one(run, T.projectMember, "fleet-cp-webhook-demand-writer").inputs, {
            project: "worker-proj", role: DEMAND_WRITER_ROLE, member: `serviceAccount:${sa.webhook}`,
        });
        const mig = "resource.name == \"projects/worker-proj/regions/europe-west1/instanceGroupManagers/pool-a-mig\"";
        const vms = "(resource.type == \"compute.googleapis.com/Instance\" && resource.name.extract(\"/instances/{name}\").startsWith(\"pool-a-runner-\"))";
        const disks = "(resource.type == \"compute.googleapis.com/Disk\" && resource.name.extract(\"/disks/{name}\").startsWith(\"pool-a-runner-\"))";
        for (const [suffix, permissions, who, expression] of [
            ["scale-in", SCALE_IN_PERMISSIONS, "webhook", `${mig} || ${vms}`],
            ["membership", MEMBERSHIP_PERMISSIONS, "broker", `${mig} || ${vms} || ${disks}`],
        ] as const) {
            const role = one(run, T.customRole, `fleet-cp-${suffix}`);
            assert.strictEqual(role.inputs.project, "worker-proj");
            assert.deepStrictEqual(role.inputs.permissions, [...permissions]);
            const grant = one(run, T.projectMember, `fleet-cp-${who}-${suffix}`);
            assert.strictEqual(grant.inputs.role, role.outputs.name);
            assert.strictEqual(grant.inputs.member, `serviceAccount:${sa[who]}`);
            assert.strictEqual(grant.inputs.condition.expression, expression);
        }
    });

    it("narrows the broker to internal ingress on request, accepts a custom audience, and egresses the generator into a given network", async () => {
        const r = await build(args({
            brokerIngress: "internal", brokerAudience: "https://broker.build.example.com",
            generatorVpc: { network: "projects/cp-proj/global/networks/enclave", subnetwork: "projects/cp-proj/regions/europe-west1/subnetworks/enclave" },
        }));
        const services = Object.fromEntries(byType(r, T.service).map((x) => [x.inputs.name, x.inputs]));
        assert.strictEqual(services["fleet-cp-broker"].ingress, "INGRESS_TRAFFIC_INTERNAL_ONLY");
        assert.deepStrictEqual(services["fleet-cp-broker"].customAudiences, ["https://broker.build.example.com"]);
        assert.strictEqual(env({ inputs: services["fleet-cp-broker"] })[SERVICE_ENV.broker.url], "https://broker.build.example.com");
        assert.deepStrictEqual(services["fleet-cp-generator"].template.vpcAccess, {
            networkInterfaces: [{ network: "projects/cp-proj/global/networks/enclave", subnetwork: "projects/cp-proj/regions/europe-west1/subnetworks/enclave" }],
            egress: "ALL_TRAFFIC",
        });
        assert.strictEqual(services["fleet-cp-webhook"].template.vpcAccess, undefined);
    });

    it("creates no scale-in role and no broker invoker when no pool is a gce pool", async () => {
        const r = await build(args({ pools: [args().pools[1]] }));
        assert.strictEqual(byType(r, T.customRole).length, 0);
        // Nobody may call the broker: no invoker binding at all (an empty authoritative binding is not a valid one).
        assert.strictEqual(byType(r, T.invoker).find((b) => b.name === "fleet-cp-broker-invokers"), undefined);
    });

    it("rejects a control plane in the worker project, a tag-pinned image and secret values, all in one error, registering nothing", async () => {
        let registered = 0;
        const message = await runProgram(() => {
            try {
                new ControlPlane("fleet-cp", args({
                    project: "worker-proj", image: "europe-west1-docker.pkg.dev/p/r/services:latest", webhookSecret: "-----BEGIN RSA PRIVATE KEY-----abc",
                }));
            } catch (err) {
                return { error: String(err) };
            }
            registered = 1;
            return {};
        }).then((r) => String(r.outputs.error));
        assert.match(message, /project: "worker-proj" is the worker project.*signing oracle/);
        assert.match(message, /image: ".*:latest" is not pinned by digest/);
        assert.match(message, /webhookSecret: looks like the secret value itself/);
        assert.ok(!message.includes("abc"), "the secret value is echoed");
        assert.strictEqual(registered, 0);
    });
});
