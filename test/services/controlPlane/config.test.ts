import * as assert from "assert";
import { loadBrokerConfig } from "../../../services/controlPlane/broker/config";
import { ServiceConfigError } from "../../../services/controlPlane/config";
import { loadGeneratorConfig } from "../../../services/controlPlane/generator/config";
import { poolForLabels } from "../../../services/controlPlane/pools";
import { loadWebhookConfig } from "../../../services/controlPlane/webhook/config";
import { simPool } from "../../../services/sim/fixtures";

const github = {
    GITHUB_APP_ID: "123",
    GITHUB_APP_INSTALLATION_ID: "456",
    GITHUB_APP_PRIVATE_KEY_SECRET: "projects/cp/secrets/gh-app-key/versions/latest",
    GITHUB_ORG: "acme",
};
const pools = JSON.stringify([simPool("pool-a"), simPool("pool-b")]);

function problems(fn: () => unknown): string[] {
    try {
        fn();
    } catch (err) {
        assert.ok(err instanceof ServiceConfigError, String(err));
        return err.problems;
    }
    assert.fail("expected a ServiceConfigError");
}

describe("control-plane service configuration (env)", () => {
    it("loads a complete broker, webhook and generator environment", () => {
        const broker = loadBrokerConfig({ ...github, BROKER_URL: "https://broker.example.run.app", BROKER_POOLS: pools, RECORDS_BUCKET: "cp-records" });
        assert.strictEqual(broker.port, 8080);
        assert.strictEqual(broker.pools.length, 2);
        assert.strictEqual(broker.uploadEndpoint, "https://storage.googleapis.com");
        assert.strictEqual(broker.github.apiUrl, "https://api.github.com");
        const webhook = loadWebhookConfig({ ...github, WEBHOOK_POOLS: pools, RECORDS_BUCKET: "cp-records", WEBHOOK_SECRET_VERSION: "projects/cp/secrets/hook/versions/2", WEBHOOK_METRIC_PROJECT: "workers-proj", PORT: "9000" });
        assert.strictEqual(webhook.port, 9000);
        assert.strictEqual(webhook.reconcileSeconds, 60);
        const generator = loadGeneratorConfig({
            GENERATOR_URL: "https://gen.example.run.app",
            GENERATOR_POOLS: JSON.stringify([{ name: "pool-a", labels: ["self-hosted", "pool-a"], intakeBucket: "intake-a", maxRunDurationSeconds: 3600, runnerGroupId: 1 }]),
            RECORDS_BUCKET: "cp-records", GENERATOR_PUSH_SERVICE_ACCOUNT: "push@cp.iam.gserviceaccount.com",
            SIGNER_URL: "https://signer.example.run.app", BUILDER_ID: "https://example.com/builders/fleet@v1",
        });
        assert.strictEqual(generator.githubServer, "https://github.com");
        assert.strictEqual(generator.pools[0].intakeBucket, "intake-a");
        // The generator bounds late uploads by the pool's lifetime and matches its runner group: neither may be missing.
        const missing = problems(() => loadGeneratorConfig({
            GENERATOR_URL: "https://gen.example.run.app", GENERATOR_POOLS: JSON.stringify([{ name: "pool-a", labels: ["self-hosted", "pool-a"], intakeBucket: "intake-a" }]),
            RECORDS_BUCKET: "cp-records", GENERATOR_PUSH_SERVICE_ACCOUNT: "push@cp.iam.gserviceaccount.com",
            SIGNER_URL: "https://signer.example.run.app", BUILDER_ID: "https://example.com/builders/fleet@v1",
        }));
        assert.ok(missing.some((m) => /^GENERATOR_POOLS\[0\]\.maxRunDurationSeconds: undefined is not valid/.test(m)), missing.join("\n"));
        assert.ok(missing.some((m) => /^GENERATOR_POOLS\[0\]\.runnerGroupId: undefined is not valid/.test(m)), missing.join("\n"));
    });

    it("reports every broker problem at once, naming the variable, the value and the fix", () => {
        const p = problems(() => loadBrokerConfig({
            BROKER_URL: "http://broker.example.com/x?y=1",
            BROKER_POOLS: JSON.stringify([{ ...simPool("pool-a"), serviceAccount: "nope", maxRunDurationSeconds: 10 }, simPool("pool-a")]),
            GITHUB_APP_ID: "abc",
            GITHUB_APP_PRIVATE_KEY_SECRET: "my-key",
            GITHUB_ORG: "acme",
            MAX_OBJECT_BYTES: "lots",
        }));
        const expected = [
            /^BROKER_URL: .* must use https/,
            /^BROKER_URL: .* must not carry credentials, a query/,
            /^BROKER_POOLS\[0\]\.serviceAccount: "nope" is not valid/,
            /^BROKER_POOLS\[0\]\.maxRunDurationSeconds: 10 is not valid; set an integer number of seconds/,
            /^RECORDS_BUCKET: missing/,
            /^GITHUB_APP_ID: "abc" is neither/,
            /^GITHUB_APP_INSTALLATION_ID: missing/,
            /^GITHUB_APP_PRIVATE_KEY_SECRET: "my-key" is not a secret version name/,
            /^MAX_OBJECT_BYTES: "lots" must be an integer/,
        ];
        for (const re of expected) {
            assert.ok(p.some((m) => re.test(m)), `missing ${re} in:\n${p.join("\n")}`);
        }
        assert.strictEqual(p.length, expected.length, p.join("\n"));
    });

    it("the broker's upload grants and the generator's reads share one limit, MAX_OBJECT_BYTES; the old per-service names are refused", () => {
        const brokerEnv = { BROKER_URL: "https://broker.example.com", BROKER_POOLS: pools, RECORDS_BUCKET: "records", ...github };
        const generatorEnv = { GENERATOR_URL: "https://gen.example.com", GENERATOR_POOLS: pools, RECORDS_BUCKET: "records", GENERATOR_PUSH_SERVICE_ACCOUNT: "push@x.iam.gserviceaccount.com", SIGNER_URL: "https://signer.example.com", BUILDER_ID: "https://example.com/b" };
        assert.strictEqual(loadBrokerConfig(brokerEnv).uploadMaxBytes, loadGeneratorConfig(generatorEnv).maxObjectBytes);
        assert.strictEqual(loadBrokerConfig({ ...brokerEnv, MAX_OBJECT_BYTES: "1000" }).uploadMaxBytes, 1000);
        assert.strictEqual(loadGeneratorConfig({ ...generatorEnv, MAX_OBJECT_BYTES: "1000" }).maxObjectBytes, 1000);
        assert.deepStrictEqual(problems(() => loadBrokerConfig({ ...brokerEnv, BROKER_UPLOAD_MAX_BYTES: "5" })), [
            "BROKER_UPLOAD_MAX_BYTES: no longer read; set MAX_OBJECT_BYTES (one limit for the broker's upload grants and the generator's reads)",
        ]);
        assert.deepStrictEqual(problems(() => loadGeneratorConfig({ ...generatorEnv, GENERATOR_MAX_OBJECT_BYTES: "5" })), [
            "GENERATOR_MAX_OBJECT_BYTES: no longer read; set MAX_OBJECT_BYTES (one limit for the broker's upload grants and the generator's reads)",
        ]);
    });

    it("refuses pools with duplicate names, nesting label sets or foreign pool labels, and a pools value that is not an array", () => {
        const env = { ...github, RECORDS_BUCKET: "r1", WEBHOOK_SECRET_VERSION: "projects/p/secrets/s/versions/1", WEBHOOK_METRIC_PROJECT: "workers-proj" };
        const dup = problems(() => loadWebhookConfig({ ...env,
            WEBHOOK_POOLS: JSON.stringify([simPool("pool-a"), simPool("pool-a"), simPool("pool-c", { labels: ["POOL-A", "linux", "self-hosted"] })]) }));
        assert.ok(dup.some((m) => /WEBHOOK_POOLS\[1\]\.name: "pool-a" appears twice/.test(m)), dup.join("\n"));
        assert.ok(dup.some((m) => /WEBHOOK_POOLS\[2\]\.labels: pool "pool-c" lacks its pool label "pool-c"/.test(m)), dup.join("\n"));
        assert.ok(dup.some((m) => /WEBHOOK_POOLS\[2\]\.labels: pool "pool-c" carries "pool-a", the pool label of pool "pool-a"/.test(m)), dup.join("\n"));
        // Nesting without a foreign pool label: pool-b's runners carry everything pool-a's do.
        const nested = problems(() => loadWebhookConfig({ ...env,
            WEBHOOK_POOLS: JSON.stringify([simPool("pool-a", { labels: ["self-hosted", "pool-a"] }), simPool("pool-b", { labels: ["self-hosted", "pool-b", "pool-a", "gpu"] })]) }));
        assert.ok(nested.some((m) => /WEBHOOK_POOLS\[0\]\.labels: pool "pool-a" label set nests with that of pool "pool-b" \("pool-a" within "pool-b"\)/.test(m)), nested.join("\n"));
        const notArray = problems(() => loadGeneratorConfig({ GENERATOR_POOLS: "{}" }));
        assert.ok(notArray.some((m) => /^GENERATOR_POOLS: .* must be a non-empty JSON array/.test(m)));
        const notJson = problems(() => loadGeneratorConfig({ GENERATOR_POOLS: "[" }));
        assert.ok(notJson.some((m) => /^GENERATOR_POOLS: not valid JSON/.test(m)));
        assert.ok(notJson.some((m) => /^SIGNER_URL: missing/.test(m)));
        assert.ok(notJson.some((m) => /^BUILDER_ID: missing/.test(m)));
    });

    it("each service's main refuses to start on a bad environment, before listening", async () => {
        for (const entry of ["broker", "webhook", "generator"]) {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { main } = require(`../../../services/controlPlane/${entry}/main`);
            await assert.rejects(main({ PORT: "0" }), (err: unknown) => err instanceof ServiceConfigError && err.service === entry && /PORT: "0" must be an integer between 1 and 65535/.test(err.message));
        }
    });

    it("maps job labels to the one pool they name, and only when that pool's runners carry them all", () => {
        const ps = [simPool("pool-a"), simPool("pool-b")];
        assert.strictEqual(poolForLabels(ps, ["pool-b", "LINUX", "self-hosted", "linux"])?.name, "pool-b");
        assert.strictEqual(poolForLabels(ps, ["pool-b", "self-hosted"])?.name, "pool-b");
        assert.strictEqual(poolForLabels(ps, ["pool-b"])?.name, "pool-b");
        assert.strictEqual(poolForLabels(ps, ["self-hosted"]), undefined, "names no pool");
        assert.strictEqual(poolForLabels(ps, ["pool-b", "gpu"]), undefined, "pool-b's runners carry no gpu label");
        assert.strictEqual(poolForLabels(ps, ["pool-a", "pool-b"]), undefined, "no runner carries both");
        assert.strictEqual(poolForLabels(ps, []), undefined);
    });
});
