/**
 * `ControlPlane`: the trusted middle zone, out of the worker project (I11). It runs three services on
 * Cloud Run, each as its own least-privilege identity, from one digest-pinned image:
 * - the **registration broker** verifies a runner VM's identity token (and the VM's membership of its
 *   pool's MIG), hands out exactly one GitHub JIT config per instance, records instance -> runner -> job,
 *   and signs the job's upload credential: a Cloud Storage V4 POST policy for the VM's own prefix of its
 *   pool's intake bucket, signed with the broker's identity (IAM signBlob). The broker holds
 *   `roles/storage.objectCreator` on the intake buckets only to be that credential's ceiling; runners
 *   hold no grant on any bucket;
 * - the **webhook receiver** verifies `workflow_job` deliveries (HMAC), maintains demand per pool,
 *   reconciles it against the GitHub API, writes the `runner_demand` metric in the worker project
 *   (runners cannot: they hold no metricWriter) and deletes a finished runner's VM (the autoscalers only
 *   scale out);
 * - the **provenance generator** is notified of every finalized upload (GCS -> Pub/Sub -> push with a
 *   dedicated push identity's OIDC token), reads the object, computes its digest, joins the records the
 *   broker and the webhook wrote, and asks the signer to sign. It is the only identity that may invoke
 *   the signer (SignerEnclave's authoritative invoker binding).
 *
 * Why not the worker project: anyone there with actAs on a control-plane identity (or able to deploy a
 * revision running as it) could make it ask the signer for arbitrary provenance: a signing oracle. The
 * control plane therefore lives in its own project, by default the signer's project with separate
 * identities (whoever administers that project already controls the key; a dedicated project adds a
 * boundary around the internet-facing webhook receiver and needs a VPC-SC perimeter around both
 * projects for the internal-only signer to accept the generator's calls).
 */
import * as crypto from "crypto";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { deterministicRunUrl, MAX_CLOUD_RUN_SERVICE_NAME } from "./cloudRunUrl";
import { imageReferenceProblem } from "../config/image";
import { throwIfProblems } from "../config/issues";
import { builderIdProblem, componentNameProblems, isGcpName, isValidRegion, isValidServiceAccountId, serviceAccountIdFor } from "../config/names";
import { secretIdProblem } from "../config/controlPlane";
import { readGithubConfigUrl } from "../config/githubUrl";
import {
    createControlPlaneService, ControlPlaneService, githubTargetOf, INGRESS, latestVersionOf, NOTIFICATION_PATH, SERVICE_ENV, WEBHOOK_PATH,
} from "./services";
import { createReleaseRegistry, ReleaseRegistry } from "./releaseRegistry";
import { createUploadsDeadLetter, deadLetterPolicy, grantDeadLetterForwarding, UploadsDeadLetter } from "./deadLetter";
import { roleLabels } from "../labels";
import { labelSetProblems, RUNNER_LABEL, runnerLabels } from "../../services/controlPlane/runsOn";
import { roleShortName } from "../runnerPool/identity";
import { INVOKER_ROLE } from "../signerEnclave";
import { directVpcEgressCidrProblem, IsolatedNetwork, isolatedNetworkArgsProblems, MAX_NETWORK_NAME_LENGTH } from "../isolatedNetwork";

/** The broker's role on every intake bucket: the ceiling of the job-scoped upload policies it signs (create only). */
export const INTAKE_BROKER_ROLE = "roles/storage.objectCreator";
/** The generator's role on every intake bucket: read the uploads and compute their digests. */
export const INTAKE_CONTROL_PLANE_ROLE = "roles/storage.objectViewer";
/** Roles on the records bucket (registrations, job facts): broker and webhook create and read; the generator reads. */
export const RECORDS_WRITER_ROLE = "roles/storage.objectCreator";
export const RECORDS_READER_ROLE = "roles/storage.objectViewer";
/** Pending markers (under `pending/` only, by IAM condition): the webhook and the generator create and delete them. */
export const RECORDS_PENDING_ROLE = "roles/storage.objectUser";
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
export const SECRET_ACCESSOR_ROLE = "roles/secretmanager.secretAccessor";
export const PUBLISHER_ROLE = "roles/pubsub.publisher";
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
/** `allUsers` as a Cloud Run invoker: only on the webhook receiver, which authenticates every delivery by its HMAC signature. */
export const PUBLIC_INVOKER = "allUsers";

/** Child-name suffix of the generator's own network (`generatorNetwork`). */
const GENERATOR_NETWORK_SUFFIX = "-net";
/** Longest logical bucket name whose auto-name (plus "-" and 7 characters) still fits 63. */
const MAX_BUCKET_LOGICAL_NAME = 55;
/** `${name}-generator` must fit a Cloud Run service name. */
const MAX_CONTROL_PLANE_NAME = MAX_CLOUD_RUN_SERVICE_NAME - "-generator".length;

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

/** The service names of a control plane named `name` (explicit, so their deterministic URLs are known up front). */
export function controlPlaneServiceNames(name: string): Record<ControlPlaneService, string> {
    return { broker: `${name}-broker`, webhook: `${name}-webhook`, generator: `${name}-generator` };
}

const SA_SUFFIX: Record<ControlPlaneService | "push", string> = { broker: "brk", webhook: "whk", generator: "cp", push: "push" };

/** Every problem with the ControlPlane arguments (empty when valid). */
export function validateControlPlaneArgs(name: string, args: ControlPlaneArgs): string[] {
    const problems = componentNameProblems(name, Math.min(MAX_BUCKET_LOGICAL_NAME, MAX_CONTROL_PLANE_NAME));
    if (args === undefined || args === null) {
        return [...problems, "args: missing; pass at least { project, workerProject, region, pools, image, signerUrl, builderId, githubConfigUrl, githubApp, webhookSecret }."];
    }
    for (const key of ["project", "workerProject", "signerUrl", "githubConfigUrl"] as const) {
        if (args[key] === undefined || args[key] === "") {
            problems.push(`${key}: missing.`);
        }
    }
    if (typeof args.project === "string" && args.project !== "" && args.project === args.workerProject && args.allowWorkerProjectForDevelopment !== true) {
        problems.push(`project: "${args.project}" is the worker project; anyone there with actAs on a control-plane identity would hold a signing oracle. Use the signer's or a dedicated project.`);
    }
    if (args.region === undefined || args.region === "" || (typeof args.region === "string" && !isValidRegion(args.region))) {
        problems.push(`region: ${JSON.stringify(args.region)} is not a region; pass e.g. "europe-west1".`);
    }
    if (args.image === undefined || args.image === "") {
        problems.push("image: missing; pass the services image pinned by digest, e.g. ServiceImage.imageRef.");
    } else if (typeof args.image === "string" && imageReferenceProblem(args.image) !== undefined) {
        problems.push(`image: "${args.image}" ${imageReferenceProblem(args.image)}; pass <registry>/<path>@sha256:<64 hex digits>.`);
    }
    if (builderIdProblem(args.builderId) !== undefined) {
        problems.push(`builderId: ${JSON.stringify(args.builderId)} ${builderIdProblem(args.builderId)}; pass the signer's builder id, e.g. "https://github.com/acme/hardened-build-fleet/fleet".`);
    }
    const app = args.githubApp;
    if (app === undefined || !Number.isInteger(app.appId) || app.appId < 1 || !Number.isInteger(app.installationId) || app.installationId < 1) {
        problems.push("githubApp: pass { appId, installationId } as positive integers and privateKeySecret as a Secret Manager secret id.");
    }
    for (const [field, value] of [["githubApp.privateKeySecret", app?.privateKeySecret], ["webhookSecret", args.webhookSecret]] as const) {
        const problem = typeof value === "string" ? secretIdProblem(value) : "is missing";
        if (problem !== undefined) {
            problems.push(`${field}: ${problem}; write the id of a secret created out of band, e.g. "projects/acme-build-signer/secrets/github-app-key".`);
        }
    }
    const github = typeof args.githubConfigUrl === "string" && args.githubConfigUrl !== "" ? readGithubConfigUrl(args.githubConfigUrl) : undefined;
    if (github !== undefined && "problem" in github) {
        problems.push(`githubConfigUrl: "${args.githubConfigUrl}" ${github.problem}; ${github.fix}.`);
    }
    if (args.brokerIngress !== undefined && !["all", "internal"].includes(args.brokerIngress)) {
        problems.push(`brokerIngress: ${JSON.stringify(args.brokerIngress)} must be "all" or "internal".`);
    }
    if (!Array.isArray(args.pools) || args.pools.length === 0) {
        problems.push("pools: empty; pass one { name, runnerMember, image, maxRunDurationSeconds } per runner pool.");
    }
    const seen = new Set<string>();
    (args.pools ?? []).forEach((pool, i) => {
        if (!isGcpName(pool?.name)) {
            problems.push(`pools[${i}].name: ${JSON.stringify(pool?.name)} is not a pool name; use lower-case letters, digits and hyphens.`);
            return;
        }
        if (seen.has(pool.name)) {
            problems.push(`pools[${i}].name: "${pool.name}" appears twice; every pool needs its own intake bucket (I5).`);
        }
        seen.add(pool.name);
        const logical = `${name}-intake-${pool.name}`;
        if (logical.length > MAX_BUCKET_LOGICAL_NAME) {
            problems.push(`pools[${i}].name: bucket name "${logical}" is longer than ${MAX_BUCKET_LOGICAL_NAME} characters; shorten the component or pool name.`);
        }
        if (pool.runnerMember === undefined || pool.runnerMember === "") {
            problems.push(`pools[${i}].runnerMember: missing; pass the pool's runner identity, e.g. RunnerPool.serviceAccountMember.`);
        }
        if ((pool.backend ?? "gce") === "gce" && (pool.instanceGroupManager === undefined || pool.instanceGroupManager === "")) {
            problems.push(`pools[${i}].instanceGroupManager: missing for gce pool "${pool.name}"; pass RunnerPool.gce.instanceGroupManager.name.`);
        }
    });
    const labelled = (args.pools ?? []).filter((p) => isGcpName(p?.name) && (p.backend ?? "gce") === "gce");
    const badGroup = (field: string, value: unknown) => value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 1)
        ? [`${field}: ${JSON.stringify(value)} must be a positive integer runner group id (the Default group is 1).`] : [];
    problems.push(...badGroup("runnerGroupId", args.runnerGroupId));
    labelled.forEach((pool) => {
        const at = `pools[${args.pools.indexOf(pool)}]`;
        if (pool.labels !== undefined && !(Array.isArray(pool.labels) && pool.labels.every((l) => typeof l === "string" && RUNNER_LABEL.test(l)))) {
            problems.push(`${at}.labels: ${JSON.stringify(pool.labels)} must be runner labels (1-100 letters, digits, '.', '_' or '-'), e.g. runnerLabels("${pool.name}", ["gpu"]).`);
        }
        problems.push(...badGroup(`${at}.runnerGroupId`, pool.runnerGroupId));
    });
    const labelSets = labelled.map((p) => ({ name: p.name, labels: Array.isArray(p.labels) ? p.labels : runnerLabels(p.name) }));
    for (const [i, message] of labelSetProblems(labelSets)) {
        problems.push(`pools[${args.pools.indexOf(labelled[i])}].labels: ${message}.`);
    }
    const days = args.intakeRetentionDays;
    if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650)) {
        problems.push(`intakeRetentionDays: ${JSON.stringify(days)} must be an integer between 1 and 3650 (default 7).`);
    }
    if (args.generatorNetwork !== undefined) {
        problems.push(...generatorNetworkProblems(name, args));
    }
    const accountId = args.serviceAccountId ?? serviceAccountIdFor(name, SA_SUFFIX.generator);
    if (!isValidServiceAccountId(accountId)) {
        problems.push(`serviceAccountId: "${accountId}" is not a valid service-account id; use 6-30 lower-case letters, digits and hyphens.`);
    }
    return problems;
}

/** Problems of `generatorNetwork`: its network's own checks under the same field names, its name, its size. */
function generatorNetworkProblems(name: string, args: ControlPlaneArgs): string[] {
    const problems: string[] = [];
    if (args.generatorVpc !== undefined) {
        problems.push("generatorNetwork: set together with generatorVpc; pass one (generatorVpc: the signer's network in a shared project; generatorNetwork: a network of the control plane's own).");
    }
    if (name.length + GENERATOR_NETWORK_SUFFIX.length > MAX_NETWORK_NAME_LENGTH) {
        problems.push(`generatorNetwork: the network "${name}${GENERATOR_NETWORK_SUFFIX}" is longer than ${MAX_NETWORK_NAME_LENGTH} characters; shorten the component name.`);
    }
    const cidr = args.generatorNetwork?.cidr;
    problems.push(...isolatedNetworkArgsProblems({ project: args.project, region: args.region, cidr: cidr as string, role: "control-plane" })
        .filter((p) => p.startsWith("cidr:"))
        .map((p) => `generatorNetwork.${p}`));
    const small = directVpcEgressCidrProblem("generatorNetwork.cidr", cidr, "10.201.0.0/26");
    if (small !== undefined) {
        problems.push(small);
    }
    return problems;
}

/** The provenance generator's email, known before it exists (the account id and project fix it). */
export function generatorEmailFor(name: string, project: string, serviceAccountId?: string): string {
    return `${serviceAccountId ?? serviceAccountIdFor(name, SA_SUFFIX.generator)}@${project}.iam.gserviceaccount.com`;
}

/** A custom-role id (letters, digits, underscores, dots; 3-64) unique per control plane and purpose. */
function workerRoleId(name: string, suffix: string): string {
    const base = `buildFleet_${suffix.replace(/[^A-Za-z0-9]/g, "")}_${name.replace(/[^A-Za-z0-9]/g, "_")}`;
    return base.length <= 64 ? base : `${base.slice(0, 55)}_${crypto.createHash("sha256").update(name).digest("hex").slice(0, 8)}`;
}

/** The grants on one pool's intake bucket. */
export interface IntakeGrants {
    /** The broker's: it signs each job's upload policy for that job's own location. */
    broker: gcp.storage.BucketIAMBinding;
    /** The generator's: it reads what jobs uploaded. */
    generator: gcp.storage.BucketIAMBinding;
    /** @deprecated The identity is the generator's: use `generator`. */
    controlPlane: gcp.storage.BucketIAMBinding;
}

export class ControlPlane extends pulumi.ComponentResource {
    /** The provenance generator's identity: the signer's only invoker. */
    readonly generatorServiceAccount: gcp.serviceaccount.Account;
    readonly generatorServiceAccountEmail: pulumi.Output<string>;
    /** `serviceAccount:<generator email>`: pass to SignerEnclave as its invoker. */
    readonly generatorMember: pulumi.Output<string>;
    /** @deprecated "Control plane" names the zone; the identity is the generator's: use `generatorServiceAccount`. */
    get serviceAccount(): gcp.serviceaccount.Account { return this.generatorServiceAccount; }
    /** @deprecated Use `generatorServiceAccountEmail`. */
    get serviceAccountEmail(): pulumi.Output<string> { return this.generatorServiceAccountEmail; }
    /** @deprecated Use `generatorMember`. */
    get member(): pulumi.Output<string> { return this.generatorMember; }
    /** One identity per service, plus the Pub/Sub push identity. */
    readonly serviceAccounts: Record<ControlPlaneService | "push", gcp.serviceaccount.Account>;
    readonly services: Record<ControlPlaneService, gcp.cloudrunv2.Service>;
    /** Authoritative invoker binding per service (none on the broker when no pool is a gce pool: nobody may call it). */
    readonly invokerBindings: { broker?: gcp.cloudrunv2.ServiceIamBinding; webhook: gcp.cloudrunv2.ServiceIamBinding; generator: gcp.cloudrunv2.ServiceIamBinding };
    /** Intake bucket per pool name. */
    readonly buckets: Record<string, gcp.storage.Bucket>;
    /** Intake bucket name per pool name. */
    readonly intakeBuckets: Record<string, pulumi.Output<string>>;
    /** Per pool: the broker's create grant (token source) and the generator's read grant, both authoritative. */
    readonly intakeGrants: Record<string, IntakeGrants>;
    readonly recordsBucket: gcp.storage.Bucket;
    readonly uploadsTopic: gcp.pubsub.Topic;
    readonly uploadsSubscription: gcp.pubsub.Subscription;
    /** Where notifications the generator never acknowledged end up after the retries (watched by an alert). */
    readonly uploadsDeadLetter: UploadsDeadLetter & { forwarderGrant: gcp.pubsub.SubscriptionIAMBinding };
    readonly secretGrants: { githubAppKey: gcp.secretmanager.SecretIamBinding; webhookSecret: gcp.secretmanager.SecretIamBinding };
    /** Project roles (logging in the control-plane project; the demand metric writer in the worker project). */
    readonly projectRoles: gcp.projects.IAMMember[];
    /** The scale-in custom role in the worker project and its conditioned grant to the webhook receiver (gce pools only). */
    readonly scaleIn?: { role: gcp.projects.IAMCustomRole; grant: gcp.projects.IAMMember };
    /** The membership custom role in the worker project and its conditioned grant to the broker (gce pools only). */
    readonly membership?: { role: gcp.projects.IAMCustomRole; grant: gcp.projects.IAMMember };
    /** The broker's signBlob grant on its own service account (upload policies). */
    readonly selfSignGrant: gcp.serviceaccount.IAMMember;
    readonly brokerUrl: pulumi.Output<string>;
    /** Where GitHub delivers `workflow_job` events (configure it on the GitHub App). */
    readonly webhookUrl: pulumi.Output<string>;
    readonly generatorUrl: pulumi.Output<string>;
    /** The release registry, when `releaseRegistry` is set. */
    readonly releaseRegistry?: ReleaseRegistry;
    /** The generator's own network, when `generatorNetwork` is set. */
    readonly generatorNetwork?: IsolatedNetwork;

    constructor(name: string, args: ControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfProblems("ControlPlane", name, validateControlPlaneArgs(name, args));
        super("hardened-build-fleet:index:ControlPlane", name, {}, opts);
        const child = { parent: this };
        const { project, region } = args;
        const labels = roleLabels("control-plane");
        const names = controlPlaneServiceNames(name);
        const deletionProtection = args.serviceDeletionProtection ?? true;
        const gcePools = args.pools.filter((p) => (p.backend ?? "gce") === "gce");

        // One identity per service; the generator keeps the control plane's former SA (child name and id).
        const account = (role: ControlPlaneService | "push", description: string) => new gcp.serviceaccount.Account(
            role === "generator" ? `${name}-sa` : `${name}-${role}-sa`,
            {
                project,
                accountId: role === "generator" ? args.serviceAccountId ?? serviceAccountIdFor(name, SA_SUFFIX.generator) : serviceAccountIdFor(name, SA_SUFFIX[role]),
                displayName: `Build fleet control plane: ${role}`,
                description,
            },
            child,
        );
        this.serviceAccounts = {
            broker: account("broker", "hardened-build-fleet registration broker: one JIT config per runner VM, job-scoped upload tokens"),
            webhook: account("webhook", "hardened-build-fleet webhook receiver: verified workflow_job events, runner demand, scale-in"),
            generator: account("generator", "hardened-build-fleet provenance generator: reads uploads, computes digests, the signer's only caller (I11)"),
            push: account("push", "hardened-build-fleet Pub/Sub push identity: delivers upload notifications to the generator"),
        };
        const memberOf = (role: ControlPlaneService | "push") => pulumi.interpolate`serviceAccount:${this.serviceAccounts[role].email}`;
        this.generatorServiceAccount = this.serviceAccounts.generator;
        this.generatorServiceAccountEmail = this.generatorServiceAccount.email;
        this.generatorMember = memberOf("generator");

        this.projectRoles = [];
        for (const role of ["broker", "webhook", "generator"] as const) {
            for (const r of CONTROL_PLANE_PROJECT_ROLES) {
                // The generator's grants were the single control-plane SA's (`${name}-<role>`): keep their identity.
                const aliases = role === "generator" ? [{ name: `${name}-${roleShortName(r)}` }] : undefined;
                this.projectRoles.push(new gcp.projects.IAMMember(`${name}-${role}-${roleShortName(r)}`, { project, role: r, member: memberOf(role) }, { ...child, aliases }));
            }
        }
        // The demand metric lives where the autoscalers read it: the worker project. Only the webhook writes it.
        this.projectRoles.push(new gcp.projects.IAMMember(`${name}-webhook-demand-writer`, {
            project: args.workerProject, role: DEMAND_WRITER_ROLE, member: memberOf("webhook"),
        }, child));

        // Intake: one bucket per pool (I5). Nobody in the worker project holds a grant on it.
        this.buckets = {};
        this.intakeBuckets = {};
        this.intakeGrants = {};
        for (const pool of args.pools) {
            const bucket = new gcp.storage.Bucket(`${name}-intake-${pool.name}`, {
                project,
                location: region,
                // Uniform access: IAM only, no object ACL anybody could set; never public.
                uniformBucketLevelAccess: true,
                publicAccessPrevention: "enforced",
                // No versions: nothing a deleted or replaced upload could be recovered from or confused with.
                versioning: { enabled: false },
                lifecycleRules: [{ action: { type: "Delete" }, condition: { age: args.intakeRetentionDays ?? 7 } }],
                forceDestroy: false,
                labels: roleLabels("control-plane", pool.name),
            }, child);
            // I11: AUTHORITATIVE. The broker's create-only role is the ceiling of every job-scoped upload policy it signs.
            const broker = new gcp.storage.BucketIAMBinding(`${name}-intake-${pool.name}-creators`, {
                bucket: bucket.name, role: INTAKE_BROKER_ROLE, members: [memberOf("broker")],
            }, child);
            const generator = new gcp.storage.BucketIAMBinding(`${name}-intake-${pool.name}-readers`, {
                bucket: bucket.name, role: INTAKE_CONTROL_PLANE_ROLE, members: [memberOf("generator")],
            }, child);
            this.buckets[pool.name] = bucket;
            this.intakeBuckets[pool.name] = bucket.name;
            this.intakeGrants[pool.name] = { broker, generator, controlPlane: generator };
        }

        // Facts the control plane observed itself: registrations (broker) and workflow_job events (webhook).
        this.recordsBucket = new gcp.storage.Bucket(`${name}-records`, {
            project,
            location: region,
            uniformBucketLevelAccess: true,
            publicAccessPrevention: "enforced",
            versioning: { enabled: true },
            forceDestroy: false,
            labels,
        }, child);
        new gcp.storage.BucketIAMBinding(`${name}-records-writers`, {
            bucket: this.recordsBucket.name, role: RECORDS_WRITER_ROLE, members: [memberOf("broker"), memberOf("webhook")],
        }, child);
        new gcp.storage.BucketIAMBinding(`${name}-records-readers`, {
            bucket: this.recordsBucket.name, role: RECORDS_READER_ROLE, members: [memberOf("broker"), memberOf("webhook"), memberOf("generator")],
        }, child);
        // Pending markers index the work still to do and are deleted once it is done, so passes read only
        // that (services/controlPlane/records.ts). Deletion is granted under `pending/` only: the facts stay create-only.
        new gcp.storage.BucketIAMBinding(`${name}-records-pending`, {
            bucket: this.recordsBucket.name, role: RECORDS_PENDING_ROLE, members: [memberOf("webhook"), memberOf("generator")],
            condition: {
                title: "pending-markers-only",
                description: "Create and delete pending markers, nothing else",
                expression: pulumi.interpolate`resource.name.startsWith("projects/_/buckets/${this.recordsBucket.name}/objects/pending/")`,
            },
        }, child);

        // Secrets by reference: created out of band, only their ids pass through Pulumi. The App key: the broker
        // (JIT configs) and the webhook receiver (reconciling demand against the GitHub API, because deliveries get
        // lost); never the generator. The webhook secret: the webhook receiver only.
        this.secretGrants = {
            githubAppKey: new gcp.secretmanager.SecretIamBinding(`${name}-github-app-key-accessor`, {
                secretId: args.githubApp.privateKeySecret, role: SECRET_ACCESSOR_ROLE, members: [memberOf("broker"), memberOf("webhook")],
            }, child),
            webhookSecret: new gcp.secretmanager.SecretIamBinding(`${name}-webhook-secret-accessor`, {
                secretId: args.webhookSecret, role: SECRET_ACCESSOR_ROLE, members: [memberOf("webhook")],
            }, child),
        };

        const poolSpecs = pulumi.all(gcePools.map((p) => pulumi.all([p.instanceGroupManager as pulumi.Input<string>, this.intakeBuckets[p.name], p.serviceAccountEmail !== undefined ? `serviceAccount:${p.serviceAccountEmail}` : pulumi.output(p.runnerMember), args.workerProject, region, p.image])
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
                project, region, serviceName: names[role], service: role, serviceAccountEmail: this.serviceAccounts[role].email,
                image: args.image, ingress, envs, deletionProtection, ...extra,
            }, { ...child, dependsOn: role === "generator" ? [] : [this.secretGrants.githubAppKey, ...(role === "webhook" ? [this.secretGrants.webhookSecret] : [])] });

        const env = SERVICE_ENV;
        // A control plane in a project of its own: the generator leaves through a network of that project in which
        // run.app resolves to the restricted VIP; with both projects in one enforced perimeter, the signer counts it internal.
        if (args.generatorNetwork !== undefined) {
            this.generatorNetwork = new IsolatedNetwork(`${name}${GENERATOR_NETWORK_SUFFIX}`, {
                project, region, cidr: args.generatorNetwork.cidr, role: "control-plane", restrictedGoogleDomains: ["run.app"],
            }, child);
        }
        const generatorVpc = this.generatorNetwork !== undefined
            ? { network: this.generatorNetwork.networkId, subnetwork: this.generatorNetwork.subnetId }
            : args.generatorVpc;
        if (args.releaseRegistry === true) {
            this.releaseRegistry = createReleaseRegistry(name, { project, region, publisher: memberOf("generator") }, child);
        }
        const target = githubTargetOf(args.githubConfigUrl) as NonNullable<ReturnType<typeof githubTargetOf>>;
        const records = { name: env.shared.recordsBucket, value: this.recordsBucket.name };
        // The GitHub App as the broker and the webhook receiver use it: ids, the key by secret version, the target.
        const github = [
            { name: env.shared.githubApiUrl, value: target.apiUrl },
            { name: env.shared.githubOrg, value: target.org },
            ...(target.repository !== undefined ? [{ name: env.shared.githubRepository, value: target.repository }] : []),
            { name: env.shared.appId, value: String(args.githubApp.appId) },
            { name: env.shared.installationId, value: String(args.githubApp.installationId) },
            { name: env.shared.privateKeySecret, value: latestVersionOf(args.githubApp.privateKeySecret) },
        ];
        this.services = {
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
                ...(this.releaseRegistry !== undefined ? [{ name: env.generator.releaseRegistry, value: this.releaseRegistry.address }] : []),
                { name: env.generator.url, value: generatorAudience },
                { name: env.generator.pools, value: poolSpecs },
                records,
                { name: env.generator.pushServiceAccount, value: this.serviceAccounts.push.email },
                { name: env.generator.signerUrl, value: args.signerUrl },
                { name: env.generator.builderId, value: args.builderId },
                { name: env.shared.githubServerUrl, value: target.serverUrl },
            ], { vpc: generatorVpc }),
        };

        // The broker signs upload policies with its own identity (IAM signBlob on itself, nothing else).
        this.selfSignGrant = new gcp.serviceaccount.IAMMember(`${name}-broker-self-sign`, {
            serviceAccountId: this.serviceAccounts.broker.name, role: SELF_SIGN_ROLE, member: memberOf("broker"),
        }, child);

        // Invokers, AUTHORITATIVE per service:
        // - broker: the gce pools' runner identities only (their VM identity token is also the Cloud Run credential);
        // - webhook: allUsers, the one deliberate exception: GitHub cannot present a Google identity, so each
        //   delivery is authenticated by its HMAC signature with the webhook secret, and refused otherwise;
        // - generator: the Pub/Sub push identity only.
        const invoker = (role: ControlPlaneService, members: pulumi.Input<string>[]) => new gcp.cloudrunv2.ServiceIamBinding(`${name}-${role}-invokers`, {
            project, location: this.services[role].location, name: this.services[role].name, role: INVOKER_ROLE, members,
        }, child);
        this.invokerBindings = {
            broker: gcePools.length > 0 ? invoker("broker", gcePools.map((p) => p.runnerMember)) : undefined,
            webhook: invoker("webhook", [PUBLIC_INVOKER]),
            generator: invoker("generator", [memberOf("push")]),
        };

        // Upload notifications: GCS -> Pub/Sub (control-plane project) -> authenticated push to the generator.
        // Runners hold nothing on the topic or the subscription; only the project's GCS service agent publishes.
        this.uploadsTopic = new gcp.pubsub.Topic(`${name}-uploads`, { project, labels }, child);
        const gcsAgent = gcp.storage.getProjectServiceAccountOutput({ project }, child);
        const publisher = new gcp.pubsub.TopicIAMBinding(`${name}-uploads-publishers`, {
            project, topic: this.uploadsTopic.name, role: PUBLISHER_ROLE, members: [pulumi.interpolate`serviceAccount:${gcsAgent.emailAddress}`],
        }, child);
        for (const pool of args.pools) {
            new gcp.storage.Notification(`${name}-intake-${pool.name}-notify`, {
                bucket: this.buckets[pool.name].name,
                topic: this.uploadsTopic.id,
                payloadFormat: "JSON_API_V1",
                eventTypes: ["OBJECT_FINALIZE"],
            }, { ...child, dependsOn: [publisher] });
        }
        this.generatorUrl = this.services.generator.uri;
        const deadLetter = createUploadsDeadLetter(`${name}-uploads`, project, labels, this);
        this.uploadsSubscription = new gcp.pubsub.Subscription(`${name}-uploads-push`, {
            project,
            topic: this.uploadsTopic.name,
            ackDeadlineSeconds: 60,
            messageRetentionDuration: "604800s",
            retryPolicy: { minimumBackoff: "10s", maximumBackoff: "600s" },
            deadLetterPolicy: deadLetterPolicy(deadLetter),
            pushConfig: {
                pushEndpoint: pulumi.interpolate`${this.generatorUrl}${NOTIFICATION_PATH}`,
                oidcToken: { serviceAccountEmail: this.serviceAccounts.push.email, audience: generatorAudience },
            },
            labels,
        }, { ...child, dependsOn: [this.invokerBindings.generator, deadLetter.publisherGrant] });
        this.uploadsDeadLetter = { ...deadLetter, forwarderGrant: grantDeadLetterForwarding(`${name}-uploads-push`, this.uploadsSubscription, deadLetter, this) };

        // In the worker project, conditioned on the fleet's runner MIGs (and, for scale-in, their VMs) only:
        // - membership (broker): list a MIG's instances, to check that a registering VM belongs to its pool,
        //   and read that VM and its boot disk, for the image it booted;
        // - scale-in (webhook receiver): the autoscalers only scale out; it deletes a finished runner's VM.
        if (gcePools.length > 0) {
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
                    project: args.workerProject, role: custom.name, member: memberOf(role),
                    condition: { title: "fleet-runner-migs-only", description: "Only the fleet's runner MIGs (and their VMs)", expression },
                }, child);
                return { role: custom, grant };
            };
            this.membership = workerRole("membership", "Build fleet MIG membership", "List the instances of the fleet's runner MIGs and read their boot image; nothing else.",
                MEMBERSHIP_PERMISSIONS, "broker", migNames.apply((m) => [...m, ...vms, ...disks].join(" || ")));
            this.scaleIn = workerRole("scale-in", "Build fleet scale-in", "Delete a finished runner VM from its pool's managed instance group; nothing else.",
                SCALE_IN_PERMISSIONS, "webhook", migNames.apply((m) => [...m, ...vms].join(" || ")));
        }

        this.brokerUrl = this.services.broker.uri;
        this.webhookUrl = pulumi.interpolate`${this.services.webhook.uri}${WEBHOOK_PATH}`;
        this.registerOutputs({
            generatorServiceAccountEmail: this.generatorServiceAccountEmail,
            generatorMember: this.generatorMember,
            intakeBuckets: this.intakeBuckets,
            brokerUrl: this.brokerUrl,
            webhookUrl: this.webhookUrl,
            generatorUrl: this.generatorUrl,
            releaseRegistry: this.releaseRegistry?.address,
        });
    }
}
