/**
 * The Cloud Run services of the control plane (broker, webhook receiver, provenance generator): one
 * hardened service definition, each service running as its own identity, and the environment each
 * service reads. Used by `ControlPlane` (controlPlane.ts).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { roleLabels } from "./labels";

export const CONTROL_PLANE_SERVICES = ["broker", "webhook", "generator"] as const;
export type ControlPlaneService = (typeof CONTROL_PLANE_SERVICES)[number];

/** Cloud Run ingress values the services use. */
export const INGRESS = { internal: "INGRESS_TRAFFIC_INTERNAL_ONLY", all: "INGRESS_TRAFFIC_ALL" } as const;

/** Environment variable names of each service (values are resource names and references, never secrets). */
export const SERVICE_ENV = {
    service: "SERVICE",
    broker: {
        pools: "BROKER_POOLS",
        audience: "BROKER_AUDIENCE",
        recordsBucket: "BROKER_RECORDS_BUCKET",
        githubConfigUrl: "BROKER_GITHUB_CONFIG_URL",
        appId: "BROKER_GITHUB_APP_ID",
        installationId: "BROKER_GITHUB_APP_INSTALLATION_ID",
        privateKeySecret: "BROKER_GITHUB_APP_PRIVATE_KEY_SECRET",
    },
    webhook: {
        pools: "WEBHOOK_POOLS",
        secret: "WEBHOOK_SECRET",
        recordsBucket: "WEBHOOK_RECORDS_BUCKET",
        demandMetric: "WEBHOOK_DEMAND_METRIC",
        metricProject: "WEBHOOK_METRIC_PROJECT",
    },
    generator: {
        pools: "GENERATOR_POOLS",
        recordsBucket: "GENERATOR_RECORDS_BUCKET",
        signerUrl: "GENERATOR_SIGNER_URL",
        builderId: "GENERATOR_BUILDER_ID",
        audience: "GENERATOR_AUDIENCE",
        pushServiceAccount: "GENERATOR_PUSH_SERVICE_ACCOUNT",
    },
} as const;

/** The webhook receiver's path for GitHub `workflow_job` deliveries (the stack's `webhookUrl`). */
export const WEBHOOK_PATH = "/v1/webhook";
/** The generator's path for Pub/Sub push deliveries of GCS finalize notifications. */
export const NOTIFICATION_PATH = "/v1/notifications";

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
            containers: [{
                // Digest-pinned (checked by ControlPlane): the code cannot change under the fleet.
                image: args.image,
                envs: [{ name: SERVICE_ENV.service, value: args.service }, ...args.envs],
            }],
        },
    }, opts);
}

/** `projects/p/secrets/s` -> `projects/p/secrets/s/versions/latest`: what the services read through Secret Manager. */
export function latestVersionOf(secretId: string): string {
    return `${secretId}/versions/latest`;
}
