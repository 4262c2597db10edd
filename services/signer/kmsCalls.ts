/**
 * Cloud KMS as the signer calls it: each call bounded (5 s an attempt, at most 3 attempts, backoff
 * with full jitter from 100 ms to 1 s), retried only on the gRPC statuses Cloud KMS calls transient,
 * and every failed attempt counted in `hardened_build_fleet.kms.errors` by method and status. The
 * library's own retries are switched off for these calls, so attempts do not multiply.
 */
import type { ServiceMetrics } from "../lib/ops/metrics";
import { GRPC_NAMES, retryableGrpc, RetryPolicy, withRetry } from "../lib/ops/retry";
import type { KmsClientLike } from "./signingKey";

export const KMS_RETRY: RetryPolicy = { attempts: 3, timeoutMs: 5000, baseMs: 100, capMs: 1000 };

/** The gRPC status name of a failure, `TIMEOUT` for an attempt that did not answer, else `UNKNOWN`. */
function statusName(err: unknown): string {
    const code = (err as { code?: unknown })?.code;
    if (typeof code === "number") {
        return GRPC_NAMES[code] ?? "UNKNOWN";
    }
    return code === "ETIMEDOUT" ? "TIMEOUT" : "UNKNOWN";
}

export interface ResilientKmsOptions {
    metrics?: ServiceMetrics;
    policy?: RetryPolicy;
    sleep?: (ms: number) => Promise<void>;
}

export function resilientKms(client: KmsClientLike, opts: ResilientKmsOptions = {}): KmsClientLike {
    const policy = opts.policy ?? KMS_RETRY;
    const call = <T>(method: "asymmetricSign" | "getPublicKey", fn: () => Promise<T>): Promise<T> =>
        withRetry({ dependency: "kms", policy, retryable: retryableGrpc, metrics: opts.metrics, sleep: opts.sleep }, () =>
            fn().catch((err: unknown) => {
                opts.metrics?.count("kmsErrors", { method, code: statusName(err) });
                throw err;
            }));
    const options = { timeout: policy.timeoutMs, maxRetries: 0 };
    return {
        asymmetricSign: (request) => call("asymmetricSign", () => client.asymmetricSign(request, options)),
        getPublicKey: (request) => call("getPublicKey", () => client.getPublicKey(request, options)),
    };
}
