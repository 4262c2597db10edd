/**
 * The fleet dashboard's layout, as data: a 12-column mosaic of charts, three per row, grouped as the
 * job flow runs (jobs and the autoscaler, GitHub, signing, refusals and errors, dead letters). Each
 * chart names the same metrics and thresholds as the alert policies. Pure: FleetMonitoring serialises
 * it into `gcp.monitoring.Dashboard`, and `tools/renderDashboard.ts` draws it for the docs.
 */
import { AlertThresholds } from "./alerts";
import { DEAD_LETTER_BACKLOG_METRIC, DEAD_LETTERED_METRIC, demandFilter, serviceFilter, subscriptionFilter } from "./queries";

export interface DashboardDataSet {
    timeSeriesQuery: { timeSeriesFilter: { filter: string; aggregation: { alignmentPeriod: string; perSeriesAligner: string; crossSeriesReducer?: string; groupByFields?: string[] } } };
    plotType: "LINE" | "STACKED_AREA";
    legendTemplate?: string;
}

export interface DashboardTile {
    xPos: number;
    yPos: number;
    width: number;
    height: number;
    widget: {
        title: string;
        xyChart: {
            dataSets: DashboardDataSet[];
            thresholds?: { value: number; color: "RED" | "YELLOW"; direction: "ABOVE" | "BELOW"; label?: string }[];
            yAxis: { label: string; scale: "LINEAR" };
        };
    };
}

export interface DashboardLayout {
    displayName: string;
    mosaicLayout: { columns: number; tiles: DashboardTile[] };
    labels?: Record<string, string>;
}

export const DASHBOARD_COLUMNS = 12;
const TILE_WIDTH = 4;
const TILE_HEIGHT = 4;

type Series = { filter: string; aligner: string; reducer?: string; groupBy?: string[]; legend?: string; plot?: "LINE" | "STACKED_AREA" };
type Chart = { title: string; unit: string; series: Series[]; thresholds?: DashboardTile["widget"]["xyChart"]["thresholds"] };

function dataSet(s: Series): DashboardDataSet {
    return {
        timeSeriesQuery: {
            timeSeriesFilter: {
                filter: s.filter,
                aggregation: { alignmentPeriod: "60s", perSeriesAligner: s.aligner, ...(s.reducer !== undefined ? { crossSeriesReducer: s.reducer, groupByFields: s.groupBy ?? [] } : {}) },
            },
        },
        plotType: s.plot ?? "LINE",
        ...(s.legend !== undefined ? { legendTemplate: s.legend } : {}),
    };
}

/** Records-derived gauges are the same on every instance: take the maximum, never the sum. */
const gaugeByPool = (filter: string, legend = "${metric.labels.pool}"): Series => ({ filter, aligner: "ALIGN_MAX", reducer: "REDUCE_MAX", groupBy: ["metric.label.pool"], legend });
/** Counters are per instance: a rate, summed over instances. */
const rateBy = (filter: string, groupBy: string[], legend?: string): Series => ({ filter, aligner: "ALIGN_RATE", reducer: "REDUCE_SUM", groupBy, legend });
const p95By = (filter: string, groupBy: string[], legend?: string): Series => ({ filter, aligner: "ALIGN_DELTA", reducer: "REDUCE_PERCENTILE_95", groupBy, legend });

/** The subscriptions of the upload notifications: the push subscription and its dead-letter subscription. */
export interface UploadSubscriptions {
    push: string;
    deadLetter: string;
}

/** The dashboard of a fleet named `name`. */
export function fleetDashboard(name: string, subscriptions: UploadSubscriptions, t: AlertThresholds): DashboardLayout {
    const charts: Chart[] = [
        { title: "Jobs queued per pool", unit: "jobs", series: [gaugeByPool(serviceFilter("jobsQueued"))] },
        { title: "Jobs running per pool", unit: "jobs", series: [gaugeByPool(serviceFilter("jobsRunning"))] },
        {
            title: "Oldest queued job per pool", unit: "s", series: [gaugeByPool(serviceFilter("queueAge"))],
            thresholds: [{ value: t.queueAgeSeconds, color: "RED", direction: "ABOVE", label: "no scale-out" }],
        },
        { title: "Runner demand per pool (autoscaler input)", unit: "VMs", series: [gaugeByPool(demandFilter())] },
        { title: "Registration latency p95", unit: "s", series: [p95By(serviceFilter("registrationDuration"), ["metric.label.pool"], "${metric.labels.pool}")] },
        {
            title: "GitHub budget headroom", unit: "share",
            series: [{ filter: serviceFilter("githubHeadroom"), aligner: "ALIGN_MIN", reducer: "REDUCE_MIN", groupBy: ["resource.label.job"], legend: "${resource.labels.job}" }],
            thresholds: [{ value: t.githubHeadroom, color: "RED", direction: "BELOW", label: "80% of the share used" }],
        },
        {
            title: "Signatures vs completed jobs (per second)", unit: "1/s",
            series: [rateBy(serviceFilter("signatures"), [], "signatures"), rateBy(serviceFilter("jobsCompleted"), [], "jobs completed")],
        },
        { title: "Signing latency p95", unit: "s", series: [p95By(serviceFilter("signingDuration"), ["metric.label.outcome"], "${metric.labels.outcome}")] },
        { title: "Cloud KMS errors", unit: "1/s", series: [rateBy(serviceFilter("kmsErrors"), ["metric.label.code"], "${metric.labels.code}")] },
        { title: "Refusals by reason", unit: "1/s", series: [{ ...rateBy(serviceFilter("refusals"), ["metric.label.reason"], "${metric.labels.reason}"), plot: "STACKED_AREA" }] },
        {
            title: "5xx answers by service", unit: "1/s", series: [rateBy(serviceFilter("httpRequests", { status_class: "5xx" }), ["resource.label.job"], "${resource.labels.job}")],
        },
        {
            title: "Provenance backlog: oldest deferred upload", unit: "s",
            series: [{ filter: serviceFilter("generatorBacklogAge"), aligner: "ALIGN_MAX", reducer: "REDUCE_MAX", legend: "backlog age" }],
            thresholds: [{ value: t.backlogAgeSeconds, color: "RED", direction: "ABOVE", label: "backlog alert" }],
        },
        {
            title: "Upload notifications dead-lettered", unit: "messages",
            series: [
                { filter: subscriptionFilter(DEAD_LETTER_BACKLOG_METRIC, subscriptions.deadLetter), aligner: "ALIGN_MAX", legend: "kept" },
                { filter: subscriptionFilter(DEAD_LETTERED_METRIC, subscriptions.push), aligner: "ALIGN_DELTA", reducer: "REDUCE_SUM", legend: "forwarded" },
            ],
            thresholds: [{ value: 0, color: "RED", direction: "ABOVE", label: "dead letters" }],
        },
        { title: "Outbound retries by dependency", unit: "1/s", series: [rateBy(serviceFilter("outboundRetries"), ["metric.label.dependency"], "${metric.labels.dependency}")] },
        { title: "Generator backlog (deferred uploads)", unit: "objects", series: [{ filter: serviceFilter("generatorBacklog"), aligner: "ALIGN_MAX", reducer: "REDUCE_MAX", legend: "deferred" }] },
    ];
    const perRow = DASHBOARD_COLUMNS / TILE_WIDTH;
    return {
        displayName: `hardened-build-fleet: ${name}`,
        mosaicLayout: {
            columns: DASHBOARD_COLUMNS,
            tiles: charts.map((c, i) => ({
                xPos: (i % perRow) * TILE_WIDTH, yPos: Math.floor(i / perRow) * TILE_HEIGHT, width: TILE_WIDTH, height: TILE_HEIGHT,
                widget: {
                    title: c.title,
                    xyChart: { dataSets: c.series.map(dataSet), ...(c.thresholds !== undefined ? { thresholds: c.thresholds } : {}), yAxis: { label: c.unit, scale: "LINEAR" } },
                },
            })),
        },
    };
}
