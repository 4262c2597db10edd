/**
 * The GKE backend of a RunnerPool (I1, I2, I5, I6): a private, hardened GKE cluster of the pool's own
 * in the pool's own network, a gVisor runner node pool, and the Kubernetes objects that run one pod
 * per job under Pod Security `restricted` behind default-deny network policies.
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
import { ALLOW_PRIORITY, EGRESS_ALLOWED_TCP_PORTS, RESTRICTED_VIP_CIDR } from "../isolatedNetwork";
import { roleLabels } from "../labels";
import {
    ARC_NONROOT_UID, DEFAULT_RUNNER_RESOURCES, listenerPodTemplate, NODE_CLASS_LABEL, resourceQuantities, restrictedContainerSecurityContext,
    RUNNER_TAINT, RunnerResources, runnerPodTemplate, SYSTEM_TAINT,
} from "./podTemplate";

/** The pinned ARC chart version (gha-runner-scale-set and its controller are released together). */
export const DEFAULT_ARC_CHART_VERSION = "0.12.1";
export const ARC_CHART_REPOSITORY = "oci://ghcr.io/actions/actions-runner-controller-charts";
export const ARC_SCALE_SET_CHART = `${ARC_CHART_REPOSITORY}/gha-runner-scale-set`;
export const ARC_CONTROLLER_CHART = `${ARC_CHART_REPOSITORY}/gha-runner-scale-set-controller`;
/** Name of the ARC controller's Kubernetes service account (set explicitly so the scale set can bind to it). */
export const ARC_CONTROLLER_SERVICE_ACCOUNT = "arc-controller";
/** Pod Security Standard enforced, audited and warned on every namespace of the pool (I6). */
export const POD_SECURITY_LEVEL = "restricted";
/** Link-local addresses of the GKE metadata server (Workload Identity tokens): 80 classic, 988 Dataplane V2. */
export const GKE_METADATA_ENDPOINTS = [
    { cidr: "169.254.169.254/32", port: 80 },
    { cidr: "169.254.169.252/32", port: 988 },
];
/** Destinations an FQDN allow-list rule must never open at pod level: private, shared, link-local, loopback. */
export const NON_PUBLIC_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8"];
/** Node-to-control-plane TCP ports GKE needs opened on an egress-restricted private cluster. */
export const CONTROL_PLANE_PORTS = ["443", "8132", "10250"];
/** Google domains GKE nodes pull system and runner images from, resolved to the restricted VIP. */
export const GKE_RESTRICTED_GOOGLE_DOMAINS = ["gcr.io", "pkg.dev"];

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
}

export interface GkeBackend {
    cluster: gcp.container.Cluster;
    /** The gVisor node pool that runs build pods. */
    nodePool: gcp.container.NodePool;
    /** The non-sandboxed pool GKE Sandbox requires for system pods (kube-dns, ARC controller, listener). */
    systemNodePool: gcp.container.NodePool;
    /** Node egress inside the pool: to its own node/pod ranges, and to its control plane. */
    firewalls: gcp.compute.Firewall[];
    provider: k8s.Provider;
    namespace: k8s.core.v1.Namespace;
    controllerNamespace: k8s.core.v1.Namespace;
    networkPolicies: k8s.networking.v1.NetworkPolicy[];
    resourceQuota: k8s.core.v1.ResourceQuota;
    limitRange: k8s.core.v1.LimitRange;
    serviceAccount: k8s.core.v1.ServiceAccount;
    workloadIdentityBinding: gcp.serviceaccount.IAMMember;
    controllerRelease?: k8s.helm.v3.Release;
    release: k8s.helm.v3.Release;
    /** Resolved names. */
    runnerNamespace: string;
    kubernetesServiceAccount: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const EXACT_VERSION = /^\d+\.\d+\.\d+$/;

/** Every problem with the GKE-specific arguments (empty when valid). */
export function gkeBackendProblems(pool: PoolConfig, options: GkeBackendOptions = {}): string[] {
    const problems: string[] = [];
    if ((pool.podCidr === undefined) !== (pool.serviceCidr === undefined)) {
        problems.push(
            `pool.podCidr/serviceCidr: pool "${pool.name}" sets only ${pool.podCidr !== undefined ? "podCidr" : "serviceCidr"}; ` +
                "set both secondary ranges or neither (GKE then allocates them).",
        );
    }
    if (pool.confidentialCompute) {
        problems.push(`pool.confidentialCompute: true on gke pool "${pool.name}" is not supported; set it to false or use the gce backend.`);
    }
    if (!/\/28$/.test(pool.masterCidr)) {
        problems.push(`pool.masterCidr: "${pool.masterCidr}" must be a /28 (GKE private control-plane range), e.g. "172.16.0.0/28".`);
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

/** Pod Security `restricted` labels (enforce, audit, warn) plus role labels (I6). */
export function podSecurityLabels(pool: string): Record<string, string> {
    const labels: Record<string, string> = roleLabels("runner", pool);
    for (const mode of ["enforce", "audit", "warn"]) {
        labels[`pod-security.kubernetes.io/${mode}`] = POD_SECURITY_LEVEL;
        labels[`pod-security.kubernetes.io/${mode}-version`] = "latest";
    }
    return labels;
}

/** A NetworkPolicy spec as plain data (schema-checked in tests). */
export interface NetworkPolicySpec {
    podSelector: Record<string, any>;
    policyTypes: string[];
    egress?: Record<string, any>[];
}

/** Default deny for every pod of a namespace, ingress and egress. */
export function defaultDenyPolicySpec(): NetworkPolicySpec {
    return { podSelector: {}, policyTypes: ["Ingress", "Egress"] };
}

/**
 * Egress the runner pods need, nothing more (I4): cluster DNS, the GKE metadata server (Workload
 * Identity), the restricted Google APIs VIP and the pool's allow-listed CIDRs. FQDNs cannot be
 * expressed in a core NetworkPolicy: when the pool allow-lists FQDNs, pods may open HTTPS to public
 * addresses and the VPC enforces the FQDN list (the IsolatedNetwork's firewall-policy rule allows only
 * those names, its deny-all egress rule drops the rest; pod traffic leaves through the node NIC).
 */
export function runnerEgressPolicySpec(egress: { cidrs: string[]; fqdns: string[] }): NetworkPolicySpec {
    const rules: Record<string, any>[] = [
        {
            to: [{
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            }],
            ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
        },
        ...GKE_METADATA_ENDPOINTS.map((m) => ({ to: [{ ipBlock: { cidr: m.cidr } }], ports: [{ protocol: "TCP", port: m.port }] })),
        { to: [{ ipBlock: { cidr: RESTRICTED_VIP_CIDR } }], ports: [{ protocol: "TCP", port: 443 }] },
    ];
    // The same ports the VPC opens to the allow-list (numbers: a string port would name a container port).
    const allowListPorts = EGRESS_ALLOWED_TCP_PORTS.map((port) => ({ protocol: "TCP", port: Number(port) }));
    if (egress.cidrs.length > 0) {
        rules.push({ to: egress.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: allowListPorts });
    }
    if (egress.fqdns.length > 0) {
        rules.push({ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [...NON_PUBLIC_RANGES] } }], ports: allowListPorts });
    }
    return { podSelector: {}, policyTypes: ["Egress"], egress: rules };
}

/**
 * Creates the cluster, node pools, firewall rule, provider and Kubernetes objects as children of
 * `parent`. Arguments must have passed `gkeBackendProblems`.
 */
export function createGkeBackend(name: string, args: GkeBackendArgs, parent: pulumi.Resource): GkeBackend {
    const { pool, project, region } = args;
    const o = args.options ?? {};
    const labels = roleLabels("runner", pool.name);
    const runnerNamespace = o.runnerNamespace ?? `runners-${pool.name}`;
    const controllerNamespaceName = o.controllerNamespace ?? "arc-system";
    const ksaName = `${pool.name}-runner`;
    const resources = o.runnerResources ?? DEFAULT_RUNNER_RESOURCES;
    const apiEndpoint = o.apiEndpoint ?? "dns";
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
        deletionProtection: o.deletionProtection ?? true,
        releaseChannel: { channel: o.releaseChannel ?? "REGULAR" },
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
    }, { ...child, dependsOn: [...(args.networkReady ?? []), controlPlaneFirewall, ...(earlyFirewall ? [earlyFirewall] : [])] });

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
            machineType: o.systemMachineType ?? "e2-standard-2",
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
    const k8sOpts = { provider, parent };

    const namespace = new k8s.core.v1.Namespace(`${name}-ns`, {
        metadata: { name: runnerNamespace, labels: podSecurityLabels(pool.name) },
    }, k8sOpts);
    const controllerNamespace = new k8s.core.v1.Namespace(`${name}-controller-ns`, {
        metadata: { name: controllerNamespaceName, labels: podSecurityLabels(pool.name) },
    }, k8sOpts);

    const nsLabels = { ...labels };
    const networkPolicies = [
        new k8s.networking.v1.NetworkPolicy(`${name}-default-deny`, {
            metadata: { name: "default-deny", namespace: namespace.metadata.name, labels: nsLabels },
            spec: defaultDenyPolicySpec(),
        }, k8sOpts),
        new k8s.networking.v1.NetworkPolicy(`${name}-runner-egress`, {
            metadata: { name: "runner-egress", namespace: namespace.metadata.name, labels: nsLabels },
            spec: runnerEgressPolicySpec(pool.egressAllowList),
        }, k8sOpts),
        // Nothing connects to the controller or listener; their egress (API server, GitHub) is bounded by the VPC.
        new k8s.networking.v1.NetworkPolicy(`${name}-controller-deny-ingress`, {
            metadata: { name: "deny-ingress", namespace: controllerNamespace.metadata.name, labels: nsLabels },
            spec: { podSelector: {}, policyTypes: ["Ingress"] },
        }, k8sOpts),
    ];

    // I1: no PVCs; I3: no load balancers or node ports; runners bounded by maxRunners.
    const resourceQuota = new k8s.core.v1.ResourceQuota(`${name}-quota`, {
        metadata: { name: "runner-quota", namespace: namespace.metadata.name, labels: nsLabels },
        spec: {
            hard: {
                pods: String(pool.maxRunners),
                persistentvolumeclaims: "0",
                "services.loadbalancers": "0",
                "services.nodeports": "0",
                ...Object.fromEntries(Object.entries(resourceQuantities(resources, pool.maxRunners)).flatMap(([k, v]) => [[`requests.${k}`, v], [`limits.${k}`, v]])),
            },
        },
    }, k8sOpts);
    const perRunner = resourceQuantities(resources);
    const limitRange = new k8s.core.v1.LimitRange(`${name}-limits`, {
        metadata: { name: "runner-limits", namespace: namespace.metadata.name, labels: nsLabels },
        spec: { limits: [{ type: "Container", default: perRunner, defaultRequest: perRunner, max: perRunner }] },
    }, k8sOpts);

    // I7: no token in the pod; the KSA maps to the pool GSA through Workload Identity only.
    const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-ksa`, {
        metadata: {
            name: ksaName,
            namespace: namespace.metadata.name,
            labels: nsLabels,
            annotations: { "iam.gke.io/gcp-service-account": args.serviceAccountEmail },
        },
        automountServiceAccountToken: false,
    }, k8sOpts);
    // The `<project>.svc.id.goog` identity pool exists only once a Workload Identity cluster does: on a project
    // that never had one, a binding created before the cluster fails with "Identity Pool does not exist".
    const workloadIdentityBinding = new gcp.serviceaccount.IAMMember(`${name}-wi`, {
        serviceAccountId: args.serviceAccountName,
        role: "roles/iam.workloadIdentityUser",
        member: pulumi.interpolate`serviceAccount:${project}.svc.id.goog[${runnerNamespace}/${ksaName}]`,
    }, { ...child, dependsOn: [cluster] });

    const chartVersion = o.chartVersion ?? DEFAULT_ARC_CHART_VERSION;
    let controllerRelease: k8s.helm.v3.Release | undefined;
    if (o.installController ?? true) {
        controllerRelease = new k8s.helm.v3.Release(`${name}-arc-controller`, {
            name: "arc",
            namespace: controllerNamespace.metadata.name,
            chart: ARC_CONTROLLER_CHART,
            version: chartVersion,
            values: {
                labels,
                serviceAccount: { create: true, name: ARC_CONTROLLER_SERVICE_ACCOUNT },
                podSecurityContext: { runAsNonRoot: true, runAsUser: ARC_NONROOT_UID, runAsGroup: ARC_NONROOT_UID, seccompProfile: { type: "RuntimeDefault" } },
                securityContext: restrictedContainerSecurityContext(true),
                nodeSelector: { [NODE_CLASS_LABEL]: "system" },
                tolerations: [{ key: SYSTEM_TAINT.key, operator: "Equal", value: SYSTEM_TAINT.value, effect: SYSTEM_TAINT.effect }],
                flags: { logLevel: "info", watchSingleNamespace: runnerNamespace },
            },
        }, { ...k8sOpts, dependsOn: [controllerNamespace, namespace] });
    }

    // The runner workload: one pod per job (ARC ephemeral runners), no Docker-in-Docker (containerMode
    // unset: dind needs privileged pods), the hardened pod template.
    const scaleSetName = o.scaleSetName ?? pool.name;
    const release = new k8s.helm.v3.Release(`${name}-scale-set`, {
        name: scaleSetName,
        namespace: namespace.metadata.name,
        chart: ARC_SCALE_SET_CHART,
        version: chartVersion,
        values: {
            githubConfigUrl: args.github.configUrl,
            // The NAME of a Secret created out of band; no credential passes through Pulumi (I7).
            githubConfigSecret: args.github.scaleSetSecretName,
            runnerScaleSetName: scaleSetName,
            // A runner group restricted to the repositories and workflows allowed to use this pool.
            ...(pool.runnerGroupName !== undefined ? { runnerGroup: pool.runnerGroupName } : {}),
            minRunners: pool.minRunners,
            maxRunners: pool.maxRunners,
            controllerServiceAccount: { namespace: controllerNamespaceName, name: ARC_CONTROLLER_SERVICE_ACCOUNT },
            labels,
            listenerTemplate: listenerPodTemplate({ pool: pool.name }),
            template: runnerPodTemplate({
                pool: pool.name,
                image: pool.image,
                serviceAccountName: ksaName,
                activeDeadlineSeconds: pool.maxBuildDurationSeconds,
                resources,
                readOnlyRootFilesystem: o.readOnlyRootFilesystem,
            }),
        },
    }, {
        ...k8sOpts,
        // Real ordering: CRDs and the controller SA come from the controller chart; runner pods need the
        // KSA, and must never start before the deny policies, quota and limits exist.
        dependsOn: [
            ...(controllerRelease ? [controllerRelease] : []),
            serviceAccount, workloadIdentityBinding, ...networkPolicies, resourceQuota, limitRange, nodePool,
        ],
    });

    return {
        cluster, nodePool, systemNodePool, firewalls: [clusterFirewall, controlPlaneFirewall], provider, namespace, controllerNamespace, networkPolicies,
        resourceQuota, limitRange, serviceAccount, workloadIdentityBinding, controllerRelease, release,
        runnerNamespace, kubernetesServiceAccount: ksaName,
    };
}
