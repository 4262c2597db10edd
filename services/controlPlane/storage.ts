/** Opens a GCS bucket as an ObjectStore (the cloud side of services/lib/objectStore), and runs a service on Cloud Run. */
import type { FastifyInstance } from "fastify";
import { GcsStore, ObjectStore } from "../lib/objectStore";
import { log } from "../lib/ops/log";
import { operationsOf } from "../lib/ops/operations";
import { graceFromEnv, onSigterm, Periodic } from "../lib/ops/shutdown";

/**
 * Cloud Storage's own retries, set explicitly: at most 4 attempts with exponential backoff and
 * jitter (1 s, × 2, at most 8 s between attempts, 30 s in all), on 408, 429, 5xx and network errors;
 * create-only writes too, since their precondition makes a repeat answer "exists". 10 s an attempt.
 */
export const STORAGE_RETRY = { autoRetry: true, maxRetries: 3, retryDelayMultiplier: 2, maxRetryDelay: 8, totalTimeout: 30 } as const;
export const STORAGE_TIMEOUT_MS = 10_000;

/** `options.apiEndpoint`: a local stand-in (tests); the cloud uses the default endpoint. */
export function gcsBucket(name: string, options: { apiEndpoint?: string } = {}): ObjectStore {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Storage, IdempotencyStrategy } = require("@google-cloud/storage");
    const storage = new Storage({
        retryOptions: { ...STORAGE_RETRY, idempotencyStrategy: IdempotencyStrategy.RetryConditional },
        timeout: STORAGE_TIMEOUT_MS,
        ...(options.apiEndpoint !== undefined ? { apiEndpoint: options.apiEndpoint, projectId: "local" } : {}),
    });
    return new GcsStore(storage.bucket(name));
}

/** Listens on all interfaces (Cloud Run) and shuts down gracefully on SIGTERM (services/lib/ops/shutdown.ts). */
export async function serve(app: FastifyInstance, port: number, name: string, env: NodeJS.ProcessEnv, flush: () => Promise<void>, periodic: Periodic[] = []): Promise<void> {
    const ops = operationsOf(app);
    onSigterm(app, { service: name, inFlight: ops.inFlight, begin: ops.begin, periodic, flush, graceMs: graceFromEnv(env) });
    await app.listen({ host: "0.0.0.0", port });
    log("INFO", `${name} listening on :${port}`, { service: name });
}

/** Runs `fn` every `seconds`, one pass at a time, logging (not throwing) its failures; `stop` waits for a running pass. */
export function every(seconds: number, name: string, fn: () => Promise<unknown>): Periodic {
    let running: Promise<unknown> | undefined;
    const timer = setInterval(() => {
        if (running !== undefined) {
            return;
        }
        running = fn()
            .catch((err) => log("ERROR", `${name} failed`, { error: String(err?.message ?? err) }))
            .finally(() => (running = undefined));
    }, seconds * 1000);
    return {
        stop: async () => {
            clearInterval(timer);
            await running;
        },
    };
}
