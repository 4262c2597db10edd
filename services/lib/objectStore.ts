/**
 * The one storage abstraction every service uses for buckets (intake, provenance, records): a GCS
 * bucket in the cloud, a directory on loopback. Writes are create-only: the services never overwrite
 * an object, so a second writer (or a replayed request) cannot replace what was stored first. The
 * one deletion is of pending markers (records.ts), which index work still to do.
 */
import { promises as fs } from "fs";
import type { Readable } from "stream";
import * as path from "path";
import type { Bucket } from "@google-cloud/storage";

export interface CreateResult {
    /** false when an object of that name already existed; nothing was written then. */
    created: boolean;
}

export interface ObjectStore {
    /** Stores `bytes` under `name` only if no object of that name exists (create-only precondition). */
    create(name: string, bytes: Buffer, contentType: string): Promise<CreateResult>;
    /** The object's bytes, or undefined when there is none. */
    read(name: string): Promise<Buffer | undefined>;
    /** The object's bytes as a stream (memory bounded whatever its size), or undefined when there is none. */
    openRead(name: string): Promise<Readable | undefined>;
    /** Names of the objects under `prefix`, sorted. */
    list(prefix: string): Promise<string[]>;
    /** Removes the object; no error when there is none. */
    delete(name: string): Promise<void>;
    /** The object's creation time as the store recorded it (never a time the writer chose), or undefined. */
    stat(name: string): Promise<ObjectInfo | undefined>;
}

export interface ObjectInfo {
    /** When the store created the object (GCS `timeCreated`). */
    created: Date;
    size: number;
}

/** Object names are `/`-separated segments of safe characters: no empty, `.` or `..` segment. */
const SEGMENT = /^[A-Za-z0-9._@=+-]+$/;

export function checkObjectName(name: string): string | undefined {
    if (name.length === 0 || name.length > 1024) {
        return `object name must be 1-1024 characters, got ${name.length}`;
    }
    for (const segment of name.split("/")) {
        if (!SEGMENT.test(segment) || segment === "." || segment === "..") {
            return `object name ${JSON.stringify(name)} has an invalid segment ${JSON.stringify(segment)}: use [A-Za-z0-9._@=+-], no empty, "." or ".." segments`;
        }
    }
    return undefined;
}

function assertObjectName(name: string): void {
    const problem = checkObjectName(name);
    if (problem !== undefined) {
        throw new Error(problem);
    }
}

/**
 * A local stand-in for a bucket: one file per object under `root`, created with O_EXCL. The creation
 * time is the file's mtime, set from `now` when the object is created (a clock the tests can move).
 */
export class DirectoryStore implements ObjectStore {
    constructor(
        readonly root: string,
        private readonly now: () => Date = () => new Date(),
    ) {}

    private pathOf(name: string): string {
        assertObjectName(name);
        return path.join(this.root, ...name.split("/"));
    }

    async create(name: string, bytes: Buffer, _contentType: string): Promise<CreateResult> {
        const file = this.pathOf(name);
        await fs.mkdir(path.dirname(file), { recursive: true });
        // Write a temporary file, then link it into place: link fails if the name exists, so a
        // concurrent reader never sees a half-written object and a second writer never replaces it.
        const tmp = `${file}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`;
        await fs.writeFile(tmp, bytes, { flag: "wx" });
        const at = this.now();
        await fs.utimes(tmp, at, at);
        try {
            await fs.link(tmp, file);
            return { created: true };
        } catch (err: any) {
            if (err.code === "EEXIST") {
                return { created: false };
            }
            throw err;
        } finally {
            await fs.unlink(tmp).catch(() => undefined);
        }
    }

    async read(name: string): Promise<Buffer | undefined> {
        try {
            return await fs.readFile(this.pathOf(name));
        } catch (err: any) {
            if (err.code === "ENOENT") {
                return undefined;
            }
            throw err;
        }
    }

    async openRead(name: string): Promise<Readable | undefined> {
        try {
            // Open first: a missing object is undefined here, not an error on the stream later.
            const handle = await fs.open(this.pathOf(name), "r");
            return handle.createReadStream();
        } catch (err: any) {
            if (err.code === "ENOENT") {
                return undefined;
            }
            throw err;
        }
    }

    async stat(name: string): Promise<ObjectInfo | undefined> {
        try {
            const st = await fs.stat(this.pathOf(name));
            return { created: st.mtime, size: st.size };
        } catch (err: any) {
            if (err.code === "ENOENT") {
                return undefined;
            }
            throw err;
        }
    }

    async list(prefix: string): Promise<string[]> {
        const names: string[] = [];
        const walk = async (dir: string, rel: string): Promise<void> => {
            let entries: import("fs").Dirent[];
            try {
                entries = await fs.readdir(dir, { withFileTypes: true });
            } catch (err: any) {
                if (err.code === "ENOENT") {
                    return;
                }
                throw err;
            }
            for (const entry of entries) {
                const name = rel === "" ? entry.name : `${rel}/${entry.name}`;
                if (entry.isDirectory()) {
                    await walk(path.join(dir, entry.name), name);
                } else if (!entry.name.endsWith(".tmp") && name.startsWith(prefix)) {
                    names.push(name);
                }
            }
        };
        // Start at the prefix's directory: a listing costs what is under it, not the whole bucket.
        const dir = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
        if (dir !== "") {
            assertObjectName(dir);
        }
        await walk(dir === "" ? this.root : path.join(this.root, ...dir.split("/")), dir);
        return names.sort();
    }

    async delete(name: string): Promise<void> {
        await fs.unlink(this.pathOf(name)).catch((err) => {
            if (err.code !== "ENOENT") {
                throw err;
            }
        });
    }
}

/** A GCS bucket through the official client; create-only through `ifGenerationMatch: 0`. */
export class GcsStore implements ObjectStore {
    constructor(private readonly bucket: Bucket) {}

    async create(name: string, bytes: Buffer, contentType: string): Promise<CreateResult> {
        assertObjectName(name);
        try {
            await this.bucket.file(name).save(bytes, {
                contentType,
                resumable: false,
                preconditionOpts: { ifGenerationMatch: 0 },
            });
            return { created: true };
        } catch (err: any) {
            if (err.code === 412) {
                return { created: false };
            }
            throw err;
        }
    }

    async read(name: string): Promise<Buffer | undefined> {
        assertObjectName(name);
        try {
            const [bytes] = await this.bucket.file(name).download();
            return bytes;
        } catch (err: any) {
            if (err.code === 404) {
                return undefined;
            }
            throw err;
        }
    }

    async openRead(name: string): Promise<Readable | undefined> {
        assertObjectName(name);
        const [exists] = await this.bucket.file(name).exists();
        // The client checks the object's CRC32C/MD5 at the end of the stream and errors on a mismatch.
        return exists ? this.bucket.file(name).createReadStream() : undefined;
    }

    async stat(name: string): Promise<ObjectInfo | undefined> {
        assertObjectName(name);
        try {
            const [meta] = await this.bucket.file(name).getMetadata();
            return { created: new Date(String(meta.timeCreated)), size: Number(meta.size) };
        } catch (err: any) {
            if (err.code === 404) {
                return undefined;
            }
            throw err;
        }
    }

    async list(prefix: string): Promise<string[]> {
        const [files] = await this.bucket.getFiles({ prefix });
        return files.map((f) => f.name).sort();
    }

    async delete(name: string): Promise<void> {
        assertObjectName(name);
        await this.bucket.file(name).delete({ ignoreNotFound: true });
    }
}
