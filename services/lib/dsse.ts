/**
 * DSSE (Dead Simple Signing Envelope) v1 as cosign, sigstore and slsa-verifier read it: the
 * signature covers the pre-authentication encoding (PAE) of payloadType and payload, never the
 * bare payload, so a payload cannot be replayed under another type. PAE comes from @sigstore/core.
 */
import * as crypto from "crypto";
import { dsse } from "@sigstore/core";

export const INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

export interface DsseSignature {
    /** A hint only: verifiers try the key it names but never trust it as proof of anything. */
    keyid: string;
    /** Base64 (standard alphabet) of the DER ECDSA signature over sha256(PAE). */
    sig: string;
}

export interface DsseEnvelope {
    payloadType: string;
    /** Base64 (standard alphabet) of the payload bytes. */
    payload: string;
    signatures: DsseSignature[];
}

/** PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body. */
export function pae(payloadType: string, payload: Buffer): Buffer {
    return dsse.preAuthEncoding(payloadType, payload);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 (what DSSE specifies; Buffer.from would silently skip junk). */
export function decodeBase64(value: string, field: string): Buffer {
    if (typeof value !== "string" || !BASE64.test(value)) {
        throw new EnvelopeFormatError(`${field} is not standard base64`);
    }
    return Buffer.from(value, "base64");
}

export class EnvelopeFormatError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "EnvelopeFormatError";
    }
}

/** Checks the shape of a parsed envelope; throws EnvelopeFormatError naming the field. */
export function checkEnvelope(value: unknown, where = "envelope"): DsseEnvelope {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new EnvelopeFormatError(`${where} is not a JSON object`);
    }
    const env = value as Record<string, unknown>;
    if (typeof env.payloadType !== "string" || env.payloadType.length === 0) {
        throw new EnvelopeFormatError(`${where}.payloadType must be a non-empty string`);
    }
    decodeBase64(env.payload as string, `${where}.payload`);
    if (!Array.isArray(env.signatures) || env.signatures.length === 0) {
        throw new EnvelopeFormatError(`${where}.signatures must be a non-empty array`);
    }
    env.signatures.forEach((s: any, i: number) => {
        if (s === null || typeof s !== "object" || (s.keyid !== undefined && typeof s.keyid !== "string")) {
            throw new EnvelopeFormatError(`${where}.signatures[${i}] must be an object with an optional string keyid`);
        }
        decodeBase64(s.sig, `${where}.signatures[${i}].sig`);
    });
    return {
        payloadType: env.payloadType,
        payload: env.payload as string,
        signatures: env.signatures.map((s: any) => ({ keyid: s.keyid ?? "", sig: s.sig })),
    };
}

/**
 * Parses a file that holds one envelope as JSON, or one per line (`.intoto.jsonl`, the format
 * slsa-github-generator and this fleet's provenance bucket use).
 */
export function parseEnvelopes(text: string): DsseEnvelope[] {
    const trimmed = text.trim();
    if (trimmed.length === 0) {
        throw new EnvelopeFormatError("the envelope file is empty");
    }
    try {
        return [checkEnvelope(JSON.parse(trimmed))];
    } catch (err) {
        if (err instanceof EnvelopeFormatError) {
            throw err;
        }
    }
    const lines = trimmed.split(/\r?\n/).filter((l) => l.trim().length > 0);
    return lines.map((line, i) => {
        let parsed: unknown;
        try {
            parsed = JSON.parse(line);
        } catch {
            throw new EnvelopeFormatError(`line ${i + 1} of the envelope file is not JSON`);
        }
        return checkEnvelope(parsed, `line ${i + 1}`);
    });
}

/** True when `sig` (DER) verifies over sha256(PAE) under `key`. Never throws on a bad signature. */
export function verifySignature(payloadType: string, payload: Buffer, sig: Buffer, key: crypto.KeyObject): boolean {
    try {
        return crypto.verify("sha256", pae(payloadType, payload), { key, dsaEncoding: "der" }, sig);
    } catch {
        return false;
    }
}

/** One envelope line as stored in the provenance bucket (`.intoto.jsonl`). */
export function envelopeLine(envelope: DsseEnvelope): string {
    return `${JSON.stringify(envelope)}\n`;
}

/**
 * Object name of the envelope for one subject in the provenance bucket:
 * `sha256/<subject sha256>/<sha256 of the invocation id>.intoto.jsonl`. A verifier lists
 * `sha256/<artifact digest>/` to find every envelope of an artifact; one invocation can produce
 * one envelope per subject, never two.
 */
export function envelopeObjectName(subjectSha256: string, invocationId: string): string {
    const invocation = crypto.createHash("sha256").update(invocationId, "utf8").digest("hex");
    return `sha256/${subjectSha256}/${invocation}.intoto.jsonl`;
}
