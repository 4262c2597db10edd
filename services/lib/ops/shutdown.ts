/**
 * Graceful shutdown on SIGTERM (Cloud Run sends SIGKILL 10 s later): /readyz turns 503, the periodic
 * passes stop (one already running finishes), the server stops accepting and answers 503 on kept-alive
 * connections, in-flight requests finish within the grace period, what is left is cut off, the last
 * metrics are exported, and the outcome is logged.
 */
import type { FastifyInstance } from "fastify";
import { log } from "./log";

export const DEFAULT_GRACE_MS = 8000;

/** A periodic pass that can be stopped: resolves once a pass already running has finished. */
export interface Periodic {
    stop(): Promise<void>;
}

export interface ShutdownOptions {
    service: string;
    /** Requests received and not yet answered. */
    inFlight(): number;
    /** Marks the service as shutting down (/readyz 503). */
    begin(): void;
    periodic?: Periodic[];
    /** Runs last, bounded too (the metrics' final export). */
    flush?: () => Promise<void>;
    /** Default DEFAULT_GRACE_MS, or SHUTDOWN_GRACE_SECONDS when the entry point reads it. */
    graceMs?: number;
}

export interface ShutdownOutcome {
    /** Requests in flight at SIGTERM that were answered. */
    finished: number;
    /** Requests still in flight at the end of the grace period, whose connections were closed. */
    cutOff: number;
}

/** Resolves with `value` after `ms`, or when `promise` settles, whichever is first; `ms` never keeps the process alive. */
function bounded<T>(promise: Promise<T>, ms: number, value: T): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<T>((resolve) => {
        timer = setTimeout(() => resolve(value), Math.max(0, ms));
        timer.unref();
    });
    return Promise.race([promise.catch(() => value), timeout]).finally(() => clearTimeout(timer));
}

export async function shutdown(app: FastifyInstance, opts: ShutdownOptions): Promise<ShutdownOutcome> {
    const deadline = Date.now() + (opts.graceMs ?? DEFAULT_GRACE_MS);
    const atStart = opts.inFlight();
    opts.begin();
    log("INFO", `${opts.service} shutting down`, { service: opts.service, inFlight: atStart, graceMs: opts.graceMs ?? DEFAULT_GRACE_MS });
    await bounded(Promise.all((opts.periodic ?? []).map((p) => p.stop())), deadline - Date.now(), []);
    const closed = app.close();
    // A connection that went idle after its last answer is closed at once, not at the deadline.
    const idle = setInterval(() => app.server.closeIdleConnections(), 50);
    const inTime = await bounded(closed.then(() => true), deadline - Date.now(), false).finally(() => clearInterval(idle));
    let cutOff = 0;
    if (!inTime) {
        cutOff = opts.inFlight();
        app.server.closeAllConnections();
        await bounded(closed, 1000, undefined);
    }
    if (opts.flush !== undefined) {
        await bounded(opts.flush(), 1500, undefined);
    }
    const outcome = { finished: Math.max(0, atStart - cutOff), cutOff };
    log(cutOff > 0 ? "WARNING" : "INFO", `${opts.service} stopped`, { service: opts.service, ...outcome });
    return outcome;
}

/** Installs the SIGTERM handler: shutdown, then exit 0. */
export function onSigterm(app: FastifyInstance, opts: ShutdownOptions, exit: (code: number) => void = (code) => process.exit(code)): void {
    process.once("SIGTERM", () => {
        void shutdown(app, opts).then(() => exit(0), () => exit(1));
    });
}

/** SHUTDOWN_GRACE_SECONDS, checked: a number of seconds in (0, 9], since Cloud Run kills at 10 s. */
export function graceFromEnv(env: NodeJS.ProcessEnv): number {
    const raw = env.SHUTDOWN_GRACE_SECONDS;
    if (raw === undefined || raw === "") {
        return DEFAULT_GRACE_MS;
    }
    const seconds = Number(raw);
    if (!(Number.isFinite(seconds) && seconds > 0 && seconds <= 9)) {
        throw new Error(`SHUTDOWN_GRACE_SECONDS: ${JSON.stringify(raw)} is not a number of seconds in (0, 9]; Cloud Run kills the container 10 s after SIGTERM, so set it to at most 9, or unset it for 8`);
    }
    return seconds * 1000;
}
