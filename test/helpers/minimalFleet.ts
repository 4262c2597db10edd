/** The smallest valid fleet config (one GKE pool, signer in its own project), for tests that add one block to it. */
export function minimalFleetConfig(): Record<string, any> {
    return {
        region: "europe-west1", workerProject: "acme-workers", signerProject: "acme-signer",
        github: { configUrl: "https://github.com/acme" },
        pools: [{ name: "containers", backend: "gke", cidr: "10.12.0.0/22", image: "ghcr.io/actions/actions-runner:2.321.0" }],
        signer: { cidr: "10.200.0.0/26" },
        controlPlane: {
            githubApp: { appId: 123456, installationId: 7890123, privateKeySecret: "projects/acme-signer/secrets/github-app-key" },
            webhookSecret: "projects/acme-signer/secrets/github-webhook-secret",
        },
    };
}
