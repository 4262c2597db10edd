/** The log format: Cloud Logging's trace fields from the caller's headers, and credentials redacted wherever they sit. */
import * as assert from "assert";
import { log, REDACTED, redact, requestContext, setLogSink, traceFields } from "../../../../services/lib/ops/log";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

describe("ops log: trace context", () => {
    it("takes the trace, span and sampled flag from traceparent, with the project's trace name", () => {
        assert.deepStrictEqual(traceFields({ traceparent: `00-${TRACE}-00f067aa0ba902b7-01` }, "my-project-1"), {
            "logging.googleapis.com/trace": `projects/my-project-1/traces/${TRACE}`,
            "logging.googleapis.com/spanId": "00f067aa0ba902b7",
            "logging.googleapis.com/trace_sampled": true,
        });
    });

    it("falls back to X-Cloud-Trace-Context (decimal span id to 16 hex digits), and to the bare id without a project", () => {
        assert.deepStrictEqual(traceFields({ "x-cloud-trace-context": `${TRACE}/1;o=0` }, undefined), {
            "logging.googleapis.com/trace": TRACE,
            "logging.googleapis.com/spanId": "0000000000000001",
            "logging.googleapis.com/trace_sampled": false,
        });
    });

    it("ignores a header that is not exactly well formed: caller input never shapes the log", () => {
        for (const traceparent of [`00-${TRACE}-00f067aa0ba902b7`, `00-${"0".repeat(32)}-00f067aa0ba902b7-01`, `00-${TRACE}"injected-00f067aa0ba902b7-01`, "x".repeat(5000)]) {
            assert.deepStrictEqual(traceFields({ traceparent }, "my-project-1"), {}, traceparent);
        }
        assert.deepStrictEqual(traceFields({ "x-cloud-trace-context": `${TRACE}/1;o=1\n{"severity":"ERROR"}` }, "my-project-1"), {});
    });
});

describe("ops log: redaction", () => {
    it("replaces fields named like a credential and strings shaped like one, at any depth", () => {
        const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        const out = redact({
            authorization: "anything",
            jitConfig: "base64stuff",
            nested: { list: [`Bearer ${jwt}`, "ghs_abcdefghijklmnopqrstuvwxyz0123"], note: `token was ${jwt} here` },
            pool: "pool-a",
        });
        assert.deepStrictEqual(out, {
            authorization: REDACTED,
            jitConfig: REDACTED,
            nested: { list: [REDACTED, REDACTED], note: `token was ${REDACTED} here` },
            pool: "pool-a",
        });
    });

    it("writes one JSON line with severity, message and the request's id and trace", () => {
        const lines: string[] = [];
        const previous = setLogSink((l) => lines.push(l));
        try {
            requestContext.run({ requestId: "r-1", trace: traceFields({ traceparent: `00-${TRACE}-00f067aa0ba902b7-01` }, undefined) }, () =>
                log("WARNING", "refused", { reason: "bad-signature", header: "Bearer abc.def" }));
        } finally {
            setLogSink(previous);
        }
        assert.strictEqual(lines.length, 1);
        const entry = JSON.parse(lines[0]);
        assert.strictEqual(entry.severity, "WARNING");
        assert.strictEqual(entry.message, "refused");
        assert.strictEqual(entry.requestId, "r-1");
        assert.strictEqual(entry["logging.googleapis.com/trace"], TRACE);
        assert.strictEqual(entry.header, REDACTED);
        assert.ok(!lines[0].includes("abc.def"));
    });
});
