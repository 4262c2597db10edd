/**
 * What every service does around each request: a request id of its own (returned in
 * `x-request-id`), the caller's trace, both on every log entry written while the request is handled;
 * one request line with Cloud Logging's `httpRequest`; the `http.requests` metric by route; and the
 * count of requests in flight, which the graceful shutdown waits on.
 */
import { randomUUID } from "crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { log, requestContext, traceFields } from "./log";
import { ServiceMetrics, statusClass } from "./metrics";

export type ServiceName = "broker" | "webhook" | "generator" | "signer";

/** Paths the probes poll: their successful answers are not logged. */
const PROBES = new Set(["/healthz", "/readyz"]);

export interface RequestTracking {
    /** Requests received and not yet answered. */
    inFlight(): number;
}

export function trackRequests(app: FastifyInstance, service: ServiceName, metrics: ServiceMetrics): RequestTracking {
    const started = new WeakMap<FastifyRequest, bigint>();
    let inFlight = 0;
    const finish = (request: FastifyRequest): bigint | undefined => {
        const start = started.get(request);
        if (start !== undefined) {
            started.delete(request);
            inFlight--;
        }
        return start;
    };
    app.addHook("onRequest", (request, reply, done) => {
        const ctx = { requestId: randomUUID(), trace: traceFields(request.headers) };
        started.set(request, process.hrtime.bigint());
        inFlight++;
        reply.header("x-request-id", ctx.requestId);
        // The rest of the request's hooks and its handler run inside this context.
        requestContext.run(ctx, done);
    });
    app.addHook("onRequestAbort", async (request) => {
        finish(request);
    });
    app.addHook("onResponse", async (request, reply) => {
        const start = finish(request);
        const status = reply.statusCode;
        const route = request.routeOptions.url ?? "unmatched";
        metrics.count("httpRequests", { service, route, status_class: statusClass(status) });
        const path = request.url.split("?")[0];
        if (PROBES.has(path) && status < 400) {
            return;
        }
        const seconds = start === undefined ? 0 : Number(process.hrtime.bigint() - start) / 1e9;
        const length = (v: unknown) => (v === undefined || Number.isNaN(Number(v)) ? undefined : String(Number(v)));
        log(status >= 500 ? "ERROR" : status >= 400 ? "WARNING" : "INFO", `${request.method} ${path} ${status}`, {
            service,
            httpRequest: {
                requestMethod: request.method,
                requestUrl: path,
                status,
                latency: `${seconds.toFixed(3)}s`,
                requestSize: length(request.headers["content-length"]),
                responseSize: length(reply.getHeader("content-length")),
                userAgent: request.headers["user-agent"],
                remoteIp: request.ip,
                protocol: `HTTP/${request.raw.httpVersion}`,
            },
        });
    });
    return { inFlight: () => inFlight };
}
