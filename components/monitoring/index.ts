/**
 * `FleetMonitoring`: the operator's view of a fleet in Cloud Monitoring. In one scoping project (the
 * control plane's): the other fleet projects added to its metrics scope, so one dashboard and one set
 * of alert policies see the services' metrics wherever they run (signer project) and the autoscaler's
 * input and MIG sizes (worker project); the dashboard; and the alert policies (provenance backlog,
 * error rate, GitHub headroom, signing-oracle symptom, dead letters, and the autoscaler's two failure
 * modes: no scale-out without a demand point, and scale-in that does not happen).
 *
 * Monitoring holds no grant and writes nothing the fleet reads: a tenant build gains nothing here, and
 * a silenced alert stops no check (every protection is enforced by the services themselves).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { throwIfProblems } from "../config/issues";
import { componentNameProblems, isGcpName } from "../config/names";
import { roleLabels } from "../labels";
import { AlertThresholds, DEFAULT_ALERT_THRESHOLDS, fleetAlerts } from "./alerts";
import { fleetDashboard } from "./dashboard";

export { DEFAULT_ALERT_THRESHOLDS } from "./alerts";
export type { AlertThresholds } from "./alerts";

/** A notification channel id: `projects/<project>/notificationChannels/<id>`. */
const CHANNEL = /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/notificationChannels\/[0-9]+$/;

export interface FleetMonitoringArgs {
    /** The scoping project: holds the metrics scope, the dashboard and the alert policies (the control-plane project). Required. */
    project: string;
    /** Other projects whose metrics the scope adds (the worker and signer projects; the scoping project itself is skipped). Default none. */
    monitoredProjects?: string[];
    /**
     * Notification channels every alert notifies, as ids `projects/<project>/notificationChannels/<number>` (created out of
     * band: e-mail, PagerDuty, Slack). Default none: incidents open in the console only, and nobody is paged.
     */
    notificationChannels?: pulumi.Input<string>[];
    /** The fleet's pools: name, and for gce pools the MIG name (its scale-in alert). Required, at least one. */
    pools: { name: string; instanceGroupManager?: pulumi.Input<string> }[];
    /** Name of the upload notifications' push subscription (ControlPlane.uploadsSubscription.name). Required. */
    uploadsSubscription: pulumi.Input<string>;
    /** Name of its dead-letter subscription (ControlPlane.uploadsDeadLetter.subscription.name). Required. */
    deadLetterSubscription: pulumi.Input<string>;
    /** Alert thresholds; each field defaults to DEFAULT_ALERT_THRESHOLDS. */
    thresholds?: Partial<AlertThresholds>;
}

/** Every problem with the FleetMonitoring arguments (empty when valid). */
export function validateFleetMonitoringArgs(name: string, args: FleetMonitoringArgs): string[] {
    const problems = componentNameProblems(name, 40);
    if (args === undefined || args === null) {
        return [...problems, "args: missing; pass at least { project, pools, uploadsSubscription, deadLetterSubscription }."];
    }
    if (typeof args.project !== "string" || args.project === "") {
        problems.push("project: missing; pass the scoping project (the control-plane project).");
    }
    (args.monitoredProjects ?? []).forEach((p, i) => {
        if (typeof p !== "string" || p === "") {
            problems.push(`monitoredProjects[${i}]: ${JSON.stringify(p)} is not a project id.`);
        }
    });
    (args.notificationChannels ?? []).forEach((c, i) => {
        if (typeof c === "string" && !CHANNEL.test(c)) {
            problems.push(`notificationChannels[${i}]: "${c}" is not a channel id; pass projects/<project>/notificationChannels/<number> (gcloud beta monitoring channels list).`);
        }
    });
    if (!Array.isArray(args.pools) || args.pools.length === 0) {
        problems.push("pools: empty; pass one { name, instanceGroupManager? } per runner pool.");
    }
    (args.pools ?? []).forEach((p, i) => {
        if (!isGcpName(p?.name)) {
            problems.push(`pools[${i}].name: ${JSON.stringify(p?.name)} is not a pool name.`);
        }
    });
    for (const key of ["uploadsSubscription", "deadLetterSubscription"] as const) {
        if (args[key] === undefined || args[key] === "") {
            problems.push(`${key}: missing; pass the ControlPlane's subscription name.`);
        }
    }
    const t = { ...DEFAULT_ALERT_THRESHOLDS, ...(args.thresholds ?? {}) };
    for (const [key, value] of Object.entries(t) as [keyof AlertThresholds, number][]) {
        const ratio = key === "errorRatio" || key === "githubHeadroom";
        if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || (ratio && value >= 1)) {
            problems.push(`thresholds.${key}: ${JSON.stringify(value)} must be a positive number${ratio ? " below 1" : ""} (default ${DEFAULT_ALERT_THRESHOLDS[key]}).`);
        }
    }
    return problems;
}

export class FleetMonitoring extends pulumi.ComponentResource {
    /** The other projects added to the scoping project's metrics scope. */
    readonly monitoredProjects: gcp.monitoring.MonitoredProject[];
    readonly dashboard: gcp.monitoring.Dashboard;
    /** Alert policies by key (`provenance-backlog`, `error-rate`, `github-headroom`, `signing-oracle`, `dead-letters`, `scale-out`, `scale-in-<pool>`). */
    readonly alertPolicies: Record<string, gcp.monitoring.AlertPolicy>;

    constructor(name: string, args: FleetMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfProblems("FleetMonitoring", name, validateFleetMonitoringArgs(name, args));
        super("hardened-build-fleet:index:FleetMonitoring", name, {}, opts);
        const child = { parent: this };
        const { project } = args;
        const thresholds = { ...DEFAULT_ALERT_THRESHOLDS, ...(args.thresholds ?? {}) };
        const others = [...new Set(args.monitoredProjects ?? [])].filter((p) => p !== project);

        this.monitoredProjects = others.map((p) => new gcp.monitoring.MonitoredProject(`${name}-scope-${p}`, { metricsScope: project, name: p }, child));
        // Charts and alerts over other projects' metrics need them in the scope first.
        const scoped = { ...child, dependsOn: this.monitoredProjects };

        const subscriptions = pulumi.all([args.uploadsSubscription, args.deadLetterSubscription]);
        this.dashboard = new gcp.monitoring.Dashboard(`${name}-dashboard`, {
            project,
            dashboardJson: subscriptions.apply(([push, deadLetter]) => JSON.stringify({ ...fleetDashboard(name, { push, deadLetter }, thresholds), labels: roleLabels("control-plane") })),
        }, scoped);

        const channels = args.notificationChannels ?? [];
        this.alertPolicies = {};
        for (const alert of fleetAlerts({ deadLetterSubscription: args.deadLetterSubscription, pools: args.pools }, thresholds)) {
            this.alertPolicies[alert.key] = new gcp.monitoring.AlertPolicy(`${name}-${alert.key}`, {
                project,
                displayName: `${alert.displayName} (${name})`,
                combiner: "OR",
                conditions: alert.conditions,
                severity: alert.severity,
                documentation: { content: alert.documentation, mimeType: "text/markdown" },
                notificationChannels: channels,
                alertStrategy: { autoClose: "86400s" },
                userLabels: roleLabels("control-plane", alert.pool),
            }, scoped);
        }
        this.registerOutputs({ dashboard: this.dashboard.id, alertPolicies: Object.keys(this.alertPolicies) });
    }
}
