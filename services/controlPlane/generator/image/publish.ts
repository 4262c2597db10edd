/**
 * The generator's image path: an uploaded OCI image layout is validated (lib/oci/layout.ts), named by
 * the repository rule (repository.ts), pushed by digest to the release registry as the control plane's
 * publishing identity, and, once the provenance is signed, its attestations are attached next to it
 * in cosign's tag scheme (lib/oci/cosignAttestations.ts).
 */
import { LayoutError, readImageLayout, type ImageLayout, type TarSource } from "../../../lib/oci/layout";
import { attachAttestations, type Attestation } from "../../../lib/oci/cosignAttestations";
import { pushImage, RegistryWriteError, type Credentials, type RegistryTarget } from "../../../lib/oci/registry";
import { publishedRepository, repositoryFor, type RepositoryRule } from "./repository";

export interface ImagePublisherOptions {
    /** `host[:port]/path` of the release registry, e.g. `europe-docker.pkg.dev/my-project/releases`. */
    releaseRegistry: string;
    /** The publishing identity's registry credentials; undefined for an open registry (tests). */
    credentials?: () => Promise<Credentials>;
    /** Largest layer, bytes. */
    maxLayerBytes: number;
    /** The repository rule; default the documented one. Replaced only by tests that show what it prevents. */
    rule?: RepositoryRule;
}

/** An image that passed validation: where it goes and what is pushed. */
export interface PreparedImage {
    /** `<host>/<path>`: the subject name of its attestations. */
    repository: string;
    /** `sha256:<hex>` of the root manifest (or index), computed here. */
    digest: string;
    layout: ImageLayout;
}

export interface PublishedImage {
    repository: string;
    digest: string;
    /** Where the attestations are: the `.att` tag and the digest of the manifest behind it. */
    attestation: { tag: string; digest: string };
}

/** A refusal for the job's input (422), or a registry failure (502, retryable). */
export class ImageRefusal extends Error {
    constructor(
        readonly status: 422 | 502,
        readonly code: string,
        message: string,
    ) {
        super(message);
        this.name = "ImageRefusal";
    }
}

const REGISTRY = /^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\d+\.\d+\.\d+\.\d+)(?::\d{1,5})?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** Problems of a release registry setting, for the generator's config. */
export function releaseRegistryProblem(value: string): string | undefined {
    return REGISTRY.test(value) ? undefined : `${JSON.stringify(value)} is not host[:port][/path] (e.g. europe-docker.pkg.dev/my-project/releases)`;
}

export class ImagePublisher {
    private readonly host: string;
    private readonly rule: RepositoryRule;

    constructor(private readonly opts: ImagePublisherOptions) {
        const problem = releaseRegistryProblem(opts.releaseRegistry);
        if (problem !== undefined) {
            throw new Error(`release registry: ${problem}`);
        }
        this.host = opts.releaseRegistry.split("/")[0];
        this.rule = opts.rule ?? repositoryFor;
    }

    private target(repository: string): RegistryTarget {
        return { registry: this.host, repository: repository.slice(this.host.length + 1), credentials: this.opts.credentials };
    }

    /**
     * Names and validates an upload, streamed (tests pass bytes); throws ImageRefusal (422) with every
     * problem found. `maxTarBytes`: the object limit, checked again as the tar streams by.
     */
    async prepare(sourceRepository: string, uploadPath: string, source: TarSource, maxTarBytes?: number): Promise<PreparedImage> {
        const named = this.rule(sourceRepository, uploadPath);
        if ("problem" in named) {
            throw new ImageRefusal(422, "image-repository", named.problem);
        }
        const full = publishedRepository(this.opts.releaseRegistry, named.repository);
        if ("problem" in full) {
            throw new ImageRefusal(422, "image-repository", full.problem);
        }
        try {
            const layout = await readImageLayout(source, { maxLayerBytes: this.opts.maxLayerBytes, ...(maxTarBytes !== undefined ? { maxTarBytes } : {}) });
            return { repository: full.repository, digest: layout.root.digest, layout };
        } catch (err) {
            if (err instanceof LayoutError) {
                throw new ImageRefusal(422, "invalid-image-layout", err.message);
            }
            throw err;
        }
    }

    /** Pushes every blob and manifest by digest. Idempotent: blobs and manifests are content-addressed. */
    async push(image: PreparedImage): Promise<void> {
        try {
            await pushImage(this.target(image.repository), image.layout);
        } catch (err) {
            throw registryRefusal("registry-push-failed", `pushing ${image.repository}@${image.digest}`, err);
        }
    }

    /**
     * Attaches this job's signed attestations next to the image (cosign's `sha256-<hex>.att` tag),
     * appending to what other jobs attached there. With a ledger, they are recorded first and every
     * attestation recorded for the image is written, until a read of the ledger after the write shows
     * no newcomer: so two jobs attaching to the same digest at once both end up in the tag.
     */
    async attach(image: PreparedImage, attestations: Attestation[], ledger?: AttestationLedger): Promise<PublishedImage> {
        const target = this.target(image.repository);
        try {
            if (ledger === undefined) {
                return { repository: image.repository, digest: image.digest, attestation: await attachAttestations(target, image.digest, attestations) };
            }
            await ledger.record(attestations);
            let seen = await ledger.all();
            for (let round = 1; ; round++) {
                const attestation = await attachAttestations(target, image.digest, seen.attestations);
                const now = await ledger.all();
                if (now.keys.join("\n") === seen.keys.join("\n") || round >= LEDGER_ROUNDS) {
                    // A newcomer after the last round attaches its own and everything before it.
                    return { repository: image.repository, digest: image.digest, attestation };
                }
                seen = now;
            }
        } catch (err) {
            throw registryRefusal("registry-attach-failed", `attaching attestations to ${image.repository}@${image.digest}`, err);
        }
    }
}

const LEDGER_ROUNDS = 5;

/** The attestations recorded for one image: this job's are recorded under its own key. */
export interface AttestationLedger {
    record(attestations: Attestation[]): Promise<void>;
    all(): Promise<{ keys: string[]; attestations: Attestation[] }>;
}

/**
 * A registry failure as the generator answers it: the registry refusing the request itself (4xx: an
 * immutable tag, a manifest it will not take, a denied write) is final, recorded and never retried;
 * anything else (unreachable, 5xx, credentials) is 502 and retried by the redelivery.
 */
function registryRefusal(code: string, what: string, err: unknown): ImageRefusal {
    const why = (err as Error).message;
    return err instanceof RegistryWriteError && err.final
        ? new ImageRefusal(422, "registry-refused", `${what}: the registry refused the write (${why}); the same write would be refused again`)
        : new ImageRefusal(502, code, `${what}: ${why}`);
}
