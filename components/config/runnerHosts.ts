/**
 * The GitHub hosts a runner cannot work without, as exact names: FQDN firewall rules take no wildcards,
 * so GitHub's `*.actions.githubusercontent.com` has to be spelled out. From GitHub's "Communicating with
 * self-hosted runners" (essential operations) for the runner 2.32x line the example pins
 * (ghcr.io/actions/actions-runner:2.321.0): registration and the job API (github.com, api.github.com), the
 * broker a JIT runner long-polls for its job, the pipelines service that serves the job and its logs, the
 * results service that receives step results and logs, and codeload for the actions a job downloads.
 * GitHub also serves some Actions traffic from per-region hosts (`pipelinesghub*`, `run-actions-*`) that
 * cannot be enumerated ahead; the NAT and FQDN-rule logs show them (docs/deploy.md).
 */
import { PoolConfig } from "./types";

/** Hosts a GCE runner (the runner application itself) needs. */
export const GCE_RUNNER_HOSTS = [
    "github.com",
    "api.github.com",
    "codeload.github.com",
    "broker.actions.githubusercontent.com",
    "pipelines.actions.githubusercontent.com",
    "results-receiver.actions.githubusercontent.com",
] as const;

/**
 * Hosts a GKE pool's nodes need: the runner pods' (as above) plus what ARC's listener and controller call to
 * create the scale set and long-poll its messages (the Actions service behind the broker and pipelines hosts).
 */
export const GKE_RUNNER_HOSTS = GCE_RUNNER_HOSTS;

/** The default host set of a pool's backend. */
export function runnerHostsFor(backend: PoolConfig["backend"]): readonly string[] {
    return backend === "gke" ? GKE_RUNNER_HOSTS : GCE_RUNNER_HOSTS;
}

/** The required hosts a pool's allow-list lacks (a warning, not an error: GitHub Enterprise Server or a proxy may differ). */
export function missingRunnerHosts(pool: Pick<PoolConfig, "backend" | "egressAllowList">): string[] {
    return runnerHostsFor(pool.backend).filter((h) => !pool.egressAllowList.fqdns.includes(h));
}

/** The pool validator's warning when a pool's allow-list lacks runner hosts, or undefined. */
export function runnerHostsWarning(pool: Pick<PoolConfig, "name" | "backend" | "egressAllowList">): string | undefined {
    const missing = missingRunnerHosts(pool);
    if (pool.egressAllowList.fqdns.length === 0) {
        return `pool "${pool.name}" allow-lists no FQDNs, so its runners cannot reach GitHub; add ${missing.join(", ")} to egressAllowList.fqdns`;
    }
    return missing.length === 0 ? undefined
        : `pool "${pool.name}" does not allow ${missing.join(", ")}, which its runners need to take jobs (FQDN rules take no wildcards); ` +
            "add them to egressAllowList.fqdns unless the pool reaches GitHub another way";
}
