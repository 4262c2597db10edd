/**
 * The Cloud Run services of the control plane (broker, webhook receiver, provenance generator): one
 * hardened service definition, each service running as its own identity, and the environment each
 * service reads. Used by `ControlPlane` (controlPlane.ts).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { GithubTarget, readGithubConfigUrl } from "../config/githubUrl";
import { roleLabels } from "../labels";
import { serviceOperations } from "../serviceImage/operations";

export const CONTROL_PLANE_SERVICES = ["broker", "webhook", "generator"] as const;
export type ControlPlaneService = (typeof CONTROL_PLANE_SERVICES)[number];

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
