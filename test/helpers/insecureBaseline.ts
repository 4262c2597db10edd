/**
 * A minimal, fully secure build fleet written from RAW @pulumi/gcp and @pulumi/kubernetes resources
 * (none of this package's components), as a stranger to the package would write it:
 *
 * - pool `vm` (Compute Engine): VPC + subnet (flow logs, private Google access), deny-all ingress and
 *   egress, HTTPS allow to the restricted VIP, private googleapis.com zone; its own runner SA; a
 *   hardened, labelled instance template and a stateless regional MIG;
 * - pool `k8s` (GKE): the same network shape; its own runner SA; a private hardened cluster, a gVisor
 *   node pool, a Pod Security `restricted` namespace and a hardened runner Pod;
 * - the control-plane SA; a labelled intake bucket per pool where the pool's runner SA is
 *   objectCreator only and the control plane reads;
 * - the signer enclave in its own project: isolated network, protected key ring, protected HSM
 *   ASYMMETRIC_SIGN key, signer SA with an authoritative key binding, an internal-only signer Cloud
 *   Run service running as the signer SA and invokable by the control plane only, a provenance
 *   bucket written by the signer only, and data-access audit logs for Cloud KMS.
 *
 * Every rule of the pack reports nothing on it (normal and preview). The insecure variants
 * (cases.ts) change exactly one thing through `Mutations`: argument edits before a resource is
 * registered, resource options, omissions, and resources added afterwards.
 */
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { addPerimeterAndGuardrails } from "./perimeterFixture";

export const WORKER_PROJECT = "acme-workers";
export const SIGNER_PROJECT = "acme-signer";
export const REGION = "europe-west1";
export const STACK_CONFIG = { "gcp:project": WORKER_PROJECT, "gcp:region": REGION };

/** Pool names (the `build-fleet-pool` label) and their subnet ranges. */
export const POOLS = {
    vm: { pool: "linux-vm", cidr: "10.10.0.0/24" },
    k8s: { pool: "containers", cidr: "10.20.0.0/22", podCidr: "10.64.0.0/16", serviceCidr: "10.65.0.0/20", masterCidr: "172.16.0.16/28" },
} as const;
export const SIGNER_CIDR = "10.200.0.0/26";
/** The baseline VM lifetime; the policy's default bound is 86400 s. */
export const MAX_RUN_SECONDS = 3600;

/** Logical names of the resources the cases name as offenders (each is unique in the stack). */
export const R = {
    vmNetwork: "vm-net",
    vmSubnet: "vm-subnet",
    vmSa: "vm-runner-sa",
    vmTemplate: "vm-template",
    vmMig: "vm-mig",
    vmIntake: "vm-intake",
    vmIntakeCreator: "vm-intake-creator",
    k8sNetwork: "k8s-net",
    k8sSubnet: "k8s-subnet",
    k8sSa: "k8s-runner-sa",
    k8sCluster: "k8s-cluster",
    k8sNodePool: "k8s-runner-nodes",
    k8sNamespace: "k8s-runner-ns",
    k8sPod: "k8s-runner-pod",
    k8sIntake: "k8s-intake",
    controlPlaneSa: "control-plane-sa",
    signerNetwork: "signer-net",
    signerRing: "signer-ring",
    signerKey: "signer-key",
    signerSa: "signer-sa",
    signerKeyBinding: "signer-key-signer",
    signerService: "signer-service",
    signerInvokers: "signer-invokers",
    provenance: "provenance",
    kmsAudit: "signer-kms-audit",
} as const;

function labels(role: "runner" | "signer" | "control-plane", pool?: string): Record<string, string> {
    return pool ? { "build-fleet-role": role, "build-fleet-pool": pool } : { "build-fleet-role": role };
}

export interface IsolatedNet {
    network: gcp.compute.Network;
    subnet: gcp.compute.Subnetwork;
    /** The private googleapis.com zone. */
    zone: gcp.dns.ManagedZone;
}

/** What exists before any compute or grant is registered: networks and identities. */
export interface Core {
    vm: IsolatedNet & { sa: gcp.serviceaccount.Account };
    k8s: IsolatedNet & { sa: gcp.serviceaccount.Account };
    signer: IsolatedNet & { sa: gcp.serviceaccount.Account };
    controlPlaneSa: gcp.serviceaccount.Account;
}

/** Every handle of the baseline, for resources added after it is built. */
export interface Handles extends Core {
    vmTemplate: gcp.compute.InstanceTemplate;
    vmMig: gcp.compute.RegionInstanceGroupManager;
    k8sCluster: gcp.container.Cluster;
    k8sNodePool: gcp.container.NodePool;
    k8sNamespace: k8s.core.v1.Namespace;
    k8sPod: k8s.core.v1.Pod;
    /** The runner cluster's Kubernetes provider (objects of that cluster must use it). */
    k8sProvider: k8s.Provider;
    intake: { vm: gcp.storage.Bucket; k8s: gcp.storage.Bucket };
    ring: gcp.kms.KeyRing;
    key: gcp.kms.CryptoKey;
    keyBinding: gcp.kms.CryptoKeyIAMBinding;
    service: gcp.cloudrunv2.Service;
    provenance: gcp.storage.Bucket;
}

/** Resources whose arguments a variant may edit before they are registered. */
export type Editable =
    | "vmTemplate" | "vmMig" | "k8sCluster" | "k8sNodePool" | "k8sNamespace" | "k8sPod"
    | "signerRing" | "signerKey" | "signerService";

/** Parts of the baseline a variant may leave out. */
export type Omittable = "kmsAudit" | "vmEgressDeny" | "vmFlowLogs" | "k8sDefaultDeny";

/**
 * One variant's changes to the baseline. `args` edits receive the plain argument object (nested
 * objects and arrays are plain; only leaves may be Outputs) and the core handles, and change it in
 * place; `opts` edits the resource options; `after` runs once the baseline is registered.
 */
export interface Mutations {
    args: { [K in Editable]?: (args: Record<string, any>, core: Core) => void };
    /** Edits a VPC's arguments (registered before any handle exists). */
    network?: (zone: "vm" | "k8s" | "signer", args: Record<string, any>) => void;
    opts: { [K in Editable]?: (opts: pulumi.CustomResourceOptions) => void };
    omit: Set<Omittable>;
    after: ((h: Handles) => void)[];
}

export function noMutations(): Mutations {
    return { args: {}, opts: {}, omit: new Set(), after: [] };
}

/** Applies the variant's edits to one resource's arguments and options. */
function edited<A extends object>(m: Mutations, key: Editable, core: Core, args: A, opts: pulumi.CustomResourceOptions = {}): [A, pulumi.CustomResourceOptions] {
    m.args[key]?.(args as Record<string, any>, core);
    m.opts[key]?.(opts);
    return [args, opts];
}

/**
 * An isolated network (I4, I5, I12): VPC without auto subnets; subnet with flow logs and private
 * Google access; deny-all ingress and egress at the lowest priority; HTTPS to the restricted VIP;
 * a private googleapis.com zone resolving to restricted.googleapis.com.
 */
function isolatedNetwork(prefix: "vm" | "k8s" | "signer", project: string, cidr: string, zoneLabels: Record<string, string>, m: Mutations,
    secondary?: { name: string; cidr: string }[]): IsolatedNet {
    const networkArgs: gcp.compute.NetworkArgs = { project, autoCreateSubnetworks: false, routingMode: "REGIONAL" };
    m.network?.(prefix, networkArgs as Record<string, any>);
    const network = new gcp.compute.Network(`${prefix}-net`, networkArgs);
    const subnet = new gcp.compute.Subnetwork(`${prefix}-subnet`, {
        project,
        region: REGION,
        network: network.id,
        ipCidrRange: cidr,
        privateIpGoogleAccess: true,
        secondaryIpRanges: secondary?.map((s) => ({ rangeName: s.name, ipCidrRange: s.cidr })),
        logConfig: prefix === "vm" && m.omit.has("vmFlowLogs")
            ? undefined
            : { aggregationInterval: "INTERVAL_5_SEC", flowSampling: 1, metadata: "INCLUDE_ALL_METADATA" },
    });
    new gcp.compute.Firewall(`${prefix}-deny-ingress`, {
        project, network: network.id, direction: "INGRESS", priority: 65534,
        sourceRanges: ["0.0.0.0/0"], denies: [{ protocol: "all" }],
    });
    if (!(prefix === "vm" && m.omit.has("vmEgressDeny"))) {
        new gcp.compute.Firewall(`${prefix}-deny-egress`, {
            project, network: network.id, direction: "EGRESS", priority: 65534,
            destinationRanges: ["0.0.0.0/0"], denies: [{ protocol: "all" }],
        });
    }
    new gcp.compute.Firewall(`${prefix}-allow-restricted-vip`, {
        project, network: network.id, direction: "EGRESS", priority: 1000,
        destinationRanges: ["199.36.153.4/30"], allows: [{ protocol: "tcp", ports: ["443"] }],
    });
    const zone = new gcp.dns.ManagedZone(`${prefix}-googleapis`, {
        project, dnsName: "googleapis.com.", visibility: "private", labels: zoneLabels,
        privateVisibilityConfig: { networks: [{ networkUrl: network.id }] },
    });
    new gcp.dns.RecordSet(`${prefix}-googleapis-cname`, {
        project, managedZone: zone.name, name: "*.googleapis.com.", type: "CNAME", ttl: 300, rrdatas: ["restricted.googleapis.com."],
    });
    new gcp.dns.RecordSet(`${prefix}-googleapis-a`, {
        project, managedZone: zone.name, name: "restricted.googleapis.com.", type: "A", ttl: 300,
        rrdatas: ["199.36.153.4", "199.36.153.5", "199.36.153.6", "199.36.153.7"],
    });
    return { network, subnet, zone };
}

/** Registers the baseline with the variant's mutations applied, and returns its handles. */
export function buildBaseline(m: Mutations = noMutations()): Handles {
    // ---- identities and networks
    const controlPlaneSa = new gcp.serviceaccount.Account(R.controlPlaneSa, { project: WORKER_PROJECT, accountId: "fleet-control-plane" });
    const runnerSa = (key: "vm" | "k8s", name: string) => {
        const sa = new gcp.serviceaccount.Account(name, { project: WORKER_PROJECT, accountId: `runner-${POOLS[key].pool}`, displayName: `runners of pool ${POOLS[key].pool}` });
        // I7: least privilege, logs only.
        new gcp.projects.IAMMember(`${key}-runner-logwriter`, { project: WORKER_PROJECT, role: "roles/logging.logWriter", member: sa.member });
        return sa;
    };
    const core: Core = {
        vm: { ...isolatedNetwork("vm", WORKER_PROJECT, POOLS.vm.cidr, labels("runner", POOLS.vm.pool), m), sa: runnerSa("vm", R.vmSa) },
        k8s: {
            ...isolatedNetwork("k8s", WORKER_PROJECT, POOLS.k8s.cidr, labels("runner", POOLS.k8s.pool), m, [
                { name: "pods", cidr: POOLS.k8s.podCidr },
                { name: "services", cidr: POOLS.k8s.serviceCidr },
            ]),
            sa: runnerSa("k8s", R.k8sSa),
        },
        signer: {
            ...isolatedNetwork("signer", SIGNER_PROJECT, SIGNER_CIDR, labels("signer"), m),
            sa: new gcp.serviceaccount.Account(R.signerSa, { project: SIGNER_PROJECT, accountId: "provenance-signer" }),
        },
        controlPlaneSa,
    };

    // ---- pool `k8s`: private hardened GKE cluster, gVisor node pool, restricted namespace, runner pod
    const k8sLabels = labels("runner", POOLS.k8s.pool);
    const clusterName = "containers-runners";
    const [clusterArgs, clusterOpts] = edited(m, "k8sCluster", core, {
        project: WORKER_PROJECT,
        location: REGION,
        name: clusterName,
        network: core.k8s.network.id,
        subnetwork: core.k8s.subnet.id,
        networkingMode: "VPC_NATIVE",
        ipAllocationPolicy: { clusterSecondaryRangeName: "pods", servicesSecondaryRangeName: "services" },
        removeDefaultNodePool: true,
        initialNodeCount: 1,
        deletionProtection: true,
        releaseChannel: { channel: "REGULAR" },
        privateClusterConfig: {
            enablePrivateNodes: true,
            enablePrivateEndpoint: true,
            masterIpv4CidrBlock: POOLS.k8s.masterCidr,
            masterGlobalAccessConfig: { enabled: false },
        },
        masterAuthorizedNetworksConfig: { gcpPublicCidrsAccessEnabled: false },
        masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
        enableLegacyAbac: false,
        enableShieldedNodes: true,
        workloadIdentityConfig: { workloadPool: `${WORKER_PROJECT}.svc.id.goog` },
        datapathProvider: "ADVANCED_DATAPATH",
        resourceLabels: k8sLabels,
        nodeConfig: {
            serviceAccount: core.k8s.sa.email,
            shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
            workloadMetadataConfig: { mode: "GKE_METADATA" },
            resourceLabels: k8sLabels,
        },
    } satisfies gcp.container.ClusterArgs);
    const k8sCluster = new gcp.container.Cluster(R.k8sCluster, clusterArgs, clusterOpts);

    const [poolArgs, poolOpts] = edited(m, "k8sNodePool", core, {
        project: WORKER_PROJECT,
        location: REGION,
        cluster: k8sCluster.name,
        initialNodeCount: 0,
        autoscaling: { totalMinNodeCount: 0, totalMaxNodeCount: 10 },
        management: { autoRepair: true, autoUpgrade: true },
        nodeConfig: {
            machineType: "n2-standard-8",
            imageType: "COS_CONTAINERD",
            serviceAccount: core.k8s.sa.email,
            oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
            sandboxConfig: { type: "GVISOR" },
            workloadMetadataConfig: { mode: "GKE_METADATA" },
            shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
            metadata: { "disable-legacy-endpoints": "true" },
            labels: k8sLabels,
            resourceLabels: k8sLabels,
            taints: [{ key: "build-fleet-role", value: "runner", effect: "NO_SCHEDULE" }],
        },
    } satisfies gcp.container.NodePoolArgs);
    const k8sNodePool = new gcp.container.NodePool(R.k8sNodePool, poolArgs, poolOpts);

    const kubeconfig = pulumi.all([k8sCluster.name, k8sCluster.endpoint, k8sCluster.masterAuth]).apply(([name, endpoint, auth]) => JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name, cluster: { server: `https://${endpoint}`, "certificate-authority-data": auth?.clusterCaCertificate } }],
        contexts: [{ name, context: { cluster: name, user: name } }],
        "current-context": name,
        users: [{ name, user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "gke-gcloud-auth-plugin" } } }],
    }));
    const provider = new k8s.Provider("k8s-provider", { kubeconfig }, { dependsOn: [k8sNodePool] });

    const [nsArgs, nsOpts] = edited(m, "k8sNamespace", core, {
        metadata: {
            name: "runners",
            labels: {
                ...k8sLabels,
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
            },
        },
    } satisfies k8s.core.v1.NamespaceArgs, { provider });
    const k8sNamespace = new k8s.core.v1.Namespace(R.k8sNamespace, nsArgs, nsOpts);

    const ksa = new k8s.core.v1.ServiceAccount("k8s-runner-ksa", {
        metadata: { name: "runner", namespace: k8sNamespace.metadata.name, labels: k8sLabels, annotations: { "iam.gke.io/gcp-service-account": core.k8s.sa.email } },
        automountServiceAccountToken: false,
    }, { provider });
    // I4/I5: runner pods accept and open no connection the namespace does not allow.
    if (!m.omit.has("k8sDefaultDeny")) {
        new k8s.networking.v1.NetworkPolicy("k8s-runner-default-deny", {
            metadata: { name: "default-deny", namespace: k8sNamespace.metadata.name, labels: k8sLabels },
            spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        }, { provider });
    }
    // Workload Identity: the runner KSA acts as the pool's own SA (and nothing else).
    new gcp.serviceaccount.IAMMember("k8s-runner-workload-identity", {
        serviceAccountId: core.k8s.sa.name,
        role: "roles/iam.workloadIdentityUser",
        member: `serviceAccount:${WORKER_PROJECT}.svc.id.goog[runners/runner]`,
    });

    const restricted = {
        allowPrivilegeEscalation: false,
        privileged: false,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
    const [podArgs, podOpts] = edited(m, "k8sPod", core, {
        metadata: { name: "runner-0", namespace: k8sNamespace.metadata.name, labels: k8sLabels },
        spec: {
            runtimeClassName: "gvisor",
            serviceAccountName: ksa.metadata.name,
            automountServiceAccountToken: false,
            activeDeadlineSeconds: MAX_RUN_SECONDS,
            restartPolicy: "Never",
            hostNetwork: false,
            hostPID: false,
            hostIPC: false,
            nodeSelector: k8sLabels,
            tolerations: [{ key: "build-fleet-role", operator: "Equal", value: "runner", effect: "NoSchedule" }],
            securityContext: { runAsNonRoot: true, runAsUser: 1001, runAsGroup: 1001, fsGroup: 1001, seccompProfile: { type: "RuntimeDefault" } },
            containers: [{
                name: "runner",
                image: "ghcr.io/actions/actions-runner:2.321.0",
                command: ["/home/runner/run.sh"],
                securityContext: { ...restricted },
                volumeMounts: [{ name: "work", mountPath: "/home/runner/_work" }],
            }],
            volumes: [{ name: "work", emptyDir: { sizeLimit: "20Gi" } }],
        },
    } satisfies k8s.core.v1.PodArgs, { provider });
    const k8sPod = new k8s.core.v1.Pod(R.k8sPod, podArgs, podOpts);

    // ---- pool `vm`: hardened instance template and a stateless MIG
    const vmLabels = labels("runner", POOLS.vm.pool);
    const [templateArgs, templateOpts] = edited(m, "vmTemplate", core, {
        project: WORKER_PROJECT,
        region: REGION,
        namePrefix: "linux-vm-",
        machineType: "e2-standard-4",
        labels: vmLabels,
        disks: [{ boot: true, autoDelete: true, sourceImage: "projects/acme-images/global/images/family/gha-runner", diskSizeGb: 50, diskType: "pd-balanced" }],
        networkInterfaces: [{ network: core.vm.network.id, subnetwork: core.vm.subnet.id }],
        canIpForward: false,
        metadata: { "block-project-ssh-keys": "TRUE", "serial-port-enable": "FALSE", "enable-oslogin": "TRUE" },
        shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
        scheduling: {
            maxRunDuration: { seconds: MAX_RUN_SECONDS },
            instanceTerminationAction: "DELETE",
            automaticRestart: false,
            onHostMaintenance: "MIGRATE",
            provisioningModel: "STANDARD",
        },
        serviceAccount: { email: core.vm.sa.email, scopes: ["cloud-platform"] },
    } satisfies gcp.compute.InstanceTemplateArgs);
    const vmTemplate = new gcp.compute.InstanceTemplate(R.vmTemplate, templateArgs, templateOpts);

    const [migArgs, migOpts] = edited(m, "vmMig", core, {
        project: WORKER_PROJECT,
        region: REGION,
        baseInstanceName: "linux-vm-runner",
        versions: [{ name: "primary", instanceTemplate: vmTemplate.selfLinkUnique }],
        updatePolicy: { type: "OPPORTUNISTIC", minimalAction: "REPLACE", replacementMethod: "SUBSTITUTE", instanceRedistributionType: "NONE" },
        waitForInstances: false,
    } satisfies gcp.compute.RegionInstanceGroupManagerArgs);
    const vmMig = new gcp.compute.RegionInstanceGroupManager(R.vmMig, migArgs, migOpts);

    // ---- control plane: intake bucket per pool; runners create objects only (I11)
    const intakeBucket = (key: "vm" | "k8s", name: string) => {
        const bucket = new gcp.storage.Bucket(name, {
            project: WORKER_PROJECT,
            location: REGION,
            uniformBucketLevelAccess: true,
            publicAccessPrevention: "enforced",
            labels: labels("control-plane", POOLS[key].pool),
            lifecycleRules: [{ action: { type: "Delete" }, condition: { age: 7 } }],
        });
        new gcp.storage.BucketIAMMember(`${key}-intake-creator`, { bucket: bucket.name, role: "roles/storage.objectCreator", member: core[key].sa.member });
        new gcp.storage.BucketIAMMember(`${key}-intake-reader`, { bucket: bucket.name, role: "roles/storage.objectViewer", member: controlPlaneSa.member });
        return bucket;
    };
    const intake = { vm: intakeBucket("vm", R.vmIntake), k8s: intakeBucket("k8s", R.k8sIntake) };

    // ---- signer enclave in its own project
    const [ringArgs, ringOpts] = edited(m, "signerRing", core, {
        project: SIGNER_PROJECT,
        location: REGION,
        name: "provenance",
    } satisfies gcp.kms.KeyRingArgs, { protect: true });
    const ring = new gcp.kms.KeyRing(R.signerRing, ringArgs, ringOpts);
    const [keyArgs, keyOpts] = edited(m, "signerKey", core, {
        name: "provenance-signing",
        keyRing: ring.id,
        purpose: "ASYMMETRIC_SIGN",
        versionTemplate: { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "HSM" },
        labels: labels("signer"),
    } satisfies gcp.kms.CryptoKeyArgs, { protect: true });
    const key = new gcp.kms.CryptoKey(R.signerKey, keyArgs, keyOpts);
    // I9: authoritative, so nobody else holds roles/cloudkms.signer on the key.
    const keyBinding = new gcp.kms.CryptoKeyIAMBinding(R.signerKeyBinding, { cryptoKeyId: key.id, role: "roles/cloudkms.signer", members: [core.signer.sa.member] });

    const provenance = new gcp.storage.Bucket(R.provenance, {
        project: SIGNER_PROJECT,
        location: REGION,
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        // Production: a locked retention (signer-evidence-locked), so no versioning (Cloud Storage refuses both).
        retentionPolicy: { retentionPeriod: "31536000", isLocked: true },
        versioning: { enabled: false },
        labels: labels("signer"),
    });
    new gcp.storage.BucketIAMBinding("provenance-writer", { bucket: provenance.name, role: "roles/storage.objectCreator", members: [core.signer.sa.member] });
    new gcp.storage.BucketIAMBinding("provenance-reader", { bucket: provenance.name, role: "roles/storage.objectViewer", members: [controlPlaneSa.member] });

    const [serviceArgs, serviceOpts] = edited(m, "signerService", core, {
        project: SIGNER_PROJECT,
        location: REGION,
        name: "provenance-signer",
        ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY",
        labels: labels("signer"),
        deletionProtection: false,
        template: {
            serviceAccount: core.signer.sa.email,
            vpcAccess: { networkInterfaces: [{ network: core.signer.network.id, subnetwork: core.signer.subnet.id }], egress: "ALL_TRAFFIC" },
            containers: [{
                image: `${REGION}-docker.pkg.dev/${SIGNER_PROJECT}/signer/provenance-signer@sha256:${"0".repeat(64)}`,
                envs: [{ name: "KMS_KEY", value: key.id }],
            }],
        },
    } satisfies gcp.cloudrunv2.ServiceArgs);
    const service = new gcp.cloudrunv2.Service(R.signerService, serviceArgs, serviceOpts);
    // I10: only the control plane invokes the signer.
    new gcp.cloudrunv2.ServiceIamBinding(R.signerInvokers, {
        project: SIGNER_PROJECT, location: REGION, name: service.name, role: "roles/run.invoker", members: [controlPlaneSa.member],
    });
    if (!m.omit.has("kmsAudit")) {
        new gcp.projects.IAMAuditConfig(R.kmsAudit, {
            project: SIGNER_PROJECT,
            service: "cloudkms.googleapis.com",
            auditLogConfigs: [{ logType: "ADMIN_READ" }, { logType: "DATA_READ" }, { logType: "DATA_WRITE" }],
        });
    }

    addPerimeterAndGuardrails({ workerProject: WORKER_PROJECT, signerProject: SIGNER_PROJECT, controlPlaneMember: controlPlaneSa.member });

    const handles: Handles = {
        ...core, vmTemplate, vmMig, k8sCluster, k8sNodePool, k8sNamespace, k8sPod, k8sProvider: provider, intake, ring, key, keyBinding, service, provenance,
    };
    for (const f of m.after) {
        f(handles);
    }
    return handles;
}
