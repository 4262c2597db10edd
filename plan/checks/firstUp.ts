/**
 * Structural checks of a planned resource graph for a first `pulumi up` on fresh projects: the
 * orderings Google Cloud needs that no single resource shows, and that a preview against the cloud
 * would only reveal half-way through a deployment. Each returns problems as text (empty: none).
 *
 * - every resource depends on the API it is created through, when the program manages APIs;
 * - a Cloud Run service that pulls from a repository whose reader is a Cloud Run service agent waits
 *   for that grant (its first revision pulls as the agent);
 * - a Workload Identity member (`<project>.svc.id.goog[ns/ksa]`) waits for a cluster of that pool
 *   (the pool exists only once a Workload Identity cluster does);
 * - a GKE cluster waits for the egress allow rules, routes and DNS zones of its network (its nodes boot
 *   under deny-all egress).
 */
import { apiForType } from "../../components/projectApis";
import { CapturedResource, ProgramRun, providerUrnOf } from "../engine";

const API_SERVICE = "gcp:projects/service:Service";
const RUN_SERVICE = "gcp:cloudrunv2/service:Service";
const REPOSITORY_READER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember";
const CLUSTER = "gcp:container/cluster:Cluster";
const WORKLOAD_POOL_MEMBER = /^serviceAccount:([^[]+\.svc\.id\.goog)\[/;
/** Cloud Run service agents: `service-<number>@serverless-robot-prod.iam.gserviceaccount.com`. */
const RUN_AGENT = /@serverless-robot-prod\.iam\.gserviceaccount\.com$/;

/** Every URN `res` waits for, directly or through what it waits for (dependencies, property dependencies, provider). */
export function dependencyClosure(run: ProgramRun, res: CapturedResource): Set<string> {
    const seen = new Set<string>();
    const stack = [res];
    while (stack.length > 0) {
        const r = stack.pop()!;
        const provider = providerUrnOf(r.provider);
        for (const dep of [...r.dependencies, ...Object.values(r.propertyDependencies).flat(), ...(provider ? [provider] : [])]) {
            if (!seen.has(dep)) {
                seen.add(dep);
                const next = run.byUrn.get(dep);
                if (next) {
                    stack.push(next);
                }
            }
        }
    }
    return seen;
}

/** The project a resource is created in: its literal `project` input, or the first project a dependency of it has. */
function projectOf(run: ProgramRun, res: CapturedResource, closure: Set<string>): string | undefined {
    if (typeof res.inputs.project === "string") {
        return res.inputs.project;
    }
    for (const urn of closure) {
        const p = run.byUrn.get(urn)?.inputs.project;
        if (typeof p === "string" && run.byUrn.get(urn)?.type !== API_SERVICE) {
            return p;
        }
    }
    return undefined;
}

/** Resources that do not wait for the projects.Service of the API they need (only when the program manages APIs). */
export function apiOrderProblems(run: ProgramRun): string[] {
    const services = run.resources.filter((r) => r.type === API_SERVICE);
    if (services.length === 0) {
        return [];
    }
    const problems: string[] = [];
    for (const res of run.resources.filter((r) => r.custom && r.type !== API_SERVICE)) {
        const api = apiForType(res.type);
        if (api === undefined) {
            continue;
        }
        const closure = dependencyClosure(run, res);
        const project = projectOf(run, res, closure);
        const enabling = services.filter((s) => s.inputs.service === api && (project === undefined || s.inputs.project === project));
        if (!enabling.some((s) => closure.has(s.urn))) {
            problems.push(`${res.name} (${res.type}) does not wait for ${api} in ${project ?? "its project"}`);
        }
    }
    return problems;
}

/** Cloud Run services that can start before a service-agent reader grant on an image repository exists. */
export function imageGrantOrderProblems(run: ProgramRun): string[] {
    const grants = run.resources.filter((r) => r.type === REPOSITORY_READER && typeof r.inputs.member === "string" && RUN_AGENT.test(r.inputs.member));
    if (grants.length === 0) {
        return [];
    }
    const problems: string[] = [];
    for (const svc of run.resources.filter((r) => r.type === RUN_SERVICE)) {
        const closure = dependencyClosure(run, svc);
        const images: string[] = (svc.inputs.template?.containers ?? []).map((c: { image?: unknown }) => String(c.image ?? ""));
        for (const grant of grants) {
            const { project, repository } = grant.inputs;
            // Another project's service pulling from the granted repository (by its literal image, or, in a
            // preview, through a dependency on the repository) pulls as its Cloud Run service agent.
            const fromRepo = images.some((i) => typeof repository === "string" && i.includes(`/${project}/${repository}/`))
                || (grant.propertyDependencies.repository ?? []).some((u) => closure.has(u));
            const relevant = fromRepo && svc.inputs.project !== project;
            if (relevant && !closure.has(grant.urn)) {
                problems.push(`${svc.name} can start before ${grant.name} lets its Cloud Run service agent pull the image`);
            }
        }
    }
    return problems;
}

/** Workload Identity members created before (or without) a cluster of their identity pool. */
export function workloadIdentityOrderProblems(run: ProgramRun): string[] {
    const problems: string[] = [];
    for (const res of run.resources.filter((r) => r.custom && typeof r.inputs.member === "string")) {
        const pool = WORKLOAD_POOL_MEMBER.exec(res.inputs.member as string)?.[1];
        if (pool === undefined) {
            continue;
        }
        const closure = dependencyClosure(run, res);
        const clusters = [...closure].map((u) => run.byUrn.get(u)).filter((r): r is CapturedResource => r?.type === CLUSTER);
        if (!clusters.some((c) => c.inputs.workloadIdentityConfig?.workloadPool === pool)) {
            problems.push(`${res.name} names ${pool} but does not wait for a cluster of that Workload Identity pool ("Identity Pool does not exist" on a fresh project)`);
        }
    }
    return problems;
}

/** GKE clusters that do not wait for the firewall rules, routes and DNS zones of their network. */
export function clusterNetworkOrderProblems(run: ProgramRun): string[] {
    const NETWORK_READY = new Set(["gcp:compute/firewall:Firewall", "gcp:compute/route:Route", "gcp:dns/managedZone:ManagedZone"]);
    const problems: string[] = [];
    for (const cluster of run.resources.filter((r) => r.type === CLUSTER)) {
        const networks = new Set(cluster.propertyDependencies.network ?? []);
        const closure = dependencyClosure(run, cluster);
        for (const r of run.resources.filter((x) => NETWORK_READY.has(x.type))) {
            const onNetwork = [...Object.values(r.propertyDependencies).flat()].some((d) => networks.has(d));
            if (onNetwork && !closure.has(r.urn) && !dependencyClosure(run, r).has(cluster.urn)) {
                problems.push(`${cluster.name} can boot nodes before ${r.name} (${r.type}) exists`);
            }
        }
    }
    return problems;
}

/** Every first-`up` problem of the plan, by check. */
export function firstUpProblems(run: ProgramRun): Record<string, string[]> {
    return {
        apis: apiOrderProblems(run),
        imageGrants: imageGrantOrderProblems(run),
        workloadIdentity: workloadIdentityOrderProblems(run),
        clusterNetwork: clusterNetworkOrderProblems(run),
    };
}
