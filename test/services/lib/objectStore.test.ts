import * as assert from "assert";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { checkObjectName, DirectoryStore } from "../../../services/lib/objectStore";

describe("DirectoryStore (local stand-in for a bucket)", () => {
    let root: string;
    let store: DirectoryStore;
    beforeEach(() => {
        root = mkdtempSync(path.join(tmpdir(), "hbf-store-"));
        store = new DirectoryStore(root);
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it("creates an object once and never overwrites it", async () => {
        assert.deepStrictEqual(await store.create("a/b.json", Buffer.from("first"), "application/json"), { created: true });
        assert.deepStrictEqual(await store.create("a/b.json", Buffer.from("second"), "application/json"), { created: false });
        assert.strictEqual((await store.read("a/b.json"))?.toString(), "first");
    });

    it("lets exactly one of many concurrent writers of one name win", async () => {
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.create("race", Buffer.from(String(i)), "text/plain")));
        assert.strictEqual(results.filter((r) => r.created).length, 1);
    });

    it("reads undefined for a missing object and lists by prefix, sorted, without temporaries", async () => {
        assert.strictEqual(await store.read("missing"), undefined);
        await store.create("jobs/2/x", Buffer.from("x"), "text/plain");
        await store.create("jobs/1/y", Buffer.from("y"), "text/plain");
        await store.create("other/z", Buffer.from("z"), "text/plain");
        assert.deepStrictEqual(await store.list("jobs/"), ["jobs/1/y", "jobs/2/x"]);
        assert.deepStrictEqual(await store.list("nothing/"), []);
    });

    it("refuses names that escape the store or have empty segments", async () => {
        for (const bad of ["../etc/passwd", "a/../../b", "/abs", "a//b", "", "a/./b", "sp ace"]) {
            assert.ok(checkObjectName(bad), `${JSON.stringify(bad)} should be refused`);
            await assert.rejects(store.create(bad, Buffer.from("x"), "text/plain"), /object name/);
        }
        assert.strictEqual(checkObjectName("pool-a/instance-1/dist/app.tgz"), undefined);
    });
});
