/**
 * The Compute Engine backend of a RunnerPool: a hardened instance template, a regional managed instance
 * group and its autoscaler. One job per VM (I1), bounded lifetime (I2), no inbound path (I3), Shielded
 * or Confidential VM (I6), no standing credentials (I7).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { PoolConfig } from "../config";
import { roleLabels } from "../labels";
import { renderStartupScript, startupScriptProblems } from "./startupScript";

/** Tunables of the GCE backend; every field optional. */
export interface GceBackendOptions {
    /** Boot disk size in GB. Default 50. */
    bootDiskSizeGb?: number;
    /** Boot disk type. Default "pd-balanced". */
    bootDiskType?: string;
    /** Directory of the pre-installed runner in the pool image. Default "/opt/actions-runner". */
    runnerDir?: string;
    /** Unprivileged user the runner runs as. Default "runner". */
    runnerUser?: string;
    /** Path on the registration broker that issues JIT configs. Default "/v1/jit-config". */
    brokerPath?: string;
    /**
     * Cloud Monitoring metric (GAUGE, resource type `global`, label `pool`) that the control plane writes
     * with the pool's runner demand: queued plus running jobs. The autoscaler keeps one VM per unit.
     * Default "custom.googleapis.com/hardened_build_fleet/runner_demand" (what the webhook receiver writes).
     */
    demandMetric?: string;
    /** Autoscaler cool-down (VM boot plus registration) in seconds. Default 120. */
    cooldownPeriodSeconds?: number;
}

/** The metric the control plane's webhook receiver writes (services/controlPlane, DEMAND_METRIC). */
export const DEFAULT_DEMAND_METRIC = "custom.googleapis.com/hardened_build_fleet/runner_demand";

/** Instance metadata of every runner VM (I3): no project SSH keys, no serial console, OS Login only. */
export const RUNNER_VM_METADATA: Readonly<Record<string, string>> = {
    "block-project-ssh-keys": "TRUE",
    "serial-port-enable": "FALSE",
    "enable-oslogin": "TRUE",
};

/** Machine-series prefixes that support Confidential VM, and the technology used on each. */
const CONFIDENTIAL_SERIES: [RegExp, string][] = [
    [/^n2d-/, "SEV"],
    [/^c2d-/, "SEV"],
    [/^c3d-/, "SEV"],
    [/^c3-/, "TDX"],
];

/** The Confidential VM technology for `machineType`, or undefined when the series has none. */
export function confidentialInstanceType(machineType: string): string | undefined {
    return CONFIDENTIAL_SERIES.find(([re]) => re.test(machineType))?.[1];
}

export interface GceBackendArgs {
    pool: PoolConfig;
    project: pulumi.Input<string>;
    region: pulumi.Input<string>;
    /** Self link of the pool's own subnet (I5). */
    subnetwork: pulumi.Input<string>;
    /** Email of the pool's own service account. */
    serviceAccountEmail: pulumi.Input<string>;
    /** https URL of the registration broker (identity-token audience); an Output when it is the deployed broker's URL. */
    registrationBrokerUrl: pulumi.Input<string>;
    options?: GceBackendOptions;
    /** The network's allow rules, restricted-VIP route and DNS zones: no runner VM boots before them (deny-all egress). */
    networkReady?: pulumi.Resource[];
}

export interface GceBackend {
    instanceTemplate: gcp.compute.InstanceTemplate;
    instanceGroupManager: gcp.compute.RegionInstanceGroupManager;
    autoscaler: gcp.compute.RegionAutoscaler;
    /** The rendered startup script (also in the template's `metadataStartupScript`). */
    startupScript: pulumi.Output<string>;
}

/** Every problem with the GCE-specific arguments (empty when valid). */
export function gceBackendProblems(pool: PoolConfig, registrationBrokerUrl: pulumi.Input<string> | undefined, options: GceBackendOptions = {}): string[] {
    const problems: string[] = [];
    if (registrationBrokerUrl === undefined || registrationBrokerUrl === "") {
        problems.push(`registrationBrokerUrl: missing for gce pool "${pool.name}"; pass the broker's URL (ControlPlane.brokerUrl, or hardened-build-fleet:registrationBrokerUrl).`);
    } else {
        // An Output (the deployed broker's URL) is checked when it resolves; a literal is checked now.
        problems.push(...startupScriptProblems({
            pool: pool.name,
            registrationBrokerUrl: typeof registrationBrokerUrl === "string" ? registrationBrokerUrl : "https://broker.invalid",
            runnerDir: options.runnerDir,
            runnerUser: options.runnerUser,
            brokerPath: options.brokerPath,
        }).map((p) => `${p}.`));
    }
    if (pool.confidentialCompute && confidentialInstanceType(pool.machineType) === undefined) {
        problems.push(
            `pool.machineType: "${pool.machineType}" does not support Confidential VM (pool "${pool.name}" sets confidentialCompute); ` +
                "use an n2d-, c2d-, c3d- (AMD SEV) or c3- (Intel TDX) machine type, or set confidentialCompute: false.",
        );
    }
    const disk = options.bootDiskSizeGb;
    if (disk !== undefined && (!Number.isInteger(disk) || disk < 10 || disk > 65536)) {
        problems.push(`gce.bootDiskSizeGb: ${disk} must be an integer between 10 and 65536.`);
    }
    const cooldown = options.cooldownPeriodSeconds;
    if (cooldown !== undefined && (!Number.isInteger(cooldown) || cooldown < 15 || cooldown > 3600)) {
        problems.push(`gce.cooldownPeriodSeconds: ${cooldown} must be an integer between 15 and 3600.`);
    }
    return problems;
}

/** Shortens a component name to a template name prefix the provider accepts (at most 37 characters). */
function templatePrefix(name: string): string {
    return `${name.slice(0, 36).replace(/-+$/, "")}-`;
}

/**
 * Creates the template, MIG and autoscaler as children of `parent`, named `${name}-template`,
 * `${name}-mig` and `${name}-autoscaler`. Arguments must have passed `gceBackendProblems`.
 */
export function createGceBackend(name: string, args: GceBackendArgs, parent: pulumi.Resource): GceBackend {
    const { pool, project, region } = args;
    const options = args.options ?? {};
    const labels = roleLabels("runner", pool.name);
    const confidentialType = pool.confidentialCompute ? confidentialInstanceType(pool.machineType) : undefined;

    const startupScript = pulumi.output(args.registrationBrokerUrl).apply((registrationBrokerUrl) => renderStartupScript({
        pool: pool.name,
        registrationBrokerUrl,
        runnerDir: options.runnerDir,
        runnerUser: options.runnerUser,
        brokerPath: options.brokerPath,
        containers: pool.containers === true,
    }));

    // Spot and Confidential VMs cannot live-migrate; I1: a VM never restarts on its old disk.
    const terminateOnMaintenance = pool.spot || confidentialType !== undefined;
    const instanceTemplate = new gcp.compute.InstanceTemplate(`${name}-template`, {
        project,
        region,
        // A prefix, not a fixed name: a changed template is created before the old one is deleted.
        namePrefix: templatePrefix(name),
        description: `hardened-build-fleet runner template of pool ${pool.name}: one job per VM`,
        instanceDescription: `hardened-build-fleet ephemeral runner (pool ${pool.name})`,
        machineType: pool.machineType,
        labels,
        // I1: one boot disk, deleted with the VM; no other disk.
        disks: [{
            boot: true,
            autoDelete: true,
            sourceImage: pool.image,
            diskSizeGb: options.bootDiskSizeGb ?? 50,
            diskType: options.bootDiskType ?? "pd-balanced",
            labels,
        }],
        // I3: the pool's own subnet (I5) and no access config, so no external IPv4 or IPv6.
        networkInterfaces: [{ subnetwork: args.subnetwork }],
        canIpForward: false,
        // I3: no project SSH keys, no serial console; I7: nothing secret in metadata.
        metadata: { ...RUNNER_VM_METADATA },
        metadataStartupScript: startupScript,
        // I6: Shielded VM.
        shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
        confidentialInstanceConfig: confidentialType !== undefined ? { confidentialInstanceType: confidentialType } : undefined,
        // I2: the VM is deleted at the pool's max build duration whatever the job does.
        scheduling: {
            maxRunDuration: { seconds: pool.maxBuildDurationSeconds },
            instanceTerminationAction: "DELETE",
            automaticRestart: false,
            onHostMaintenance: terminateOnMaintenance ? "TERMINATE" : "MIGRATE",
            ...(pool.spot ? { provisioningModel: "SPOT", preemptible: true } : { provisioningModel: "STANDARD", preemptible: false }),
        },
        // I7: the pool's own SA, no key; its roles bound what the broad scope can do.
        serviceAccount: { email: args.serviceAccountEmail, scopes: ["cloud-platform"] },
    }, { parent });

    // I1: a stopped (powered-off), failed or deleted VM is recreated from the template with a fresh disk;
    // no stateful disks, IPs or policy, so nothing survives a recreation.
    const instanceGroupManager = new gcp.compute.RegionInstanceGroupManager(`${name}-mig`, {
        project,
        region,
        description: `hardened-build-fleet runners of pool ${pool.name}`,
        baseInstanceName: `${pool.name}-runner`,
        versions: [{ name: "primary", instanceTemplate: instanceTemplate.selfLinkUnique }],
        // Spot obtainability and no rebalancing that would delete a VM in the middle of a job.
        distributionPolicyTargetShape: "BALANCED",
        // New templates apply as VMs are recreated after their job; running jobs are never interrupted.
        updatePolicy: {
            type: "OPPORTUNISTIC",
            minimalAction: "REPLACE",
            replacementMethod: "SUBSTITUTE",
            instanceRedistributionType: "NONE",
        },
        instanceLifecyclePolicy: { defaultActionOnFailure: "REPAIR", forceUpdateOnRepair: "YES" },
        // No targetSize: the autoscaler owns the size (the provider fights it otherwise).
        waitForInstances: false,
    }, { parent, dependsOn: args.networkReady ?? [] });

    // Scale to zero needs a per-group metric (per-instance metrics keep at least one VM): the webhook
    // receiver publishes the pool's runner demand and each VM takes one unit. The autoscaler reads the
    // time series of the MIG's own project, where only the webhook receiver's identity may write metrics
    // (runners hold no metricWriter). Scale-out only: the autoscaler never deletes a VM (it would pick
    // one without knowing whether it runs a job); the control plane deletes a VM once its job finished.
    const demandMetric = options.demandMetric ?? DEFAULT_DEMAND_METRIC;
    const autoscaler = new gcp.compute.RegionAutoscaler(`${name}-autoscaler`, {
        project,
        region,
        description: `hardened-build-fleet autoscaler of pool ${pool.name} (one VM per queued or running job)`,
        target: instanceGroupManager.id,
        autoscalingPolicy: {
            minReplicas: pool.minRunners,
            maxReplicas: pool.maxRunners,
            cooldownPeriod: options.cooldownPeriodSeconds ?? 120,
            mode: "ONLY_SCALE_OUT",
            metrics: [{
                name: demandMetric,
                filter: `resource.type = "global" AND metric.labels.pool = "${pool.name}"`,
                singleInstanceAssignment: 1,
            }],
        },
    }, { parent });

    return { instanceTemplate, instanceGroupManager, autoscaler, startupScript };
}
