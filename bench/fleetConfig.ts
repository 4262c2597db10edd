/**
 * Generated fleet configs for the benchmark: `n` pools alternating gce, gce, gke, each with its own
 * non-overlapping /24, valid per CONFIG.md (stack-config shape, keys without the namespace).
 */

/** Primary range of pool `i`: 10.<i div 256>.<i mod 256>.0/24 (disjoint for i < 65536, away from the signer's 10.255/16). */
export function poolCidr(i: number): string {
    return `10.${Math.floor(i / 256)}.${i % 256}.0/24`;
}

export function poolBackend(i: number): "gce" | "gke" {
    return i % 3 === 2 ? "gke" : "gce";
}

/** A valid fleet config with `pools` pools (1..65280). */
export function generateFleetConfig(pools: number): Record<string, unknown> {
    if (!Number.isInteger(pools) || pools < 1 || pools > 255 * 256) {
        throw new RangeError(`pools must be an integer between 1 and ${255 * 256}, got ${pools}`);
    }
    return {
        region: "europe-west1",
        workerProject: "bench-workers",
        signerProject: "bench-signer",
        github: { configUrl: "https://github.com/bench-org" },
        registrationBrokerUrl: "https://runner-broker.bench.example",
        pools: Array.from({ length: pools }, (_, i) => {
            const backend = poolBackend(i);
            return {
                name: `pool-${i}`,
                backend,
                machineType: backend === "gke" ? "n2-standard-8" : "e2-standard-4",
                minRunners: 0,
                maxRunners: 10,
                spot: i % 2 === 1,
                cidr: poolCidr(i),
                maxBuildDuration: "2h",
                image: backend === "gke" ? "ghcr.io/actions/actions-runner:2.321.0" : "projects/bench-images/global/images/family/gha-runner",
                egressAllowList: { fqdns: ["github.com", "api.github.com", "results-receiver.actions.githubusercontent.com"], cidrs: ["203.0.113.0/28"] },
            };
        }),
        signer: {
            serviceImage: "europe-west1-docker.pkg.dev/bench-signer/signer/provenance-signer:1.0.0",
            cidr: "10.255.0.0/24",
            verifiers: ["group:release-verifiers@bench.example"],
        },
        controlPlane: { intakeRetentionDays: 7 },
    };
}
