/**
 * The dead-letter path of the upload notifications. Pub/Sub retries a push that the generator does not
 * acknowledge (any answer but 2xx) with backoff; after `UPLOADS_MAX_DELIVERY_ATTEMPTS` it forwards the message
 * to the dead-letter topic instead of retrying it until retention runs out, so a poison message stops
 * costing pushes and shows up in one place (an alert watches the dead-letter subscription).
 *
 * Pub/Sub forwards as its own service agent (`service-<project number>@gcp-sa-pubsub`), which needs to
 * publish to the dead-letter topic and to subscribe to the source subscription (to acknowledge what it
 * forwarded). Both grants are authoritative: nobody else may publish a fake dead letter or pull (steal)
 * upload notifications from the push subscription.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

/**
 * Pushes per notification before it is dead-lettered. With the push backoff (10 s doubling to 600 s) that is
 * about 1.5 hours of retries: longer than a signer or storage outage the services ride out, short enough
 * that a poison message surfaces the same working day.
 */
export const UPLOADS_MAX_DELIVERY_ATTEMPTS = 15;
/** How long dead letters are kept for an operator to inspect and republish (Pub/Sub's maximum, 7 days). */
export const DEAD_LETTER_RETENTION = "604800s";
export const SUBSCRIBER_ROLE = "roles/pubsub.subscriber";
export const DEAD_LETTER_PUBLISHER_ROLE = "roles/pubsub.publisher";

/** `serviceAccount:` member of a project's Pub/Sub service agent. */
export function pubsubAgentMember(project: pulumi.Input<string>, opts: pulumi.InvokeOutputOptions): pulumi.Output<string> {
    return gcp.organizations.getProjectOutput({ projectId: project }, opts).number
        .apply((n) => `serviceAccount:service-${n}@gcp-sa-pubsub.iam.gserviceaccount.com`);
}

export interface UploadsDeadLetter {
    /** Where Pub/Sub forwards notifications the generator never acknowledged. */
    topic: gcp.pubsub.Topic;
    /** Pull subscription that keeps the dead letters (never expires) for inspection and republishing. */
    subscription: gcp.pubsub.Subscription;
    /** The Pub/Sub service agent's publisher grant on the dead-letter topic (authoritative). */
    publisherGrant: gcp.pubsub.TopicIAMBinding;
    /** The Pub/Sub service agent, which forwards dead letters. */
    agentMember: pulumi.Output<string>;
}

/** The dead-letter topic, its keeping subscription and the agent's publisher grant of a push subscription named `name`. */
export function createUploadsDeadLetter(name: string, project: pulumi.Input<string>, labels: Record<string, string>, parent: pulumi.Resource): UploadsDeadLetter {
    const child = { parent };
    const topic = new gcp.pubsub.Topic(`${name}-dead-letter`, { project, labels }, child);
    const agentMember = pubsubAgentMember(project, child);
    const publisherGrant = new gcp.pubsub.TopicIAMBinding(`${name}-dead-letter-publishers`, {
        project, topic: topic.name, role: DEAD_LETTER_PUBLISHER_ROLE, members: [agentMember],
    }, child);
    const subscription = new gcp.pubsub.Subscription(`${name}-dead-letter`, {
        project,
        topic: topic.name,
        ackDeadlineSeconds: 60,
        messageRetentionDuration: DEAD_LETTER_RETENTION,
        // An unread subscription expires after 31 days by default; the dead letters' must outlive quiet months.
        expirationPolicy: { ttl: "" },
        labels,
    }, child);
    return { topic, subscription, publisherGrant, agentMember };
}

/** The subscription's `deadLetterPolicy` for a dead-letter path. */
export function deadLetterPolicy(deadLetter: UploadsDeadLetter): gcp.types.input.pubsub.SubscriptionDeadLetterPolicy {
    return { deadLetterTopic: deadLetter.topic.id, maxDeliveryAttempts: UPLOADS_MAX_DELIVERY_ATTEMPTS };
}

/** The agent's subscriber grant on the source subscription: it acknowledges each message it forwarded. */
export function grantDeadLetterForwarding(name: string, subscription: gcp.pubsub.Subscription, deadLetter: UploadsDeadLetter, parent: pulumi.Resource): gcp.pubsub.SubscriptionIAMBinding {
    return new gcp.pubsub.SubscriptionIAMBinding(`${name}-forwarders`, {
        project: subscription.project, subscription: subscription.name, role: SUBSCRIBER_ROLE, members: [deadLetter.agentMember],
    }, { parent });
}
