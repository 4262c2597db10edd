/**
 * A runner pool's identity (I5, I7): its own service account, project roles limited to writing
 * logs and metrics, and never a key. Object creation on the pool's own intake bucket is granted
 * by ControlPlane (I11), not here.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

/**
 * The only project role every runner SA holds: write its logs. No metrics: a build could write demand
 * points labelled with another pool and skew its autoscaler (the control plane publishes demand).
 */
export const RUNNER_PROJECT_ROLES: readonly string[] = ["roles/logging.logWriter"];

/**
 * Extra project role for a GKE pool, whose SA is also the node SA: GKE's node agents write
 * monitored-resource metadata with it. Write-only. `roles/monitoring.viewer` (which Google's node-SA
 * guide also lists) is deliberately not granted: through Workload Identity the build could read the
 * whole project's monitoring data, including other pools' (I5).
 */
export const GKE_NODE_EXTRA_ROLES: readonly string[] = ["roles/stackdriver.resourceMetadata.writer"];

export interface RunnerIdentityArgs {
    /** Project holding the pool. */
    project: pulumi.Input<string>;
    /** Pool name, used in the display name. */
    pool: string;
    /** Service-account id. */
    accountId: string;
    /** Project roles to grant (RUNNER_PROJECT_ROLES plus any backend extras). */
    roles: readonly string[];
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
        displayName: `Runner pool ${args.pool}`,
        description: `hardened-build-fleet runner identity of pool ${args.pool}: logs and metrics only, no keys (I7)`,
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
