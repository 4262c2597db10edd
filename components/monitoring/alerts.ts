/**
 * The fleet's alert policies, as data: each names what it watches, the threshold, and what an operator
 * does about it (the policy's documentation, shown in the incident). FleetMonitoring registers one
 * `gcp.monitoring.AlertPolicy` per entry; the dashboard draws the same thresholds.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import {
    DEAD_LETTER_BACKLOG_METRIC, DEMAND_METRIC, demandFilter, MIG_SIZE_METRIC, promName, serviceFilter, servicePromSelector, subscriptionFilter,
} from "./queries";

/** Thresholds of the alerts; each has a default chosen for a fleet of tens of pools. */
export interface AlertThresholds {
    /** Oldest deferred upload (generator backlog) in seconds before alerting. Default 3600: a job's upload waits for its completion. */
    backlogAgeSeconds: number;
    /** Share of 5xx answers of any one service, over 5 minutes. Default 0.05. */
    errorRatio: number;
    /** Share of the fleet's GitHub budget still unused below which to alert. Default 0.2 (80% of the share used). */
    githubHeadroom: number;
    /** Signatures per completed job above which the signature rate is a signing-oracle symptom. Default 10 (objects per job, 2 per image). */
    signaturesPerJob: number;
    /** Age of a pool's oldest queued job, in seconds, above which no VM is taking it. Default 900. */
    queueAgeSeconds: number;
    /** Seconds without a demand point for a pool (the webhook's pass writes one every minute). Default 600. */
    demandSilenceSeconds: number;
    /** Minutes a gce pool's MIG may stay larger than its demand before scale-in counts as stuck. Default 30. */
    scaleInStuckMinutes: number;
}

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
    backlogAgeSeconds: 3600,
    errorRatio: 0.05,
    githubHeadroom: 0.2,
    signaturesPerJob: 10,
    queueAgeSeconds: 900,
    demandSilenceSeconds: 600,
    scaleInStuckMinutes: 30,
};

/** What an alert watches: the inputs FleetMonitoring knows. */
export interface AlertTargets {
    /** Name of the dead-letter subscription of the upload notifications. */
    deadLetterSubscription: pulumi.Input<string>;
    /** Pools: name, and for gce pools the MIG name (scale-in alert). */
    pools: { name: string; instanceGroupManager?: pulumi.Input<string> }[];
}

export type Condition = gcp.types.input.monitoring.AlertPolicyCondition;

export interface AlertSpec {
    /** Child-name suffix, stable (part of the URN). */
    key: string;
    displayName: string;
    /** Markdown shown in the incident: what it means and what to do. */
    documentation: string;
    conditions: Condition[];
    severity: "CRITICAL" | "ERROR" | "WARNING";
    /** The pool the alert watches, when it watches one (labelled with it). */
    pool?: string;
}

const MINUTE = 60;
const seconds = (s: number) => `${s}s`;

function threshold(displayName: string, filter: pulumi.Input<string>, comparison: "COMPARISON_GT" | "COMPARISON_LT", value: number, opts: {
    duration?: number; aligner?: string; reducer?: string; groupBy?: string[]; denominator?: string;
} = {}): Condition {
    const aggregation = {
        alignmentPeriod: seconds(MINUTE), perSeriesAligner: opts.aligner ?? "ALIGN_MAX",
        crossSeriesReducer: opts.reducer ?? "REDUCE_MAX", groupByFields: opts.groupBy ?? [],
    };
    return {
        displayName,
        conditionThreshold: {
            filter, comparison, thresholdValue: value, duration: seconds(opts.duration ?? 5 * MINUTE),
            aggregations: [aggregation],
            ...(opts.denominator !== undefined ? { denominatorFilter: opts.denominator, denominatorAggregations: [aggregation] } : {}),
            trigger: { count: 1 },
        },
    };
}

function promql(displayName: string, query: pulumi.Input<string>, durationSeconds: number): Condition {
    return { displayName, conditionPrometheusQueryLanguage: { query, duration: seconds(durationSeconds), evaluationInterval: seconds(MINUTE) } };
}

/** The alert policies of a fleet, as data (pure: the tests and the docs read them). */
export function fleetAlerts(targets: AlertTargets, t: AlertThresholds): AlertSpec[] {
    const rate = (metric: string) => `sum(rate(${metric}[15m]))`;
    const alerts: AlertSpec[] = [
        {
            key: "provenance-backlog", severity: "ERROR",
            displayName: "Provenance backlog: uploads waiting too long for their job",
            documentation: `An uploaded object has waited more than ${t.backlogAgeSeconds} s for its job's completion to be recorded, so it is not signed. `
                + "Check the webhook receiver's reconcile pass (lost `completed` deliveries) and the generator's logs for the object's job.",
            conditions: [threshold(`generator.backlog_age > ${t.backlogAgeSeconds} s`, serviceFilter("generatorBacklogAge"), "COMPARISON_GT", t.backlogAgeSeconds, { duration: 10 * MINUTE })],
        },
        {
            key: "error-rate", severity: "ERROR",
            displayName: "Service error rate: 5xx answers of a control-plane or signer service",
            documentation: `More than ${t.errorRatio * 100}% of one service's answers were 5xx for 5 minutes (refusals are 4xx and do not count). `
                + "Read the service's ERROR log lines; a signer 5xx is usually Cloud KMS (see kms.errors) or the provenance bucket.",
            conditions: [threshold(`5xx share > ${t.errorRatio}`, serviceFilter("httpRequests", { status_class: "5xx" }), "COMPARISON_GT", t.errorRatio, {
                aligner: "ALIGN_RATE", reducer: "REDUCE_SUM", groupBy: ["resource.label.job"], denominator: serviceFilter("httpRequests"),
            })],
        },
        {
            key: "github-headroom", severity: "WARNING",
            displayName: "GitHub rate-limit headroom under 20% of the fleet's budget",
            documentation: `A service has used more than ${Math.round((1 - t.githubHeadroom) * 100)}% of the fleet's share of the GitHub App installation's hourly limit. `
                + "At 0 every GitHub call fails fast (`budget-exhausted`) until the window resets: registrations stop. Look for a reconcile loop or a burst of jobs.",
            conditions: [threshold(`github headroom < ${t.githubHeadroom}`, serviceFilter("githubHeadroom"), "COMPARISON_LT", t.githubHeadroom, {
                aligner: "ALIGN_MIN", reducer: "REDUCE_MIN", groupBy: ["resource.label.job"], duration: 0,
            })],
        },
        {
            key: "signing-oracle", severity: "CRITICAL",
            displayName: "Signatures far above completed jobs (signing-oracle symptom)",
            documentation: `The signer signed more than ${t.signaturesPerJob} bundles per completed job over 15 minutes, or signed while no job completed. `
                + "Something is obtaining signatures that no job explains. Compare the signer's audit entries with the jobs they name; "
                + "check who can act as the generator's identity and whether the generator's push subscription or invoker binding changed.",
            conditions: [promql(`signatures > ${t.signaturesPerJob} x completed jobs`,
                `${rate(servicePromSelector("signatures"))} > on() (${t.signaturesPerJob} * (${rate(servicePromSelector("jobsCompleted"))} or on() vector(0)) + 1/60)`,
                5 * MINUTE)],
        },
        {
            key: "dead-letters", severity: "ERROR",
            displayName: "Upload notifications dead-lettered",
            documentation: "Pub/Sub gave up pushing an upload notification to the generator: that object is not signed. "
                + "Pull the dead-letter subscription to see the objects, fix the cause (the generator's refusal reason in its logs), "
                + "then republish each message to the uploads topic and acknowledge it. The alert clears once the subscription is empty.",
            conditions: [threshold("dead letters kept > 0", pulumi.output(targets.deadLetterSubscription).apply((s) => subscriptionFilter(DEAD_LETTER_BACKLOG_METRIC, s)),
                "COMPARISON_GT", 0, { duration: 0 })],
        },
        {
            key: "scale-out", severity: "ERROR",
            displayName: "Autoscaler: jobs queued with no runner, or no demand written",
            documentation: "A pool's oldest queued job has waited too long, or the webhook receiver has not written the pool's demand point. "
                + "The autoscaler adds VMs only from that metric: before the first point it never scales out. "
                + "Check the webhook receiver's `demand-publish` refusals, its metricWriter grant in the worker project, and the MIG's errors.",
            conditions: [
                threshold(`queue age > ${t.queueAgeSeconds} s`, serviceFilter("queueAge"), "COMPARISON_GT", t.queueAgeSeconds, { groupBy: ["metric.label.pool"] }),
                {
                    displayName: `no ${DEMAND_METRIC} point for ${t.demandSilenceSeconds} s`,
                    conditionAbsent: {
                        filter: demandFilter(), duration: seconds(t.demandSilenceSeconds),
                        aggregations: [{ alignmentPeriod: seconds(MINUTE), perSeriesAligner: "ALIGN_MAX", crossSeriesReducer: "REDUCE_MAX", groupByFields: ["metric.label.pool"] }],
                        trigger: { count: 1 },
                    },
                },
            ],
        },
    ];
    // One policy per gce pool: its MIG's size against its own demand (stable per pool; a policy holds at most 6 conditions).
    const demand = promName(DEMAND_METRIC);
    const size = promName(MIG_SIZE_METRIC);
    for (const p of targets.pools.filter((pool) => pool.instanceGroupManager !== undefined)) {
        alerts.push({
            key: `scale-in-${p.name}`, severity: "WARNING", pool: p.name,
            displayName: `Autoscaler: pool ${p.name} keeps more VMs than its demand (scale-in not happening)`,
            documentation: `Pool ${p.name}'s MIG has stayed larger than its demand for ${t.scaleInStuckMinutes} minutes. The autoscaler only scales out; `
                + "the webhook receiver deletes a finished runner's VM (`deleteInstances`). Check its scale-in sweep in the logs and its scale-in grant.",
            conditions: [promql(`MIG size > demand for ${t.scaleInStuckMinutes} min`,
                pulumi.interpolate`max(${size}{monitored_resource="instance_group",instance_group_name="${p.instanceGroupManager}"}) > on() (max(${demand}{pool="${p.name}"}) or on() vector(0))`,
                t.scaleInStuckMinutes * MINUTE)],
        });
    }
    return alerts;
}
