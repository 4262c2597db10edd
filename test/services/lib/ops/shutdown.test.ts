/**
 * Graceful shutdown: on SIGTERM a service stops accepting, turns /readyz to 503, waits for a running
 * periodic pass, finishes its in-flight requests within the grace period and cuts off what is left.
 */
import * as assert from "assert";
import Fastify, { FastifyInstance } from "fastify";
import type { AddressInfo } from "net";
import { setLogSink } from "../../../../services/lib/ops/log";
import { operate, Operations } from "../../../../services/lib/ops/operations";
import { graceFromEnv, onSigterm, shutdown } from "../../../../services/lib/ops/shutdown";
import { every } from "../../../../services/controlPlane/storage";

interface Slow {
    app: FastifyInstance;
    ops: Operations;
    url: string;
    /** Resolves the slow request(s) in flight. */
    release(): void;
}

async function slowApp(): Promise<Slow> {
    const app = Fastify({ return503OnClosing: true });
    const ops = operate(app, { service: "broker", readiness: {} });
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    app.get("/slow", async () => {
        await gate;
        return { done: true };
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    return { app, ops, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, release };
}

async function until(cond: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !cond(); i++) {
        await new Promise((r) => setTimeout(r, 5));
    }
}

describe("ops shutdown", () => {
    let lines: string[];
    let restore: (line: string) => void;
    beforeEach(() => {
        lines = [];
        restore = setLogSink((l) => lines.push(l));
    });
    afterEach(() => setLogSink(restore));

    it("finishes an in-flight request, refuses new connections, and says so", async () => {
        const s = await slowApp();
        const inFlight = fetch(`${s.url}/slow`);
        await until(() => s.ops.inFlight() === 1);
        const done = shutdown(s.app, { service: "broker", inFlight: s.ops.inFlight, begin: s.ops.begin, graceMs: 5000 });
        assert.strictEqual(s.ops.shuttingDown(), true);
        await until(() => !s.app.server.listening);
        await assert.rejects(fetch(`${s.url}/healthz`), /fetch failed/);
        setTimeout(() => s.release(), 100);
        const res = await inFlight;
        assert.strictEqual(res.status, 200);
        assert.deepStrictEqual(await res.json(), { done: true });
        assert.deepStrictEqual(await done, { finished: 1, cutOff: 0 });
        const stopped = lines.map((l) => JSON.parse(l)).find((e) => e.message === "broker stopped");
        assert.deepStrictEqual({ severity: stopped.severity, finished: stopped.finished, cutOff: stopped.cutOff }, { severity: "INFO", finished: 1, cutOff: 0 });
    });

    it("cuts off a request still running at the end of the grace period, within the bound", async () => {
        const s = await slowApp();
        const inFlight = fetch(`${s.url}/slow`).then(() => "answered", () => "cut off");
        await until(() => s.ops.inFlight() === 1);
        const started = Date.now();
        const outcome = await shutdown(s.app, { service: "broker", inFlight: s.ops.inFlight, begin: s.ops.begin, graceMs: 300 });
        const took = Date.now() - started;
        assert.deepStrictEqual(outcome, { finished: 0, cutOff: 1 });
        assert.ok(took >= 300 && took < 2000, `shutdown took ${took} ms`);
        assert.strictEqual(await inFlight, "cut off");
        s.release();
    });

    it("answers /readyz 503 shutting-down once begun, and waits for a running periodic pass", async () => {
        const s = await slowApp();
        s.ops.begin();
        const res = await s.app.inject({ method: "GET", url: "/readyz" });
        assert.strictEqual(res.statusCode, 503);
        assert.strictEqual(res.json().status, "shutting-down");
        let passEnded = false;
        const pass = every(0.01, "test pass", () => new Promise<void>((r) => setTimeout(() => {
            passEnded = true;
            r();
        }, 150)));
        await new Promise((r) => setTimeout(r, 30));
        await shutdown(s.app, { service: "broker", inFlight: s.ops.inFlight, begin: s.ops.begin, periodic: [pass], graceMs: 2000 });
        assert.strictEqual(passEnded, true);
        s.release();
    });

    it("runs on SIGTERM and exits 0 after the flush", async () => {
        const s = await slowApp();
        const flushed: string[] = [];
        const exited = new Promise<number>((resolve) =>
            onSigterm(s.app, { service: "broker", inFlight: s.ops.inFlight, begin: s.ops.begin, flush: async () => void flushed.push("metrics"), graceMs: 1000 }, resolve));
        process.emit("SIGTERM");
        assert.strictEqual(await exited, 0);
        assert.deepStrictEqual(flushed, ["metrics"]);
        assert.strictEqual(s.app.server.listening, false);
        s.release();
    });

    it("SHUTDOWN_GRACE_SECONDS: default 8 s; a value Cloud Run would cut short is refused, naming the fix", () => {
        assert.strictEqual(graceFromEnv({}), 8000);
        assert.strictEqual(graceFromEnv({ SHUTDOWN_GRACE_SECONDS: "2.5" }), 2500);
        assert.throws(() => graceFromEnv({ SHUTDOWN_GRACE_SECONDS: "30" }), /SHUTDOWN_GRACE_SECONDS: "30" .*at most 9/);
        assert.throws(() => graceFromEnv({ SHUTDOWN_GRACE_SECONDS: "soon" }), /SHUTDOWN_GRACE_SECONDS: "soon"/);
    });
});
