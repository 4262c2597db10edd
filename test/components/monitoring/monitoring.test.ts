/**
 * FleetMonitoring: the metrics scope, the dashboard and the alert policies, standalone and in the example
 * fleet. The names every chart and alert reads are checked against the services' metric contract
 * (services/lib/ops/metricNames.ts), so a renamed instrument fails here rather than as an empty chart.
 */
import * as assert from "assert";
import * as path from "path";
import { ProgramRun, runProgram } from "../../../plan/engine";
import { FleetMonitoring, FleetMonitoringArgs, DEFAULT_ALERT_THRESHOLDS } from "../../../components/monitoring";
import { DashboardLayout, DASHBOARD_COLUMNS } from "../../../components/monitoring/dashboard";
import { DEMAND_METRIC as SERVICE_DEMAND_METRIC } from "../../../services/controlPlane/cloud";
import { METRICS, METRIC_TYPE_PREFIX } from "../../../services/lib/ops/metricNames";
import { DEAD_LETTER_BACKLOG_METRIC, DEAD_LETTERED_METRIC, DEMAND_METRIC, MIG_SIZE_METRIC, promName } from "../../../components/monitoring/queries";
import { HardenedBuildFleet } from "../../../components/fleet";
import { rawFleetConfig } from "../../../components/config";
import { minimalFleetConfig } from "../../helpers/minimalFleet";
import { POOL_LABEL } from "../../../components/labels";
import { REPO_ROOT } from "../../helpers/paths";
import { assertRefusedInOnePass } from "../../helpers/rejection";
import { byType, component, descendantsOf, one } from "../../helpers/graph";

const T = {
    component: "hardened-build-fleet:index:FleetMonitoring",
    alert: "gcp:monitoring/alertPolicy:AlertPolicy",
    dashboard: "gcp:monitoring/dashboard:Dashboard",
    scope: "gcp:monitoring/monitoredProject:MonitoredProject",
    subscription: "gcp:pubsub/subscription:Subscription",
    mig: "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager",
};
const CHANNEL = "projects/acme-ops/notificationChannels/1234567890";

function args(extra: Partial<FleetMonitoringArgs> = {}): FleetMonitoringArgs {
    return {
        project: "cp-proj",
        monitoredProjects: ["worker-proj", "signer-proj", "cp-proj"],
        notificationChannels: [CHANNEL],
        pools: [{ name: "pool-a", instanceGroupManager: "pool-a-mig-1a2b" }, { name: "pool-b" }],
        uploadsSubscription: "fleet-cp-uploads-push-77",
        deadLetterSubscription: "fleet-cp-uploads-dead-letter-88",
        ...extra,
    };
}

const policies = (run: ProgramRun) => Object.fromEntries(byType(run, T.alert).map((a) => [a.name, a.inputs]));
const layoutOf = (run: ProgramRun): DashboardLayout => JSON.parse(one(run, T.dashboard).inputs.dashboardJson);

/** Every string anywhere in a value (filters and queries sit deep in conditions and tiles). */
function stringsIn(value: unknown): string[] {
    if (typeof value === "string") {
        return [value];
    }
    return value !== null && typeof value === "object" ? Object.values(value).flatMap(stringsIn) : [];
}

/** Every metric type a filter or a PromQL query names. */
function metricsNamed(value: unknown): string[] {
    const text = stringsIn(value).join("\n");
    const filters = [...text.matchAll(/metric\.type = "([^"]+)"/g)].map((m) => m[1]);
    const prom = [...text.matchAll(/\b([a-z_]+_googleapis_com:[a-z_]+)\{/g)].map((m) => m[1]);
    return [...filters, ...prom];
}

describe("FleetMonitoring", function () {
    this.timeout(60_000);
    let run: ProgramRun;
    before(async () => {
        run = await runProgram(() => {
            new FleetMonitoring("fleet-mon", args());
        });
        assert.strictEqual(run.error, undefined, String(run.error));
    });

    it("adds the other fleet projects (not itself) to the scoping project's metrics scope, before any chart or alert reads them", () => {
        const scopes = byType(run, T.scope);
        assert.deepStrictEqual(scopes.map((s) => [s.inputs.metricsScope, s.inputs.name]), [["cp-proj", "worker-proj"], ["cp-proj", "signer-proj"]]);
        for (const r of [...byType(run, T.alert), one(run, T.dashboard)]) {
            assert.strictEqual(r.inputs.project, "cp-proj");
            for (const s of scopes) {
                assert.ok(r.dependencies.includes(s.urn), `${r.name} does not wait for ${s.name}`);
            }
        }
    });

    it("registers one alert per concern, plus a scale-in alert per gce pool, each notifying the given channels", () => {
        const all = policies(run);
        assert.deepStrictEqual(Object.keys(all).sort(), [
            "fleet-mon-dead-letters", "fleet-mon-error-rate", "fleet-mon-github-headroom",
            "fleet-mon-provenance-backlog", "fleet-mon-scale-in-pool-a", "fleet-mon-scale-out", "fleet-mon-signing-oracle",
        ]);
        for (const [name, p] of Object.entries(all)) {
            assert.deepStrictEqual(p.notificationChannels, [CHANNEL], name);
            assert.strictEqual(p.combiner, "OR", name);
            assert.ok(p.conditions.length >= 1 && p.conditions.length <= 6, `${name}: a policy holds 1 to 6 conditions`);
            assert.ok(p.documentation.content.length > 80, `${name}: says what to do`);
        }
    });

    it("alerts on dead letters kept in the dead-letter subscription, while any is kept", () => {
        const c = policies(run)["fleet-mon-dead-letters"].conditions[0].conditionThreshold;
        assert.strictEqual(c.filter, `metric.type = "${DEAD_LETTER_BACKLOG_METRIC}" AND resource.type = "pubsub_subscription" AND resource.label.subscription_id = "fleet-cp-uploads-dead-letter-88"`);
        assert.deepStrictEqual([c.comparison, c.thresholdValue, c.duration], ["COMPARISON_GT", 0, "0s"]);
    });

    it("alerts on GitHub headroom under 20%, a 5xx share per service, and a provenance backlog", () => {
        const all = policies(run);
        const headroom = all["fleet-mon-github-headroom"].conditions[0].conditionThreshold;
        assert.match(headroom.filter, /hardened_build_fleet\.github\.ratelimit\.headroom"/);
        assert.deepStrictEqual([headroom.comparison, headroom.thresholdValue], ["COMPARISON_LT", 0.2]);
        const errors = all["fleet-mon-error-rate"].conditions[0].conditionThreshold;
        assert.match(errors.filter, /metric\.label\.status_class = "5xx"/);
        assert.doesNotMatch(errors.denominatorFilter, /status_class/, "the denominator is every answer");
        assert.deepStrictEqual(errors.aggregations[0].groupByFields, ["resource.label.job"]);
        const backlog = all["fleet-mon-provenance-backlog"].conditions[0].conditionThreshold;
        assert.match(backlog.filter, /generator\.backlog_age"/);
        assert.strictEqual(backlog.thresholdValue, DEFAULT_ALERT_THRESHOLDS.backlogAgeSeconds);
    });

    it("compares the signature rate with the completed-job rate, and still fires when no job completed at all", () => {
        const query: string = policies(run)["fleet-mon-signing-oracle"].conditions[0].conditionPrometheusQueryLanguage.query;
        assert.ok(query.startsWith(`sum(rate(${promName(`${METRIC_TYPE_PREFIX}/${METRICS.signatures.name}`)}{`), query);
        assert.ok(query.includes(`${DEFAULT_ALERT_THRESHOLDS.signaturesPerJob} * (sum(rate(${promName(`${METRIC_TYPE_PREFIX}/${METRICS.jobsCompleted.name}`)}{`), query);
        // An absent job series would make the right side empty and the comparison never true: it defaults to 0.
        assert.match(query, /or on\(\) vector\(0\)\) \+ 1\/60\)$/);
    });

    it("makes both autoscaler failure modes visible: no demand point (or a queue nobody takes), and a MIG that stays above its demand", () => {
        const all = policies(run);
        const [queue, absent] = all["fleet-mon-scale-out"].conditions;
        assert.match(queue.conditionThreshold.filter, /hardened_build_fleet\.jobs\.queue_age"/);
        assert.strictEqual(absent.conditionAbsent.filter, `metric.type = "${DEMAND_METRIC}" AND resource.type = "global"`);
        assert.deepStrictEqual(absent.conditionAbsent.aggregations[0].groupByFields, ["metric.label.pool"]);
        const scaleIn: string = all["fleet-mon-scale-in-pool-a"].conditions[0].conditionPrometheusQueryLanguage.query;
        assert.strictEqual(scaleIn, `max(${promName(MIG_SIZE_METRIC)}{monitored_resource="instance_group",instance_group_name="pool-a-mig-1a2b"}) > on() `
            + `(max(${promName(DEMAND_METRIC)}{pool="pool-a"}) or on() vector(0))`);
        assert.ok(!("fleet-mon-scale-in-pool-b" in all), "a gke pool is scaled in by ARC, not by the webhook receiver");
        assert.strictEqual(all["fleet-mon-scale-in-pool-a"].userLabels[POOL_LABEL], "pool-a");
    });

    it("names only metrics the services record, the autoscaler's demand metric, or Google's own", () => {
        assert.strictEqual(DEMAND_METRIC, SERVICE_DEMAND_METRIC);
        const known = new Set([
            ...Object.values(METRICS).map((m) => `${METRIC_TYPE_PREFIX}/${m.name}`), DEMAND_METRIC, DEAD_LETTER_BACKLOG_METRIC, DEAD_LETTERED_METRIC, MIG_SIZE_METRIC,
        ]);
        const named = metricsNamed([policies(run), layoutOf(run)]);
        assert.ok(named.length > 20, `found only ${named.length} metric references`);
        const promKnown = new Set([...known].map(promName));
        assert.deepStrictEqual(named.filter((m) => !known.has(m) && !promKnown.has(m)), []);
        // Every service instrument appears on the dashboard except the raw GitHub remaining count (headroom is charted).
        const charted = new Set(metricsNamed(layoutOf(run)));
        assert.deepStrictEqual(Object.entries(METRICS).filter(([, m]) => !charted.has(`${METRIC_TYPE_PREFIX}/${m.name}`)).map(([k]) => k), ["githubRemaining"]);
    });

    it("lays the dashboard out on a 12-column mosaic without overlaps, with the alerts' thresholds drawn", () => {
        const layout = layoutOf(run);
        assert.strictEqual(layout.mosaicLayout.columns, DASHBOARD_COLUMNS);
        const cells = new Set<string>();
        for (const tile of layout.mosaicLayout.tiles) {
            assert.ok(tile.xPos + tile.width <= DASHBOARD_COLUMNS, tile.widget.title);
            for (let x = tile.xPos; x < tile.xPos + tile.width; x++) {
                for (let y = tile.yPos; y < tile.yPos + tile.height; y++) {
                    assert.ok(!cells.has(`${x},${y}`), `${tile.widget.title} overlaps another tile at ${x},${y}`);
                    cells.add(`${x},${y}`);
                }
            }
        }
        const threshold = (title: string) => layout.mosaicLayout.tiles.find((t) => t.widget.title === title)!.widget.xyChart.thresholds![0];
        assert.deepStrictEqual([threshold("GitHub budget headroom").value, threshold("GitHub budget headroom").direction], [0.2, "BELOW"]);
        const deadLetters = layout.mosaicLayout.tiles.find((t) => t.widget.title === "Upload notifications dead-lettered")!;
        assert.deepStrictEqual(deadLetters.widget.xyChart.dataSets.map((d) => d.timeSeriesQuery.timeSeriesFilter.filter.match(/subscription_id = "([^"]+)"/)![1]),
            ["fleet-cp-uploads-dead-letter-88", "fleet-cp-uploads-push-77"]);
    });

    it("takes thresholds and channels as typed arguments, and rejects bad ones all at once, registering nothing", async () => {
        const custom = await runProgram(() => {
            new FleetMonitoring("fleet-mon", args({ notificationChannels: [], thresholds: { githubHeadroom: 0.3 } }));
        });
        const headroom = policies(custom)["fleet-mon-github-headroom"];
        assert.strictEqual(headroom.conditions[0].conditionThreshold.thresholdValue, 0.3);
        assert.deepStrictEqual(headroom.notificationChannels, []);

        const bad = await runProgram(() => {
            new FleetMonitoring("fleet-mon", args({ notificationChannels: ["ops@acme.example"], pools: [], thresholds: { errorRatio: 5, scaleInStuckMinutes: -1 } }));
        }, { allowError: true });
        assertRefusedInOnePass(bad, ["notificationChannels[0]: \"ops@acme.example\"", "pools: empty", "thresholds.errorRatio: 5", "thresholds.scaleInStuckMinutes: -1"]);
    });
});

describe("HardenedBuildFleet: monitoring in the example fleet", function () {
    this.timeout(120_000);

    it("watches the control plane's own subscriptions and every gce pool's MIG, from the control-plane project", async () => {
        const run = await runProgram(path.join(REPO_ROOT, "index.ts"), { configFile: path.join(REPO_ROOT, "Pulumi.example.yaml") });
        assert.strictEqual(run.error, undefined, String(run.error));
        const mon = component(run, T.component, "fleet-monitoring");
        const below = descendantsOf(run, mon);
        const cpProject = one(run, T.subscription, "fleet-control-plane-uploads-push").inputs.project;
        assert.deepStrictEqual([...new Set(below.filter((r) => r.type !== T.scope).map((r) => r.inputs.project))], [cpProject]);
        const names = Object.fromEntries(byType(run, T.subscription).map((s) => [s.name, s.outputs.name]));
        const layout = JSON.parse(one(run, T.dashboard).inputs.dashboardJson) as DashboardLayout;
        const filters = layout.mosaicLayout.tiles.flatMap((t) => t.widget.xyChart.dataSets.map((d) => d.timeSeriesQuery.timeSeriesFilter.filter));
        assert.ok(filters.some((f) => f.includes(`subscription_id = "${names["fleet-control-plane-uploads-dead-letter"]}"`)));
        assert.ok(filters.some((f) => f.includes(`subscription_id = "${names["fleet-control-plane-uploads-push"]}"`)));
        const migs = byType(run, T.mig);
        assert.ok(migs.length >= 1);
        const scaleIn = byType(run, T.alert).filter((a) => a.name.startsWith("fleet-monitoring-scale-in-"));
        assert.deepStrictEqual(scaleIn.map((a) => a.inputs.conditions.length), migs.map(() => 1));
        for (const mig of migs) {
            assert.ok(scaleIn.some((a) => a.inputs.conditions[0].conditionPrometheusQueryLanguage.query.includes(`instance_group_name="${mig.outputs.name}"`)), mig.name);
        }
    });

    it("creates no monitoring with monitoring.enabled false", async () => {
        const run = await runProgram(() => {
            new HardenedBuildFleet("fleet", { config: rawFleetConfig(minimalFleetConfig()), monitoring: { enabled: false } });
        });
        assert.strictEqual(run.error, undefined, String(run.error));
        assert.deepStrictEqual(byType(run, T.alert), []);
        assert.deepStrictEqual(byType(run, T.dashboard), []);
    });
});
