/**
 * Registry writes, through @sigstore/oci's distribution-spec client (token and basic auth challenges,
 * origin-scoped credentials on redirects, retries). Every digest the registry reports back is compared
 * with the one computed locally; a mismatch stops the push.
 */
import type { Credentials } from "@sigstore/oci";
// The package exports only attachArtifactToImage at its root; its registry client is the part that fits.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { RegistryClient } = require("@sigstore/oci/dist/registry") as typeof import("@sigstore/oci/dist/registry");
import { type Descriptor, type ImageLayout, sha256Digest } from "./layout";

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
    constructor(message: string, options?: { cause?: unknown }) {
        super(message, options);
        this.name = "RegistryWriteError";
    }
}

type Client = InstanceType<typeof RegistryClient>;

/** A signed-in client for one repository. */
export async function registryClient(target: RegistryTarget): Promise<Client> {
    const client = new RegistryClient(target.registry, target.repository, { retry: { retries: 2, factor: 2, minTimeout: 100, maxTimeout: 1000 }, timeout: 60_000, proxy: undefined, noProxy: undefined });
    if (target.credentials !== undefined) {
        await client.signIn(await target.credentials());
    }
    return client;
}

function causeOf(err: unknown): string {
    const e = err as { message?: string; cause?: { message?: string } };
    return [e.message, e.cause?.message].filter(Boolean).join(": ");
}

/** Uploads one blob (skipped when the registry has it) and checks the digest it was stored under. */
export async function pushBlob(client: Client, bytes: Buffer, expected: string): Promise<void> {
    let stored: Descriptor;
    try {
        stored = await client.uploadBlob(bytes);
    } catch (err) {
        throw new RegistryWriteError(`blob ${expected}: ${causeOf(err)}`, { cause: err });
    }
    if (stored.digest !== expected) {
        throw new RegistryWriteError(`blob ${expected} was stored as ${stored.digest}`);
    }
}

/**
 * PUTs a manifest's exact bytes under `reference` (its digest, or a tag), then reads back the digest
 * the registry serves for it and compares it with the digest of the bytes.
 */
export async function pushManifest(client: Client, bytes: Buffer, mediaType: string, reference?: string): Promise<string> {
    const text = bytes.toString("utf8");
    if (!Buffer.from(text, "utf8").equals(bytes)) {
        throw new RegistryWriteError("the manifest is not valid UTF-8; its bytes would change on the way");
    }
    const digest = sha256Digest(bytes);
    try {
        await client.uploadManifest(text, { mediaType, reference: reference ?? digest });
        const served = await client.checkManifest(reference ?? digest);
        if (served.digest !== "" && served.digest !== digest) {
            throw new RegistryWriteError(`the registry serves ${reference ?? digest} as ${served.digest}, not ${digest}`);
        }
    } catch (err) {
        if (err instanceof RegistryWriteError) {
            throw err;
        }
        throw new RegistryWriteError(`manifest ${reference ?? digest}: ${causeOf(err)}`, { cause: err });
    }
    return digest;
}

/** Pushes every blob, then every manifest by digest (children first); the image gets no tag. */
export async function pushImage(target: RegistryTarget, layout: ImageLayout): Promise<string> {
    const client = await registryClient(target);
    for (const [digest, bytes] of layout.blobs) {
        await pushBlob(client, bytes, digest);
    }
    for (const m of layout.manifests) {
        await pushManifest(client, m.bytes, m.descriptor.mediaType);
    }
    return layout.root.digest;
}
