/** Cloud Run entry of the registration broker: cloud implementations of every dependency. */
import { IdTokenVerifier } from "../../lib/idToken";
import { PodTokenVerifier } from "../../lib/podToken";
import { googleKubeTransport, KubernetesRunnerPods } from "../kubernetes";
import { isPodPool } from "../pools";
import { ComputeBootImageReader, ComputeMigMembership, githubAppClient } from "../cloud";
import { Records } from "../records";
import { installMetrics } from "../../lib/ops/metrics";
import { gcsBucket, serve } from "../storage";
import { googleAuthSigner } from "../uploadPolicy";
import { buildBrokerApp } from "./app";
import { loadBrokerConfig } from "./config";

export async function main(env: NodeJS.ProcessEnv): Promise<void> {
    const config = loadBrokerConfig(env);
    const telemetry = await installMetrics("broker");
    const app = buildBrokerApp({
        pools: config.pools,
        verifier: new IdTokenVerifier({ audience: config.url }),
        membership: new ComputeMigMembership(),
        images: new ComputeBootImageReader(),
        github: githubAppClient(config.github),
        records: new Records(gcsBucket(config.recordsBucket)),
        uploadSigner: googleAuthSigner(),
        uploadEndpoint: config.uploadEndpoint,
        uploadMaxBytes: config.uploadMaxBytes,
        // Runner pods present a projected token whose only audience is the broker's pod audience.
        ...(config.pools.some(isPodPool) ? { pods: { tokens: new PodTokenVerifier({ audience: config.podAudience }), api: new KubernetesRunnerPods(googleKubeTransport()) } } : {}),
    });
    await serve(app, config.port, "broker", env, telemetry.shutdown);
}
