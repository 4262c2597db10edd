import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import { checkTargets, SizeResult } from "../../bench/bench";
import { providerClassOf, rawResourcesOf, registerRaw } from "../../bench/rawFloor";
import { HardenedBuildFleet } from "../../components/fleet";
import { runProgram, STACK_TYPE } from "../../plan/engine";
import { validateFleetConfig } from "../../components/config";
import { withoutTsaBootstrapWarnings } from "../helpers/tsaChain";
import { generatedBackend, generatedPoolName, generateFleetConfig, MAX_GENERATED_POOLS } from "../../bench/fleetConfig";

describe("bench: generated fleet configs", () => {
    for (const pools of [1, 10, 100]) {
        it(`${pools} pool(s): valid per the fleet config validator, mixed backends, disjoint ranges`, () => {
            const raw = generateFleetConfig(pools);
            const result = validateFleetConfig(raw);
            assert.deepStrictEqual(result.issues, []);
            assert.deepStrictEqual(withoutTsaBootstrapWarnings(result.warnings), []);
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

describe("bench: the raw floor and the targets", () => {
    it("registers the plan's own resources raw: same types, names and inputs, each through its provider class", async function () {
        this.timeout(120000);
        const cfg = { config: { "gcp:project": "bench-workers", "gcp:region": "europe-west1" }, stack: "bench" };
        const plan = await runProgram(() => {
            new HardenedBuildFleet("bench", { config: generateFleetConfig(3) });
        }, cfg);
        const raw = rawResourcesOf(plan.resources);
        let generic = -1;
        const floor = await runProgram(() => {
            generic = registerRaw(raw);
        }, cfg);
        assert.strictEqual(floor.error, undefined);
        assert.strictEqual(generic, 0, "every type resolved to its provider class");
        const key = (r: { type: string; name: string }) => `${r.type}::${r.name}`;
        const planned = plan.resources.filter((r) => r.custom);
        assert.deepStrictEqual(floor.resources.filter((r) => r.custom).map(key).sort(), planned.map(key).sort());
        const byKey = new Map(floor.resources.map((r) => [key(r), r]));
        for (const r of planned) {
            // Inputs are the plan's, but for auto-names: the engine derives those from the URN, which has no parents here.
            const { name: _floorName, ...floorInputs } = byKey.get(key(r))!.inputs;
            const { name: _planName, ...planInputs } = r.inputs;
            assert.deepStrictEqual(floorInputs, planInputs, key(r));
            assert.strictEqual(byKey.get(key(r))!.parent, floor.resources.find((x) => x.type === STACK_TYPE)!.urn, "no component parents");
        }
    });

    it("resolves provider classes by type token, and nothing for an unknown one", () => {
        assert.strictEqual(providerClassOf("gcp:compute/network:Network"), gcp.compute.Network);
        assert.strictEqual(providerClassOf("kubernetes:networking.k8s.io/v1:NetworkPolicy"), k8s.networking.v1.NetworkPolicy);
        assert.strictEqual(providerClassOf("pulumi:providers:kubernetes"), k8s.Provider);
        assert.strictEqual(providerClassOf("gcp:compute/network:Nope"), undefined);
    });

    it("fails a target it misses: registration over 1.15x the floor, peak RSS over 1.2x the floor's", () => {
        const result = (pools: number, registerMs: number, floorMs: number, peakRssMb: number, floorPeakRssMb: number): SizeResult => ({
            pools, resources: pools * 20, registerMs, evaluateMs: registerMs * 0.1, totalMs: registerMs * 1.1, floorMs, totalCpuMs: 1, floorCpuMs: 1,
            peakRssMb, floorPeakRssMb, chain: 7, singlePoolChains: { gce: 7 }, violations: 0, repeat: 1,
        });
        const good = checkTargets([result(1, 10, 10, 100, 100), result(10, 100, 95, 200, 190), result(100, 1100, 1000, 400, 350)]);
        assert.ok(good.every((t) => t.pass), JSON.stringify(good));
        const slow = checkTargets([result(1, 10, 10, 100, 100), result(10, 100, 95, 200, 190), result(100, 1200, 1000, 400, 350)]);
        assert.deepStrictEqual(slow.filter((t) => !t.pass).map((t) => t.name), ["plan registration <= 1.15x the raw floor at 100 pools"]);
        const fat = checkTargets([result(1, 10, 10, 100, 100), result(10, 100, 95, 200, 190), result(100, 1100, 1000, 430, 350)]);
        assert.deepStrictEqual(fat.filter((t) => !t.pass).map((t) => t.name), ["peak RSS <= 1.2x the floor's at 100 pools"]);
    });
});
