/** Cloud Run entry of the registration broker: cloud implementations of every dependency. */
import { IdTokenVerifier } from "../../lib/idToken";
import { ComputeMigMembership, readSecret } from "../cloud";
import { GithubRestClient } from "../github";
import { Records } from "../records";
import { gcsBucket, serve } from "../storage";
import { googleAuthSigner } from "../uploadPolicy";
import { buildBrokerApp } from "./app";
import { loadBrokerConfig } from "./config";

export async function main(env: NodeJS.ProcessEnv): Promise<void> {
    const config = loadBrokerConfig(env);
    const app = buildBrokerApp({
        pools: config.pools,
        verifier: new IdTokenVerifier({ audience: config.url }),
        membership: new ComputeMigMembership(),
        github: new GithubRestClient({
            baseUrl: config.github.apiUrl,
            appId: config.github.appId,
            installationId: config.github.installationId,
            // Read once, kept in memory only; never logged.
            privateKey: () => readSecret(config.github.privateKeySecret),
            org: config.github.org,
            ...(config.github.repository !== undefined ? { repository: config.github.repository } : {}),
        }),
        records: new Records(gcsBucket(config.recordsBucket)),
        uploadSigner: googleAuthSigner(),
        uploadEndpoint: config.uploadEndpoint,
        uploadMaxBytes: config.uploadMaxBytes,
    });
    await serve(app, config.port, "broker");
}
