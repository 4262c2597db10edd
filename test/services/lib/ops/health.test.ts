/** /readyz: each dependency checked in parallel within its timeout, every failure named, never a credential echoed. */
import * as assert from "assert";
import Fastify from "fastify";
import { healthRoutes } from "../../../../services/lib/ops/health";

describe("ops health: /readyz", () => {
    it("answers 503 within the timeout when a dependency hangs, naming it and the others' outcomes", async () => {
        const app = Fastify();
        let aborted = false;
        healthRoutes(app, {
            timeoutMs: 100,
            shuttingDown: () => false,
            readiness: {
                storage: (signal) => new Promise(() => signal.addEventListener("abort", () => (aborted = true))),
                github: async () => {
                    throw new Error("GitHub GET /rate_limit: 401 Bad credentials for Bearer ghs_abcdefghijklmnopqrstuvwxyz0123\nsecond line");
                },
                signer: async () => "fine",
            },
        });
        const started = Date.now();
        const res = await app.inject({ method: "GET", url: "/readyz" });
        assert.ok(Date.now() - started < 1000, "the checks ran in parallel, each bounded");
        assert.strictEqual(res.statusCode, 503);
        assert.deepStrictEqual(res.json(), {
            status: "not-ready",
            checks: { storage: "timeout after 100 ms", github: "failed: GitHub GET /rate_limit: 401 Bad credentials for [redacted]", signer: "ok" },
        });
        assert.strictEqual(aborted, true, "the hanging check's signal was aborted");
        const live = await app.inject({ method: "GET", url: "/healthz" });
        assert.deepStrictEqual([live.statusCode, live.json()], [200, { status: "ok" }]);
    });
});
