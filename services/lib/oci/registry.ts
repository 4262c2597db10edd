/**
 * Registry writes for publishing, through the distribution client of distribution.ts. Every digest
 * the registry reports back is compared with the one computed locally; a mismatch stops the push.
 */
import { type BlobSource, type Credentials, DistributionClient, RegistryHttpError } from "./distribution";
import { forEachBlobEntry, type ImageLayout, sha256Digest } from "./layout";

export type { Credentials };

export interface RegistryTarget {
    /** `host[:port]`, e.g. `europe-docker.pkg.dev` or `127.0.0.1:5000`. */
    registry: string;
    /** The repository path inside the registry, e.g. `proj/releases/acme/app`. */
    repository: string;
    /** Basic credentials (`oauth2accesstoken` + an access token for Artifact Registry); none for an open registry. */
    credentials?: () => Promise<Credentials>;
}

export class RegistryWriteError extends Error {
    /** The registry refused the request itself (4xx): the same request would be refused again. */
    readonly final: boolean;
    /** The write succeeded but reading it back gave other bytes (another writer came in between). */
    readonly readBack: boolean;
    constructor(message: string, options?: { cause?: unknown; readBack?: boolean }) {
        super(message, options);
        this.name = "RegistryWriteError";
        this.final = options?.cause instanceof RegistryHttpError && options.cause.final;
        this.readBack = options?.readBack ?? false;
    }
}

/** A signed-in client for one repository. */
export async function registryClient(target: RegistryTarget): Promise<DistributionClient> {
    const client = new DistributionClient(target.registry, target.repository);
    if (target.credentials !== undefined) {
        await client.signIn(await target.credentials());
    }
    return client;
}

/** Runs one registry step; its failure becomes a RegistryWriteError naming `what`. */
export async function registryStep<T>(what: string, step: () => Promise<T>): Promise<T> {
    try {
        return await step();
    } catch (err) {
        if (err instanceof RegistryWriteError) {
            throw err;
        }
        throw new RegistryWriteError(`${what}: ${(err as Error).message}`, { cause: err });
    }
}

/** Uploads one blob (skipped when the registry has it); the registry checks the digest of what it received. */
export function pushBlob(client: DistributionClient, source: BlobSource, digest: string): Promise<void> {
    return registryStep(`blob ${digest}`, () => client.uploadBlob(digest, source));
}

/**
 * PUTs a manifest's exact bytes under `reference` (its digest, or a tag), then reads back the bytes
 * the registry serves for it and compares their digest with the digest of the bytes sent.
 */
export async function pushManifest(client: DistributionClient, bytes: Buffer, mediaType: string, reference?: string, ifMatch?: string): Promise<string> {
    const digest = sha256Digest(bytes);
    const ref = reference ?? digest;
    return registryStep(`manifest ${ref}`, async () => {
        await client.putManifest(ref, bytes, mediaType, ifMatch);
        const served = await client.getManifest(ref);
        if (served === undefined || sha256Digest(served.bytes) !== digest) {
            throw new RegistryWriteError(`the registry serves ${ref} as ${served === undefined ? "nothing" : sha256Digest(served.bytes)}, not ${digest}`, { readBack: true });
        }
        return digest;
    });
}

/**
 * Pushes every blob, then every manifest by digest (children first); the image gets no tag. Held blobs
 * go from memory; the others stream from a second pass over the tar, one at a time, so memory stays
 * bounded whatever the layers' sizes. The registry checks each blob's digest as it stores it.
 */
export async function pushImage(target: RegistryTarget, layout: ImageLayout): Promise<string> {
    const client = await registryStep("sign in", () => registryClient(target));
    const streamed = new Map<string, string>();
    for (const [digest, blob] of layout.blobs) {
        if ("bytes" in blob) {
            await pushBlob(client, blob.bytes, digest);
        } else {
            streamed.set(blob.entry, digest);
        }
    }
    if (streamed.size > 0) {
        const met = await registryStep("read the layout again", () => forEachBlobEntry(layout.source, streamed, (digest, size, stream) => pushBlob(client, { size, open: () => stream }, digest)));
        const lost = [...streamed.values()].filter((d) => !met.has(d));
        if (lost.length > 0) {
            throw new RegistryWriteError(`the layout no longer holds ${lost.join(", ")}`);
        }
    }
    for (const m of layout.manifests) {
        await pushManifest(client, m.bytes, m.descriptor.mediaType);
    }
    return layout.root.digest;
}
