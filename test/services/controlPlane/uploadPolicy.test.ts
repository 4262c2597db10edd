import * as assert from "assert";
import { generateKeyPairSync } from "crypto";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { keySigner, signUploadPolicy, UploadGrant } from "../../../services/controlPlane/uploadPolicy";
import { DirectoryStore } from "../../../services/lib/objectStore";
import { FakeGcs, uploadWithGrant } from "../../../services/sim/fakeGcs";

describe("job-bound uploads (signed POST policy) against the fake GCS endpoint", () => {
    const cp = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const attacker = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const email = "broker@cp.iam.gserviceaccount.com";
    let root: string;
    let store: DirectoryStore;
    let otherBucket: DirectoryStore;
    let gcs: FakeGcs;
    let finalized: string[];
    let skewMs = 0;

    const grant = (prefix: string, opts: { expiresIn?: number; maxBytes?: number; key?: typeof cp.privateKey } = {}) =>
        signUploadPolicy({
            signer: keySigner(email, opts.key ?? cp.privateKey),
            endpoint: gcs.url,
            bucket: "intake-a",
            prefix,
            expiresAt: new Date(Date.now() + (opts.expiresIn ?? 600) * 1000),
            maxBytes: opts.maxBytes ?? 1024,
            now: new Date(),
        });

    beforeEach(async () => {
        root = mkdtempSync(path.join(tmpdir(), "hbf-upload-"));
        store = new DirectoryStore(path.join(root, "a"));
        otherBucket = new DirectoryStore(path.join(root, "b"));
        finalized = [];
        skewMs = 0;
        gcs = new FakeGcs({ buckets: { "intake-a": store, "intake-b": otherBucket }, signers: { [email]: cp.publicKey }, onFinalize: (b, o) => finalized.push(`${b}/${o}`), now: () => new Date(Date.now() + skewMs) });
        await gcs.listen();
    });
    afterEach(async () => {
        await gcs.close();
        rmSync(root, { recursive: true, force: true });
    });

    it("lets a job create objects under its own prefix only, once", async () => {
        const g = await grant("pool-a/111/");
        assert.deepStrictEqual(g.prefix, "pool-a/111/");
        assert.strictEqual((await uploadWithGrant(g, "pool-a/111/dist/app.tgz", Buffer.from("bytes"))).status, 204);
        assert.strictEqual((await store.read("pool-a/111/dist/app.tgz"))?.toString(), "bytes");
        assert.deepStrictEqual(finalized, ["intake-a/pool-a/111/dist/app.tgz"]);
    });

    it("refuses another job's location, pre-creation, overwrite and reads", async () => {
        const mine = await grant("pool-a/111/");
        const theirs = await grant("pool-a/222/");
        assert.strictEqual((await uploadWithGrant(theirs, "pool-a/222/app.tgz", Buffer.from("real"))).status, 204);
        for (const key of ["pool-a/222/app.tgz", "pool-a/222/later.tgz", "pool-a/1110/x", "pool-b/111/x", "pool-a/x"]) {
            const res = await uploadWithGrant(mine, key, Buffer.from("evil"));
            assert.strictEqual(res.status, 403, key);
            assert.match(res.body, /starts-with/);
        }
        // Overwriting its own object is refused too (create-only).
        assert.strictEqual((await uploadWithGrant(mine, "pool-a/111/a", Buffer.from("1"))).status, 204);
        const again = await uploadWithGrant(mine, "pool-a/111/a", Buffer.from("2"));
        assert.strictEqual(again.status, 403);
        assert.strictEqual((await store.read("pool-a/111/a"))?.toString(), "1");
        assert.strictEqual((await store.read("pool-a/222/app.tgz"))?.toString(), "real");
        assert.strictEqual((await fetch(`${gcs.url}/intake-a/pool-a/222/app.tgz`)).status, 403);
    });

    it("refuses the grant posted to another bucket (another pool's intake), whatever the key", async () => {
        const mine = await grant("pool-a/111/");
        // The same form, the same key under the grant's own prefix: only the bucket in the URL differs.
        const elsewhere = { ...mine, url: mine.url.replace("/intake-a/", "/intake-b/") };
        assert.notStrictEqual(elsewhere.url, mine.url);
        const res = await uploadWithGrant(elsewhere, "pool-a/111/dist/app.tgz", Buffer.from("evil"));
        assert.strictEqual(res.status, 403, res.body);
        assert.strictEqual(JSON.parse(res.body).error.message, 'policy condition failed: {"bucket":"intake-a"}');
        assert.deepStrictEqual(await otherBucket.list(""), []);
        // The variant in its own bucket is accepted.
        assert.strictEqual((await uploadWithGrant(mine, "pool-a/111/dist/app.tgz", Buffer.from("ok"))).status, 204);
    });

    it("refuses an expired, tampered, foreign-signed or oversized upload, and uncovered fields", async () => {
        const expiring = await grant("pool-a/111/", { expiresIn: 60 });
        skewMs = 61_000;
        assert.match((await uploadWithGrant(expiring, "pool-a/111/x", Buffer.from("x"))).body, /expired/);
        skewMs = 0;

        const g = await grant("pool-a/111/");
        const widened: UploadGrant = { ...g, fields: { ...g.fields, policy: Buffer.from(Buffer.from(g.fields.policy, "base64").toString().replace("pool-a/111/", "pool-a/")).toString("base64") } };
        assert.strictEqual((await uploadWithGrant(widened, "pool-a/222/x", Buffer.from("x"))).status, 403);

        const forged = await grant("pool-a/222/", { key: attacker.privateKey });
        assert.match((await uploadWithGrant(forged, "pool-a/222/x", Buffer.from("x"))).body, /signature/);

        const small = await grant("pool-a/111/", { maxBytes: 4 });
        assert.match((await uploadWithGrant(small, "pool-a/111/big", Buffer.alloc(5))).body, /content-length-range/);

        const extra: UploadGrant = { ...g, fields: { ...g.fields, "x-goog-meta-job": "someone-else" } };
        assert.match((await uploadWithGrant(extra, "pool-a/111/m", Buffer.from("x"))).body, /not covered/);

        assert.strictEqual((await uploadWithGrant(g, "pool-a/111/../222/x", Buffer.from("x"))).status, 400);
        assert.deepStrictEqual(await store.list(""), []);
    });
});
