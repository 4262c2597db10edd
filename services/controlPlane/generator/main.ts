/** Cloud Run entry of the provenance generator. */
import { IdTokenVerifier } from "../../lib/idToken";
import { Records } from "../records";
import { googleIdTokenSource, SignerClient } from "../signerClient";
import { installMetrics, ServiceMetrics } from "../../lib/ops/metrics";
import { every, gcsBucket, serve } from "../storage";
import { buildGeneratorService } from "./app";
import { loadGeneratorConfig } from "./config";
import { ImagePublisher } from "./image/publish";
import { googleRegistryCredentials } from "./image/credentials";

export async function main(env: NodeJS.ProcessEnv): Promise<void> {
    const config = loadGeneratorConfig(env);
    const telemetry = await installMetrics("generator");
    const service = buildGeneratorService({
        pools: config.pools,
        intake: Object.fromEntries(config.pools.map((p) => [p.name, gcsBucket(p.intakeBucket)])),
        records: new Records(gcsBucket(config.recordsBucket)),
        signer: new SignerClient({ url: config.signerUrl, idToken: googleIdTokenSource(), metrics: new ServiceMetrics() }),
        pushVerifier: new IdTokenVerifier({ audience: config.url }),
        pushServiceAccount: config.pushServiceAccount,
        builderId: config.builderId,
        githubServer: config.githubServer,
        maxObjectBytes: config.maxObjectBytes,
        ...(config.releaseRegistry !== undefined
            ? { images: new ImagePublisher({ releaseRegistry: config.releaseRegistry, maxLayerBytes: config.maxLayerBytes, credentials: googleRegistryCredentials() }) }
            : {}),
    });
    const pass = every(config.reconcileSeconds, "generator reconcile", () => service.reconcile());
    await serve(service.app, config.port, "generator", env, telemetry.shutdown, [pass]);
}
