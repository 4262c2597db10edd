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
 *   under deny-all egress);
 * - the provenance generator has a route to the internal-only signer (generatorRouteProblems).
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
        generatorRoute: generatorRouteProblems(run).problems,
    };
}

const NETWORK = "gcp:compute/network:Network";
const ROUTE = "gcp:compute/route:Route";
const MANAGED_ZONE = "gcp:dns/managedZone:ManagedZone";
const PERIMETER = "gcp:accesscontextmanager/servicePerimeter:ServicePerimeter";
const RESTRICTED_VIP = "199.36.153.4/30";
const INTERNAL_INGRESS = new Set(["INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"]);
/** The generator's environment variable naming the signer it calls (components/controlPlane/services.ts). */
const SIGNER_URL_ENV = "SIGNER_URL";

/** The generator's route to the signer: how a generator service's calls reach an internal-only signer, or why not. */
export interface GeneratorRoute {
    /** Problems: the signer refuses every call of this generator. */
    problems: string[];
    /** Routes that exist but take effect only later (a perimeter in dry run). */
    pending: string[];
}

function envOf(svc: CapturedResource, name: string): unknown {
    for (const c of svc.inputs.template?.containers ?? []) {
        for (const e of c.envs ?? []) {
            if (e?.name === name) {
                return e.value;
            }
        }
    }
    return undefined;
}

/** Whether any dependency of `res` (its inputs' sources) is `target`. */
function references(res: CapturedResource, target: CapturedResource): boolean {
    return res.dependencies.includes(target.urn) || Object.values(res.propertyDependencies).flat().includes(target.urn);
}

/**
 * Cloud Run counts a call from another Cloud Run service as internal only when it leaves through a VPC network
 * (Direct VPC egress or a connector, all traffic) of the signer's own project, or of a project in the same
 * enforced VPC Service Controls perimeter, with the signer's run.app name resolving to Google's restricted VIP.
 */
export function generatorRouteProblems(run: ProgramRun): GeneratorRoute {
    const out: GeneratorRoute = { problems: [], pending: [] };
    const services = run.resources.filter((r) => r.type === "gcp:cloudrunv2/service:Service");
    const signers = services.filter((s) => s.inputs.labels?.["build-fleet-role"] === "signer" && INTERNAL_INGRESS.has(s.inputs.ingress));
    const generators = services.filter((s) => envOf(s, SIGNER_URL_ENV) !== undefined);
    for (const gen of generators) {
        for (const signer of signers) {
            const vpc = gen.inputs.template?.vpcAccess;
            const networks = run.resources.filter((n) => n.type === NETWORK && references(gen, n));
            if (vpc === undefined || vpc.egress !== "ALL_TRAFFIC" || networks.length === 0) {
                out.problems.push(`${gen.name} has no Direct VPC egress (all traffic) into a network, so ${signer.name} (internal ingress) refuses its calls`);
                continue;
            }
            for (const net of networks) {
                const onNet = (r: CapturedResource) => references(r, net);
                const runZone = run.resources.some((z) => z.type === MANAGED_ZONE && z.inputs.dnsName === "run.app." && onNet(z));
                const vipRoute = run.resources.some((r) => r.type === ROUTE && r.inputs.destRange === RESTRICTED_VIP && onNet(r));
                if (!runZone || !vipRoute) {
                    out.problems.push(`${gen.name}'s network ${net.name} lacks ${!runZone ? "a private run.app zone" : ""}${!runZone && !vipRoute ? " and " : ""}${!vipRoute ? "a route to the restricted VIP" : ""}, so its calls to ${signer.name} do not reach it as internal traffic`);
                    continue;
                }
                const netProject = net.inputs.project;
                const signerProject = signer.inputs.project;
                if (netProject === signerProject) {
                    continue;
                }
                // Another project: only one perimeter around both projects that restricts Cloud Run makes it internal.
                const perimeters = run.resources.filter((p) => p.type === PERIMETER);
                const covers = (cfg: any) => Array.isArray(cfg?.restrictedServices) && cfg.restrictedServices.includes("run.googleapis.com") && (cfg.resources ?? []).length >= 2;
                const enforced = perimeters.find((p) => covers(p.inputs.status) && p.inputs.useExplicitDryRunSpec !== true);
                const dryRun = perimeters.find((p) => covers(p.inputs.spec));
                if (enforced !== undefined) {
                    continue;
                }
                if (dryRun !== undefined) {
                    out.pending.push(`${gen.name} reaches ${signer.name} (project ${signerProject}) from ${netProject} once perimeter ${dryRun.name} is enforced`);
                } else {
                    out.problems.push(`${gen.name} egresses in ${netProject}, ${signer.name} is in ${signerProject}, and no perimeter restricting Cloud Run contains both: every signing call is refused`);
                }
            }
        }
    }
    return out;
}
