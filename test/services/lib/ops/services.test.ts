/**
 * Every service, as the simulation runs it on loopback: /healthz, /readyz (ready, and not ready
 * naming the dependency when one is down), request ids and the caller's trace in its log lines,
 * never a bearer token in them, and its metrics recorded while the simulation runs jobs.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import { mkdtempSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { JIT_CONFIG_PATH } from "../../../../services/controlPlane/broker/app";
import { FINALIZE_PATH } from "../../../../services/controlPlane/generator/app";
import { WEBHOOK_PATH } from "../../../../services/controlPlane/webhook/app";
import { DirectoryStore } from "../../../../services/lib/objectStore";
import { setLogSink } from "../../../../services/lib/ops/log";
import { witnessesFor } from "../../../../services/signer/attest";
import { loadSignerConfig } from "../../../../services/signer/config";
import { createCloudSigner } from "../../../../services/signer/main";
import { SIM_AUDIENCE, SimFleet, startSimFleet } from "../../../../services/sim/fleet";
import { simulate } from "../../../../services/sim/simulate";
import { startLocalTsa } from "../../../../services/sim/localTsa";
import { TestMetrics } from "../../../helpers/metrics";
import { BUILDER_ID, FakeKms } from "../../../helpers/signer";

const TRACE = "0af7651916cd43dd8448eb211c80319c";

describe("operable services: health, readiness, logs", function () {
    this.timeout(60_000);
    let fleet: SimFleet;
    const t = new TestMetrics();
    let lines: string[];
    let restore: (line: string) => void;
    const urls = () => ({ broker: fleet.broker.url, webhook: fleet.webhook.url, generator: fleet.generator.url, signer: fleet.signer.url });

    before(async () => {
        lines = [];
        restore = setLogSink((l) => lines.push(l));
        fleet = await startSimFleet({ pools: 1, dir: mkdtempSync(path.join(tmpdir(), "hbf-ops-")), metrics: t.metrics });
    });
    after(async () => {
        setLogSink(restore);
        await fleet.close();
    });

    it("answers /healthz on every service, without asking a dependency", async () => {
        for (const [service, url] of Object.entries(urls())) {
            const res = await fetch(`${url}/healthz`);
            assert.strictEqual(res.status, 200, service);
            assert.deepStrictEqual(await res.json(), { status: "ok" }, service);
        }
    });

    it("answers /readyz 200 on every service once each of its dependencies answered", async () => {
        const expected = { broker: ["github", "storage"], webhook: ["github", "storage"], generator: ["signer", "storage"], signer: ["key", "storage"] };
        for (const [service, url] of Object.entries(urls())) {
            const res = await fetch(`${url}/readyz`);
            const body: any = await res.json();
            assert.strictEqual(res.status, 200, `${service}: ${JSON.stringify(body)}`);
            assert.strictEqual(body.status, "ready");
            assert.deepStrictEqual(Object.keys(body.checks).sort(), expected[service as keyof typeof expected], service);
            assert.ok(Object.values(body.checks).every((v) => v === "ok"), service);
        }
        assert.strictEqual(fleet.github.stats.byRoute["GET /rate_limit"], undefined, "the readiness check is free: GitHub does not count /rate_limit");
    });

    it("gives every request an id of its own, logs it with the caller's trace, and never logs a bearer token", async () => {
        // A real-looking JWT (refused: wrong issuer) and an opaque token no pattern would catch.
        const jwt = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: "x", aud: "y" })).toString("base64url")}.${randomBytes(32).toString("base64url")}`;
        const opaque = `opaque-${randomBytes(16).toString("hex")}`;
        const calls = [
            { service: "broker", url: `${fleet.broker.url}${JIT_CONFIG_PATH}`, body: { pool: "pool-a" } },
            { service: "webhook", url: `${fleet.webhook.url}${WEBHOOK_PATH}`, body: { action: "queued" } },
            { service: "generator", url: `${fleet.generator.url}${FINALIZE_PATH}`, body: { message: {} } },
            { service: "signer", url: `${fleet.signer.url}/v1/sign`, body: { _type: "x" } },
        ];
        for (const token of [jwt, opaque]) {
            for (const call of calls) {
                const res = await fetch(call.url, {
                    method: "POST",
                    headers: {
                        authorization: `Bearer ${token}`,
                        "content-type": "application/json",
                        traceparent: `00-${TRACE}-b7ad6b7169203331-01`,
                        "x-hub-signature-256": `sha256=${"0".repeat(64)}`,
                        "x-github-event": "workflow_job",
                        "x-github-delivery": "d-1",
                        "x-request-id": "chosen-by-the-caller",
                    },
                    body: JSON.stringify(call.body),
                });
                assert.ok(res.status >= 400 && res.status < 500, `${call.service}: ${res.status}`);
                const requestId = res.headers.get("x-request-id");
                assert.match(requestId ?? "", /^[0-9a-f-]{36}$/, `${call.service}: the service's own id, never the caller's`);
                const entries = lines.map((l) => JSON.parse(l)).filter((e) => e.requestId === requestId);
                const requestLine = entries.find((e) => e.httpRequest !== undefined);
                assert.ok(requestLine !== undefined, `${call.service}: a request line`);
                assert.strictEqual(requestLine["logging.googleapis.com/trace"], TRACE, call.service);
                assert.strictEqual(requestLine["logging.googleapis.com/spanId"], "b7ad6b7169203331", call.service);
                assert.strictEqual(requestLine.httpRequest.status, res.status, call.service);
                assert.strictEqual(requestLine.severity, "WARNING", call.service);
                assert.strictEqual(requestLine.service, call.service);
            }
        }
        const all = lines.join("\n");
        assert.ok(!all.includes(jwt) && !all.includes(jwt.split(".")[2]), "the JWT never reaches a log line");
        assert.ok(!all.includes(opaque), "the opaque token never reaches a log line");
        // Each refusal is counted, by service and reason.
        for (const call of calls) {
            assert.ok(await t.total("refusals", { service: call.service }) >= 2, call.service);
        }
        assert.strictEqual(await t.total("refusals", { service: "webhook", reason: "bad-signature" }), 2);
    });

    it("answers /readyz 503 naming the dependency when GitHub or the signer is down", async () => {
        await fleet.signer.app.close();
        const generator = await fetch(`${fleet.generator.url}/readyz`);
        const g: any = await generator.json();
        assert.strictEqual(generator.status, 503);
        assert.strictEqual(g.status, "not-ready");
        assert.match(g.checks.signer, /^failed: /);
        assert.strictEqual(g.checks.storage, "ok");

        await fleet.github.close();
        for (const url of [fleet.broker.url, fleet.webhook.url]) {
            const res = await fetch(`${url}/readyz`);
            const body: any = await res.json();
            assert.strictEqual(res.status, 503, JSON.stringify(body));
            assert.match(body.checks.github, /^(failed|timeout)/);
            assert.strictEqual(body.checks.storage, "ok");
        }
    });
});

describe("operable services: the webhook's job gauges", function () {
    this.timeout(60_000);

    it("counts a queued job per pool with its age, then the same job as running, from the records at each pass", async () => {
        const t = new TestMetrics();
        const fleet = await startSimFleet({ pools: 2, dir: mkdtempSync(path.join(tmpdir(), "hbf-ops-gauges-")), metrics: t.metrics });
        const restore = setLogSink(() => undefined);
        try {
            const [a] = fleet.pools;
            await fleet.github.queueJob({ repository: fleet.repositories[0], labels: a.labels });
            await fleet.webhook.reconcile();
            const gauges = async () => Object.fromEntries(await Promise.all((["jobsQueued", "jobsRunning"] as const).map(async (k) =>
                [k, Object.fromEntries((await t.points(k)).map((p) => [p.labels.pool, p.value]))])));
            assert.deepStrictEqual(await gauges(), { jobsQueued: { "pool-a": 1, "pool-b": 0 }, jobsRunning: { "pool-a": 0, "pool-b": 0 } });
            const age = (await t.points("queueAge")).find((p) => p.labels.pool === "pool-a")!.value;
            assert.ok(age >= 0 && age < 60, `queue age ${age}`);

            const vm = await fleet.mig.createVm(a);
            const token = await fleet.mig.identityToken(vm, SIM_AUDIENCE.broker);
            const res = await fetch(`${fleet.broker.url}${JIT_CONFIG_PATH}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ pool: a.name }) });
            assert.strictEqual(res.status, 201);
            await fleet.github.connectRunner(((await res.json()) as any).jitConfig);
            await fleet.webhook.reconcile();
            assert.deepStrictEqual(await gauges(), { jobsQueued: { "pool-a": 0, "pool-b": 0 }, jobsRunning: { "pool-a": 1, "pool-b": 0 } });
        } finally {
            setLogSink(restore);
            await fleet.close();
        }
    });
});

describe("operable services: the signer's readiness in cloud mode", () => {
    it("is not ready while Cloud KMS is unavailable, and ready once it answers", async () => {
        const tsa = await startLocalTsa();
        try {
            const KEY = "projects/p/locations/l/keyRings/r/cryptoKeys/k";
            const kms = new FakeKms();
            kms.addVersion(`${KEY}/cryptoKeyVersions/1`);
            const config = loadSignerConfig({
                SIGNER_KMS_KEY: KEY,
                SIGNER_KEY_VERSIONS: JSON.stringify([{ name: `${KEY}/cryptoKeyVersions/1`, state: "active", validFrom: "2020-01-01T00:00:00Z" }]),
                SIGNER_PROVENANCE_BUCKET: "fleet-provenance",
                SIGNER_BUILDER_ID: BUILDER_ID,
                SIGNER_ALLOWED_CALLERS: "generator@ctl.iam.gserviceaccount.com",
                SIGNER_AUDIENCE: "https://signer.example",
                SIGNER_TSA_URL: "https://tsa.example",
                SIGNER_TSA_CERT_CHAIN: tsa.certChainPem,
            });
            const app = createCloudSigner(config, { kms, store: new DirectoryStore(mkdtempSync(path.join(tmpdir(), "hbf-ops-sig-"))), witnesses: witnessesFor({ tsaUrl: tsa.url }) });
            kms.faults.unavailable = 10;
            const down = await app.inject({ method: "GET", url: "/readyz" });
            assert.strictEqual(down.statusCode, 503);
            assert.match(down.json().checks.key, /UNAVAILABLE/);
            kms.faults.unavailable = 0;
            const up = await app.inject({ method: "GET", url: "/readyz" });
            assert.strictEqual(up.statusCode, 200, up.body);
            await app.close();
        } finally {
            await tsa.close();
        }
    });
});

describe("operable services: metrics under the simulation", function () {
    this.timeout(120_000);

    it("records registrations, signatures, signing latency, completions, the job and backlog gauges, GitHub headroom and requests", async () => {
        const t = new TestMetrics();
        const restore = setLogSink(() => undefined);
        let summary;
        try {
            summary = await simulate({ jobs: 3, pools: 2, concurrency: 2, attacks: false, out: mkdtempSync(path.join(tmpdir(), "hbf-ops-sim-")), metrics: t.metrics });
        } finally {
            setLogSink(restore);
        }
        const jobs = 3;
        assert.strictEqual(summary.ok, true, JSON.stringify({ jobs: summary.jobs, attacks: summary.attacks.filter((a) => !a.refused) }));
        assert.strictEqual(summary.jobs.length, jobs);
        assert.strictEqual(await t.total("registrationDuration", { outcome: "granted" }), jobs);
        assert.deepStrictEqual([...new Set((await t.points("registrationDuration")).map((p) => p.labels.pool))].sort(), ["pool-a", "pool-b"]);
        assert.ok(await t.total("signatures", { kind: "provenance" }) >= jobs);
        assert.strictEqual(await t.total("signingDuration", { outcome: "signed" }), await t.total("signatures"));
        assert.strictEqual(await t.total("jobsCompleted"), jobs);
        // After every job finished, the steady-state pass sees nothing queued, running or deferred.
        for (const key of ["jobsQueued", "jobsRunning", "queueAge"] as const) {
            assert.deepStrictEqual((await t.points(key)).map((p) => [p.labels.pool, p.value]).sort(), [["pool-a", 0], ["pool-b", 0]], key);
        }
        assert.deepStrictEqual((await t.points("generatorBacklog")).map((p) => p.value), [0]);
        for (const service of ["broker", "webhook"]) {
            const [headroom] = (await t.points("githubHeadroom")).filter((p) => p.labels.service === service);
            assert.ok(headroom !== undefined && headroom.value > 0 && headroom.value <= 1, `${service} headroom ${JSON.stringify(headroom)}`);
            assert.ok((await t.points("githubRemaining")).some((p) => p.labels.service === service && p.value > 0), service);
        }
        for (const service of ["broker", "webhook", "generator", "signer"]) {
            assert.ok(await t.total("httpRequests", { service, status_class: "2xx" }) > 0, service);
        }
    });
});
