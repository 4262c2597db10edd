/**
 * RunnerPool, GKE backend: the captured graph proves I1 (one pod per job, no PVC/hostPath), I2
 * (activeDeadlineSeconds), I5 (own cluster in own network, own SA, WI identity per pool) and I6 (private
 * shielded nodes, gVisor, GKE_METADATA, Workload Identity, Dataplane V2, Pod Security restricted,
 * default-deny NetworkPolicy, hardened pod template).
 */
import * as assert from "assert";
import { CapturedResource, ProgramRun, runProgram, UNKNOWN } from "../../../plan/engine";
import type { PoolConfig } from "../../../components/config";
import { gkeKubeconfig } from "../../../components/runnerPool/gkeCluster";
import { ARC_CONTROLLER_CHART, ARC_SCALE_SET_CHART, DEFAULT_ARC_CHART_VERSION, NON_PUBLIC_RANGES } from "../../../components/runnerPool/scaleSet";
import { POOL_LABEL, ROLE_LABEL } from "../../../components/labels";
import { GKE_NODE_ROLES, RUNNER_PROJECT_ROLES } from "../../../components/runnerPool/identity";
import { BROKER_TOKEN_AUDIENCE, NODE_CLASS_LABEL, runnerPodTemplate } from "../../../components/runnerPool/podTemplate";
import { RunnerPool, RunnerPoolArgs } from "../../../components/runnerPool";
import { ancestorsOf, byType, component, dependsOn, one, stackOf, walk } from "../../helpers/graph";

const GKE_T = {
    pool: "hardened-build-fleet:index:RunnerPool",
    network: "hardened-build-fleet:index:IsolatedNetwork",
    cluster: "gcp:container/cluster:Cluster",
    nodePool: "gcp:container/nodePool:NodePool",
    firewall: "gcp:compute/firewall:Firewall",
    subnet: "gcp:compute/subnetwork:Subnetwork",
    account: "gcp:serviceaccount/account:Account",
    key: "gcp:serviceaccount/key:Key",
    projectMember: "gcp:projects/iAMMember:IAMMember",
    saMember: "gcp:serviceaccount/iAMMember:IAMMember",
    provider: "pulumi:providers:kubernetes",
    namespace: "kubernetes:core/v1:Namespace",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    quota: "kubernetes:core/v1:ResourceQuota",
    limitRange: "kubernetes:core/v1:LimitRange",
    ksa: "kubernetes:core/v1:ServiceAccount",
    release: "kubernetes:helm.sh/v3:Release",
};
const T = GKE_T;

const gkePool: PoolConfig = {
    name: "pool-k",
    backend: "gke",
    machineType: "n2-standard-8",
    minRunners: 0,
    maxRunners: 20,
    spot: true,
    cidr: "10.30.0.0/22",
    egressAllowList: { cidrs: ["140.82.112.0/20"], fqdns: ["github.com", "api.github.com", "ghcr.io"] },
    maxBuildDurationSeconds: 5400,
    image: "ghcr.io/actions/actions-runner:2.329.0",
    confidentialCompute: false,
    podCidr: "10.128.0.0/14",
    serviceCidr: "10.32.0.0/20",
    masterCidr: "172.16.0.32/28",
};

function gkeArgs(pool: Partial<PoolConfig> = {}, extra: Partial<RunnerPoolArgs> = {}): RunnerPoolArgs {
    return {
        pool: { ...gkePool, ...pool },
        project: "worker-proj",
        region: "europe-west1",
        github: { configUrl: "https://github.com/example-org", scaleSetSecretName: "arc-github-app" },
        ...extra,
    };
}

async function buildGke(a: RunnerPoolArgs = gkeArgs(), preview = false): Promise<ProgramRun> {
    return runProgram(() => {
        const pool = new RunnerPool("pool-k", a);
        return { email: pool.serviceAccountEmail, member: pool.serviceAccountMember, cluster: pool.gke?.cluster.name };
    }, { preview });
}

function named(run: ProgramRun, type: string, name: string): CapturedResource {
    return one(run, type, name);
}

describe("RunnerPool (gke)", function () {
    this.timeout(60000);

    let run: ProgramRun;
    let cluster: CapturedResource;
    let sa: CapturedResource;
    let nodeSa: CapturedResource;
    before(async () => {
        run = await buildGke();
        cluster = one(run, T.cluster);
        sa = one(run, T.account, "pool-k-sa");
        nodeSa = one(run, T.account, "pool-k-node-sa");
    });

    it("keeps every resource below the RunnerPool component, with names derived from it", () => {
        const pool = component(run, T.pool, "pool-k");
        assert.strictEqual(pool.parent, stackOf(run).urn);
        for (const r of run.resources) {
            if (r.type === "pulumi:pulumi:Stack" || r.urn === pool.urn) {
                continue;
            }
            assert.ok(ancestorsOf(run, r).includes(pool.urn), `${r.type} ${r.name} is not below the RunnerPool`);
            assert.ok(r.name.startsWith("pool-k-"), `${r.name} does not derive from the component name`);
        }
    });

    describe("cluster", () => {
        it("I5: lives in the pool's own network and subnet with the pool's secondary ranges", () => {
            const net = component(run, T.network, "pool-k-net");
            assert.strictEqual(net.parent, component(run, T.pool, "pool-k").urn);
            const subnet = one(run, T.subnet);
            assert.deepStrictEqual(subnet.inputs.secondaryIpRanges, [
                { rangeName: "pool-k-pods", ipCidrRange: "10.128.0.0/14" },
                { rangeName: "pool-k-services", ipCidrRange: "10.32.0.0/20" },
            ]);
            assert.strictEqual(cluster.inputs.subnetwork, subnet.outputs.selfLink);
            assert.ok(cluster.propertyDependencies.subnetwork.includes(subnet.urn));
            assert.strictEqual(cluster.inputs.network, one(run, "gcp:compute/network:Network").outputs.selfLink);
            assert.strictEqual(cluster.inputs.networkingMode, "VPC_NATIVE");
            assert.deepStrictEqual(cluster.inputs.ipAllocationPolicy, { clusterSecondaryRangeName: "pool-k-pods", servicesSecondaryRangeName: "pool-k-services" });
            // Nodes pull system images from Google registries through the restricted VIP.
            const zones = byType(run, "gcp:dns/managedZone:ManagedZone").map((z) => z.inputs.dnsName).sort();
            assert.deepStrictEqual(zones, ["gcr.io.", "googleapis.com.", "pkg.dev."]);
        });

        it("I3/I6: private nodes and private endpoint on the pool's master CIDR, reachable only through the IAM-gated DNS endpoint", () => {
            assert.deepStrictEqual(cluster.inputs.privateClusterConfig, {
                enablePrivateNodes: true, enablePrivateEndpoint: true, masterIpv4CidrBlock: "172.16.0.32/28", masterGlobalAccessConfig: { enabled: false },
            });
            assert.deepStrictEqual(cluster.inputs.controlPlaneEndpointsConfig, { dnsEndpointConfig: { allowExternalTraffic: true } });
            assert.deepStrictEqual(cluster.inputs.masterAuthorizedNetworksConfig, { gcpPublicCidrsAccessEnabled: false });
        });

        it("I6: Workload Identity, shielded nodes, Dataplane V2, release channel, no legacy ABAC, no client certificate", () => {
            assert.deepStrictEqual(cluster.inputs.workloadIdentityConfig, { workloadPool: "worker-proj.svc.id.goog" });
            assert.strictEqual(cluster.inputs.enableShieldedNodes, true);
            assert.strictEqual(cluster.inputs.datapathProvider, "ADVANCED_DATAPATH");
            assert.deepStrictEqual(cluster.inputs.releaseChannel, { channel: "REGULAR" });
            assert.strictEqual(cluster.inputs.enableLegacyAbac, false);
            assert.deepStrictEqual(cluster.inputs.masterAuth, { clientCertificateConfig: { issueClientCertificate: false } });
            assert.strictEqual(cluster.inputs.removeDefaultNodePool, true);
            assert.strictEqual(cluster.inputs.initialNodeCount, 1);
            assert.strictEqual(cluster.inputs.deletionProtection, true);
            assert.strictEqual(cluster.inputs.location, "europe-west1");
            assert.deepStrictEqual(cluster.inputs.resourceLabels, { [ROLE_LABEL]: "runner", [POOL_LABEL]: "pool-k" });
            assert.strictEqual(cluster.inputs.name, "pool-k");
            // Even the short-lived default pool runs as the pool SA with GKE_METADATA.
            assert.strictEqual(cluster.inputs.nodeConfig.serviceAccount, nodeSa.outputs.email);
            assert.deepStrictEqual(cluster.inputs.nodeConfig.workloadMetadataConfig, { mode: "GKE_METADATA" });
        });
    });

    describe("node pools", () => {
        it("I6: the runner pool is gVisor, GKE_METADATA, shielded, runs as the node SA, spot, tainted, autoscaled 0..maxRunners", () => {
            const np = named(run, T.nodePool, "pool-k-runners");
            const nc = np.inputs.nodeConfig;
            assert.deepStrictEqual(nc.sandboxConfig, { type: "GVISOR" });
            assert.deepStrictEqual(nc.workloadMetadataConfig, { mode: "GKE_METADATA" });
            assert.deepStrictEqual(nc.shieldedInstanceConfig, { enableSecureBoot: true, enableIntegrityMonitoring: true });
            assert.strictEqual(nc.serviceAccount, nodeSa.outputs.email);
            assert.ok(np.propertyDependencies.nodeConfig.includes(nodeSa.urn));
            assert.strictEqual(nc.spot, true);
            assert.strictEqual(nc.machineType, "n2-standard-8");
            assert.strictEqual(nc.imageType, "COS_CONTAINERD");
            assert.deepStrictEqual(nc.taints, [{ key: "build-fleet-role", value: "runner", effect: "NO_SCHEDULE" }]);
            const labels = { [ROLE_LABEL]: "runner", [POOL_LABEL]: "pool-k", [NODE_CLASS_LABEL]: "runner" };
            assert.deepStrictEqual(nc.labels, labels);
            assert.deepStrictEqual(nc.resourceLabels, labels);
            assert.deepStrictEqual(np.inputs.autoscaling, { totalMinNodeCount: 0, totalMaxNodeCount: 20, locationPolicy: "ANY" });
            assert.deepStrictEqual(np.inputs.management, { autoRepair: true, autoUpgrade: true });
            assert.strictEqual(np.inputs.cluster, cluster.outputs.name);
            assert.ok(dependsOn(np, cluster));
        });

        it("the system pool (required by GKE Sandbox) is hardened too and tainted for GKE-managed components only", () => {
            const np = named(run, T.nodePool, "pool-k-system");
            const nc = np.inputs.nodeConfig;
            assert.strictEqual(nc.sandboxConfig, undefined);
            assert.deepStrictEqual(nc.workloadMetadataConfig, { mode: "GKE_METADATA" });
            assert.deepStrictEqual(nc.shieldedInstanceConfig, { enableSecureBoot: true, enableIntegrityMonitoring: true });
            assert.strictEqual(nc.serviceAccount, nodeSa.outputs.email);
            assert.deepStrictEqual(nc.taints, [{ key: "components.gke.io/gke-managed-components", value: "true", effect: "NO_SCHEDULE" }]);
            assert.strictEqual(nc.labels[NODE_CLASS_LABEL], "system");
            assert.strictEqual(nc.resourceLabels[ROLE_LABEL], "runner");
        });

        it("I3: every node pool blocks project SSH keys, keeps the serial port off and hides legacy metadata endpoints", () => {
            for (const np of byType(run, T.nodePool)) {
                assert.deepStrictEqual(np.inputs.nodeConfig.metadata, {
                    "disable-legacy-endpoints": "true", "block-project-ssh-keys": "TRUE", "serial-port-enable": "FALSE",
                }, np.name);
            }
        });

        it("opens node egress only to the pool's own node/pod ranges and its control plane", () => {
            const fw = byType(run, T.firewall).filter((f) => f.name.startsWith("pool-k-gke-"));
            assert.deepStrictEqual(fw.map((f) => f.name).sort(), ["pool-k-gke-control-plane", "pool-k-gke-egress"]);
            const intra = named(run, T.firewall, "pool-k-gke-egress");
            assert.strictEqual(intra.inputs.direction, "EGRESS");
            assert.deepStrictEqual(intra.inputs.destinationRanges, ["10.30.0.0/22", "10.128.0.0/14"]);
            const cp = named(run, T.firewall, "pool-k-gke-control-plane");
            assert.deepStrictEqual(cp.inputs.destinationRanges, ["172.16.0.32/28"]);
            assert.deepStrictEqual(cp.inputs.allows, [{ protocol: "tcp", ports: ["443", "8132", "10250"] }]);
            for (const f of fw) {
                assert.strictEqual(f.inputs.network, one(run, "gcp:compute/network:Network").outputs.selfLink);
                assert.strictEqual(f.inputs.sourceRanges, undefined);
            }
        });
    });

    describe("identity", () => {
        it("I7: the build's Workload Identity SA writes logs only; the nodes run as a separate SA with node-agent roles; no key", () => {
            assert.notStrictEqual(nodeSa.outputs.email, sa.outputs.email);
            const grants = (email: string) => byType(run, T.projectMember).filter((g) => g.inputs.member === `serviceAccount:${email}`).map((g) => g.inputs.role).sort();
            assert.deepStrictEqual(grants(sa.outputs.email), [...RUNNER_PROJECT_ROLES].sort());
            assert.deepStrictEqual(RUNNER_PROJECT_ROLES, ["roles/logging.logWriter"]);
            assert.deepStrictEqual(grants(nodeSa.outputs.email), [...GKE_NODE_ROLES].sort());
            assert.strictEqual(byType(run, T.projectMember).length, RUNNER_PROJECT_ROLES.length + GKE_NODE_ROLES.length);
            // No node pool, and not the cluster, runs as the build's identity.
            for (const np of byType(run, T.nodePool)) {
                assert.notStrictEqual(np.inputs.nodeConfig.serviceAccount, sa.outputs.email);
            }
            assert.deepStrictEqual(byType(run, T.key), []);
        });

        it("binds only the pool's KSA to the pool GSA through Workload Identity", () => {
            const wi = one(run, T.saMember);
            assert.strictEqual(wi.inputs.serviceAccountId, sa.outputs.name);
            assert.strictEqual(wi.inputs.role, "roles/iam.workloadIdentityUser");
            assert.strictEqual(wi.inputs.member, "serviceAccount:worker-proj.svc.id.goog[runners-pool-k/pool-k-runner]");
        });
    });

    describe("kubernetes objects", () => {
        let provider: CapturedResource;
        before(() => {
            provider = one(run, T.provider);
        });

        it("go through a kubernetes provider bound to the cluster, authenticated by gke-gcloud-auth-plugin", () => {
            assert.ok(dependsOn(provider, cluster));
            const kubeconfig = JSON.parse(provider.inputs.kubeconfig);
            const user = kubeconfig.users[0].user;
            assert.strictEqual(user.exec.command, "gke-gcloud-auth-plugin");
            assert.strictEqual(user.token, undefined);
            assert.strictEqual(user["client-certificate-data"], undefined);
            assert.strictEqual(user["client-key-data"], undefined);
            assert.strictEqual(kubeconfig.clusters[0].name, cluster.outputs.name);
            const k8sObjects = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
            // 2 namespaces, 3 network policies, quota, limit range, KSA, 2 Helm releases.
            assert.strictEqual(k8sObjects.length, 10);
            for (const r of k8sObjects) {
                assert.ok(r.provider?.startsWith(`${provider.urn}::`), `${r.name} does not use the cluster provider`);
                assert.strictEqual(r.parent, component(run, T.pool, "pool-k").urn);
                assert.deepStrictEqual(
                    { role: r.inputs.metadata?.labels?.[ROLE_LABEL] ?? r.inputs.values?.labels?.[ROLE_LABEL], pool: r.inputs.metadata?.labels?.[POOL_LABEL] ?? r.inputs.values?.labels?.[POOL_LABEL] },
                    { role: "runner", pool: "pool-k" },
                    `${r.name} lacks role labels`,
                );
            }
        });

        it("builds a kubeconfig for either endpoint without any static credential", () => {
            const dns = JSON.parse(gkeKubeconfig("c", "https://gke-abc.europe-west1.gke.goog"));
            assert.strictEqual(dns.clusters[0].cluster["certificate-authority-data"], undefined);
            const ip = JSON.parse(gkeKubeconfig("c", "https://172.16.0.34", "Q0E="));
            assert.strictEqual(ip.clusters[0].cluster["certificate-authority-data"], "Q0E=");
        });

        it("I6: both namespaces enforce, audit and warn Pod Security restricted and carry role labels", () => {
            const names = byType(run, T.namespace).map((n) => n.inputs.metadata.name).sort();
            assert.deepStrictEqual(names, ["arc-system", "runners-pool-k"]);
            for (const ns of byType(run, T.namespace)) {
                const labels = ns.inputs.metadata.labels;
                for (const mode of ["enforce", "audit", "warn"]) {
                    assert.strictEqual(labels[`pod-security.kubernetes.io/${mode}`], "restricted");
                }
                assert.strictEqual(labels[ROLE_LABEL], "runner");
                assert.strictEqual(labels[POOL_LABEL], "pool-k");
            }
        });

        it("I3/I4: default-deny ingress and egress for every runner pod, and only DNS, metadata, restricted VIP and the allow-list opened", () => {
            const deny = named(run, T.networkPolicy, "pool-k-default-deny");
            assert.strictEqual(deny.inputs.metadata.namespace, "runners-pool-k");
            // Exactly this spec: no ingress or egress rule, so everything is denied.
            assert.deepStrictEqual(deny.inputs.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });

            const egress = named(run, T.networkPolicy, "pool-k-runner-egress");
            assert.deepStrictEqual(egress.inputs.spec.policyTypes, ["Egress"]);
            assert.strictEqual(egress.inputs.spec.ingress, undefined);
            const rules = egress.inputs.spec.egress;
            assert.deepStrictEqual(rules[0], {
                to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
                ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
            });
            const blocks = rules.flatMap((r: any) => r.to.filter((t: any) => t.ipBlock).map((t: any) => t.ipBlock.cidr));
            assert.deepStrictEqual(blocks, ["169.254.169.254/32", "169.254.169.252/32", "199.36.153.4/30", "140.82.112.0/20", "0.0.0.0/0"]);
            // FQDNs: public HTTPS only at pod level, the VPC FQDN policy enforces the names.
            const fqdnRule = rules[rules.length - 1];
            assert.deepStrictEqual(fqdnRule, { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: NON_PUBLIC_RANGES } }], ports: [{ protocol: "TCP", port: 443 }] });
            assert.ok(NON_PUBLIC_RANGES.includes("10.0.0.0/8") && NON_PUBLIC_RANGES.includes("169.254.0.0/16"));

            const ctl = named(run, T.networkPolicy, "pool-k-controller-deny-ingress");
            assert.strictEqual(ctl.inputs.metadata.namespace, "arc-system");
            assert.deepStrictEqual(ctl.inputs.spec, { podSelector: {}, policyTypes: ["Ingress"] });
        });

        it("without FQDNs the pod egress policy opens no public range", async () => {
            const r = await buildGke(gkeArgs({ egressAllowList: { cidrs: [], fqdns: [] } }));
            const rules = named(r, T.networkPolicy, "pool-k-runner-egress").inputs.spec.egress;
            const cidrs = rules.flatMap((x: any) => x.to.filter((t: any) => t.ipBlock).map((t: any) => t.ipBlock.cidr));
            assert.deepStrictEqual(cidrs, ["169.254.169.254/32", "169.254.169.252/32", "199.36.153.4/30"]);
        });

        it("I1/I3: a quota forbidding PVCs, load balancers and node ports and bounding runners, plus a LimitRange", () => {
            const quota = named(run, T.quota, "pool-k-quota");
            assert.strictEqual(quota.inputs.metadata.namespace, "runners-pool-k");
            assert.deepStrictEqual(quota.inputs.spec.hard, {
                pods: "20",
                persistentvolumeclaims: "0",
                "services.loadbalancers": "0",
                "services.nodeports": "0",
                "requests.cpu": "40000m",
                "limits.cpu": "40000m",
                "requests.memory": "81920Mi",
                "limits.memory": "81920Mi",
                "requests.ephemeral-storage": "400Gi",
                "limits.ephemeral-storage": "400Gi",
            });
            const lr = named(run, T.limitRange, "pool-k-limits");
            const per = { cpu: "2000m", memory: "4096Mi", "ephemeral-storage": "20Gi" };
            assert.deepStrictEqual(lr.inputs.spec.limits, [{ type: "Container", default: per, defaultRequest: per, max: per }]);
        });

        it("I7: the runner KSA mounts no token and is annotated with the pool GSA", () => {
            const ksa = named(run, T.ksa, "pool-k-ksa");
            assert.strictEqual(ksa.inputs.automountServiceAccountToken, false);
            assert.strictEqual(ksa.inputs.metadata.name, "pool-k-runner");
            assert.strictEqual(ksa.inputs.metadata.namespace, "runners-pool-k");
            assert.deepStrictEqual(ksa.inputs.metadata.annotations, { "iam.gke.io/gcp-service-account": sa.outputs.email });
        });

        it("installs the ARC controller (pinned) on system nodes with a restricted-compliant security context", () => {
            const ctl = named(run, T.release, "pool-k-arc-controller");
            assert.strictEqual(ctl.inputs.chart, ARC_CONTROLLER_CHART);
            assert.strictEqual(ctl.inputs.version, DEFAULT_ARC_CHART_VERSION);
            assert.strictEqual(ctl.inputs.namespace, "arc-system");
            const v = ctl.inputs.values;
            assert.deepStrictEqual(v.securityContext.capabilities, { drop: ["ALL"] });
            assert.strictEqual(v.securityContext.allowPrivilegeEscalation, false);
            assert.strictEqual(v.podSecurityContext.runAsNonRoot, true);
            assert.strictEqual(v.podSecurityContext.runAsUser, 65532);
            assert.deepStrictEqual(v.nodeSelector, { [NODE_CLASS_LABEL]: "system" });
            assert.strictEqual(v.flags.watchSingleNamespace, "runners-pool-k");
        });

        it("I7: the runner KSA has no token and no RBAC anywhere; the controller namespace admits no ingress", () => {
            const ksa = named(run, T.ksa, "pool-k-ksa");
            assert.strictEqual(ksa.inputs.automountServiceAccountToken, false);
            const rbac = run.resources.filter((r) => /rbac\.authorization\.k8s\.io/.test(r.type));
            assert.deepStrictEqual(rbac.map((r) => r.name), [], "no Role or binding in the pool (the runner KSA gets none)");
            const ctl = named(run, T.networkPolicy, "pool-k-controller-deny-ingress");
            assert.deepStrictEqual([ctl.inputs.metadata.namespace, ctl.inputs.spec.policyTypes], ["arc-system", ["Ingress"]]);
        });

        it("I1/I2/I6: the scale-set release is pinned, names the secret only, has no dind and the hardened pod template", () => {
            const rel = named(run, T.release, "pool-k-scale-set");
            assert.strictEqual(rel.inputs.chart, ARC_SCALE_SET_CHART);
            assert.strictEqual(ARC_SCALE_SET_CHART, "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set");
            assert.strictEqual(rel.inputs.version, "0.12.1");
            assert.strictEqual(rel.inputs.namespace, "runners-pool-k");
            assert.strictEqual(rel.inputs.name, "pool-k");
            const v = rel.inputs.values;
            assert.strictEqual(v.githubConfigUrl, "https://github.com/example-org");
            assert.strictEqual(v.githubConfigSecret, "arc-github-app", "a secret NAME, not credentials");
            assert.strictEqual(v.minRunners, 0);
            assert.strictEqual(v.maxRunners, 20);
            assert.strictEqual(v.containerMode, undefined, "no dind / kubernetes mode");
            assert.deepStrictEqual(v.controllerServiceAccount, { namespace: "arc-system", name: "arc-controller" });
            assert.deepStrictEqual(v.template, runnerPodTemplate({
                pool: "pool-k", image: gkePool.image, serviceAccountName: "pool-k-runner", activeDeadlineSeconds: 5400,
            }));

            const spec = v.template.spec;
            assert.strictEqual(spec.runtimeClassName, "gvisor");
            assert.strictEqual(spec.activeDeadlineSeconds, 5400);
            assert.strictEqual(spec.automountServiceAccountToken, false);
            assert.strictEqual(spec.serviceAccountName, "pool-k-runner");
            assert.deepStrictEqual(spec.securityContext, { runAsNonRoot: true, runAsUser: 1001, runAsGroup: 1001, fsGroup: 1001, seccompProfile: { type: "RuntimeDefault" } });
            assert.deepStrictEqual(spec.tolerations, [{ key: "build-fleet-role", operator: "Equal", value: "runner", effect: "NoSchedule" }]);
            assert.deepStrictEqual(spec.nodeSelector, { [ROLE_LABEL]: "runner", [POOL_LABEL]: "pool-k", [NODE_CLASS_LABEL]: "runner" });
            assert.strictEqual(spec.hostNetwork, false);
            assert.strictEqual(spec.hostPID, false);
            assert.strictEqual(spec.hostIPC, false);
            assert.strictEqual(spec.containers.length, 1);
            const c = spec.containers[0];
            assert.strictEqual(c.name, "runner");
            assert.strictEqual(c.image, gkePool.image);
            assert.deepStrictEqual(c.command, ["/home/runner/run.sh"]);
            assert.deepStrictEqual(c.securityContext, {
                allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: false, runAsNonRoot: true,
                capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
            });
            assert.deepStrictEqual(c.resources.requests, c.resources.limits);
            // Scratch emptyDirs, and exactly one projected token: the broker's audience alone, 600 s.
            const tokens = spec.volumes.filter((vol: any) => vol.projected !== undefined);
            assert.deepStrictEqual(tokens, [{ name: "broker-token", projected: { sources: [{ serviceAccountToken: { audience: BROKER_TOKEN_AUDIENCE, expirationSeconds: 600, path: "broker-token" } }] } }]);
            for (const vol of spec.volumes.filter((v: any) => v.projected === undefined)) {
                assert.deepStrictEqual(Object.keys(vol).sort(), ["emptyDir", "name"], `volume ${vol.name} is not an emptyDir`);
            }
            assert.deepStrictEqual(c.volumeMounts.find((m: any) => m.name === "broker-token"), { name: "broker-token", mountPath: "/var/run/secrets/hardened-build-fleet", readOnly: true });
            assert.deepStrictEqual(v.template.metadata.labels, { [ROLE_LABEL]: "runner", [POOL_LABEL]: "pool-k" });
            for (const [path] of walk(v)) {
                assert.doesNotMatch(path, /hostPath|persistentVolumeClaim|volumeClaimTemplate|privileged: true/);
            }
        });

        it("orders the scale set after the controller, KSA, Workload Identity, policies, quota, limits and runner nodes", () => {
            const rel = named(run, T.release, "pool-k-scale-set");
            for (const dep of [
                named(run, T.release, "pool-k-arc-controller"), named(run, T.ksa, "pool-k-ksa"), one(run, T.saMember),
                named(run, T.networkPolicy, "pool-k-default-deny"), named(run, T.networkPolicy, "pool-k-runner-egress"),
                named(run, T.quota, "pool-k-quota"), named(run, T.limitRange, "pool-k-limits"), named(run, T.nodePool, "pool-k-runners"),
            ]) {
                assert.ok(dependsOn(rel, dep), `scale set does not depend on ${dep.name}`);
            }
        });
    });

    describe("options and preview", () => {
        it("lets GKE allocate secondary ranges when none are configured, opening its allocated pod range", async () => {
            const r = await buildGke(gkeArgs({ podCidr: undefined, serviceCidr: undefined, spot: false }));
            const c = one(r, T.cluster);
            assert.deepStrictEqual(c.inputs.ipAllocationPolicy, {});
            assert.strictEqual(one(r, T.subnet).inputs.secondaryIpRanges, undefined);
            assert.strictEqual(named(r, T.nodePool, "pool-k-runners").inputs.nodeConfig.spot, false);
            assert.ok(dependsOn(named(r, T.firewall, "pool-k-gke-egress"), c));
        });

        it("honours chart version, namespace and deletion-protection overrides", async () => {
            const r = await buildGke(gkeArgs({}, { gke: { chartVersion: "0.13.0", runnerNamespace: "builds", deletionProtection: false } }));
            assert.strictEqual(named(r, T.release, "pool-k-scale-set").inputs.version, "0.13.0");
            assert.strictEqual(named(r, T.release, "pool-k-scale-set").inputs.namespace, "builds");
            assert.strictEqual(one(r, T.cluster).inputs.deletionProtection, false);
            assert.strictEqual(one(r, T.saMember).inputs.member, "serviceAccount:worker-proj.svc.id.goog[builds/pool-k-runner]");
        });

        it("runs in preview mode with unknown cluster outputs", async () => {
            const r = await buildGke(gkeArgs(), true);
            assert.strictEqual(one(r, T.provider).inputs.kubeconfig, UNKNOWN);
            const np = named(r, T.nodePool, "pool-k-runners");
            assert.strictEqual(np.inputs.nodeConfig.serviceAccount, UNKNOWN);
            assert.deepStrictEqual(np.inputs.nodeConfig.sandboxConfig, { type: "GVISOR" });
            assert.strictEqual(named(r, T.ksa, "pool-k-ksa").inputs.automountServiceAccountToken, false);
        });

        it("rejects bad GKE input all at once", async () => {
            const r = await runProgram(() => {
                new RunnerPool("pool-k", gkeArgs({ serviceCidr: undefined, confidentialCompute: true, masterCidr: "172.16.0.0/24" }, {
                    github: undefined, gke: { chartVersion: "^0.12", runnerNamespace: "arc-system", controllerNamespace: "arc-system" },
                }));
            }, { allowError: true });
            const message = String((r.error as Error).message);
            // Each problem once: the pool validator's checks are not repeated by the backend's.
            assert.strictEqual(message.match(/masterCidr/g)?.length, 1, message);
            assert.strictEqual(message.match(/serviceCidr/g)?.length, 1, message);
            for (const expected of [
                /pool\.serviceCidr is not set: must be set together with podCidr/, /confidentialCompute: true on gke pool/,
                /pool\.masterCidr = "172\.16\.0\.0\/24": must be an RFC 1918 \/28/, /exact version/,
                /equals gke.controllerNamespace/, /github.configUrl: missing/,
            ]) {
                assert.match(message, expected);
            }
            assert.deepStrictEqual(r.resources.filter((x) => x.type !== "pulumi:pulumi:Stack"), []);
        });

        it("rejects a runner namespace that collides with the controller's default, and the reverse", async () => {
            for (const gke of [{ runnerNamespace: "arc-system" }, { controllerNamespace: "runners-pool-k" }]) {
                const r = await runProgram(() => {
                    new RunnerPool("pool-k", gkeArgs({}, { gke }));
                }, { allowError: true });
                assert.match(String((r.error as Error).message), /equals gke\.controllerNamespace; runner pods must not share/, JSON.stringify(gke));
                assert.deepStrictEqual(r.resources.filter((x) => x.type !== "pulumi:pulumi:Stack"), []);
            }
        });

    describe("control plane access to the runner namespace", () => {
        const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
        const BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
        it("binds only get on pods and get/delete on EphemeralRunners, in the runner namespace, to the given identities", async () => {
            const identities = ["broker@cp.iam.gserviceaccount.com", "webhook@cp.iam.gserviceaccount.com"];
            const r = await buildGke(gkeArgs({}, { controlPlaneIdentities: identities }));
            const role = named(r, ROLE, "pool-k-control-plane-access");
            assert.deepStrictEqual(role.inputs.rules, [
                { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
                { apiGroups: ["actions.github.com"], resources: ["ephemeralrunners"], verbs: ["get", "delete"] },
            ]);
            assert.strictEqual(role.inputs.metadata.namespace, "runners-pool-k");
            const binding = named(r, BINDING, "pool-k-control-plane-access");
            assert.deepStrictEqual(binding.inputs.subjects, identities.map((name) => ({ kind: "User", apiGroup: "rbac.authorization.k8s.io", name })));
            assert.deepStrictEqual(binding.inputs.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "control-plane-runner-access" });
            assert.strictEqual(binding.inputs.metadata.namespace, "runners-pool-k");
        });
        it("grants nothing when no identity is given", async () => {
            const r = await buildGke();
            assert.deepStrictEqual(r.resources.filter((x) => x.type === ROLE || x.type === BINDING), []);
        });
    });
    });
});
