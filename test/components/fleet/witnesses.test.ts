/**
 * The signer's witnesses through the fleet's stack config (`signer.timestampAuthority`, `signer.transparencyLog`):
 * the example program with the bootstrap's step 2 applied deploys sigstore's timestamp-server digest-pinned in the
 * enclave, and hands the signer the chain and the log, so the signer's own config loader accepts its environment
 * and its trusted root lists both. Without the fleet config field, the signer of a fleet could never get a TSA.
 */
import * as assert from "assert";
import { generateKeyPairSync } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { CapturedResource, ProgramRun, runProgram } from "../../../plan/engine";
import { loadSignerConfig } from "../../../services/signer/config";
import { buildTrustedRoot } from "../../../services/lib/trustedRoot";
import { descendantsOf, one } from "../../helpers/graph";
import { REPO_ROOT } from "../../helpers/paths";
import { throwawayTsaChain } from "../../helpers/tsaChain";

const PROGRAM = path.join(REPO_ROOT, "index.ts");
const EXAMPLE = path.join(REPO_ROOT, "Pulumi.example.yaml");
const SIGNER_KEY = "hardened-build-fleet:signer";
const RUN_SERVICE = "gcp:cloudrunv2/service:Service";

const envOf = (svc: CapturedResource): Record<string, string> =>
    Object.fromEntries((svc.inputs.template.containers[0].envs as { name: string; value: string }[]).map((e) => [e.name, e.value]));

/** The example stack's config with `signer` edited. */
function exampleWith(edit: (signer: Record<string, any>) => void): Record<string, unknown> {
    const config: Record<string, any> = YAML.parse(fs.readFileSync(EXAMPLE, "utf8")).config;
    const flat: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(config)) {
        flat[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    const signer = structuredClone(config[SIGNER_KEY]);
    edit(signer);
    flat[SIGNER_KEY] = JSON.stringify(signer);
    return flat;
}

function enclaveServices(run: ProgramRun): { signer: CapturedResource; tsa?: CapturedResource } {
    const services = descendantsOf(run, one(run, "hardened-build-fleet:index:SignerEnclave")).filter((r) => r.type === RUN_SERVICE);
    return { signer: services.find((s) => s.name.endsWith("-signer"))!, tsa: services.find((s) => s.name.endsWith("-tsa")) };
}

describe("fleet config: the signer's timestamp authority and transparency log", function () {
    this.timeout(120_000);
    let chain = "";
    const logKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }).toString();
    let tsaImage = "";

    before(async () => {
        chain = await throwawayTsaChain();
        tsaImage = YAML.parse(fs.readFileSync(EXAMPLE, "utf8")).config[SIGNER_KEY].timestampAuthority.image;
    });

    it("step 2 (chain set): the TSA runs digest-pinned in the enclave, and the signer's environment loads with the chain and the log", async () => {
        const run = await runProgram(PROGRAM, {
            config: exampleWith((s) => {
                s.timestampAuthority.certificateChainPem = chain;
                s.transparencyLog = { url: "https://rekor.internal.example", publicKeyPem: logKey, apiVersion: 2 };
            }),
        });
        assert.strictEqual(run.error, undefined, String(run.error));
        const { signer, tsa } = enclaveServices(run);
        assert.ok(tsa, "the TSA service is deployed once its chain is set");
        assert.strictEqual(tsa.inputs.template.containers[0].image, tsaImage);
        assert.strictEqual(tsa.inputs.ingress, "INGRESS_TRAFFIC_INTERNAL_ONLY");
        const env = envOf(signer);
        assert.strictEqual(env.SIGNER_TSA_CERT_CHAIN, chain);
        assert.strictEqual(env.SIGNER_TLOG_URL, "https://rekor.internal.example");
        assert.strictEqual(env.SIGNER_TLOG_PUBLIC_KEY, logKey);
        assert.strictEqual(env.SIGNER_TLOG_API_VERSION, "2");
        // What the signer itself reads from that environment, and the trusted root it would publish.
        const config = loadSignerConfig(env);
        assert.strictEqual(config.witnesses.tlogUrl, "https://rekor.internal.example");
        assert.strictEqual(config.witnesses.tlogApiVersion, 2);
        const root = buildTrustedRoot(config.trustedRoot);
        assert.strictEqual(root.timestampAuthorities.length, 1);
        assert.strictEqual(root.tlogs.length, 1);
        assert.strictEqual(root.tlogs[0].baseUrl, "https://rekor.internal.example");
    });

    it("a private log (rekor-tiles) in the enclave: deployed digest-pinned, and the signer writes to it as Rekor v2 with its identity", async () => {
        const image = `europe-docker.pkg.dev/acme-build-signer/ghcr/sigstore/rekor-tiles/gcp@sha256:${"e".repeat(64)}`;
        const run = await runProgram(PROGRAM, {
            config: exampleWith((s) => {
                s.timestampAuthority.certificateChainPem = chain;
                s.privateTransparencyLog = { image };
            }),
        });
        const services = descendantsOf(run, one(run, "hardened-build-fleet:index:SignerEnclave")).filter((r) => r.type === RUN_SERVICE);
        const log = services.find((s) => s.name.endsWith("-tlog"));
        assert.ok(log, "the log service is deployed");
        assert.strictEqual(log.inputs.template.containers[0].image, image);
        const config = loadSignerConfig(envOf(enclaveServices(run).signer));
        assert.deepStrictEqual([config.witnesses.tlogApiVersion, config.witnesses.tlogIdentity], [2, true]);
        assert.strictEqual(buildTrustedRoot(config.trustedRoot).tlogs.length, 1);
    });

    it("step 1 (the example as committed): the TSA key exists, no TSA service, and the signer reads the chain from the TSA's URL", async () => {
        const run = await runProgram(PROGRAM, { configFile: EXAMPLE });
        assert.strictEqual(run.error, undefined, String(run.error));
        const { signer, tsa } = enclaveServices(run);
        assert.strictEqual(tsa, undefined);
        const env = envOf(signer);
        assert.strictEqual(env.SIGNER_TSA_CERT_CHAIN, undefined);
        assert.match(env.SIGNER_TSA_URL, /^https:\/\/.*-tsa-.*\.run\.app$/);
        assert.strictEqual(loadSignerConfig(env).trustedRoot.timestampAuthorities[0].certChainPem, "");
        assert.ok(run.logs.some((l) => l.severity === "warning" && l.message.includes("signer.timestampAuthority.certificateChainPem is not set")));
    });

    it("refuses, in the one-pass report, a TSA image by tag and a log over http, before registering anything", async () => {
        const run = await runProgram(PROGRAM, {
            config: exampleWith((s) => {
                s.timestampAuthority.image = "ghcr.io/sigstore/timestamp-server:v1.2.4";
                s.transparencyLog = { url: "http://rekor.internal", publicKeyPem: logKey };
            }),
            allowError: true,
        });
        assert.ok(run.error instanceof Error, "the program must fail");
        const message = run.error.message;
        assert.match(message, /2 problems/);
        assert.match(message, /signer\.timestampAuthority\.image = "ghcr\.io\/sigstore\/timestamp-server:v1\.2\.4": is not pinned by digest/);
        assert.match(message, /signer\.transparencyLog\.url = "http:\/\/rekor\.internal": is not an https base URL/);
        assert.deepStrictEqual(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack"), []);
    });
});
