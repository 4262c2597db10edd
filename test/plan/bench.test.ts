import * as assert from "assert";
import { validateFleetConfig } from "../../components/config";
import { GraphResource, longestDependencyChain } from "../../bench/criticalPath";
import { generateFleetConfig, poolBackend, poolCidr } from "../../bench/fleetConfig";

const STACK = "urn:stack";
const res = (name: string, opts: Partial<GraphResource> = {}): GraphResource => ({
    urn: name, type: opts.custom === false ? "test:index:Component" : "gcp:test/thing:Thing", custom: true, parent: STACK, dependencies: [], ...opts,
});

describe("bench: longest dependency chain", () => {
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

describe("bench: generated fleet configs", () => {
    for (const pools of [1, 10, 100]) {
        it(`${pools} pool(s): valid per the fleet config validator, mixed backends, disjoint ranges`, () => {
            const raw = generateFleetConfig(pools);
            const result = validateFleetConfig(raw);
            assert.deepStrictEqual(result.issues, []);
            assert.strictEqual(result.config!.pools.length, pools);
            const backends = new Set(result.config!.pools.map((p) => p.backend));
            assert.deepStrictEqual([...backends].sort(), pools >= 3 ? ["gce", "gke"] : ["gce"]);
            assert.strictEqual(new Set(result.config!.pools.map((p) => p.cidr)).size, pools);
        });
    }

    it("alternates gce, gce, gke and numbers the /24s", () => {
        assert.deepStrictEqual([0, 1, 2, 3].map(poolBackend), ["gce", "gce", "gke", "gce"]);
        assert.deepStrictEqual([0, 255, 256].map(poolCidr), ["10.0.0.0/24", "10.0.255.0/24", "10.1.0.0/24"]);
        assert.throws(() => generateFleetConfig(0), /pools must be an integer/);
    });
});
