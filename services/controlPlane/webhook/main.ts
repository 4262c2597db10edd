/** Cloud Run entry of the webhook receiver (run with min-instances 1 and CPU always allocated: it reconciles on a timer). */
import { ComputeMigScaler, githubAppClient, MonitoringDemandPublisher, readSecret } from "../cloud";
import { googleKubeTransport, KubernetesRunnerPods } from "../kubernetes";
import { isPodPool } from "../pools";
import { Records } from "../records";
import { installMetrics } from "../../lib/ops/metrics";
import { every, gcsBucket, serve } from "../storage";
import { buildWebhookService } from "./app";
import { loadWebhookConfig } from "./config";

export async function main(env: NodeJS.ProcessEnv): Promise<void> {
    const config = loadWebhookConfig(env);
    const telemetry = await installMetrics("webhook");
    const service = buildWebhookService({
        pools: config.pools,
        secret: await readSecret(config.secretVersion),
        records: new Records(gcsBucket(config.recordsBucket)),
        github: githubAppClient(config.github),
        demandPublisher: new MonitoringDemandPublisher(config.metricProject),
        scaler: new ComputeMigScaler(),
        ...(config.pools.some(isPodPool) ? { pods: new KubernetesRunnerPods(googleKubeTransport()) } : {}),
    });
    const pass = every(config.reconcileSeconds, "webhook reconcile", () => service.reconcile());
    await serve(service.app, config.port, "webhook", env, telemetry.shutdown, [pass]);
}
