/**
 * The SLSA v1 provenance the generator builds. Every field comes from what the control plane
 * observed itself: the digest it computed over the object's bytes, the object's location (which only
 * the registered VM could write), the broker's registration record and the HMAC-verified
 * workflow_job facts (plus the workflow run the webhook receiver fetched from the GitHub API).
 * Nothing the runner wrote enters it except the artifact bytes, and the name under its own prefix.
 */
import type { JobFacts, RegistrationRecord } from "../records";

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";
/** The build type of a GitHub Actions job run on this fleet (documents the parameters below). */
export const BUILD_TYPE = "https://github.com/hardened-build-fleet/buildtypes/github-actions-job/v1";

export interface ProvenanceInput {
    /** Subject name: the object's path inside the job's upload location. */
    subjectName: string;
    sha256: string;
    registration: RegistrationRecord;
    runnerId: number;
    job: JobFacts;
    builderId: string;
    githubServer: string;
}

export function invocationIdOf(job: JobFacts, githubServer: string): string {
    return `${githubServer}/${job.repository}/actions/runs/${job.runId}/attempts/${job.runAttempt}/jobs/${job.jobId}`;
}

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
                    repository: repoUri,
                    ref: job.ref,
                    workflow: { path: job.workflowPath, name: job.workflowName },
                    commit: job.headSha,
                },
                internalParameters: {
                    pool: reg.pool,
                    image: reg.image,
                    runner: { name: reg.runnerName, id: input.runnerId, labels: job.labels },
                    instance: { id: reg.instanceId, name: reg.instanceName, zone: reg.zone, project: reg.project },
                },
                resolvedDependencies: [
                    { uri: `git+${repoUri}${job.ref ? `@${job.ref}` : ""}`, digest: { gitCommit: job.headSha } },
                ],
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

