/**
 * Black-box adversarial variants of the raw baseline (test/helpers/insecureBaseline.ts), written without
 * reading the rules. Each insecure variant changes one thing and breaks one of the invariants I1–I12 (policies/meta.ts); each
 * secure variant is an unusual but sound design. Import paths assume this file sits in
 * test/policies/insecure/ (or any folder two levels below test/).
 */
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Handles, Mutations, POOLS, REGION, SIGNER_PROJECT, WORKER_PROJECT } from "../../helpers/insecureBaseline";
import { ACCESS_POLICY, fixtureProjectNumber } from "../../helpers/perimeterFixture";

export interface InsecureVariant {
    /** What the attacker or hurried engineer does (one change). */
    name: string;
    /** The class of attack (for the report). */
    cls: string;
    invariant: string;
    /** One line: why this breaks the invariant. */
    why: string;
    /** Logical name(s) of the offending resource. */
    offender: string | string[];
    mutate: (m: Mutations) => void;
    /** Also run in preview mode (values from other resources unknown). */
    preview?: boolean;
}

export interface SecureVariant {
    name: string;
    cls: string;
    why: string;
    mutate: (m: Mutations) => void;
    preview?: boolean;
}

const RUNNERS = "runners";
const KSA = "runner";
const LABELS = { "build-fleet-role": "runner", "build-fleet-pool": POOLS.k8s.pool };
const VM_LABELS = { "build-fleet-role": "runner", "build-fleet-pool": POOLS.vm.pool };
const WORKER_NUMBER = fixtureProjectNumber(WORKER_PROJECT);
const SIGNER_NUMBER = fixtureProjectNumber(SIGNER_PROJECT);
const ENCLAVE_PERIMETER = `${ACCESS_POLICY}/servicePerimeters/signer_enclave`;
const WORKER_PERIMETER = `${ACCESS_POLICY}/servicePerimeters/workers`;

const add = (f: (h: Handles, k8sOpts: pulumi.CustomResourceOptions) => void) => (m: Mutations): void => {
    m.after.push((h) => f(h, { provider: h.k8sProvider }));
};
const editPod = (f: (spec: Record<string, any>) => void) => (m: Mutations): void => {
    m.args.k8sPod = (a) => f(a.spec);
};

const restricted = () => ({
    allowPrivilegeEscalation: false,
    privileged: false,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
});

/** A runner pod spec as hardened as the baseline's (restartPolicy as given; no deadline for controllers that forbid one). */
function hardenedSpec(restartPolicy: "Never" | "Always" | "OnFailure", deadline?: number): any {
    return {
        runtimeClassName: "gvisor",
        serviceAccountName: KSA,
        automountServiceAccountToken: false,
        ...(deadline === undefined ? {} : { activeDeadlineSeconds: deadline }),
        restartPolicy,
        nodeSelector: LABELS,
        tolerations: [{ key: "build-fleet-role", operator: "Equal", value: "runner", effect: "NoSchedule" }],
        securityContext: { runAsNonRoot: true, runAsUser: 1001, runAsGroup: 1001, fsGroup: 1001, seccompProfile: { type: "RuntimeDefault" } },
        containers: [{
            name: "runner",
            image: "ghcr.io/actions/actions-runner:2.321.0",
            command: ["/home/runner/run.sh"],
            securityContext: restricted(),
            volumeMounts: [{ name: "work", mountPath: "/home/runner/_work" }],
        }],
        volumes: [{ name: "work", emptyDir: { sizeLimit: "20Gi" } }],
    };
}

const instanceFromTemplate = (name: string, overrides: (h: Handles) => Record<string, any>) => add((h) => {
    new gcp.compute.InstanceFromTemplate(name, {
        project: WORKER_PROJECT,
        zone: `${REGION}-b`,
        sourceInstanceTemplate: h.vmTemplate.selfLinkUnique,
        labels: VM_LABELS,
        ...overrides(h),
    });
});

export const insecureVariants: InsecureVariant[] = [
    // ---------------- I1 ephemeral: state that outlives one build
    {
        name: "runner MIG keeps each VM's internal IP across recreation (statefulInternalIps: a stateful MIG)",
        cls: "stateful MIG by IP preservation", invariant: "I1", offender: "vm-mig",
        why: "any stateful policy makes the MIG stateful; recreated runners inherit per-instance state (and the IP other systems trust)",
        mutate: (m) => {
            m.args.vmMig = (a) => { a.statefulInternalIps = [{ interfaceName: "nic0", deleteRule: "NEVER" }]; };
        },
    },
    {
        name: "runner pod mounts a Cloud Storage bucket through the gcsfuse CSI driver (shared build cache)",
        cls: "inline CSI volume", invariant: "I1", offender: "k8s-runner-pod",
        why: "an inline CSI volume backed by a bucket persists between builds: one build poisons the next build's cache",
        mutate: editPod((s) => {
            s.volumes.push({ name: "cache", csi: { driver: "gcsfuse.csi.storage.gke.io", volumeAttributes: { bucketName: "acme-build-cache", mountOptions: "implicit-dirs" } } });
            s.containers[0].volumeMounts.push({ name: "cache", mountPath: "/home/runner/.cache" });
        }),
    },
    {
        name: "runner pod mounts an NFS export (shared work directory)",
        cls: "network volume in pod", invariant: "I1", offender: "k8s-runner-pod",
        why: "an NFS volume is persistent storage shared by every build, so state survives the pod and crosses builds",
        mutate: editPod((s) => {
            s.volumes.push({ name: "shared", nfs: { server: "10.20.3.2", path: "/cache" } });
            s.containers[0].volumeMounts.push({ name: "shared", mountPath: "/home/runner/shared" });
        }),
    },
    {
        name: "Filestore instance attached to the VM pool's network (an NFS cache every runner can mount)",
        cls: "managed file store on a runner network", invariant: "I1", offender: "runner-cache-nfs",
        why: "a writable NFS share reachable from every runner VM persists between builds (cache poisoning, cross-build influence)",
        mutate: add((h) => {
            new gcp.filestore.Instance("runner-cache-nfs", {
                project: WORKER_PROJECT, location: `${REGION}-b`, tier: "BASIC_HDD",
                fileShares: { name: "cache", capacityGb: 1024 },
                networks: [{ network: h.vm.network.name, modes: ["MODE_IPV4"] }],
            });
        }),
        preview: true,
    },
    {
        name: "Memorystore Redis (no AUTH) authorized on the GKE pool's network as a build cache",
        cls: "managed cache on a runner network", invariant: "I1", offender: "build-cache-redis",
        why: "a shared, persistent key-value store reachable from runner pods lets one build plant state another build reads",
        mutate: add((h) => {
            new gcp.redis.Instance("build-cache-redis", {
                project: WORKER_PROJECT, region: REGION, memorySizeGb: 1, authorizedNetwork: h.k8s.network.id, connectMode: "DIRECT_PEERING", authEnabled: false,
            });
        }),
        preview: true,
    },
    {
        name: "runner boot disks get a snapshot schedule (disks[].resourcePolicies)",
        cls: "disk snapshot persistence", invariant: "I1", offender: "vm-template",
        why: "snapshots keep each build's disk (workspace, secrets of the job) after the VM is deleted: state outlives the build",
        mutate: (m) => {
            m.args.vmTemplate = (a) => { a.disks[0].resourcePolicies = [`projects/${WORKER_PROJECT}/regions/${REGION}/resourcePolicies/runner-daily-snapshots`]; };
        },
    },
    {
        name: "runner StatefulSet with volumeClaimTemplates in the runner namespace",
        cls: "StatefulSet runner", invariant: "I1", offender: "runner-sts",
        why: "each replica keeps its PVC across restarts, so the next job on that replica sees the previous job's workspace",
        mutate: add((_h, o) => {
            const spec = hardenedSpec("Always");
            new k8s.apps.v1.StatefulSet("runner-sts", {
                metadata: { name: "runner-pool", namespace: RUNNERS, labels: LABELS },
                spec: {
                    serviceName: "runner-pool", replicas: 2, selector: { matchLabels: { app: "runner-pool" } },
                    template: { metadata: { labels: { ...LABELS, app: "runner-pool" } }, spec: { ...spec, volumes: [] } },
                    volumeClaimTemplates: [{ metadata: { name: "work" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "50Gi" } } } }],
                },
            }, o);
        }),
    },
    {
        name: "runner DaemonSet (one long-lived hardened runner per node)",
        cls: "DaemonSet runner", invariant: "I2", offender: "runner-ds",
        why: "DaemonSet pods restart forever and cannot carry activeDeadlineSeconds: the environment outlives one build and has no bound",
        mutate: add((_h, o) => {
            new k8s.apps.v1.DaemonSet("runner-ds", {
                metadata: { name: "runner-per-node", namespace: RUNNERS, labels: LABELS },
                spec: { selector: { matchLabels: { app: "runner-per-node" } }, template: { metadata: { labels: { ...LABELS, app: "runner-per-node" } }, spec: hardenedSpec("Always") } },
            }, o);
        }),
    },
    {
        name: "runner pod restartPolicy Always (the runner process restarts in the same pod and emptyDir)",
        cls: "pod restart reuse", invariant: "I1", offender: "k8s-runner-pod",
        why: "a restarted container keeps the pod's emptyDir workspace, so a second job in the same pod sees the first job's files",
        mutate: editPod((s) => { s.restartPolicy = "Always"; }),
    },

    // ---------------- I2 bounded lifetime
    {
        name: "runner template bounds VMs by an absolute terminationTime in 2099 instead of maxRunDuration",
        cls: "lifetime by absolute time", invariant: "I2", offender: "vm-template",
        why: "a termination time 70 years out is no bound on how long a compromised runner lives",
        mutate: (m) => {
            m.args.vmTemplate = (a) => {
                delete a.scheduling.maxRunDuration;
                a.scheduling.terminationTime = "2099-12-31T23:59:59Z";
            };
        },
    },
    {
        name: "maxRunDuration.seconds written as a string (\"172800\", two days)",
        cls: "lifetime type spelling", invariant: "I2", offender: "vm-template",
        why: "the provider accepts the string; 172800 s exceeds the 86400 s bound",
        mutate: (m) => {
            m.args.vmTemplate = (a) => { a.scheduling.maxRunDuration = { seconds: "172800" }; };
        },
    },
    {
        name: "InstanceFromTemplate of the runner template overriding scheduling to a week",
        cls: "template override (InstanceFromTemplate)", invariant: "I2", offender: "runner-from-template",
        why: "the override replaces the template's 3600 s bound with 604800 s on a standalone runner VM",
        mutate: instanceFromTemplate("runner-from-template", () => ({
            scheduling: { maxRunDuration: { seconds: 604800 }, instanceTerminationAction: "DELETE", automaticRestart: false, onHostMaintenance: "MIGRATE", provisioningModel: "STANDARD" },
        })),
        preview: true,
    },
    {
        name: "InstanceFromTemplate of the runner template overriding the NIC with an external IP",
        cls: "template override (InstanceFromTemplate)", invariant: "I3", offender: "runner-debug-vm",
        why: "the override adds an access config: a runner VM with a public address",
        mutate: instanceFromTemplate("runner-debug-vm", (h) => ({
            networkInterfaces: [{ network: h.vm.network.id, subnetwork: h.vm.subnet.id, accessConfigs: [{}] }],
        })),
        preview: true,
    },
    {
        name: "InstanceFromTemplate of the runner template overriding the service account with the signer SA",
        cls: "template override (InstanceFromTemplate)", invariant: "I9", offender: "runner-as-signer-vm",
        why: "a runner-labelled VM running tenant jobs as the signer identity can use the key",
        mutate: instanceFromTemplate("runner-as-signer-vm", (h) => ({
            serviceAccount: { email: h.signer.sa.email, scopes: ["cloud-platform"] },
        })),
        preview: true,
    },
    {
        name: "runner-labelled CronJob whose pods use the host network",
        cls: "CronJob kind", invariant: "I6", offender: "runner-cron",
        why: "hostNetwork puts a build on the node's network namespace (kubelet, metadata, other pods' traffic)",
        mutate: add((_h, o) => {
            new k8s.batch.v1.CronJob("runner-cron", {
                metadata: { name: "warm", namespace: RUNNERS, labels: LABELS },
                spec: {
                    schedule: "*/5 * * * *",
                    jobTemplate: { spec: { activeDeadlineSeconds: 600, template: { metadata: { labels: LABELS }, spec: { ...hardenedSpec("Never", 600), hostNetwork: true } } } },
                },
            }, o);
        }),
    },
    {
        name: "unlabelled ReplicationController (legacy kind) with a privileged container in the runner namespace",
        cls: "legacy workload kind", invariant: "I6", offender: "legacy-rc",
        why: "a privileged, unsandboxed pod next to the runners; the legacy kind must be judged like a Deployment",
        mutate: add((_h, o) => {
            new k8s.core.v1.ReplicationController("legacy-rc", {
                metadata: { name: "cache-warmer", namespace: RUNNERS },
                spec: { replicas: 1, selector: { app: "cw" }, template: { metadata: { labels: { app: "cw" } }, spec: { containers: [{ name: "cw", image: "busybox:1.36", securityContext: { privileged: true } }] } } },
            }, o);
        }),
    },

    // ---------------- I3 no inbound
    {
        name: "legacy sshKeys metadata key (not ssh-keys) in the runner template",
        cls: "metadata key spelling", invariant: "I3", offender: "vm-template",
        why: "GCE still honours the deprecated sshKeys key: a standing SSH credential on every runner",
        mutate: (m) => {
            m.args.vmTemplate = (a) => { a.metadata.sshKeys = "ops:ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOpsKeyForDebugging ops@acme.example"; };
        },
    },
    {
        name: "serial port enabled with the value \"1\"",
        cls: "metadata value spelling", invariant: "I3", offender: "vm-template",
        why: "GCE treats 1 as true: the interactive serial console is on",
        mutate: (m) => {
            m.args.vmTemplate = (a) => { a.metadata["serial-port-enable"] = "1"; };
        },
    },
    {
        name: "ingress allow from the IAP TCP-forwarding range on port 22 to the VM pool",
        cls: "IAP ingress range", invariant: "I3", offender: "iap-ssh",
        why: "35.235.240.0/20 is Google's IAP forwarder: SSH into runners from anyone holding IAP tunnel rights",
        mutate: add((h) => {
            new gcp.compute.Firewall("iap-ssh", {
                project: WORKER_PROJECT, network: h.vm.network.id, direction: "INGRESS", priority: 1000,
                sourceRanges: ["35.235.240.0/20"], allows: [{ protocol: "tcp", ports: ["22"] }],
            });
        }),
    },
    {
        name: "ingress allow into the VM pool from sources running as the control-plane SA (sourceServiceAccounts)",
        cls: "ingress by source identity", invariant: "I3", offender: "cp-to-runners",
        why: "any ingress into runners is a service open for remote influence; the source identity is a filter, not a deny",
        mutate: add((h) => {
            new gcp.compute.Firewall("cp-to-runners", {
                project: WORKER_PROJECT, network: h.vm.network.id, direction: "INGRESS", priority: 1000,
                sourceServiceAccounts: [h.controlPlaneSa.email], allows: [{ protocol: "tcp" }],
            });
        }),
        preview: true,
    },
    {
        name: "ingress allow from ::/0 (all of IPv6) on port 22 to the GKE pool",
        cls: "IPv6 any-address spelling", invariant: "I3", offender: "ssh-v6",
        why: "::/0 is the whole IPv6 internet",
        mutate: add((h) => {
            new gcp.compute.Firewall("ssh-v6", {
                project: WORKER_PROJECT, network: h.k8s.network.id, direction: "INGRESS", priority: 1000,
                sourceRanges: ["::/0"], allows: [{ protocol: "tcp", ports: ["22"] }],
            });
        }),
    },
    {
        name: "runner container publishes a hostPort",
        cls: "pod hostPort", invariant: "I3", offender: "k8s-runner-pod",
        why: "a hostPort opens a listener on the node address, outside NetworkPolicy's pod view",
        mutate: editPod((s) => { s.containers[0].ports = [{ containerPort: 2222, hostPort: 2222, protocol: "TCP" }]; }),
    },
    {
        name: "a Service and an Ingress expose the runner pods over HTTP(S) load balancing",
        cls: "k8s Ingress", invariant: "I3", offender: ["runner-ingress", "runner-debug-svc"],
        why: "an Ingress gives runner pods a load-balanced entry point from outside the cluster",
        mutate: add((_h, o) => {
            new k8s.core.v1.Service("runner-debug-svc", { metadata: { name: "runner-debug", namespace: RUNNERS }, spec: { selector: LABELS, ports: [{ port: 8080, targetPort: 8080 }] } }, o);
            new k8s.networking.v1.Ingress("runner-ingress", {
                metadata: { name: "runner-debug", namespace: RUNNERS, annotations: { "kubernetes.io/ingress.class": "gce" } },
                spec: { defaultBackend: { service: { name: "runner-debug", port: { number: 8080 } } } },
            }, o);
        }),
    },
    {
        name: "ClusterIP Service with externalIPs selecting the runner pods",
        cls: "Service externalIPs", invariant: "I3", offender: "runner-extip",
        why: "externalIPs make kube-proxy/dataplane accept traffic for that address on every node and forward it to runners",
        mutate: add((_h, o) => {
            new k8s.core.v1.Service("runner-extip", { metadata: { name: "ssh", namespace: RUNNERS }, spec: { type: "ClusterIP", selector: LABELS, externalIPs: ["10.20.0.50"], ports: [{ port: 22 }] } }, o);
        }),
    },
    {
        name: "GKE control plane DNS endpoint open to external traffic",
        cls: "GKE DNS endpoint", invariant: "I6", offender: "k8s-cluster",
        why: "allowExternalTraffic makes the runner cluster's API reachable from the internet through its DNS name despite the private IP endpoint",
        mutate: (m) => {
            m.args.k8sCluster = (a) => { a.controlPlaneEndpointsConfig = { dnsEndpointConfig: { allowExternalTraffic: true } }; };
        },
    },

    // ---------------- I4 egress / DNS
    {
        name: "DNS server policy on the VM pool network forwarding every query to 8.8.8.8",
        cls: "DNS server policy", invariant: "I4", offender: "runner-dns-forward",
        why: "alternative name servers replace Cloud DNS resolution: the private googleapis.com zone stops applying and DNS leaves the VPC",
        mutate: add((h) => {
            new gcp.dns.Policy("runner-dns-forward", {
                project: WORKER_PROJECT, name: "runner-forward", networks: [{ networkUrl: h.vm.network.id }],
                alternativeNameServerConfig: { targetNameServers: [{ ipv4Address: "8.8.8.8", forwardingPath: "default" }] },
            });
        }),
        preview: true,
    },
    {
        name: "DNS response policy on the VM pool network rewriting *.googleapis.com to private.googleapis.com",
        cls: "DNS response policy", invariant: "I4", offender: ["runner-rp", "runner-rp-googleapis"],
        why: "response policies win over private zones: Google APIs resolve to the private VIP, which VPC Service Controls do not restrict",
        mutate: add((h) => {
            const rp = new gcp.dns.ResponsePolicy("runner-rp", { project: WORKER_PROJECT, responsePolicyName: "runner-rp", networks: [{ networkUrl: h.vm.network.id }] });
            new gcp.dns.ResponsePolicyRule("runner-rp-googleapis", {
                project: WORKER_PROJECT, responsePolicy: rp.responsePolicyName, ruleName: "googleapis", dnsName: "*.googleapis.com.",
                localData: { localDatas: [{ name: "*.googleapis.com.", type: "CNAME", ttl: 300, rrdatas: ["private.googleapis.com."] }] },
            });
        }),
        preview: true,
    },
    {
        name: "VM pool network associated with an out-of-stack network firewall policy",
        cls: "out-of-stack firewall policy", invariant: "I4", offender: "shared-egress-assoc",
        why: "a policy evaluated before the VPC rules whose rules nobody can see (it may allow 0.0.0.0/0): fail closed",
        mutate: add((h) => {
            new gcp.compute.NetworkFirewallPolicyAssociation("shared-egress-assoc", {
                project: WORKER_PROJECT, name: "shared-egress", attachmentTarget: h.vm.network.id, firewallPolicy: "projects/acme-netsec/global/firewallPolicies/shared-egress",
            });
        }),
        preview: true,
    },
    {
        name: "worker perimeter egress policy: any identity may reach any bucket",
        cls: "VPC-SC egress policy", invariant: "I4", offender: "workers-egress-any",
        why: "runners can then read and write buckets outside the perimeter: exfiltration and cache poisoning through storage.googleapis.com",
        mutate: add(() => {
            new gcp.accesscontextmanager.ServicePerimeterEgressPolicy("workers-egress-any", {
                perimeter: WORKER_PERIMETER,
                egressFrom: { identityType: "ANY_IDENTITY" },
                egressTo: { resources: ["*"], operations: [{ serviceName: "storage.googleapis.com", methodSelectors: [{ method: "*" }] }] },
            });
        }),
    },
    {
        name: "Cloud NAT on the VM pool logging errors only",
        cls: "NAT log filter", invariant: "I12", offender: "runner-nat",
        why: "ERRORS_ONLY drops translation records: successful egress is not logged",
        mutate: add((h) => {
            const router = new gcp.compute.Router("runner-router", { project: WORKER_PROJECT, region: REGION, network: h.vm.network.id });
            new gcp.compute.RouterNat("runner-nat", {
                project: WORKER_PROJECT, region: REGION, router: router.name, natIpAllocateOption: "AUTO_ONLY",
                sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES", logConfig: { enable: true, filter: "ERRORS_ONLY" },
            });
        }),
        preview: true,
    },
    {
        name: "egress allow to ::/0 on the VM pool network",
        cls: "IPv6 any-address spelling", invariant: "I4", offender: "egress-v6",
        why: "::/0 is every IPv6 destination: the egress allow-list is gone for IPv6",
        mutate: add((h) => {
            new gcp.compute.Firewall("egress-v6", {
                project: WORKER_PROJECT, network: h.vm.network.id, direction: "EGRESS", priority: 1000, destinationRanges: ["::/0"], allows: [{ protocol: "all" }],
            });
        }),
    },
    {
        name: "NetworkPolicy egress to the pod range by ipBlock (runner pods reach each other)",
        cls: "NetworkPolicy ipBlock of pod CIDR", invariant: "I5", offender: "to-pod-range",
        why: "the pod secondary range holds every other build's pod: concurrent builds can talk",
        mutate: add((_h, o) => {
            new k8s.networking.v1.NetworkPolicy("to-pod-range", {
                metadata: { name: "to-pods", namespace: RUNNERS }, spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: POOLS.k8s.podCidr } }] }] },
            }, o);
        }),
    },

    // ---------------- I5 pool separation
    {
        name: "GKE runner cluster placed on the VM pool's network and subnet",
        cls: "cluster network cross-pool", invariant: "I5", offender: "k8s-cluster",
        why: "both pools share one VPC and subnet: builds of one pool reach the other's runners",
        mutate: (m) => {
            m.args.k8sCluster = (a, core) => { a.network = core.vm.network.id; a.subnetwork = core.vm.subnet.id; };
        },
        preview: true,
    },
    {
        name: "GKE runner nodes get a second NIC in the VM pool's network (additionalNodeNetworkConfigs)",
        cls: "multi-NIC nodes", invariant: "I5", offender: "k8s-runner-nodes",
        why: "multi-network nodes join the other pool's VPC",
        mutate: (m) => {
            m.args.k8sNodePool = (a, core) => { a.networkConfig = { additionalNodeNetworkConfigs: [{ network: core.vm.network.name, subnetwork: core.vm.subnet.name }] }; };
        },
        preview: true,
    },
    {
        name: "GKE runner node pool runs as the VM pool's runner SA",
        cls: "shared pool identity", invariant: "I5", offender: "k8s-runner-nodes",
        why: "two pools share one identity (and so one intake bucket grant)",
        mutate: (m) => {
            m.args.k8sNodePool = (a, core) => { a.nodeConfig.serviceAccount = core.vm.sa.email; };
        },
        preview: true,
    },
    {
        name: "GKE runner KSA may act as the VM pool's SA (workloadIdentityUser on the other pool's SA)",
        cls: "cross-pool Workload Identity", invariant: "I5", offender: "k8s-acts-as-vm",
        why: "container builds get the VM pool's identity: they write the VM pool's intake bucket",
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("k8s-acts-as-vm", { serviceAccountId: h.vm.sa.name, role: "roles/iam.workloadIdentityUser", member: `serviceAccount:${WORKER_PROJECT}.svc.id.goog[${RUNNERS}/${KSA}]` });
        }),
        preview: true,
    },
    {
        name: "Packet Mirroring copies the VM pool subnet's traffic to a collector ILB whose backends are the runner MIG",
        cls: "packet mirroring", invariant: "I5", offender: "runner-mirror",
        why: "every build's traffic (tokens, uploads) is delivered to other runner VMs: builds observe each other",
        mutate: add((h) => {
            const hc = new gcp.compute.RegionHealthCheck("mirror-hc", { project: WORKER_PROJECT, region: REGION, tcpHealthCheck: { port: 22 } });
            const be = new gcp.compute.RegionBackendService("mirror-collector-be", {
                project: WORKER_PROJECT, region: REGION, loadBalancingScheme: "INTERNAL", protocol: "TCP", network: h.vm.network.id,
                backends: [{ group: h.vmMig.instanceGroup, balancingMode: "CONNECTION" }], healthChecks: hc.id,
            });
            const fr = new gcp.compute.ForwardingRule("mirror-collector", {
                project: WORKER_PROJECT, region: REGION, loadBalancingScheme: "INTERNAL", backendService: be.id, network: h.vm.network.id, subnetwork: h.vm.subnet.id,
                isMirroringCollector: true, allPorts: true,
            });
            new gcp.compute.PacketMirroring("runner-mirror", {
                project: WORKER_PROJECT, region: REGION, network: { url: h.vm.network.id }, collectorIlb: { url: fr.id }, mirroredResources: { subnetworks: [{ url: h.vm.subnet.id }] },
            });
        }),
        preview: true,
    },
    {
        name: "worker project attached as a Shared VPC service project of the signer project",
        cls: "Shared VPC service attachment", invariant: "I10", offender: "workers-in-signer-host",
        why: "the worker project may then place runners on the signer's host networks",
        mutate: add(() => {
            new gcp.compute.SharedVPCServiceProject("workers-in-signer-host", { hostProject: SIGNER_PROJECT, serviceProject: WORKER_PROJECT });
        }),
    },
    {
        name: "runner SA granted compute.networkUser on the signer subnet (SubnetworkIAMMember)",
        cls: "subnet IAM", invariant: "I10", offender: "runner-uses-signer-subnet",
        why: "the runner identity may attach workloads to the signer network",
        mutate: add((h) => {
            new gcp.compute.SubnetworkIAMMember("runner-uses-signer-subnet", { project: SIGNER_PROJECT, region: REGION, subnetwork: h.signer.subnet.name, role: "roles/compute.networkUser", member: h.vm.sa.member });
        }),
        preview: true,
    },
    {
        name: "runner MIG canary version from an out-of-stack instance template",
        cls: "MIG version from foreign template", invariant: "I6", offender: "vm-mig",
        why: "some runner VMs come from a template nobody in the stack reviewed (identity, disks, network unseen): fail closed",
        mutate: (m) => {
            m.args.vmMig = (a) => {
                a.versions = [...a.versions, { name: "canary", instanceTemplate: `projects/${WORKER_PROJECT}/global/instanceTemplates/linux-vm-debug`, targetSize: { fixed: 1 } }];
            };
        },
    },
    {
        name: "runner cluster registered into a fleet hosted in the signer project (GKE Hub membership)",
        cls: "fleet identity sameness", invariant: "I10", offender: "runners-in-signer-fleet",
        why: "fleet Workload Identity makes runner KSAs share the signer project's workload pool: grants there apply to runner pods",
        mutate: add((h) => {
            new gcp.gkehub.Membership("runners-in-signer-fleet", {
                project: SIGNER_PROJECT, membershipId: "containers-runners",
                endpoint: { gkeCluster: { resourceLink: pulumi.interpolate`//container.googleapis.com/${h.k8sCluster.id}` } },
                authority: { issuer: pulumi.interpolate`https://container.googleapis.com/v1/${h.k8sCluster.id}` },
            });
        }),
        preview: true,
    },

    // ---------------- I6 hardened host
    {
        name: "GKE runner cluster on LEGACY_DATAPATH without network policy enforcement",
        cls: "NetworkPolicy not enforced", invariant: "I6", offender: "k8s-cluster",
        why: "with neither Dataplane V2 nor networkPolicy, the default-deny NetworkPolicies are inert",
        mutate: (m) => {
            m.args.k8sCluster = (a) => { a.datapathProvider = "LEGACY_DATAPATH"; };
        },
    },
    {
        name: "runner node pool enables the insecure kubelet read-only port",
        cls: "kubelet read-only port", invariant: "I6", offender: "k8s-runner-nodes",
        why: "port 10255 serves every pod's spec and env on the node to anything that reaches it (other builds' secrets and state)",
        mutate: (m) => {
            m.args.k8sNodePool = (a) => { a.nodeConfig.kubeletConfig = { insecureKubeletReadonlyPortEnabled: "TRUE" }; };
        },
    },
    {
        name: "runner container overrides seccomp to Unconfined (pod level stays RuntimeDefault)",
        cls: "container-level seccomp override", invariant: "I6", offender: "k8s-runner-pod",
        why: "the container-level profile wins over the pod's",
        mutate: editPod((s) => { s.containers[0].securityContext.seccompProfile = { type: "Unconfined" }; }),
    },
    {
        name: "runner container with procMount Unmasked",
        cls: "procMount", invariant: "I6", offender: "k8s-runner-pod",
        why: "an unmasked /proc exposes kernel and host interfaces restricted forbids",
        mutate: editPod((s) => { s.containers[0].securityContext.procMount = "Unmasked"; }),
    },
    {
        name: "privileged init container in the runner pod",
        cls: "initContainers", invariant: "I6", offender: "k8s-runner-pod",
        why: "an init container is as privileged as any other container of the pod",
        mutate: editPod((s) => {
            s.initContainers = [{ name: "setup", image: "busybox:1.36", command: ["sh", "-c", "sysctl -w net.ipv4.ip_forward=1"], securityContext: { privileged: true, runAsUser: 0, runAsNonRoot: false } }];
        }),
    },
    {
        name: "privileged ephemeral (debug) container in the runner pod spec",
        cls: "ephemeralContainers", invariant: "I6", offender: "k8s-runner-pod",
        why: "an ephemeral container runs in the pod with whatever privilege it asks for",
        mutate: editPod((s) => {
            s.ephemeralContainers = [{ name: "debug", image: "busybox:1.36", securityContext: { privileged: true } }];
        }),
    },
    {
        name: "runner container with appArmorProfile Unconfined",
        cls: "AppArmor", invariant: "I6", offender: "k8s-runner-pod",
        why: "removes the AppArmor confinement restricted assumes",
        mutate: editPod((s) => { s.containers[0].securityContext.appArmorProfile = { type: "Unconfined" }; }),
    },
    {
        name: "runner template boots a community image from a project outside the organization",
        cls: "untrusted boot image", invariant: "I6", offender: "vm-template",
        why: "the build environment (the builder in provenance) comes from a publisher the platform does not control",
        mutate: (m) => {
            m.args.vmTemplate = (a) => { a.disks[0].sourceImage = "projects/community-ci-images/global/images/gha-runner-latest"; };
        },
    },

    // ---------------- I7 standing credentials
    {
        name: "PEM private key literal in the runner pod env",
        cls: "secret shape in env", invariant: "I7", offender: "k8s-runner-pod",
        why: "a service-account private key every build can read",
        mutate: editPod((s) => {
            s.containers[0].env = [{ name: "GOOGLE_SA_KEY", value: "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----\n" }];
        }),
    },
    {
        name: "legacy service-account-token Secret for the runner KSA",
        cls: "legacy SA token secret", invariant: "I7", offender: "runner-token",
        why: "a non-expiring Kubernetes API token for the runner's own identity, stored in the runner namespace",
        mutate: add((_h, o) => {
            new k8s.core.v1.Secret("runner-token", {
                metadata: { name: "runner-token", namespace: RUNNERS, annotations: { "kubernetes.io/service-account.name": KSA } }, type: "kubernetes.io/service-account-token",
            }, o);
        }),
    },
    {
        name: "legacy OrganizationPolicy (v1 API) un-enforces iam.disableServiceAccountKeyCreation on the worker project",
        cls: "legacy org-policy API", invariant: "I7", offender: "legacy-key-creation",
        why: "the v1 resource overrides the v2 guardrail: service-account keys can be created in the worker project",
        mutate: add(() => {
            new gcp.projects.OrganizationPolicy("legacy-key-creation", { project: WORKER_PROJECT, constraint: "iam.disableServiceAccountKeyCreation", booleanPolicy: { enforced: false } });
        }),
    },
    {
        name: "runner template loads its startup script from an out-of-stack bucket (startup-script-url)",
        cls: "startup-script-url", invariant: "I6", offender: "vm-template",
        why: "root code on every runner comes from a mutable object nobody in the stack controls",
        mutate: (m) => {
            m.args.vmTemplate = (a) => { a.metadata["startup-script-url"] = "gs://acme-ops-scripts/runner-boot.sh"; };
        },
    },
    {
        name: "RoleBinding naming the runner KSA by its User form (system:serviceaccount:runners:runner) to edit",
        cls: "RBAC subject spelling", invariant: "I7", offender: "ksa-as-user-edit",
        why: "the User form is the same principal as the ServiceAccount subject: the runner may create pods and read secrets",
        mutate: add((_h, o) => {
            new k8s.rbac.v1.RoleBinding("ksa-as-user-edit", {
                metadata: { name: "runner-edit", namespace: RUNNERS },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
                subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: `system:serviceaccount:${RUNNERS}:${KSA}` }],
            }, o);
        }),
    },
    {
        name: "any authenticated Google account may mint the VM runner SA's tokens",
        cls: "power over the runner identity", invariant: "I11", offender: "anyone-acts-as-runner",
        why: "outsiders can act as the runner: write objects into the pool's intake location that the control plane attributes to jobs",
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("anyone-acts-as-runner", { serviceAccountId: h.vm.sa.name, role: "roles/iam.serviceAccountTokenCreator", member: "allAuthenticatedUsers" });
        }),
        preview: true,
    },

    // ---------------- I8 / I9 signing
    {
        name: "signer key protection level EXTERNAL_VPC (key material in an external key manager)",
        cls: "protection level spelling", invariant: "I8", offender: "signer-key",
        why: "EXTERNAL_VPC is not HSM: the key lives outside Cloud HSM",
        mutate: (m) => {
            m.args.signerKey = (a) => {
                a.versionTemplate = { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "EXTERNAL_VPC" };
                a.cryptoKeyBackend = `projects/${SIGNER_PROJECT}/locations/${REGION}/ekmConnections/ekm-signer`;
            };
        },
    },
    {
        name: "control plane granted roles/cloudkms.cryptoOperator on the signer key",
        cls: "predefined role containing useToSign", invariant: "I9", offender: "cp-crypto-operator",
        why: "cryptoOperator includes useToSign: the control plane signs without the signer's validation",
        mutate: add((h) => {
            new gcp.kms.CryptoKeyIAMMember("cp-crypto-operator", { cryptoKeyId: h.key.id, role: "roles/cloudkms.cryptoOperator", member: h.controlPlaneSa.member });
        }),
        preview: true,
    },
    {
        name: "a GitHub repository principalSet signs with the key ring directly (signerVerifier)",
        cls: "federated principal signs", invariant: "I9", offender: "github-repo-signs",
        why: "any workflow of acme/app, i.e. a tenant build, can sign what it chose",
        mutate: add((h) => {
            new gcp.kms.KeyRingIAMMember("github-repo-signs", {
                keyRingId: h.ring.id, role: "roles/cloudkms.signerVerifier",
                member: `principalSet://iam.googleapis.com/projects/${WORKER_NUMBER}/locations/global/workloadIdentityPools/github/attribute.repository/acme/app`,
            });
        }),
        preview: true,
    },
    {
        name: "principal set of every service account of the worker project (type/ServiceAccount) signs",
        cls: "resource-type principal set", invariant: "I9", offender: "worker-sas-sign",
        why: "principalSet://cloudresourcemanager.googleapis.com/projects/N/type/ServiceAccount contains both runner SAs",
        mutate: add((h) => {
            new gcp.kms.CryptoKeyIAMMember("worker-sas-sign", { cryptoKeyId: h.key.id, role: "roles/cloudkms.signer", member: `principalSet://cloudresourcemanager.googleapis.com/projects/${WORKER_NUMBER}/type/ServiceAccount` });
        }),
        preview: true,
    },
    {
        name: "projectEditor:<worker project> convenience principal signs",
        cls: "convenience principal", invariant: "I9", offender: "editors-sign",
        why: "every editor of the worker project can sign; the key is no longer the signer's alone",
        mutate: add((h) => {
            new gcp.kms.CryptoKeyIAMMember("editors-sign", { cryptoKeyId: h.key.id, role: "roles/cloudkms.signer", member: `projectEditor:${WORKER_PROJECT}` });
        }),
        preview: true,
    },
    {
        name: "the worker project's legacy Cloud Build SA may act as the signer SA",
        cls: "Google-managed agent impersonation", invariant: "I9", offender: "cloudbuild-acts-as-signer",
        why: "anyone who can submit a Cloud Build in the worker project runs build steps as the signer",
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("cloudbuild-acts-as-signer", { serviceAccountId: h.signer.sa.name, role: "roles/iam.serviceAccountUser", member: `serviceAccount:${WORKER_NUMBER}@cloudbuild.gserviceaccount.com` });
        }),
        preview: true,
    },
    {
        name: "runner KSA by its principal:// subject form may mint the signer SA's tokens",
        cls: "principal:// spelling of runner KSA", invariant: "I9", offender: "ksa-subject-signer-tokens",
        why: "the subject is the runner pods' Workload Identity principal: builds sign as the signer",
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("ksa-subject-signer-tokens", {
                serviceAccountId: h.signer.sa.name, role: "roles/iam.serviceAccountTokenCreator",
                member: `principal://iam.googleapis.com/projects/${WORKER_NUMBER}/locations/global/workloadIdentityPools/${WORKER_PROJECT}.svc.id.goog/subject/ns/${RUNNERS}/sa/${KSA}`,
            });
        }),
        preview: true,
    },
    {
        name: "runner SA member wrapped in pulumi.secret granted roles/cloudkms.signer on the key",
        cls: "secret-wrapped member", invariant: "I9", offender: "secret-member-signs",
        why: "a secret Output is still the runner SA",
        mutate: add((h) => {
            new gcp.kms.CryptoKeyIAMMember("secret-member-signs", { cryptoKeyId: h.key.id, role: "roles/cloudkms.signer", member: pulumi.secret(h.vm.sa.member) });
        }),
        preview: true,
    },
    {
        name: "signer key grant whose member is read from a StackReference output",
        cls: "StackReference indirection", invariant: "I9", offender: "stackref-member-signs",
        why: "a member the stack cannot see may be any principal, a runner included: fail closed",
        mutate: add((h) => {
            const ref = new pulumi.StackReference("acme/ci-identities/prod");
            new gcp.kms.CryptoKeyIAMMember("stackref-member-signs", { cryptoKeyId: h.key.id, role: "roles/cloudkms.signer", member: ref.getOutput("ciMember") as pulumi.Output<string> });
        }),
        preview: true,
    },
    {
        name: "runner invoker on the signer service whose project comes from an explicit provider's default",
        cls: "provider default project", invariant: "I10", offender: "provider-project-invoker",
        why: "with project omitted, the provider (project acme-signer) places the grant on the signer service",
        mutate: add((h) => {
            const p = new gcp.Provider("signer-project-provider", { project: SIGNER_PROJECT, region: REGION });
            new gcp.cloudrunv2.ServiceIamMember("provider-project-invoker", { location: REGION, name: "provenance-signer", role: "roles/run.invoker", member: h.vm.sa.member }, { provider: p });
        }),
        preview: true,
    },
    {
        name: "a second HSM signing key in the signer key ring, usable by the control plane",
        cls: "second key in the published ring", invariant: "I9", offender: ["cp-signs-key-2", "signer-key-2"],
        why: "verifiers trust the ring's keys: the control plane signs statements the signer never validated",
        mutate: add((h) => {
            const k2 = new gcp.kms.CryptoKey("signer-key-2", {
                name: "provenance-signing-2", keyRing: h.ring.id, purpose: "ASYMMETRIC_SIGN",
                versionTemplate: { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "HSM" }, labels: { "build-fleet-role": "signer" },
            }, { protect: true });
            new gcp.kms.CryptoKeyIAMMember("cp-signs-key-2", { cryptoKeyId: k2.id, role: "roles/cloudkms.signer", member: h.controlPlaneSa.member });
        }),
        preview: true,
    },
    {
        name: "roles/cloudkms.signer granted at organization scope to a release group",
        cls: "org-scope human signer", invariant: "I9", offender: "org-release-signers",
        why: "org-level grants reach the signer key: humans sign outside the signer",
        mutate: add(() => {
            new gcp.organizations.IAMMember("org-release-signers", { orgId: "123456789012", role: "roles/cloudkms.signer", member: "group:release-eng@acme.example" });
        }),
    },

    // ---------------- I10 enclave
    {
        name: "signer Cloud Run ingress INTERNAL_LOAD_BALANCER (internal and Cloud Load Balancing)",
        cls: "ingress value spelling", invariant: "I10", offender: "signer-service",
        why: "allows traffic through external Application Load Balancers: the signer is reachable from outside",
        mutate: (m) => {
            m.args.signerService = (a) => { a.ingress = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"; };
        },
    },
    {
        name: "signer service's Direct VPC egress attached to the VM pool network",
        cls: "signer joins runner network", invariant: "I10", offender: "signer-service",
        why: "the signer gets an interface in a runner network: runners reach it and it reaches runners",
        mutate: (m) => {
            m.args.signerService = (a, core) => { a.template.vpcAccess.networkInterfaces = [{ network: core.vm.network.id, subnetwork: core.vm.subnet.id }]; };
        },
        preview: true,
    },
    {
        name: "signer service gets a sidecar container with a floating tag",
        cls: "sidecar image pinning", invariant: "I10", offender: "signer-service",
        why: "the sidecar shares the signer's identity and network; its :latest image can change under the signer",
        mutate: (m) => {
            m.args.signerService = (a) => { a.template.containers.push({ name: "otel", image: "otel/opentelemetry-collector-contrib:latest" }); };
        },
    },
    {
        name: "a resource transformation flips the signer service's ingress to ALL",
        cls: "transformation indirection", invariant: "I10", offender: "signer-service",
        why: "the registered ingress is INGRESS_TRAFFIC_ALL whatever the args said",
        mutate: (m) => {
            m.opts.signerService = (o) => {
                o.transformations = [(t) => ({ props: { ...t.props, ingress: "INGRESS_TRAFFIC_ALL" }, opts: t.opts })];
            };
        },
    },
    {
        name: "enclave perimeter ingress policy: any identity, any source, Cloud KMS",
        cls: "VPC-SC ingress policy", invariant: "I10", offender: "enclave-ingress-any",
        why: "the perimeter no longer keeps anyone away from the signing key API",
        mutate: add(() => {
            new gcp.accesscontextmanager.ServicePerimeterIngressPolicy("enclave-ingress-any", {
                perimeter: ENCLAVE_PERIMETER,
                ingressFrom: { identityType: "ANY_IDENTITY", sources: [{ accessLevel: "*" }] },
                ingressTo: { resources: ["*"], operations: [{ serviceName: "cloudkms.googleapis.com", methodSelectors: [{ method: "*" }] }] },
            });
        }),
    },
    {
        name: "worker project added to the signer enclave perimeter (ServicePerimeterResource)",
        cls: "perimeter membership", invariant: "I10", offender: "workers-in-enclave",
        why: "runners sit inside the enclave perimeter: only IAM stands between them and the key",
        mutate: add(() => {
            new gcp.accesscontextmanager.ServicePerimeterResource("workers-in-enclave", { perimeterName: ENCLAVE_PERIMETER, resource: `projects/${WORKER_NUMBER}` });
        }),
    },
    {
        name: "a perimeter bridge between the signer and worker projects",
        cls: "perimeter bridge", invariant: "I10", offender: "enclave-bridge",
        why: "a bridge lets the worker project call the enclave's restricted services freely",
        mutate: add(() => {
            new gcp.accesscontextmanager.ServicePerimeter("enclave-bridge", {
                parent: ACCESS_POLICY, name: `${ACCESS_POLICY}/servicePerimeters/enclave_bridge`, title: "enclave bridge", perimeterType: "PERIMETER_TYPE_BRIDGE",
                status: { resources: [`projects/${SIGNER_NUMBER}`, `projects/${WORKER_NUMBER}`] },
            });
        }),
    },

    // ---------------- I11 provenance by the control plane
    {
        name: "Storage Transfer job copies the VM intake bucket into the provenance bucket",
        cls: "transfer service writes provenance", invariant: "I11", offender: "intake-to-provenance",
        why: "tenant-uploaded objects land in the provenance bucket, written by someone other than the signer",
        mutate: add((h) => {
            new gcp.storage.TransferJob("intake-to-provenance", {
                project: WORKER_PROJECT, description: "mirror finished uploads",
                transferSpec: { gcsDataSource: { bucketName: h.intake.vm.name }, gcsDataSink: { bucketName: h.provenance.name } },
                schedule: { scheduleStartDate: { year: 2026, month: 1, day: 1 }, repeatInterval: "3600s" },
            });
        }),
        preview: true,
    },
    {
        name: "the stack itself uploads an envelope object into the provenance bucket",
        cls: "deployer writes provenance", invariant: "I11", offender: "seed-envelope",
        why: "an object in the provenance bucket not written by the signer: consumers may believe it",
        mutate: add((h) => {
            new gcp.storage.BucketObject("seed-envelope", { bucket: h.provenance.name, name: "envelopes/bootstrap.intoto.jsonl", content: "{\"payloadType\":\"application/vnd.in-toto+json\",\"payload\":\"e30=\",\"signatures\":[]}" });
        }),
        preview: true,
    },
    {
        name: "control plane granted roles/storage.legacyBucketWriter on the provenance bucket",
        cls: "legacy storage role spelling", invariant: "I11", offender: "cp-legacy-writer",
        why: "legacyBucketWriter creates and overwrites objects: the control plane writes provenance",
        mutate: add((h) => {
            new gcp.storage.BucketIAMMember("cp-legacy-writer", { bucket: h.provenance.name, role: "roles/storage.legacyBucketWriter", member: h.controlPlaneSa.member });
        }),
        preview: true,
    },

    // ---------------- I12 audit
    {
        name: "KMS audit config without DATA_READ (signatures are data-read events)",
        cls: "audit log type subset", invariant: "I12", offender: "signer-kms-audit-narrow",
        why: "AsymmetricSign calls are DATA_READ: without it no signature is logged",
        mutate: (m) => {
            m.omit.add("kmsAudit");
            m.after.push(() => {
                new gcp.projects.IAMAuditConfig("signer-kms-audit-narrow", { project: SIGNER_PROJECT, service: "cloudkms.googleapis.com", auditLogConfigs: [{ logType: "ADMIN_READ" }, { logType: "DATA_WRITE" }] });
            });
        },
    },
    {
        name: "signer project's _Default log bucket retention cut to one day",
        cls: "log retention", invariant: "I12", offender: "signer-default-bucket",
        why: "data-access logs of the key are gone after a day: no audit trail",
        mutate: add(() => {
            new gcp.logging.ProjectBucketConfig("signer-default-bucket", { project: SIGNER_PROJECT, location: "global", bucketId: "_Default", retentionDays: 1 });
        }),
    },
    {
        name: "signer project's _Default sink disabled",
        cls: "default sink disabled", invariant: "I12", offender: "signer-default-sink",
        why: "data-access logs (KMS signatures) are no longer stored anywhere",
        mutate: add(() => {
            new gcp.logging.ProjectSink("signer-default-sink", {
                project: SIGNER_PROJECT, name: "_Default", destination: `logging.googleapis.com/projects/${SIGNER_PROJECT}/locations/global/buckets/_Default`, disabled: true,
            });
        }),
    },
    // ---------------- added in a second round (gaps found in the first)
    {
        name: "a second runner template of the regional type (RegionInstanceTemplate) with an external IP",
        cls: "regional template type", invariant: "I3", offender: "vm-template-regional",
        why: "the regional template type is as much a runner template: its VMs get a public address",
        mutate: add((h) => {
            new gcp.compute.RegionInstanceTemplate("vm-template-regional", {
                project: WORKER_PROJECT, region: REGION, namePrefix: "linux-vm-r-", machineType: "e2-standard-4", labels: VM_LABELS,
                disks: [{ boot: true, autoDelete: true, sourceImage: "projects/acme-images/global/images/family/gha-runner", diskSizeGb: 50, diskType: "pd-balanced" }],
                networkInterfaces: [{ network: h.vm.network.id, subnetwork: h.vm.subnet.id, accessConfigs: [{}] }],
                metadata: { "block-project-ssh-keys": "TRUE", "serial-port-enable": "FALSE", "enable-oslogin": "TRUE" },
                shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
                scheduling: { maxRunDuration: { seconds: 3600 }, instanceTerminationAction: "DELETE", automaticRestart: false, onHostMaintenance: "MIGRATE", provisioningModel: "STANDARD" },
                serviceAccount: { email: h.vm.sa.email, scopes: ["cloud-platform"] },
            });
        }),
        preview: true,
    },
    {
        name: "the control plane may act as the signer SA (serviceAccountUser on the signer SA)",
        cls: "control plane impersonates signer", invariant: "I9", offender: "cp-acts-as-signer",
        why: "the control plane can run code as the signer and sign without the signer's validation",
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("cp-acts-as-signer", { serviceAccountId: h.signer.sa.name, role: "roles/iam.serviceAccountUser", member: h.controlPlaneSa.member });
        }),
        preview: true,
    },
    {
        name: "an organization-level custom role holding useToSign, granted to a group on the signer key",
        cls: "org custom role", invariant: "I9", offender: "org-role-signs",
        why: "organizations/N/roles/X with cloudkms.cryptoKeyVersions.useToSign makes the group a second signer",
        mutate: add((h) => {
            const role = new gcp.organizations.IAMCustomRole("org-signing-role", { orgId: "123456789012", roleId: "releaseSigning", title: "release signing", permissions: ["cloudkms.cryptoKeyVersions.useToSign", "cloudkms.cryptoKeyVersions.viewPublicKey"] });
            new gcp.kms.CryptoKeyIAMMember("org-role-signs", { cryptoKeyId: h.key.id, role: role.name, member: "group:release-eng@acme.example" });
        }),
        preview: true,
    },
    {
        name: "an organization sink intercepting every child's logs into an out-of-stack Pub/Sub topic",
        cls: "intercepting aggregated sink", invariant: "I12", offender: "org-intercept",
        why: "interceptChildren stops the signer project's own sinks from receiving KMS data-access logs; a topic retains nothing",
        mutate: add(() => {
            new gcp.logging.OrganizationSink("org-intercept", {
                orgId: "123456789012", name: "all-to-siem", destination: "pubsub.googleapis.com/projects/acme-siem/topics/all-logs", includeChildren: true, interceptChildren: true, filter: "",
            });
        }),
    },
    {
        name: "signer service's KMS_KEY env points at an out-of-stack key",
        cls: "signer uses another key", invariant: "I8", offender: "signer-service",
        why: "the signer signs with a key nobody proved HSM, single-signer or audited",
        mutate: (m) => {
            m.args.signerService = (a) => { a.template.containers[0].envs = [{ name: "KMS_KEY", value: `projects/${SIGNER_PROJECT}/locations/${REGION}/keyRings/legacy/cryptoKeys/software-signing` }]; };
        },
    },
    {
        name: "the runner image family gets a new image captured from a runner VM's disk",
        cls: "image from a runner disk", invariant: "I1", offender: "gha-runner-from-runner",
        why: "every later runner boots a disk a tenant build could modify: state crosses builds",
        mutate: add(() => {
            new gcp.compute.Image("gha-runner-from-runner", {
                project: "acme-images", name: "gha-runner-20261208", family: "gha-runner", sourceDisk: `projects/${WORKER_PROJECT}/zones/${REGION}-b/disks/linux-vm-runner-x1y2`,
            });
        }),
    },
    {
        name: "runner KSA may add ephemeral containers to pods of its namespace (pods/ephemeralcontainers)",
        cls: "RBAC subresource spelling", invariant: "I5", offender: "ksa-ephemeral",
        why: "a build can attach a container to another build's pod and read or change it",
        mutate: add((_h, o) => {
            new k8s.rbac.v1.Role("ephemeral-role", { metadata: { name: "debugger", namespace: RUNNERS }, rules: [{ apiGroups: [""], resources: ["pods/ephemeralcontainers"], verbs: ["patch", "update"] }] }, o);
            new k8s.rbac.v1.RoleBinding("ksa-ephemeral", {
                metadata: { name: "debugger", namespace: RUNNERS }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "debugger" },
                subjects: [{ kind: "ServiceAccount", name: KSA, namespace: RUNNERS }],
            }, o);
        }),
    },
    // ---------------- values known only after apply (preview-unknown) and data-source indirection
    {
        name: "signer ingress computed from another resource's output (INGRESS_TRAFFIC_ALL once known)",
        cls: "unknown ingress", invariant: "I10", offender: "signer-service",
        why: "the applied value is ALL; during a first preview it is unknown and must not pass",
        mutate: (m) => {
            m.args.signerService = (a, core) => { a.ingress = core.controlPlaneSa.email.apply(() => "INGRESS_TRAFFIC_ALL"); };
        },
        preview: true,
    },
    {
        name: "signer key protection level computed from another resource's output (SOFTWARE once known)",
        cls: "unknown protection level", invariant: "I8", offender: "signer-key",
        why: "the applied key is SOFTWARE; during a first preview it is unknown and must not pass",
        mutate: (m) => {
            m.args.signerKey = (a, core) => { a.versionTemplate = { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: core.signer.sa.email.apply(() => "SOFTWARE") }; };
        },
        preview: true,
    },
    {
        name: "runner maxRunDuration computed from another resource's output (two days once known)",
        cls: "unknown lifetime", invariant: "I2", offender: "vm-template",
        why: "the applied bound is 172800 s; during a first preview it is unknown and must not pass",
        mutate: (m) => {
            m.args.vmTemplate = (a, core) => { a.scheduling.maxRunDuration = { seconds: core.vm.sa.email.apply(() => 172800) }; };
        },
        preview: true,
    },
    {
        name: "signer key grant to the runner SA looked up with the getAccount data source",
        cls: "data-source member", invariant: "I9", offender: "looked-up-signs",
        why: "the looked-up account is the VM runner SA: a runner signs",
        mutate: add((h) => {
            const acct = gcp.serviceaccount.getAccountOutput({ accountId: `runner-${POOLS.vm.pool}`, project: WORKER_PROJECT });
            new gcp.kms.CryptoKeyIAMMember("looked-up-signs", { cryptoKeyId: h.key.id, role: "roles/cloudkms.signer", member: acct.member });
        }),
        preview: true,
    },
    {
        name: "runner SA granted signer on the signer key looked up with the getKMSCryptoKey data source",
        cls: "data-source resource id", invariant: "I9", offender: "runner-signs-looked-up-key",
        why: "the looked-up key is the signer key: a runner signs",
        mutate: add((h) => {
            const key = gcp.kms.getKMSCryptoKeyOutput({ name: "provenance-signing", keyRing: `projects/${SIGNER_PROJECT}/locations/${REGION}/keyRings/provenance` });
            new gcp.kms.CryptoKeyIAMMember("runner-signs-looked-up-key", { cryptoKeyId: key.id, role: "roles/cloudkms.signer", member: h.vm.sa.member });
        }),
        preview: true,
    },
];

export const secureVariants: SecureVariant[] = [
    {
        name: "signer image pinned by digest with a human-readable tag as well (name:tag@sha256:...)",
        cls: "image reference spelling",
        why: "the digest wins over the tag: the image is immutable",
        mutate: (m) => {
            m.args.signerService = (a) => { a.template.containers[0].image = `${REGION}-docker.pkg.dev/${SIGNER_PROJECT}/signer/provenance-signer:v1.4.2@sha256:${"0".repeat(64)}`; };
        },
    },
    {
        name: "the signer SA also reads its own key's public key (publicKeyViewer)",
        cls: "extra grant to the signer itself",
        why: "the signer publishes its keyring; reading a public key signs nothing",
        mutate: add((h) => {
            new gcp.kms.CryptoKeyIAMMember("signer-reads-pubkey", { cryptoKeyId: h.key.id, role: "roles/cloudkms.publicKeyViewer", member: h.signer.sa.member });
        }),
        preview: true,
    },
    {
        name: "runner pod with a read-only root filesystem and an in-memory /tmp",
        cls: "stricter pod",
        why: "stricter than restricted; the tmpfs emptyDir dies with the pod",
        mutate: editPod((s) => {
            s.containers[0].securityContext.readOnlyRootFilesystem = true;
            s.volumes.push({ name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "1Gi" } });
            s.containers[0].volumeMounts.push({ name: "tmp", mountPath: "/tmp" });
        }),
    },
    {
        name: "runner VMs are Confidential VMs (SEV on n2d, TERMINATE on host maintenance)",
        cls: "stricter VM",
        why: "adds memory encryption; everything else (lifetime, DELETE, shielded) unchanged",
        mutate: (m) => {
            m.args.vmTemplate = (a) => {
                a.machineType = "n2d-standard-4";
                a.confidentialInstanceConfig = { enableConfidentialCompute: true, confidentialInstanceType: "SEV" };
                a.scheduling.onHostMaintenance = "TERMINATE";
            };
        },
    },
    {
        name: "runner node pool explicitly disables the kubelet read-only port and caps PIDs",
        cls: "stricter node pool",
        why: "only narrows what a pod can do",
        mutate: (m) => {
            m.args.k8sNodePool = (a) => { a.nodeConfig.kubeletConfig = { insecureKubeletReadonlyPortEnabled: "FALSE", podPidsLimit: 4096 }; };
        },
    },
    {
        name: "NetworkPolicy allowing runner pods egress only to the restricted VIP on 443",
        cls: "narrow pod egress",
        why: "the same allow the VPC firewall already has; nothing else opens",
        mutate: add((_h, o) => {
            new k8s.networking.v1.NetworkPolicy("to-restricted-vip", {
                metadata: { name: "to-restricted-vip", namespace: RUNNERS, labels: LABELS },
                spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "199.36.153.4/30" } }], ports: [{ protocol: "TCP", port: 443 }] }] },
            }, o);
        }),
    },
    {
        name: "a logged, high-priority deny-all ingress rule in the signer network",
        cls: "extra deny",
        why: "a deny only removes paths; logging adds evidence",
        mutate: add((h) => {
            new gcp.compute.Firewall("signer-deny-ingress-logged", {
                project: SIGNER_PROJECT, network: h.signer.network.id, direction: "INGRESS", priority: 100,
                sourceRanges: ["0.0.0.0/0"], denies: [{ protocol: "all" }], logConfig: { metadata: "INCLUDE_ALL_METADATA" },
            });
        }),
        preview: true,
    },
    {
        name: "KMS audit logs also routed to a locked 400-day log bucket in the signer project",
        cls: "audit archive",
        why: "a second, locked copy of the audit trail; nothing is excluded",
        mutate: add(() => {
            new gcp.logging.ProjectBucketConfig("kms-audit-archive", { project: SIGNER_PROJECT, location: "global", bucketId: "kms-audit-archive", retentionDays: 400, locked: true });
            new gcp.logging.ProjectSink("kms-audit-to-archive", {
                project: SIGNER_PROJECT, name: "kms-audit-archive", destination: `logging.googleapis.com/projects/${SIGNER_PROJECT}/locations/global/buckets/kms-audit-archive`,
                filter: "protoPayload.serviceName=\"cloudkms.googleapis.com\"", uniqueWriterIdentity: true,
            });
        }),
    },
    {
        name: "a folder firewall policy that denies egress to the private.googleapis.com VIP",
        cls: "hierarchical deny",
        why: "belt and braces for I4: only a deny, attached to the fleet folder",
        mutate: add(() => {
            const fp = new gcp.compute.FirewallPolicy("fleet-guard", { parent: "folders/246813579", shortName: "fleet-guard" });
            new gcp.compute.FirewallPolicyRule("deny-private-vip", {
                firewallPolicy: fp.name, priority: 100, direction: "EGRESS", action: "deny",
                match: { destIpRanges: ["199.36.153.8/30"], layer4Configs: [{ ipProtocol: "all" }] },
            });
            new gcp.compute.FirewallPolicyAssociation("fleet-guard-assoc", { name: "fleet-guard", firewallPolicy: fp.id, attachmentTarget: "folders/246813579" });
        }),
    },
    {
        name: "signer key with a 30-day destroy-scheduled window",
        cls: "stricter key",
        why: "longer window before a destroyed version is gone; nothing else changes",
        mutate: (m) => {
            m.args.signerKey = (a) => { a.destroyScheduledDuration = "2592000s"; };
        },
    },
    {
        name: "extra org-policy guardrail: iam.allowedPolicyMemberDomains on the signer project",
        cls: "extra guardrail",
        why: "only narrows who can be granted anything in the enclave",
        mutate: add(() => {
            new gcp.orgpolicy.Policy("signer-member-domains", {
                parent: `projects/${SIGNER_PROJECT}`, name: `projects/${SIGNER_PROJECT}/policies/iam.allowedPolicyMemberDomains`,
                spec: { rules: [{ values: { allowedValues: ["C0abc1234"] } }] },
            });
        }),
    },
    {
        name: "ResourceQuota and LimitRange in the runner namespace",
        cls: "namespace limits",
        why: "bounds resources; grants nothing",
        mutate: add((_h, o) => {
            new k8s.core.v1.ResourceQuota("runner-quota", { metadata: { name: "runner-quota", namespace: RUNNERS, labels: LABELS }, spec: { hard: { pods: "50", "requests.cpu": "200", "requests.memory": "800Gi" } } }, o);
            new k8s.core.v1.LimitRange("runner-limits", {
                metadata: { name: "runner-limits", namespace: RUNNERS, labels: LABELS },
                spec: { limits: [{ type: "Container", default: { cpu: "4", memory: "16Gi" }, defaultRequest: { cpu: "1", memory: "4Gi" } }] },
            }, o);
        }),
    },
    {
        name: "IAM deny policy on the signer project: nobody but the signer SA may useToSign",
        cls: "IAM deny policy",
        why: "a deny only subtracts; the exception names the signer itself",
        mutate: add(() => {
            new gcp.iam.DenyPolicy("only-signer-signs", {
                parent: encodeURIComponent(`cloudresourcemanager.googleapis.com/projects/${SIGNER_PROJECT}`),
                name: "only-signer-signs",
                rules: [{
                    denyRule: {
                        deniedPrincipals: ["principalSet://goog/public:all"],
                        exceptionPrincipals: [`principal://iam.googleapis.com/projects/-/serviceAccounts/provenance-signer@${SIGNER_PROJECT}.iam.gserviceaccount.com`],
                        deniedPermissions: ["cloudkms.googleapis.com/cryptoKeyVersions.useToSign"],
                    },
                }],
            });
        }),
    },
    {
        name: "an explicit second key version on the signer key (rotation by the deployer)",
        cls: "key rotation",
        why: "the key rotation runbook: rotation means a new version created by the stack; same key, same IAM",
        mutate: add((h) => {
            new gcp.kms.CryptoKeyVersion("signer-key-v2", { cryptoKey: h.key.id }, { protect: true });
        }),
        preview: true,
    },
    {
        name: "runner cluster enforces the project Binary Authorization policy",
        cls: "stricter cluster",
        why: "admission of images is narrowed; nothing is opened",
        mutate: (m) => {
            m.args.k8sCluster = (a) => { a.binaryAuthorization = { evaluationMode: "PROJECT_SINGLETON_POLICY_ENFORCE" }; };
        },
    },
    {
        name: "runner pod scratch space as a generic ephemeral volume (a PVC created and deleted with the pod)",
        cls: "ephemeral volume",
        why: "the claim's lifetime is the pod's: nothing survives the build",
        mutate: editPod((s) => {
            s.volumes = [{ name: "work", ephemeral: { volumeClaimTemplate: { metadata: { labels: LABELS }, spec: { accessModes: ["ReadWriteOnce"], storageClassName: "standard-rwo", resources: { requests: { storage: "50Gi" } } } } } }];
        }),
    },
    {
        name: "runner pod resolves through the metadata server explicitly (dnsPolicy None)",
        cls: "pod DNS spelling",
        why: "169.254.169.254 is the resolver GKE nodes use anyway; the private zones still apply",
        mutate: editPod((s) => {
            s.dnsPolicy = "None";
            s.dnsConfig = { nameservers: ["169.254.169.254"], searches: [`${RUNNERS}.svc.cluster.local`, "svc.cluster.local", "cluster.local"], options: [{ name: "ndots", value: "2" }] };
        }),
    },
    {
        name: "runner template boots an exact image (not a family)",
        cls: "stricter image pinning",
        why: "an immutable image id is stricter than the family the baseline uses",
        mutate: (m) => {
            m.args.vmTemplate = (a) => { a.disks[0].sourceImage = "projects/acme-images/global/images/gha-runner-20261201"; };
        },
    },
    {
        name: "a second subnet of the VM pool network in another region, with flow logs",
        cls: "pool network grows",
        why: "same pool, same deny-all rules, flow logs on: no new path",
        mutate: add((h) => {
            new gcp.compute.Subnetwork("vm-subnet-west4", {
                project: WORKER_PROJECT, region: "europe-west4", network: h.vm.network.id, ipCidrRange: "10.11.0.0/24", privateIpGoogleAccess: true,
                logConfig: { aggregationInterval: "INTERVAL_5_SEC", flowSampling: 1, metadata: "INCLUDE_ALL_METADATA" },
            });
        }),
        preview: true,
    },
    {
        name: "the control plane may list and describe the signer key ring (roles/cloudkms.viewer)",
        cls: "metadata-only grant near the enclave",
        why: "cloudkms.viewer holds no useToSign, no IAM and no version management",
        mutate: add((h) => {
            new gcp.kms.KeyRingIAMMember("cp-views-ring", { keyRingId: h.ring.id, role: "roles/cloudkms.viewer", member: h.controlPlaneSa.member });
        }),
        preview: true,
    },
    {
        name: "an auditors group may read the provenance bucket",
        cls: "read-only grant on provenance",
        why: "provenance is evidence meant to be verified; reading it neither writes nor signs",
        mutate: add((h) => {
            new gcp.storage.BucketIAMMember("auditors-read-provenance", { bucket: h.provenance.name, role: "roles/storage.objectViewer", member: "group:supply-chain-auditors@acme.example" });
        }),
        preview: true,
    },
    {
        name: "an autoscaler on the runner MIG (0 to 20 VMs)",
        cls: "autoscaling",
        why: "scales the stateless MIG; one job per VM is unchanged",
        mutate: add((h) => {
            new gcp.compute.RegionAutoscaler("vm-autoscaler", {
                project: WORKER_PROJECT, region: REGION, target: h.vmMig.id,
                autoscalingPolicy: { minReplicas: 0, maxReplicas: 20, cooldownPeriod: 60, cpuUtilization: { target: 0.9 } },
            });
        }),
        preview: true,
    },
    {
        name: "an alert policy on the signer key's signing rate",
        cls: "monitoring",
        why: "an alert reads metrics; it changes no access",
        mutate: add(() => {
            new gcp.monitoring.AlertPolicy("signing-rate", {
                project: SIGNER_PROJECT, displayName: "unusual signing rate", combiner: "OR",
                conditions: [{
                    displayName: "sign requests",
                    conditionThreshold: {
                        filter: "metric.type=\"cloudkms.googleapis.com/crypto_key/request_count\" resource.type=\"cloudkms.googleapis.com/CryptoKey\"",
                        comparison: "COMPARISON_GT", thresholdValue: 1000, duration: "300s",
                        aggregations: [{ alignmentPeriod: "300s", perSeriesAligner: "ALIGN_RATE" }],
                    },
                }],
            });
        }),
    },
];

