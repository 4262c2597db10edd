/**
 * Small OCI image layouts, as `docker buildx build --output type=oci,dest=image.oci.tar` writes them
 * (oci-layout, index.json, blobs/sha256/<hex>), for the tests and the simulation; plus the broken
 * variants the attacks upload. Written with tar-stream.
 */
import { createHash, randomBytes } from "crypto";
import { gzipSync } from "zlib";
import * as tar from "tar-stream";
import { MEDIA_TYPE } from "../lib/oci/layout";

export interface FixtureOptions {
    /** Text that makes the image unique (it lands in a file of the layer). */
    content?: string;
    /** Extra bytes of incompressible data in the layer. */
    layerPadding?: number;
    /** index.json points at a manifest whose blob is left out. */
    dropManifestBlob?: boolean;
    /** The layer's blob file holds other bytes than its name says. */
    tamperLayer?: boolean;
    /** Added to the size index.json states for the manifest (its digest stays right). */
    manifestSizeDelta?: number;
    /** The layer descriptor's media type (default the OCI gzip layer type). */
    layerMediaType?: string;
    /** The config descriptor's media type (default the OCI image config type). */
    configMediaType?: string;
}

const hex = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function tarOf(files: [string, Buffer][]): Promise<Buffer> {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on("data", (c) => void chunks.push(c as Buffer));
    const done = new Promise<Buffer>((resolve, reject) => {
        pack.on("end", () => resolve(Buffer.concat(chunks)));
        pack.on("error", reject);
    });
    for (const [name, bytes] of files) {
        pack.entry({ name, size: bytes.length, mode: 0o644, mtime: new Date(0) }, bytes);
    }
    pack.finalize();
    return done;
}

/** A one-layer linux/amd64 image as an OCI layout tar; also returns its manifest digest. */
export async function buildImageLayout(opts: FixtureOptions = {}): Promise<{ tar: Buffer; digest: string; layerDigest: string }> {
    const rootfs = await tarOf([["app/hello.txt", Buffer.concat([Buffer.from(`${opts.content ?? "hello"}\n`), randomBytes(opts.layerPadding ?? 0)])]]);
    const layer = gzipSync(rootfs);
    const config = Buffer.from(JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config: { Cmd: ["/bin/true"] },
        rootfs: { type: "layers", diff_ids: [`sha256:${hex(rootfs)}`] },
    }));
    const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.manifest,
        config: { mediaType: opts.configMediaType ?? MEDIA_TYPE.config, digest: `sha256:${hex(config)}`, size: config.length },
        layers: [{ mediaType: opts.layerMediaType ?? "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${hex(layer)}`, size: layer.length }],
    }));
    const index = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.index,
        manifests: [{ mediaType: MEDIA_TYPE.manifest, digest: `sha256:${hex(manifest)}`, size: manifest.length + (opts.manifestSizeDelta ?? 0), annotations: { "org.opencontainers.image.ref.name": "latest" } }],
    }));
    const layerBytes = opts.tamperLayer ? Buffer.concat([layer.subarray(0, layer.length - 1), Buffer.from([layer[layer.length - 1] ^ 1])]) : layer;
    const files: [string, Buffer][] = [
        ["oci-layout", Buffer.from('{"imageLayoutVersion":"1.0.0"}')],
        ["index.json", index],
        [`blobs/sha256/${hex(config)}`, config],
        [`blobs/sha256/${hex(layer)}`, layerBytes],
    ];
    if (!opts.dropManifestBlob) {
        files.push([`blobs/sha256/${hex(manifest)}`, manifest]);
    }
    return { tar: await tarOf(files), digest: `sha256:${hex(manifest)}`, layerDigest: `sha256:${hex(layer)}` };
}
