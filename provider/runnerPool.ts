/** Provider facade of `RunnerPool` (components/runnerPool/index.ts) for the component schema. */
import * as pulumi from "@pulumi/pulumi";
import type { Network } from "@pulumi/gcp/compute/network";
import type { Subnetwork } from "@pulumi/gcp/compute/subnetwork";
import type { Account } from "@pulumi/gcp/serviceaccount/account";
import { implementationOf, RunnerPoolOutputs } from "./implementation";
import { GceOptions, GkeOptions, Pool, PoolGithub } from "./types";

export interface RunnerPoolArgs {
    /** The pool. Either as written in stack config (`PoolInput`: `maxBuildDuration: "2h"`, optional fields defaulted, `podCidr`/`serviceCidr`/`masterCidr` for gke pools only), validated in full by `validatePoolConfig` before anything is registered; or an already normalised `PoolConfig` (e.g. one of `readFleetConfig().pools`). Required. */
    pool: Pool;
    /** GCP project holding the pool. Required. */
    project: pulumi.Input<string>;
    /** GCP region of the pool's subnet, MIG or cluster. Required. */
    region: pulumi.Input<string>;
    /** GitHub registration target. gke: `configUrl` and the NAME of the out-of-band Kubernetes Secret holding the GitHub App credentials (default "arc-github-app"). gce: unused (the broker holds the App). */
    github?: PoolGithub;
    /** gce only, required there: https URL of the registration broker (and the identity-token audience), e.g. `ControlPlane.brokerUrl`. A literal is validated at construction, an Output when it resolves; it is public, not a secret. */
    registrationBrokerUrl?: pulumi.Input<string>;
    /** Service-account id of the pool identity. Default derived from the component name (`<name>-rn`). */
    serviceAccountId?: string;
    /** Extra project roles for the pool SA, e.g. "roles/artifactregistry.reader" when images come from this project's Artifact Registry (better: grant it on the repository). Default none. Every extra role is reachable from build code (I7): keep it empty when possible. */
    additionalRoles?: string[];
    /** Google domains resolved to the restricted VIP inside the pool network. Default: gke ["gcr.io", "pkg.dev"] (node and system images); gce ["run.app"] when the broker is a Cloud Run URL, else none. */
    restrictedGoogleDomains?: string[];
    /** Flow-log sampling of the pool subnet (I12). Default 0.5. */
    flowLogSampling?: number;
    /** GCE backend tunables (see GceBackendOptions). Default all defaults. */
    gce?: GceOptions;
    /** GKE backend tunables (see GkeBackendOptions). Default all defaults. */
    gke?: GkeOptions;
    /** gke only: Google service-account emails of the control plane's broker and webhook receiver, given `get` on pods and `get`/`delete` on ARC EphemeralRunners in the runner namespace (the broker confirms registering pods, the webhook scales them in). Default none: pods of this pool then cannot register for uploads. */
    controlPlaneIdentities?: string[];
}

/**
 * One pool of ephemeral build environments with its own network, identity and backend: gce (one Shielded VM per
 * job) or gke (one gVisor pod per job) (I1-I7). Registers a `RunnerPool` of the same name as its child.
 */
export class RunnerPool extends pulumi.ComponentResource implements RunnerPoolOutputs {
    /** The pool name. */
    public readonly poolName!: pulumi.Output<string>;
    /** The pool's backend, "gce" or "gke". */
    public readonly backend!: pulumi.Output<string>;
    /** Self link of the pool's own VPC (I5). */
    public readonly networkSelfLink!: pulumi.Output<string>;
    /** Self link of the pool's subnet. */
    public readonly subnetSelfLink!: pulumi.Output<string>;
    /** Email of the pool's own service account (never a key, I7). */
    public readonly serviceAccountEmail!: pulumi.Output<string>;
    /** `serviceAccount:<email>` of the pool: the ControlPlane lets it invoke the registration broker (it holds no bucket grant). */
    public readonly serviceAccountMember!: pulumi.Output<string>;
    /** gce pools: self link of the instance template. */
    public readonly instanceTemplate?: pulumi.Output<string>;
    /** gce pools: self link of the regional managed instance group. */
    public readonly instanceGroupManager?: pulumi.Output<string>;
    /** gke pools: name of the pool's private cluster. */
    public readonly cluster?: pulumi.Output<string>;
    /** gke pools: namespace of the runner pods. */
    public readonly runnerNamespace?: pulumi.Output<string>;
    /** The pool's own service account (gcp.serviceaccount.Account): grant it what builds may use, knowing build code can use it too (I7). */
    public readonly serviceAccount!: Account;
    /** The pool's own VPC (gcp.compute.Network). */
    public readonly network!: Network;
    /** The pool's subnet (gcp.compute.Subnetwork). */
    public readonly subnet!: Subnetwork;

    constructor(name: string, args: RunnerPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        const body = implementationOf<RunnerPoolArgs, RunnerPoolOutputs>("RunnerPool");
        // Validate before super(): invalid arguments register nothing, not even this facade.
        body.validate(name, args);
        super("hardened-build-fleet:index:RunnerPool", name, {}, opts);
        const outputs = body.create(this, name, args);
        Object.assign(this, outputs);
        this.registerOutputs(outputs);
    }
}
