/**
 * A finished job as the generator sees it: the broker's registration of one VM, its runner, the
 * webhook's facts for the one job it ran (in progress, then completed), and an object it uploaded to
 * its own location. For generator tests that need the records but not the other services.
 */
import type { JobFacts, Records, RegistrationRecord } from "../../services/controlPlane/records";
import type { ObjectStore } from "../../services/lib/objectStore";

export const JOB_INSTANCE = "1111111111111111111";
export const JOB_COMMIT = "c".repeat(40);

export function registrationOf(pool: string, instanceId = JOB_INSTANCE): RegistrationRecord {
    return {
        pool, project: "sim-workers", zone: "europe-west1-b", instanceId, instanceName: `${pool}-vm`, instanceCreationTimestamp: 1,
        serviceAccount: `${pool}-runner@x`, runnerName: `${pool}-${instanceId}`, uploadPrefix: `${pool}/${instanceId}/`,
        intakeBucket: `sim-intake-${pool}`, image: `projects/sim-workers/global/images/${pool}-runner-image`,
        bootImage: { uri: `https://compute.googleapis.com/compute/v1/projects/sim-workers/global/images/${pool}-runner-20260101`, id: "7265198349217465123" },
        registeredAt: "2026-01-01T09:59:00Z",
    };
}

export function jobFactsOf(pool: string, labels: string[], status: string, extra: Partial<JobFacts> = {}): JobFacts {
    return {
        jobId: 500, runId: 400, runAttempt: 2, repository: "acme/app", headSha: JOB_COMMIT, headBranch: "main", workflowName: "release",
        workflowPath: ".github/workflows/release.yml", ref: "refs/heads/main", event: "push", repositoryId: 41, repositoryOwnerId: 42,
        runnerName: `${pool}-${JOB_INSTANCE}`, runnerId: 9, runnerGroupId: 1, labels, status,
        conclusion: status === "completed" ? "success" : null, startedAt: "2026-01-01T10:00:00Z",
        completedAt: status === "completed" ? "2026-01-01T10:07:00Z" : null, pool, deliveryId: `d-${status}`, receivedAt: "2026-01-01T10:07:01Z",
        ...extra,
    };
}

/** Which job: the defaults are the one job most tests need; another instance, job and run make a second job. */
export interface JobIdentity {
    instanceId?: string;
    jobId?: number;
    runId?: number;
}

/** Records a completed job of `repository` on one VM of `pool` and stores `bytes` at `<pool>/<instance>/<path>`. */
export async function finishedJob(records: Records, intake: ObjectStore, pool: { name: string; labels: string[] }, path: string, bytes: Buffer, repository = "acme/app", who: JobIdentity = {}): Promise<string> {
    const reg = registrationOf(pool.name, who.instanceId);
    const job = { repository, jobId: who.jobId ?? 500, runId: who.runId ?? 400, runnerName: reg.runnerName };
    await records.claimRegistration(reg);
    await records.putRunner({ runnerName: reg.runnerName, runnerId: 9, instanceId: reg.instanceId, pool: pool.name, createdAt: reg.registeredAt });
    await records.linkRunnerJob({ runnerName: reg.runnerName, jobId: job.jobId, repository });
    await records.putJobFacts(jobFactsOf(pool.name, pool.labels, "in_progress", job));
    await records.putJobFacts(jobFactsOf(pool.name, pool.labels, "completed", job));
    const object = `${pool.name}/${reg.instanceId}/${path}`;
    await intake.create(object, bytes, "application/octet-stream");
    return object;
}
