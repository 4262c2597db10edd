/**
 * Attestations where `cosign verify-attestation` and `cosign tree` look by default: cosign's tag
 * scheme. For an image `repo@sha256:<hex>` the attestations are one OCI image at the tag
 * `repo:sha256-<hex>.att`, one layer per attestation:
 * - layer media type `application/vnd.dsse.envelope.v1+json`, the layer bytes the DSSE envelope JSON;
 * - layer annotations `dev.cosignproject.cosign/signature: ""` (the signature lives inside the envelope)
 *   and `predicateType: <uri>` (what `--type` filters on);
 * - manifest `application/vnd.oci.image.manifest.v1+json`, config `application/vnd.oci.image.config.v1+json`
 *   holding the layers as rootfs diff ids, as go-containerregistry writes for cosign.
 * (cosign: pkg/oci/remote/remote.go `normalize`, options.go `AttestationTagSuffix`, pkg/types
 * `DssePayloadType`, pkg/oci/internal/signature/layer.go, cmd/cosign/cli/attest/attest.go.)
 *
 * Attestations are attached per job, as cosign does: the `.att` image is read, the new layers are
 * appended (a layer already there is not added twice), and the result is written back with `If-Match`
 * on the manifest read (honoured where the registry supports conditional writes), then read back to
 * check that every layer asked for is there; a lost race is retried from a fresh read. The caller
 * passes every attestation it knows of for the image (the generator: all that its records hold), so
 * the last writer restores anything an interleaved writer dropped.
 */
import type { DsseEnvelope } from "../dsse";
import { MEDIA_TYPE, sha256Digest } from "./layout";
import { pushBlob, pushManifest, registryClient, registryStep, RegistryTarget, RegistryWriteError } from "./registry";

export const COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
export const PREDICATE_TYPE_ANNOTATION = "predicateType";
export const ATTESTATION_TAG_SUFFIX = "att";

/** `sha256:<hex>` -> `sha256-<hex>.att` */
export function attestationTag(digest: string): string {
    return `${digest.replace(":", "-")}.${ATTESTATION_TAG_SUFFIX}`;
}

export interface Attestation {
    envelope: DsseEnvelope;
    predicateType: string;
    /** Extra layer annotations (e.g. what the attestation is, whose claim it is). */
    annotations?: Record<string, string>;
}

export interface AttestationImage {
    config: Buffer;
    layers: Buffer[];
    manifest: Buffer;
    tag: string;
    /** Digest of the attestation manifest. */
    digest: string;
}

interface Layer {
    mediaType: string;
    size: number;
    digest: string;
    annotations?: Record<string, string>;
}

/** The layer of one attestation: its bytes and descriptor (deterministic for the same envelope). */
export function attestationLayer(a: Attestation): { bytes: Buffer; descriptor: Layer } {
    const bytes = Buffer.from(JSON.stringify(a.envelope), "utf8");
    return {
        bytes,
        descriptor: {
            mediaType: MEDIA_TYPE.dsse,
            size: bytes.length,
            digest: sha256Digest(bytes),
            annotations: { ...a.annotations, [COSIGN_SIGNATURE_ANNOTATION]: "", [PREDICATE_TYPE_ANNOTATION]: a.predicateType },
        },
    };
}

/** The attestation image with `layers` in this order: config (their digests as diff ids) and manifest. */
function imageOf(imageDigest: string, layers: Layer[]): Omit<AttestationImage, "layers"> {
    const zero = "0001-01-01T00:00:00Z";
    const config = Buffer.from(JSON.stringify({
        architecture: "",
        created: zero,
        history: layers.map(() => ({ created: zero })),
        os: "",
        rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
        config: {},
    }));
    const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.manifest,
        config: { mediaType: MEDIA_TYPE.config, size: config.length, digest: sha256Digest(config) },
        layers,
    }));
    return { config, manifest, tag: attestationTag(imageDigest), digest: sha256Digest(manifest) };
}

/** The attestation image for `imageDigest` holding exactly `attestations`: deterministic bytes for the same envelopes. */
export function attestationImage(imageDigest: string, attestations: Attestation[]): AttestationImage {
    const layers = attestations.map(attestationLayer);
    return { ...imageOf(imageDigest, layers.map((l) => l.descriptor)), layers: layers.map((l) => l.bytes) };
}

/** The layers of an `.att` manifest the registry served; refuses content that is not an attestation image. */
function layersOf(bytes: Buffer, tag: string): Layer[] {
    let m: { mediaType?: string; layers?: unknown };
    try {
        m = JSON.parse(bytes.toString("utf8"));
    } catch {
        throw new RegistryWriteError(`${tag} holds a manifest that is not JSON`);
    }
    if ((m.mediaType !== undefined && m.mediaType !== MEDIA_TYPE.manifest) || !Array.isArray(m.layers)) {
        throw new RegistryWriteError(`${tag} is not an attestation image (mediaType ${JSON.stringify(m.mediaType)})`);
    }
    return m.layers as Layer[];
}

export const ATTACH_ATTEMPTS = 5;

/**
 * Appends `attestations` to the image's `.att` attestation image (creating it when there is none);
 * returns where it is and the digest of the manifest that held every one of them when read back.
 */
export async function attachAttestations(target: RegistryTarget, imageDigest: string, attestations: Attestation[]): Promise<{ tag: string; digest: string }> {
    const tag = attestationTag(imageDigest);
    const wanted = attestations.map(attestationLayer);
    const client = await registryStep("sign in", () => registryClient(target));
    // The image must be there first: an attestation never points at nothing.
    if ((await registryStep(`image ${imageDigest}`, () => client.getManifest(imageDigest))) === undefined) {
        throw new RegistryWriteError(`the registry has no image ${target.repository}@${imageDigest} to attach to`);
    }
    for (let attempt = 1; ; attempt++) {
        const current = await registryStep(`read ${tag}`, () => client.getManifest(tag));
        const base = current === undefined ? [] : layersOf(current.bytes, tag);
        const have = new Set(base.map((l) => l.digest));
        const missing = wanted.filter((w, i) => !have.has(w.descriptor.digest) && wanted.findIndex((x) => x.descriptor.digest === w.descriptor.digest) === i);
        if (missing.length === 0) {
            return { tag, digest: sha256Digest(current!.bytes) };
        }
        if (attempt > ATTACH_ATTEMPTS) {
            throw new RegistryWriteError(`${tag}: other writers kept replacing it; after ${ATTACH_ATTEMPTS} writes it still lacks ${missing.length} of our attestations`);
        }
        const next = imageOf(imageDigest, [...base, ...missing.map((m) => m.descriptor)]);
        for (const m of missing) {
            await pushBlob(client, m.bytes, m.descriptor.digest);
        }
        await pushBlob(client, next.config, sha256Digest(next.config));
        try {
            await pushManifest(client, next.manifest, MEDIA_TYPE.manifest, tag, current?.etag);
        } catch (err) {
            // 412: another writer moved the tag since our read; a read-back of other bytes: the same race.
            // Either way read again; any other failure is the registry's answer to this write.
            const lostRace = (err as { cause?: { status?: number } }).cause?.status === 412 || (err instanceof RegistryWriteError && err.readBack);
            if (!lostRace) {
                throw err;
            }
        }
    }
}
