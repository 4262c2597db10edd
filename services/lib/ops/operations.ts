/**
 * One call gives a service its operational surface: request ids, trace and request lines in the
 * log, the http.requests metric, `/healthz` and `/readyz`, and the state the graceful shutdown uses.
 */
import type { FastifyInstance } from "fastify";
import { healthRoutes, ReadinessCheck } from "./health";
import { ServiceMetrics } from "./metrics";
import { ServiceName, trackRequests } from "./requests";

export interface OperationsOptions {
    service: ServiceName;
    /** Default: instruments of the global meter (OpenTelemetry's no-op unless installMetrics ran). */
    metrics?: ServiceMetrics;
    /** The dependencies /readyz asks, by name. */
    readiness: Record<string, ReadinessCheck>;
    /** Per readiness check; default 2 s. */
    readyTimeoutMs?: number;
}

export interface Operations {
    readonly service: ServiceName;
    readonly metrics: ServiceMetrics;
    inFlight(): number;
    shuttingDown(): boolean;
    /** From now on /readyz answers 503 shutting-down. */
    begin(): void;
}

const registry = new WeakMap<FastifyInstance, Operations>();

export function operate(app: FastifyInstance, opts: OperationsOptions): Operations {
    const metrics = opts.metrics ?? new ServiceMetrics();
    let down = false;
    const tracking = trackRequests(app, opts.service, metrics);
    healthRoutes(app, { readiness: opts.readiness, timeoutMs: opts.readyTimeoutMs, shuttingDown: () => down });
    // Once shutting down, each answer closes its connection: a kept-alive client cannot hold the server open.
    app.addHook("onSend", async (_request, reply, payload) => {
        if (down) {
            reply.header("connection", "close");
        }
        return payload;
    });
    const ops: Operations = {
        service: opts.service,
        metrics,
        inFlight: tracking.inFlight,
        shuttingDown: () => down,
        begin: () => {
            down = true;
        },
    };
    registry.set(app, ops);
    return ops;
}

/** The operations of an app built by a service (its entry point wires the shutdown with them). */
export function operationsOf(app: FastifyInstance): Operations {
    const ops = registry.get(app);
    if (ops === undefined) {
        throw new Error("this app was not given its operations (operate(app, ...))");
    }
    return ops;
}
