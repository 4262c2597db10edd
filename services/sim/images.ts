/**
 * The image part of the simulation: the release registry (a real distribution registry, started here
 * unless `--registry` names one, behind the IAM stand-in of registryGate.ts), the generator's
 * publisher as the control plane's publishing identity, a consumer's check of what landed, and the
 * image attacks.
 */
import { createHash } from "crypto";
import { ImagePublisher } from "../controlPlane/generator/image/publish";
import { parseEnvelopes } from "../lib/dsse";
import { IdTokenVerifier, type CertSource } from "../lib/idToken";
import { attestationTag } from "../lib/oci/cosignAttestations";
import { MEDIA_TYPE } from "../lib/oci/layout";
import { parseTrustedKeys, verifyProvenance } from "../verify/verify";
import type { IdentityIssuer } from "./identityIssuer";
import { LocalRegistry, startLocalRegistry } from "./localRegistry";
import { RegistryGate, startRegistryGate } from "./registryGate";

export const SIM_REGISTRY_AUDIENCE = "https://registry.sim.hardened-build-fleet.invalid";
/** The release registry's path below the host (as an Artifact Registry repository would be). */
export const SIM_RELEASE_PATH = "releases";
/** Layers above this are refused in the simulation (the oversized-layer attack uploads more). */
export const SIM_MAX_LAYER_BYTES = 1024 * 1024;

export interface SimRegistry {
    /** What consumers and the generator use: the gate's `127.0.0.1:<port>`. */
    host: string;
    url: string;
    gate: RegistryGate;
    /** The generator's publisher, signed in as `publisher` through the gate. */
    publisher: ImagePublisher;
    close(): Promise<void>;
}

/**
 * Starts the registry (or uses `external`, `host:port` of a running one), the gate in front of it with
 * `publisher` as the only writer, and the generator's ImagePublisher.
 */
export async function startSimRegistry(issuer: IdentityIssuer, certs: CertSource, publisherEmail: string, external?: string): Promise<SimRegistry> {
    const local: LocalRegistry | undefined = external === undefined ? await startLocalRegistry() : undefined;
    const upstream = local?.url ?? `http://${external}`;
    const gate = await startRegistryGate({ upstream, verifier: new IdTokenVerifier({ audience: SIM_REGISTRY_AUDIENCE, certs }), writers: [publisherEmail] });
    const publisher = new ImagePublisher({
        releaseRegistry: `${gate.host}/${SIM_RELEASE_PATH}`,
        maxLayerBytes: SIM_MAX_LAYER_BYTES,
        credentials: async () => ({ username: "oauth2accesstoken", password: issuer.mint({ audience: SIM_REGISTRY_AUDIENCE, email: publisherEmail }) }),
    });
    return {
        host: gate.host,
        url: gate.url,
        gate,
        publisher,
        close: async () => {
            await gate.close();
            await local?.stop();
        },
    };
}

export interface ImageCheck {
    repository: string;
    digest: string;
    attestation: { tag: string; digest: string };
    verified: boolean;
    problem?: string;
}

const ACCEPT = [MEDIA_TYPE.manifest, MEDIA_TYPE.index].join(",");

/**
 * A consumer's check through the registry API only: the manifest the registry serves for the digest
 * hashes to it, the `.att` tag holds a DSSE layer whose envelope verifies under the fleet's keyring
 * with the manifest as subject, the builder id and the source repository.
 */
export async function checkPublishedImage(registryUrl: string, image: { repository: string; digest: string }, keyring: string, builderId: string, sourceRepository: string): Promise<ImageCheck> {
    const path = image.repository.slice(image.repository.indexOf("/") + 1);
    const tag = attestationTag(image.digest);
    const result: ImageCheck = { ...image, attestation: { tag, digest: "" }, verified: false };
    const manifestRes = await fetch(`${registryUrl}/v2/${path}/manifests/${image.digest}`, { headers: { accept: ACCEPT } });
    const manifest = Buffer.from(await manifestRes.arrayBuffer());
    if (manifestRes.status !== 200 || `sha256:${createHash("sha256").update(manifest).digest("hex")}` !== image.digest) {
        return { ...result, problem: `the registry does not serve ${image.digest} (${manifestRes.status})` };
    }
    const attRes = await fetch(`${registryUrl}/v2/${path}/manifests/${tag}`, { headers: { accept: MEDIA_TYPE.manifest } });
    if (attRes.status !== 200) {
        return { ...result, problem: `no attestation at ${tag} (${attRes.status})` };
    }
    const attBytes = Buffer.from(await attRes.arrayBuffer());
    result.attestation.digest = `sha256:${createHash("sha256").update(attBytes).digest("hex")}`;
    const layers = (JSON.parse(attBytes.toString()).layers ?? []) as { mediaType: string; digest: string; annotations?: Record<string, string> }[];
    // One layer per job that published this digest (appended, as cosign does): any one that verifies passes.
    const provenance = layers.filter((l) => l.mediaType === MEDIA_TYPE.dsse && l.annotations?.predicateType === "https://slsa.dev/provenance/v1");
    if (provenance.length === 0) {
        return { ...result, problem: `${tag} has no SLSA provenance layer` };
    }
    const reasons: string[] = [];
    for (const layer of provenance) {
        const blob = await fetch(`${registryUrl}/v2/${path}/blobs/${layer.digest}`);
        const envelopes = parseEnvelopes(Buffer.from(await blob.arrayBuffer()).toString("utf8"));
        const verdict = verifyProvenance({ envelopes, artifact: manifest, keys: parseTrustedKeys(keyring), builderId, policy: { sourceUri: `https://github.com/${sourceRepository}` } });
        if (verdict.verified) {
            return { ...result, verified: true };
        }
        reasons.push(verdict.reason ?? "not verified");
    }
    return { ...result, problem: reasons.join("; ") };
}
