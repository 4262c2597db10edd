import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { longestDependencyChain, runProgram } from "../../plan/engine";

class Box extends pulumi.ComponentResource {
    readonly net: gcp.compute.Network;
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("test:index:Box", name, {}, opts);
        this.net = new gcp.compute.Network(`${name}-net`, {}, { parent: this });
        new gcp.compute.Subnetwork(`${name}-sub`, { network: this.net.id, ipCidrRange: "10.0.0.0/24" }, { parent: this });
        this.registerOutputs({});
    }
}

describe("engine: longestDependencyChain", () => {
    it("follows property dependencies and expands component dependencies to their custom descendants", async () => {
        const run = await runProgram(() => {
            const box = new Box("a");
            // Depends on the component: waits for its network AND its subnetwork (chain 2), so this makes 3.
            const fw = new gcp.compute.Firewall("fw", { network: "x", allows: [{ protocol: "tcp" }] }, { dependsOn: [box] });
            new gcp.compute.Route("route", { network: "x", destRange: "0.0.0.0/0" }, { dependsOn: [fw] });
            new gcp.compute.Network("alone", {});
        });
        const { length, path } = longestDependencyChain(run);
        assert.strictEqual(length, 4);
        assert.deepStrictEqual(path.map((u) => u.split("::").pop()), ["a-net", "a-sub", "fw", "route"]);
    });

    it("waits for an explicit provider's dependencies (a kubeconfig built from a cluster)", async () => {
        const run = await runProgram(() => {
            const net = new gcp.compute.Network("net", {});
            const cluster = new gcp.container.Cluster("cluster", { network: net.id, location: "europe-west1" });
            const provider = new k8s.Provider("k8s", { kubeconfig: cluster.endpoint });
            new k8s.core.v1.Namespace("ns", {}, { provider });
        });
        const { length, path } = longestDependencyChain(run);
        assert.strictEqual(length, 3);
        assert.deepStrictEqual(path.map((u) => u.split("::").pop()), ["net", "cluster", "ns"]);
    });

    it("is 1 for independent resources and 0 for an empty program", async () => {
        const run = await runProgram(() => {
            new gcp.compute.Network("n1", {});
            new gcp.compute.Network("n2", {});
        });
        assert.strictEqual(longestDependencyChain(run).length, 1);
        assert.strictEqual(longestDependencyChain(await runProgram(() => undefined)).length, 0);
    });
});
