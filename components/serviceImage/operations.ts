/**
 * What every Cloud Run service running this package's image gets for operations: the project and
 * region its logs and metrics are attributed to (Cloud Logging's trace names, the metrics' resource
 * location), a liveness probe on `/healthz`, and a startup probe on `/readyz`, so a revision takes
 * traffic only once its dependencies answer.
 */
import * as pulumi from "@pulumi/pulumi";

export const HEALTH_PATH = "/healthz";
export const READY_PATH = "/readyz";

export interface ServiceOperations {
    envs: { name: string; value: pulumi.Input<string> }[];
    startupProbe: { httpGet: { path: string }; periodSeconds: number; timeoutSeconds: number; failureThreshold: number };
    livenessProbe: { httpGet: { path: string }; periodSeconds: number; timeoutSeconds: number; failureThreshold: number };
}

export function serviceOperations(project: pulumi.Input<string>, region: pulumi.Input<string>): ServiceOperations {
    return {
        envs: [
            { name: "GOOGLE_CLOUD_PROJECT", value: project },
            { name: "OTEL_RESOURCE_ATTRIBUTES", value: pulumi.interpolate`cloud.region=${region}` },
        ],
        // Readiness checks take at most 2 s each, in parallel; two minutes for a dependency to come up.
        startupProbe: { httpGet: { path: READY_PATH }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 12 },
        // Liveness asks no dependency: an outage of GitHub or KMS must not restart every instance.
        livenessProbe: { httpGet: { path: HEALTH_PATH }, periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 3 },
    };
}
