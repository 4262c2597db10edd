/**
 * The Sigstore half of `hardened-build-fleet-verify --bundle`: @sigstore/verify checks the bundle
 * against the fleet's trusted root (its TSA, and its log when it lists one) and the published key
 * versions, with a timestamp required, and a log entry required when the trusted root lists a log.
 * The key version the bundle names must be valid at every timestamp (a timestamp before the
 * version's window, or at or after its retirement, is refused). Only then is the envelope handed to
 * the SLSA policy checks (verify.ts), which re-check its signature under that one key.
 */
import { bundleFromJSON, ValidationError, type Bundle } from "@sigstore/bundle";
import type { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import type { DsseEnvelope } from "../lib/dsse";
import { keyFinder } from "../lib/trustedRoot";

/** The keys a bundle may be signed by: name (= the bundle's hint), key, and window. */
export interface BundleKey {
    name: string;
    key: import("crypto").KeyObject;
    window?: { validFrom: string; validUntil?: string };
}

export type BundleResult =
    | { verified: true; envelope: DsseEnvelope; keyName: string; timestamps: Date[]; tlogEntries: number }
    | { verified: false; reason: string };

/** Parses and verifies `json` (a parsed `.sigstore.json`). Never throws for a bundle that fails: it says why. */
export function verifyBundle(json: unknown, trustedRoot: TrustedRoot, keys: BundleKey[]): BundleResult {
    let bundle: Bundle;
    try {
        bundle = bundleFromJSON(json);
    } catch (err) {
        const fields = err instanceof ValidationError ? ` (${err.fields.join(", ")})` : "";
        return { verified: false, reason: `not a valid Sigstore bundle${fields}: ${(err as Error).message}` };
    }
    if (bundle.content.$case !== "dsseEnvelope") {
        return { verified: false, reason: "the bundle holds a message signature, not a DSSE envelope with provenance" };
    }
    // A bare PEM key has no name: it stands for whatever hint the bundle carries.
    const hint = bundle.verificationMaterial.content.$case === "publicKey" ? bundle.verificationMaterial.content.publicKey.hint : "";
    const finder = keyFinder(keys.map((k) => ({ name: k.name === "pem" ? hint : k.name, publicKey: k.key, window: k.window })));
    const entity = toSignedEntity(bundle);
    try {
        new Verifier(toTrustMaterial(trustedRoot, finder), {
            timestampThreshold: 1,
            tlogThreshold: trustedRoot.tlogs.length > 0 ? 1 : 0,
            ctlogThreshold: 0,
        }).verify(entity);
    } catch (err) {
        return { verified: false, reason: `the bundle does not verify against the trusted root and keys: ${(err as Error).message}` };
    }
    const env = bundle.content.dsseEnvelope;
    return {
        verified: true,
        envelope: {
            payloadType: env.payloadType,
            payload: env.payload.toString("base64"),
            signatures: env.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig.toString("base64") })),
        },
        keyName: hint,
        timestamps: entity.timestamps.flatMap((t) => (t.$case === "timestamp-authority" ? [t.timestamp.signingTime] : [])),
        tlogEntries: bundle.verificationMaterial.tlogEntries.length,
    };
}
