/**
 * The cluster of a GKE RunnerPool (I3, I5, I6): a private, hardened GKE cluster of the pool's own in the
 * pool's own network, its node pools (gVisor runners, one small system pool), the node firewall rules and
 * the Kubernetes provider that reaches its control plane. The ARC scale set inside it is scaleSet.ts.
 *
 * Why a cluster per pool and not a fleet cluster with a node pool per pool (I5): a shared cluster
 * shares a control plane, cluster DNS, the Workload Identity pool's cluster-scoped objects, the node
 * network and the ARC controller (which holds every pool's GitHub credentials) between pools; a
 * cluster per pool keeps each pool's nodes, pods and control-plane endpoint inside that pool's own
 * VPC with no path to another pool's.
 */
import * as crypto from "crypto";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PoolConfig } from "../config";
import { ALLOW_PRIORITY } from "../isolatedNetwork";
import { roleLabels } from "../labels";
import { NODE_CLASS_LABEL, RUNNER_TAINT, SYSTEM_TAINT } from "./podTemplate";

/** Node-to-control-plane TCP ports GKE needs opened on an egress-restricted private cluster. */
export const CONTROL_PLANE_PORTS = ["443", "8132", "10250"];
/** Google domains GKE nodes pull system and runner images from, resolved to the restricted VIP. */
export const GKE_RESTRICTED_GOOGLE_DOMAINS = ["gcr.io", "pkg.dev"];

/** A GKE cluster name (at most 40 characters) derived from the component name, hashed when shortened. */
export function clusterNameFor(name: string): string {
    const base = name.toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/-+/g, "-").replace(/^-+|-+$/g, "");
    const safe = /^[a-z]/.test(base) ? base : `c-${base}`;
    if (safe.length <= 40) {
        return safe;
    }
    const hash = crypto.createHash("sha256").update(name).digest("hex").slice(0, 6);
    return `${safe.slice(0, 33).replace(/-+$/, "")}-${hash}`;
}

/** A kubeconfig (JSON is valid YAML) that authenticates with gke-gcloud-auth-plugin: no static credential. */
export function gkeKubeconfig(clusterName: string, server: string, caData?: string): string {
    return JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: clusterName, cluster: { server, ...(caData ? { "certificate-authority-data": caData } : {}) } }],
        contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
        "current-context": clusterName,
        users: [{
            name: clusterName,
            user: {
                exec: {
                    apiVersion: "client.authentication.k8s.io/v1beta1",
                    command: "gke-gcloud-auth-plugin",
                    installHint: "Install gke-gcloud-auth-plugin: https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl",
                    provideClusterInfo: true,
                },
            },
        }],
    });
}

/** The cluster's inputs, options already resolved to their defaults by the backend. */
export interface GkeClusterArgs {
    pool: PoolConfig;
    project: pulumi.Input<string>;
    region: pulumi.Input<string>;
    network: pulumi.Input<string>;
    subnetwork: pulumi.Input<string>;
    /** Secondary range names in the pool's subnet, when podCidr/serviceCidr are configured. */
    secondaryRangeNames?: { pods: string; services: string };
    /** The nodes' own SA (logs and metrics of the node agents); pods never see it (GKE_METADATA). */
    nodeServiceAccountEmail: pulumi.Input<string>;
    /** What the nodes need before they boot under the network's deny-all egress (see GkeBackendArgs). */
    networkReady: pulumi.Resource[];
    releaseChannel: "RAPID" | "REGULAR" | "STABLE";
    deletionProtection: boolean;
    apiEndpoint: "dns" | "private-ip";
    systemMachineType: string;
}

export interface GkeCluster {
    cluster: gcp.container.Cluster;
    nodePool: gcp.container.NodePool;
    systemNodePool: gcp.container.NodePool;
    /** The intra-pool rule, then the control-plane rule. */
    firewalls: gcp.compute.Firewall[];
    /** Reaches the cluster once its system pool runs; every Kubernetes object of the pool uses it. */
    provider: k8s.Provider;
}

/** Creates the firewall rules, the cluster, its node pools and the Kubernetes provider as children of `parent`. */
export function createGkeCluster(name: string, args: GkeClusterArgs, parent: pulumi.Resource): GkeCluster {
    const { pool, project, region, apiEndpoint } = args;
    const labels = roleLabels("runner", pool.name);
    const child = { parent };

    // I6: shielded nodes with GKE_METADATA (the node SA is hidden from pods) on every node pool. I7: the
    // nodes run as their own SA, never as the build's Workload Identity SA.
    const hardenedNodeConfig = {
        serviceAccount: args.nodeServiceAccountEmail,
        oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
        imageType: "COS_CONTAINERD",
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
        workloadMetadataConfig: { mode: "GKE_METADATA" },
        metadata: { "disable-legacy-endpoints": "true", "block-project-ssh-keys": "TRUE", "serial-port-enable": "FALSE" },
    };

    // Created before the cluster: nodes (the default pool's too) must reach their control plane from their first boot.
    const controlPlaneFirewall = new gcp.compute.Firewall(`${name}-gke-control-plane`, {
        project,
        network: args.network,
        direction: "EGRESS",
        priority: ALLOW_PRIORITY,
        destinationRanges: [pool.masterCidr],
        allows: [{ protocol: "tcp", ports: [...CONTROL_PLANE_PORTS] }],
        logConfig: { metadata: "INCLUDE_ALL_METADATA" },
        description: `GKE pool ${pool.name}: nodes to their private control plane`,
    }, child);

    // The IsolatedNetwork denies all egress; nodes and pods still need their own ranges and the control
    // plane. Only this pool's ranges (I5). GKE allocates the pod range when podCidr is not configured, and the
    // rule then follows the cluster; with a configured podCidr the cluster waits for it.
    const intraPoolFirewall = (podRange: pulumi.Output<string | undefined>) => new gcp.compute.Firewall(`${name}-gke-egress`, {
        project,
        network: args.network,
        direction: "EGRESS",
        priority: ALLOW_PRIORITY,
        destinationRanges: podRange.apply((p) => [pool.cidr, ...(p ? [p] : [])]),
        allows: [{ protocol: "all" }],
        logConfig: { metadata: "INCLUDE_ALL_METADATA" },
        description: `GKE pool ${pool.name}: node and pod traffic inside the pool's own cluster`,
    }, child);
    const earlyFirewall = pool.podCidr !== undefined ? intraPoolFirewall(pulumi.output(pool.podCidr)) : undefined;

    const cluster = new gcp.container.Cluster(`${name}-cluster`, {
        project,
        location: region,
        name: clusterNameFor(name),
        description: `hardened-build-fleet runner cluster of pool ${pool.name}`,
        // I5: the pool's own VPC and subnet.
        network: args.network,
        subnetwork: args.subnetwork,
        networkingMode: "VPC_NATIVE",
        ipAllocationPolicy: args.secondaryRangeNames !== undefined
            ? { clusterSecondaryRangeName: args.secondaryRangeNames.pods, servicesSecondaryRangeName: args.secondaryRangeNames.services }
            : {},
        // Node pools are managed below; the default pool is removed right after creation.
        removeDefaultNodePool: true,
        initialNodeCount: 1,
        nodeConfig: { ...hardenedNodeConfig, resourceLabels: labels },
        deletionProtection: args.deletionProtection,
        releaseChannel: { channel: args.releaseChannel },
        // I3: private nodes and no public control-plane IP; Pulumi and kubectl use the IAM-gated DNS endpoint.
        privateClusterConfig: {
            enablePrivateNodes: true,
            enablePrivateEndpoint: true,
            masterIpv4CidrBlock: pool.masterCidr,
            masterGlobalAccessConfig: { enabled: false },
        },
        controlPlaneEndpointsConfig: { dnsEndpointConfig: { allowExternalTraffic: apiEndpoint === "dns" } },
        masterAuthorizedNetworksConfig: { gcpPublicCidrsAccessEnabled: false },
        // I6: no client certificates, no legacy ABAC, shielded nodes, Workload Identity, Dataplane V2
        // (which enforces NetworkPolicy).
        masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
        enableLegacyAbac: false,
        enableShieldedNodes: true,
        workloadIdentityConfig: { workloadPool: pulumi.interpolate`${project}.svc.id.goog` },
        datapathProvider: "ADVANCED_DATAPATH",
        resourceLabels: labels,
    }, { ...child, dependsOn: [...args.networkReady, controlPlaneFirewall, ...(earlyFirewall ? [earlyFirewall] : [])] });

    const clusterRef = { project, location: region, cluster: cluster.name };
    const clusterFirewall = earlyFirewall ?? intraPoolFirewall(cluster.clusterIpv4Cidr);

    // GKE Sandbox needs one non-sandboxed pool for system pods; its taint keeps everything else off it.
    const systemLabels = roleLabels("runner", pool.name, { [NODE_CLASS_LABEL]: "system" });
    const systemNodePool = new gcp.container.NodePool(`${name}-system`, {
        ...clusterRef,
        namePrefix: "system-",
        nodeCount: 1,
        management: { autoRepair: true, autoUpgrade: true },
        nodeConfig: {
            ...hardenedNodeConfig,
            machineType: args.systemMachineType,
            labels: systemLabels,
            resourceLabels: systemLabels,
            taints: [{ key: SYSTEM_TAINT.key, value: SYSTEM_TAINT.value, effect: "NO_SCHEDULE" }],
        },
    }, { ...child, dependsOn: [clusterFirewall] });

    // I6: build pods run only here, in the gVisor sandbox, on tainted nodes; I1: autoscaled from zero.
    const runnerLabels = roleLabels("runner", pool.name, { [NODE_CLASS_LABEL]: "runner" });
    const nodePool = new gcp.container.NodePool(`${name}-runners`, {
        ...clusterRef,
        namePrefix: "runners-",
        initialNodeCount: 0,
        autoscaling: {
            totalMinNodeCount: 0,
            totalMaxNodeCount: pool.maxRunners,
            locationPolicy: pool.spot ? "ANY" : "BALANCED",
        },
        management: { autoRepair: true, autoUpgrade: true },
        nodeConfig: {
            ...hardenedNodeConfig,
            machineType: pool.machineType,
            spot: pool.spot,
            sandboxConfig: { type: "GVISOR" },
            labels: runnerLabels,
            resourceLabels: runnerLabels,
            taints: [{ key: RUNNER_TAINT.key, value: RUNNER_TAINT.value, effect: "NO_SCHEDULE" }],
        },
    }, { ...child, dependsOn: [clusterFirewall] });

    const kubeconfig = pulumi
        .all([cluster.name, cluster.endpoint, cluster.masterAuth, cluster.controlPlaneEndpointsConfig])
        .apply(([clusterName, endpoint, masterAuth, endpoints]) => {
            const dns = endpoints?.dnsEndpointConfig?.endpoint;
            // The DNS endpoint serves a publicly trusted certificate; the IP endpoint needs the cluster CA.
            return apiEndpoint === "dns" && dns
                ? gkeKubeconfig(clusterName, `https://${dns}`)
                : gkeKubeconfig(clusterName, `https://${endpoint}`, masterAuth?.clusterCaCertificate);
        });
    const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig, enableServerSideApply: true }, {
        ...child,
        dependsOn: [systemNodePool, controlPlaneFirewall],
    });

    return { cluster, nodePool, systemNodePool, firewalls: [clusterFirewall, controlPlaneFirewall], provider };
}
