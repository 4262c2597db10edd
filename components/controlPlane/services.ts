/**
 * The Cloud Run services of the control plane (broker, webhook receiver, provenance generator): one
 * hardened service definition, each service running as its own identity, and the environment each
 * service reads, their authoritative invoker bindings. Used by `ControlPlane` (index.ts).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { GithubTarget, readGithubConfigUrl } from "../config/githubUrl";
import { roleLabels } from "../labels";
import { serviceOperations } from "../serviceImage/operations";
import { runnerLabels } from "../../services/controlPlane/runsOn";
import { INVOKER_ROLE } from "../signerEnclave";
import { CONTROL_PLANE_SERVICES, ControlPlaneArgs, ControlPlaneService } from "./args";
import { deterministicRunUrl } from "./cloudRunUrl";
import type { ControlPlaneIdentities, SecretGrants } from "./identities";
import type { ReleaseRegistry } from "./releaseRegistry";

export { CONTROL_PLANE_SERVICES };
export type { ControlPlaneService };

/**
 * Cloud Run instances and concurrency per service, chosen, not defaulted:
 * - webhook: at least 1 instance with CPU always allocated (its reconcile timer runs between
 *   deliveries), at most 4. Demand is derived from the records, so any number of instances publishes
 *   the same; the cap bounds the reconcile passes (one per instance per period) and so the GitHub
 *   budget. 40 deliveries in flight per instance: each is a few records and at most one GitHub call,
 *   I/O-bound, well within GitHub's 10-second delivery timeout.
 * - broker: scales to zero between bursts, at most 5 instances x 20 registrations in flight. Each
 *   registration is one content-creating GitHub call, paced per process, so the cap bounds the
 *   fleet's write rate to GitHub (secondary rate limits) while a burst of hundreds of VMs still
 *   registers in seconds.
 * - generator: at least 1 instance with CPU always allocated (its deferred-object pass), at most 10
 *   x 10 notifications in flight. Each streams its object (never held whole, whatever its size) and
 *   waits on the signer: the product bounds the signing rate the signer and its KMS quota see, so a
 *   burst of uploads queues in Pub/Sub instead of failing at the signer. Its memory is set, not
 *   defaulted: one notification holds at most an image layout's JSON blobs (16 MiB), an SBOM (192 KiB,
 *   parsed) and stream buffers, about 20 MiB; 10 in flight plus the runtime stay well inside 1 GiB.
 */
export const SERVICE_SCALING: Record<ControlPlaneService, { min: number; max: number; concurrency: number; cpuAlwaysAllocated: boolean; limits?: { cpu: string; memory: string } }> = {
    webhook: { min: 1, max: 4, concurrency: 40, cpuAlwaysAllocated: true },
    broker: { min: 0, max: 5, concurrency: 20, cpuAlwaysAllocated: false },
    generator: { min: 1, max: 10, concurrency: 10, cpuAlwaysAllocated: true, limits: { cpu: "1", memory: "1Gi" } },
};

/** Cloud Run ingress values the services use. */
export const INGRESS = { internal: "INGRESS_TRAFFIC_INTERNAL_ONLY", all: "INGRESS_TRAFFIC_ALL" } as const;

/**
 * Environment variable names the services read (services/controlPlane/<service>/config.ts); the values are resource
 * names, URLs and secret *version names*, never secret values.
 */
export const SERVICE_ENV = {
    service: "SERVICE",
    shared: {
        recordsBucket: "RECORDS_BUCKET",
        githubApiUrl: "GITHUB_API_URL",
        githubServerUrl: "GITHUB_SERVER_URL",
        githubOrg: "GITHUB_ORG",
        githubRepository: "GITHUB_REPOSITORY",
        appId: "GITHUB_APP_ID",
        installationId: "GITHUB_APP_INSTALLATION_ID",
        privateKeySecret: "GITHUB_APP_PRIVATE_KEY_SECRET",
    },
    broker: { pools: "BROKER_POOLS", url: "BROKER_URL" },
    webhook: { pools: "WEBHOOK_POOLS", secret: "WEBHOOK_SECRET_VERSION", metricProject: "WEBHOOK_METRIC_PROJECT" },
    generator: {
        pools: "GENERATOR_POOLS",
        url: "GENERATOR_URL",
        signerUrl: "SIGNER_URL",
        builderId: "BUILDER_ID",
        pushServiceAccount: "GENERATOR_PUSH_SERVICE_ACCOUNT",
        releaseRegistry: "RELEASE_REGISTRY",
    },
} as const;

/** The broker's registration path (what the runners' startup script POSTs to). */
export const BROKER_PATH = "/v1/jit-config";
/** The webhook receiver's path for GitHub `workflow_job` deliveries (the stack's `webhookUrl`). */
export const WEBHOOK_PATH = "/v1/github/webhook";
/** The generator's path for Pub/Sub push deliveries of GCS finalize notifications. */
export const NOTIFICATION_PATH = "/v1/finalize";

export type { GithubTarget };

/**
 * `https://github.com/acme` -> org acme; `https://github.com/acme/app` -> org acme, repository acme/app; the
 * API of github.com, a GHE.com subdomain or a GitHub Enterprise Server. Undefined for a URL the config
 * validator refuses too (readGithubConfigUrl says why).
 */
export function githubTargetOf(configUrl: string): GithubTarget | undefined {
    const reading = readGithubConfigUrl(configUrl);
    return "target" in reading ? reading.target : undefined;
}

export interface ServiceEnv {
    name: string;
    value: pulumi.Input<string>;
}

export interface ControlPlaneServiceArgs {
    project: pulumi.Input<string>;
    region: pulumi.Input<string>;
    /** Explicit service name (the deterministic URL derives from it). */
    serviceName: string;
    /** Which service the shared image runs (`SERVICE`). */
    service: ControlPlaneService;
    serviceAccountEmail: pulumi.Input<string>;
    image: pulumi.Input<string>;
    ingress: (typeof INGRESS)[keyof typeof INGRESS];
    envs: ServiceEnv[];
    /** Extra audiences Cloud Run accepts in identity tokens (e.g. a custom broker domain). */
    customAudiences?: pulumi.Input<string>[];
    /** Direct VPC egress (all traffic) into this subnet, e.g. the signer's network for the generator. */
    vpc?: { network: pulumi.Input<string>; subnetwork: pulumi.Input<string> };
    deletionProtection: boolean;
}

/** One control-plane Cloud Run service, named `${name}-${service}`, labelled control-plane. */
export function createControlPlaneService(name: string, args: ControlPlaneServiceArgs, opts: pulumi.CustomResourceOptions): gcp.cloudrunv2.Service {
    const labels = roleLabels("control-plane");
    const scaling = SERVICE_SCALING[args.service];
    const ops = serviceOperations(args.project, args.region);
    return new gcp.cloudrunv2.Service(`${name}-${args.service}`, {
        project: args.project,
        location: args.region,
        name: args.serviceName,
        ingress: args.ingress,
        invokerIamDisabled: false,
        deletionProtection: args.deletionProtection,
        customAudiences: args.customAudiences,
        labels,
        template: {
            serviceAccount: args.serviceAccountEmail,
            labels,
            ...(args.vpc !== undefined
                ? { vpcAccess: { networkInterfaces: [{ network: args.vpc.network, subnetwork: args.vpc.subnetwork }], egress: "ALL_TRAFFIC" } }
                : {}),
            scaling: { minInstanceCount: scaling.min, maxInstanceCount: scaling.max },
            maxInstanceRequestConcurrency: scaling.concurrency,
            containers: [{
                // Digest-pinned (checked by ControlPlane): the code cannot change under the fleet.
                image: args.image,
                envs: [{ name: SERVICE_ENV.service, value: args.service }, ...args.envs, ...ops.envs],
                resources: { cpuIdle: !scaling.cpuAlwaysAllocated, ...(scaling.limits !== undefined ? { limits: scaling.limits } : {}) },
                startupProbe: ops.startupProbe,
                livenessProbe: ops.livenessProbe,
            }],
        },
    }, opts);
}

/** `projects/p/secrets/s` -> `projects/p/secrets/s/versions/latest`: what the services read through Secret Manager. */
export function latestVersionOf(secretId: string): string {
    return `${secretId}/versions/latest`;
}

/** `allUsers` as a Cloud Run invoker: only on the webhook receiver, which authenticates every delivery by its HMAC signature. */
export const PUBLIC_INVOKER = "allUsers";

/** The service names of a control plane named `name` (explicit, so their deterministic URLs are known up front). */
export function controlPlaneServiceNames(name: string): Record<ControlPlaneService, string> {
    return Object.fromEntries(CONTROL_PLANE_SERVICES.map((s) => [s, `${name}-${s}`])) as Record<ControlPlaneService, string>;
}

/** What the services are wired to: identities, secret grants, buckets, the generator's network and registry. */
export interface ServiceDeps {
    ids: ControlPlaneIdentities;
    secretGrants: SecretGrants;
    recordsBucket: gcp.storage.Bucket;
    intakeBuckets: Record<string, pulumi.Output<string>>;
    /** Direct VPC egress of the generator (its route to the signer). */
    generatorVpc?: { network: pulumi.Input<string>; subnetwork: pulumi.Input<string> };
    releaseRegistry?: ReleaseRegistry;
}

export interface ControlPlaneServices {
    services: Record<ControlPlaneService, gcp.cloudrunv2.Service>;
    /** Authoritative invoker binding per service (none on the broker when no pool is a gce pool: nobody may call it). */
    invokerBindings: { broker?: gcp.cloudrunv2.ServiceIamBinding; webhook: gcp.cloudrunv2.ServiceIamBinding; generator: gcp.cloudrunv2.ServiceIamBinding };
    /** The audience of the push identity's tokens: the generator's deterministic URL. */
    generatorAudience: pulumi.Output<string>;
}

/** The broker, the webhook receiver and the generator, each as its own identity, with their environments and invokers. */
export function createControlPlaneServices(name: string, args: ControlPlaneArgs, deps: ServiceDeps, parent: pulumi.Resource): ControlPlaneServices {
    const child = { parent };
    const { project, region } = args;
    const names = controlPlaneServiceNames(name);
    const deletionProtection = args.serviceDeletionProtection ?? true;
    const gcePools = args.pools.filter((p) => (p.backend ?? "gce") === "gce");
    const poolSpecs = pulumi.all(gcePools.map((p) => pulumi.all([p.instanceGroupManager as pulumi.Input<string>, deps.intakeBuckets[p.name], p.serviceAccountEmail !== undefined ? `serviceAccount:${p.serviceAccountEmail}` : pulumi.output(p.runnerMember), args.workerProject, region, p.image])
        .apply(([mig, bucket, member, workerProject, poolRegion, image]) => ({
            name: p.name,
            labels: p.labels ?? runnerLabels(p.name),
            runnerGroupId: p.runnerGroupId ?? args.runnerGroupId ?? 1,
            project: workerProject,
            region: poolRegion,
            mig,
            serviceAccount: member.replace(/^serviceAccount:/, ""),
            intakeBucket: bucket,
            image,
            maxRunDurationSeconds: p.maxRunDurationSeconds,
        })))).apply((specs) => JSON.stringify(specs));

    const brokerAudience = args.brokerAudience ?? deterministicRunUrl(project, region, names.broker, child);
    const generatorAudience = deterministicRunUrl(project, region, names.generator, child);
    const service = (role: ControlPlaneService, ingress: (typeof INGRESS)[keyof typeof INGRESS], envs: { name: string; value: pulumi.Input<string> }[], extra: { customAudiences?: pulumi.Input<string>[]; vpc?: ControlPlaneArgs["generatorVpc"] } = {}) =>
        createControlPlaneService(name, {
            project, region, serviceName: names[role], service: role, serviceAccountEmail: deps.ids.serviceAccounts[role].email,
            image: args.image, ingress, envs, deletionProtection, ...extra,
        }, { ...child, dependsOn: role === "generator" ? [] : [deps.secretGrants.githubAppKey, ...(role === "webhook" ? [deps.secretGrants.webhookSecret] : [])] });

    const env = SERVICE_ENV;
    const target = githubTargetOf(args.githubConfigUrl) as NonNullable<ReturnType<typeof githubTargetOf>>;
    const records = { name: env.shared.recordsBucket, value: deps.recordsBucket.name };
    // The GitHub App as the broker and the webhook receiver use it: ids, the key by secret version, the target.
    const github = [
        { name: env.shared.githubApiUrl, value: target.apiUrl },
        { name: env.shared.githubOrg, value: target.org },
        ...(target.repository !== undefined ? [{ name: env.shared.githubRepository, value: target.repository }] : []),
        { name: env.shared.appId, value: String(args.githubApp.appId) },
        { name: env.shared.installationId, value: String(args.githubApp.installationId) },
        { name: env.shared.privateKeySecret, value: latestVersionOf(args.githubApp.privateKeySecret) },
    ];
    const services = {
        broker: service("broker", args.brokerIngress === "internal" ? INGRESS.internal : INGRESS.all, [
            { name: env.broker.url, value: brokerAudience },
            { name: env.broker.pools, value: poolSpecs },
            records,
            ...github,
        ], { customAudiences: args.brokerAudience !== undefined ? [args.brokerAudience] : undefined }),
        // GitHub must reach it: public ingress, every delivery authenticated by its HMAC signature.
        webhook: service("webhook", INGRESS.all, [
            { name: env.webhook.pools, value: poolSpecs },
            records,
            ...github,
            { name: env.webhook.secret, value: latestVersionOf(args.webhookSecret) },
            { name: env.webhook.metricProject, value: args.workerProject },
        ]),
        // Reached only by Pub/Sub push (internal traffic of its own project).
        generator: service("generator", INGRESS.internal, [
            ...(deps.releaseRegistry !== undefined ? [{ name: env.generator.releaseRegistry, value: deps.releaseRegistry.address }] : []),
            { name: env.generator.url, value: generatorAudience },
            { name: env.generator.pools, value: poolSpecs },
            records,
            { name: env.generator.pushServiceAccount, value: deps.ids.serviceAccounts.push.email },
            { name: env.generator.signerUrl, value: args.signerUrl },
            { name: env.generator.builderId, value: args.builderId },
            { name: env.shared.githubServerUrl, value: target.serverUrl },
        ], { vpc: deps.generatorVpc }),
    };

    // Invokers, AUTHORITATIVE per service:
    // - broker: the gce pools' runner identities only (their VM identity token is also the Cloud Run credential);
    // - webhook: allUsers, the one deliberate exception: GitHub cannot present a Google identity, so each
    //   delivery is authenticated by its HMAC signature with the webhook secret, and refused otherwise;
    // - generator: the Pub/Sub push identity only.
    const invoker = (role: ControlPlaneService, members: pulumi.Input<string>[]) => new gcp.cloudrunv2.ServiceIamBinding(`${name}-${role}-invokers`, {
        project, location: services[role].location, name: services[role].name, role: INVOKER_ROLE, members,
    }, child);
    const invokerBindings = {
        broker: gcePools.length > 0 ? invoker("broker", gcePools.map((p) => p.runnerMember)) : undefined,
        webhook: invoker("webhook", [PUBLIC_INVOKER]),
        generator: invoker("generator", [deps.ids.memberOf("push")]),
    };
    return { services, invokerBindings, generatorAudience };
}
