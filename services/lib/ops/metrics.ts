/**
 * The services' metrics through OpenTelemetry: one instrument per entry of METRICS (metricNames.ts),
 * typed by kind and labels so a call cannot invent a name or a label. In the cloud, `installMetrics`
 * exports them to Cloud Monitoring every 60 s; tests hand in a meter of their own provider and
 * read it with an in-memory reader. Without either, the global meter is OpenTelemetry's no-op.
 */
import { randomUUID } from "crypto";
import { Attributes, metrics, Meter } from "@opentelemetry/api";
import { METRIC_NAMESPACE, METRICS, MetricKey } from "./metricNames";

type KeysOf<K extends string> = { [P in MetricKey]: (typeof METRICS)[P]["kind"] extends K ? P : never }[MetricKey];
export type CounterKey = KeysOf<"counter">;
export type HistogramKey = KeysOf<"histogram">;
export type GaugeKey = KeysOf<"gauge">;
/** Exactly the labels the contract lists for `key`. */
export type LabelsOf<P extends MetricKey> = { [L in (typeof METRICS)[P]["labels"][number]]: string };

/** Seconds: from 5 ms (a record read) to 30 s (a GitHub call that waited for its rate limit). */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const METER_NAME = "hardened-build-fleet";

export class ServiceMetrics {
    private readonly counters = new Map<MetricKey, ReturnType<Meter["createCounter"]>>();
    private readonly histograms = new Map<MetricKey, ReturnType<Meter["createHistogram"]>>();
    private readonly gauges = new Map<MetricKey, ReturnType<Meter["createGauge"]>>();

    constructor(meter: Meter = metrics.getMeter(METER_NAME)) {
        for (const [key, spec] of Object.entries(METRICS) as [MetricKey, (typeof METRICS)[MetricKey]][]) {
            const options = { description: spec.description, unit: spec.unit };
            if (spec.kind === "counter") {
                this.counters.set(key, meter.createCounter(spec.name, options));
            } else if (spec.kind === "histogram") {
                this.histograms.set(key, meter.createHistogram(spec.name, { ...options, advice: { explicitBucketBoundaries: SECONDS_BUCKETS } }));
            } else {
                this.gauges.set(key, meter.createGauge(spec.name, options));
            }
        }
    }

    count<K extends CounterKey>(key: K, labels: LabelsOf<K>, by = 1): void {
        this.counters.get(key)!.add(by, labels as Attributes);
    }

    observe<K extends HistogramKey>(key: K, value: number, labels: LabelsOf<K>): void {
        this.histograms.get(key)!.record(value, labels as Attributes);
    }

    set<K extends GaugeKey>(key: K, value: number, labels: LabelsOf<K>): void {
        this.gauges.get(key)!.record(value, labels as Attributes);
    }
}

/** The status class label of an HTTP status: `2xx` ... `5xx`. */
export function statusClass(status: number): string {
    return `${Math.min(5, Math.max(1, Math.floor(status / 100)))}xx`;
}

export interface InstalledMetrics {
    /** Exports what is left and stops the exporter (on shutdown). */
    shutdown(): Promise<void>;
}

/**
 * The cloud setup: a MeterProvider with the Cloud Monitoring exporter, every `intervalSeconds`, on a
 * `generic_task` resource (namespace hardened-build-fleet, job = the service, task_id = this
 * instance; `cloud.region` and more from OTEL_RESOURCE_ATTRIBUTES), installed as the global provider.
 */
export async function installMetrics(service: string, intervalSeconds = 60): Promise<InstalledMetrics> {
    const { MeterProvider, PeriodicExportingMetricReader } = await import("@opentelemetry/sdk-metrics");
    const { detectResources, envDetector, resourceFromAttributes } = await import("@opentelemetry/resources");
    const { MetricExporter } = await import("@google-cloud/opentelemetry-cloud-monitoring-exporter");
    const resource = resourceFromAttributes({
        "service.name": service,
        "service.namespace": METRIC_NAMESPACE,
        "service.instance.id": randomUUID(),
    }).merge(detectResources({ detectors: [envDetector] }));
    const provider = new MeterProvider({
        resource,
        readers: [new PeriodicExportingMetricReader({ exporter: new MetricExporter(), exportIntervalMillis: intervalSeconds * 1000 })],
    });
    metrics.setGlobalMeterProvider(provider);
    return { shutdown: () => provider.shutdown() };
}
