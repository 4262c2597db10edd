/** The broker's environment (every variable is documented in docs/services.md). */
import { EnvReader, GithubSettings, readGithub, readRecordsBucket } from "../config";
import { readMaxObjectBytes } from "../objectLimit";
import { PoolSpec, readPools } from "../pools";

export interface BrokerConfig {
    port: number;
    /** The broker's URL: the identity tokens' required audience. */
    url: string;
    pools: PoolSpec[];
    recordsBucket: string;
    github: GithubSettings;
    uploadEndpoint: string;
    uploadMaxBytes: number;
    /** The only audience a runner pod's projected token may have (the pod template projects the same value). */
    podAudience: string;
}

/** The pod-token audience the pod template projects by default (components/runnerPool/podTemplate.ts). */
export const DEFAULT_POD_AUDIENCE = "build-fleet-broker";

export function loadBrokerConfig(env: NodeJS.ProcessEnv): BrokerConfig {
    const r = new EnvReader(env);
    const config: BrokerConfig = {
        port: r.port(),
        url: r.url("BROKER_URL", "set the broker's own https URL; runners request identity tokens with it as audience"),
        pools: readPools(r, "BROKER_POOLS", ["name", "labels", "runnerGroupId", "project", "region", "mig", "serviceAccount", "intakeBucket", "image", "maxRunDurationSeconds"]),
        recordsBucket: readRecordsBucket(r),
        github: readGithub(r),
        uploadEndpoint: r.url("BROKER_UPLOAD_ENDPOINT", "set the Cloud Storage upload endpoint (default https://storage.googleapis.com)", r.optional("BROKER_UPLOAD_ENDPOINT") ?? "https://storage.googleapis.com"),
        uploadMaxBytes: readMaxObjectBytes(r, env),
        podAudience: r.optional("BROKER_POD_AUDIENCE") ?? DEFAULT_POD_AUDIENCE,
    };
    r.throwIfProblems("broker");
    return config;
}
