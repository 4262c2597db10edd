/**
 * The signer's client for the enclave's timestamp authority when it runs behind Cloud Run IAM: the
 * same request @sigstore/sign's TSAWitness sends (timestamp-authority's `POST /api/v1/timestamp`, JSON
 * with the SHA-256 of the signature), plus the signer's Google ID token, which TSAWitness cannot
 * attach. The bundle is still assembled by @sigstore/sign's DSSEBundleBuilder from what this returns.
 */
import { createHash } from "crypto";
import type { SignatureBundle, VerificationMaterial, Witness } from "@sigstore/sign";
import type { ServiceMetrics } from "../lib/ops/metrics";
import { RETRYABLE_HTTP, retryableHttp, RetryPolicy, withRetry } from "../lib/ops/retry";

/** 10 s an attempt, 3 attempts, 250 ms to 2 s apart: a timestamp request is safe to repeat. */
export const TSA_RETRY: RetryPolicy = { attempts: 3, timeoutMs: 10_000, baseMs: 250, capMs: 2000 };

class TsaHttpError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
        this.name = "TsaHttpError";
    }
}

/** Mints an ID token for `audience` as this service's identity. */
export type IdTokenSource = (audience: string) => Promise<string>;

export interface IdentityTsaOptions {
    /** The TSA's base URL (also the ID token audience: a Cloud Run service's own URL). */
    url: string;
    idToken: IdTokenSource;
    /** Per attempt; default 10 s. */
    timeoutMs?: number;
    fetch?: typeof fetch;
    /** Default TSA_RETRY (with timeoutMs when given). */
    retry?: RetryPolicy;
    metrics?: ServiceMetrics;
    /** Tests: the wait between attempts. */
    sleep?: (ms: number) => Promise<void>;
}

async function call(opts: IdentityTsaOptions, path: string, init: RequestInit): Promise<Buffer> {
    const token = await opts.idToken(opts.url);
    const policy = { ...(opts.retry ?? TSA_RETRY), ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}) };
    return withRetry({ dependency: "tsa", policy, retryable: retryableHttp, metrics: opts.metrics, sleep: opts.sleep }, async (signal) => {
        const res = await (opts.fetch ?? fetch)(`${opts.url}${path}`, {
            ...init,
            headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
            signal,
        });
        const body = Buffer.from(await res.arrayBuffer());
        if (res.status !== 200 && res.status !== 201) {
            const message = `the timestamp authority answered ${res.status} to ${path}: ${body.toString("utf8").slice(0, 200)}`;
            throw RETRYABLE_HTTP.has(res.status) ? new TsaHttpError(res.status, message) : new Error(message);
        }
        return body;
    });
}

export class IdentityTsaWitness implements Witness {
    constructor(private readonly opts: IdentityTsaOptions) {}

    async testify(content: SignatureBundle): Promise<VerificationMaterial> {
        const signature = content.$case === "dsseEnvelope" ? content.dsseEnvelope.signatures[0].sig : content.messageSignature.signature;
        const request = { artifactHash: createHash("sha256").update(signature).digest("base64"), hashAlgorithm: "sha256" };
        const signedTimestamp = await call(this.opts, "/api/v1/timestamp", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) });
        return { rfc3161Timestamps: [{ signedTimestamp }] };
    }
}

/** The TSA's certificate chain (PEM), as timestamp-authority serves it. */
export async function fetchTsaCertChain(opts: IdentityTsaOptions): Promise<string> {
    return (await call(opts, "/api/v1/timestamp/certchain", { method: "GET" })).toString("utf8");
}
