/**
 * The control plane's identities and the grants that are theirs alone: one service account per service plus
 * the Pub/Sub push identity, their project roles, the broker's signBlob on itself, the secret accessors, and
 * the conditioned custom roles in the worker project (membership for the broker, scale-in for the webhook
 * receiver). Used by `ControlPlane` (index.ts).
 */
import * as crypto from "crypto";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { serviceAccountIdFor } from "../config/names";
import { roleShortName } from "../runnerPool/identity";
import type { ControlPlanePoolArgs, ControlPlaneService } from "./args";

/** Each control-plane identity's roles on its own project: its logs, and its metrics (docs/operations.md). */
export const CONTROL_PLANE_PROJECT_ROLES: readonly string[] = ["roles/logging.logWriter", "roles/monitoring.metricWriter"];
/** The webhook receiver's role in the worker project: write the demand metric the autoscalers read. */
export const DEMAND_WRITER_ROLE = "roles/monitoring.metricWriter";
/** Lets the broker sign upload policies with its own identity (IAM signBlob), granted on the broker SA only. */
export const SELF_SIGN_ROLE = "roles/iam.serviceAccountTokenCreator";
/**
 * Permissions of the membership custom role (worker project, conditioned on the pools' MIGs, runner VMs
 * and their boot disks): list a MIG's instances, and read a registering VM's boot disk for the image
 * it booted (self link and numeric id, recorded in provenance).
 */
export const MEMBERSHIP_PERMISSIONS: readonly string[] = ["compute.instanceGroupManagers.get", "compute.instances.get", "compute.disks.get"];
/** The broker's and the webhook receiver's role on the secrets they read (by reference). */
export const SECRET_ACCESSOR_ROLE = "roles/secretmanager.secretAccessor";
/**
 * Permissions of the scale-in custom role (worker project, conditioned on the pools' MIGs and runner VMs):
 * remove a finished runner's VM from its MIG. No create, no template, network or IAM permission.
 */
export const SCALE_IN_PERMISSIONS: readonly string[] = [
    "compute.instanceGroupManagers.get",
    "compute.instanceGroupManagers.update",
    "compute.instances.delete",
    "compute.instances.get",
];

/** An identity of the control plane: one per service, plus the Pub/Sub push identity. */
export type ControlPlaneIdentity = ControlPlaneService | "push";

const SA_SUFFIX: Record<ControlPlaneIdentity, string> = { broker: "brk", webhook: "whk", generator: "cp", push: "push" };

/** The generator's service-account id: the given one, or `<name>-cp` (the id the control-plane SA always had). */
export function generatorAccountIdFor(name: string, serviceAccountId?: string): string {
    return serviceAccountId ?? serviceAccountIdFor(name, SA_SUFFIX.generator);
}

/** The provenance generator's email, known before it exists (the account id and project fix it). */
export function generatorEmailFor(name: string, project: string, serviceAccountId?: string): string {
    return `${generatorAccountIdFor(name, serviceAccountId)}@${project}.iam.gserviceaccount.com`;
}

/** A custom-role id (letters, digits, underscores, dots; 3-64) unique per control plane and purpose. */
function workerRoleId(name: string, suffix: string): string {
    const base = `buildFleet_${suffix.replace(/[^A-Za-z0-9]/g, "")}_${name.replace(/[^A-Za-z0-9]/g, "_")}`;
    return base.length <= 64 ? base : `${base.slice(0, 55)}_${crypto.createHash("sha256").update(name).digest("hex").slice(0, 8)}`;
}

export interface ControlPlaneIdentities {
    serviceAccounts: Record<ControlPlaneIdentity, gcp.serviceaccount.Account>;
    /** `serviceAccount:<email>` of an identity. */
    memberOf: (role: ControlPlaneIdentity) => pulumi.Output<string>;
    /** Project roles (logging in the control-plane project; the demand metric writer in the worker project). */
    projectRoles: gcp.projects.IAMMember[];
}

/** One service account per service and the push identity, with their project roles. */
export function createIdentities(
    name: string, args: { project: pulumi.Input<string>; workerProject: pulumi.Input<string>; serviceAccountId?: string }, parent: pulumi.Resource,
): ControlPlaneIdentities {
    const child = { parent };
    const project = args.project;
    // One identity per service; the generator keeps the control plane's former SA (child name and id).
    const account = (role: ControlPlaneIdentity, description: string) => new gcp.serviceaccount.Account(
        role === "generator" ? `${name}-sa` : `${name}-${role}-sa`,
        {
            project,
            accountId: role === "generator" ? generatorAccountIdFor(name, args.serviceAccountId) : serviceAccountIdFor(name, SA_SUFFIX[role]),
            displayName: `Build fleet control plane: ${role}`,
            description,
        },
        child,
    );
    const serviceAccounts = {
        broker: account("broker", "hardened-build-fleet registration broker: one JIT config per runner VM, job-scoped upload tokens"),
        webhook: account("webhook", "hardened-build-fleet webhook receiver: verified workflow_job events, runner demand, scale-in"),
        generator: account("generator", "hardened-build-fleet provenance generator: reads uploads, computes digests, the signer's only caller (I11)"),
        push: account("push", "hardened-build-fleet Pub/Sub push identity: delivers upload notifications to the generator"),
    };
    const memberOf = (role: ControlPlaneIdentity) => pulumi.interpolate`serviceAccount:${serviceAccounts[role].email}`;

    const projectRoles: gcp.projects.IAMMember[] = [];
    for (const role of ["broker", "webhook", "generator"] as const) {
        for (const r of CONTROL_PLANE_PROJECT_ROLES) {
            // The generator's grants were the single control-plane SA's (`${name}-<role>`): keep their identity.
            const aliases = role === "generator" ? [{ name: `${name}-${roleShortName(r)}` }] : undefined;
            projectRoles.push(new gcp.projects.IAMMember(`${name}-${role}-${roleShortName(r)}`, { project, role: r, member: memberOf(role) }, { ...child, aliases }));
        }
    }
    // The demand metric lives where the autoscalers read it: the worker project. Only the webhook writes it.
    projectRoles.push(new gcp.projects.IAMMember(`${name}-webhook-demand-writer`, {
        project: args.workerProject, role: DEMAND_WRITER_ROLE, member: memberOf("webhook"),
    }, child));
    return { serviceAccounts, memberOf, projectRoles };
}

/** The broker signs upload policies with its own identity (IAM signBlob on itself, nothing else). */
export function createSelfSignGrant(name: string, ids: ControlPlaneIdentities, parent: pulumi.Resource): gcp.serviceaccount.IAMMember {
    return new gcp.serviceaccount.IAMMember(`${name}-broker-self-sign`, {
        serviceAccountId: ids.serviceAccounts.broker.name, role: SELF_SIGN_ROLE, member: ids.memberOf("broker"),
    }, { parent });
}

export interface SecretGrants {
    githubAppKey: gcp.secretmanager.SecretIamBinding;
    webhookSecret: gcp.secretmanager.SecretIamBinding;
}

/**
 * Secrets by reference: created out of band, only their ids pass through Pulumi. The App key: the broker (JIT
 * configs) and the webhook receiver (reconciling demand against the GitHub API, because deliveries get lost);
 * never the generator. The webhook secret: the webhook receiver only.
 */
export function createSecretGrants(name: string, secrets: { githubAppKey: string; webhookSecret: string }, ids: ControlPlaneIdentities, parent: pulumi.Resource): SecretGrants {
    const child = { parent };
    return {
        githubAppKey: new gcp.secretmanager.SecretIamBinding(`${name}-github-app-key-accessor`, {
            secretId: secrets.githubAppKey, role: SECRET_ACCESSOR_ROLE, members: [ids.memberOf("broker"), ids.memberOf("webhook")],
        }, child),
        webhookSecret: new gcp.secretmanager.SecretIamBinding(`${name}-webhook-secret-accessor`, {
            secretId: secrets.webhookSecret, role: SECRET_ACCESSOR_ROLE, members: [ids.memberOf("webhook")],
        }, child),
    };
}

/** A custom role in the worker project and its conditioned grant to one identity. */
export interface WorkerRole {
    role: gcp.projects.IAMCustomRole;
    grant: gcp.projects.IAMMember;
}

/**
 * In the worker project, conditioned on the fleet's runner MIGs (and, for scale-in, their VMs) only:
 * - membership (broker): list a MIG's instances, to check that a registering VM belongs to its pool, and read
 *   that VM and its boot disk, for the image it booted;
 * - scale-in (webhook receiver): the autoscalers only scale out; it deletes a finished runner's VM.
 * Only for gce pools (`gcePools` non-empty).
 */
export function createWorkerRoles(
    name: string, args: { workerProject: pulumi.Input<string>; region: pulumi.Input<string>; gcePools: ControlPlanePoolArgs[] }, ids: ControlPlaneIdentities, parent: pulumi.Resource,
): { membership: WorkerRole; scaleIn: WorkerRole } {
    const child = { parent };
    const { region, gcePools } = args;
    const migNames = pulumi.all(gcePools.map((p) => pulumi.all([args.workerProject, region, p.instanceGroupManager as pulumi.Input<string>])
        .apply(([wp, r, mig]) => `resource.name == "projects/${wp}/regions/${r}/instanceGroupManagers/${mig}"`)));
    const vms = gcePools.map((p) =>
        `(resource.type == "compute.googleapis.com/Instance" && resource.name.extract("/instances/{name}").startsWith("${p.baseInstanceName ?? `${p.name}-runner`}-"))`);
    // A MIG's boot disks carry their instance's name.
    const disks = gcePools.map((p) =>
        `(resource.type == "compute.googleapis.com/Disk" && resource.name.extract("/disks/{name}").startsWith("${p.baseInstanceName ?? `${p.name}-runner`}-"))`);
    const workerRole = (suffix: string, title: string, description: string, permissions: readonly string[], role: ControlPlaneService, expression: pulumi.Input<string>) => {
        const custom = new gcp.projects.IAMCustomRole(`${name}-${suffix}`, {
            project: args.workerProject, roleId: workerRoleId(name, suffix), title: `${title} (${name})`, description, permissions: [...permissions], stage: "GA",
        }, child);
        const grant = new gcp.projects.IAMMember(`${name}-${role}-${suffix}`, {
            project: args.workerProject, role: custom.name, member: ids.memberOf(role),
            condition: { title: "fleet-runner-migs-only", description: "Only the fleet's runner MIGs (and their VMs)", expression },
        }, child);
        return { role: custom, grant };
    };
    const membership = workerRole("membership", "Build fleet MIG membership", "List the instances of the fleet's runner MIGs and read their boot image; nothing else.",
        MEMBERSHIP_PERMISSIONS, "broker", migNames.apply((m) => [...m, ...vms, ...disks].join(" || ")));
    const scaleIn = workerRole("scale-in", "Build fleet scale-in", "Delete a finished runner VM from its pool's managed instance group; nothing else.",
        SCALE_IN_PERMISSIONS, "webhook", migNames.apply((m) => [...m, ...vms].join(" || ")));
    return { membership, scaleIn };
}
