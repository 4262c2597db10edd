/**
 * Cloud-mode entry of the signer (Cloud Run, in the SignerEnclave): `main(process.env)`.
 * Configuration comes from the SIGNER_* variables (config.ts); the key is a Cloud KMS HSM key,
 * the store the provenance bucket, and every sign request must carry the provenance generator's
 * verified Google ID token.
 */
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import type { CertSource } from "../lib/idToken";
import { IdTokenVerifier } from "../lib/idToken";
import { GcsStore, ObjectStore } from "../lib/objectStore";
import type { Witness } from "@sigstore/sign";
import { buildTrustedRoot } from "../lib/trustedRoot";
import { buildSignerApp, publishKeyring, publishTrustedRoot } from "./app";
import { witnessesFor } from "./attest";
import { awaitTimestampAuthority } from "./awaitTsa";
import { IdentityRekorV2Witness } from "./identityRekor";
import { completeTrustedRoot, loadSignerConfig, SignerConfig } from "./config";
import { fetchTsaCertChain, IdentityTsaWitness } from "./tsaClient";
import { KmsClientLike, kmsPublicKey, KmsSigningKey, PublicKeyInfo, SIGNING_ALGORITHM, SigningKeyError } from "./signingKey";
import { resilientKms } from "./kmsCalls";
import { ServiceMetrics, installMetrics } from "../lib/ops/metrics";
import { operationsOf } from "../lib/ops/operations";
import { graceFromEnv, onSigterm } from "../lib/ops/shutdown";
import { log } from "../lib/ops/log";

/** The PEM of `name` in the keyring documents already in the bucket; undefined if none; throws if they disagree. */
export async function publishedPublicKey(store: ObjectStore, name: string): Promise<string | undefined> {
    const pems = new Set<string>();
    for (const object of await store.list("keyring/")) {
        try {
            const doc = JSON.parse((await store.read(object))?.toString("utf8") ?? "null");
            for (const key of Array.isArray(doc?.keys) ? doc.keys : []) {
                if (key?.name === name && typeof key.publicKeyPem === "string") {
                    pems.add(key.publicKeyPem);
                }
            }
        } catch {
            // Not a keyring document: ignore it.
        }
    }
    if (pems.size > 1) {
        throw new SigningKeyError(`the published keyring documents disagree on the public key of ${name}`);
    }
    return [...pems][0];
}

export interface CloudSignerDeps {
    kms: KmsClientLike;
    store: ObjectStore;
    /** Certificates of the ID token issuer; default Google's. */
    certs?: CertSource;
    /** The TSA and log clients; default the TSA with the signer's ID token, and @sigstore/sign's log client. */
    witnesses?: Witness[];
    /** The TSA's chain when SIGNER_TSA_CERT_CHAIN is unset (main reads it from the TSA). */
    tsaCertChainPem?: string;
    logger?: FastifyServerOptions["logger"];
    /** Default: the global meter's instruments. */
    metrics?: ServiceMetrics;
}

/** The cloud-mode app from a checked config and its clients (tests pass a fake KMS client and a local issuer). */
export function createCloudSigner(config: SignerConfig, deps: CloudSignerDeps): FastifyInstance {
    const metrics = deps.metrics ?? new ServiceMetrics();
    // Every KMS call bounded, retried when transient, and its failures counted.
    const kms = resilientKms(deps.kms, { metrics });
    const publicKeys = new Map<string, Promise<PublicKeyInfo>>();
    const publicKeyOf = (name: string): Promise<PublicKeyInfo> => {
        const version = config.versions.find((v) => v.name === name);
        if (version === undefined) {
            return Promise.reject(new Error(`${name} is not a configured key version`));
        }
        let key = publicKeys.get(name);
        if (key === undefined) {
            key = kmsPublicKey(kms, name, metrics).catch(async (err) => {
                // A retired version is disabled in KMS, which may then refuse getPublicKey: serve
                // the PEM this signer published (CRC32C-checked) while the version was enabled.
                const pem = version.state === "retired" ? await publishedPublicKey(deps.store, name) : undefined;
                if (pem === undefined) {
                    throw err;
                }
                return { pem, algorithm: SIGNING_ALGORITHM };
            });
            publicKeys.set(name, key);
            key.catch(() => publicKeys.delete(name));
        }
        return key;
    };
    return buildSignerApp({
        builderId: config.builderId,
        versions: config.versions,
        signingKey: new KmsSigningKey(kms, config.activeVersion.name, metrics),
        publicKeyOf,
        store: deps.store,
        attestation: { witnesses: deps.witnesses ?? witnessesFor(config.witnesses), trustedRoot: buildTrustedRoot(completeTrustedRoot(config.trustedRoot, deps.tsaCertChainPem)) },
        caller: {
            mode: "cloud",
            verifier: new IdTokenVerifier({ audience: config.audience, certs: deps.certs }),
            allowedCallers: config.allowedCallers,
        },
        logger: deps.logger,
        metrics,
    });
}

export async function main(env: NodeJS.ProcessEnv): Promise<void> {
    const config = loadSignerConfig(env);
    const graceMs = graceFromEnv(env);
    const telemetry = await installMetrics("signer");
    const { KeyManagementServiceClient } = await import("@google-cloud/kms");
    const { Storage } = await import("@google-cloud/storage");
    const kms = new KeyManagementServiceClient() as unknown as KmsClientLike;
    const store = new GcsStore(new Storage().bucket(config.provenanceBucket));
    // The TSA runs behind Cloud Run IAM (invoker: this signer only): every call carries the signer's ID token.
    const { GoogleAuth } = await import("google-auth-library");
    const auth = new GoogleAuth();
    const tsa = { url: config.witnesses.tsaUrl, idToken: async (aud: string) => (await auth.getIdTokenClient(aud)).idTokenProvider.fetchIdToken(aud), metrics: new ServiceMetrics() };
    // Without a configured chain, wait (answering 503) until the TSA serves it: never exit, never sign untimestamped.
    const tsaCertChainPem = config.trustedRoot.timestampAuthorities[0].certChainPem === ""
        ? await awaitTimestampAuthority(() => fetchTsaCertChain(tsa), { port: config.port, host: "0.0.0.0", log: (m) => process.stderr.write(`${JSON.stringify({ severity: "WARNING", message: m })}\n`) })
        : undefined;
    // Both enclave witnesses sit behind Cloud Run IAM; an outside log (rekor.sigstore.dev) takes @sigstore/sign's client.
    const tlogUrl = config.witnesses.tlogUrl;
    const logWitness = tlogUrl !== undefined && config.witnesses.tlogIdentity === true
        ? [new IdentityRekorV2Witness({ url: tlogUrl, idToken: tsa.idToken })]
        : witnessesFor(config.witnesses).slice(1);
    const witnesses = [new IdentityTsaWitness(tsa), ...logWitness];
    const app = createCloudSigner(config, { kms, store, witnesses, tsaCertChainPem });
    // Fails the start, not the first request, if a version is missing, not P-256, not HSM or corrupted.
    const keyringObject = await publishKeyring(app, store);
    const trustedRootObject = await publishTrustedRoot(store, buildTrustedRoot(completeTrustedRoot(config.trustedRoot, tsaCertChainPem)));
    const ops = operationsOf(app);
    onSigterm(app, { service: "signer", inFlight: ops.inFlight, begin: ops.begin, flush: telemetry.shutdown, graceMs });
    // Cloud Run delivers requests to the container's port on all interfaces.
    await app.listen({ port: config.port, host: "0.0.0.0" });
    log("INFO", "signer: cloud mode, caller identity checks on", { service: "signer", activeVersion: config.activeVersion.name, versions: config.versions.length, builderId: config.builderId, keyringObject, trustedRootObject, tsa: config.witnesses.tsaUrl, tlog: config.witnesses.tlogUrl ?? "none" });
}
