/**
 * An ObjectStore that counts what is read through it: one per object read, one per name a listing
 * returns (what a bucket listing costs). The simulation reports the records a reconcile pass reads.
 */
import type { Readable } from "stream";
import type { CreateResult, ObjectInfo, ObjectStore } from "../lib/objectStore";

export class CountingStore implements ObjectStore {
    reads = 0;
    lists = 0;

    constructor(private readonly inner: ObjectStore) {}

    create(name: string, bytes: Buffer, contentType: string): Promise<CreateResult> {
        return this.inner.create(name, bytes, contentType);
    }

    read(name: string): Promise<Buffer | undefined> {
        this.reads++;
        return this.inner.read(name);
    }

    openRead(name: string): Promise<Readable | undefined> {
        this.reads++;
        return this.inner.openRead(name);
    }

    async list(prefix: string): Promise<string[]> {
        const names = await this.inner.list(prefix);
        this.lists++;
        this.reads += names.length;
        return names;
    }

    stat(name: string): Promise<ObjectInfo | undefined> {
        this.reads++;
        return this.inner.stat(name);
    }

    delete(name: string): Promise<void> {
        return this.inner.delete(name);
    }
}
