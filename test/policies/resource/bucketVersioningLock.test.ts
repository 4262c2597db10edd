/**
 * bucket-versioning-with-locked-retention: Cloud Storage refuses a bucket with object versioning and a
 * locked retention policy, so the pack refuses it before `pulumi up` stops there.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import { Checked, check, assertFired, assertMessage } from "../../helpers/resourcePolicy";

const POLICY = "bucket-versioning-with-locked-retention";
const RETENTION = { retentionPeriod: "86400" };

function program() {
    new gcp.storage.Bucket("locked-only", { location: "EU", retentionPolicy: { ...RETENTION, isLocked: true }, versioning: { enabled: false } });
    new gcp.storage.Bucket("versioned-unlocked", { location: "EU", retentionPolicy: { ...RETENTION, isLocked: false }, versioning: { enabled: true } });
    new gcp.storage.Bucket("versioned-only", { location: "EU", versioning: { enabled: true } });
    new gcp.storage.Bucket("versioned-locked", { location: "EU", retentionPolicy: { ...RETENTION, isLocked: true }, versioning: { enabled: true } });
    // Unknown until apply: the lock comes from another resource's output.
    const flag = new gcp.storage.Bucket("flag-source", { location: "EU" }).id.apply((n) => n.length > 0);
    new gcp.storage.Bucket("versioned-lock-unknown", { location: "EU", retentionPolicy: { ...RETENTION, isLocked: flag }, versioning: { enabled: true } });
}

describe(`resource rule ${POLICY}`, function () {
    this.timeout(60000);
    let c: Checked;
    let p: Checked;
    before(async () => {
        c = await check(program);
        p = await check(program, { preview: true });
    });

    it("passes a locked bucket without versioning, and versioned buckets without a locked retention", () => {
        for (const checked of [c, p]) {
            for (const name of ["locked-only", "versioned-unlocked", "versioned-only"]) {
                assertFired(checked, name, []);
                assert.deepStrictEqual(checked.undecided(name), []);
            }
        }
    });

    it("refuses versioning with a locked retention, on the bucket's URN, in up and preview", () => {
        for (const checked of [c, p]) {
            assertFired(checked, "versioned-locked", [POLICY]);
            assertMessage(checked, "versioned-locked", POLICY, "Cloud Storage refuses that combination");
            const v = checked.on("versioned-locked").find((x) => x.policy === POLICY)!;
            assert.strictEqual(v.enforcementLevel, "mandatory");
            assert.match(v.urn!, /gcp:storage\/bucket:Bucket::versioned-locked$/);
        }
    });

    it("decides from the known lock in up, and says it cannot decide in a preview where the lock is unknown", () => {
        assertFired(c, "versioned-lock-unknown", [POLICY]);
        assert.deepStrictEqual(p.undecided("versioned-lock-unknown"), [POLICY]);
        assertFired(p, "versioned-lock-unknown", []);
    });
});
