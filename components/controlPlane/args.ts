/**
 * The arguments of `ControlPlane` and the names of its services: the vocabulary its files (validate,
 * identities, intake, services) share, kept apart so each imports it without importing the component.
 */
import * as pulumi from "@pulumi/pulumi";

export const CONTROL_PLANE_SERVICES = ["broker", "webhook", "generator"] as const;
export type ControlPlaneService = (typeof CONTROL_PLANE_SERVICES)[number];

export interface ControlPlanePoolArgs {
    /** Pool name (PoolConfig.name): bucket label, child-name suffix and first segment of every upload location. */
    name: string;
    /** "gce" pools register through the broker; "gke" pools (ARC) only get their intake bucket. Default "gce". */
    backend?: "gce" | "gke";
    /** IAM member of the pool's runner identity (`serviceAccount:<email>`): the only identity allowed to call the broker for it. */
    runnerMember: pulumi.Input<string>;
    /**
     * The runner SA's email as a literal (it is fixed by its account id and project), for the services' pool lists.
     * Default: derived from `runnerMember`. A literal keeps the services' definitions free of any dependency on a
     * runner identity (a preview cannot tell an env value from the identity a service runs as).
     */
    serviceAccountEmail?: string;
    /** gce: name of the pool's regional managed instance group (membership checks, scale-in). */
    instanceGroupManager?: pulumi.Input<string>;
    /** gce: base name of the pool's runner VMs (scale-in condition). Default `${name}-runner`. */
    baseInstanceName?: string;
    /**
     * gce: the full label set the pool's runners register with; it must contain the pool name (the label jobs name in
     * `runs-on`) and no other pool's name, and no two pools' sets may nest. Default
     * ["self-hosted", "linux", "x64", name] (`runnerLabels(name)`).
     */
    labels?: string[];
    /** gce: GitHub runner group id of the pool's JIT runners. Default the component's `runnerGroupId`. */
    runnerGroupId?: number;
    /** The pool's boot image, recorded in provenance. */
    image: pulumi.Input<string>;
    /** The pool's maximum build duration: the upload credential's lifetime bound. */
    maxRunDurationSeconds: number;
}

export interface ControlPlaneArgs {
    /** Project holding the control plane: its identities, services, buckets and topic. Never the worker project. Required. */
    project: pulumi.Input<string>;
    /** Project of the runner pools: the demand metric and the scale-in grant live there. Required. */
    workerProject: pulumi.Input<string>;
    /** Region of the services and buckets. Required. */
    region: pulumi.Input<string>;
    /** One entry per pool, each gets its own intake bucket (I5). Required, at least one. */
    pools: ControlPlanePoolArgs[];
    /** Image of the services, pinned by digest (e.g. ServiceImage.imageRef). Required; a literal that is not digest-pinned is rejected. */
    image: pulumi.Input<string>;
    /** URL of the signer service (the generator's target and token audience), e.g. the enclave's deterministic URL. Required. */
    signerUrl: pulumi.Input<string>;
    /** SLSA builder.id the generator writes (must equal the signer's). Required. */
    builderId: string;
    /** GitHub organization (or organization/repository) URL the runners register to, e.g. "https://github.com/acme". Required. */
    githubConfigUrl: string;
    /** The GitHub App of the broker: ids and the Secret Manager secret id of its private key (created out of band). Required. */
    githubApp: { appId: number; installationId: number; privateKeySecret: string };
    /** Secret Manager secret id of the webhook secret (created out of band). Required. */
    webhookSecret: string;
    /** GitHub runner group of the JIT runners of pools that name none. Default 1 (Default group). */
    runnerGroupId?: number;
    /**
     * Broker ingress. "all" (default): reachable through the runners' restricted-VIP route to run.app, invocable only by
     * the pools' runner identities (authoritative IAM) and verified again by the broker. "internal": only when the
     * worker project shares a VPC-SC perimeter with the control-plane project.
     */
    brokerIngress?: "all" | "internal";
    /** An extra audience the broker accepts (a custom domain in front of it). Default none. */
    brokerAudience?: string;
    /** Direct VPC egress of the generator (the signer's network when both share a project, so its calls are internal). Default none. */
    generatorVpc?: { network: pulumi.Input<string>; subnetwork: pulumi.Input<string> };
    /**
     * A network of the control plane's own for the generator's Direct VPC egress (all traffic), for a control plane in a
     * project of its own: an IsolatedNetwork (role "control-plane", no internet) in `project` whose run.app and
     * googleapis.com names resolve to the restricted VIP. The internal-only signer then counts the generator's calls as
     * internal once one enforced VPC-SC perimeter holds both projects. `cidr`: a canonical /26 or larger. Default none;
     * not with `generatorVpc`.
     */
    generatorNetwork?: { cidr: string };
    /** Days after which intake objects are deleted (lifecycle). Default 7. */
    intakeRetentionDays?: number;
    /** Service-account id of the provenance generator. Default `<name>-cp` (the id the control-plane SA always had). */
    serviceAccountId?: string;
    /** Cloud Run deletion protection of the services. Default true. */
    serviceDeletionProtection?: boolean;
    /** Accept `project` equal to `workerProject` (development stacks with allowSharedSignerProject only). Default false. */
    allowWorkerProjectForDevelopment?: boolean;
    /**
     * Create the release registry (Artifact Registry, immutable tags) that the generator publishes uploaded images to,
     * writable by the generator only. Default false: image uploads are refused.
     */
    releaseRegistry?: boolean;
}
