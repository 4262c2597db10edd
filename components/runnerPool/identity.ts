/**
 * A runner pool's identities (I5, I7): the build's own service account (the GCE VM's SA, or the GKE
 * pods' Workload Identity SA) with nothing but writing logs, and, for GKE pools, a separate node SA
 * for the node agents. Never a key. Runners hold no grant on the intake buckets either: a job uploads
 * with a policy the broker signed for its own location (I11).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

/**
 * The only project role a build identity holds: writing its logs. No `monitoring.metricWriter`: with it
 * a build could write the `runner_demand` metric of any pool and move the autoscalers; the demand is
 * written only by the webhook receiver's identity.
 */
export const RUNNER_PROJECT_ROLES: readonly string[] = ["roles/logging.logWriter"];

/**
 * Project roles of a GKE pool's node SA, which pods never see (GKE_METADATA hides it; the build runs
 * as the Workload Identity SA): the node agents' logs, system metrics and monitored-resource metadata.
 * Write-only. `roles/monitoring.viewer` (which Google's node-SA guide also lists) is deliberately not
 * granted. Residual risk: after a gVisor escape a build could write metrics as the node, including the
 * demand metric; the GCE autoscalers are scale-out only and bounded by maxRunners, so that buys cost,
 * never the deletion of a busy runner.
 */
export const GKE_NODE_ROLES: readonly string[] = ["roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/stackdriver.resourceMetadata.writer"];

export interface RunnerIdentityArgs {
    /** Project holding the pool. */
    project: pulumi.Input<string>;
    /** Pool name, used in the display name. */
    pool: string;
    /** Service-account id. */
    accountId: string;
    /** Project roles to grant (RUNNER_PROJECT_ROLES plus any extras, or GKE_NODE_ROLES). */
    roles: readonly string[];
    /** What the identity is for (display name and description). Default "build". */
    purpose?: "build" | "node";
}

export interface RunnerIdentity {
    serviceAccount: gcp.serviceaccount.Account;
    email: pulumi.Output<string>;
    /** `serviceAccount:<email>`. */
    member: pulumi.Output<string>;
    /** One project IAMMember per role, in `roles` order. */
    projectRoles: gcp.projects.IAMMember[];
}

/**
 * Creates the pool SA and its project role grants as children of `parent`, named `${name}-sa` and
 * `${name}-<role-short-name>`. Non-authoritative IAMMember grants, so other bindings in the project
 * are untouched. No `gcp.serviceaccount.Key` is ever created (I7): VMs and nodes use the attached SA,
 * pods use Workload Identity.
 */
export function createRunnerIdentity(name: string, args: RunnerIdentityArgs, parent: pulumi.Resource): RunnerIdentity {
    const serviceAccount = new gcp.serviceaccount.Account(`${name}-sa`, {
        project: args.project,
        accountId: args.accountId,
        displayName: args.purpose === "node" ? `Runner pool ${args.pool} nodes` : `Runner pool ${args.pool}`,
        description: args.purpose === "node"
            ? `hardened-build-fleet GKE node identity of pool ${args.pool}: node logs and metrics only, never the build's identity (I7)`
            : `hardened-build-fleet runner identity of pool ${args.pool}: logs only, no keys (I7)`,
    }, { parent });
    const member = pulumi.interpolate`serviceAccount:${serviceAccount.email}`;
    const projectRoles = args.roles.map((role) => new gcp.projects.IAMMember(`${name}-${roleShortName(role)}`, {
        project: args.project,
        role,
        member,
    }, { parent }));
    return { serviceAccount, email: serviceAccount.email, member, projectRoles };
}

/** `roles/logging.logWriter` -> `logging-logwriter` (stable child-name suffix). */
export function roleShortName(role: string): string {
    return role.replace(/^roles\//, "").replace(/[^A-Za-z0-9]+/g, "-").toLowerCase();
}
