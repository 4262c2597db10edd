/**
 * Bounded retries with exponential backoff and full jitter for the outbound calls the client
 * libraries do not retry themselves (the signer, the timestamp authority, Cloud KMS as the signer
 * calls it). Each attempt has its own timeout; only failures `retryable` names are retried, and
 * each retry is counted in `hardened_build_fleet.outbound.retries`.
 */
import type { ServiceMetrics } from "./metrics";

export interface RetryPolicy {
    /** Attempts in all, the first included. */
    attempts: number;
    /** Per attempt; the attempt's signal aborts then. */
    timeoutMs: number;
    baseMs: number;
    capMs: number;
}

/** Why a failure is worth another attempt (a short code for the metric), or undefined when it is not. */
export type Retryable = (err: unknown) => string | undefined;

export interface RetryOptions {
    dependency: "kms" | "storage" | "signer" | "tsa" | "github" | "compute";
    policy: RetryPolicy;
    retryable: Retryable;
    metrics?: ServiceMetrics;
    /** Injected by tests: the wait before attempt n (1-based retries). Default: full jitter. */
    sleep?: (ms: number) => Promise<void>;
    random?: () => number;
}

export class AttemptTimeoutError extends Error {
    readonly code = "ETIMEDOUT";
    constructor(dependency: string, ms: number) {
        super(`${dependency}: no answer within ${ms} ms`);
        this.name = "AttemptTimeoutError";
    }
}

/** The wait before retry `n` (1-based): a random time in [0, min(cap, base × 2^(n-1))). */
export function backoffMs(policy: RetryPolicy, n: number, random: () => number = Math.random): number {
    return Math.floor(random() * Math.min(policy.capMs, policy.baseMs * 2 ** (n - 1)));
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `fn` with an attempt signal, retrying as the options say; the last failure is thrown. */
export async function withRetry<T>(opts: RetryOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
        const controller = new AbortController();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
                const err = new AttemptTimeoutError(opts.dependency, opts.policy.timeoutMs);
                controller.abort(err);
                reject(err);
            }, opts.policy.timeoutMs);
        });
        try {
            return await Promise.race([fn(controller.signal), timeout]);
        } catch (err) {
            const reason = opts.retryable(err);
            if (reason === undefined || attempt >= opts.policy.attempts) {
                throw err;
            }
            opts.metrics?.count("outboundRetries", { dependency: opts.dependency, reason });
            await (opts.sleep ?? sleepFor)(backoffMs(opts.policy, attempt, opts.random));
        } finally {
            clearTimeout(timer);
        }
    }
}

const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/** A network failure or an attempt timeout, as fetch or a socket reports it; its code, else undefined. */
export function networkFailure(err: unknown): string | undefined {
    if (err instanceof AttemptTimeoutError) {
        return "timeout";
    }
    const e = err as { code?: unknown; cause?: { code?: unknown }; name?: unknown };
    const code = typeof e?.code === "string" ? e.code : typeof e?.cause?.code === "string" ? e.cause.code : undefined;
    if (code !== undefined && NETWORK_CODES.has(code)) {
        return code;
    }
    // fetch rejects with a TypeError("fetch failed") whose cause is the socket error.
    if (err instanceof TypeError && e.cause !== undefined) {
        return "network";
    }
    return undefined;
}

/** HTTP statuses worth another attempt: the server or a proxy was momentarily unable. */
export const RETRYABLE_HTTP = new Set([408, 429, 502, 503, 504]);

/** An error that carries an HTTP status (`status`), retryable per RETRYABLE_HTTP, or a network failure. */
export function retryableHttp(err: unknown): string | undefined {
    const e = err as { status?: unknown; response?: { status?: unknown } };
    // fetch-style errors carry `status`; gaxios's (google-auth-library) `response.status`.
    const status = e?.status ?? e?.response?.status;
    if (typeof status === "number") {
        return RETRYABLE_HTTP.has(status) ? String(status) : undefined;
    }
    return networkFailure(err);
}

/** gRPC statuses of a Google API worth another attempt (Cloud KMS's retry guidance). */
const RETRYABLE_GRPC: Record<number, string> = { 4: "DEADLINE_EXCEEDED", 8: "RESOURCE_EXHAUSTED", 13: "INTERNAL", 14: "UNAVAILABLE" };

export const GRPC_NAMES: Record<number, string> = {
    1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND", 6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION", 10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE",
    15: "DATA_LOSS", 16: "UNAUTHENTICATED",
};

export function retryableGrpc(err: unknown): string | undefined {
    const code = (err as { code?: unknown })?.code;
    return typeof code === "number" ? RETRYABLE_GRPC[code] : networkFailure(err);
}
