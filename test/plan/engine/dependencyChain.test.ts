import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GraphResource, longestDependencyChain, runProgram } from "../../../plan/engine";

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
        const { length, path } = longestDependencyChain(run.resources);
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
        const { length, path } = longestDependencyChain(run.resources);
        assert.strictEqual(length, 3);
        assert.deepStrictEqual(path.map((u) => u.split("::").pop()), ["net", "cluster", "ns"]);
    });

    it("is 1 for independent resources and 0 for an empty program", async () => {
        const run = await runProgram(() => {
            new gcp.compute.Network("n1", {});
            new gcp.compute.Network("n2", {});
        });
        assert.strictEqual(longestDependencyChain(run.resources).length, 1);
        assert.strictEqual(longestDependencyChain((await runProgram(() => undefined)).resources).length, 0);
    });
});

const STACK = "urn:stack";
const res = (name: string, opts: Partial<GraphResource> = {}): GraphResource => ({
    urn: name, type: opts.custom === false ? "test:index:Component" : "gcp:test/thing:Thing", custom: true, parent: STACK, dependencies: [], ...opts,
});

describe("engine: longestDependencyChain on hand-built graphs", () => {
    const stack: GraphResource = { urn: STACK, type: "pulumi:pulumi:Stack", custom: false, dependencies: [] };

    it("counts managed resources along the longest path, first created first", () => {
        const chain = longestDependencyChain([
            stack,
            res("a"),
            res("b", { dependencies: ["a"] }),
            res("c", { dependencies: ["b", "a"] }),
            res("d", { dependencies: ["a"] }),
        ]);
        assert.deepStrictEqual(chain, { length: 3, path: ["a", "b", "c"] });
    });

    it("treats a dependency on a component as one on all its descendants, nested components included", () => {
        const chain = longestDependencyChain([
            stack,
            res("comp", { custom: false }),
            res("inner", { custom: false, parent: "comp" }),
            res("x", { parent: "comp" }),
            res("y", { parent: "inner" }),
            res("z", { parent: "inner", dependencies: ["y"] }),
            res("after", { dependencies: ["comp"] }),
        ]);
        assert.deepStrictEqual(chain, { length: 3, path: ["y", "z", "after"] });
    });

    it("ignores providers and components in the length, and survives a child waiting for its parent", () => {
        const chain = longestDependencyChain([
            stack,
            res("urn:provider", { type: "pulumi:providers:gcp" }),
            res("comp", { custom: false }),
            res("child", { parent: "comp", dependencies: ["comp", "urn:provider"] }),
        ]);
        assert.deepStrictEqual(chain, { length: 1, path: ["child"] });
        assert.deepStrictEqual(longestDependencyChain([stack]), { length: 0, path: [] });
    });

    it("walks a 100,000-resource chain without a recursion limit", () => {
        const n = 100000;
        const graph: GraphResource[] = [stack];
        for (let i = 0; i < n; i++) {
            graph.push(res(`r${i}`, { dependencies: i > 0 ? [`r${i - 1}`] : [] }));
        }
        const chain = longestDependencyChain(graph);
        assert.strictEqual(chain.length, n);
        assert.strictEqual(chain.path[n - 1], `r${n - 1}`);
    });
});
