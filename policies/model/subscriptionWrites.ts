/**
 * Pub/Sub subscriptions that write: a Cloud Storage subscription writes each message as an object
 * into the bucket it names, a BigQuery subscription as a row into the table it names, both as the
 * identity it names (else the Pub/Sub service agent). The content is whatever a publisher to the
 * topic chose, so each is a grant to every publisher: to write as that identity, into that place.
 * Read once per model.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { get, unknown } from "./props";
import { depsOf, resolveRef } from "./lookup";
import { roleOf } from "./labels";
import { Principal, T } from "./types";
import type { FleetGraph } from "./index";

export const SUBSCRIPTION = "gcp:pubsub/subscription:Subscription";

export interface SubscriptionWrite {
    res: PolicyResource;
    /** "Cloud Storage" or "BigQuery". */
    kind: string;
    /** The identity it writes as (`serviceAccountEmail`); empty: the Pub/Sub service agent. */
    identities: Principal[];
    /** True when the identity is unknown during a preview and depends on no service account. */
    identityUnknown: boolean;
    /** Buckets of the stack it writes into (Cloud Storage). */
    buckets: PolicyResource[];
    /** True when the bucket is unknown during a preview and depends on no bucket. */
    bucketUnknown: boolean;
    /** The literal destination, for messages. */
    destination: string;
    /**
     * True when its topic is a platform topic of the stack (labelled control-plane or signer): who
     * publishes there is runner-least-privilege's to keep to the platform.
     */
    platformTopic: boolean;
}

const TOPIC = "gcp:pubsub/topic:Topic";

const cache = new WeakMap<FleetGraph, SubscriptionWrite[]>();

/** Other resources that put objects into a bucket they name: Storage Transfer jobs and objects the stack uploads itself. */
const MOVERS: { type: string; path: string[]; kind: string }[] = [
    { type: "gcp:storage/transferJob:TransferJob", path: ["transferSpec", "gcsDataSink", "bucketName"], kind: "Storage Transfer job" },
    { type: "gcp:storage/bucketObject:BucketObject", path: ["bucket"], kind: "bucket object" },
];

/** Buckets of the stack that a data mover (transfer job, uploaded object) writes into. */
export function bucketMoves(g: FleetGraph): { res: PolicyResource; kind: string; buckets: PolicyResource[]; unknown: boolean }[] {
    return MOVERS.flatMap((m) => g.of(m.type).map((r) => {
        const res = resolveRef(r, m.path[0], get(g.props(r), ...m.path), [T.bucket], (ref) => g.findBuckets(ref.replace(/^gs:\/\//, "")));
        return { res: r, kind: m.kind, buckets: res.found, unknown: res.unknown };
    }));
}

export function subscriptionWrites(g: FleetGraph): SubscriptionWrite[] {
    let out = cache.get(g);
    if (out) {
        return out;
    }
    out = [];
    for (const r of g.of(SUBSCRIPTION)) {
        const props = g.props(r);
        const topicRef = get(props, "topic");
        const topics = depsOf(r, "topic", [TOPIC]).concat(typeof topicRef === "string" && !unknown(topicRef)
            ? g.of(TOPIC).filter((t) => [get(g.props(t), "name"), get(g.props(t), "id")].some((v) => typeof v === "string" && (v === topicRef || topicRef.endsWith(`/topics/${v}`))))
            : []);
        const platformTopic = topics.length > 0 && topics.every((t) => {
            const role = roleOf(t.type, g.props(t));
            return role === "control-plane" || role === "signer";
        });
        for (const [prop, kind, dest] of [["cloudStorageConfig", "Cloud Storage", "bucket"], ["bigqueryConfig", "BigQuery", "table"]] as const) {
            const cfg = get(props, prop);
            if (cfg === undefined || cfg === null) {
                continue;
            }
            const email = get(cfg, "serviceAccountEmail");
            const ids = email === undefined || email === null || email === "" ? { ids: [], unknown: false } : g.identitiesOf(r, prop, email);
            const where = get(cfg, dest);
            const bucket = kind === "Cloud Storage" ? resolveRef(r, prop, where, [T.bucket], (ref) => g.findBuckets(ref.replace(/^gs:\/\//, ""))) : { found: [], unknown: false };
            out.push({
                res: r, kind, identities: ids.ids, identityUnknown: ids.unknown, buckets: bucket.found, bucketUnknown: bucket.unknown,
                destination: unknown(where) ? `a ${dest} unknown until apply` : `${dest} ${String(where)}`, platformTopic,
            });
        }
    }
    cache.set(g, out);
    return out;
}
