import { runProgram } from "../plan/engine";
import { HardenedBuildFleet } from "../components/fleet";
import { generateFleetConfig } from "../bench/fleetConfig";
import { modelOf } from "../plan/report/model";
import { FleetGraph } from "../policies/rules/stack/model";
it("perf", async function () {
    this.timeout(600000);
    const raw = generateFleetConfig(100);
    const run = await runProgram(() => { new HardenedBuildFleet("bench", { config: raw }); }, { config: { "gcp:project": "bench-workers", "gcp:region": "europe-west1" }, stack: "bench" });
    const g = modelOf(run);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 5; i++) new FleetGraph(g.resources as any);
    console.log("build ms", Number(process.hrtime.bigint() - t0) / 5e6, g.resources.length);
    const t1 = process.hrtime.bigint();
    let n = 0;
    for (let i = 0; i < 5; i++) {
        const parts: string[] = [];
        for (const r of g.resources as any[]) {
            parts.push(r.urn, JSON.stringify(r.props), JSON.stringify(Object.entries(r.propertyDependencies).map(([k, v]: any) => [k, v.map((d: any) => d.urn)])));
        }
        n = parts.join("\u0000").length;
    }
    console.log("fingerprint ms", Number(process.hrtime.bigint() - t1) / 5e6, n);
    const { policies } = require("../policies/rules");
    for (const p of policies.filter((x: any) => x.validateStack)) {
        const t = process.hrtime.bigint();
        await p.validateStack({ resources: g.resources, getConfig: () => ({}), stackTags: new Map(), notApplicable: () => { throw new Error(); } }, () => undefined);
        console.log(p.name, Number(process.hrtime.bigint() - t) / 1e6);
    }
});
