/**
 * The signer's client for a Rekor v2 log that runs behind Cloud Run IAM (the enclave's private log): the
 * create-entry request @sigstore/sign's RekorWitness sends (`POST /api/v2/log/entries`, a `dsseRequestV002`
 * with the envelope and the signing key), plus the signer's Google ID token, which RekorWitness cannot attach.
 * The bundle is still assembled by @sigstore/sign's DSSEBundleBuilder from the entry this returns, and checked
 * by @sigstore/verify before it leaves the signer.
 */
import { createPublicKey } from "crypto";
import { TransparencyLogEntry } from "@sigstore/protobuf-specs";
import type { SignatureBundle, VerificationMaterial, Witness } from "@sigstore/sign";
import type { IdTokenSource } from "./tsaClient";

export interface IdentityRekorOptions {
    /** The log's base URL (also the ID token audience: a Cloud Run service's own URL). */
    url: string;
    idToken: IdTokenSource;
    /** Default 30 s: a Rekor v2 create waits for the entry's checkpoint. */
    timeoutMs?: number;
    fetch?: typeof fetch;
}

export class IdentityRekorV2Witness implements Witness {
    constructor(private readonly opts: IdentityRekorOptions) {}

    async testify(content: SignatureBundle, publicKey: string): Promise<VerificationMaterial> {
        if (content.$case !== "dsseEnvelope") {
            throw new Error("the fleet's log takes DSSE entries only");
        }
        const env = content.dsseEnvelope;
        const request = {
            dsseRequestV002: {
                envelope: {
                    payload: env.payload.toString("base64"),
                    payloadType: env.payloadType,
                    signatures: env.signatures.map((s) => ({ sig: s.sig.toString("base64"), keyid: s.keyid })),
                },
                verifiers: [{
                    keyDetails: "PKIX_ECDSA_P256_SHA_256",
                    publicKey: { rawBytes: createPublicKey(publicKey).export({ type: "spki", format: "der" }).toString("base64") },
                }],
            },
        };
        const token = await this.opts.idToken(this.opts.url);
        const res = await (this.opts.fetch ?? fetch)(`${this.opts.url}/api/v2/log/entries`, {
            method: "POST",
            headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${token}` },
            body: JSON.stringify(request),
            signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
        });
        const body = await res.text();
        if (res.status !== 200 && res.status !== 201) {
            throw new Error(`the transparency log answered ${res.status}: ${body.slice(0, 200)}`);
        }
        const entry = TransparencyLogEntry.fromJSON(JSON.parse(body));
        if (entry.logId === undefined || entry.kindVersion === undefined) {
            throw new Error("the transparency log's answer is not a log entry (no logId or kindVersion)");
        }
        return { tlogEntries: [{ ...entry, logId: entry.logId, kindVersion: entry.kindVersion }] };
    }
}
