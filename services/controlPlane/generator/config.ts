/** The provenance generator's environment (every variable is documented in docs/services.md). */
import { EnvReader, readRecordsBucket } from "../config";
import { readMaxObjectBytes } from "../objectLimit";
import { PoolSpec, readPools } from "../pools";
import { releaseRegistryProblem } from "./image/publish";

export interface GeneratorConfig {
    port: number;
    /** The generator's URL: the audience of the Pub/Sub push OIDC token. */
    url: string;
    pools: PoolSpec[];
    recordsBucket: string;
    pushServiceAccount: string;
    signerUrl: string;
    builderId: string;
    githubServer: string;
    maxObjectBytes: number;
    reconcileSeconds: number;
    /** `host/path` of the release registry images are pushed to; unset: image uploads are refused. */
    releaseRegistry?: string;
    /** Largest image layer the generator pushes, bytes. */
    maxLayerBytes: number;
}

export function loadGeneratorConfig(env: NodeJS.ProcessEnv): GeneratorConfig {
    const r = new EnvReader(env);
    const pushServiceAccount = r.required("GENERATOR_PUSH_SERVICE_ACCOUNT", "set the email of the service account the intake notifications' push subscription authenticates as");
    if (pushServiceAccount !== "" && !/^[^@\s]+@[^@\s]+$/.test(pushServiceAccount)) {
        r.problems.push(`GENERATOR_PUSH_SERVICE_ACCOUNT: ${JSON.stringify(pushServiceAccount)} is not an email`);
    }
    const releaseRegistry = r.optional("RELEASE_REGISTRY");
    const registryProblem = releaseRegistry === undefined ? undefined : releaseRegistryProblem(releaseRegistry);
    if (registryProblem !== undefined) {
        r.problems.push(`RELEASE_REGISTRY: ${registryProblem}; set the Artifact Registry repository images are published to`);
    }
    const builderId = r.url("BUILDER_ID", "set the fleet's builder id URI (the signer checks the same value)");
    const config: GeneratorConfig = {
        port: r.port(),
        url: r.url("GENERATOR_URL", "set the generator's own https URL; the push subscription's OIDC audience"),
        // maxRunDurationSeconds bounds when an upload may still be signed; runnerGroupId is matched
        // against the job's runner and recorded in provenance: both are required, never defaulted.
        pools: readPools(r, "GENERATOR_POOLS", ["name", "labels", "intakeBucket", "maxRunDurationSeconds", "runnerGroupId"]),
        recordsBucket: readRecordsBucket(r),
        pushServiceAccount,
        signerUrl: r.url("SIGNER_URL", "set the signer service's URL"),
        builderId,
        githubServer: r.url("GITHUB_SERVER_URL", "set the GitHub server URL (default https://github.com)", r.optional("GITHUB_SERVER_URL") ?? "https://github.com"),
        maxObjectBytes: readMaxObjectBytes(r, env),
        reconcileSeconds: r.integer("GENERATOR_RECONCILE_SECONDS", 300, 10, 86400),
        ...(releaseRegistry !== undefined ? { releaseRegistry } : {}),
        maxLayerBytes: r.integer("GENERATOR_MAX_LAYER_BYTES", 512 * 1024 ** 2, 1, 16 * 1024 ** 3),
    };
    r.throwIfProblems("generator");
    return config;
}
