/**
 * Scaling: fleets of 1, 10 and 50 pools (generateFleetConfig). The resource count must grow linearly,
 * exactly count(n) = a + b·n with b the resources of one pool (RunnerPool subtree plus its intake bucket
 * and grants), and the longest dependency chain of a `pulumi up` must not grow with the pool count:
 * pools depend on nothing but the config, so they deploy in parallel.
 *
 * A linear count needs a consistent pool mix, so each series uses one backend (gce, then gke); a mixed
 * fleet (the generator's default, which the benchmark uses) must then add up from the two.
 */
import * as assert from "assert";
import { HardenedBuildFleet } from "../../../components/fleet";
import { GKE_WORKER_APIS } from "../../../components/fleet/apis";
import { POOL_LABEL } from "../../../components/labels";
import { CapturedResource, longestDependencyChain, ProgramRun, runProgram } from "../../../plan/engine";
import { generatedBackend, GeneratedBackends, generateFleetConfig } from "../../../bench/fleetConfig";
import { allDependencies, ancestorOfType, byType, descendantsOf, urnSuffix } from "../../helpers/graph";

const SIZES = [1, 10, 50] as const;
const POOL_T = "hardened-build-fleet:index:RunnerPool";
const CONTROL_PLANE_T = "hardened-build-fleet:index:ControlPlane";

interface Measured {
    run: ProgramRun;
    ms: number;
}

async function buildFleet(pools: number, backends: GeneratedBackends): Promise<Measured> {
    const start = process.hrtime.bigint();
    const run = await runProgram(() => {
        new HardenedBuildFleet("fleet", { config: generateFleetConfig(pools, { backends }) });
    });
    return { run, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

/**
 * The resources that belong to one pool: its RunnerPool component and subtree, plus what ControlPlane
 * creates for it (the intake bucket labelled with the pool, and the grants on that bucket).
 */
function poolResources(run: ProgramRun, poolComponent: CapturedResource): CapturedResource[] {
    const name = poolComponent.outputs.poolName as string;
    const controlPlane = byType(run, CONTROL_PLANE_T)[0];
    const cpBelow = descendantsOf(run, controlPlane);
    const bucket = cpBelow.filter((r) => r.inputs.labels?.[POOL_LABEL] === name);
    assert.strictEqual(bucket.length, 1, `intake bucket of pool ${name}`);
    const grants = cpBelow.filter((r) => (r.propertyDependencies.bucket ?? []).includes(bucket[0].urn));
    // FleetMonitoring's per-pool alert (gce pools: scale-in), labelled with the pool.
    const alerts = run.resources.filter((r) => r.type === "gcp:monitoring/alertPolicy:AlertPolicy" && r.inputs.userLabels?.[POOL_LABEL] === name);
    return [poolComponent, ...descendantsOf(run, poolComponent), ...bucket, ...grants, ...alerts];
}

/** The critical path of a `pulumi up` (the engine follows provider edges: Kubernetes objects wait for their cluster). */
function chains(run: ProgramRun): { engine: number; path: string[] } {
    const chain = longestDependencyChain(run.resources);
    return { engine: chain.length, path: chain.path.map((u) => urnSuffix(u).split("::").pop() as string) };
}

const perBackend: Partial<Record<"gce" | "gke", { a: number; b: number }>> = {};

describe("HardenedBuildFleet scaling: 1, 10 and 50 pools", function () {
    this.timeout(240_000);

    for (const backend of ["gce", "gke"] as const) {
        describe(`${backend} pools`, () => {
            const runs = new Map<number, Measured>();
            let chainNote = "";

            before(async () => {
                for (const n of SIZES) {
                    runs.set(n, await buildFleet(n, backend));
                }
            });

            after(() => {
                const timing = SIZES.map((n) => `${n} pools: ${runs.get(n)?.run.resources.length} resources in ${Math.round(runs.get(n)?.ms ?? 0)} ms`).join(", ");
                console.log(`      [${backend}] ${timing}${chainNote}`);
                runs.clear();
            });

            it("grows the resource count exactly linearly: count(n) = a + b·n, b = one pool's resources", () => {
                const count = (n: number) => runs.get(n)!.run.resources.length;
                const b = (count(10) - count(1)) / 9;
                const a = count(1) - b;
                assert.ok(Number.isInteger(b) && b > 0, `count(1) = ${count(1)}, count(10) = ${count(10)}: per-pool count ${b} is not a whole number`);
                assert.strictEqual(count(50), a + 50 * b, `count(50) should be a + 50·b = ${a} + 50·${b}`);

                // b is what one pool owns, in every run and for every pool of the run.
                for (const n of SIZES) {
                    const run = runs.get(n)!.run;
                    const pools = byType(run, POOL_T);
                    assert.strictEqual(pools.length, n);
                    const owned = pools.map((p) => poolResources(run, p));
                    for (const list of owned) {
                        assert.strictEqual(list.length, b, `pool ${list[0].name} (${n}-pool fleet) owns ${list.length} resources, not ${b}`);
                    }
                    // a is the fleet's fixed part: everything no pool owns.
                    const ownedUrns = new Set(owned.flat().map((r) => r.urn));
                    assert.strictEqual(ownedUrns.size, n * b, `pools of the ${n}-pool fleet share resources`);
                    assert.strictEqual(run.resources.length - ownedUrns.size, a, `fixed part of the ${n}-pool fleet`);
                }
                perBackend[backend] = { a, b };
            });

            it("keeps the longest dependency chain constant (pools deploy in parallel)", () => {
                const measured = SIZES.map((n) => ({ n, ...chains(runs.get(n)!.run) }));
                const [first] = measured;
                chainNote = `; longest chain ${first.engine}: ${first.path.join(" -> ")}`;
                for (const m of measured) {
                    assert.strictEqual(m.engine, first.engine, `longest chain: ${first.engine} at ${first.n} pool(s), ${m.engine} at ${m.n} pools (${m.path.join(" -> ")})`);
                }
            });

            it("makes no pool wait for another pool", () => {
                const run = runs.get(10)!.run;
                const poolOf = new Map<string, string>();
                for (const pool of byType(run, POOL_T)) {
                    for (const r of [pool, ...descendantsOf(run, pool)]) {
                        poolOf.set(r.urn, pool.name);
                    }
                }
                const problems: string[] = [];
                // The APIs of the worker project are shared prerequisites that depend on nothing, not another pool.
                const apis = new Set(byType(run, "gcp:projects/service:Service").map((a) => a.urn));
                assert.ok(apis.size > 0 && [...apis].every((a) => allDependencies(run.byUrn.get(a)!).length === 0));
                for (const r of run.resources) {
                    const own = poolOf.get(r.urn);
                    for (const dep of own === undefined ? [] : allDependencies(r).filter((d) => !apis.has(d))) {
                        if (poolOf.get(dep) !== own) {
                            problems.push(`${r.name} (${own}) waits for ${dep}`);
                        }
                    }
                }
                assert.deepStrictEqual(problems, []);
                assert.ok(byType(run, POOL_T).every((p) => ancestorOfType(run, p, POOL_T) === undefined));
            });
        });
    }

    describe("mixed pools (the generator's default, as in the benchmark)", () => {
        it("adds up from the per-backend counts: count = a + b_gce·#gce + b_gke·#gke", async function () {
            const gce = perBackend.gce;
            const gke = perBackend.gke;
            if (gce === undefined || gke === undefined) {
                this.skip(); // the per-backend series failed or did not run
                return;
            }
            // The fixed part differs by exactly what a fleet has once it has a gce pool (GKE pools register and scale
            // through ARC): the broker's invoker binding, and the membership and scale-in custom roles with their grants;
            // a fleet with a GKE pool enables three more worker APIs (container, iamcredentials, sts).
            const gkeApis = GKE_WORKER_APIS.length;
            assert.strictEqual(gce.a + gkeApis, gke.a + 5, "the fleet's fixed part depends on the backend only through the broker's gce-only grants and the GKE APIs");
            const n = 10;
            const { run, ms } = await buildFleet(n, "mixed");
            const backends = Array.from({ length: n }, (_, i) => generatedBackend(i));
            const gceCount = backends.filter((x) => x === "gce").length;
            assert.ok(gceCount > 0 && gceCount < n, "the mix has both backends");
            assert.strictEqual(run.resources.length, gce.a + gkeApis + gce.b * gceCount + gke.b * (n - gceCount));
            const { engine } = chains(run);
            const single = await buildFleet(1, "gke");
            assert.strictEqual(engine, chains(single.run).engine, "a mixed fleet's chain is its longest pool's");
            console.log(`      [mixed] ${n} pools: ${run.resources.length} resources in ${Math.round(ms)} ms`);
        });
    });
});
