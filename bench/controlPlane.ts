/**
 * `npm run bench` (after the plan benchmark), or `npm run bench -- control-plane` alone: figures of
 * the control-plane services on loopback, with the real service code and the local stand-ins of
 * services/sim. Bounded loops, loopback only; it prints, it does not assert.
 * - broker: registrations per second for 100 VMs (identity-token verification, MIG membership,
 *   create-only claim, GitHub App JIT registration against the fake API, upload-policy signing);
 * - simulation: control-plane time per job, p50 and p95, for 100 jobs over 2 pools (webhook ->
 *   registration -> upload -> generator -> signer -> verified envelope);
 * - generator: objects per second on 1,000 small objects (100 completed jobs x 10 objects), each read,
 *   digested, attributed from the records and signed by the signer app over HTTP.
 */
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { parseArgs } from "util";
import { JIT_CONFIG_PATH } from "../services/controlPlane/broker/app";
import { simulate } from "../services/sim/simulate";
import { SIM_AUDIENCE, startSimFleet } from "../services/sim/fleet";
import { simBootImage } from "../services/sim/fakeMig";

async function pool<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
    const out: T[] = new Array(n);
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < n) {
            const i = next++;
            out[i] = await fn(i);
        }
    }));
    return out;
}

function scratch(): string {
    return mkdtempSync(path.join(tmpdir(), "hbf-bench-cp-"));
}


/** Control-plane time per job in the simulation (100 jobs, 4 in flight), p95, not counting the stand-ins' own I/O. */
export const CONTROL_PLANE_P95_TARGET_MS = 50;
export async function benchBroker(vms: number, concurrency: number): Promise<{ perSecond: number; ms: number }> {
    const dir = scratch();
    const fleet = await startSimFleet({ pools: 2, dir });
    try {
        const tokens = await pool(vms + 1, 8, async (i) => {
            const vm = await fleet.mig.createVm(fleet.pools[i % 2]);
            await vm.metadata?.close();
            return { pool: vm.pool.name, token: fleet.issuer.mint({ audience: SIM_AUDIENCE.broker, email: vm.pool.serviceAccount, computeEngine: fleet.mig.claims(vm) }) };
        });
        const register = async ({ pool: p, token }: { pool: string; token: string }) => {
            const res = await fetch(`${fleet.broker.url}${JIT_CONFIG_PATH}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ pool: p }) });
            await res.arrayBuffer();
            if (res.status !== 201) {
                throw new Error(`registration answered ${res.status}`);
            }
        };
        await register(tokens[vms]); // warm-up: certificates, App token, keys
        const t0 = performance.now();
        await pool(vms, concurrency, (i) => register(tokens[i]));
        const ms = performance.now() - t0;
        return { perSecond: (vms * 1000) / ms, ms };
    } finally {
        await fleet.close();
        rmSync(dir, { recursive: true, force: true });
    }
}

export async function benchGenerator(jobs: number, perJob: number, concurrency: number): Promise<{ perSecond: number; ms: number; objects: number }> {
    const dir = scratch();
    const fleet = await startSimFleet({ pools: 2, dir });
    try {
        const objects: { bucket: string; name: string }[] = [];
        const now = new Date().toISOString();
        for (let j = 0; j < jobs; j++) {
            const p = fleet.pools[j % 2];
            const instanceId = String(1_000_000_000_000 + j);
            const runnerName = `${p.name}-${instanceId}`;
            await fleet.records.claimRegistration({
                pool: p.name, project: p.project, zone: `${p.region}-b`, instanceId, instanceName: `vm-${j}`, instanceCreationTimestamp: 1,
                serviceAccount: p.serviceAccount, runnerName, uploadPrefix: `${p.name}/${instanceId}/`, intakeBucket: p.intakeBucket, image: p.image, bootImage: simBootImage(p), registeredAt: now,
            });
            await fleet.records.putRunner({ runnerName, runnerId: j + 1, instanceId, pool: p.name, createdAt: now });
            await fleet.records.linkRunnerJob({ runnerName, jobId: 10_000 + j, repository: "acme/app" });
            for (let k = 0; k < perJob; k++) {
                const name = `${p.name}/${instanceId}/dist/obj-${k}.bin`;
                await fleet.intake[p.name].create(name, Buffer.from(`object ${j}/${k}`), "application/octet-stream");
                objects.push({ bucket: p.intakeBucket, name });
            }
            // Completed after its uploads: the generator never signs an object created after its job completed.
            await fleet.records.putJobFacts({
                jobId: 10_000 + j, runId: 20_000 + j, runAttempt: 1, repository: "acme/app", headSha: "d".repeat(40), headBranch: "main", workflowName: "build",
                workflowPath: ".github/workflows/build.yml", ref: "refs/heads/main", event: "push", repositoryId: 1, repositoryOwnerId: 2,
                runnerName, runnerId: j + 1, runnerGroupId: p.runnerGroupId, labels: p.labels, status: "completed", conclusion: "success",
                startedAt: now, completedAt: new Date().toISOString(), pool: p.name, deliveryId: `bench-${j}`, receivedAt: now,
            });
        }
        await fleet.generator.generate(objects[0].bucket, objects[0].name); // warm-up
        const t0 = performance.now();
        await pool(objects.length - 1, concurrency, async (i) => {
            const o = objects[i + 1];
            const r = await fleet.generator.generate(o.bucket, o.name);
            if (r.status !== 201) {
                throw new Error(`generator answered ${r.status} for ${o.name}`);
            }
        });
        const ms = performance.now() - t0;
        return { perSecond: ((objects.length - 1) * 1000) / ms, ms, objects: objects.length };
    } finally {
        await fleet.close();
        rmSync(dir, { recursive: true, force: true });
    }
}

export async function benchSimulation(jobs: number, concurrency: number): Promise<{ p50: number; p95: number; ok: boolean }> {
    const out = scratch();
    try {
        const summary = await simulate({ jobs, pools: 2, out, concurrency, attacks: false });
        return { ...summary.controlPlaneMs, ok: summary.ok };
    } finally {
        rmSync(out, { recursive: true, force: true });
    }
}

export async function main(argv: string[]): Promise<number> {
    const { values } = parseArgs({ args: argv, options: { jobs: { type: "string" }, objects: { type: "string" }, concurrency: { type: "string" } } });
    const jobs = Math.min(Number(values.jobs ?? 100), 1000);
    const objects = Math.min(Number(values.objects ?? 1000), 10_000);
    const concurrency = Math.min(Number(values.concurrency ?? 4), 64);
    console.log("");
    console.log(`control-plane services on loopback (real service code, local stand-ins; concurrency ${concurrency})`);
    process.stderr.write("measuring broker registrations...\n");
    const broker = await benchBroker(jobs, concurrency);
    console.log(`broker: ${broker.perSecond.toFixed(1)} registrations/s (${jobs} VMs in ${broker.ms.toFixed(0)} ms)`);
    process.stderr.write("measuring the simulation...\n");
    const sim = await benchSimulation(jobs, concurrency);
    console.log(`simulation: control-plane time per job p50 ${sim.p50.toFixed(1)} ms, p95 ${sim.p95.toFixed(1)} ms (${jobs} jobs, 2 pools, ${sim.ok ? "every envelope verified" : "NOT every envelope verified"})`);
    process.stderr.write("measuring the generator...\n");
    const gen = await benchGenerator(Math.ceil(objects / 10), 10, concurrency);
    console.log(`generator: ${gen.perSecond.toFixed(1)} objects/s (${gen.objects} small objects read, digested, attributed and signed in ${gen.ms.toFixed(0)} ms)`);
    const pass = sim.p95 <= CONTROL_PLANE_P95_TARGET_MS;
    console.log(`${pass ? "PASS" : "FAIL"}  control-plane time per job p95 <= ${CONTROL_PLANE_P95_TARGET_MS} ms (${jobs} jobs, ${concurrency} in flight): ${sim.p95.toFixed(1)} ms`);
    console.log(`${sim.ok ? "PASS" : "FAIL"}  every simulated job's envelope verified`);
    return sim.ok && pass ? 0 : 1;
}
