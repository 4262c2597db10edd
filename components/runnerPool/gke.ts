/**
 * The GKE backend of a RunnerPool (I1, I2, I5, I6): its tunables, their validation and the composition of
 * the pool's cluster (gkeCluster.ts) with the ARC runner scale set inside it (scaleSet.ts), which runs
 * one pod per job under Pod Security `restricted` behind default-deny network policies.
 */
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PoolConfig } from "../config";
import { createGkeCluster } from "./gkeCluster";
import { DEFAULT_RUNNER_RESOURCES, RunnerResources } from "./podTemplate";
import { createScaleSet, DEFAULT_ARC_CHART_VERSION, ScaleSet } from "./scaleSet";

/** Tunables of the GKE backend; every field optional. */
export interface GkeBackendOptions {
    /** ARC chart version, exact. Default DEFAULT_ARC_CHART_VERSION ("0.12.1"). */
    chartVersion?: string;
    /** Namespace of the runner pods and the scale set. Default `runners-${pool.name}`. */
    runnerNamespace?: string;
    /** Namespace of the ARC controller and listener. Default "arc-system". */
    controllerNamespace?: string;
    /** Install the ARC controller chart in the cluster. Default true (the scale set needs it). */
    installController?: boolean;
    /** GKE release channel. Default "REGULAR". */
    releaseChannel?: "RAPID" | "REGULAR" | "STABLE";
    /** GKE deletion protection. Default true: destroying a pool's cluster takes a deliberate update first. */
    deletionProtection?: boolean;
    /**
     * How Pulumi reaches the private control plane. "dns" (default): the IAM-gated DNS endpoint, reachable
     * without any public IP endpoint or network path into the pool's VPC. "private-ip": the private IP
     * endpoint (Pulumi must then run inside the pool's VPC).
     */
    apiEndpoint?: "dns" | "private-ip";
    /** Machine type of the small system node pool (kube-dns, ARC controller and listener). Default "e2-standard-2". */
    systemMachineType?: string;
    /** Per-runner compute budget. Default 2 CPU, 4096 MiB, 20 GiB ephemeral storage. */
    runnerResources?: RunnerResources;
    /** Read-only root filesystem for runner containers. Default false (see runnerPodTemplate.ts). */
    readOnlyRootFilesystem?: boolean;
    /** GitHub runner scale set name (the `runs-on` label). Default the pool name. */
    scaleSetName?: string;
}

export interface GkeBackendArgs {
    pool: PoolConfig;
    project: pulumi.Input<string>;
    region: pulumi.Input<string>;
    network: pulumi.Input<string>;
    subnetwork: pulumi.Input<string>;
    /** Secondary range names in the pool's subnet, when podCidr/serviceCidr are configured. */
    secondaryRangeNames?: { pods: string; services: string };
    /** Pool SA: through Workload Identity, the runner pods' identity. Never the nodes'. */
    serviceAccountEmail: pulumi.Input<string>;
    /** The nodes' own SA (logs and metrics of the node agents); pods never see it (GKE_METADATA). */
    nodeServiceAccountEmail: pulumi.Input<string>;
    /** Full resource name of the pool SA (`projects/p/serviceAccounts/email`). */
    serviceAccountName: pulumi.Input<string>;
    github: { configUrl: pulumi.Input<string>; scaleSetSecretName: pulumi.Input<string> };
    options?: GkeBackendOptions;
    /**
     * What the nodes need before they boot under the network's deny-all egress: its allow rules, the
     * restricted-VIP route and the private DNS zones. The cluster depends on them (and on its own
     * control-plane rule), so no node starts while they are still being created.
     */
    networkReady?: pulumi.Resource[];
    /**
     * Google service-account emails of the control plane's broker and webhook receiver: read the runner pods
     * and their EphemeralRunners, and delete EphemeralRunners (controlPlaneAccess.ts). Default none.
     */
    controlPlaneIdentities?: pulumi.Input<string>[];
}

/** The cluster's resources and the scale set's (createGkeCluster, createScaleSet), and the resolved runner namespace. */
export interface GkeBackend extends ScaleSet {
    cluster: gcp.container.Cluster;
    /** The gVisor node pool that runs build pods. */
    nodePool: gcp.container.NodePool;
    /** The non-sandboxed pool GKE Sandbox requires for system pods (kube-dns, ARC controller, listener). */
    systemNodePool: gcp.container.NodePool;
    /** Node egress inside the pool: to its own node/pod ranges, and to its control plane. */
    firewalls: gcp.compute.Firewall[];
    provider: k8s.Provider;
    runnerNamespace: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const EXACT_VERSION = /^\d+\.\d+\.\d+$/;

/**
 * Every problem with the GKE tunables (empty when valid). The pool's ranges and masterCidr were checked by the
 * config's pool validator, which every RunnerPool pool goes through; a normalised pool's gce-only fields are
 * not in what that validator reads, so one of them is checked here.
 */
export function gkeBackendProblems(pool: PoolConfig, options: GkeBackendOptions = {}): string[] {
    const problems: string[] = [];
    if (pool.confidentialCompute) {
        problems.push(`pool.confidentialCompute: true on gke pool "${pool.name}" is not supported; set it to false or use the gce backend.`);
    }
    const version = options.chartVersion ?? DEFAULT_ARC_CHART_VERSION;
    if (!EXACT_VERSION.test(version)) {
        problems.push(`gke.chartVersion: "${version}" must be an exact version such as "${DEFAULT_ARC_CHART_VERSION}" (no ranges: the chart is pinned).`);
    }
    const runnerNamespace = options.runnerNamespace ?? `runners-${pool.name}`;
    const controllerNamespace = options.controllerNamespace ?? "arc-system";
    for (const [field, value] of [
        ["gke.runnerNamespace", runnerNamespace],
        ["gke.controllerNamespace", controllerNamespace],
        ["gke.scaleSetName", options.scaleSetName ?? pool.name],
    ] as const) {
        if (!DNS_LABEL.test(value) || value.length > 45) {
            problems.push(`${field}: "${value}" must be a DNS label of lower-case letters, digits and hyphens, at most 45 characters.`);
        }
    }
    // Compare the effective names: a default on either side can collide with an explicit other.
    if (runnerNamespace === controllerNamespace) {
        problems.push(`gke.runnerNamespace: "${runnerNamespace}" equals gke.controllerNamespace; runner pods must not share the controller's namespace.`);
    }
    const r = options.runnerResources;
    if (r !== undefined) {
        for (const key of ["cpuMillicores", "memoryMiB", "ephemeralStorageGiB"] as const) {
            if (!Number.isInteger(r[key]) || r[key] <= 0) {
                problems.push(`gke.runnerResources.${key}: ${r[key]} must be a positive integer.`);
            }
        }
    }
    if (options.releaseChannel !== undefined && !["RAPID", "REGULAR", "STABLE"].includes(options.releaseChannel)) {
        problems.push(`gke.releaseChannel: "${options.releaseChannel}" must be RAPID, REGULAR or STABLE (a release channel keeps nodes patched, I6).`);
    }
    if (options.apiEndpoint !== undefined && !["dns", "private-ip"].includes(options.apiEndpoint)) {
        problems.push(`gke.apiEndpoint: "${options.apiEndpoint}" must be "dns" or "private-ip".`);
    }
    return problems;
}

/**
 * Creates the cluster, node pools, firewall rules, provider and Kubernetes objects as children of
 * `parent`. Arguments must have passed `gkeBackendProblems`.
 */
export function createGkeBackend(name: string, args: GkeBackendArgs, parent: pulumi.Resource): GkeBackend {
    const { pool } = args;
    const o = args.options ?? {};
    const runnerNamespace = o.runnerNamespace ?? `runners-${pool.name}`;
    const cluster = createGkeCluster(name, {
        pool,
        project: args.project,
        region: args.region,
        network: args.network,
        subnetwork: args.subnetwork,
        secondaryRangeNames: args.secondaryRangeNames,
        nodeServiceAccountEmail: args.nodeServiceAccountEmail,
        networkReady: args.networkReady ?? [],
        releaseChannel: o.releaseChannel ?? "REGULAR",
        deletionProtection: o.deletionProtection ?? true,
        apiEndpoint: o.apiEndpoint ?? "dns",
        systemMachineType: o.systemMachineType ?? "e2-standard-2",
    }, parent);
    const scaleSet = createScaleSet(name, {
        pool,
        project: args.project,
        cluster: cluster.cluster,
        nodePool: cluster.nodePool,
        provider: cluster.provider,
        serviceAccountEmail: args.serviceAccountEmail,
        serviceAccountName: args.serviceAccountName,
        github: args.github,
        runnerNamespace,
        controllerNamespace: o.controllerNamespace ?? "arc-system",
        installController: o.installController ?? true,
        chartVersion: o.chartVersion ?? DEFAULT_ARC_CHART_VERSION,
        scaleSetName: o.scaleSetName ?? pool.name,
        resources: o.runnerResources ?? DEFAULT_RUNNER_RESOURCES,
        readOnlyRootFilesystem: o.readOnlyRootFilesystem,
        ...(args.controlPlaneIdentities !== undefined ? { controlPlaneIdentities: args.controlPlaneIdentities } : {}),
    }, parent);
    return { ...cluster, ...scaleSet, runnerNamespace };
}
