import * as assert from "assert";
import { validateFleetConfig } from "../../components/config";
import { generatedBackend, generatedPoolName, generateFleetConfig, MAX_GENERATED_POOLS } from "../../bench/fleetConfig";

describe("bench: generated fleet configs", () => {
    for (const pools of [1, 10, 100]) {
        it(`${pools} pool(s): valid per the fleet config validator, mixed backends, disjoint ranges`, () => {
            const raw = generateFleetConfig(pools);
            const result = validateFleetConfig(raw);
            assert.deepStrictEqual(result.issues, []);
            assert.deepStrictEqual(result.warnings, []);
            assert.strictEqual(result.config!.pools.length, pools);
            const backends = new Set(result.config!.pools.map((p) => p.backend));
            assert.deepStrictEqual([...backends].sort(), pools >= 3 ? ["gce", "gke"] : ["gce"]);
            assert.strictEqual(new Set(result.config!.pools.map((p) => p.cidr)).size, pools);
        });
    }

    it("cycles gce, gce, gke and names pools by index", () => {
        assert.deepStrictEqual([0, 1, 2, 3].map((i) => generatedBackend(i)), ["gce", "gce", "gke", "gce"]);
        assert.notStrictEqual(generatedPoolName(0), generatedPoolName(1));
    });

    it("stays valid at its stated capacity and rejects more", () => {
        assert.deepStrictEqual(validateFleetConfig(generateFleetConfig(MAX_GENERATED_POOLS)).issues, []);
        assert.throws(() => generateFleetConfig(MAX_GENERATED_POOLS + 1));
        assert.throws(() => generateFleetConfig(0));
    });
});
