/**
 * What every control-plane service shares at its HTTP edge: one JSON error shape
 * (`{ error: { code, message } }`), an audit log of refusals, and a fastify instance that answers
 * malformed requests with a 4xx JSON error and never echoes a request body or a token.
 */
import Fastify, { FastifyInstance, FastifyReply } from "fastify";
import { MAX_JSON_DEPTH, tooDeep } from "../lib/jsonDepth";
import type { ReadinessCheck } from "../lib/ops/health";
import { log } from "../lib/ops/log";
import type { ServiceMetrics } from "../lib/ops/metrics";
import { operate } from "../lib/ops/operations";
import type { GithubClient } from "./github";

/** A refusal or failure with an HTTP status and a stable machine-readable code. */
export class HttpError extends Error {
    constructor(
        readonly status: number,
        readonly code: string,
        message: string,
    ) {
        super(message);
        this.name = "HttpError";
    }
}

/** One audit record: every refusal (and every grant) a service decides is logged through this. */
export interface AuditEntry {
    service: "broker" | "webhook" | "generator";
    event: string;
    outcome: "granted" | "refused" | "ignored" | "done" | "deferred";
    reason?: string;
    [key: string]: unknown;
}

export type AuditLog = (entry: AuditEntry) => void;

/** The default audit log: one structured entry (Cloud Logging's format, with the request's id and trace). */
export const stderrAudit: AuditLog = (entry) => {
    log(entry.outcome === "refused" ? "WARNING" : "INFO", `${entry.service} ${entry.event}: ${entry.outcome}${entry.reason !== undefined ? ` (${entry.reason})` : ""}`, entry);
};

/** The audit log that also counts every refusal in `hardened_build_fleet.refusals`, by service and reason. */
export function countedAudit(audit: AuditLog, metrics: ServiceMetrics): AuditLog {
    return (entry) => {
        if (entry.outcome === "refused") {
            metrics.count("refusals", { service: entry.service, reason: entry.reason ?? "unspecified" });
        }
        audit(entry);
    };
}

/** The GitHub readiness check, when the client can make one. */
export function githubReadiness(github: GithubClient): Record<string, ReadinessCheck> {
    return github.ping !== undefined ? { github: (signal) => github.ping!(signal) } : {};
}

/** Sets the GitHub rate-limit gauges from what the client last heard. */
export function recordGithubBudget(github: GithubClient, metrics: ServiceMetrics, service: "broker" | "webhook"): void {
    const budget = github.rateLimit?.();
    if (budget === undefined) {
        return;
    }
    metrics.set("githubHeadroom", budget.headroom, { service });
    if (budget.remaining !== undefined) {
        metrics.set("githubRemaining", budget.remaining, { service });
    }
}

export function sendError(reply: FastifyReply, err: HttpError): FastifyReply {
    return reply.code(err.status).type("application/json").send({ error: { code: err.code, message: err.message } });
}

export interface ServiceAppOptions {
    /** Largest request body accepted, bytes. */
    bodyLimit: number;
    service: AuditEntry["service"];
    /** Where its metrics go; default the global meter's instruments. */
    metrics?: ServiceMetrics;
    /** The dependencies its /readyz asks. */
    readiness: Record<string, ReadinessCheck>;
}

/**
 * A fastify app with the shared error handling: HttpError -> its status; fastify's own parse and
 * size errors -> 400/413/415 JSON; anything else -> 500 with a generic message (details go to the log).
 */
export function serviceApp(opts: ServiceAppOptions): FastifyInstance {
    const app = Fastify({ logger: false, bodyLimit: opts.bodyLimit, return503OnClosing: true });
    operate(app, { service: opts.service, metrics: opts.metrics, readiness: opts.readiness });
    app.setErrorHandler((err: any, _request, reply) => {
        if (err instanceof HttpError) {
            return sendError(reply, err);
        }
        const status = typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
        if (status === 500) {
            log("ERROR", "internal error", { service: opts.service, error: String(err?.stack ?? err) });
            return sendError(reply, new HttpError(500, "internal", "internal error; see the service log"));
        }
        if (err instanceof SyntaxError || err.code === "FST_ERR_CTP_INVALID_JSON_BODY" || err.code === "FST_ERR_CTP_EMPTY_JSON_BODY") {
            // The parser's message quotes the body: never echo it.
            return sendError(reply, new HttpError(400, "bad-request", "the body is not valid JSON"));
        }
        const code = status === 413 ? "body-too-large" : status === 415 ? "unsupported-media-type" : "bad-request";
        return sendError(reply, new HttpError(status, code, String(err.message ?? "bad request")));
    });
    // JSON bodies: fastify's parser (prototype poisoning refused), then a depth limit.
    const json = app.getDefaultJsonParser("error", "error");
    app.removeContentTypeParser("application/json");
    app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
        json(request, body as string, (err: Error | null, value?: unknown) => {
            if (err !== null) {
                return done(err, undefined);
            }
            if (tooDeep(value)) {
                return done(new HttpError(400, "too-deep", `the body nests more than ${MAX_JSON_DEPTH} levels deep`), undefined);
            }
            return done(null, value);
        });
    });
    app.setNotFoundHandler((request, reply) => sendError(reply, new HttpError(404, "not-found", `no route ${request.method} ${request.url.split("?")[0]}`)));
    return app;
}

/** A Google-style clock: injected so tests can move time. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
