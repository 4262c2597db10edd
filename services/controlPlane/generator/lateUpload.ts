/**
 * Only uploads made while the job ran are signed: never one made after it ended, nor one made before it
 * started. The upload grant is a signed POST policy that
 * cannot be revoked, so a grant copied out of a job stays usable until it expires; what keeps a late
 * upload out of provenance is this check, against times the tenant cannot choose:
 * - the object's creation time, as the storage service recorded it;
 * - the job's completion time, from the HMAC-verified webhook or the GitHub API;
 * - when the control plane deleted the runner's VM or pod (the scale-in record);
 * - the end of the VM's or pod's maximum lifetime (registration + the pool's maxRunDuration, which a
 *   GKE pool's pods get as activeDeadlineSeconds);
 * - and, as the lower bound, the job's start time (from the same facts): an object that existed before
 *   the job started was not made by that job's build, whoever held the location's grant then.
 */
import type { PoolSpec } from "../pools";
import type { JobFacts, RegistrationRecord } from "../records";

/**
 * GitHub reports `started_at` and `completed_at` in whole seconds: an upload in the job's first or last
 * second may carry a creation time up to one second outside them.
 */
export const GITHUB_TIME_PRECISION_MS = 1000;

export interface LateUpload {
    code: "uploaded-before-start" | "start-time-unknown" | "uploaded-after-completion" | "uploaded-after-scale-in" | "uploaded-after-vm-lifetime" | "completion-time-unknown" | "lifetime-unknown";
    message: string;
}

export function lateUpload(created: Date, job: Pick<JobFacts, "jobId" | "startedAt" | "completedAt">, reg: Pick<RegistrationRecord, "instanceId" | "registeredAt" | "pod">, pool: Pick<PoolSpec, "maxRunDurationSeconds">, scaleIn: { at?: string } | undefined): LateUpload | undefined {
    const completed = job.completedAt === null ? NaN : Date.parse(job.completedAt);
    if (!Number.isFinite(completed)) {
        return { code: "completion-time-unknown", message: `job ${job.jobId} has no completion time; an upload cannot be shown to precede it` };
    }
    const t = created.getTime();
    const worker = reg.pod !== undefined ? `pod ${reg.pod.namespace}/${reg.pod.name} (${reg.instanceId})` : `instance ${reg.instanceId}`;
    const started = job.startedAt === null ? NaN : Date.parse(job.startedAt);
    if (!Number.isFinite(started)) {
        return { code: "start-time-unknown", message: `job ${job.jobId} has no start time; an upload cannot be shown to be made during the job` };
    }
    if (t < started - GITHUB_TIME_PRECISION_MS) {
        return { code: "uploaded-before-start", message: `the object was created at ${created.toISOString()}, before job ${job.jobId} started at ${job.startedAt}; only uploads made while the job ran are signed` };
    }
    if (t > completed + GITHUB_TIME_PRECISION_MS) {
        return { code: "uploaded-after-completion", message: `the object was created at ${created.toISOString()}, after job ${job.jobId} completed at ${job.completedAt}; uploads after the job are never signed` };
    }
    const deleted = scaleIn?.at === undefined ? NaN : Date.parse(scaleIn.at);
    if (Number.isFinite(deleted) && t > deleted) {
        return { code: "uploaded-after-scale-in", message: `the object was created at ${created.toISOString()}, after ${worker} was deleted at ${scaleIn!.at}` };
    }
    const lifetimeEnd = Date.parse(reg.registeredAt) + pool.maxRunDurationSeconds * 1000;
    if (!Number.isFinite(lifetimeEnd)) {
        // Without a lifetime bound the check below would silently never fire: refuse instead.
        return { code: "lifetime-unknown", message: `${worker}'s maximum lifetime cannot be computed (registeredAt ${JSON.stringify(reg.registeredAt)}, maxRunDurationSeconds ${JSON.stringify(pool.maxRunDurationSeconds)})` };
    }
    if (t > lifetimeEnd) {
        return { code: "uploaded-after-vm-lifetime", message: `the object was created at ${created.toISOString()}, after ${worker}'s maximum lifetime ended at ${new Date(lifetimeEnd).toISOString()}` };
    }
    return undefined;
}
