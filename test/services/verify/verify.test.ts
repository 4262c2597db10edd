import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { pae } from "../../../services/lib/dsse";
import { KEYRING_MEDIA_TYPE } from "../../../services/lib/keyring";
import { main, normalizeRepository } from "../../../services/verify/verify";
import { ARTIFACT, BUILDER_ID, p256, statement, TestKey } from "../../helpers/signer";
import { REPO_ROOT } from "../../helpers/paths";

const ROOT = REPO_ROOT;
const TYPE = "application/vnd.in-toto+json";
const V = (n: number) => `projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/${n}`;

function envelope(stmt: unknown, key: TestKey, keyid = V(2), payloadType = TYPE): any {
    const payload = Buffer.from(JSON.stringify(stmt));
    const sig = crypto.sign("sha256", pae(payloadType, payload), { key: key.privateKey, dsaEncoding: "der" });
    return { payloadType, payload: payload.toString("base64"), signatures: [{ keyid, sig: sig.toString("base64") }] };
}

function keyring(entries: { key: TestKey; name: string; state: string; validFrom: string; validUntil?: string }[], builderId = BUILDER_ID) {
    return {
        mediaType: KEYRING_MEDIA_TYPE,
        builderId,
        keys: entries.map((e) => ({ name: e.name, state: e.state, validFrom: e.validFrom, ...(e.validUntil ? { validUntil: e.validUntil } : {}), algorithm: "EC_SIGN_P256_SHA256", publicKeyPem: e.key.publicPem })),
    };
}

describe("hardened-build-fleet-verify", () => {
    let dir: string;
    let active: TestKey;
    let retired: TestKey;
    const file = (name: string, content: string | Buffer) => {
        const p = path.join(dir, name);
        writeFileSync(p, content);
        return p;
    };
    /** Runs the CLI; the source repository is added unless the test gives its own policy flags. */
    async function run(args: string[], withSource = !args.includes("--source-uri")): Promise<{ code: number; out: string[]; err: string[] }> {
        const out: string[] = [];
        const err: string[] = [];
        const code = await main(withSource ? [...args, "--source-uri", "github.com/example-org/app"] : args, { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
        return { code, out, err };
    }
    let keysFile: string;
    let artifactFile: string;

    before(() => {
        dir = mkdtempSync(path.join(tmpdir(), "hbf-verify-"));
        active = p256();
        retired = p256();
        keysFile = file(
            "keyring.json",
            JSON.stringify(
                keyring([
                    { key: retired, name: V(1), state: "retired", validFrom: "2020-01-01T00:00:00Z", validUntil: "2025-01-01T00:00:00Z" },
                    { key: active, name: V(2), state: "active", validFrom: "2024-12-01T00:00:00Z" },
                ]),
            ),
        );
        artifactFile = file("app.tgz", ARTIFACT);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    async function expectNotVerified(args: string[], reason: RegExp): Promise<void> {
        const r = await run(args);
        assert.strictEqual(r.code, 1, JSON.stringify(r));
        assert.strictEqual(r.err.length, 1, "one line saying why");
        assert.match(r.err[0], /^not verified: /);
        assert.match(r.err[0], reason);
        assert.deepStrictEqual(r.out, []);
    }

    it("--help prints the usage and the exit codes on stdout and exits 0; an unknown option is bad input (2)", async () => {
        for (const flag of ["--help", "-h"]) {
            const r = await run([flag]);
            assert.strictEqual(r.code, 0, JSON.stringify(r));
            assert.match(r.out[0], /^usage: hardened-build-fleet-verify \(--bundle <file\.sigstore\.json> --trusted-root <trusted_root\.json> \| --envelope <file>\) --artifact <file> --keys /);
            assert.match(r.out[1], /^exit codes: 0 verified, 1 not verified/);
            assert.deepStrictEqual(r.err, []);
        }
        const unknown = await run(["--nope"]);
        assert.strictEqual(unknown.code, 2);
        assert.match(unknown.err[0], /^error: Unknown option '--nope'/);
    });

    it("verifies an .intoto.jsonl envelope against the artifact, the keyring, its builder id and the source", async () => {
        const env = file("ok.intoto.jsonl", `${JSON.stringify(envelope(statement(), active))}\n`);
        const r = await run(["--envelope", env, "--artifact", artifactFile, "--keys", keysFile, "--source-uri", "github.com/example-org/app"]);
        assert.strictEqual(r.code, 0, JSON.stringify(r));
        assert.match(r.out[0], /^verified: dist\/app\.tgz sha256:[0-9a-f]{64} built by https:\/\/github\.com\/example-org\/build-fleet\/builder@v1 from https:\/\/github\.com\/example-org\/app \(invocation .*\), signed by .*cryptoKeyVersions\/2$/);
    });

    it("verifies with a bare PEM key and an explicit builder id; a single-JSON envelope file", async () => {
        const env = file("ok.json", JSON.stringify(envelope(statement(), active)));
        const pem = file("active.pem", active.publicPem);
        const r = await run(["--envelope", env, "--artifact", artifactFile, "--keys", pem, "--builder-id", BUILDER_ID]);
        assert.strictEqual(r.code, 0, JSON.stringify(r));
    });

    it("finds the envelope for the artifact among several lines", async () => {
        const other = envelope(statement(undefined, Buffer.from("other artifact")), active);
        const env = file("two.intoto.jsonl", `${JSON.stringify(other)}\n${JSON.stringify(envelope(statement(), active))}\n`);
        assert.strictEqual((await run(["--envelope", env, "--artifact", artifactFile, "--keys", keysFile])).code, 0);
    });

    it("refuses a tampered payload", async () => {
        const e = envelope(statement(), active);
        const forged = Buffer.from(e.payload, "base64").toString().replace("refs/heads/main", "refs/heads/evil");
        const env = file("tampered.json", JSON.stringify({ ...e, payload: Buffer.from(forged).toString("base64") }));
        await expectNotVerified(["--envelope", env, "--artifact", artifactFile, "--keys", keysFile], /no signature verifies under the given keys/);
    });

    it("refuses a signature by a key that is not published, even when its keyid names a published version", async () => {
        const env = file("wrongkey.json", JSON.stringify(envelope(statement(), p256(), V(2))));
        await expectNotVerified(["--envelope", env, "--artifact", artifactFile, "--keys", keysFile], /no signature verifies/);
    });

    it("refuses a wrong builder id (the keyring's, or the one given)", async () => {
        const env = file("builder.json", JSON.stringify(envelope(statement((s) => (s.predicate.runDetails.builder.id = "https://attacker.example/b")), active)));
        await expectNotVerified(["--envelope", env, "--artifact", artifactFile, "--keys", keysFile], /builder id "https:\/\/attacker\.example\/b" is not the expected/);
        const ok = file("ok2.json", JSON.stringify(envelope(statement(), active)));
        await expectNotVerified(["--envelope", ok, "--artifact", artifactFile, "--keys", keysFile, "--builder-id", "https://other.example/b"], /is not the expected "https:\/\/other\.example\/b"/);
    });

    it("refuses an artifact that is not a subject", async () => {
        const env = file("ok3.json", JSON.stringify(envelope(statement(), active)));
        await expectNotVerified(["--envelope", env, "--artifact", file("other.bin", "different bytes"), "--keys", keysFile], /the artifact's sha256 [0-9a-f]{64} is not a subject/);
    });

    it("refuses another source repository", async () => {
        const env = file("ok4.json", JSON.stringify(envelope(statement(), active)));
        await expectNotVerified(["--envelope", env, "--artifact", artifactFile, "--keys", keysFile, "--source-uri", "https://github.com/example-org/app-fork"], /source repository "https:\/\/github\.com\/example-org\/app" is not the expected/);
    });

    it("honours key validity windows at the statement's finish time", async () => {
        // A retired version's signature on a statement finished after it was retired.
        const env = file("retired.json", JSON.stringify(envelope(statement(), retired, V(1))));
        await expectNotVerified(["--envelope", env, "--artifact", artifactFile, "--keys", keysFile], /key version .*\/1 \(retired\) is valid 2020-01-01T00:00:00Z to 2025-01-01T00:00:00Z, not at the statement's finishedOn/);
        // The same version verifies what it signed inside its window, once the consumer accepts an untimestamped retired key.
        const old = statement((s) => {
            s.predicate.runDetails.metadata.startedOn = "2024-06-01T00:00:00Z";
            s.predicate.runDetails.metadata.finishedOn = "2024-06-01T01:00:00Z";
        });
        assert.strictEqual((await run(["--envelope", file("old.json", JSON.stringify(envelope(old, retired, V(1)))), "--artifact", artifactFile, "--keys", keysFile, "--allow-untimestamped"])).code, 0);
        // The active version is not valid before its validFrom.
        await expectNotVerified(["--envelope", file("early.json", JSON.stringify(envelope(old, active))), "--artifact", artifactFile, "--keys", keysFile], /cryptoKeyVersions\/2 \(active\) is valid 2024-12-01T00:00:00Z to now/);
    });

    it("refuses a retired key's untimestamped envelope (backdating), unless --allow-untimestamped", async () => {
        // Whoever holds the retired key signs a statement of their choosing, dated inside the key's old window.
        const backdated = statement((s) => {
            s.predicate.runDetails.metadata.startedOn = "2024-06-01T00:00:00Z";
            s.predicate.runDetails.metadata.finishedOn = "2024-06-01T01:00:00Z";
        });
        const env = file("backdated.json", JSON.stringify(envelope(backdated, retired, V(1))));
        await expectNotVerified(["--envelope", env, "--artifact", artifactFile, "--keys", keysFile],
            /key version .*cryptoKeyVersions\/1 is retired and the envelope has no trusted timestamp: its finishedOn could be backdated.*--allow-untimestamped/);
        const allowed = await run(["--envelope", env, "--artifact", artifactFile, "--keys", keysFile, "--allow-untimestamped"]);
        assert.strictEqual(allowed.code, 0, JSON.stringify(allowed));
        // The active version's untimestamped envelope needs no flag.
        assert.strictEqual((await run(["--envelope", file("active-ok.json", JSON.stringify(envelope(statement(), active))), "--artifact", artifactFile, "--keys", keysFile])).code, 0);
        // The flag has no meaning for a bundle, whose timestamp is always required.
        const bundleFlag = await run(["--bundle", env, "--trusted-root", keysFile, "--artifact", artifactFile, "--keys", keysFile, "--allow-untimestamped"]);
        assert.strictEqual(bundleFlag.code, 2, JSON.stringify(bundleFlag));
    });

    it("refuses another payload type and another predicate type", async () => {
        await expectNotVerified(["--envelope", file("ptype.json", JSON.stringify(envelope(statement(), active, V(2), "text/plain"))), "--artifact", artifactFile, "--keys", keysFile], /payloadType "text\/plain" is not application\/vnd\.in-toto\+json/);
        const v02 = file("v02.json", JSON.stringify(envelope(statement((s) => (s.predicateType = "https://slsa.dev/provenance/v0.2")), active)));
        await expectNotVerified(["--envelope", v02, "--artifact", artifactFile, "--keys", keysFile], /predicateType "https:\/\/slsa\.dev\/provenance\/v0\.2" is not https:\/\/slsa\.dev\/provenance\/v1/);
    });

    const badInputs: [string, () => string[], RegExp][] = [
        ["a missing envelope file", () => ["--envelope", path.join(dir, "nope.json"), "--artifact", artifactFile, "--keys", keysFile], /--envelope .*nope\.json cannot be read: ENOENT/],
        ["an envelope that is not JSON", () => ["--envelope", file("junk.json", "hello"), "--artifact", artifactFile, "--keys", keysFile], /is not a DSSE envelope: line 1 of the envelope file is not JSON/],
        ["an envelope without signatures", () => ["--envelope", file("nosig.json", JSON.stringify({ payloadType: TYPE, payload: "e30=", signatures: [] })), "--artifact", artifactFile, "--keys", keysFile], /signatures must be a non-empty array/],
        ["a non-base64 payload", () => ["--envelope", file("b64.json", JSON.stringify({ payloadType: TYPE, payload: "***", signatures: [{ sig: "AA==" }] })), "--artifact", artifactFile, "--keys", keysFile], /payload is not standard base64/],
        ["keys that are neither a keyring nor a PEM", () => ["--envelope", file("e.json", JSON.stringify(envelope(statement(), active))), "--artifact", artifactFile, "--keys", file("k.txt", "hello")], /--keys must be a keyring document .* or a PEM public key/],
        ["a keyring without an active version", () => ["--envelope", file("e2.json", JSON.stringify(envelope(statement(), active))), "--artifact", artifactFile, "--keys", file("k.json", JSON.stringify(keyring([{ key: active, name: V(2), state: "published", validFrom: "2024-01-01T00:00:00Z" }])))], /exactly one active/],
        ["a PEM key without --builder-id", () => ["--envelope", file("e3.json", JSON.stringify(envelope(statement(), active))), "--artifact", artifactFile, "--keys", file("a.pem", active.publicPem)], /--builder-id is required with a PEM key/],
        ["a missing --artifact", () => ["--envelope", file("e4.json", "{}"), "--keys", keysFile], /--artifact is required/],
        ["an unknown flag", () => ["--envelopes", "x"], /Unknown option '--envelopes'/],
    ];
    for (const [what, args, message] of badInputs) {
        it(`exits 2 on ${what}`, async () => {
            const r = await run(args());
            assert.strictEqual(r.code, 2, JSON.stringify(r));
            assert.match(r.err[0], /^error: /);
            assert.match(r.err[0], message);
            assert.match(r.err[1], /^usage: hardened-build-fleet-verify/);
        });
    }

    describe("source policy", () => {
        const ok = () => file("policy.json", JSON.stringify(envelope(statement(), active)));
        const base = () => ["--envelope", ok(), "--artifact", artifactFile, "--keys", keysFile, "--source-uri", "https://github.com/example-org/app"];

        it("requires --source-uri: without it any tenant's build would verify", async () => {
            const r = await run(["--envelope", ok(), "--artifact", artifactFile, "--keys", keysFile], false);
            assert.strictEqual(r.code, 2, JSON.stringify(r));
            assert.match(r.err[0], /^error: --source-uri is required/);
            assert.deepStrictEqual(r.out, []);
        });

        it("checks the ref, workflow and event, and prints every check it made", async () => {
            const r = await run([...base(), "--source-branch", "main", "--workflow", ".github/workflows/build.yml", "--event", "push"]);
            assert.strictEqual(r.code, 0, JSON.stringify(r));
            assert.match(r.out[1], /^checked: DSSE signature by .*cryptoKeyVersions\/2; subject sha256:[0-9a-f]{64} \(dist\/app\.tgz\); builder id https:\/\/github\.com\/example-org\/build-fleet\/builder@v1; source repository https:\/\/github\.com\/example-org\/app; source ref refs\/heads\/main; workflow \.github\/workflows\/build\.yml; event push$/);
            assert.strictEqual((await run([...base(), "--source-ref", "refs/heads/main"])).code, 0);
        });

        it("refuses a tag where a branch was expected, another workflow and another event", async () => {
            await expectNotVerified([...base(), "--source-tag", "main"], /source ref "refs\/heads\/main" is not the expected "refs\/tags\/main"/);
            await expectNotVerified([...base(), "--source-ref", "refs/pull/42/merge"], /source ref "refs\/heads\/main" is not the expected "refs\/pull\/42\/merge"/);
            await expectNotVerified([...base(), "--workflow", ".github/workflows/other.yml"], /workflow "\.github\/workflows\/build\.yml" is not the expected/);
            await expectNotVerified([...base(), "--event", "pull_request"], /event "push" is not the expected "pull_request"/);
        });

        it("refuses a ref check on a statement that records no fully qualified ref", async () => {
            const bare = file("bare.json", JSON.stringify(envelope(statement((s) => delete s.predicate.buildDefinition.externalParameters.workflow.ref), active)));
            await expectNotVerified(["--envelope", bare, "--artifact", artifactFile, "--keys", keysFile, "--source-uri", "github.com/example-org/app", "--source-branch", "main"],
                /the statement records no source ref \(externalParameters\.workflow\.ref\)/);
        });

        it("answers ambiguous or malformed ref flags with exit 2, all problems at once", async () => {
            const r = await run([...base(), "--source-branch", "refs/heads/main", "--source-tag", "v1", "--source-ref", "main"]);
            assert.strictEqual(r.code, 2, JSON.stringify(r));
            assert.match(r.err[0], /--source-ref, --source-branch, --source-tag: give at most one of them/);
            assert.match(r.err[0], /--source-ref "main" is not a fully qualified ref/);
            assert.match(r.err[0], /--source-branch "refs\/heads\/main" must be a bare branch name/);
        });

        it("--help prints the usage and the policy flags and exits 0", async () => {
            for (const flag of ["--help", "-h"]) {
                const r = await run([flag], false);
                assert.strictEqual(r.code, 0, JSON.stringify(r));
                assert.match(r.out[0], /^usage: hardened-build-fleet-verify .*--source-uri <repo>/);
                for (const f of ["--source-ref", "--source-branch", "--source-tag", "--workflow", "--event"]) {
                    assert.ok(r.out.some((l) => l.startsWith(`  ${f} `)), f);
                }
                assert.deepStrictEqual(r.err, []);
            }
            const bin = spawnSync(process.execPath, [path.join(ROOT, "bin", "hardened-build-fleet-verify.js"), "--help"], { encoding: "utf8" });
            assert.strictEqual(bin.status, 0, bin.stderr);
            assert.match(bin.stdout, /^usage: hardened-build-fleet-verify/);
        });
    });

    it("normalizes repository URIs for --source-uri", () => {
        for (const same of ["https://github.com/o/r", "git+https://GitHub.com/o/r.git", "github.com/o/r/", "http://github.com/o/r"]) {
            assert.strictEqual(normalizeRepository(same), "github.com/o/r", same);
        }
        assert.notStrictEqual(normalizeRepository("github.com/o/r2"), normalizeRepository("github.com/o/r"));
    });

    it("runs as the package bin (one process: the exit code and the one line reach the shell)", () => {
        const bin = path.join(ROOT, "bin", "hardened-build-fleet-verify.js");
        const env = file("bin.json", JSON.stringify(envelope(statement(), active)));
        const r = spawnSync(process.execPath, [bin, "--envelope", env, "--artifact", file("bin-other", "x"), "--keys", keysFile, "--source-uri", "github.com/example-org/app"], { encoding: "utf8" });
        assert.strictEqual(r.status, 1, r.stderr);
        assert.match(r.stderr, /^not verified: the artifact's sha256 [0-9a-f]{64} is not a subject of the statement\n$/);
    });
});
