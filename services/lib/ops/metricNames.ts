/**
 * The names of every metric the services record, and their labels: a contract with the dashboards
 * and alert policies built on them (docs/operations.md lists the same table; a test keeps both equal).
 * Cloud Monitoring sees each as `workload.googleapis.com/<name>` on a `generic_task` resource.
 * This module imports nothing, so components can read the names without loading the services.
 */

/** The Cloud Monitoring type prefix the OpenTelemetry exporter writes under (its default). */
export const METRIC_TYPE_PREFIX = "workload.googleapis.com";

/** The `namespace` label of the `generic_task` resource every service reports under. */
export const METRIC_NAMESPACE = "hardened-build-fleet";

export type MetricKind = "gauge" | "counter" | "histogram";

export interface MetricSpec {
    name: string;
    kind: MetricKind;
    unit: string;
    labels: readonly string[];
    /** The services that record it (the `job` label of the resource). */
    services: readonly ("broker" | "webhook" | "generator" | "signer")[];
    description: string;
}

const ALL = ["broker", "webhook", "generator", "signer"] as const;

export const METRICS = {
    jobsQueued: { name: "hardened_build_fleet.jobs.queued", kind: "gauge", unit: "{job}", labels: ["pool"], services: ["webhook"], description: "jobs with a pending marker and no runner yet, at the last reconcile pass" },
    jobsRunning: { name: "hardened_build_fleet.jobs.running", kind: "gauge", unit: "{job}", labels: ["pool"], services: ["webhook"], description: "jobs with a pending marker whose in_progress is recorded, at the last reconcile pass" },
    queueAge: { name: "hardened_build_fleet.jobs.queue_age", kind: "gauge", unit: "s", labels: ["pool"], services: ["webhook"], description: "age of the oldest queued job (0 when none)" },
    jobsCompleted: { name: "hardened_build_fleet.jobs.completed", kind: "counter", unit: "{job}", labels: ["pool"], services: ["webhook"], description: "job completions recorded, each job once" },
    registrationDuration: { name: "hardened_build_fleet.registration.duration", kind: "histogram", unit: "s", labels: ["pool", "outcome"], services: ["broker"], description: "one JIT-config request, from the token check to the answer" },
    signatures: { name: "hardened_build_fleet.signatures", kind: "counter", unit: "{signature}", labels: ["kind"], services: ["signer"], description: "bundles signed and stored (a redelivered request answered from the store does not count)" },
    signingDuration: { name: "hardened_build_fleet.signing.duration", kind: "histogram", unit: "s", labels: ["outcome"], services: ["signer"], description: "one sign request end to end: validation, KMS, timestamp, storage" },
    kmsErrors: { name: "hardened_build_fleet.kms.errors", kind: "counter", unit: "{error}", labels: ["method", "code"], services: ["signer"], description: "failed Cloud KMS calls, each attempt" },
    refusals: { name: "hardened_build_fleet.refusals", kind: "counter", unit: "{refusal}", labels: ["service", "reason"], services: ALL, description: "every refusal a service decides" },
    generatorBacklog: { name: "hardened_build_fleet.generator.backlog", kind: "gauge", unit: "{object}", labels: [], services: ["generator"], description: "deferred objects waiting for their job, at the last pass" },
    generatorBacklogAge: { name: "hardened_build_fleet.generator.backlog_age", kind: "gauge", unit: "s", labels: [], services: ["generator"], description: "age of the oldest deferred object (0 when none)" },
    githubHeadroom: { name: "hardened_build_fleet.github.ratelimit.headroom", kind: "gauge", unit: "1", labels: ["service"], services: ["broker", "webhook"], description: "share of the fleet's GitHub budget still unused in this window, 0 to 1" },
    githubRemaining: { name: "hardened_build_fleet.github.ratelimit.remaining", kind: "gauge", unit: "{request}", labels: ["service"], services: ["broker", "webhook"], description: "x-ratelimit-remaining of GitHub's last answer" },
    outboundRetries: { name: "hardened_build_fleet.outbound.retries", kind: "counter", unit: "{retry}", labels: ["dependency", "reason"], services: ALL, description: "outbound attempts retried after a retryable failure" },
    httpRequests: { name: "hardened_build_fleet.http.requests", kind: "counter", unit: "{request}", labels: ["service", "route", "status_class"], services: ALL, description: "requests answered, by route and status class" },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** The Cloud Monitoring metric type of a metric: what a dashboard or an alert filter names. */
export function metricType(key: MetricKey): string {
    return `${METRIC_TYPE_PREFIX}/${METRICS[key].name}`;
}
