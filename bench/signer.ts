/**
 * `npm run bench` (after the plan table): signatures per second of the local signer over HTTP on
 * loopback. A throwaway P-256 key and a temporary store directory; a bounded number of distinct
 * statements (each its own invocation, so none is refused as already signed) sent by a few
 * concurrent clients; every response checked to be 201. Also the in-process signing rate of the
 * same key (sign + self-verify, no HTTP, no store) so the HTTP and storage overhead is visible.
 * Cloud mode is bound by Cloud KMS asymmetricSign latency and quota instead, not measured here.
 */
import * as crypto from "crypto";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { INTOTO_PAYLOAD_TYPE, pae } from "../services/lib/dsse";
import { SLSA_PROVENANCE_V1, STATEMENT_TYPE } from "../services/lib/statement";
import { startLocalSigner } from "../services/signer/dev";
import { percentile } from "../services/lib/percentile";

const BUILDER_ID = "https://localhost/hardened-build-fleet/builder/bench";
const REQUESTS = 1000;
const CONCURRENCY = 8;

function statement(i: number): unknown {
    const finished = new Date(Date.now() - 60_000).toISOString();
    return {
        _type: STATEMENT_TYPE,
        subject: [{ name: `dist/artifact-${i}.tgz`, digest: { sha256: crypto.createHash("sha256").update(`artifact ${i}`).digest("hex") } }],
        predicateType: SLSA_PROVENANCE_V1,
        predicate: {
            buildDefinition: {
                buildType: "https://localhost/hardened-build-fleet/buildtypes/bench/v1",
                externalParameters: { repository: "https://github.com/example-org/app", ref: "refs/heads/main", workflowPath: ".github/workflows/build.yml", commit: "a".repeat(40) },
                internalParameters: { pool: "bench", image: "bench", runner: `runner-${i}` },
            },
            runDetails: { builder: { id: BUILDER_ID }, metadata: { invocationId: `bench-${process.pid}-${i}`, finishedOn: finished } },
        },
    };
}



/** Signatures per second the local signer must sustain over loopback HTTP on a 2-core machine. */
export const SIGNER_TARGET_PER_SECOND = 2000;
export async function main(): Promise<number> {
    const dir = mkdtempSync(path.join(tmpdir(), "hbf-bench-signer-"));
    const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
    const signer = await startLocalSigner({
        port: 0,
        keyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
        storeDir: dir,
        builderId: BUILDER_ID,
        log: () => undefined,
    });
    try {
        const bodies = Array.from({ length: REQUESTS }, (_, i) => JSON.stringify(statement(i)));
        // Warm-up: connection, JIT, schema.
        for (let i = 0; i < 20; i++) {
            await fetch(`${signer.url}/v1/sign`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(statement(REQUESTS + i)) }).then((r) => r.arrayBuffer());
        }
        const latencies: number[] = [];
        let next = 0;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await Promise.all(
            Array.from({ length: CONCURRENCY }, async () => {
                while (next < REQUESTS) {
                    const body = bodies[next++];
                    const s = performance.now();
                    const res = await fetch(`${signer.url}/v1/sign`, { method: "POST", headers: { "content-type": "application/json" }, body });
                    await res.arrayBuffer();
                    if (res.status !== 201) {
                        throw new Error(`signer answered ${res.status}`);
                    }
                    latencies.push(performance.now() - s);
                }
            }),
        );
        const wall = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);

        const payload = Buffer.from(bodies[0]);
        const n = 2000;
        const c0 = performance.now();
        for (let i = 0; i < n; i++) {
            const bytes = pae(INTOTO_PAYLOAD_TYPE, payload);
            const sig = crypto.sign("sha256", bytes, { key: privateKey, dsaEncoding: "der" });
            crypto.verify("sha256", bytes, { key: publicKey, dsaEncoding: "der" }, sig);
        }
        const inProcess = n / ((performance.now() - c0) / 1000);

        latencies.sort((a, b) => a - b);
        console.log("");
        console.log(`signer benchmark: local mode (P-256 file key, directory store), HTTP on 127.0.0.1, ${REQUESTS} distinct statements, ${CONCURRENCY} concurrent clients, after 20 warm-up requests`);
        console.log("");
        console.log("| measure | value |");
        console.log("|---|---|");
        console.log(`| signatures per second (HTTP, validated, signed, self-verified, stored) | ${(REQUESTS / (wall / 1000)).toFixed(0)} |`);
        console.log(`| latency p50 / p99 | ${percentile(latencies, 50).toFixed(1)} ms / ${percentile(latencies, 99).toFixed(1)} ms |`);
        console.log(`| CPU (client and server in one process) | ${((cpu.user + cpu.system) / 1000 / REQUESTS).toFixed(2)} ms per signature |`);
        console.log(`| in-process sign + verify of the same PAE (no HTTP, no store) | ${inProcess.toFixed(0)} per second |`);
        const perSecond = REQUESTS / (wall / 1000);
        const pass = perSecond >= SIGNER_TARGET_PER_SECOND;
        console.log("");
        console.log(`${pass ? "PASS" : "FAIL"}  signer >= ${SIGNER_TARGET_PER_SECOND} signatures/s over loopback HTTP: ${perSecond.toFixed(0)}/s`);
        return pass ? 0 : 1;
    } finally {
        await signer.close();
        rmSync(dir, { recursive: true, force: true });
    }
}
