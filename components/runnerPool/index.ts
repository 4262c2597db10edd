/**
 * `RunnerPool`: one pool of ephemeral build environments with its own network, its own identity and
 * one of two backends (I1-I7):
 * - gce: hardened instance template + regional managed instance group + autoscaler, one job per VM
 *   (gce.ts, startupScript.ts);
 * - gke: a private hardened GKE cluster with a gVisor node pool and the ARC runner scale set, one pod
 *   per job (gke.ts: gkeCluster.ts, scaleSet.ts, podTemplate.ts).
 * The pool's intake bucket and its object-creator grant belong to ControlPlane (I11).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { PoolConfig, PoolInput, RunnerBackend } from "../config";
import { createGceBackend, gceBackendProblems, GceBackend, GceBackendOptions } from "./gce";
import { createGkeBackend, gkeBackendProblems, GkeBackend, GkeBackendOptions } from "./gke";
import { GKE_RESTRICTED_GOOGLE_DOMAINS } from "./gkeCluster";
import { throwIfProblems } from "../config/issues";
import { readGithubConfigUrl } from "../config/githubUrl";
import { componentNameProblems, isValidServiceAccountId, serviceAccountIdFor } from "../config/names";
import { resolvePoolArg } from "../config/poolInput";
import { DEFAULTS } from "../config/schema";
import { IsolatedNetwork, IsolatedNetworkArgs, MAX_NETWORK_NAME_LENGTH, validateIsolatedNetworkArgs } from "../isolatedNetwork";
import { createRunnerIdentity, GKE_NODE_ROLES, RUNNER_PROJECT_ROLES } from "./identity";

/** Longest RunnerPool name: the network child `${name}-net` must fit IsolatedNetwork's name limit. */
export const MAX_RUNNER_POOL_NAME_LENGTH = MAX_NETWORK_NAME_LENGTH - "-net".length;

export interface RunnerPoolArgs {
    /**
     * The pool. Either as written in stack config (`PoolInput`: `maxBuildDuration: "2h"`, optional fields
     * defaulted, `podCidr`/`serviceCidr`/`masterCidr` for gke pools only), validated in full by
     * `validatePoolConfig` before anything is registered; or an already normalised `PoolConfig` (e.g. one of
     * `readFleetConfig().pools`). Required.
     */
    pool: PoolInput | PoolConfig;
    /** GCP project holding the pool. Required. */
    project: pulumi.Input<string>;
    /** GCP region of the pool's subnet, MIG or cluster. Required. */
    region: pulumi.Input<string>;
    /**
     * GitHub registration target. gke: `configUrl` and the NAME of the out-of-band Kubernetes Secret holding
     * the GitHub App credentials (default "arc-github-app"). gce: unused (the broker holds the App).
     */
    github?: { configUrl: pulumi.Input<string>; scaleSetSecretName?: pulumi.Input<string> };
    /**
     * gce only, required there: https URL of the registration broker (and the identity-token audience), e.g.
     * `ControlPlane.brokerUrl`. A literal is validated at construction, an Output when it resolves; it is
     * public, not a secret.
     */
    registrationBrokerUrl?: pulumi.Input<string>;
    /** Service-account id of the pool identity. Default derived from the component name (`<name>-rn`). */
    serviceAccountId?: string;
    /**
     * Extra project roles for the pool SA, e.g. "roles/artifactregistry.reader" when images come from this
     * project's Artifact Registry (better: grant it on the repository). Default none. Every extra role is
     * reachable from build code (I7): keep it empty when possible.
     */
    additionalRoles?: string[];
    /**
     * Google domains resolved to the restricted VIP inside the pool network. Default: gke ["gcr.io", "pkg.dev"]
     * (node and system images); gce ["run.app"] when the broker is a Cloud Run URL, else none.
     */
    restrictedGoogleDomains?: string[];
    /** Flow-log sampling of the pool subnet (I12). Default 0.5. */
    flowLogSampling?: number;
    /** GCE backend tunables (see GceBackendOptions). Default all defaults. */
    gce?: GceBackendOptions;
    /** GKE backend tunables (see GkeBackendOptions). Default all defaults. */
    gke?: GkeBackendOptions;
    /**
     * gke only: Google service-account emails of the control plane's broker and webhook receiver, given `get` on
     * pods and `get`/`delete` on ARC EphemeralRunners in the runner namespace (the broker confirms registering
     * pods, the webhook scales them in). Default none: pods of this pool then cannot register for uploads.
     */
    controlPlaneIdentities?: pulumi.Input<string>[];
}

/** The checks that do not depend on the pool, so they are reported even when the pool itself is invalid. */
function poolIndependentProblems(name: string, args: RunnerPoolArgs): string[] {
    const problems: string[] = [];
    if (args.project === undefined || args.project === "") {
        problems.push("project: missing; pass the GCP project id of the pool.");
    }
    if (args.region === undefined || args.region === "") {
        problems.push("region: missing; pass a GCP region such as \"europe-west1\".");
    }
    const accountId = args.serviceAccountId ?? serviceAccountIdFor(name, "rn");
    if (!isValidServiceAccountId(accountId)) {
        problems.push(`serviceAccountId: "${accountId}" is not a valid service-account id; use 6-30 lower-case letters, digits and hyphens.`);
    }
    for (const role of args.additionalRoles ?? []) {
        if (!/^(roles|projects\/[^/]+\/roles|organizations\/[^/]+\/roles)\/[A-Za-z0-9_.]+$/.test(role)) {
            problems.push(`additionalRoles: ${JSON.stringify(role)} is not a role name; write e.g. "roles/artifactregistry.reader".`);
        }
    }
    return problems;
}

/** RunnerPoolArgs with the pool normalised. */
type ResolvedRunnerPoolArgs = Omit<RunnerPoolArgs, "pool"> & { pool: PoolConfig };

/** Every problem with the RunnerPool arguments, each naming the field, value and fix (empty when valid). */
export function validateRunnerPoolArgs(name: string, args: RunnerPoolArgs): string[] {
    const problems = componentNameProblems(name, MAX_RUNNER_POOL_NAME_LENGTH);
    const resolved = resolvePoolArg(args?.pool);
    problems.push(...resolved.problems);
    if (resolved.pool === undefined && resolved.problems.length === 0) {
        problems.push("pool: missing; describe the pool as in stack config, e.g. { name: \"linux\", backend: \"gce\", cidr: \"10.10.0.0/24\", image: ... }.");
    }
    if (args === undefined || args === null) {
        return problems;
    }
    problems.push(...poolIndependentProblems(name, args));
    const pool = resolved.pool;
    if (pool === undefined) {
        return problems;
    }
    // The pool's own fields (backend, runner counts, lifetime, image, machine type, ranges) were checked by
    // the config's pool validator in resolvePoolArg; what follows needs the component's other arguments.
    if (pool.backend === "gce") {
        problems.push(...gceBackendProblems(pool, args.registrationBrokerUrl, args.gce));
    }
    if (pool.backend === "gke") {
        if (args.github === undefined || args.github.configUrl === undefined || args.github.configUrl === "") {
            problems.push(`github.configUrl: missing for gke pool "${pool.name}"; pass the https URL of the GitHub organization or repository, e.g. "https://github.com/acme".`);
        } else if (typeof args.github.configUrl === "string") {
            const reading = readGithubConfigUrl(args.github.configUrl);
            if ("problem" in reading) {
                problems.push(`github.configUrl: "${args.github.configUrl}" ${reading.problem}; ${reading.fix}.`);
            }
        }
        problems.push(...gkeBackendProblems(pool, args.gke));
    }
    if (resolved.problems.length === 0) {
        // Only a valid pool: the pool validator already named any bad range or allow-list entry.
        problems.push(...validateIsolatedNetworkArgs(`${name}-net`, networkArgs({ ...args, pool })).map((p) => `network (from pool "${pool.name}"): ${p}`));
    }
    return problems;
}

/** Secondary range names of a GKE pool's subnet. */
function secondaryRangeNames(pool: PoolConfig): { pods: string; services: string } | undefined {
    return pool.backend === "gke" && pool.podCidr !== undefined && pool.serviceCidr !== undefined
        ? { pods: `${pool.name}-pods`, services: `${pool.name}-services` }
        : undefined;
}

function defaultRestrictedDomains(args: ResolvedRunnerPoolArgs): string[] {
    if (args.pool.backend === "gke") {
        return [...GKE_RESTRICTED_GOOGLE_DOMAINS];
    }
    if (args.registrationBrokerUrl !== undefined && typeof args.registrationBrokerUrl !== "string") {
        return ["run.app"]; // the deployed broker: a Cloud Run URL
    }
    try {
        return new URL(args.registrationBrokerUrl ?? "").hostname.endsWith(".run.app") ? ["run.app"] : [];
    } catch {
        return [];
    }
}

function networkArgs(args: ResolvedRunnerPoolArgs): IsolatedNetworkArgs {
    const pool = args.pool;
    const ranges = secondaryRangeNames(pool);
    return {
        project: args.project,
        region: args.region,
        cidr: pool.cidr,
        role: "runner",
        pool: pool.name,
        egressAllowList: { cidrs: [...(pool.egressAllowList?.cidrs ?? [])], fqdns: [...(pool.egressAllowList?.fqdns ?? [])] },
        secondaryRanges: ranges !== undefined
            ? [{ rangeName: ranges.pods, ipCidrRange: pool.podCidr as string }, { rangeName: ranges.services, ipCidrRange: pool.serviceCidr as string }]
            : undefined,
        flowLogSampling: args.flowLogSampling,
        restrictedGoogleDomains: args.restrictedGoogleDomains ?? defaultRestrictedDomains(args),
    };
}

export class RunnerPool extends pulumi.ComponentResource {
    /** The pool name (PoolConfig.name). */
    readonly poolName: string;
    readonly backend: RunnerBackend;
    /** I5: the pool's own VPC + subnet. */
    readonly network: IsolatedNetwork;
    /** I5/I7: the pool's own service account (never a key): the GCE VMs' SA, or the GKE build pods' Workload Identity SA. */
    readonly serviceAccount: gcp.serviceaccount.Account;
    readonly serviceAccountEmail: pulumi.Output<string>;
    /** `serviceAccount:<email>`: the ControlPlane lets it invoke the registration broker (it holds no bucket grant). */
    readonly serviceAccountMember: pulumi.Output<string>;
    /** Project role grants of the pool SA. */
    readonly projectRoles: gcp.projects.IAMMember[];
    /** gke only: the node SA, separate from the build's Workload Identity SA (`serviceAccount`). */
    readonly nodeServiceAccount?: gcp.serviceaccount.Account;
    /** Present for gce pools. */
    readonly gce?: GceBackend;
    /** Present for gke pools. */
    readonly gke?: GkeBackend;

    constructor(name: string, poolArgs: RunnerPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before super(): an invalid pool registers nothing.
        throwIfProblems("RunnerPool", name, validateRunnerPoolArgs(name, poolArgs));
        const resolved = resolvePoolArg(poolArgs.pool);
        const args: ResolvedRunnerPoolArgs = { ...poolArgs, pool: resolved.pool as PoolConfig };
        super("hardened-build-fleet:index:RunnerPool", name, {}, opts);

        const pool = args.pool;
        this.poolName = pool.name;
        this.backend = pool.backend;

        this.network = new IsolatedNetwork(`${name}-net`, networkArgs(args), { parent: this });

        const identity = createRunnerIdentity(name, {
            project: args.project,
            pool: pool.name,
            accountId: args.serviceAccountId ?? serviceAccountIdFor(name, "rn"),
            roles: [...RUNNER_PROJECT_ROLES, ...(args.additionalRoles ?? [])],
        }, this);
        // GKE: the nodes get an identity of their own, separate from the build's Workload Identity SA.
        const nodeIdentity = pool.backend === "gke"
            ? createRunnerIdentity(`${name}-node`, {
                project: args.project, pool: pool.name, accountId: serviceAccountIdFor(name, "node"), roles: GKE_NODE_ROLES, purpose: "node",
            }, this)
            : undefined;
        this.nodeServiceAccount = nodeIdentity?.serviceAccount;
        this.serviceAccount = identity.serviceAccount;
        this.serviceAccountEmail = identity.email;
        this.serviceAccountMember = identity.member;
        this.projectRoles = identity.projectRoles;

        // The pool validator's warnings (e.g. an allow-list without the runner hosts), for a pool written as in stack
        // config; a normalised pool's were reported by the config validator that read it.
        for (const warning of resolved.warnings) {
            pulumi.log.warn(`RunnerPool "${name}": ${warning}.`, this);
        }

        // Every child of the pool's network (allow rules, restricted-VIP route, DNS zones and records, NAT, FQDN
        // policy): nodes and VMs boot under deny-all egress and must find their allow rules already in place.
        const networkReady = [this.network];
        const outputs: Record<string, unknown> = {
            poolName: this.poolName,
            backend: this.backend,
            networkSelfLink: this.network.networkSelfLink,
            subnetSelfLink: this.network.subnetSelfLink,
            serviceAccountEmail: this.serviceAccountEmail,
            serviceAccountMember: this.serviceAccountMember,
        };
        if (pool.backend === "gce") {
            this.gce = createGceBackend(name, {
                pool,
                project: args.project,
                region: args.region,
                subnetwork: this.network.subnetSelfLink,
                serviceAccountEmail: identity.email,
                registrationBrokerUrl: args.registrationBrokerUrl as pulumi.Input<string>,
                options: args.gce,
                networkReady,
            }, this);
            outputs.instanceTemplate = this.gce.instanceTemplate.selfLink;
            outputs.instanceGroupManager = this.gce.instanceGroupManager.selfLink;
        } else {
            this.gke = createGkeBackend(name, {
                pool,
                project: args.project,
                region: args.region,
                network: this.network.networkSelfLink,
                subnetwork: this.network.subnetSelfLink,
                secondaryRangeNames: secondaryRangeNames(pool),
                serviceAccountEmail: identity.email,
                serviceAccountName: identity.serviceAccount.name,
                nodeServiceAccountEmail: (nodeIdentity as NonNullable<typeof nodeIdentity>).email,
                github: {
                    configUrl: args.github?.configUrl as pulumi.Input<string>,
                    scaleSetSecretName: args.github?.scaleSetSecretName ?? DEFAULTS.scaleSetSecretName,
                },
                options: args.gke,
                networkReady,
                ...(args.controlPlaneIdentities !== undefined ? { controlPlaneIdentities: args.controlPlaneIdentities } : {}),
            }, this);
            outputs.cluster = this.gke.cluster.name;
            outputs.runnerNamespace = this.gke.runnerNamespace;
        }
        this.registerOutputs(outputs);
    }
}
