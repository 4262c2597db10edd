/**
 * The generator's client for the signer service: `POST /v1/sign` with the in-toto Statement, as the
 * generator's own identity (a Google ID token whose audience is the signer's URL), asking for the
 * Sigstore bundle. It speaks HTTP only; the signer validates the statement, signs, timestamps, and
 * stores the envelope and the bundle create-only itself.
 */
import { BUNDLE_V03_MEDIA_TYPE, type SerializedBundle } from "@sigstore/bundle";
import { checkEnvelope, DsseEnvelope } from "../lib/dsse";
import type { ServiceMetrics } from "../lib/ops/metrics";
import { RETRYABLE_HTTP, retryableHttp, RetryPolicy, withRetry } from "../lib/ops/retry";

/** 30 s an attempt (KMS, the timestamp authority and storage are behind it), 3 attempts, 250 ms to 2 s apart. */
export const SIGNER_RETRY: RetryPolicy = { attempts: 3, timeoutMs: 30_000, baseMs: 250, capMs: 2000 };

/** The media type of a Sigstore bundle v0.3, which the client asks the signer for. */
const BUNDLE_MEDIA_TYPE = BUNDLE_V03_MEDIA_TYPE;

/** A signed statement: the DSSE envelope and the Sigstore bundle (timestamp, log entry) around it. */
export type SignOutcome = { status: "signed"; envelope: DsseEnvelope; bundle: SerializedBundle } | { status: "exists" };

export class SignerError extends Error {
    constructor(
        readonly status: number,
        readonly code: string,
        message: string,
    ) {
        super(message);
        this.name = "SignerError";
    }
}

/** Mints an ID token for `audience` as this service's identity. */
export type IdTokenSource = (audience: string) => Promise<string>;

export interface SignerClientOptions {
    /** The signer service's URL. */
    url: string;
    /** The ID token audience the signer expects. Default: `url` (a Cloud Run service's own URL). */
    audience?: string;
    idToken: IdTokenSource;
    fetch?: typeof fetch;
    /** Default SIGNER_RETRY. A repeated sign request is safe: the signer answers it from what it stored. */
    retry?: RetryPolicy;
    metrics?: ServiceMetrics;
    /** Tests: the wait between attempts. */
    sleep?: (ms: number) => Promise<void>;
}

export class SignerClient {
    constructor(private readonly opts: SignerClientOptions) {}

    /**
     * Readiness: the signer's keyring (`GET /v1/keys`, cached by the signer), as the generator's identity
     * (Cloud Run IAM lets only it in). Not `/healthz`: Cloud Run's front end reserves paths ending in z.
     */
    async ping(signal?: AbortSignal): Promise<void> {
        const token = await this.opts.idToken(this.opts.audience ?? this.opts.url);
        const res = await (this.opts.fetch ?? fetch)(`${this.opts.url}/v1/keys`, { headers: { authorization: `Bearer ${token}` }, signal });
        await res.arrayBuffer();
        if (res.status !== 200) {
            throw new Error(`the signer answered ${res.status} to GET /v1/keys`);
        }
    }

    async sign(statement: unknown): Promise<SignOutcome> {
        const token = await this.opts.idToken(this.opts.audience ?? this.opts.url);
        const body = JSON.stringify(statement);
        const retry = { dependency: "signer" as const, policy: this.opts.retry ?? SIGNER_RETRY, retryable: retryableHttp, metrics: this.opts.metrics, sleep: this.opts.sleep };
        const { res, text } = await withRetry(retry, async (signal) => {
            const res = await (this.opts.fetch ?? fetch)(`${this.opts.url}/v1/sign`, {
                method: "POST",
                headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: BUNDLE_MEDIA_TYPE },
                body,
                signal,
            });
            const text = await res.text();
            if (RETRYABLE_HTTP.has(res.status)) {
                throw new SignerError(res.status, "signer-unavailable", `the signer answered ${res.status}: ${text.slice(0, 200)}`);
            }
            return { res, text };
        });
        let answer: any;
        try {
            answer = text === "" ? undefined : JSON.parse(text);
        } catch {
            answer = undefined;
        }
        if (res.status === 409) {
            return { status: "exists" };
        }
        if (res.status === 200 || res.status === 201) {
            try {
                if (answer?.mediaType !== BUNDLE_MEDIA_TYPE) {
                    throw new Error("not a bundle");
                }
                return { status: "signed", envelope: checkEnvelope(answer.dsseEnvelope), bundle: answer as SerializedBundle };
            } catch {
                throw new SignerError(502, "bad-signer-response", `the signer answered without a Sigstore bundle (${BUNDLE_MEDIA_TYPE}) holding a DSSE envelope`);
            }
        }
        throw new SignerError(res.status, answer?.error?.code ?? "signer-error", `signer refused (${res.status}): ${answer?.error?.message ?? text.slice(0, 200)}`);
    }
}

/** The cloud token source: google-auth-library's ID token client for the service's own identity. */
export function googleIdTokenSource(): IdTokenSource {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { GoogleAuth } = require("google-auth-library");
    const auth = new GoogleAuth();
    return async (audience) => {
        const client = await auth.getIdTokenClient(audience);
        return client.idTokenProvider.fetchIdToken(audience);
    };
}
