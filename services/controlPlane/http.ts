/**
 * What every control-plane service shares at its HTTP edge: one JSON error shape
 * (`{ error: { code, message } }`), an audit log of refusals, and a fastify instance that answers
 * malformed requests with a 4xx JSON error and never echoes a request body or a token.
 */
import Fastify, { FastifyInstance, FastifyReply } from "fastify";
import { MAX_JSON_DEPTH, tooDeep } from "../lib/jsonDepth";

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

/** The default audit log: one JSON line on stderr (Cloud Logging parses it as a structured entry). */
export const stderrAudit: AuditLog = (entry) => {
    process.stderr.write(`${JSON.stringify({ severity: entry.outcome === "refused" ? "WARNING" : "INFO", ...entry })}\n`);
};

export function sendError(reply: FastifyReply, err: HttpError): FastifyReply {
    return reply.code(err.status).type("application/json").send({ error: { code: err.code, message: err.message } });
}

export interface ServiceAppOptions {
    /** Largest request body accepted, bytes. */
    bodyLimit: number;
}

/**
 * A fastify app with the shared error handling: HttpError -> its status; fastify's own parse and
 * size errors -> 400/413/415 JSON; anything else -> 500 with a generic message (details go to the log).
 */
export function serviceApp(opts: ServiceAppOptions): FastifyInstance {
    const app = Fastify({ logger: false, bodyLimit: opts.bodyLimit, return503OnClosing: true });
    app.setErrorHandler((err: any, _request, reply) => {
        if (err instanceof HttpError) {
            return sendError(reply, err);
        }
        const status = typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
        if (status === 500) {
            process.stderr.write(`${JSON.stringify({ severity: "ERROR", message: "internal error", error: String(err?.stack ?? err) })}\n`);
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
