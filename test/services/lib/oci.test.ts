import * as assert from "assert";
import * as crypto from "crypto";
import { Readable } from "stream";
import * as tar from "tar-stream";
import { attachAttestations, attestationTag, COSIGN_SIGNATURE_ANNOTATION } from "../../../services/lib/oci/cosignAttestations";
import { LayoutError, type LayoutLimits, MEDIA_TYPE, readImageLayout } from "../../../services/lib/oci/layout";
import { pushImage } from "../../../services/lib/oci/registry";
import { buildImageLayout } from "../../../services/sim/ociFixture";
import { LocalRegistry, startLocalRegistry } from "../../../services/sim/localRegistry";
import { fetchBlob, opensslVerifyEnvelope, paeOf, sha256, skopeoRaw } from "../../helpers/registry";

const LIMITS = { maxLayerBytes: 64 * 1024 };

async function problemsOf(bytes: Buffer, limits: LayoutLimits = LIMITS): Promise<string[]> {
    try {
        await readImageLayout(bytes, limits);
    } catch (err) {
        assert.ok(err instanceof LayoutError, String(err));
        return err.problems;
    }
    assert.fail("the layout was accepted");
}

function tarOf(entries: { name: string; body?: string; type?: "file" | "symlink"; linkname?: string }[]): Promise<Buffer> {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on("data", (c) => void chunks.push(c as Buffer));
    const done = new Promise<Buffer>((r) => pack.on("end", () => r(Buffer.concat(chunks))));
    for (const e of entries) {
        if (e.type === "symlink") {
            pack.entry({ name: e.name, type: "symlink", linkname: e.linkname });
        } else {
            pack.entry({ name: e.name }, e.body ?? "");
        }
    }
    pack.finalize();
    return done;
}

describe("OCI image layouts (validation before anything is pushed)", () => {
    it("accepts a layout and computes the manifest digest from the bytes", async () => {
        const fx = await buildImageLayout({ content: "ok" });
        const layout = await readImageLayout(fx.tar, LIMITS);
        assert.strictEqual(layout.root.digest, fx.digest);
        assert.strictEqual(layout.root.mediaType, MEDIA_TYPE.manifest);
        assert.strictEqual(layout.manifests.length, 1);
        assert.strictEqual(sha256(layout.manifests[0].bytes), fx.digest);
        assert.strictEqual(layout.blobs.size, 2, "config and layer");
        assert.ok(layout.blobs.has(fx.layerDigest));
    });

    it("holds only the JSON blobs: a layer is hashed as it streams by, and the whole tar's digest comes from the same pass", async () => {
        const fx = await buildImageLayout({ content: "streamed", layerPadding: 32 * 1024 });
        let opened = 0;
        const layout = await readImageLayout(async () => (opened++, Readable.from([fx.tar.subarray(0, 700), fx.tar.subarray(700)])), LIMITS);
        assert.strictEqual(opened, 1);
        const layer = layout.blobs.get(fx.layerDigest)!;
        assert.ok("entry" in layer && !("bytes" in layer), "the layer is not held in memory");
        assert.strictEqual(layer.entry, `blobs/sha256/${fx.layerDigest.slice(7)}`);
        const config = [...layout.blobs.values()].find((b) => "bytes" in b);
        assert.ok(config !== undefined, "the config is held (it is parsed)");
        assert.deepStrictEqual(layout.tar, { digest: sha256(fx.tar), size: fx.tar.length });
    });

    it("refuses a tar above maxTarBytes while it streams, and a manifest that cannot be held", async () => {
        const fx = await buildImageLayout({ content: "big" });
        const over = await problemsOf(fx.tar, { ...LIMITS, maxTarBytes: 2048 });
        assert.ok(over.includes("the upload is larger than 2048 bytes"), over.join("\n"));
        await readImageLayout(fx.tar, { ...LIMITS, maxTarBytes: fx.tar.length });
        const held = await problemsOf(fx.tar, { ...LIMITS, maxHeldBytes: 16 });
        assert.ok(held.some((p) => /the layout's JSON blobs exceed 16 bytes in all/.test(p)), held.join("\n"));
    });

    it("refuses an index that points at a blob the layout does not hold", async () => {
        const fx = await buildImageLayout({ dropManifestBlob: true });
        const problems = await problemsOf(fx.tar);
        assert.deepStrictEqual(problems, [`the image manifest ${fx.digest} is not in the layout (no blobs/sha256/${fx.digest.slice(7)})`]);
    });

    it("refuses a blob whose bytes do not hash to its name (digest mismatch)", async () => {
        const fx = await buildImageLayout({ tamperLayer: true });
        const problems = await problemsOf(fx.tar);
        assert.strictEqual(problems.length, 1);
        assert.match(problems[0], new RegExp(`^the image manifest\\.layers\\[0\\]: blobs/sha256/${fx.layerDigest.slice(7)} holds bytes whose digest is sha256:[a-f0-9]{64}, not ${fx.layerDigest}$`));
    });

    it("refuses a layer above the size limit without reading it", async () => {
        const fx = await buildImageLayout({ layerPadding: 100 * 1024 });
        const problems = await problemsOf(fx.tar);
        assert.strictEqual(problems.length, 1);
        assert.match(problems[0], new RegExp(`^the image manifest\\.layers\\[0\\] ${fx.layerDigest} is \\d+ bytes, above the limit of 65536 bytes$`));
        // The same layout passes under a limit that fits it: the limit is what refused it.
        await readImageLayout(fx.tar, { maxLayerBytes: 1024 * 1024 });
    });

    it("reports every problem in one pass: links, duplicates, a missing marker, several images", async () => {
        const problems = await problemsOf(await tarOf([
            { name: "index.json", body: JSON.stringify({ schemaVersion: 2, manifests: [{}, {}] }) },
            { name: "blobs/sha256/" + "a".repeat(64), type: "symlink", linkname: "/etc/passwd" },
            { name: "blobs/sha256/" + "b".repeat(64), body: "1" },
            { name: "./blobs/sha256/" + "b".repeat(64), body: "2" },
            { name: "unrelated.txt", body: "never read" },
        ]));
        assert.deepStrictEqual(problems, [
            `tar entry "blobs/sha256/${"a".repeat(64)}" is a symlink; an OCI layout holds only files and directories`,
            `tar entry "blobs/sha256/${"b".repeat(64)}" appears twice`,
            "oci-layout is missing: export the image with --output type=oci",
            "index.json must list exactly one image (manifests has 2): upload one layout per image",
        ]);
    });

    it("refuses Docker media types and non-sha256 digests, naming the fix", async () => {
        const problems = await problemsOf(await tarOf([
            { name: "oci-layout", body: '{"imageLayoutVersion":"1.0.0"}' },
            { name: "index.json", body: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.docker.distribution.manifest.v2+json", digest: `sha512:${"a".repeat(128)}`, size: 1 }] }) },
        ]));
        assert.deepStrictEqual(problems, [`index.json manifests[0].digest "sha512:${"a".repeat(128)}" is not sha256:<64 hex> (the fleet publishes sha256 digests only)`]);
        const docker = await problemsOf(await tarOf([
            { name: "oci-layout", body: '{"imageLayoutVersion":"1.0.0"}' },
            { name: "index.json", body: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.docker.distribution.manifest.v2+json", digest: `sha256:${"a".repeat(64)}`, size: 1 }] }) },
        ]));
        assert.match(docker[0], /is neither .* export with --output type=oci \(oci-mediatypes=true\)$/);
    });

    it("refuses a descriptor whose size is not the blob's, and accepts the same layout with the right size", async () => {
        const fx = await buildImageLayout({ content: "sized", manifestSizeDelta: 1 });
        const problems = await problemsOf(fx.tar);
        assert.strictEqual(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], new RegExp(`^the image manifest ${fx.digest} is (\\d+) bytes, but its descriptor says (\\d+)$`));
        const [, actual, stated] = /is (\d+) bytes, but its descriptor says (\d+)$/.exec(problems[0])!;
        assert.strictEqual(Number(stated), Number(actual) + 1);
        await readImageLayout((await buildImageLayout({ content: "sized", manifestSizeDelta: 0 })).tar, LIMITS);
    });

    it("refuses a Docker layer or config media type inside an OCI manifest (each the only change)", async () => {
        const layer = await problemsOf((await buildImageLayout({ layerMediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip" })).tar);
        assert.strictEqual(layer.length, 1, layer.join("\n"));
        assert.match(layer[0], /layers\[0\] mediaType "application\/vnd\.docker\.image\.rootfs\.diff\.tar\.gzip" is not an OCI layer type/);
        const config = await problemsOf((await buildImageLayout({ configMediaType: "application/vnd.docker.container.image.v1+json" })).tar);
        assert.strictEqual(config.length, 1, config.join("\n"));
        assert.match(config[0], /config mediaType "application\/vnd\.docker\.container\.image\.v1\+json" is not application\/vnd\.oci\.image\.config\.v1\+json/);
        // The defaults are what the fleet accepts.
        await readImageLayout((await buildImageLayout({ layerMediaType: "application/vnd.oci.image.layer.v1.tar+gzip", configMediaType: MEDIA_TYPE.config })).tar, LIMITS);
    });

    it("refuses bytes that are not a tar", async () => {
        const problems = await problemsOf(Buffer.from("not a tar archive at all, just text ".repeat(20)));
        assert.ok(problems.some((p) => p.startsWith("the upload is not a readable tar archive")), problems.join("\n"));
    });
});

describe("pushing to a real registry and attaching attestations in cosign's scheme", function () {
    let registry: LocalRegistry;
    before(async () => {
        registry = await startLocalRegistry();
    });
    after(() => registry?.stop());

    it("streams a layer from a second pass over the tar into the registry; the registry serves exactly its bytes", async () => {
        const fx = await buildImageLayout({ content: "second pass", layerPadding: 48 * 1024 });
        let opened = 0;
        const layout = await readImageLayout(async () => (opened++, Readable.from([fx.tar])), LIMITS);
        await pushImage({ registry: registry.host, repository: "acme/streamed" }, layout);
        assert.strictEqual(opened, 2, "one pass to validate, one to push");
        assert.strictEqual(sha256(await fetchBlob(registry.url, "acme/streamed", fx.layerDigest)), fx.layerDigest);
        assert.strictEqual(sha256(skopeoRaw(`${registry.host}/acme/streamed@${fx.digest}`)), fx.digest);
    });

    it("pushes by digest; skopeo reads back exactly the manifest bytes whose digest was computed", async () => {
        const fx = await buildImageLayout({ content: "pushed" });
        const layout = await readImageLayout(fx.tar, LIMITS);
        const digest = await pushImage({ registry: registry.host, repository: "acme/app" }, layout);
        assert.strictEqual(digest, fx.digest);
        const raw = skopeoRaw(`${registry.host}/acme/app@${digest}`);
        assert.strictEqual(sha256(raw), fx.digest);
        const manifest = JSON.parse(raw.toString());
        for (const d of [manifest.config, ...manifest.layers]) {
            assert.strictEqual(sha256(await fetchBlob(registry.url, "acme/app", d.digest)), d.digest);
        }
    });

    it("attaches a DSSE envelope at sha256-<hex>.att with cosign's media type and annotations; openssl verifies it", async () => {
        const fx = await buildImageLayout({ content: "attested" });
        await pushImage({ registry: registry.host, repository: "acme/app" }, await readImageLayout(fx.tar, LIMITS));
        const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
        const statement = { _type: "https://in-toto.io/Statement/v1", subject: [{ name: `${registry.host}/acme/app`, digest: { sha256: fx.digest.slice(7) } }], predicateType: "https://slsa.dev/provenance/v1", predicate: {} };
        const payload = Buffer.from(JSON.stringify(statement));
        const sig = crypto.sign("sha256", paeOf("application/vnd.in-toto+json", payload), privateKey);
        const envelope = { payloadType: "application/vnd.in-toto+json", payload: payload.toString("base64"), signatures: [{ keyid: "k1", sig: sig.toString("base64") }] };

        const where = await attachAttestations({ registry: registry.host, repository: "acme/app" }, fx.digest, [{ envelope, predicateType: statement.predicateType }]);
        assert.strictEqual(where.tag, `sha256-${fx.digest.slice(7)}.att`);
        assert.strictEqual(where.tag, attestationTag(fx.digest));

        const raw = skopeoRaw(`${registry.host}/acme/app:${where.tag}`);
        assert.strictEqual(sha256(raw), where.digest);
        const att = JSON.parse(raw.toString());
        assert.strictEqual(att.mediaType, "application/vnd.oci.image.manifest.v1+json");
        assert.strictEqual(att.config.mediaType, "application/vnd.oci.image.config.v1+json");
        assert.strictEqual(att.layers.length, 1);
        assert.strictEqual(att.layers[0].mediaType, "application/vnd.dsse.envelope.v1+json");
        assert.deepStrictEqual(att.layers[0].annotations, { [COSIGN_SIGNATURE_ANNOTATION]: "", predicateType: "https://slsa.dev/provenance/v1" });
        const layer = JSON.parse((await fetchBlob(registry.url, "acme/app", att.layers[0].digest)).toString());
        const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
        const verified = opensslVerifyEnvelope(layer, pem);
        assert.ok(verified, "openssl verifies the attached envelope under the public key");
        assert.strictEqual(JSON.parse(verified.toString()).subject[0].digest.sha256, fx.digest.slice(7));
        // A different key does not verify it: the check can fail.
        const other = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }).toString();
        assert.strictEqual(opensslVerifyEnvelope(layer, other), undefined);
    });

    it("refuses to attach to an image the registry does not have", async () => {
        const envelope = { payloadType: "application/vnd.in-toto+json", payload: "e30=", signatures: [{ keyid: "", sig: "c2ln" }] };
        await assert.rejects(attachAttestations({ registry: registry.host, repository: "acme/app" }, `sha256:${"0".repeat(64)}`, [{ envelope, predicateType: "x" }]));
    });
});
