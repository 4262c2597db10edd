import * as assert from "assert";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { cli, simulate, SimSummary } from "../../../services/sim/simulate";
import { LocalRegistry, startLocalRegistry } from "../../../services/sim/localRegistry";
import { startRegistryGate } from "../../../services/sim/registryGate";
import { IdentityIssuer } from "../../../services/sim/identityIssuer";
import { IdTokenVerifier } from "../../../services/lib/idToken";
import { fetchBlob, opensslVerifyEnvelope, sha256, skopeoRaw } from "../../helpers/registry";

describe("simulation with images (--images --registry): published by the control plane, attested, attacks refused", function () {
    this.timeout(180_000);
    let out: string;
    let registry: LocalRegistry;
    let summary: SimSummary;

    before(async () => {
        out = mkdtempSync(path.join(tmpdir(), "hbf-sim-img-"));
        registry = await startLocalRegistry();
        summary = await simulate({ jobs: 2, pools: 1, out, concurrency: 2, images: true, registry: registry.host });
    });
    after(async () => {
        rmSync(out, { recursive: true, force: true });
        await registry?.stop();
    });

    it("lists one image per job in summary.json, each verified", () => {
        assert.strictEqual(summary.ok, true, JSON.stringify(summary, null, 1));
        const written = JSON.parse(readFileSync(path.join(out, "summary.json"), "utf8")) as SimSummary;
        assert.deepStrictEqual(written.images, summary.images);
        assert.strictEqual(summary.images!.length, 2);
        for (const [i, image] of summary.images!.entries()) {
            assert.match(image.repository, new RegExp(`^127\\.0\\.0\\.1:\\d+/releases/${summary.jobs[i].repository}$`));
            assert.match(image.digest, /^sha256:[a-f0-9]{64}$/);
            assert.strictEqual(image.attestation.tag, `sha256-${image.digest.slice(7)}.att`);
            assert.strictEqual(image.verified, true);
        }
    });

    it("the images and attestations are in the registry (read with skopeo) and verify under keys.json (openssl)", async () => {
        const keyring = JSON.parse(readFileSync(path.join(out, "keys.json"), "utf8"));
        const pem = keyring.keys[0].publicKeyPem;
        for (const image of summary.images!) {
            const repoPath = image.repository.slice(image.repository.indexOf("/") + 1);
            // Read from the registry itself, not through the simulation's gate.
            assert.strictEqual(sha256(skopeoRaw(`${registry.host}/${repoPath}@${image.digest}`)), image.digest);
            const att = skopeoRaw(`${registry.host}/${repoPath}:${image.attestation.tag}`);
            assert.strictEqual(sha256(att), image.attestation.digest);
            const layer = JSON.parse(att.toString()).layers[0];
            const envelope = JSON.parse((await fetchBlob(registry.url, repoPath, layer.digest)).toString());
            const payload = opensslVerifyEnvelope(envelope, pem);
            assert.ok(payload, `${image.repository}: the attestation verifies under the fleet's key`);
            assert.deepStrictEqual(JSON.parse(payload.toString()).subject, [{ name: image.repository, digest: { sha256: image.digest.slice(7) } }]);
        }
    });

    it("refuses every image attack, each for its own reason", () => {
        const byName = new Map(summary.attacks.map((a) => [a.name, a]));
        const expected: [string, number, string][] = [
            ["image-missing-blob", 422, "invalid-image-layout"],
            ["image-digest-mismatch", 422, "invalid-image-layout"],
            ["image-oversized-layer", 422, "invalid-image-layout"],
            ["image-other-tenant", 422, "image-repository"],
            ["runner-pushes-to-registry", 403, "DENIED"],
        ];
        for (const [name, status, code] of expected) {
            const a = byName.get(name);
            assert.ok(a, `attack ${name} ran`);
            assert.strictEqual(a.refused, true, JSON.stringify(a));
            assert.strictEqual(a.status, status, JSON.stringify(a));
            assert.strictEqual(a.code, code, JSON.stringify(a));
        }
        assert.match(byName.get("image-missing-blob")!.message!, /is not in the layout/);
        assert.match(byName.get("image-digest-mismatch")!.message!, /holds bytes whose digest is/);
        assert.match(byName.get("image-oversized-layer")!.message!, /above the limit of 1048576 bytes/);
        assert.match(byName.get("runner-pushes-to-registry")!.message!, /pool-a-runner@.* may not write to this registry/);
    });

    it("without the gate's writer check, the runner's direct push would be accepted (what the IAM grant prevents)", async () => {
        const issuer = await IdentityIssuer.start();
        const runner = "pool-a-runner@sim-workers.iam.gserviceaccount.com";
        const audience = "https://registry.example";
        for (const [writers, status] of [[["publisher@cp.iam.gserviceaccount.com"], 403], [[runner], 202]] as const) {
            const gate = await startRegistryGate({ upstream: registry.url, verifier: new IdTokenVerifier({ audience, certs: issuer.certSource() }), writers: [...writers] });
            try {
                const token = issuer.mint({ audience, email: runner });
                const res = await fetch(`${gate.url}/v2/releases/acme/app/blobs/uploads/`, { method: "POST", headers: { authorization: `Basic ${Buffer.from(`oauth2accesstoken:${token}`).toString("base64")}` } });
                await res.arrayBuffer();
                assert.strictEqual(res.status, status, `writers ${writers.join(",")}`);
            } finally {
                await gate.close();
            }
        }
        await issuer.close();
    });

    it("validates --images and --registry", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "hbf-sim-cli-"));
        const errors: string[] = [];
        const write = process.stderr.write;
        process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
        try {
            assert.strictEqual(await cli(["--registry", "127.0.0.1:5000", "--out", dir]), 2);
            assert.strictEqual(await cli(["--images", "--registry", "not a host", "--out", dir]), 2);
        } finally {
            process.stderr.write = write;
            rmSync(dir, { recursive: true, force: true });
        }
        assert.match(errors.join(""), /--registry needs --images/);
        assert.match(errors.join(""), /--registry "not a host" must be host:port/);
    });
});
