/** The webhook receiver's environment (every variable is documented in docs/services.md). */
import { EnvReader, GithubSettings, readGithub, readRecordsBucket, secretVersion } from "../config";
import { PoolSpec, readPools } from "../pools";

export interface WebhookConfig {
    port: number;
    pools: PoolSpec[];
    recordsBucket: string;
    github: GithubSettings;
    /** Secret Manager version of the webhook secret. */
    secretVersion: string;
    /** Project the runner_demand metric is written to (the pools' autoscalers read it there). */
    metricProject: string;
    reconcileSeconds: number;
}

export function loadWebhookConfig(env: NodeJS.ProcessEnv): WebhookConfig {
    const r = new EnvReader(env);
    const metricProject = r.required("WEBHOOK_METRIC_PROJECT", "set the project whose runner_demand metric the pools' autoscalers follow (the worker project)");
    if (metricProject !== "" && !/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/.test(metricProject)) {
        r.problems.push(`WEBHOOK_METRIC_PROJECT: ${JSON.stringify(metricProject)} is not a project id`);
    }
    const config: WebhookConfig = {
        port: r.port(),
        pools: readPools(r, "WEBHOOK_POOLS", ["name", "labels", "project", "region", "mig"]),
        recordsBucket: readRecordsBucket(r),
        github: readGithub(r),
        secretVersion: secretVersion(r, "WEBHOOK_SECRET_VERSION", "the GitHub webhook secret"),
        metricProject,
        reconcileSeconds: r.integer("WEBHOOK_RECONCILE_SECONDS", 60, 10, 3600),
    };
    r.throwIfProblems("webhook");
    return config;
}
