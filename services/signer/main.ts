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
import { buildSignerApp, publishKeyring } from "./app";
import { loadSignerConfig, SignerConfig } from "./config";
import { KmsClientLike, kmsPublicKey, KmsSigningKey, PublicKeyInfo } from "./signingKey";

export interface CloudSignerDeps {
    kms: KmsClientLike;
    store: ObjectStore;
    /** Certificates of the ID token issuer; default Google's. */
    certs?: CertSource;
    logger?: FastifyServerOptions["logger"];
}

/** The cloud-mode app from a checked config and its clients (tests pass a fake KMS client and a local issuer). */
export function createCloudSigner(config: SignerConfig, deps: CloudSignerDeps): FastifyInstance {
    const publicKeys = new Map<string, Promise<PublicKeyInfo>>();
    const publicKeyOf = (name: string): Promise<PublicKeyInfo> => {
        if (!config.versions.some((v) => v.name === name)) {
            return Promise.reject(new Error(`${name} is not a configured key version`));
        }
        let key = publicKeys.get(name);
        if (key === undefined) {
            key = kmsPublicKey(deps.kms, name);
            publicKeys.set(name, key);
            key.catch(() => publicKeys.delete(name));
        }
        return key;
    };
    return buildSignerApp({
        builderId: config.builderId,
        versions: config.versions,
        signingKey: new KmsSigningKey(deps.kms, config.activeVersion.name),
        publicKeyOf,
        store: deps.store,
        caller: {
            mode: "cloud",
            verifier: new IdTokenVerifier({ audience: config.audience, certs: deps.certs }),
            allowedCallers: config.allowedCallers,
        },
        logger: deps.logger,
    });
}

export async function main(env: NodeJS.ProcessEnv): Promise<void> {
    const config = loadSignerConfig(env);
    const { KeyManagementServiceClient } = await import("@google-cloud/kms");
    const { Storage } = await import("@google-cloud/storage");
    const kms = new KeyManagementServiceClient() as unknown as KmsClientLike;
    // Fail at start, not on the first request, if a version is missing, not P-256, not HSM or corrupted.
    await Promise.all(config.versions.map((v) => kmsPublicKey(kms, v.name)));
    const store = new GcsStore(new Storage().bucket(config.provenanceBucket));
    const app = createCloudSigner(config, { kms, store, logger: { level: "info", messageKey: "message" } });
    const keyringObject = await publishKeyring(app, store);
    process.once("SIGTERM", () => void app.close());
    // Cloud Run delivers requests to the container's port on all interfaces.
    await app.listen({ port: config.port, host: "0.0.0.0" });
    app.log.info({ activeVersion: config.activeVersion.name, versions: config.versions.length, builderId: config.builderId, keyringObject }, "signer: cloud mode, caller identity checks on");
}
