/** Cloud Run entry of the provenance generator. */
import { IdTokenVerifier } from "../../lib/idToken";
import { Records } from "../records";
import { googleIdTokenSource, SignerClient } from "../signerClient";
import { every, gcsBucket, serve } from "../storage";
import { buildGeneratorService } from "./app";
import { loadGeneratorConfig } from "./config";
import { ImagePublisher } from "./image/publish";
import { googleRegistryCredentials } from "./image/credentials";

export async function main(env: NodeJS.ProcessEnv): Promise<void> {
    const config = loadGeneratorConfig(env);
    const service = buildGeneratorService({
        pools: config.pools,
        intake: Object.fromEntries(config.pools.map((p) => [p.name, gcsBucket(p.intakeBucket)])),
        records: new Records(gcsBucket(config.recordsBucket)),
        signer: new SignerClient({ url: config.signerUrl, idToken: googleIdTokenSource() }),
        pushVerifier: new IdTokenVerifier({ audience: config.url }),
        pushServiceAccount: config.pushServiceAccount,
        builderId: config.builderId,
        githubServer: config.githubServer,
        maxObjectBytes: config.maxObjectBytes,
        ...(config.releaseRegistry !== undefined
            ? { images: new ImagePublisher({ releaseRegistry: config.releaseRegistry, maxLayerBytes: config.maxLayerBytes, credentials: googleRegistryCredentials() }) }
            : {}),
    });
    const timer = every(config.reconcileSeconds, "generator reconcile", () => service.reconcile());
    await serve(service.app, config.port, "generator", [timer]);
}
