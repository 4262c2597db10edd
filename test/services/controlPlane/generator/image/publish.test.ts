import * as assert from "assert";
import * as crypto from "crypto";
import { mkdtempSync, rmSync } from "fs";
import type { AddressInfo } from "net";
import { tmpdir } from "os";
import * as path from "path";
import type { FastifyInstance } from "fastify";
import { buildGeneratorService, GeneratorService } from "../../../../../services/controlPlane/generator/app";
import { ImagePublisher } from "../../../../../services/controlPlane/generator/image/publish";
import { HttpError } from "../../../../../services/controlPlane/http";
import { Records } from "../../../../../services/controlPlane/records";
import { SignerClient } from "../../../../../services/controlPlane/signerClient";
import { IdTokenVerifier } from "../../../../../services/lib/idToken";
import { DirectoryStore, type ObjectStore } from "../../../../../services/lib/objectStore";
import { buildSignerApp } from "../../../../../services/signer/app";
import { FileSigningKey } from "../../../../../services/signer/signingKey";
import { simPool } from "../../../../../services/sim/fixtures";
import { IdentityIssuer } from "../../../../../services/sim/identityIssuer";
import { LocalRegistry, startLocalRegistry } from "../../../../../services/sim/localRegistry";
import { buildImageLayout, FixtureOptions } from "../../../../../services/sim/ociFixture";
import { finishedJob } from "../../../../helpers/jobScenario";
import { buildTrustedRoot } from "../../../../../services/lib/trustedRoot";
import { witnessesFor } from "../../../../../services/signer/attest";
import { LocalTsa, startLocalTsa } from "../../../../../services/sim/localTsa";
import { attestationImage } from "../../../../../services/lib/oci/cosignAttestations";
import { DistributionClient } from "../../../../../services/lib/oci/distribution";
import { startRegistryGate } from "../../../../../services/sim/registryGate";
import { catalog, fetchBlob, listTags, opensslVerifyEnvelope, sha256, skopeoRaw } from "../../../../helpers/registry";

const BUILDER = "https://example.com/builders/fleet@v1";

describe("generator: images pushed by the control plane, provenance attached where cosign finds it", function () {
    const pool = simPool("pool-a");
    let registry: LocalRegistry;
    let issuer: IdentityIssuer;
    let signer: FastifyInstance;
    let tsa: LocalTsa;
    let signerUrl: string;
    let publicKeyPem: string;
    let root: string;
    let records: Records;
    let intake: DirectoryStore;
    let signed: any[];

    before(async () => {
        [registry, issuer, tsa] = await Promise.all([startLocalRegistry(), IdentityIssuer.start(), startLocalTsa()]);
        const key = new FileSigningKey(crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey);
        publicKeyPem = (await key.publicKey()).pem;
        signer = buildSignerApp({
            builderId: BUILDER,
            versions: [{ name: key.name, state: "active", validFrom: "1970-01-01T00:00:00Z" }],
            signingKey: key,
            publicKeyOf: async () => key.publicKey(),
            store: new DirectoryStore(mkdtempSync(path.join(tmpdir(), "hbf-prov-"))),
            attestation: { witnesses: witnessesFor({ tsaUrl: tsa.url }), trustedRoot: buildTrustedRoot({ timestampAuthorities: [tsa.authority] }) },
            caller: { mode: "local" },
        });
        await signer.listen({ host: "127.0.0.1", port: 0 });
        signerUrl = `http://127.0.0.1:${(signer.server.address() as AddressInfo).port}`;
    });
    after(async () => {
        await Promise.all([registry?.stop(), signer?.close(), issuer?.close(), tsa?.close()]);
    });
    beforeEach(() => {
        root = mkdtempSync(path.join(tmpdir(), "hbf-genimg-"));
        records = new Records(new DirectoryStore(path.join(root, "records")));
        intake = new DirectoryStore(path.join(root, "intake"), () => new Date("2026-01-01T10:05:00Z"));
        signed = [];
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    const generator = (images?: ImagePublisher, store: ObjectStore = intake): GeneratorService => {
        const client = new SignerClient({ url: signerUrl, idToken: async () => "local" });
        return buildGeneratorService({
            pools: [pool],
            intake: { [pool.name]: store },
            records,
            signer: { sign: async (s) => (signed.push(s), client.sign(s)) },
            pushVerifier: new IdTokenVerifier({ audience: "https://gen.example", certs: issuer.certSource() }),
            pushServiceAccount: "push@x.iam.gserviceaccount.com",
            builderId: BUILDER,
            maxObjectBytes: 4 * 1024 * 1024,
            images,
            audit: () => undefined,
        });
    };
    const publisher = (opts: Partial<ConstructorParameters<typeof ImagePublisher>[0]> = {}) =>
        new ImagePublisher({ releaseRegistry: `${registry.host}/releases`, maxLayerBytes: 64 * 1024, ...opts });
    const upload = async (uploadPath: string, fx: FixtureOptions = {}, repository = "acme/app") => {
        const image = await buildImageLayout({ content: `${uploadPath} ${Math.random()}`, ...fx });
        return { image, object: await finishedJob(records, intake, pool, uploadPath, image.tar, repository) };
    };
    const refusal = async (p: Promise<unknown>): Promise<HttpError> => {
        try {
            await p;
        } catch (err) {
            assert.ok(err instanceof HttpError, String(err));
            return err;
        }
        assert.fail("the upload was accepted");
    };

    it("pushes image.oci.tar to <registry>/<owner>/<repo>, signs provenance for the manifest digest, attaches it as sha256-<hex>.att", async () => {
        const { image, object } = await upload("image.oci.tar");
        const result = await generator(publisher()).generate(pool.intakeBucket, object);
        const repository = `${registry.host}/releases/acme/app`;
        assert.strictEqual(result.status, 201);
        assert.deepStrictEqual(result.image, { repository, digest: image.digest, attestation: { tag: `sha256-${image.digest.slice(7)}.att`, digest: result.image!.attestation.digest } });

        // The registry serves the manifest under the digest the generator computed (read by skopeo).
        assert.strictEqual(sha256(skopeoRaw(`${repository}@${image.digest}`)), image.digest);
        // The provenance names what a consumer pulls.
        assert.deepStrictEqual(signed[0].subject, [{ name: repository, digest: { sha256: image.digest.slice(7) } }]);

        // What cosign verify-attestation --type slsaprovenance1 reads: the .att tag's DSSE layers.
        const att = JSON.parse(skopeoRaw(`${repository}:${result.image!.attestation.tag}`).toString());
        assert.strictEqual(sha256(JSON.stringify(att)), result.image!.attestation.digest);
        assert.strictEqual(att.layers.length, 1);
        assert.strictEqual(att.layers[0].mediaType, "application/vnd.dsse.envelope.v1+json");
        assert.strictEqual(att.layers[0].annotations.predicateType, "https://slsa.dev/provenance/v1");
        const envelope = JSON.parse((await fetchBlob(registry.url, "releases/acme/app", att.layers[0].digest)).toString());
        assert.strictEqual(envelope.payloadType, "application/vnd.in-toto+json");
        const payload = opensslVerifyEnvelope(envelope, publicKeyPem);
        assert.ok(payload, "the attached envelope verifies under the signer's public key (openssl)");
        const statement = JSON.parse(payload.toString());
        assert.deepStrictEqual(statement.subject, [{ name: repository, digest: { sha256: image.digest.slice(7) } }]);
        assert.strictEqual(statement.predicate.buildDefinition.externalParameters.workflow.repository, "https://github.com/acme/app");

        // Recorded, and a second notification is answered from the record.
        const again = await generator(publisher()).generate(pool.intakeBucket, object);
        assert.strictEqual(again.status, 200);
        assert.deepStrictEqual(again.image, result.image);
        assert.strictEqual(signed.length, 1);
    });

    it("publishes images/<name>.oci.tar under the job's own repository: <owner>/<repo>/<name>", async () => {
        const { image, object } = await upload("images/web.oci.tar");
        const result = await generator(publisher()).generate(pool.intakeBucket, object);
        assert.strictEqual(result.image!.repository, `${registry.host}/releases/acme/app/web`);
        assert.strictEqual(sha256(skopeoRaw(`${registry.host}/releases/acme/app/web@${image.digest}`)), image.digest);
    });

    it("attack: a job of acme/app cannot publish under another tenant's repository name (acme/lib)", async () => {
        const { object } = await upload("images/acme/lib.oci.tar");
        const err = await refusal(generator(publisher()).generate(pool.intakeBucket, object));
        assert.strictEqual(err.status, 422);
        assert.strictEqual(err.code, "image-repository");
        assert.match(err.message, /is not image\.oci\.tar or images\/<name>\.oci\.tar/);
        assert.deepStrictEqual(await listTags(registry.url, "releases/acme/lib"), []);
        assert.ok(!(await catalog(registry.url)).includes("releases/acme/lib"));
        assert.strictEqual(signed.length, 0);

        // With a rule that trusts the upload's path (the protection off), the same upload lands in acme/lib.
        rmSync(root, { recursive: true, force: true });
        records = new Records(new DirectoryStore(path.join(root, "records")));
        intake = new DirectoryStore(path.join(root, "intake"), () => new Date("2026-01-01T10:05:00Z"));
        const naive = publisher({ rule: (_source, p) => ({ repository: p.replace(/^images\//, "").replace(/\.oci\.tar$/, "") }) });
        const again = await upload("images/acme/lib.oci.tar");
        const published = await generator(naive).generate(pool.intakeBucket, again.object);
        assert.strictEqual(published.image!.repository, `${registry.host}/releases/acme/lib`);
        assert.ok((await catalog(registry.url)).includes("releases/acme/lib"));
    });

    for (const [name, fx, expected] of [
        ["an index that points at a blob not in the layout", { dropManifestBlob: true }, /is not in the layout/],
        ["a blob whose bytes do not match its digest", { tamperLayer: true }, /holds bytes whose digest is sha256:[a-f0-9]{64}, not sha256:/],
        ["a layer above the size limit", { layerPadding: 100 * 1024 }, /bytes, above the limit of 65536 bytes/],
    ] as const) {
        it(`attack: ${name} is refused for good before anything is pushed or signed`, async () => {
            const { image, object } = await upload(`images/bad-${Object.keys(fx)[0].toLowerCase()}.oci.tar`, fx);
            const gen = generator(publisher());
            const err = await refusal(gen.generate(pool.intakeBucket, object));
            assert.strictEqual(err.status, 422);
            assert.strictEqual(err.code, "invalid-image-layout");
            assert.match(err.message, expected);
            assert.strictEqual(signed.length, 0);
            assert.ok(!(await catalog(registry.url)).some((r) => r.includes("bad-")), "nothing was pushed");
            assert.ok(await fetch(`${registry.url}/v2/releases/acme/app/manifests/${image.digest}`).then((r) => r.status === 404));
            // The refusal is recorded: a redelivery gets the same answer without reading the upload again.
            const second = await refusal(gen.generate(pool.intakeBucket, object));
            assert.strictEqual(second.code, "invalid-image-layout");
        });
    }

    it("the layer limit is what refuses an oversized layer: under a larger limit the same upload is published", async () => {
        const { image, object } = await upload("images/big.oci.tar", { layerPadding: 100 * 1024 });
        const result = await generator(publisher({ maxLayerBytes: 1024 * 1024 })).generate(pool.intakeBucket, object);
        assert.strictEqual(result.image!.digest, image.digest);
    });

    it("refuses an image upload when the fleet has no release registry, saying how to enable one", async () => {
        const { object } = await upload("image.oci.tar");
        const err = await refusal(generator(undefined).generate(pool.intakeBucket, object));
        assert.strictEqual(err.code, "images-not-enabled");
        assert.match(err.message, /set RELEASE_REGISTRY/);
    });

    it("refuses a source repository whose name is not a valid OCI path rather than rewriting it", async () => {
        const { object } = await upload("image.oci.tar", {}, "acme/App_");
        const err = await refusal(generator(publisher()).generate(pool.intakeBucket, object));
        assert.strictEqual(err.code, "image-repository");
        assert.match(err.message, /source repository "acme\/App_" is not a valid OCI repository path/);
    });

    it("answers 502 and records nothing when the registry is unreachable; a redelivery publishes", async () => {
        const { object } = await upload("image.oci.tar");
        const err = await refusal(generator(new ImagePublisher({ releaseRegistry: "127.0.0.1:9/releases", maxLayerBytes: 65536 })).generate(pool.intakeBucket, object));
        assert.strictEqual(err.status, 502);
        assert.strictEqual(err.code, "registry-push-failed");
        assert.strictEqual(await records.refused(pool.intakeBucket, object), undefined);
        assert.strictEqual((await generator(publisher()).generate(pool.intakeBucket, object)).status, 201);
    });

    describe("two jobs that build the same image: each job's attestations are attached (appended to the .att image)", () => {
        const SECOND = { instanceId: "2222222222222222222", jobId: 501, runId: 401 };
        const sameImageTwice = async () => {
            const fx = await buildImageLayout({ content: `reproducible ${Math.random()}` });
            const first = await finishedJob(records, intake, pool, "image.oci.tar", fx.tar, "acme/app");
            const second = await finishedJob(records, intake, pool, "image.oci.tar", fx.tar, "acme/app", SECOND);
            return { fx, first, second, repository: `${registry.host}/releases/acme/app` };
        };
        /** The `.att` image's provenance layers as skopeo and the registry API serve them, each checked with openssl. */
        const attachedRuns = async (repository: string, digest: string): Promise<number[]> => {
            const att = JSON.parse(skopeoRaw(`${repository}:sha256-${digest.slice(7)}.att`).toString());
            const runs: number[] = [];
            for (const layer of att.layers) {
                assert.strictEqual(layer.annotations.predicateType, "https://slsa.dev/provenance/v1");
                const payload = opensslVerifyEnvelope(JSON.parse((await fetchBlob(registry.url, "releases/acme/app", layer.digest)).toString()), publicKeyPem);
                assert.ok(payload, "each attached envelope verifies under the signer's key (openssl)");
                const st = JSON.parse(payload.toString());
                assert.deepStrictEqual(st.subject, [{ name: repository, digest: { sha256: digest.slice(7) } }]);
                runs.push(Number(/\/runs\/(\d+)\//.exec(st.predicate.runDetails.metadata.invocationId)![1]));
            }
            return runs.sort();
        };

        it("the second job's provenance is appended, not written over the first's: both verify from the registry", async () => {
            const { fx, first, second, repository } = await sameImageTwice();
            const a = await generator(publisher()).generate(pool.intakeBucket, first);
            const b = await generator(publisher()).generate(pool.intakeBucket, second);
            assert.strictEqual(a.image!.digest, fx.digest);
            assert.strictEqual(b.image!.digest, fx.digest);
            assert.strictEqual(b.image!.attestation.tag, a.image!.attestation.tag);
            assert.notStrictEqual(b.invocationId, a.invocationId);
            assert.deepStrictEqual(await attachedRuns(repository, fx.digest), [400, 401]);
        });

        it("two jobs publishing at the same moment both end up in the .att image", async () => {
            const { fx, first, second, repository } = await sameImageTwice();
            const [a, b] = await Promise.all([generator(publisher()).generate(pool.intakeBucket, first), generator(publisher()).generate(pool.intakeBucket, second)]);
            assert.deepStrictEqual([a.status, b.status], [201, 201]);
            assert.deepStrictEqual(await attachedRuns(repository, fx.digest), [400, 401]);
        });

        it("attack: a writer that read the tag before the first job wrote it drops that job's layer; the ledger restores it (without it, it stays lost)", async () => {
            const { fx, first, second, repository } = await sameImageTwice();
            await generator(publisher()).generate(pool.intakeBucket, first);
            const firstLayers = JSON.parse(skopeoRaw(`${repository}:sha256-${fx.digest.slice(7)}.att`).toString()).layers;
            // The interleaved write: an .att image built on the empty read, holding only a stranger's layer.
            const stranger = { payloadType: "application/vnd.in-toto+json", payload: Buffer.from("{}").toString("base64"), signatures: [{ keyid: "", sig: "c2ln" }] };
            const stale = attestationImage(fx.digest, [{ envelope: stranger, predicateType: "https://slsa.dev/provenance/v1" }]);
            const client = new DistributionClient(registry.host, "releases/acme/app");
            for (const blob of [stale.config, ...stale.layers]) {
                await client.uploadBlob(sha256(blob), blob);
            }
            await client.putManifest(stale.tag, stale.manifest, "application/vnd.oci.image.manifest.v1+json");
            const layersNow = () => JSON.parse(skopeoRaw(`${repository}:${stale.tag}`).toString()).layers.map((l: any) => l.digest);
            assert.ok(!layersNow().includes(firstLayers[0].digest), "the stale write dropped the first job's layer");

            // Switched off: appending only this job's own attestations leaves the first job's lost.
            const image = await publisher().prepare("acme/app", "image.oci.tar", fx.tar);
            await publisher().attach(image, [{ envelope: stranger, predicateType: "https://slsa.dev/provenance/v1" }]);
            assert.ok(!layersNow().includes(firstLayers[0].digest), "without the ledger the first job's attestation stays lost");

            // The generator's path: every attestation recorded for the image is written back.
            await generator(publisher()).generate(pool.intakeBucket, second);
            assert.ok(layersNow().includes(firstLayers[0].digest), "the ledger put the first job's attestation back");
            const runs = (await attachedRuns(repository, fx.digest).catch(() => undefined));
            assert.strictEqual(runs, undefined, "the stranger's layer does not verify: the check can fail");
            assert.strictEqual(layersNow().length, 3);
        });

        it("a registry that refuses the write (immutable tags) is a final refusal, recorded; the redelivery gets the same answer, not a 502", async () => {
            const { first, second } = await sameImageTwice();
            const gate = await startRegistryGate({ upstream: registry.url, verifier: new IdTokenVerifier({ audience: "https://registry.test", certs: issuer.certSource() }), writers: ["publisher@x.iam.gserviceaccount.com"], immutableTags: true });
            try {
                const strict = () => new ImagePublisher({
                    releaseRegistry: `${gate.host}/releases`, maxLayerBytes: 64 * 1024,
                    credentials: async () => ({ username: "oauth2accesstoken", password: issuer.mint({ audience: "https://registry.test", email: "publisher@x.iam.gserviceaccount.com" }) }),
                });
                assert.strictEqual((await generator(strict()).generate(pool.intakeBucket, first)).status, 201);
                const err = await refusal(generator(strict()).generate(pool.intakeBucket, second));
                assert.strictEqual(err.status, 422);
                assert.strictEqual(err.code, "registry-refused");
                assert.match(err.message, /TAG_INVALID/);
                assert.strictEqual((await records.refused(pool.intakeBucket, second))?.code, "registry-refused");
                const again = await refusal(generator(strict()).generate(pool.intakeBucket, second));
                assert.deepStrictEqual([again.status, again.code], [422, "registry-refused"]);
                assert.ok(gate.refused.some((r) => r.status === 400 && r.method === "PUT"));
            } finally {
                await gate.close();
            }
        });
    });

    describe("bounded memory: uploads are streamed, never read whole", () => {
        /** The intake bucket, refusing whole reads of uploads; `statSize` makes its size report lie (to reach the streaming limit). */
        const streamOnly = (statSize?: number): ObjectStore => ({
            create: (n, b, t) => intake.create(n, b, t),
            read: async (n) => (/\.(oci\.tar|bin)$/.test(n) ? assert.fail(`the generator read ${n} whole`) : intake.read(n)),
            openRead: (n) => intake.openRead(n),
            list: (p) => intake.list(p),
            delete: (n) => intake.delete(n),
            stat: async (n) => {
                const info = await intake.stat(n);
                return info === undefined || statSize === undefined ? info : { ...info, size: statSize };
            },
        });

        it("publishes an image and signs a file without ever holding the upload whole", async () => {
            const { image, object } = await upload("image.oci.tar", { layerPadding: 32 * 1024 });
            const result = await generator(publisher(), streamOnly()).generate(pool.intakeBucket, object);
            assert.strictEqual(result.image!.digest, image.digest);
            assert.strictEqual(result.sha256, sha256(image.tar).slice(7), "the upload's own digest, from the same streamed pass");
            const file = crypto.randomBytes(200 * 1024);
            const fileObject = await finishedJob(records, intake, pool, "app.bin", file, "acme/app", { instanceId: "3333333333333333333", jobId: 502, runId: 402 });
            assert.strictEqual((await generator(publisher(), streamOnly()).generate(pool.intakeBucket, fileObject)).sha256, sha256(file).slice(7));
        });

        it("an upload above the limit is refused for good with a record as it streams, even when its reported size was small", async () => {
            const big = crypto.randomBytes(4 * 1024 * 1024 + 1);
            const fileObject = await finishedJob(records, intake, pool, "app.bin", big);
            const err = await refusal(generator(publisher(), streamOnly(10)).generate(pool.intakeBucket, fileObject));
            assert.deepStrictEqual([err.status, err.code], [422, "object-too-large"]);
            assert.strictEqual((await records.refused(pool.intakeBucket, fileObject))?.code, "object-too-large");
            // The same size under the limit is signed: the limit is what refused it.
            const fits = await finishedJob(records, intake, pool, "app.bin", big.subarray(1), "acme/app", { instanceId: "4444444444444444444", jobId: 503, runId: 403 });
            assert.strictEqual((await generator(publisher(), streamOnly(10)).generate(pool.intakeBucket, fits)).status, 201);
        });

        it("an image tar above the limit is refused while it streams; nothing is pushed", async () => {
            const { object } = await upload("image.oci.tar", { layerPadding: 4 * 1024 * 1024 });
            const err = await refusal(generator(publisher({ maxLayerBytes: 8 * 1024 * 1024 }), streamOnly(10)).generate(pool.intakeBucket, object));
            assert.deepStrictEqual([err.status, err.code], [422, "invalid-image-layout"]);
            assert.match(err.message, /the upload is larger than 4194304 bytes/);
            assert.strictEqual((await records.refused(pool.intakeBucket, object))?.code, "invalid-image-layout");
            assert.strictEqual(signed.length, 0);
        });
    });

    describe("SBOM uploaded next to the image", () => {
        const cdx = (extra: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.5", version: 1, components: [{ type: "library", name: "left-pad", version: "1.3.0" }], ...extra }));
        const spdx = Buffer.from(JSON.stringify({ spdxVersion: "SPDX-2.3", SPDXID: "SPDXRef-DOCUMENT", name: "app", dataLicense: "CC0-1.0", documentNamespace: "https://example.com/spdx/app", creationInfo: { created: "2026-01-01T10:04:00Z", creators: ["Tool: syft"] } }));
        const withSbom = async (sboms: [string, Buffer][]) => {
            const up = await upload("image.oci.tar");
            const prefix = up.object.slice(0, up.object.length - "image.oci.tar".length);
            for (const [name, bytes] of sboms) {
                await intake.create(`${prefix}${name}`, bytes, "application/json");
            }
            return up;
        };
        const attLayers = async (result: { image?: { repository: string; attestation: { tag: string } } }) => {
            const repoPath = result.image!.repository.slice(result.image!.repository.indexOf("/") + 1);
            const att = JSON.parse(skopeoRaw(`${registry.host}/${repoPath}:${result.image!.attestation.tag}`).toString());
            return Promise.all((att.layers as any[]).map(async (l) => ({ layer: l, envelope: JSON.parse((await fetchBlob(registry.url, repoPath, l.digest)).toString()) })));
        };

        it("attaches a CycloneDX attestation next to the provenance: image as subject, marked as the build's claim, naming the provenance", async () => {
            const { image, object } = await withSbom([["image.sbom.cdx.json", cdx()]]);
            const result = await generator(publisher()).generate(pool.intakeBucket, object);
            const layers = await attLayers(result);
            assert.deepStrictEqual(layers.map((l) => l.layer.annotations.predicateType), ["https://slsa.dev/provenance/v1", "https://cyclonedx.org/bom"]);
            assert.strictEqual(layers[1].layer.annotations["sbom.hardened-build-fleet.dev/origin"], "build-claim");
            const payload = opensslVerifyEnvelope(layers[1].envelope, publicKeyPem);
            assert.ok(payload, "the SBOM attestation verifies under the signer's key (openssl)");
            const st = JSON.parse(payload.toString());
            assert.strictEqual(st.predicateType, "https://cyclonedx.org/bom");
            assert.deepStrictEqual(st.predicate, JSON.parse(cdx().toString()));
            assert.strictEqual(st.subject[0].name, result.image!.repository);
            assert.deepStrictEqual(st.subject[0].digest, { sha256: image.digest.slice(7) });
            assert.deepStrictEqual(st.subject[0].annotations, {
                "sbom.hardened-build-fleet.dev/origin": "build-claim",
                "sbom.hardened-build-fleet.dev/provenance": result.envelopeObject,
                "sbom.hardened-build-fleet.dev/invocation": result.invocationId,
                "sbom.hardened-build-fleet.dev/finished-on": "2026-01-01T10:07:00Z",
            });
            assert.ok(opensslVerifyEnvelope(layers[0].envelope, publicKeyPem), "the provenance layer still verifies");
        });

        it("accepts an SPDX JSON SBOM", async () => {
            const { object } = await withSbom([["image.sbom.spdx.json", spdx]]);
            const layers = await attLayers(await generator(publisher()).generate(pool.intakeBucket, object));
            assert.strictEqual(layers[1].layer.annotations.predicateType, "https://spdx.dev/Document");
        });

        for (const [what, sboms, code, message] of [
            ["a CycloneDX document that fails the official schema", [["image.sbom.cdx.json", cdx({ version: "x" })]], "invalid-sbom", /not valid CycloneDX JSON: \/version must be integer/],
            ["an SPDX document without its required fields", [["image.sbom.spdx.json", Buffer.from('{"spdxVersion":"SPDX-2.3"}')]], "invalid-sbom", /SPDXID must be "SPDXRef-DOCUMENT"; name is required/],
            ["two SBOMs for one image", [["image.sbom.cdx.json", cdx()], ["image.sbom.spdx.json", spdx]], "sbom-ambiguous", /upload one SBOM per image/],
        ] as const) {
            it(`refuses ${what} before anything is pushed or signed`, async () => {
                const { image, object } = await withSbom(sboms.map(([n, b]) => [n, b]));
                const err = await refusal(generator(publisher()).generate(pool.intakeBucket, object));
                assert.strictEqual(err.status, 422);
                assert.strictEqual(err.code, code);
                assert.match(err.message, message);
                assert.strictEqual(signed.length, 0);
                assert.ok(await fetch(`${registry.url}/v2/releases/acme/app/manifests/${image.digest}`).then((r) => r.status === 404));
            });
        }

        it("the signer refuses an SBOM statement that is not marked as the build's claim", async () => {
            const statement = { _type: "https://in-toto.io/Statement/v1", subject: [{ name: "r", digest: { sha256: "a".repeat(64) }, annotations: { "sbom.hardened-build-fleet.dev/origin": "observed", "sbom.hardened-build-fleet.dev/provenance": "p", "sbom.hardened-build-fleet.dev/invocation": "i", "sbom.hardened-build-fleet.dev/finished-on": "2026-01-01T10:07:00Z" } }], predicateType: "https://cyclonedx.org/bom", predicate: JSON.parse(cdx().toString()) };
            const res = await fetch(`${signerUrl}/v1/sign`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(statement) });
            assert.strictEqual(res.status, 400);
            assert.match(((await res.json()) as any).error.message, /must be "build-claim": an SBOM is the build's claim/);
        });
    });
});
