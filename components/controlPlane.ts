/**
 * `ControlPlane` (I11): the control-plane identity, one artifact intake bucket per pool, and the grants
 * that make provenance the control plane's work, not the tenant build's:
 * - a pool's runner SA gets roles/storage.objectCreator on its own pool's bucket only. That role holds
 *   storage.objects.create but not get, list or delete, and Cloud Storage requires
 *   storage.objects.delete to overwrite an existing object: a runner can add new objects, never read,
 *   replace or remove any;
 * - the control plane gets roles/storage.objectViewer on every intake bucket: it reads the uploads and
 *   computes their digests itself.
 * Invoking the signer is granted by SignerEnclave (its `invokers`), never here; runners get nothing on
 * the signer.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { throwIfProblems } from "./config/issues";
import { componentNameProblems, isGcpName, isValidServiceAccountId, serviceAccountIdFor } from "./config/names";
import { roleLabels } from "./labels";
import { roleShortName } from "./runnerIdentity";

/** The runner's only role on its intake bucket. */
export const INTAKE_RUNNER_ROLE = "roles/storage.objectCreator";
/** The control plane's role on every intake bucket. */
export const INTAKE_CONTROL_PLANE_ROLE = "roles/storage.objectViewer";
/** Project roles of the control-plane SA: its logs, and the runner-demand metric the GCE autoscalers follow. */
export const CONTROL_PLANE_PROJECT_ROLES: readonly string[] = ["roles/logging.logWriter", "roles/monitoring.metricWriter"];

/** Longest logical bucket name whose auto-name (plus "-" and 7 characters) still fits 63. */
const MAX_BUCKET_LOGICAL_NAME = 55;

export interface ControlPlanePoolArgs {
    /** Pool name (PoolConfig.name): bucket label and child-name suffix. */
    name: string;
    /** IAM member of the pool's runner identity, e.g. RunnerPool.serviceAccountMember. */
    runnerMember: pulumi.Input<string>;
}

export interface ControlPlaneArgs {
    /** Project holding the control plane and the intake buckets. Required. */
    project: pulumi.Input<string>;
    /** Region: location of the intake buckets. Required. */
    region: pulumi.Input<string>;
    /** One entry per pool, each gets its own bucket (I5). Required, at least one. */
    pools: ControlPlanePoolArgs[];
    /** Days after which intake objects are deleted (lifecycle). Default 7. */
    intakeRetentionDays?: number;
    /** Service-account id of the control plane. Default derived from the component name (`<name>-cp`). */
    serviceAccountId?: string;
}

/** Every problem with the ControlPlane arguments (empty when valid). */
export function validateControlPlaneArgs(name: string, args: ControlPlaneArgs): string[] {
    const problems = componentNameProblems(name, MAX_BUCKET_LOGICAL_NAME);
    if (args === undefined || args === null) {
        return [...problems, "args: missing; pass at least { project, region, pools }."];
    }
    if (args.project === undefined || args.project === "") {
        problems.push("project: missing; pass the GCP project id of the control plane.");
    }
    if (args.region === undefined || args.region === "") {
        problems.push("region: missing; pass a GCP region such as \"europe-west1\".");
    }
    if (!Array.isArray(args.pools) || args.pools.length === 0) {
        problems.push("pools: empty; pass one { name, runnerMember } per runner pool.");
    }
    const seen = new Set<string>();
    (args.pools ?? []).forEach((pool, i) => {
        if (!isGcpName(pool?.name)) {
            problems.push(`pools[${i}].name: ${JSON.stringify(pool?.name)} is not a pool name; use lower-case letters, digits and hyphens.`);
        } else {
            if (seen.has(pool.name)) {
                problems.push(`pools[${i}].name: "${pool.name}" appears twice; every pool needs its own intake bucket (I5).`);
            }
            seen.add(pool.name);
            const logical = `${name}-intake-${pool.name}`;
            if (logical.length > MAX_BUCKET_LOGICAL_NAME) {
                problems.push(`pools[${i}].name: bucket name "${logical}" is longer than ${MAX_BUCKET_LOGICAL_NAME} characters; shorten the component or pool name.`);
            }
        }
        if (pool?.runnerMember === undefined || pool.runnerMember === "") {
            problems.push(`pools[${i}].runnerMember: missing; pass the pool's runner identity, e.g. RunnerPool.serviceAccountMember.`);
        }
    });
    const days = args.intakeRetentionDays;
    if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650)) {
        problems.push(`intakeRetentionDays: ${JSON.stringify(days)} must be an integer between 1 and 3650 (default 7).`);
    }
    const accountId = args.serviceAccountId ?? serviceAccountIdFor(name, "cp");
    if (!isValidServiceAccountId(accountId)) {
        problems.push(`serviceAccountId: "${accountId}" is not a valid service-account id; use 6-30 lower-case letters, digits and hyphens.`);
    }
    return problems;
}

export class ControlPlane extends pulumi.ComponentResource {
    readonly serviceAccount: gcp.serviceaccount.Account;
    readonly serviceAccountEmail: pulumi.Output<string>;
    /** `serviceAccount:<email>`: pass to SignerEnclave as its invoker. */
    readonly member: pulumi.Output<string>;
    /** Intake bucket per pool name. */
    readonly buckets: Record<string, gcp.storage.Bucket>;
    /** Intake bucket name per pool name. */
    readonly intakeBuckets: Record<string, pulumi.Output<string>>;
    /** Project roles of the control-plane SA. */
    readonly projectRoles: gcp.projects.IAMMember[];
    /** Per pool: the runner's objectCreator grant and the control plane's objectViewer grant. */
    readonly intakeGrants: Record<string, { runner: gcp.storage.BucketIAMMember; controlPlane: gcp.storage.BucketIAMMember }>;

    constructor(name: string, args: ControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfProblems("ControlPlane", name, validateControlPlaneArgs(name, args));
        super("hardened-build-fleet:index:ControlPlane", name, {}, opts);
        const child = { parent: this };
        const retentionDays = args.intakeRetentionDays ?? 7;

        this.serviceAccount = new gcp.serviceaccount.Account(`${name}-sa`, {
            project: args.project,
            accountId: args.serviceAccountId ?? serviceAccountIdFor(name, "cp"),
            displayName: "Build fleet control plane",
            description: "hardened-build-fleet control plane: reads intake buckets, computes digests, asks the signer (I11)",
        }, child);
        this.serviceAccountEmail = this.serviceAccount.email;
        this.member = pulumi.interpolate`serviceAccount:${this.serviceAccount.email}`;
        this.projectRoles = CONTROL_PLANE_PROJECT_ROLES.map((role) => new gcp.projects.IAMMember(`${name}-${roleShortName(role)}`, {
            project: args.project,
            role,
            member: this.member,
        }, child));

        this.buckets = {};
        this.intakeBuckets = {};
        this.intakeGrants = {};
        for (const pool of args.pools) {
            const bucket = new gcp.storage.Bucket(`${name}-intake-${pool.name}`, {
                project: args.project,
                location: args.region,
                // Uniform access: IAM only, no object ACL a runner could set; never public.
                uniformBucketLevelAccess: true,
                publicAccessPrevention: "enforced",
                // No versions: nothing a deleted or replaced upload could be recovered from or confused with.
                versioning: { enabled: false },
                lifecycleRules: [{ action: { type: "Delete" }, condition: { age: retentionDays } }],
                forceDestroy: false,
                labels: roleLabels("control-plane", pool.name),
            }, child);
            // I11: create only, on the pool's own bucket only (I5).
            const runner = new gcp.storage.BucketIAMMember(`${name}-intake-${pool.name}-runner`, {
                bucket: bucket.name,
                role: INTAKE_RUNNER_ROLE,
                member: pool.runnerMember,
            }, child);
            const controlPlane = new gcp.storage.BucketIAMMember(`${name}-intake-${pool.name}-reader`, {
                bucket: bucket.name,
                role: INTAKE_CONTROL_PLANE_ROLE,
                member: this.member,
            }, child);
            this.buckets[pool.name] = bucket;
            this.intakeBuckets[pool.name] = bucket.name;
            this.intakeGrants[pool.name] = { runner, controlPlane };
        }

        this.registerOutputs({
            serviceAccountEmail: this.serviceAccountEmail,
            member: this.member,
            intakeBuckets: this.intakeBuckets,
        });
    }
}
