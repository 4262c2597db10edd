/**
 * `npm run bench -- images`: the generator's memory while it validates and publishes an image layout,
 * for a small and a large layer side by side in one run. Each size runs in its own child process
 * (validate with ImagePublisher.prepare, then push to a real `docker-registry` on loopback), streaming
 * the tar from a file as the generator streams it from the intake bucket; the child reports its peak
 * RSS. Targets: the 512 MiB layer's peak is within LAYER_GROWTH_TARGET_MB of the 128 MiB layer's (memory
 * does not grow with the image; the 8 MiB row shows the fixed cost of streaming buffers and garbage not yet
 * collected), and no peak exceeds PEAK_TARGET_MB. Needs `docker-registry`
 * (`apt-get install -y docker-registry`). Not a test: it prints a table and PASS/FAIL, and exits 1 on a miss.
 */
import { fork } from "child_process";
import { createHash, randomBytes } from "crypto";
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { pipeline } from "stream/promises";
import * as tar from "tar-stream";
import { ImagePublisher } from "../services/controlPlane/generator/image/publish";
import { MEDIA_TYPE } from "../services/lib/oci/layout";
import { startLocalRegistry } from "../services/sim/localRegistry";
import { packageRoot } from "../plan/packageInfo";

const SIZES_MB = [8, 128, 512];
/** Between the two larger layers (4x apart): a process that held layers would grow by about 384 MiB. */
export const LAYER_GROWTH_TARGET_MB = 24;
export const PEAK_TARGET_MB = 256;

interface ChildResult {
    peakRssMb: number;
    seconds: number;
    digest: string;
}

/** Writes a one-layer OCI layout tar whose layer is `mb` MiB of random bytes; never holds the layer. */
export async function writeLayout(dir: string, mb: number): Promise<string> {
    const layerFile = path.join(dir, `layer-${mb}`);
    const hash = createHash("sha256");
    const out = createWriteStream(layerFile);
    for (let i = 0; i < mb; i++) {
        const chunk = randomBytes(1024 * 1024);
        hash.update(chunk);
        if (!out.write(chunk)) {
            await new Promise<void>((r) => out.once("drain", () => r()));
        }
    }
    await new Promise<void>((r) => out.end(() => r()));
    const layer = { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${hash.digest("hex")}`, size: mb * 1024 * 1024 };
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    const digestOf = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
    const config = json({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layer.digest] } });
    const manifest = json({ schemaVersion: 2, mediaType: MEDIA_TYPE.manifest, config: { mediaType: MEDIA_TYPE.config, digest: digestOf(config), size: config.length }, layers: [layer] });
    const index = json({ schemaVersion: 2, mediaType: MEDIA_TYPE.index, manifests: [{ mediaType: MEDIA_TYPE.manifest, digest: digestOf(manifest), size: manifest.length }] });
    const tarFile = path.join(dir, `image-${mb}.oci.tar`);
    const pack = tar.pack();
    const written = pipeline(pack, createWriteStream(tarFile));
    const entry = pack.entry({ name: `blobs/sha256/${layer.digest.slice(7)}`, size: layer.size });
    await pipeline(createReadStream(layerFile), entry);
    for (const [name, bytes] of [[`blobs/sha256/${digestOf(config).slice(7)}`, config], [`blobs/sha256/${digestOf(manifest).slice(7)}`, manifest], ["index.json", index], ["oci-layout", json({ imageLayoutVersion: "1.0.0" })]] as const) {
        pack.entry({ name }, bytes);
    }
    pack.finalize();
    await written;
    rmSync(layerFile);
    return tarFile;
}

/** In the child: prepare and push one layout, streamed from `tarFile`; report the peak RSS. */
async function child(tarFile: string, registryHost: string): Promise<ChildResult> {
    const publisher = new ImagePublisher({ releaseRegistry: `${registryHost}/releases`, maxLayerBytes: 1024 ** 3 });
    const started = process.hrtime.bigint();
    const image = await publisher.prepare("acme/app", "image.oci.tar", async () => createReadStream(tarFile), statSync(tarFile).size);
    await publisher.push(image);
    return {
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        digest: image.digest,
    };
}

function runChild(tarFile: string, registryHost: string): Promise<ChildResult> {
    return new Promise((resolve, reject) => {
        const c = fork(path.join(packageRoot(), "bench", "run.js"), ["images", "--child", tarFile, registryHost], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
        let result: ChildResult | undefined;
        c.on("message", (m) => (result = m as ChildResult));
        c.on("exit", (code) => (result !== undefined && code === 0 ? resolve(result) : reject(new Error(`bench child exited ${code}`))));
    });
}

export async function main(argv: string[]): Promise<number> {
    if (argv[0] === "--child") {
        process.send!(await child(argv[1], argv[2]));
        return 0;
    }
    const dir = mkdtempSync(path.join(tmpdir(), "hbf-bench-images-"));
    const registry = await startLocalRegistry();
    try {
        const rows: [number, ChildResult][] = [];
        for (const mb of SIZES_MB) {
            rows.push([mb, await runChild(await writeLayout(dir, mb), registry.host)]);
        }
        process.stdout.write("\nImage publishing memory (validate + push, streamed from a file; one child per size)\n");
        process.stdout.write("layer MiB | peak RSS MiB | seconds\n");
        for (const [mb, r] of rows) {
            process.stdout.write(`${String(mb).padStart(9)} | ${r.peakRssMb.toFixed(1).padStart(12)} | ${r.seconds.toFixed(2).padStart(7)}\n`);
        }
        const growth = rows[rows.length - 1][1].peakRssMb - rows[rows.length - 2][1].peakRssMb;
        const peak = Math.max(...rows.map(([, r]) => r.peakRssMb));
        const checks: [string, boolean][] = [
            [`peak RSS grows by ${growth.toFixed(1)} MiB from a ${SIZES_MB[SIZES_MB.length - 2]} MiB to a ${SIZES_MB[SIZES_MB.length - 1]} MiB layer (target < ${LAYER_GROWTH_TARGET_MB})`, growth < LAYER_GROWTH_TARGET_MB],
            [`highest peak RSS ${peak.toFixed(1)} MiB (target < ${PEAK_TARGET_MB})`, peak < PEAK_TARGET_MB],
        ];
        for (const [what, ok] of checks) {
            process.stdout.write(`${ok ? "PASS" : "FAIL"} ${what}\n`);
        }
        return checks.every(([, ok]) => ok) ? 0 : 1;
    } finally {
        await registry.stop();
        rmSync(dir, { recursive: true, force: true });
    }
}
