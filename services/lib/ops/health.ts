/**
 * `GET /healthz` (liveness: the process serves, no dependency asked) and `GET /readyz` (readiness:
 * every dependency answered within its timeout, checked in parallel; 503 naming each failure, and
 * 503 `shutting-down` once a shutdown began).
 */
import type { FastifyInstance } from "fastify";
import { redact } from "./log";

/** One dependency check: resolves when the dependency answered; the signal aborts it at the timeout. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<unknown>;

export const READY_TIMEOUT_MS = 2000;

export interface HealthOptions {
    /** The dependencies /readyz asks, by name. */
    readiness: Record<string, ReadinessCheck>;
    /** Per check; default READY_TIMEOUT_MS. */
    timeoutMs?: number;
    /** True once a shutdown began: /readyz then answers 503. */
    shuttingDown(): boolean;
}

/** The outcome of one check: "ok", or why not (a timeout, or the error's message, first line only). */
async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
        timer = setTimeout(() => {
            controller.abort();
            resolve(`timeout after ${timeoutMs} ms`);
        }, timeoutMs);
    });
    try {
        return await Promise.race([
            check(controller.signal).then(
                () => "ok",
                (err: unknown) => `failed: ${String(redact(String((err as Error)?.message ?? err))).split("\n")[0].slice(0, 200)}`,
            ),
            timeout,
        ]);
    } finally {
        clearTimeout(timer);
    }
}

export function healthRoutes(app: FastifyInstance, opts: HealthOptions): void {
    const timeoutMs = opts.timeoutMs ?? READY_TIMEOUT_MS;
    app.get("/healthz", async () => ({ status: "ok" }));
    app.get("/readyz", async (_request, reply) => {
        if (opts.shuttingDown()) {
            return reply.code(503).send({ status: "shutting-down", checks: {} });
        }
        const names = Object.keys(opts.readiness);
        const outcomes = await Promise.all(names.map((n) => runCheck(opts.readiness[n], timeoutMs)));
        const checks = Object.fromEntries(names.map((n, i) => [n, outcomes[i]]));
        const ready = outcomes.every((o) => o === "ok");
        return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not-ready", checks });
    });
}
