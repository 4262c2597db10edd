import * as assert from "assert";
import {
    activateVersion,
    activeVersion,
    KeyringError,
    keyVersionProblems,
    KeyVersion,
    parseKeyringDocument,
    publishVersion,
    retireVersion,
    validAt,
} from "../../../services/lib/keyring";

const KEY = "projects/signer-prj/locations/europe-west1/keyRings/fleet/cryptoKeys/provenance";
const v = (n: number) => `${KEY}/cryptoKeyVersions/${n}`;
const T = (iso: string) => new Date(iso);
const rules = { cryptoKey: KEY };

const initial: KeyVersion[] = [{ name: v(1), state: "active", validFrom: "2026-01-01T00:00:00Z" }];

function throwsProblem(fn: () => unknown, pattern: RegExp): void {
    assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof KeyringError, String(err));
        assert.ok(err.problems.some((p) => pattern.test(p)), err.problems.join("\n"));
        return true;
    });
}

describe("keyring: key version states and rotation", () => {
    it("accepts one active version", () => {
        assert.deepStrictEqual(keyVersionProblems(initial, rules), []);
        assert.strictEqual(activeVersion(initial).name, v(1));
    });

    it("rotates: publish, wait the overlap, activate (which retires the previous version at that instant)", () => {
        const published = publishVersion(initial, v(2), T("2026-03-01T00:00:00Z"), rules);
        assert.deepStrictEqual(published.map((k) => k.state), ["active", "published"]);
        assert.strictEqual(activeVersion(published).name, v(1), "publishing does not change the signing version");

        throwsProblem(() => activateVersion(published, v(2), T("2026-03-02T00:00:00Z"), 7 * 86400, rules), /published for 86400s, less than the overlap of 604800s: wait until 2026-03-08T00:00:00.000Z/);

        const rotated = activateVersion(published, v(2), T("2026-03-08T00:00:00Z"), 7 * 86400, rules);
        assert.deepStrictEqual(rotated, [
            { name: v(1), state: "retired", validFrom: "2026-01-01T00:00:00Z", validUntil: "2026-03-08T00:00:00.000Z" },
            { name: v(2), state: "active", validFrom: "2026-03-01T00:00:00.000Z" },
        ]);
        assert.strictEqual(activeVersion(rotated).name, v(2));
        // The retired version still verifies what it signed before the switch, and nothing after it.
        assert.ok(validAt(rotated[0], T("2026-03-07T23:59:59Z")));
        assert.ok(!validAt(rotated[0], T("2026-03-08T00:00:00Z")));
        assert.ok(validAt(rotated[1], T("2026-03-08T00:00:00Z")));
        assert.ok(!validAt(rotated[1], T("2026-02-28T00:00:00Z")));
    });

    it("never lets a retired version sign again", () => {
        const rotated = activateVersion(publishVersion(initial, v(2), T("2026-03-01T00:00:00Z"), rules), v(2), T("2026-03-08T00:00:00Z"), 0, rules);
        throwsProblem(() => activateVersion(rotated, v(1), T("2026-04-01T00:00:00Z"), 0, rules), /is retired: only a published version can become active \(a retired version never signs again\)/);
        throwsProblem(() => publishVersion(rotated, v(1), T("2026-04-01T00:00:00Z"), rules), /already listed \(retired\)/);
    });

    it("refuses to retire the active version on its own (exactly one active)", () => {
        throwsProblem(() => retireVersion(initial, v(1), T("2026-02-01T00:00:00Z"), rules), /is the active version: activate its successor/);
    });

    it("withdraws a published version that never signed", () => {
        const withdrawn = retireVersion(publishVersion(initial, v(2), T("2026-03-01T00:00:00Z"), rules), v(2), T("2026-03-02T00:00:00Z"), rules);
        assert.deepStrictEqual(withdrawn.map((k) => k.state), ["active", "retired"]);
    });

    it("refuses activating an unknown or already active version", () => {
        throwsProblem(() => activateVersion(initial, v(9), T("2026-03-01T00:00:00Z"), 0, rules), /is not listed: publish it first/);
        throwsProblem(() => activateVersion(initial, v(1), T("2026-03-01T00:00:00Z"), 0, rules), /is active: only a published version/);
    });

    it("refuses a published version older than the active one (windows ordered)", () => {
        throwsProblem(() => publishVersion(initial, v(2), T("2025-12-01T00:00:00Z"), rules), /published from 2025-12-01T00:00:00.000Z, before the active version's/);
    });

    it("requires exactly one active version", () => {
        assert.match(keyVersionProblems([{ ...initial[0], state: "published" }], rules).join(), /exactly one active version .* found 0/);
        assert.match(keyVersionProblems([initial[0], { name: v(2), state: "active", validFrom: "2026-02-01T00:00:00Z" }], rules).join(), /found 2: .*\/1, .*\/2/);
    });

    it("requires retired versions to have an end after their start, and others to have none", () => {
        const p = keyVersionProblems(
            [
                initial[0],
                { name: v(2), state: "retired", validFrom: "2025-01-01T00:00:00Z" },
                { name: v(3), state: "retired", validFrom: "2025-01-01T00:00:00Z", validUntil: "2024-01-01T00:00:00Z" },
                { name: v(4), state: "published", validFrom: "2026-05-01T00:00:00Z", validUntil: "2026-06-01T00:00:00Z" },
            ],
            rules,
        );
        assert.ok(p.some((x) => /\[1\] is retired but has no validUntil/.test(x)), p.join("\n"));
        assert.ok(p.some((x) => /\[2\]\.validUntil 2024-01-01T00:00:00Z must be after validFrom/.test(x)), p.join("\n"));
        assert.ok(p.some((x) => /\[3\] is published but has validUntil/.test(x)), p.join("\n"));
    });

    it("refuses names that are not versions of the signing key, duplicates, bad states and times, all in one pass", () => {
        const p = keyVersionProblems(
            [
                { name: "projects/other/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1", state: "active", validFrom: "2026-01-01T00:00:00Z" },
                { name: "not-a-name", state: "bogus", validFrom: "soon", extra: 1 },
                { name: v(1), state: "published", validFrom: "2026-02-01T00:00:00Z" },
                { name: v(1), state: "published", validFrom: "2026-02-01T00:00:00Z" },
            ],
            rules,
        );
        for (const pattern of [/\[0\]\.name .* is not a version of projects\/signer-prj/, /\[1\]\.name "not-a-name" must be a full Cloud KMS name/, /\[1\]\.state "bogus" must be one of/, /\[1\]\.validFrom "soon" must be an ISO 8601/, /\[1\] has unknown field\(s\) extra/, /\[3\]\.name .* is listed twice/]) {
            assert.ok(p.some((x) => pattern.test(x)), `${pattern} not in:\n${p.join("\n")}`);
        }
        assert.match(keyVersionProblems([], rules).join(), /non-empty JSON array/);
    });

    it("parses a keyring document and refuses a malformed one", () => {
        const doc = {
            mediaType: "application/vnd.hardened-build-fleet.keyring.v1+json",
            builderId: "https://b",
            keys: [{ ...initial[0], algorithm: "EC_SIGN_P256_SHA256", publicKeyPem: "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n" }],
        };
        assert.strictEqual(parseKeyringDocument(doc).keys.length, 1);
        throwsProblem(() => parseKeyringDocument({ ...doc, mediaType: "x" }), /mediaType/);
        throwsProblem(() => parseKeyringDocument({ ...doc, keys: [{ ...doc.keys[0], publicKeyPem: "nope" }] }), /keys\[0\]\.publicKeyPem must be a PEM public key/);
        throwsProblem(() => parseKeyringDocument({ ...doc, keys: [{ ...doc.keys[0], state: "published" }] }), /exactly one active/);
    });
});
