/**
 * Every problem with a `ControlPlane`'s arguments, in one pass: names, projects, region, image, builder id,
 * the GitHub App and secrets by reference, the pools (names, runner identities, labels, runner groups) and the
 * generator's network. Checks the config validator already made are made again here because the component is
 * also used without the fleet config (its own program, or the multi-language provider).
 */
import { MAX_CLOUD_RUN_SERVICE_NAME } from "./cloudRunUrl";
import { imageReferenceProblem } from "../config/image";
import { builderIdProblem, componentNameProblems, isGcpName, isValidRegion, isValidServiceAccountId } from "../config/names";
import { secretIdProblem } from "../config/controlPlane";
import { readGithubConfigUrl } from "../config/githubUrl";
import { labelSetProblems, RUNNER_LABEL, runnerLabels } from "../../services/controlPlane/runsOn";
import { directVpcEgressCidrProblem, isolatedNetworkArgsProblems, MAX_NETWORK_NAME_LENGTH } from "../isolatedNetwork";
import type { ControlPlaneArgs } from "./args";
import { generatorAccountIdFor } from "./identities";

/** Child-name suffix of the generator's own network (`generatorNetwork`). */
export const GENERATOR_NETWORK_SUFFIX = "-net";
/** Longest logical bucket name whose auto-name (plus "-" and 7 characters) still fits 63. */
export const MAX_BUCKET_LOGICAL_NAME = 55;
/** `${name}-generator` must fit a Cloud Run service name. */
const MAX_CONTROL_PLANE_NAME = MAX_CLOUD_RUN_SERVICE_NAME - "-generator".length;

/** Every problem with the ControlPlane arguments (empty when valid). */
export function validateControlPlaneArgs(name: string, args: ControlPlaneArgs): string[] {
    const problems = componentNameProblems(name, Math.min(MAX_BUCKET_LOGICAL_NAME, MAX_CONTROL_PLANE_NAME));
    if (args === undefined || args === null) {
        return [...problems, "args: missing; pass at least { project, workerProject, region, pools, image, signerUrl, builderId, githubConfigUrl, githubApp, webhookSecret }."];
    }
    for (const key of ["project", "workerProject", "signerUrl", "githubConfigUrl"] as const) {
        if (args[key] === undefined || args[key] === "") {
            problems.push(`${key}: missing.`);
        }
    }
    if (typeof args.project === "string" && args.project !== "" && args.project === args.workerProject && args.allowWorkerProjectForDevelopment !== true) {
        problems.push(`project: "${args.project}" is the worker project; anyone there with actAs on a control-plane identity would hold a signing oracle. Use the signer's or a dedicated project.`);
    }
    if (args.region === undefined || args.region === "" || (typeof args.region === "string" && !isValidRegion(args.region))) {
        problems.push(`region: ${JSON.stringify(args.region)} is not a region; pass e.g. "europe-west1".`);
    }
    if (args.image === undefined || args.image === "") {
        problems.push("image: missing; pass the services image pinned by digest, e.g. ServiceImage.imageRef.");
    } else if (typeof args.image === "string" && imageReferenceProblem(args.image) !== undefined) {
        problems.push(`image: "${args.image}" ${imageReferenceProblem(args.image)}; pass <registry>/<path>@sha256:<64 hex digits>.`);
    }
    if (builderIdProblem(args.builderId) !== undefined) {
        problems.push(`builderId: ${JSON.stringify(args.builderId)} ${builderIdProblem(args.builderId)}; pass the signer's builder id, e.g. "https://github.com/acme/hardened-build-fleet/fleet".`);
    }
    const app = args.githubApp;
    if (app === undefined || !Number.isInteger(app.appId) || app.appId < 1 || !Number.isInteger(app.installationId) || app.installationId < 1) {
        problems.push("githubApp: pass { appId, installationId } as positive integers and privateKeySecret as a Secret Manager secret id.");
    }
    for (const [field, value] of [["githubApp.privateKeySecret", app?.privateKeySecret], ["webhookSecret", args.webhookSecret]] as const) {
        const problem = typeof value === "string" ? secretIdProblem(value) : "is missing";
        if (problem !== undefined) {
            problems.push(`${field}: ${problem}; write the id of a secret created out of band, e.g. "projects/acme-build-signer/secrets/github-app-key".`);
        }
    }
    const github = typeof args.githubConfigUrl === "string" && args.githubConfigUrl !== "" ? readGithubConfigUrl(args.githubConfigUrl) : undefined;
    if (github !== undefined && "problem" in github) {
        problems.push(`githubConfigUrl: "${args.githubConfigUrl}" ${github.problem}; ${github.fix}.`);
    }
    if (args.brokerIngress !== undefined && !["all", "internal"].includes(args.brokerIngress)) {
        problems.push(`brokerIngress: ${JSON.stringify(args.brokerIngress)} must be "all" or "internal".`);
    }
    if (!Array.isArray(args.pools) || args.pools.length === 0) {
        problems.push("pools: empty; pass one { name, runnerMember, image, maxRunDurationSeconds } per runner pool.");
    }
    const seen = new Set<string>();
    (args.pools ?? []).forEach((pool, i) => {
        if (!isGcpName(pool?.name)) {
            problems.push(`pools[${i}].name: ${JSON.stringify(pool?.name)} is not a pool name; use lower-case letters, digits and hyphens.`);
            return;
        }
        if (seen.has(pool.name)) {
            problems.push(`pools[${i}].name: "${pool.name}" appears twice; every pool needs its own intake bucket (I5).`);
        }
        seen.add(pool.name);
        const logical = `${name}-intake-${pool.name}`;
        if (logical.length > MAX_BUCKET_LOGICAL_NAME) {
            problems.push(`pools[${i}].name: bucket name "${logical}" is longer than ${MAX_BUCKET_LOGICAL_NAME} characters; shorten the component or pool name.`);
        }
        if (pool.runnerMember === undefined || pool.runnerMember === "") {
            problems.push(`pools[${i}].runnerMember: missing; pass the pool's runner identity, e.g. RunnerPool.serviceAccountMember.`);
        }
        if ((pool.backend ?? "gce") === "gce" && (pool.instanceGroupManager === undefined || pool.instanceGroupManager === "")) {
            problems.push(`pools[${i}].instanceGroupManager: missing for gce pool "${pool.name}"; pass RunnerPool.gce.instanceGroupManager.name.`);
        }
    });
    const labelled = (args.pools ?? []).filter((p) => isGcpName(p?.name) && (p.backend ?? "gce") === "gce");
    const badGroup = (field: string, value: unknown) => value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 1)
        ? [`${field}: ${JSON.stringify(value)} must be a positive integer runner group id (the Default group is 1).`] : [];
    problems.push(...badGroup("runnerGroupId", args.runnerGroupId));
    labelled.forEach((pool) => {
        const at = `pools[${args.pools.indexOf(pool)}]`;
        if (pool.labels !== undefined && !(Array.isArray(pool.labels) && pool.labels.every((l) => typeof l === "string" && RUNNER_LABEL.test(l)))) {
            problems.push(`${at}.labels: ${JSON.stringify(pool.labels)} must be runner labels (1-100 letters, digits, '.', '_' or '-'), e.g. runnerLabels("${pool.name}", ["gpu"]).`);
        }
        problems.push(...badGroup(`${at}.runnerGroupId`, pool.runnerGroupId));
    });
    const labelSets = labelled.map((p) => ({ name: p.name, labels: Array.isArray(p.labels) ? p.labels : runnerLabels(p.name) }));
    for (const [i, message] of labelSetProblems(labelSets)) {
        problems.push(`pools[${args.pools.indexOf(labelled[i])}].labels: ${message}.`);
    }
    const days = args.intakeRetentionDays;
    if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650)) {
        problems.push(`intakeRetentionDays: ${JSON.stringify(days)} must be an integer between 1 and 3650 (default 7).`);
    }
    if (args.generatorNetwork !== undefined) {
        problems.push(...generatorNetworkProblems(name, args));
    }
    const accountId = generatorAccountIdFor(name, args.serviceAccountId);
    if (!isValidServiceAccountId(accountId)) {
        problems.push(`serviceAccountId: "${accountId}" is not a valid service-account id; use 6-30 lower-case letters, digits and hyphens.`);
    }
    return problems;
}

/** Problems of `generatorNetwork`: its network's own checks under the same field names, its name, its size. */
function generatorNetworkProblems(name: string, args: ControlPlaneArgs): string[] {
    const problems: string[] = [];
    if (args.generatorVpc !== undefined) {
        problems.push("generatorNetwork: set together with generatorVpc; pass one (generatorVpc: the signer's network in a shared project; generatorNetwork: a network of the control plane's own).");
    }
    if (name.length + GENERATOR_NETWORK_SUFFIX.length > MAX_NETWORK_NAME_LENGTH) {
        problems.push(`generatorNetwork: the network "${name}${GENERATOR_NETWORK_SUFFIX}" is longer than ${MAX_NETWORK_NAME_LENGTH} characters; shorten the component name.`);
    }
    const cidr = args.generatorNetwork?.cidr;
    problems.push(...isolatedNetworkArgsProblems({ project: args.project, region: args.region, cidr: cidr as string, role: "control-plane" })
        .filter((p) => p.startsWith("cidr:"))
        .map((p) => `generatorNetwork.${p}`));
    const small = directVpcEgressCidrProblem("generatorNetwork.cidr", cidr, "10.201.0.0/26");
    if (small !== undefined) {
        problems.push(small);
    }
    return problems;
}

