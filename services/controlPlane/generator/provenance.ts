/**
 * The SLSA v1 provenance the generator builds, in GitHub's build type for Actions workflows
 * (`https://actions.github.io/buildtypes/workflow/v1`, the one `actions/attest-build-provenance`
 * emits), so policy engines and verifiers that read GitHub's attestations read these too:
 *
 * - `externalParameters.workflow` {ref, repository, path}: the fully qualified ref, never a bare name;
 * - `internalParameters.github` {event_name, repository_id, repository_owner_id, runner_environment,
 *   workflow_ref}: the ids as decimal strings, as GitHub writes them;
 * - `resolvedDependencies[0]`: `git+<repository>@<ref>` with the commit;
 * - `internalParameters.fleet`: this fleet's own facts (pool, job, runner by id and group, where it
 *   ran, and the runner image by immutable id);
 * - `runDetails.builder.id`: the fleet's builder id (the signer accepts no other).
 *
 * Every field comes from what the control plane observed itself: the digest it computed, the
 * object's location (which only the registered runner could write), the broker's registration record
 * and the HMAC-verified workflow_job facts plus the workflow run read from the GitHub API. Nothing the
 * runner wrote enters it except the artifact bytes, and the name under its own prefix.
 */
import type { JobFacts, RegistrationRecord } from "../records";

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";
/** GitHub's build type for an Actions workflow run. */
export const BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1";
/** Value of `internalParameters.github.runner_environment` for every job of this fleet. */
export const RUNNER_ENVIRONMENT = "self-hosted";

export interface ProvenanceInput {
    /** Subject name: the object's path inside the job's upload location. */
    subjectName: string;
    sha256: string;
    registration: RegistrationRecord;
    runnerId: number;
    runnerGroupId: number;
    job: JobFacts;
    builderId: string;
    githubServer: string;
}

/** Facts the build type requires; the generator refuses a job that lacks any of them. */
export function missingSourceFacts(job: JobFacts): string[] {
    const missing: string[] = [];
    if (job.ref === null) {
        missing.push(`ref (${job.refUnresolved ?? "not recorded"})`);
    }
    if (!job.workflowPath) {
        missing.push("workflow path");
    }
    if (!job.event) {
        missing.push("event name");
    }
    if (!job.repositoryId || !job.repositoryOwnerId) {
        missing.push("repository and owner ids");
    }
    return missing;
}

export function invocationIdOf(job: JobFacts, githubServer: string): string {
    return `${githubServer}/${job.repository}/actions/runs/${job.runId}/attempts/${job.runAttempt}/jobs/${job.jobId}`;
}

/** The statement; call only for a job whose `missingSourceFacts` is empty. */
export function buildStatement(input: ProvenanceInput): Record<string, unknown> {
    const { job, registration: reg } = input;
    const repoUri = `${input.githubServer}/${job.repository}`;
    return {
        _type: STATEMENT_TYPE,
        subject: [{ name: input.subjectName, digest: { sha256: input.sha256 } }],
        predicateType: SLSA_PROVENANCE_V1,
        predicate: {
            buildDefinition: {
                buildType: BUILD_TYPE,
                externalParameters: {
                    workflow: { ref: job.ref, repository: repoUri, path: job.workflowPath },
                },
                internalParameters: {
                    github: {
                        event_name: job.event,
                        repository_id: String(job.repositoryId),
                        repository_owner_id: String(job.repositoryOwnerId),
                        runner_environment: RUNNER_ENVIRONMENT,
                        workflow_ref: `${job.repository}/${job.workflowPath}@${job.ref}`,
                    },
                    fleet: {
                        pool: reg.pool,
                        job: { id: job.jobId, runId: job.runId, runAttempt: job.runAttempt, workflowName: job.workflowName },
                        runner: { id: input.runnerId, name: reg.runnerName, groupId: input.runnerGroupId, labels: job.labels },
                        location: reg.pod !== undefined
                            ? { kind: "gke-pod", cluster: reg.pod.cluster, namespace: reg.pod.namespace, podName: reg.pod.name, podUid: reg.pod.uid, ephemeralRunner: reg.pod.ephemeralRunner }
                            : { kind: "gce-instance", project: reg.project, zone: reg.zone, instanceId: reg.instanceId, instanceName: reg.instanceName },
                        image: reg.bootImage,
                    },
                },
                resolvedDependencies: [{ uri: `git+${repoUri}@${job.ref}`, digest: { gitCommit: job.headSha } }],
            },
            runDetails: {
                builder: { id: input.builderId },
                metadata: {
                    invocationId: invocationIdOf(job, input.githubServer),
                    ...(job.startedAt ? { startedOn: job.startedAt } : {}),
                    ...(job.completedAt ? { finishedOn: job.completedAt } : {}),
                },
            },
        },
    };
}
