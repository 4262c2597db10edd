/** Cloud Run entry of the webhook receiver (run with min-instances 1 and CPU always allocated: it reconciles on a timer). */
import { ComputeMigScaler, MonitoringDemandPublisher, readSecret } from "../cloud";
import { GithubRestClient } from "../github";
import { Records } from "../records";
import { every, gcsBucket, serve } from "../storage";
import { buildWebhookService } from "./app";
import { loadWebhookConfig } from "./config";

export async function main(env: NodeJS.ProcessEnv): Promise<void> {
    const config = loadWebhookConfig(env);
    const service = buildWebhookService({
        pools: config.pools,
        secret: await readSecret(config.secretVersion),
        records: new Records(gcsBucket(config.recordsBucket)),
        github: new GithubRestClient({
            baseUrl: config.github.apiUrl,
            appId: config.github.appId,
            installationId: config.github.installationId,
            privateKey: () => readSecret(config.github.privateKeySecret),
            org: config.github.org,
            ...(config.github.repository !== undefined ? { repository: config.github.repository } : {}),
        }),
        demandPublisher: new MonitoringDemandPublisher(config.metricProject),
        scaler: new ComputeMigScaler(),
    });
    const timer = every(config.reconcileSeconds, "webhook reconcile", () => service.reconcile());
    await serve(service.app, config.port, "webhook", [timer]);
}
