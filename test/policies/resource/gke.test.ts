/**
 * gke-cluster-hardened and gke-runner-node-pool-hardened (I6, I7) over raw GKE resources.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import { Checked, check, assertFired, assertMessage } from "../../helpers/resourcePolicy";

const RUNNER = { "build-fleet-role": "runner", "build-fleet-pool": "a" };

function goodCluster(): gcp.container.ClusterArgs {
    return {
        location: "europe-west1",
        resourceLabels: RUNNER,
        removeDefaultNodePool: true,
        initialNodeCount: 1,
        privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: true, masterIpv4CidrBlock: "172.16.0.0/28" },
        workloadIdentityConfig: { workloadPool: "fleet-proj.svc.id.goog" },
        datapathProvider: "ADVANCED_DATAPATH",
        deletionProtection: false,
    };
}

function goodNodeConfig(sa: gcp.types.input.container.NodePoolNodeConfig["serviceAccount"]): gcp.types.input.container.NodePoolNodeConfig {
    return {
        machineType: "e2-standard-4",
        serviceAccount: sa,
        oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
        sandboxConfig: { type: "GVISOR" },
        workloadMetadataConfig: { mode: "GKE_METADATA" },
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
        resourceLabels: RUNNER,
    };
}

function program() {
    const sa = new gcp.serviceaccount.Account("nodes-sa", { accountId: "pool-a-nodes" });
    const good = goodCluster();
    const cluster = new gcp.container.Cluster("c-good", good);
    new gcp.container.Cluster("c-public-nodes", { ...good, privateClusterConfig: undefined });
    new gcp.container.Cluster("c-no-wi", { ...good, workloadIdentityConfig: undefined });
    new gcp.container.Cluster("c-no-netpol", { ...good, datapathProvider: undefined });
    new gcp.container.Cluster("c-netpol-calico", { ...good, datapathProvider: undefined, networkPolicy: { enabled: true, provider: "CALICO" } });
    new gcp.container.Cluster("c-legacy", {
        ...good,
        enableLegacyAbac: true,
        enableShieldedNodes: false,
        masterAuth: { clientCertificateConfig: { issueClientCertificate: true } },
    });
    new gcp.container.Cluster("c-autopilot", { location: "europe-west1", enableAutopilot: true, privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: true }, deletionProtection: false,
        clusterAutoscaling: { autoProvisioningDefaults: { serviceAccount: "runner-nodes@p.iam.gserviceaccount.com" } } });
    new gcp.container.Cluster("c-autopilot-default-sa", { location: "europe-west1", enableAutopilot: true, privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: true }, deletionProtection: false });
    new gcp.container.Cluster("c-public-endpoint", { ...good, privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: false } });

    const ncfg = goodNodeConfig(sa.email);
    new gcp.container.NodePool("np-good", { cluster: cluster.id, nodeConfig: ncfg });
    new gcp.container.NodePool("np-runc", { cluster: cluster.id, nodeConfig: { ...ncfg, sandboxConfig: undefined } });
    new gcp.container.NodePool("np-legacy-gvisor", { cluster: cluster.id, nodeConfig: { ...ncfg, sandboxConfig: { sandboxType: "gvisor" } } });
    new gcp.container.NodePool("np-gce-metadata", { cluster: cluster.id, nodeConfig: { ...ncfg, workloadMetadataConfig: { mode: "GCE_METADATA" } } });
    new gcp.container.NodePool("np-no-secure-boot", { cluster: cluster.id, nodeConfig: { ...ncfg, shieldedInstanceConfig: { enableIntegrityMonitoring: true } } });
    new gcp.container.NodePool("np-default-sa", { cluster: cluster.id, nodeConfig: { ...ncfg, serviceAccount: undefined } });
    new gcp.container.NodePool("np-no-config", { cluster: cluster.id });
    // The non-sandboxed system pool GKE Sandbox requires: exempt from gVisor only when tainted.
    const systemLabels = { ...RUNNER, "build-fleet-node-class": "system" };
    const taints = [{ key: "build-fleet/system", value: "true", effect: "NO_SCHEDULE" }];
    new gcp.container.NodePool("np-system", { cluster: cluster.id, nodeConfig: { ...ncfg, sandboxConfig: undefined, labels: systemLabels, taints } });
    new gcp.container.NodePool("np-system-untainted", { cluster: cluster.id, nodeConfig: { ...ncfg, sandboxConfig: undefined, labels: systemLabels } });
    new gcp.container.NodePool("np-system-gce-metadata", {
        cluster: cluster.id,
        nodeConfig: { ...ncfg, sandboxConfig: undefined, labels: systemLabels, taints, workloadMetadataConfig: { mode: "GCE_METADATA" } },
    });
    new gcp.container.NodePool("np-control-plane", { cluster: cluster.id, nodeConfig: { resourceLabels: { "build-fleet-role": "control-plane" } } });
    // Inline pools: the cluster is checked for them too.
    new gcp.container.Cluster("c-inline-bad", { ...good, removeDefaultNodePool: undefined, nodePools: [{ name: "runners", nodeConfig: { ...ncfg, workloadMetadataConfig: undefined } }] });
    new gcp.container.Cluster("c-inline-good", { ...good, removeDefaultNodePool: undefined, initialNodeCount: undefined, nodePools: [{ name: "runners", nodeCount: 1, nodeConfig: ncfg }] });
    new gcp.container.Cluster("c-default-pool", { ...good, removeDefaultNodePool: undefined });
}

describe("resource rules: GKE", function () {
    this.timeout(60000);
    let c: Checked;
    let p: Checked;
    before(async () => {
        c = await check(program);
        p = await check(program, { preview: true });
    });

    describe("gke-cluster-hardened", () => {
        it("a hardened cluster (Dataplane V2 or network policy) passes", () => {
            assertFired(c, "c-good", []);
            assertFired(c, "c-netpol-calico", []);
            assertFired(c, "c-autopilot", []);
        });
        it("each missing control fires, named in the message", () => {
            assertFired(c, "c-public-nodes", ["gke-cluster-hardened"]);
            assertMessage(c, "c-public-nodes", "gke-cluster-hardened", "private nodes");
            assertFired(c, "c-public-endpoint", ["gke-cluster-hardened"]);
            assertMessage(c, "c-public-endpoint", "gke-cluster-hardened", "no public control-plane endpoint");
            assertFired(c, "c-no-wi", ["gke-cluster-hardened"]);
            assertMessage(c, "c-no-wi", "gke-cluster-hardened", "Workload Identity");
            assertFired(c, "c-no-netpol", ["gke-cluster-hardened"]);
            assertMessage(c, "c-no-netpol", "gke-cluster-hardened", "network policy");
            assertFired(c, "c-legacy", ["gke-cluster-hardened"]);
            for (const text of ["legacy ABAC", "client certificate", "shielded nodes"]) {
                assertMessage(c, "c-legacy", "gke-cluster-hardened", text);
            }
        });
    });

    describe("gke-runner-node-pool-hardened", () => {
        it("a gVisor, GKE_METADATA, shielded pool with its own SA passes", () => {
            assertFired(c, "np-good", []);
            assertFired(c, "np-legacy-gvisor", []);
        });
        it("each weakness fires", () => {
            assertFired(c, "c-autopilot-default-sa", ["gke-runner-node-pool-hardened"]);
            assertMessage(c, "c-autopilot-default-sa", "gke-runner-node-pool-hardened", "autoProvisioningDefaults.serviceAccount is not set");
            assertFired(c, "np-runc", ["gke-runner-node-pool-hardened"]);
            assertMessage(c, "np-runc", "gke-runner-node-pool-hardened", "GVISOR");
            assertFired(c, "np-gce-metadata", ["gke-runner-node-pool-hardened"]);
            assertMessage(c, "np-gce-metadata", "gke-runner-node-pool-hardened", "GKE_METADATA");
            assertFired(c, "np-no-secure-boot", ["gke-runner-node-pool-hardened"]);
            assertFired(c, "np-default-sa", ["gke-runner-node-pool-hardened"]);
            assertMessage(c, "np-default-sa", "gke-runner-node-pool-hardened", "default compute service account");
            assertFired(c, "np-no-config", ["gke-runner-node-pool-hardened"]);
        });
        it("a pool labelled control-plane is exempt", () => assertFired(c, "np-control-plane", []));
        it("the tainted system pool is exempt from gVisor only", () => {
            assertFired(c, "np-system", []);
            assertFired(c, "np-system-untainted", ["gke-runner-node-pool-hardened"]);
            assertMessage(c, "np-system-untainted", "gke-runner-node-pool-hardened", "GVISOR");
            assertFired(c, "np-system-gce-metadata", ["gke-runner-node-pool-hardened"]);
            assertMessage(c, "np-system-gce-metadata", "gke-runner-node-pool-hardened", "GKE_METADATA");
        });
        it("inline node pools and the default pool are checked on the cluster", () => {
            assertFired(c, "c-inline-bad", ["gke-runner-node-pool-hardened"]);
            assertMessage(c, "c-inline-bad", "gke-runner-node-pool-hardened", "nodePools[0].nodeConfig.workloadMetadataConfig");
            assertFired(c, "c-inline-good", []);
            assertFired(c, "c-default-pool", ["gke-runner-node-pool-hardened"]);
            assertMessage(c, "c-default-pool", "gke-runner-node-pool-hardened", "default node pool");
        });
    });

    it("preview: unknown cluster ids and SA emails produce no findings", () => {
        assertFired(p, "np-good", []);
        assert.deepStrictEqual(p.undecided("np-good"), []);
        assertFired(p, "c-good", []);
        assertFired(p, "np-runc", ["gke-runner-node-pool-hardened"]);
    });
});
