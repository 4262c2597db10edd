/** Provider facade of `ControlPlane` (components/controlPlane/index.ts) for the component schema. */
import * as pulumi from "@pulumi/pulumi";
import type { Account } from "@pulumi/gcp/serviceaccount/account";
import { implementationOf, ControlPlaneOutputs } from "./implementation";
import { BrokerIngress } from "./enums";
import { ControlPlanePool, GeneratorNetwork, GeneratorVpc, GithubApp } from "./types";

export interface ControlPlaneArgs {
    /** Project holding the control plane: its identities, services, buckets and topic. Never the worker project. Required. */
    project: pulumi.Input<string>;
    /** Project of the runner pools: the demand metric and the scale-in grant live there. Required. */
    workerProject: pulumi.Input<string>;
    /** Region of the services and buckets. Required. */
    region: pulumi.Input<string>;
    /** One entry per pool, each gets its own intake bucket (I5). Required, at least one. */
    pools: ControlPlanePool[];
    /** Image of the services, pinned by digest (e.g. ServiceImage.imageRef). Required; a literal that is not digest-pinned is rejected. */
    image: pulumi.Input<string>;
    /** URL of the signer service (the generator's target and token audience), e.g. the enclave's deterministic URL. Required. */
    signerUrl: pulumi.Input<string>;
    /** SLSA builder.id the generator writes (must equal the signer's). Required. */
    builderId: string;
    /** GitHub organization (or organization/repository) URL the runners register to, e.g. "https://github.com/acme". Required. */
    githubConfigUrl: string;
    /** The GitHub App of the broker: ids and the Secret Manager secret id of its private key (created out of band). Required. */
    githubApp: GithubApp;
    /** Secret Manager secret id of the webhook secret (created out of band). Required. */
    webhookSecret: string;
    /** GitHub runner group of the JIT runners of pools that name none. Default 1 (Default group). */
    runnerGroupId?: number;
    /** Broker ingress. "all" (default): reachable through the runners' restricted-VIP route to run.app, invocable only by the pools' runner identities (authoritative IAM) and verified again by the broker. "internal": only when the worker project shares a VPC-SC perimeter with the control-plane project. */
    brokerIngress?: BrokerIngress;
    /** An extra audience the broker accepts (a custom domain in front of it). Default none. */
    brokerAudience?: string;
    /** Direct VPC egress of the generator (the signer's network when both share a project, so its calls are internal). Default none. */
    generatorVpc?: GeneratorVpc;
    /** A network of the control plane's own for the generator's Direct VPC egress (all traffic), for a control plane in a project of its own: an IsolatedNetwork (role "control-plane", no internet) in `project` whose run.app and googleapis.com names resolve to the restricted VIP. The internal-only signer then counts the generator's calls as internal once one enforced VPC-SC perimeter holds both projects. `cidr`: a canonical /26 or larger. Default none; not with `generatorVpc`. */
    generatorNetwork?: GeneratorNetwork;
    /** Days after which intake objects are deleted (lifecycle). Default 7. */
    intakeRetentionDays?: number;
    /** Service-account id of the provenance generator. Default `<name>-cp` (the id the control-plane SA always had). */
    serviceAccountId?: string;
    /** Cloud Run deletion protection of the services. Default true. */
    serviceDeletionProtection?: boolean;
    /** Accept `project` equal to `workerProject` (development stacks with allowSharedSignerProject only). Default false. */
    allowWorkerProjectForDevelopment?: boolean;
    /** Create the release registry (Artifact Registry, immutable tags) that the generator publishes uploaded images to, writable by the generator only. Default false: image uploads are refused. */
    releaseRegistry?: boolean;
}

/**
 * The control-plane services (registration broker, webhook receiver, provenance generator) with their own
 * identities, the intake and records buckets, and the grants that make provenance the control plane's work
 * (I11): runners hold no bucket grant; a job uploads only under its own prefix with a policy the broker signs.
 * Registers a `ControlPlane` of the same name as its child.
 */
export class ControlPlane extends pulumi.ComponentResource implements ControlPlaneOutputs {
    /** Email of the provenance generator's service account: the signer's only invoker. */
    public readonly generatorServiceAccountEmail!: pulumi.Output<string>;
    /** `serviceAccount:<email>` of the provenance generator: pass it to SignerEnclave as its invoker. */
    public readonly generatorMember!: pulumi.Output<string>;
    /** @deprecated "Control plane" names the zone; the identity is the generator's: use `generatorServiceAccountEmail`. */
    public readonly serviceAccountEmail!: pulumi.Output<string>;
    /** @deprecated Use `generatorMember`. */
    public readonly member!: pulumi.Output<string>;
    /** Intake bucket name per pool name. */
    public readonly intakeBuckets!: pulumi.Output<Record<string, string>>;
    /** URL of the registration broker. */
    public readonly brokerUrl!: pulumi.Output<string>;
    /** Where GitHub delivers workflow_job events (configure it on the GitHub App). */
    public readonly webhookUrl!: pulumi.Output<string>;
    /** The generator's service account (gcp.serviceaccount.Account): pass its member to SignerEnclave as its invoker. */
    public readonly generatorServiceAccount!: Account;
    /** Each control-plane service's own service account (gcp.serviceaccount.Account), by service: broker, webhook, generator, and push (the uploads subscription's push identity). */
    public readonly serviceAccounts!: Record<string, Account>;

    constructor(name: string, args: ControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        const body = implementationOf<ControlPlaneArgs, ControlPlaneOutputs>("ControlPlane");
        // Validate before super(): invalid arguments register nothing, not even this facade.
        body.validate(name, args);
        super("hardened-build-fleet:index:ControlPlane", name, {}, opts);
        const outputs = body.create(this, name, args);
        Object.assign(this, outputs);
        this.registerOutputs(outputs);
    }
}
