/**
 * The signer's start-up before its timestamp authority exists (services/signer/awaitTsa.ts): it listens, answers
 * 503 `timestamp_authority_unavailable` to every signing call and 200 to liveness, retries, and hands over the
 * chain (closing the placeholder) once the TSA answers. Exiting instead would fail the first `pulumi up`.
 */
import * as assert from "assert";
import { AddressInfo, createServer } from "net";
import { awaitTimestampAuthority, WAITING_FOR_TSA } from "../../../services/signer/awaitTsa";

async function freePort(): Promise<number> {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
}

describe("signer start-up without a timestamp authority", () => {
    it("returns the chain at once, without listening, when the TSA answers", async () => {
        const port = await freePort();
        const logs: string[] = [];
        const chain = await awaitTimestampAuthority(async () => "CHAIN", { port, host: "127.0.0.1", log: (m) => logs.push(m) });
        assert.strictEqual(chain, "CHAIN");
        assert.deepStrictEqual(logs, []);
        await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), "nothing listens when the TSA answered first time");
    });

    it("answers 503 to signing and 200 to liveness while waiting, then returns the chain and frees the port", async () => {
        const port = await freePort();
        let tsaUp = false;
        let attempts = 0;
        const logs: string[] = [];
        const waiting = awaitTimestampAuthority(async () => {
            attempts++;
            if (!tsaUp) {
                throw new Error("connect ECONNREFUSED");
            }
            return "CHAIN";
        }, { port, host: "127.0.0.1", log: (m) => logs.push(m), initialDelayMs: 20, maxDelayMs: 40 });
        // Wait until the placeholder listens.
        let health: Response | undefined;
        for (let i = 0; i < 100 && health === undefined; i++) {
            health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
            if (health === undefined) {
                await new Promise((r) => setTimeout(r, 10));
            }
        }
        assert.strictEqual(health?.status, 200);
        const sign = await fetch(`http://127.0.0.1:${port}/v1/sign`, { method: "POST", body: JSON.stringify({ statement: {} }), headers: { "content-type": "application/json" } });
        assert.strictEqual(sign.status, 503);
        assert.strictEqual(sign.headers.get("retry-after"), "30");
        assert.deepStrictEqual(await sign.json(), WAITING_FOR_TSA);
        assert.strictEqual((await fetch(`http://127.0.0.1:${port}/v1/trusted-root`)).status, 503);
        tsaUp = true;
        assert.strictEqual(await waiting, "CHAIN");
        assert.ok(attempts >= 2);
        assert.ok(logs.length >= 1 && logs.every((l) => /does not answer \(connect ECONNREFUSED\); signing nothing, retrying/.test(l)), logs.join("\n"));
        await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), "the placeholder is closed before the signer starts");
    });
});
