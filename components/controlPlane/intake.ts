/**
 * Where jobs' uploads land and what the control plane records (I5, I11): one intake bucket per pool, with the
 * broker's create-only grant (the ceiling of the upload policies it signs) and the generator's read grant; the
 * records bucket of registrations and job facts; and the upload notifications (GCS -> Pub/Sub -> authenticated
 * push to the generator). Runners hold no grant on any of it. Used by `ControlPlane` (index.ts).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { roleLabels } from "../labels";
import type { ControlPlanePoolArgs } from "./args";
import { createUploadsDeadLetter, deadLetterPolicy, grantDeadLetterForwarding, UploadsDeadLetter } from "./deadLetter";
import type { ControlPlaneIdentities } from "./identities";
import { NOTIFICATION_PATH } from "./services";

/** The broker's role on every intake bucket: the ceiling of the job-scoped upload policies it signs (create only). */
export const INTAKE_BROKER_ROLE = "roles/storage.objectCreator";
/** The generator's role on every intake bucket: read the uploads and compute their digests. */
export const INTAKE_GENERATOR_ROLE = "roles/storage.objectViewer";
/** @deprecated The identity is the generator's: use `INTAKE_GENERATOR_ROLE`. */
export const INTAKE_CONTROL_PLANE_ROLE = INTAKE_GENERATOR_ROLE;
/** Roles on the records bucket (registrations, job facts): broker and webhook create and read; the generator reads. */
export const RECORDS_WRITER_ROLE = "roles/storage.objectCreator";
export const RECORDS_READER_ROLE = "roles/storage.objectViewer";
/** Pending markers (under `pending/` only, by IAM condition): the webhook and the generator create and delete them. */
export const RECORDS_PENDING_ROLE = "roles/storage.objectUser";
/** The GCS service agent's role on the uploads topic: publish finalize notifications. */
export const PUBLISHER_ROLE = "roles/pubsub.publisher";

/** The grants on one pool's intake bucket. */
export interface IntakeGrants {
    /** The broker's: it signs each job's upload policy for that job's own location. */
    broker: gcp.storage.BucketIAMBinding;
    /** The generator's: it reads what jobs uploaded. */
    generator: gcp.storage.BucketIAMBinding;
    /** @deprecated The identity is the generator's: use `generator`. */
    controlPlane: gcp.storage.BucketIAMBinding;
}

export interface Intake {
    /** Intake bucket per pool name. */
    buckets: Record<string, gcp.storage.Bucket>;
    /** Intake bucket name per pool name. */
    intakeBuckets: Record<string, pulumi.Output<string>>;
    intakeGrants: Record<string, IntakeGrants>;
    recordsBucket: gcp.storage.Bucket;
}

/** The intake buckets (one per pool, I5) and the records bucket, with their authoritative grants. */
export function createIntake(
    name: string, args: { project: pulumi.Input<string>; region: pulumi.Input<string>; pools: ControlPlanePoolArgs[]; intakeRetentionDays?: number }, ids: ControlPlaneIdentities, parent: pulumi.Resource,
): Intake {
    const child = { parent };
    const { project, region } = args;
    const labels = roleLabels("control-plane");
    // Nobody in the worker project holds a grant on an intake bucket.
    const buckets: Record<string, gcp.storage.Bucket> = {};
    const intakeBuckets: Record<string, pulumi.Output<string>> = {};
    const intakeGrants: Record<string, IntakeGrants> = {};
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
            bucket: bucket.name, role: INTAKE_BROKER_ROLE, members: [ids.memberOf("broker")],
        }, child);
        const generator = new gcp.storage.BucketIAMBinding(`${name}-intake-${pool.name}-readers`, {
            bucket: bucket.name, role: INTAKE_GENERATOR_ROLE, members: [ids.memberOf("generator")],
        }, child);
        buckets[pool.name] = bucket;
        intakeBuckets[pool.name] = bucket.name;
        intakeGrants[pool.name] = { broker, generator, controlPlane: generator };
    }


    // Facts the control plane observed itself: registrations (broker) and workflow_job events (webhook).
    const recordsBucket = new gcp.storage.Bucket(`${name}-records`, {
        project,
        location: region,
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        versioning: { enabled: true },
        forceDestroy: false,
        labels,
    }, child);
    new gcp.storage.BucketIAMBinding(`${name}-records-writers`, {
        bucket: recordsBucket.name, role: RECORDS_WRITER_ROLE, members: [ids.memberOf("broker"), ids.memberOf("webhook")],
    }, child);
    new gcp.storage.BucketIAMBinding(`${name}-records-readers`, {
        bucket: recordsBucket.name, role: RECORDS_READER_ROLE, members: [ids.memberOf("broker"), ids.memberOf("webhook"), ids.memberOf("generator")],
    }, child);
    // Pending markers index the work still to do and are deleted once it is done, so passes read only
    // that (services/controlPlane/records.ts). Deletion is granted under `pending/` only: the facts stay create-only.
    new gcp.storage.BucketIAMBinding(`${name}-records-pending`, {
        bucket: recordsBucket.name, role: RECORDS_PENDING_ROLE, members: [ids.memberOf("webhook"), ids.memberOf("generator")],
        condition: {
            title: "pending-markers-only",
            description: "Create and delete pending markers, nothing else",
            expression: pulumi.interpolate`resource.name.startsWith("projects/_/buckets/${recordsBucket.name}/objects/pending/")`,
        },
    }, child);
    return { buckets, intakeBuckets, intakeGrants, recordsBucket };
}

export interface UploadPush {
    topic: gcp.pubsub.Topic;
    subscription: gcp.pubsub.Subscription;
    /** Where notifications the generator never acknowledged end up after the retries (watched by an alert). */
    deadLetter: UploadsDeadLetter & { forwarderGrant: gcp.pubsub.SubscriptionIAMBinding };
}

/**
 * Upload notifications: GCS -> Pub/Sub (control-plane project) -> authenticated push to the generator, after
 * its invoker binding names the push identity. Runners hold nothing on the topic or the subscription; only the
 * project's GCS service agent publishes.
 */
export function createUploadPush(name: string, args: {
    project: pulumi.Input<string>;
    buckets: Record<string, gcp.storage.Bucket>;
    generatorUrl: pulumi.Input<string>;
    generatorAudience: pulumi.Input<string>;
    pushServiceAccountEmail: pulumi.Input<string>;
    generatorInvokers: pulumi.Resource;
}, parent: pulumi.Resource): UploadPush {
    const child = { parent };
    const project = args.project;
    const labels = roleLabels("control-plane");
    const topic = new gcp.pubsub.Topic(`${name}-uploads`, { project, labels }, child);
    const gcsAgent = gcp.storage.getProjectServiceAccountOutput({ project }, child);
    const publisher = new gcp.pubsub.TopicIAMBinding(`${name}-uploads-publishers`, {
        project, topic: topic.name, role: PUBLISHER_ROLE, members: [pulumi.interpolate`serviceAccount:${gcsAgent.emailAddress}`],
    }, child);
    for (const [pool, bucket] of Object.entries(args.buckets)) {
        new gcp.storage.Notification(`${name}-intake-${pool}-notify`, {
            bucket: bucket.name,
            topic: topic.id,
            payloadFormat: "JSON_API_V1",
            eventTypes: ["OBJECT_FINALIZE"],
        }, { ...child, dependsOn: [publisher] });
    }
    const deadLetter = createUploadsDeadLetter(`${name}-uploads`, project, labels, parent);
    const subscription = new gcp.pubsub.Subscription(`${name}-uploads-push`, {
        project,
        topic: topic.name,
        ackDeadlineSeconds: 60,
        messageRetentionDuration: "604800s",
        retryPolicy: { minimumBackoff: "10s", maximumBackoff: "600s" },
        deadLetterPolicy: deadLetterPolicy(deadLetter),
        pushConfig: {
            pushEndpoint: pulumi.interpolate`${args.generatorUrl}${NOTIFICATION_PATH}`,
            oidcToken: { serviceAccountEmail: args.pushServiceAccountEmail, audience: args.generatorAudience },
        },
        labels,
    }, { ...child, dependsOn: [args.generatorInvokers, deadLetter.publisherGrant] });
    const forwarderGrant = grantDeadLetterForwarding(`${name}-uploads-push`, subscription, deadLetter, parent);
    return { topic, subscription, deadLetter: { ...deadLetter, forwarderGrant } };
}
