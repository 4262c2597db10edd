/**
 * The ARC runner scale set of a GKE RunnerPool (I1, I2, I6, I7): the runner and controller namespaces
 * under Pod Security `restricted`, default-deny network policies, quota and limits, the runners' Kubernetes
 * service account bound to the pool SA through Workload Identity, the ARC controller and the scale set
 * that runs one pod per job. The cluster it runs in is gkeCluster.ts.
 */
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PoolConfig } from "../config";
import { ControlPlaneAccess, controlPlaneRunnerAccess } from "./controlPlaneAccess";
import { EGRESS_ALLOWED_TCP_PORTS, RESTRICTED_VIP_CIDR } from "../isolatedNetwork";
import { roleLabels } from "../labels";
import {
    ARC_NONROOT_UID, listenerPodTemplate, NODE_CLASS_LABEL, resourceQuantities, restrictedContainerSecurityContext,
    RunnerResources, runnerPodTemplate, SYSTEM_TAINT,
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

/** The scale set's inputs, options already resolved to their defaults by the backend. */
export interface ScaleSetArgs {
    pool: PoolConfig;
    project: pulumi.Input<string>;
    /** The pool's cluster: the Workload Identity pool exists only once it does. */
    cluster: gcp.container.Cluster;
    /** The gVisor node pool the runner pods need. */
    nodePool: gcp.container.NodePool;
    provider: k8s.Provider;
    /** Pool SA: through Workload Identity, the runner pods' identity. Never the nodes'. */
    serviceAccountEmail: pulumi.Input<string>;
    /** Full resource name of the pool SA (`projects/p/serviceAccounts/email`). */
    serviceAccountName: pulumi.Input<string>;
    github: { configUrl: pulumi.Input<string>; scaleSetSecretName: pulumi.Input<string> };
    runnerNamespace: string;
    controllerNamespace: string;
    installController: boolean;
    chartVersion: string;
    scaleSetName: string;
    resources: RunnerResources;
    readOnlyRootFilesystem?: boolean;
    /** Google service-account emails of the control plane (broker, webhook receiver); see controlPlaneAccess.ts. Default none. */
    controlPlaneIdentities?: pulumi.Input<string>[];
}

export interface ScaleSet {
    namespace: k8s.core.v1.Namespace;
    controllerNamespace: k8s.core.v1.Namespace;
    networkPolicies: k8s.networking.v1.NetworkPolicy[];
    resourceQuota: k8s.core.v1.ResourceQuota;
    limitRange: k8s.core.v1.LimitRange;
    serviceAccount: k8s.core.v1.ServiceAccount;
    /** The control plane's Role and RoleBinding in the runner namespace, when identities were given. */
    controlPlaneAccess?: ControlPlaneAccess;
    workloadIdentityBinding: gcp.serviceaccount.IAMMember;
    controllerRelease?: k8s.helm.v3.Release;
    release: k8s.helm.v3.Release;
    kubernetesServiceAccount: string;
}

/** Creates the Kubernetes objects, the Workload Identity binding and the ARC releases as children of `parent`. */
export function createScaleSet(name: string, args: ScaleSetArgs, parent: pulumi.Resource): ScaleSet {
    const { pool, project, provider, cluster, nodePool, runnerNamespace, resources } = args;
    const labels = roleLabels("runner", pool.name);
    const controllerNamespaceName = args.controllerNamespace;
    const ksaName = `${pool.name}-runner`;
    const child = { parent };
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
    const controlPlaneAccess = (args.controlPlaneIdentities ?? []).length > 0
        ? controlPlaneRunnerAccess(name, { namespace: namespace.metadata.name, identities: args.controlPlaneIdentities!, labels: nsLabels }, k8sOpts)
        : undefined;
    const workloadIdentityBinding = new gcp.serviceaccount.IAMMember(`${name}-wi`, {
        serviceAccountId: args.serviceAccountName,
        role: "roles/iam.workloadIdentityUser",
        member: pulumi.interpolate`serviceAccount:${project}.svc.id.goog[${runnerNamespace}/${ksaName}]`,
    }, { ...child, dependsOn: [cluster] });

    const chartVersion = args.chartVersion;
    let controllerRelease: k8s.helm.v3.Release | undefined;
    if (args.installController) {
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
    const scaleSetName = args.scaleSetName;
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
                readOnlyRootFilesystem: args.readOnlyRootFilesystem,
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
        namespace, controllerNamespace, networkPolicies, resourceQuota, limitRange, serviceAccount, ...(controlPlaneAccess ? { controlPlaneAccess } : {}), workloadIdentityBinding,
        controllerRelease, release, kubernetesServiceAccount: ksaName,
    };
}
