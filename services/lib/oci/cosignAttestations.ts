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
 * The tag is written once, with every attestation of the image in it: the release registry's tags
 * are immutable, so a second write with other content is refused by the registry.
 */
import type { DsseEnvelope } from "../dsse";
import { MEDIA_TYPE, sha256Digest } from "./layout";
import { pushBlob, pushManifest, registryClient, RegistryTarget } from "./registry";

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

/** The attestation image for `imageDigest`: deterministic bytes for the same envelopes. */
export function attestationImage(imageDigest: string, attestations: Attestation[]): AttestationImage {
    const layers = attestations.map((a) => Buffer.from(JSON.stringify(a.envelope), "utf8"));
    const diffIds = layers.map(sha256Digest);
    const zero = "0001-01-01T00:00:00Z";
    const config = Buffer.from(JSON.stringify({
        architecture: "",
        created: zero,
        history: layers.map(() => ({ created: zero })),
        os: "",
        rootfs: { type: "layers", diff_ids: diffIds },
        config: {},
    }));
    const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.manifest,
        config: { mediaType: MEDIA_TYPE.config, size: config.length, digest: sha256Digest(config) },
        layers: attestations.map((a, i) => ({
            mediaType: MEDIA_TYPE.dsse,
            size: layers[i].length,
            digest: diffIds[i],
            annotations: { ...a.annotations, [COSIGN_SIGNATURE_ANNOTATION]: "", [PREDICATE_TYPE_ANNOTATION]: a.predicateType },
        })),
    }));
    return { config, layers, manifest, tag: attestationTag(imageDigest), digest: sha256Digest(manifest) };
}

/** Pushes the attestation image to `<repository>:sha256-<hex>.att`; returns where it is. */
export async function attachAttestations(target: RegistryTarget, imageDigest: string, attestations: Attestation[]): Promise<{ tag: string; digest: string }> {
    const image = attestationImage(imageDigest, attestations);
    const client = await registryClient(target);
    // The image must be there first: an attestation never points at nothing.
    await client.checkManifest(imageDigest);
    for (const blob of [image.config, ...image.layers]) {
        await pushBlob(client, blob, sha256Digest(blob));
    }
    await pushManifest(client, image.manifest, MEDIA_TYPE.manifest, image.tag);
    return { tag: image.tag, digest: image.digest };
}
