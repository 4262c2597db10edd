import * as assert from "assert";
import { createHmac } from "crypto";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { JIT_CONFIG_PATH } from "../../../services/controlPlane/broker/app";
import { FINALIZE_PATH } from "../../../services/controlPlane/generator/app";
import { WEBHOOK_PATH } from "../../../services/controlPlane/webhook/app";
import { MAX_JSON_DEPTH, tooDeep } from "../../../services/lib/jsonDepth";
import { SIM_AUDIENCE, SIM_BUILDER_ID, SIM_IDENTITIES, SimFleet, startSimFleet } from "../../../services/sim/fleet";
import { statement } from "../../helpers/signer";

/** `{"a":{"a":...1...}}`, `depth` objects deep, as text (JSON.stringify could not write it). */
const deepText = (depth: number): string => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
const deep = (depth: number): unknown => JSON.parse(deepText(depth));
/** `value` as JSON with `"<key>": <a deep value>` added at its top level. */
const withDeep = (value: object, key: string, depth: number): string => `${JSON.stringify(value).slice(0, -1)},"${key}":${deepText(depth)}}`;

describe("deeply nested JSON gets 400 at every service, never 500", function () {
    this.timeout(60_000);
    let dir: string;
    let fleet: SimFleet;

    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "hbf-deep-"));
        fleet = await startSimFleet({ pools: 1, dir });
    });
    after(async () => {
        await fleet.close();
        rmSync(dir, { recursive: true, force: true });
    });

    const post = async (url: string, body: string, headers: Record<string, string> = {}) => {
        const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
        return { status: res.status, body: await res.json().catch(() => undefined) as any };
    };

    it("counts depth without recursion", () => {
        assert.strictEqual(tooDeep(deep(MAX_JSON_DEPTH)), false);
        assert.strictEqual(tooDeep(deep(MAX_JSON_DEPTH + 1)), true);
        assert.strictEqual(tooDeep(deep(1_000_000)), true);
        assert.strictEqual(tooDeep([1, "x", null, [[]]]), false);
    });

    // Each body fits the service's size limit, so only the depth can refuse it.
    it("broker", async () => {
        const vm = await fleet.mig.createVm(fleet.pools[0]);
        const token = await fleet.mig.identityToken(vm, SIM_AUDIENCE.broker);
        const r = await post(`${fleet.broker.url}${JIT_CONFIG_PATH}`, withDeep({ pool: fleet.pools[0].name }, "x", 600), { authorization: `Bearer ${token}` });
        assert.deepStrictEqual([r.status, r.body?.error?.code], [400, "too-deep"]);
        assert.strictEqual(await fleet.records.registration(vm.ref.instanceId), undefined);
    });

    it("webhook receiver (a correctly signed delivery)", async () => {
        const job = await fleet.github.queueJob({ repository: "acme/app", labels: fleet.pools[0].labels });
        const body = withDeep(fleet.github.payloadOf(job.id, "queued"), "extra", 20_000);
        const signature = `sha256=${createHmac("sha256", fleet.github.opts.webhookSecret).update(body).digest("hex")}`;
        const r = await post(fleet.webhook.url + WEBHOOK_PATH, body, { "x-github-event": "workflow_job", "x-github-delivery": "deep-1", "x-hub-signature-256": signature });
        assert.deepStrictEqual([r.status, r.body?.error?.code], [400, "too-deep"]);
        assert.deepStrictEqual(await fleet.records.store.list("deliveries/deep-1"), []);
    });

    it("generator (the push subscription's identity)", async () => {
        const body = `{"message":${withDeep({ attributes: { bucketId: fleet.pools[0].intakeBucket, objectId: "pool-a/1/x", eventType: "OBJECT_FINALIZE" } }, "data", 10_000)}}`;
        const r = await post(`${fleet.generator.url}${FINALIZE_PATH}`, body, { authorization: `Bearer ${fleet.pushToken()}` });
        assert.deepStrictEqual([r.status, r.body?.error?.code], [400, "too-deep"]);
    });

    it("signer (the generator's identity, an otherwise valid statement)", async () => {
        const s = statement((x) => (x.predicate.runDetails.builder.id = SIM_BUILDER_ID));
        const text = JSON.stringify(s).replace('"workflow":{', `"workflow":{"inputs":${deepText(20_000)},`);
        const token = fleet.issuer.mint({ audience: SIM_AUDIENCE.signer, email: SIM_IDENTITIES.generator });
        const r = await post(`${fleet.signer.url}/v1/sign`, text, { authorization: `Bearer ${token}` });
        assert.deepStrictEqual([r.status, r.body?.error?.code], [400, "too_deep"]);
        assert.deepStrictEqual(await fleet.provenance.list("sha256/"), []);
    });
});
