/**
 * Reads and validates an OCI image layout tarball (`docker buildx build --output type=oci,dest=x.oci.tar`)
 * the way the control plane must before it pushes anything: the tar is streamed through tar-stream
 * once, every entry hashed as it passes, and every blob reachable from `index.json` is checked (its file name is the sha256 of its bytes, its
 * descriptor's size and digest match, its media type is one this fleet publishes, it is under the size
 * limits). Nothing the job wrote is trusted: the digests pushed and signed are the ones computed here.
 *
 * Memory is bounded whatever the upload's size: only `oci-layout`, `index.json` and small JSON blobs
 * (manifests, configs; at most `maxJsonBytes` each and `maxHeldBytes` in all) are held; every other
 * blob is hashed and counted as it streams by, and pushed later from a second pass over the tar.
 *
 * One layout holds one image: `index.json` lists exactly one descriptor, an image manifest or an image
 * index (a multi-platform image) whose entries are image manifests. Every problem is reported in one
 * LayoutError.
 */
import { createHash } from "crypto";
import { Readable, Transform } from "stream";
import { pipeline } from "stream/promises";
import * as tar from "tar-stream";

export const MEDIA_TYPE = {
    index: "application/vnd.oci.image.index.v1+json",
    manifest: "application/vnd.oci.image.manifest.v1+json",
    config: "application/vnd.oci.image.config.v1+json",
    emptyConfig: "application/vnd.oci.empty.v1+json",
    dsse: "application/vnd.dsse.envelope.v1+json",
    inToto: "application/vnd.in-toto+json",
} as const;

/** Layer media types the fleet publishes (OCI layers; in-toto statements in BuildKit's attestation manifests). */
export const LAYER_MEDIA_TYPES = new Set([
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    MEDIA_TYPE.inToto,
]);

export interface Descriptor {
    mediaType: string;
    digest: string;
    size: number;
    annotations?: Record<string, string>;
    platform?: Record<string, unknown>;
    artifactType?: string;
}

export interface LayoutLimits {
    /** Largest layer (or any blob that is not JSON), bytes. */
    maxLayerBytes: number;
    /** Largest manifest, index or config, bytes (distribution refuses manifests above 4 MiB). */
    maxJsonBytes?: number;
    /** Most entries in the tar. */
    maxEntries?: number;
    /** Most manifests in the image index. */
    maxManifests?: number;
    /** Most bytes of JSON blobs held in memory for one layout (default 16 MiB). */
    maxHeldBytes?: number;
    /** Largest tar, bytes (default unlimited: the caller's object limit applies). */
    maxTarBytes?: number;
}

/** The upload: its bytes, or a way to stream it (called once per pass; the object never changes). */
export type TarSource = Buffer | (() => Promise<Readable>);

async function openTar(source: TarSource): Promise<Readable> {
    return Buffer.isBuffer(source) ? Readable.from([source]) : source();
}

/** A blob to push: held bytes, or where it is in the tar (streamed in the push pass). */
export type LayoutBlob = { bytes: Buffer; size: number } | { entry: string; size: number };

/** One manifest (or the image index) with the exact bytes whose sha256 is its digest. */
export interface LayoutManifest {
    descriptor: Descriptor;
    bytes: Buffer;
}

export interface ImageLayout {
    /** The one descriptor of index.json: what a consumer pulls, and what the provenance names. */
    root: Descriptor;
    /** Every config and layer blob reachable from root, by digest. */
    blobs: Map<string, LayoutBlob>;
    /** Every manifest reachable from root, children before the index that lists them (push order). */
    manifests: LayoutManifest[];
    /** `sha256:<hex>` and size of the whole tar, computed in the same pass. */
    tar: { digest: string; size: number };
    /** The tar, for the push pass. */
    source: TarSource;
}

export class LayoutError extends Error {
    constructor(readonly problems: string[]) {
        super(`the OCI image layout is not valid: ${problems.join("; ")}`);
        this.name = "LayoutError";
    }
}

export const DEFAULT_MAX_JSON_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_HELD_BYTES = 16 * 1024 * 1024;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const BLOB_PATH = /^blobs\/sha256\/([a-f0-9]{64})$/;

export function sha256Digest(bytes: Buffer): string {
    return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

const TOO_LARGE = "the upload is larger than";

function tarProblem(err: Error): string {
    return err.message.startsWith(TOO_LARGE) ? err.message : `the upload is not a readable tar archive (${err.message})`;
}

interface TarContents {
    /** Held entries: oci-layout, index.json and small JSON blobs. */
    files: Map<string, Buffer>;
    /** Blob entries streamed by and not held: digest and size as read. */
    hashed: Map<string, { digest: string; size: number }>;
    /** Blob files above the size limit: named, never read. */
    oversized: Map<string, number>;
    tar: { digest: string; size: number };
}

async function readTar(source: TarSource, limits: Required<LayoutLimits>, problems: string[]): Promise<TarContents> {
    const files = new Map<string, Buffer>();
    const hashed = new Map<string, { digest: string; size: number }>();
    const oversized = new Map<string, number>();
    const whole = createHash("sha256");
    let tarBytes = 0;
    let held = 0;
    const extract = tar.extract();
    // The whole tar is hashed and counted on its way to the extractor.
    const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
            tarBytes += chunk.length;
            whole.update(chunk);
            done(tarBytes > limits.maxTarBytes ? new Error(`${TOO_LARGE} ${limits.maxTarBytes} bytes`) : null, chunk);
        },
    });
    const feeding = pipeline(await openTar(source), counter, extract).catch((err) => err as Error);
    let entries = 0;
    try {
        for await (const entry of extract) {
            const name = entry.header.name.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
            entries++;
            const drop = () => entry.resume();
            if (entries > limits.maxEntries) {
                problems.push(`the tar has more than ${limits.maxEntries} entries`);
                drop();
                break;
            }
            if (entry.header.type === "directory") {
                drop();
                continue;
            }
            if (entry.header.type !== "file" && entry.header.type !== "contiguous-file") {
                // Links would let one name read another's bytes; a layout has none.
                problems.push(`tar entry ${JSON.stringify(name)} is a ${entry.header.type}; an OCI layout holds only files and directories`);
                drop();
                continue;
            }
            if (files.has(name) || hashed.has(name) || oversized.has(name)) {
                // tar readers disagree on which copy wins: refuse rather than pick one.
                problems.push(`tar entry ${JSON.stringify(name)} appears twice`);
                drop();
                continue;
            }
            const isBlob = BLOB_PATH.test(name);
            if (name !== "oci-layout" && name !== "index.json" && !isBlob) {
                drop(); // never read, never pushed
                continue;
            }
            const size = entry.header.size ?? 0;
            const limit = isBlob ? Math.max(limits.maxLayerBytes, limits.maxJsonBytes) : limits.maxJsonBytes;
            if (size > limit) {
                oversized.set(name, size);
                drop();
                continue;
            }
            // Held: the two layout files, and blobs that may be manifests or configs (small, starting with "{").
            const chunks: Buffer[] = [];
            const hash = createHash("sha256");
            let read = 0;
            let hold = !isBlob || (size <= limits.maxJsonBytes && held + size <= limits.maxHeldBytes);
            for await (const chunk of entry) {
                const c = chunk as Buffer;
                if (read === 0 && isBlob && c[0] !== 0x7b) {
                    hold = false;
                }
                read += c.length;
                hash.update(c);
                if (hold) {
                    chunks.push(c);
                }
            }
            if (hold) {
                held += read;
                files.set(name, Buffer.concat(chunks));
            } else {
                hashed.set(name, { digest: `sha256:${hash.digest("hex")}`, size: read });
            }
        }
    } catch (err) {
        problems.push(tarProblem(err as Error));
    }
    const failed = await feeding;
    if (failed instanceof Error && !problems.includes(tarProblem(failed))) {
        problems.push(tarProblem(failed));
    }
    return { files, hashed, oversized, tar: { digest: `sha256:${whole.digest("hex")}`, size: tarBytes } };
}

function parseJson(bytes: Buffer, what: string, problems: string[]): Record<string, any> | undefined {
    try {
        const value = JSON.parse(bytes.toString("utf8"));
        if (value !== null && typeof value === "object" && !Array.isArray(value)) {
            return value;
        }
    } catch {
        // reported below
    }
    problems.push(`${what} is not a JSON object`);
    return undefined;
}

function descriptorProblems(d: any, where: string): string[] {
    if (d === null || typeof d !== "object" || Array.isArray(d)) {
        return [`${where} is not a descriptor object`];
    }
    const problems: string[] = [];
    if (typeof d.mediaType !== "string" || d.mediaType.length === 0) {
        problems.push(`${where}.mediaType is missing`);
    }
    if (typeof d.digest !== "string" || !DIGEST.test(d.digest)) {
        problems.push(`${where}.digest ${JSON.stringify(d.digest)} is not sha256:<64 hex> (the fleet publishes sha256 digests only)`);
    }
    if (!Number.isSafeInteger(d.size) || d.size < 0) {
        problems.push(`${where}.size ${JSON.stringify(d.size)} is not a non-negative integer`);
    }
    return problems;
}

/**
 * Validates an OCI image layout tar and returns what to push; throws LayoutError listing every problem.
 * @param source the uploaded tar, or a way to stream it
 */
export async function readImageLayout(source: TarSource, limitsIn: LayoutLimits): Promise<ImageLayout> {
    const limits: Required<LayoutLimits> = {
        maxLayerBytes: limitsIn.maxLayerBytes,
        maxJsonBytes: limitsIn.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES,
        maxEntries: limitsIn.maxEntries ?? 1024,
        maxManifests: limitsIn.maxManifests ?? 64,
        maxHeldBytes: limitsIn.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES,
        maxTarBytes: limitsIn.maxTarBytes ?? Number.MAX_SAFE_INTEGER,
    };
    const problems: string[] = [];
    const { files, hashed, oversized, tar: whole } = await readTar(source, limits, problems);
    const layoutFile = files.get("oci-layout");
    const marker = layoutFile === undefined ? undefined : parseJson(layoutFile, "oci-layout", problems);
    if (layoutFile === undefined) {
        problems.push("oci-layout is missing: export the image with --output type=oci");
    } else if (marker !== undefined && marker.imageLayoutVersion !== "1.0.0") {
        problems.push(`oci-layout imageLayoutVersion ${JSON.stringify(marker.imageLayoutVersion)} is not 1.0.0`);
    }
    const indexFile = files.get("index.json");
    if (indexFile === undefined) {
        problems.push(oversized.has("index.json") ? `index.json is ${oversized.get("index.json")} bytes, above ${limits.maxJsonBytes}` : "index.json is missing");
        throw new LayoutError(problems);
    }
    const top = parseJson(indexFile, "index.json", problems);
    if (top === undefined) {
        throw new LayoutError(problems);
    }
    if (!Array.isArray(top.manifests) || top.manifests.length !== 1) {
        problems.push(`index.json must list exactly one image (manifests has ${Array.isArray(top.manifests) ? top.manifests.length : "no array"}): upload one layout per image`);
        throw new LayoutError(problems);
    }

    const blobs = new Map<string, LayoutBlob>();
    const manifests: LayoutManifest[] = [];
    /**
     * The blob behind a descriptor, checked against its digest and size; undefined (with a problem) if
     * unusable. `json`: its bytes are needed (a manifest or config), so it must have been held.
     */
    const blobOf = (d: Descriptor, where: string, maxBytes: number, json: boolean): LayoutBlob | undefined => {
        const name = `blobs/sha256/${d.digest.slice("sha256:".length)}`;
        const size = oversized.get(name);
        if (size !== undefined || d.size > maxBytes) {
            problems.push(`${where} ${d.digest} is ${size ?? d.size} bytes, above the limit of ${maxBytes} bytes`);
            return undefined;
        }
        const b = files.get(name);
        const h = b === undefined ? hashed.get(name) : { digest: sha256Digest(b), size: b.length };
        if (h === undefined) {
            problems.push(`${where} ${d.digest} is not in the layout (no ${name})`);
            return undefined;
        }
        if (h.digest !== d.digest) {
            problems.push(`${where}: ${name} holds bytes whose digest is ${h.digest}, not ${d.digest}`);
            return undefined;
        }
        if (h.size !== d.size) {
            problems.push(`${where} ${d.digest} is ${h.size} bytes, but its descriptor says ${d.size}`);
            return undefined;
        }
        if (b !== undefined) {
            return { bytes: b, size: b.length };
        }
        if (json) {
            problems.push(`${where} ${d.digest} is not a JSON document, or the layout's JSON blobs exceed ${limits.maxHeldBytes} bytes in all`);
            return undefined;
        }
        return { entry: name, size: h.size };
    };
    const jsonOf = (d: Descriptor, where: string): Buffer | undefined => {
        const blob = blobOf(d, where, limits.maxJsonBytes, true);
        return blob !== undefined && "bytes" in blob ? blob.bytes : undefined;
    };

    const readManifest = (d: Descriptor, where: string, attestation: boolean): void => {
        const bytes = jsonOf(d, where);
        const m = bytes === undefined ? undefined : parseJson(bytes, where, problems);
        if (m === undefined) {
            return;
        }
        if (m.schemaVersion !== 2 || (m.mediaType !== undefined && m.mediaType !== d.mediaType)) {
            problems.push(`${where} must have schemaVersion 2 and mediaType ${d.mediaType} (has ${JSON.stringify(m.schemaVersion)}, ${JSON.stringify(m.mediaType)})`);
        }
        const cfgProblems = descriptorProblems(m.config, `${where}.config`);
        problems.push(...cfgProblems);
        if (cfgProblems.length === 0) {
            if (m.config.mediaType !== MEDIA_TYPE.config) {
                problems.push(`${where}.config mediaType ${JSON.stringify(m.config.mediaType)} is not ${MEDIA_TYPE.config}`);
            }
            const cfg = jsonOf(m.config, `${where}.config`);
            if (cfg !== undefined && parseJson(cfg, `${where}.config`, problems) !== undefined) {
                blobs.set(m.config.digest, { bytes: cfg, size: cfg.length });
            }
        }
        if (!Array.isArray(m.layers)) {
            problems.push(`${where}.layers is not an array`);
            return;
        }
        m.layers.forEach((layer: any, i: number) => {
            const at = `${where}.layers[${i}]`;
            const dp = descriptorProblems(layer, at);
            problems.push(...dp);
            if (dp.length > 0) {
                return;
            }
            if (!LAYER_MEDIA_TYPES.has(layer.mediaType) || (layer.mediaType === MEDIA_TYPE.inToto && !attestation)) {
                problems.push(`${at} mediaType ${JSON.stringify(layer.mediaType)} is not an OCI layer type (${[...LAYER_MEDIA_TYPES].filter((t) => t !== MEDIA_TYPE.inToto).join(", ")})`);
                return;
            }
            const b = blobOf(layer, at, limits.maxLayerBytes, false);
            if (b !== undefined) {
                blobs.set(layer.digest, b);
            }
        });
        if (bytes !== undefined) {
            manifests.push({ descriptor: { mediaType: d.mediaType, digest: d.digest, size: d.size }, bytes });
        }
    };

    const root = top.manifests[0];
    const rootProblems = descriptorProblems(root, "index.json manifests[0]");
    problems.push(...rootProblems);
    if (rootProblems.length === 0) {
        if (root.mediaType === MEDIA_TYPE.manifest) {
            readManifest(root, "the image manifest", false);
        } else if (root.mediaType === MEDIA_TYPE.index) {
            const bytes = jsonOf(root, "the image index");
            const idx = bytes === undefined ? undefined : parseJson(bytes, "the image index", problems);
            if (idx !== undefined) {
                if (idx.schemaVersion !== 2 || (idx.mediaType !== undefined && idx.mediaType !== MEDIA_TYPE.index) || !Array.isArray(idx.manifests) || idx.manifests.length === 0) {
                    problems.push(`the image index must have schemaVersion 2, mediaType ${MEDIA_TYPE.index} and at least one manifest`);
                } else if (idx.manifests.length > limits.maxManifests) {
                    problems.push(`the image index lists ${idx.manifests.length} manifests, more than the limit of ${limits.maxManifests}`);
                } else {
                    idx.manifests.forEach((d: any, i: number) => {
                        const at = `the image index manifests[${i}]`;
                        const dp = descriptorProblems(d, at);
                        problems.push(...dp);
                        if (dp.length > 0) {
                            return;
                        }
                        if (d.mediaType !== MEDIA_TYPE.manifest) {
                            problems.push(`${at} mediaType ${JSON.stringify(d.mediaType)} is not ${MEDIA_TYPE.manifest} (nested indexes are not published)`);
                            return;
                        }
                        // BuildKit's own attestations ride in a manifest marked as such; they are the build's claims.
                        readManifest(d, at, d.annotations?.["vnd.docker.reference.type"] === "attestation-manifest");
                    });
                    manifests.push({ descriptor: { mediaType: root.mediaType, digest: root.digest, size: root.size }, bytes: bytes! });
                }
            }
        } else {
            problems.push(`index.json manifests[0] mediaType ${JSON.stringify(root.mediaType)} is neither ${MEDIA_TYPE.manifest} nor ${MEDIA_TYPE.index}: export with --output type=oci (oci-mediatypes=true)`);
        }
    }
    if (problems.length > 0) {
        throw new LayoutError([...new Set(problems)]);
    }
    return { root: { mediaType: root.mediaType, digest: root.digest, size: root.size }, blobs, manifests, tar: whole, source };
}

/**
 * The push pass: streams the tar once more and hands each blob entry in `wanted` (entry name -> digest) to
 * `take`, which must read the stream or leave it (it is drained after). Returns the digests it met.
 */
export async function forEachBlobEntry(source: TarSource, wanted: Map<string, string>, take: (digest: string, size: number, stream: Readable) => Promise<void>): Promise<Set<string>> {
    const met = new Set<string>();
    const extract = tar.extract();
    const feeding = pipeline(await openTar(source), extract);
    try {
        for await (const entry of extract) {
            const name = entry.header.name.replace(/^(\.\/)+/, "");
            const digest = wanted.get(name);
            if (digest !== undefined && !met.has(digest) && entry.header.type === "file") {
                met.add(digest);
                await take(digest, entry.header.size ?? 0, entry as unknown as Readable);
            }
            entry.resume();
        }
    } catch (err) {
        extract.destroy();
        await feeding.catch(() => undefined);
        throw err;
    }
    await feeding;
    return met;
}
