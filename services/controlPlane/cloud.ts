/**
 * The Google Cloud implementations of the services' injected dependencies. Each is a thin call to
 * an official client (google-auth-library's authenticated request for the Compute REST API,
 * @google-cloud/monitoring, @google-cloud/secret-manager); the services' logic never sees them,
 * so the same logic runs against the local stand-ins in services/sim.
 */
import { GoogleAuth } from "google-auth-library";
import { ServiceMetrics } from "../lib/ops/metrics";
import { retryableHttp, RetryPolicy, withRetry } from "../lib/ops/retry";
import type { GithubSettings } from "./config";
import { GithubRestClient } from "./github";
import type { PoolSpec } from "./pools";
import type { BootImage } from "./records";

/** Where a VM lives, as the verified identity token names it. */
export interface InstanceRef {
    project: string;
    zone: string;
    instanceName: string;
    instanceId: string;
}

/** Is this VM a current member of the pool's managed instance group? */
export interface MigMembership {
    isMember(pool: PoolSpec, instance: InstanceRef): Promise<boolean>;
}

/** The boot image a VM actually runs, by immutable identity (self link + numeric id), as Compute reports it. */
export interface BootImageReader {
    bootImage(pool: PoolSpec, instance: InstanceRef): Promise<BootImage>;
}

/** Removes a VM from the pool's managed instance group (and so lowers its target size). */
export interface MigScaler {
    deleteInstance(pool: PoolSpec, instance: InstanceRef): Promise<void>;
}

export interface DemandPoint {
    pool: string;
    value: number;
    at: Date;
}

/** Publishes runner_demand points (one per pool). */
export interface DemandPublisher {
    publish(points: DemandPoint[]): Promise<void>;
}

/** The demand metric the pools' autoscalers follow (label `pool`). */
export const DEMAND_METRIC = "custom.googleapis.com/hardened_build_fleet/runner_demand";

/** The slice of google-auth-library's GoogleAuth the Compute calls use (an authorized request). */
export interface AuthorizedRequester {
    request<T = any>(opts: { url: string; method: string; params?: Record<string, unknown>; data?: unknown; signal?: AbortSignal; timeout?: number }): Promise<{ data: T }>;
}

const COMPUTE = "https://compute.googleapis.com/compute/v1";

/**
 * Compute Engine calls: 10 s an attempt, at most 4 attempts, 250 ms to 4 s apart with full jitter,
 * on 408, 429, 502-504 and network errors. The calls are reads, and a deleteInstances that already
 * happened is skipped by `skipInstancesOnValidationError`, so a repeat is safe.
 */
export const COMPUTE_RETRY: RetryPolicy = { attempts: 4, timeoutMs: 10_000, baseMs: 250, capMs: 4000 };

/** `auth` with every request bounded and retried by COMPUTE_RETRY. */
export function retryingRequester(auth: AuthorizedRequester, opts: { metrics?: ServiceMetrics; policy?: RetryPolicy; sleep?: (ms: number) => Promise<void> } = {}): AuthorizedRequester {
    const policy = opts.policy ?? COMPUTE_RETRY;
    return {
        request: (req) => withRetry({ dependency: "compute", policy, retryable: retryableHttp, metrics: opts.metrics, sleep: opts.sleep }, (signal) =>
            auth.request({ ...req, signal, timeout: policy.timeoutMs })),
    };
}

const googleAuth = (): AuthorizedRequester => retryingRequester(new GoogleAuth({ scopes: SCOPES }), { metrics: new ServiceMetrics() });
const SCOPES = ["https://www.googleapis.com/auth/cloud-platform"];

function migPath(pool: PoolSpec): string {
    return `${COMPUTE}/projects/${pool.project}/regions/${pool.region}/instanceGroupManagers/${pool.mig}`;
}

/** Membership through regionInstanceGroupManagers.listManagedInstances (paged). */
export class ComputeMigMembership implements MigMembership {
    constructor(private readonly auth: AuthorizedRequester = googleAuth()) {}

    async isMember(pool: PoolSpec, instance: InstanceRef): Promise<boolean> {
        const suffix = `/projects/${instance.project}/zones/${instance.zone}/instances/${instance.instanceName}`;
        let pageToken: string | undefined;
        for (let page = 0; page < 50; page++) {
            const res = await this.auth.request<any>({
                url: `${migPath(pool)}/listManagedInstances`,
                method: "POST",
                params: { maxResults: 500, ...(pageToken ? { pageToken } : {}) },
            });
            for (const mi of res.data?.managedInstances ?? []) {
                if (typeof mi.instance === "string" && mi.instance.endsWith(suffix) && String(mi.id) === instance.instanceId) {
                    return true;
                }
            }
            pageToken = res.data?.nextPageToken;
            if (!pageToken) {
                return false;
            }
        }
        return false;
    }
}

/**
 * The boot disk's source image through instances.get and disks.get: `sourceImage` (a self link) and
 * `sourceImageId` (the image's numeric id, which a re-created image of the same name does not share).
 */
export class ComputeBootImageReader implements BootImageReader {
    constructor(private readonly auth: AuthorizedRequester = googleAuth()) {}

    async bootImage(_pool: PoolSpec, instance: InstanceRef): Promise<BootImage> {
        const vm = await this.auth.request<any>({ url: `${COMPUTE}/projects/${instance.project}/zones/${instance.zone}/instances/${instance.instanceName}`, method: "GET" });
        if (String(vm.data?.id) !== instance.instanceId) {
            throw new Error(`instance ${instance.instanceName} has id ${vm.data?.id}, not ${instance.instanceId}`);
        }
        const boot = (vm.data?.disks ?? []).find((d: any) => d.boot === true);
        if (typeof boot?.source !== "string" || !boot.source.startsWith(`${COMPUTE}/`)) {
            throw new Error(`instance ${instance.instanceName} has no boot disk`);
        }
        const disk = await this.auth.request<any>({ url: boot.source, method: "GET" });
        return { uri: String(disk.data?.sourceImage ?? ""), id: String(disk.data?.sourceImageId ?? "") };
    }
}

/** Scale-in through regionInstanceGroupManagers.deleteInstances: the MIG's target size drops with it. */
export class ComputeMigScaler implements MigScaler {
    constructor(private readonly auth: AuthorizedRequester = googleAuth()) {}

    async deleteInstance(pool: PoolSpec, instance: InstanceRef): Promise<void> {
        await this.auth.request({
            url: `${migPath(pool)}/deleteInstances`,
            method: "POST",
            data: { instances: [`zones/${instance.zone}/instances/${instance.instanceName}`], skipInstancesOnValidationError: true },
        });
    }
}

/** runner_demand through Cloud Monitoring createTimeSeries, one GAUGE point per pool. */
export class MonitoringDemandPublisher implements DemandPublisher {
    /** `client`: a MetricServiceClient (created lazily when not given). */
    constructor(
        private readonly project: string,
        private client?: { createTimeSeries(request: unknown): Promise<unknown> },
    ) {}

    async publish(points: DemandPoint[]): Promise<void> {
        if (points.length === 0) {
            return;
        }
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        this.client ??= new (require("@google-cloud/monitoring").MetricServiceClient)();
        await this.client!.createTimeSeries({
            name: `projects/${this.project}`,
            timeSeries: points.map((p) => ({
                metric: { type: DEMAND_METRIC, labels: { pool: p.pool } },
                resource: { type: "global", labels: { project_id: this.project } },
                metricKind: "GAUGE",
                valueType: "INT64",
                points: [{ interval: { endTime: { seconds: Math.floor(p.at.getTime() / 1000) } }, value: { int64Value: p.value } }],
            })),
        });
    }
}

/** Reads one Secret Manager secret version (the App private key, the webhook secret). */
export async function readSecret(versionName: string): Promise<string> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SecretManagerServiceClient } = require("@google-cloud/secret-manager");
    const client = new SecretManagerServiceClient();
    const [version] = await client.accessSecretVersion({ name: versionName });
    const data = version?.payload?.data;
    if (data === undefined || data === null) {
        throw new Error(`secret ${versionName} has no payload`);
    }
    return Buffer.from(data).toString("utf8");
}

/** The GitHub App client of the broker and the webhook receiver; the private key comes from Secret Manager. */
export function githubAppClient(settings: GithubSettings): GithubRestClient {
    return new GithubRestClient({
        baseUrl: settings.apiUrl,
        appId: settings.appId,
        installationId: settings.installationId,
        // Read once, kept in memory only; never logged.
        privateKey: () => readSecret(settings.privateKeySecret),
        org: settings.org,
        budgetShare: settings.budgetPercent / 100,
        ...(settings.repository !== undefined ? { repository: settings.repository } : {}),
    });
}
