/**
 * A SLSA Verification Summary Attestation (https://slsa.dev/verification_summary/v1) for what
 * `hardened-build-fleet-verify` verified, signed with the key the user passes, as a Sigstore bundle
 * (@sigstore/sign's DSSEBundleBuilder; the key's SHA-256 fingerprint is the hint). Admission
 * controllers and release gates consume it instead of re-running the verification.
 *
 * It carries no timestamp: the verifier's own key is the user's, with no TSA behind it; consumers
 * verify it with that public key (cosign `--insecure-ignore-tlog`, or @sigstore/verify with every
 * threshold at 0 and the key's hint).
 */
import * as crypto from "crypto";
import { bundleToJSON, type SerializedBundle } from "@sigstore/bundle";
import { DSSEBundleBuilder } from "@sigstore/sign";
import { INTOTO_PAYLOAD_TYPE } from "../lib/dsse";
import { STATEMENT_TYPE } from "../lib/statement";
import { KeyVersionSigner } from "../signer/attest";
import { FileSigningKey, loadP256PrivateKey } from "../signer/signingKey";

export const VSA_PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1";
export const VERIFIER_ID = "https://github.com/hardened-build-fleet/hardened-build-fleet/verify";
/** Version of the CLI's checks and of this VSA's shape (bumped when either changes). */
export const VERIFIER_VERSION = "1";
/** The policy the CLI applies, by name; its parameters are pinned by the digest in each VSA. */
export const POLICY_URI = "urn:hardened-build-fleet:verify-policy:v1";

export interface VsaInput {
    /** The artifact as named in the provenance, and its digest. */
    subjectName: string;
    artifactSha256: string;
    /** What was verified: the artifact's URI as the consumer names it. */
    resourceUri: string;
    /** The policy parameters (builder id, source repository, ...): their canonical JSON's digest is recorded. */
    policy: Record<string, unknown>;
    /** The provenance file that was verified and its bytes. */
    inputAttestation: { uri: string; bytes: Buffer };
    timeVerified: Date;
    verifierVersion: string;
}

export function vsaStatement(input: VsaInput): Record<string, unknown> {
    const sorted = Object.fromEntries(Object.entries(input.policy).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b)));
    return {
        _type: STATEMENT_TYPE,
        subject: [{ name: input.subjectName, digest: { sha256: input.artifactSha256 } }],
        predicateType: VSA_PREDICATE_TYPE,
        predicate: {
            verifier: { id: VERIFIER_ID, version: { "hardened-build-fleet-verify": input.verifierVersion } },
            timeVerified: input.timeVerified.toISOString(),
            resourceUri: input.resourceUri,
            policy: { uri: POLICY_URI, digest: { sha256: crypto.createHash("sha256").update(JSON.stringify(sorted)).digest("hex") } },
            inputAttestations: [{ uri: input.inputAttestation.uri, digest: { sha256: crypto.createHash("sha256").update(input.inputAttestation.bytes).digest("hex") } }],
            verificationResult: "PASSED",
            verifiedLevels: ["SLSA_BUILD_LEVEL_3"],
            slsaVersion: "1.0",
        },
    };
}

/** Signs the VSA with a P-256 private key (PEM) into a Sigstore bundle v0.3; the hint is the key's fingerprint. */
export async function signVsa(statement: Record<string, unknown>, privateKeyPem: string, source: string): Promise<SerializedBundle> {
    const key = new FileSigningKey(loadP256PrivateKey(privateKeyPem, source));
    const pem = (await key.publicKey()).pem;
    const bundle = await new DSSEBundleBuilder({ signer: new KeyVersionSigner(key, async () => pem), witnesses: [] }).create({
        data: Buffer.from(JSON.stringify(statement), "utf8"),
        type: INTOTO_PAYLOAD_TYPE,
    });
    return bundleToJSON(bundle);
}
