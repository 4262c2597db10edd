/**
 * ControlPlane: out of the worker project; three Cloud Run services (broker, webhook receiver,
 * provenance generator) each with its own identity and a digest-pinned image; intake buckets no
 * runner can touch (uploads go through job-scoped tokens of the broker); the records bucket; GCS ->
 * Pub/Sub -> authenticated push to the generator; secrets by reference with one reader each; the
 * demand metric writer and the conditioned scale-in role in the worker project.
 */
import * as assert from "assert";
import { CapturedResource, ProgramRun, runProgram } from "../plan/engine";
import {
    ControlPlane, ControlPlaneArgs, DEMAND_WRITER_ROLE, INTAKE_BROKER_ROLE, INTAKE_CONTROL_PLANE_ROLE, PUBLIC_INVOKER, SCALE_IN_PERMISSIONS,
    SECRET_ACCESSOR_ROLE,
} from "../components/controlPlane";
import { NOTIFICATION_PATH, SERVICE_ENV, WEBHOOK_PATH } from "../components/controlPlaneServices";
import { POOL_LABEL, ROLE_LABEL } from "../components/labels";
import { byType, component, one, stackOf } from "./helpers/graph";

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
        builderId: "urn:hardened-build-fleet:builder:test",
        githubConfigUrl: "https://github.com/acme",
        githubApp: { appId: 42, installationId: 4242, privateKeySecret: APP_KEY },
        webhookSecret: HOOK,
        ...extra,
    };
}

async function build(a: ControlPlaneArgs = args()): Promise<ProgramRun> {
    return runProgram(() => {
        const cp = new ControlPlane("fleet-cp", a);
        return { email: cp.serviceAccountEmail, member: cp.member, intakeBuckets: cp.intakeBuckets, webhookUrl: cp.webhookUrl, brokerUrl: cp.brokerUrl };
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

    it("puts every control-plane resource in the control-plane project; only the demand writer and scale-in grant touch the worker project", () => {
        const cp = component(run, T.component, "fleet-cp");
        assert.strictEqual(cp.parent, stackOf(run).urn);
        const inWorker = run.resources.filter((r) => r.inputs?.project === "worker-proj").map((r) => r.name).sort();
        assert.deepStrictEqual(inWorker, ["fleet-cp-scale-in", "fleet-cp-webhook-demand-writer", "fleet-cp-webhook-scale-in"]);
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
        assert.deepStrictEqual(one(run, T.projectMember, "fleet-cp-generator-logging-logwriter").aliases, [`spec:name=fleet-cp-logging-logwriter;parent=${component(run, T.component, "fleet-cp").urn}`]);
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

    it("wires each service's environment: pools, records, audience, secrets by reference (never values), signer and builder id", () => {
        const services: Record<string, Record<string, string>> = Object.fromEntries(byType(run, T.service).map((s) => [s.inputs.name, env(s)]));
        const broker = services["fleet-cp-broker"];
        assert.strictEqual(broker.SERVICE, "broker");
        assert.strictEqual(broker[SERVICE_ENV.broker.privateKeySecret], `${APP_KEY}/versions/latest`);
        assert.strictEqual(broker[SERVICE_ENV.broker.appId], "42");
        assert.match(broker[SERVICE_ENV.broker.audience], /^https:\/\/fleet-cp-broker-\d+\.europe-west1\.run\.app$/);
        const pools = JSON.parse(broker[SERVICE_ENV.broker.pools]);
        assert.deepStrictEqual(pools.map((p: any) => [p.name, p.mig, p.serviceAccount, p.project, p.maxRunDurationSeconds]), [
            ["pool-a", "pool-a-mig", "pool-a-rn@worker-proj.iam.gserviceaccount.com", "worker-proj", 3600],
        ]);
        assert.strictEqual(pools[0].intakeBucket, one(run, T.bucket, "fleet-cp-intake-pool-a").outputs.name);
        const webhook = services["fleet-cp-webhook"];
        assert.strictEqual(webhook.SERVICE, "webhook");
        assert.strictEqual(webhook[SERVICE_ENV.webhook.secret], `${HOOK}/versions/latest`);
        assert.strictEqual(webhook[SERVICE_ENV.webhook.metricProject], "worker-proj");
        const generator = services["fleet-cp-generator"];
        assert.strictEqual(generator[SERVICE_ENV.generator.signerUrl], "https://fleet-signer-123.europe-west1.run.app");
        assert.strictEqual(generator[SERVICE_ENV.generator.builderId], "urn:hardened-build-fleet:builder:test");
        assert.strictEqual(generator[SERVICE_ENV.generator.pushServiceAccount], sa.push);
        const records = one(run, T.bucket, "fleet-cp-records").outputs.name;
        assert.deepStrictEqual([broker, webhook, generator].map((e) => Object.entries(e).find(([k]) => k.endsWith("RECORDS_BUCKET"))?.[1]), [records, records, records]);
        for (const e of Object.values(services)) {
            assert.ok(!Object.values(e).some((v) => /PRIVATE KEY|ghp_|github_pat_/.test(String(v))));
        }
    });

    it("gives the App key secret to the broker only and the webhook secret to the webhook receiver only", () => {
        const secrets = Object.fromEntries(byType(run, T.secret).map((b) => [b.inputs.secretId, b.inputs]));
        assert.deepStrictEqual(secrets[APP_KEY], { secretId: APP_KEY, role: SECRET_ACCESSOR_ROLE, members: [`serviceAccount:${sa.broker}`] });
        assert.deepStrictEqual(secrets[HOOK], { secretId: HOOK, role: SECRET_ACCESSOR_ROLE, members: [`serviceAccount:${sa.webhook}`] });
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
    });

    it("notifies the generator of finalized uploads through its own project's topic, pushed with the push identity's OIDC token", () => {
        const topic = one(run, T.topic);
        const notes = byType(run, T.notification);
        assert.deepStrictEqual(notes.map((n) => [n.inputs.topic, n.inputs.eventTypes, n.inputs.payloadFormat]), [
            [topic.id, ["OBJECT_FINALIZE"], "JSON_API_V1"], [topic.id, ["OBJECT_FINALIZE"], "JSON_API_V1"],
        ]);
        const publishers = one(run, T.topicBinding).inputs;
        assert.strictEqual(publishers.role, "roles/pubsub.publisher");
        assert.strictEqual(publishers.members.length, 1);
        assert.match(publishers.members[0], /^serviceAccount:service-\d+@gs-project-accounts\.iam\.gserviceaccount\.com$/);
        const sub = one(run, T.subscription);
        const generator = byType(run, T.service).find((s) => s.inputs.name === "fleet-cp-generator")!;
        assert.strictEqual(sub.inputs.pushConfig.pushEndpoint, `${generator.outputs.uri}${NOTIFICATION_PATH}`);
        assert.strictEqual(sub.inputs.pushConfig.oidcToken.serviceAccountEmail, sa.push);
    });

    it("lets only the webhook receiver write the demand metric, and scale in only the pools' MIGs and runner VMs", () => {
        assert.deepStrictEqual(one(run, T.projectMember, "fleet-cp-webhook-demand-writer").inputs, {
            project: "worker-proj", role: DEMAND_WRITER_ROLE, member: `serviceAccount:${sa.webhook}`,
        });
        const role = one(run, T.customRole);
        assert.deepStrictEqual(role.inputs.permissions, [...SCALE_IN_PERMISSIONS]);
        const grant = one(run, T.projectMember, "fleet-cp-webhook-scale-in");
        assert.strictEqual(grant.inputs.role, role.outputs.name);
        assert.strictEqual(grant.inputs.member, `serviceAccount:${sa.webhook}`);
        assert.strictEqual(grant.inputs.condition.expression,
            "resource.name == \"projects/worker-proj/regions/europe-west1/instanceGroupManagers/pool-a-mig\" || " +
            "(resource.type == \"compute.googleapis.com/Instance\" && resource.name.extract(\"/instances/{name}\").startsWith(\"pool-a-runner-\"))");
    });

    it("narrows the broker to internal ingress on request, accepts a custom audience, and egresses the generator into a given network", async () => {
        const r = await build(args({
            brokerIngress: "internal", brokerAudience: "https://broker.build.example.com",
            generatorVpc: { network: "projects/cp-proj/global/networks/enclave", subnetwork: "projects/cp-proj/regions/europe-west1/subnetworks/enclave" },
        }));
        const services = Object.fromEntries(byType(r, T.service).map((x) => [x.inputs.name, x.inputs]));
        assert.strictEqual(services["fleet-cp-broker"].ingress, "INGRESS_TRAFFIC_INTERNAL_ONLY");
        assert.deepStrictEqual(services["fleet-cp-broker"].customAudiences, ["https://broker.build.example.com"]);
        assert.strictEqual(env({ inputs: services["fleet-cp-broker"] })[SERVICE_ENV.broker.audience], "https://broker.build.example.com");
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
