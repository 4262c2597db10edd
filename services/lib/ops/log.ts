/**
 * Structured logs in Cloud Logging's format, one JSON object per line, for every service: `severity`,
 * `message`, `time`, the request's trace (`logging.googleapis.com/trace`, `spanId`, `trace_sampled`)
 * and `requestId` on every entry written while a request is handled, and `httpRequest` on the
 * request line. Credentials never reach a line: fields named like one and strings shaped like one
 * are replaced by `[redacted]` before writing.
 */
import { AsyncLocalStorage } from "async_hooks";

export type Severity = "DEBUG" | "INFO" | "NOTICE" | "WARNING" | "ERROR";

/** What every entry written during one request carries. */
export interface RequestContext {
    requestId: string;
    /** `logging.googleapis.com/*` trace fields, when the caller sent a well-formed trace header. */
    trace: Record<string, string | boolean>;
}

/** The request being handled, for entries written anywhere below its handler. */
export const requestContext = new AsyncLocalStorage<RequestContext>();

type Sink = (line: string) => void;
let sink: Sink = (line) => process.stderr.write(`${line}\n`);

/** Replaces where lines go (tests capture them); returns the previous sink. */
export function setLogSink(next: Sink): Sink {
    const previous = sink;
    sink = next;
    return previous;
}

export const REDACTED = "[redacted]";

/** Field names whose value is a credential, whatever it looks like. */
const SECRET_KEY = /^(authorization|proxy-authorization|cookie|set-cookie|token|id_?token|access_?token|refresh_?token|jit_?config|encoded_?jit_?config|secret|webhook_?secret|password|private_?key|client_?secret|x-hub-signature(-256)?)$/i;
/** Strings shaped like a credential: a bearer token, a JWT, a GitHub token, a PEM private key. */
const SECRET_VALUE = [
    /\bBearer\s+[^\s"',]+/gi,
    /\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g,
    /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
    /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
    /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
];

/** A copy of `value` with credentials replaced; depth-bounded, cycles cut. */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
    if (typeof value === "string") {
        return SECRET_VALUE.reduce((s, re) => s.replace(re, REDACTED), value);
    }
    if (value === null || typeof value !== "object") {
        return value;
    }
    if (depth > 8 || seen.has(value)) {
        return "[elided]";
    }
    seen.add(value);
    if (value instanceof Error) {
        return redact(value.message, depth + 1, seen);
    }
    if (Array.isArray(value)) {
        return value.map((v) => redact(v, depth + 1, seen));
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1, seen)]));
}

/** Writes one entry: severity and message first, then the request's context, then `fields`. */
export function log(severity: Severity, message: string, fields: Record<string, unknown> = {}): void {
    const ctx = requestContext.getStore();
    const entry = {
        severity,
        message,
        time: new Date().toISOString(),
        ...(ctx !== undefined ? { requestId: ctx.requestId, ...ctx.trace } : {}),
        ...fields,
    };
    sink(JSON.stringify(redact(entry)));
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const CLOUD_TRACE = /^([0-9a-f]{32})(?:\/(\d{1,20}))?(?:;o=([01]))?$/;

/**
 * Cloud Logging's trace fields from W3C `traceparent` (first) or `X-Cloud-Trace-Context`. A header
 * that is not exactly well formed is ignored: it is caller input and must not shape the log.
 */
export function traceFields(headers: Record<string, string | string[] | undefined>, project = process.env.GOOGLE_CLOUD_PROJECT): Record<string, string | boolean> {
    const one = (name: string) => {
        const v = headers[name];
        return typeof v === "string" ? v.trim().toLowerCase() : undefined;
    };
    let traceId: string | undefined;
    let spanId: string | undefined;
    let sampled: boolean | undefined;
    const w3c = TRACEPARENT.exec(one("traceparent") ?? "");
    if (w3c !== null && !/^0+$/.test(w3c[1]) && !/^0+$/.test(w3c[2])) {
        [traceId, spanId, sampled] = [w3c[1], w3c[2], (parseInt(w3c[3], 16) & 1) === 1];
    } else {
        const gcp = CLOUD_TRACE.exec(one("x-cloud-trace-context") ?? "");
        if (gcp !== null && !/^0+$/.test(gcp[1])) {
            traceId = gcp[1];
            // Cloud Trace's span id is decimal; Cloud Logging wants 16 hex digits.
            spanId = gcp[2] !== undefined ? BigInt(gcp[2]).toString(16).padStart(16, "0").slice(-16) : undefined;
            sampled = gcp[3] !== undefined ? gcp[3] === "1" : undefined;
        }
    }
    if (traceId === undefined) {
        return {};
    }
    const validProject = project !== undefined && /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(project);
    return {
        "logging.googleapis.com/trace": validProject ? `projects/${project}/traces/${traceId}` : traceId,
        ...(spanId !== undefined ? { "logging.googleapis.com/spanId": spanId } : {}),
        ...(sampled !== undefined ? { "logging.googleapis.com/trace_sampled": sampled } : {}),
    };
}
