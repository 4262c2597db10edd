/**
 * How the dashboard and the alert policies name what they read: Cloud Monitoring filters for the
 * services' OpenTelemetry instruments (`workload.googleapis.com/<name>` on `generic_task`), the demand
 * metric the autoscalers read, Pub/Sub's own subscription metrics and the MIG size; and their PromQL
 * names, for the conditions that compare two metrics.
 */
import { DEFAULT_DEMAND_METRIC } from "../runnerPool/gce";
import { METRIC_NAMESPACE, metricType, MetricKey } from "../../services/lib/ops/metricNames";

export { DEFAULT_DEMAND_METRIC as DEMAND_METRIC };
export const DEAD_LETTER_BACKLOG_METRIC = "pubsub.googleapis.com/subscription/num_undelivered_messages";
export const DEAD_LETTERED_METRIC = "pubsub.googleapis.com/subscription/dead_letter_message_count";
export const MIG_SIZE_METRIC = "compute.googleapis.com/instance_group/size";

/** `"a"` quoted for a filter or a PromQL label matcher. */
const q = (value: string) => JSON.stringify(value);

/** Filter of one service instrument, optionally narrowed by metric labels. */
export function serviceFilter(key: MetricKey, labels: Record<string, string> = {}): string {
    return [
        `metric.type = ${q(metricType(key))}`,
        `resource.type = "generic_task"`,
        `resource.label.namespace = ${q(METRIC_NAMESPACE)}`,
        ...Object.entries(labels).map(([k, v]) => `metric.label.${k} = ${q(v)}`),
    ].join(" AND ");
}

/** Filter of the runner demand (resource `global`), of one pool or all. */
export function demandFilter(pool?: string): string {
    return [`metric.type = ${q(DEFAULT_DEMAND_METRIC)}`, `resource.type = "global"`, ...(pool !== undefined ? [`metric.label.pool = ${q(pool)}`] : [])].join(" AND ");
}

/** Filter of a Pub/Sub subscription metric. */
export function subscriptionFilter(metric: string, subscription: string): string {
    return `metric.type = ${q(metric)} AND resource.type = "pubsub_subscription" AND resource.label.subscription_id = ${q(subscription)}`;
}

/**
 * The PromQL name of a Cloud Monitoring metric type: the domain's dots become underscores, the first
 * slash a colon, and every other character that is not a letter, digit or underscore an underscore.
 */
export function promName(metric: string): string {
    const slash = metric.indexOf("/");
    return `${metric.slice(0, slash).replace(/\./g, "_")}:${metric.slice(slash + 1).replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/** A PromQL selector of a service instrument. */
export function servicePromSelector(key: MetricKey): string {
    return `${promName(metricType(key))}{monitored_resource="generic_task",namespace=${q(METRIC_NAMESPACE)}}`;
}
