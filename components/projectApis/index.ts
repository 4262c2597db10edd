/**
 * `ProjectApis`: the Google APIs each fleet project needs, enabled with `gcp.projects.Service`
 * (`disableOnDestroy: false`: destroying the stack never switches off an API other workloads of the
 * project may use), and a resource transformation that makes every resource of the fleet depend on the
 * API it is created through. On a fresh project the first call to a disabled API fails with
 * SERVICE_DISABLED, and service agents (e.g. Cloud Run's, which pulls the signer image) exist only once
 * their API is on. Organizations that enable APIs elsewhere switch this off (`enableApis: false`).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { throwIfProblems } from "../config/issues";
import { componentNameProblems, isValidProjectId } from "../config/names";

/**
 * The API each resource type is created through, by type-token prefix (the longest match wins). Types
 * not listed (Kubernetes objects, random ids, docker-build images) call no Google API of a fleet project
 * directly, or reach it through a resource that does (a bucket IAM binding through its bucket).
 */
export const API_BY_TYPE_PREFIX: Readonly<Record<string, string>> = {
    "gcp:compute/": "compute.googleapis.com",
    "gcp:dns/": "dns.googleapis.com",
    "gcp:container/": "container.googleapis.com",
    "gcp:kms/": "cloudkms.googleapis.com",
    "gcp:cloudrunv2/": "run.googleapis.com",
    "gcp:storage/": "storage.googleapis.com",
    "gcp:serviceaccount/": "iam.googleapis.com",
    "gcp:projects/iAMCustomRole:": "iam.googleapis.com",
    "gcp:projects/iAMMember:": "cloudresourcemanager.googleapis.com",
    "gcp:projects/iAMBinding:": "cloudresourcemanager.googleapis.com",
    "gcp:projects/iAMAuditConfig:": "cloudresourcemanager.googleapis.com",
    "gcp:logging/": "logging.googleapis.com",
    "gcp:pubsub/": "pubsub.googleapis.com",
    "gcp:secretmanager/": "secretmanager.googleapis.com",
    "gcp:artifactregistry/": "artifactregistry.googleapis.com",
    "gcp:orgpolicy/": "orgpolicy.googleapis.com",
    "gcp:monitoring/": "monitoring.googleapis.com",
};

/** The API a resource type needs, or undefined (see API_BY_TYPE_PREFIX). */
export function apiForType(type: string): string | undefined {
    let best: string | undefined;
    for (const prefix of Object.keys(API_BY_TYPE_PREFIX)) {
        if (type.startsWith(prefix) && (best === undefined || prefix.length > best.length)) {
            best = prefix;
        }
    }
    return best === undefined ? undefined : API_BY_TYPE_PREFIX[best];
}

export interface ProjectApisArgs {
    /** Project id -> the APIs to enable in it (e.g. "run.googleapis.com"). Required, at least one project. */
    projects: Record<string, string[]>;
}

/** A child-name-safe short form of an API: `cloudkms.googleapis.com` -> `cloudkms`. */
export function apiShortName(api: string): string {
    return api.replace(/\.googleapis\.com$/, "").replace(/[^a-z0-9-]/g, "-");
}

export function validateProjectApisArgs(name: string, args: ProjectApisArgs): string[] {
    const problems = componentNameProblems(name, 60);
    if (args === undefined || args === null || typeof args.projects !== "object" || args.projects === null) {
        return [...problems, "projects: missing; pass { \"<project id>\": [\"run.googleapis.com\", ...] }."];
    }
    for (const [project, apis] of Object.entries(args.projects)) {
        if (!isValidProjectId(project)) {
            problems.push(`projects: key ${JSON.stringify(project)} is not a project id; key the map by project id, e.g. "acme-build-signer".`);
        }
        (Array.isArray(apis) ? apis : [apis]).forEach((api, i) => {
            if (typeof api !== "string" || !/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*\.googleapis\.com$/.test(api)) {
                problems.push(`projects.${project}[${i}]: ${JSON.stringify(api)} is not a Google API service name; write e.g. "run.googleapis.com".`);
            }
        });
    }
    return problems;
}

export class ProjectApis extends pulumi.ComponentResource {
    /** Project id -> API -> the `projects.Service` enabling it. */
    readonly services: Record<string, Record<string, gcp.projects.Service>>;

    constructor(name: string, args: ProjectApisArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfProblems("ProjectApis", name, validateProjectApisArgs(name, args));
        super("hardened-build-fleet:index:ProjectApis", name, {}, opts);
        this.services = {};
        for (const [project, apis] of Object.entries(args.projects)) {
            this.services[project] = {};
            for (const api of [...new Set(apis)].sort()) {
                this.services[project][api] = new gcp.projects.Service(`${name}-${project}-${apiShortName(api)}`, {
                    project,
                    service: api,
                    // Never switch an API off on destroy: other workloads of the project may use it.
                    disableOnDestroy: false,
                    disableDependentServices: false,
                }, { parent: this });
            }
        }
        this.registerOutputs({});
    }

    /** The Service enabling `api` in `project`, if this component manages it. */
    service(project: string, api: string): gcp.projects.Service | undefined {
        return this.services[project]?.[api];
    }

    /**
     * A transformation for a component's options: each resource created under it (children of children
     * too) depends on the API its type needs, in its own `project` input when that is a literal, else in
     * `defaultProject`; plus `extra(type)` (e.g. the API whose service agent an IAM grant names).
     */
    transformation(defaultProject: string, extra: (type: string) => gcp.projects.Service[] = () => []): pulumi.ResourceTransformation {
        return ({ type, props, opts }) => {
            const api = apiForType(type);
            const project = typeof props?.project === "string" ? props.project : defaultProject;
            const needed = [...(api !== undefined ? [this.service(project, api)] : []), ...extra(type)]
                .filter((s): s is gcp.projects.Service => s !== undefined);
            if (needed.length === 0) {
                return undefined;
            }
            return { props, opts: pulumi.mergeOptions(opts, { dependsOn: needed }) };
        };
    }
}
