/** Metrics in tests: the services' instruments on a MeterProvider read by an in-memory reader. */
import { DataPoint, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { ServiceMetrics } from "../../services/lib/ops/metrics";
import { METRICS, MetricKey } from "../../services/lib/ops/metricNames";

class CollectingReader extends MetricReader {
    protected async onShutdown(): Promise<void> {}
    protected async onForceFlush(): Promise<void> {}
}

export class TestMetrics {
    private readonly reader = new CollectingReader();
    readonly provider = new MeterProvider({ readers: [this.reader] });
    readonly metrics = new ServiceMetrics(this.provider.getMeter("test"));

    /** Every data point of `key` now: its labels and value (a number, or a histogram's count and sum). */
    async points(key: MetricKey): Promise<{ labels: Record<string, unknown>; value: number; count?: number }[]> {
        const { resourceMetrics } = await this.reader.collect();
        const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === METRICS[key].name);
        return ((metric?.dataPoints ?? []) as DataPoint<unknown>[]).map((p) => {
            const v = p.value as number | { count: number; sum?: number };
            return typeof v === "number" ? { labels: p.attributes, value: v } : { labels: p.attributes, value: v.sum ?? 0, count: v.count };
        });
    }

    /** The sum of `key`'s values (a histogram's counts) over the points whose labels include `where`. */
    async total(key: MetricKey, where: Record<string, string> = {}): Promise<number> {
        return (await this.points(key))
            .filter((p) => Object.entries(where).every(([k, v]) => p.labels[k] === v))
            .reduce((n, p) => n + (p.count ?? p.value), 0);
    }
}
