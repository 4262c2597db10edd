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
 *
 * Files: args.ts (arguments), validate.ts (every problem in one pass), identities.ts (service accounts and
 * their grants), intake.ts (intake and records buckets, upload notifications and their dead letters, with
 * deadLetter.ts), services.ts (the Cloud Run
 * services and their invokers), releaseRegistry.ts; this file composes them.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { throwIfProblems } from "../config/issues";
import { IsolatedNetwork } from "../isolatedNetwork";
import type { ControlPlaneArgs } from "./args";
import {
    ControlPlaneIdentity, createIdentities, createSecretGrants, createSelfSignGrant, createWorkerRoles, SecretGrants, WorkerRole,
} from "./identities";
import { createIntake, createUploadPush, IntakeGrants, UploadPush } from "./intake";
import { createReleaseRegistry, ReleaseRegistry } from "./releaseRegistry";
import { ControlPlaneService, ControlPlaneServices, createControlPlaneServices, WEBHOOK_PATH } from "./services";
import { GENERATOR_NETWORK_SUFFIX, validateControlPlaneArgs } from "./validate";

export type { ControlPlaneArgs, ControlPlanePoolArgs, ControlPlaneService } from "./args";
export {
    CONTROL_PLANE_PROJECT_ROLES, DEMAND_WRITER_ROLE, generatorEmailFor, MEMBERSHIP_PERMISSIONS, SCALE_IN_PERMISSIONS, SECRET_ACCESSOR_ROLE, SELF_SIGN_ROLE,
} from "./identities";
export {
    INTAKE_BROKER_ROLE, INTAKE_CONTROL_PLANE_ROLE, INTAKE_GENERATOR_ROLE, PUBLISHER_ROLE, RECORDS_PENDING_ROLE, RECORDS_READER_ROLE, RECORDS_WRITER_ROLE,
} from "./intake";
export type { IntakeGrants } from "./intake";
export { controlPlaneServiceNames, PUBLIC_INVOKER } from "./services";
export { validateControlPlaneArgs } from "./validate";

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
    readonly serviceAccounts: Record<ControlPlaneIdentity, gcp.serviceaccount.Account>;
    readonly services: Record<ControlPlaneService, gcp.cloudrunv2.Service>;
    /** Authoritative invoker binding per service (none on the broker when no pool is a gce pool: nobody may call it). */
    readonly invokerBindings: ControlPlaneServices["invokerBindings"];
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
    readonly uploadsDeadLetter: UploadPush["deadLetter"];
    readonly secretGrants: SecretGrants;
    /** Project roles (logging in the control-plane project; the demand metric writer in the worker project). */
    readonly projectRoles: gcp.projects.IAMMember[];
    /** The scale-in custom role in the worker project and its conditioned grant to the webhook receiver (gce pools only). */
    readonly scaleIn?: WorkerRole;
    /** The membership custom role in the worker project and its conditioned grant to the broker (gce pools only). */
    readonly membership?: WorkerRole;
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

        const ids = createIdentities(name, { project, workerProject: args.workerProject, serviceAccountId: args.serviceAccountId }, this);
        this.serviceAccounts = ids.serviceAccounts;
        this.projectRoles = ids.projectRoles;
        this.generatorServiceAccount = this.serviceAccounts.generator;
        this.generatorServiceAccountEmail = this.generatorServiceAccount.email;
        this.generatorMember = ids.memberOf("generator");

        const intake = createIntake(name, { project, region, pools: args.pools, intakeRetentionDays: args.intakeRetentionDays }, ids, this);
        this.buckets = intake.buckets;
        this.intakeBuckets = intake.intakeBuckets;
        this.intakeGrants = intake.intakeGrants;
        this.recordsBucket = intake.recordsBucket;
        this.secretGrants = createSecretGrants(name, { githubAppKey: args.githubApp.privateKeySecret, webhookSecret: args.webhookSecret }, ids, this);

        // A control plane in a project of its own: the generator leaves through a network of that project in which
        // run.app resolves to the restricted VIP; with both projects in one enforced perimeter, the signer counts it internal.
        if (args.generatorNetwork !== undefined) {
            this.generatorNetwork = new IsolatedNetwork(`${name}${GENERATOR_NETWORK_SUFFIX}`, {
                project, region, cidr: args.generatorNetwork.cidr, role: "control-plane", restrictedGoogleDomains: ["run.app"],
            }, child);
        }
        if (args.releaseRegistry === true) {
            this.releaseRegistry = createReleaseRegistry(name, { project, region, publisher: ids.memberOf("generator") }, child);
        }
        const wired = createControlPlaneServices(name, args, {
            ids,
            secretGrants: this.secretGrants,
            recordsBucket: this.recordsBucket,
            intakeBuckets: this.intakeBuckets,
            generatorVpc: this.generatorNetwork !== undefined
                ? { network: this.generatorNetwork.networkId, subnetwork: this.generatorNetwork.subnetId }
                : args.generatorVpc,
            releaseRegistry: this.releaseRegistry,
        }, this);
        this.services = wired.services;
        this.invokerBindings = wired.invokerBindings;
        this.selfSignGrant = createSelfSignGrant(name, ids, this);

        this.generatorUrl = this.services.generator.uri;
        const push = createUploadPush(name, {
            project,
            buckets: this.buckets,
            generatorUrl: this.generatorUrl,
            generatorAudience: wired.generatorAudience,
            pushServiceAccountEmail: this.serviceAccounts.push.email,
            generatorInvokers: this.invokerBindings.generator,
        }, this);
        this.uploadsTopic = push.topic;
        this.uploadsSubscription = push.subscription;
        this.uploadsDeadLetter = push.deadLetter;

        const gcePools = args.pools.filter((p) => (p.backend ?? "gce") === "gce");
        if (gcePools.length > 0) {
            const worker = createWorkerRoles(name, { workerProject: args.workerProject, region, gcePools }, ids, this);
            this.membership = worker.membership;
            this.scaleIn = worker.scaleIn;
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
