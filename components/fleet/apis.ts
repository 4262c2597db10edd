/**
 * The Google APIs each fleet project needs: those its resources are created through (see
 * ProjectApis' API_BY_TYPE_PREFIX) and those its services call at run time. The list is part of the
 * deploy prerequisites (docs/deploy.md) when `enableApis` is false.
 */
import { FleetConfig } from "../config";

/** APIs of the signer enclave: key, service, bucket, its network and DNS, audit config and log sink, IAM. */
export const SIGNER_APIS = [
    "cloudkms.googleapis.com", "run.googleapis.com", "storage.googleapis.com", "iam.googleapis.com", "cloudresourcemanager.googleapis.com",
    "logging.googleapis.com", "compute.googleapis.com", "dns.googleapis.com",
] as const;

/**
 * APIs of the control plane: its services, buckets, topic, secrets and identities; iamcredentials for the
 * broker's signBlob (upload policies); compute and dns for the generator's network; artifactregistry for the
 * services image it hosts; monitoring for the fleet's dashboard and alert policies (FleetMonitoring).
 */
export const CONTROL_PLANE_APIS = [
    "run.googleapis.com", "storage.googleapis.com", "iam.googleapis.com", "iamcredentials.googleapis.com", "cloudresourcemanager.googleapis.com",
    "logging.googleapis.com", "pubsub.googleapis.com", "secretmanager.googleapis.com", "compute.googleapis.com", "dns.googleapis.com",
    "artifactregistry.googleapis.com", "monitoring.googleapis.com",
] as const;

/** APIs of the workers: networks, VMs, identities, logs; monitoring for the demand metric the autoscalers read. */
export const WORKER_APIS = [
    "compute.googleapis.com", "dns.googleapis.com", "iam.googleapis.com", "cloudresourcemanager.googleapis.com", "logging.googleapis.com",
    "monitoring.googleapis.com",
] as const;

/** Extra worker APIs of GKE pools: the cluster, and the token exchange Workload Identity uses. */
export const GKE_WORKER_APIS = ["container.googleapis.com", "iamcredentials.googleapis.com", "sts.googleapis.com"] as const;

/** Organization policies are set through the project's orgpolicy API. */
export const GUARDRAIL_API = "orgpolicy.googleapis.com";

/** Project id -> the APIs the fleet enables there (projects that coincide get the union). */
export function fleetApis(config: FleetConfig): Record<string, string[]> {
    const byProject: Record<string, Set<string>> = {};
    const add = (project: string, apis: readonly string[]) => {
        byProject[project] ??= new Set();
        apis.forEach((a) => byProject[project].add(a));
    };
    add(config.workerProject, WORKER_APIS);
    if (config.pools.some((p) => p.backend === "gke")) {
        add(config.workerProject, GKE_WORKER_APIS);
    }
    add(config.signerProject, SIGNER_APIS);
    add(config.controlPlane.project, CONTROL_PLANE_APIS);
    if (config.guardrails.enabled) {
        for (const project of Object.keys(byProject)) {
            add(project, [GUARDRAIL_API]);
        }
    }
    return Object.fromEntries(Object.entries(byProject).map(([p, apis]) => [p, [...apis].sort()]));
}
