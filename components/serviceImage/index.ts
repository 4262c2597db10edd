/**
 * `ServiceImage`: the one container image of every fleet service (signer, broker, webhook receiver,
 * provenance generator), built from this package's own source (`services/Dockerfile`) and pushed to an
 * Artifact Registry repository of the platform, then referenced **by digest**: a reference that a tag
 * move could change under the running fleet would let whoever can push to the repository swap the code
 * that signs provenance.
 *
 * The build runs on the machine running `pulumi up` (BuildKit through `@pulumi/docker-build`), never
 * during a preview. The push authenticates explicitly, as the identity the Google provider deploys with (its
 * short-lived OAuth access token as the `oauth2accesstoken` password, a secret in state), never through
 * whatever credential helper the host happens to have configured: the identity that pushes the code the
 * signer runs is the deployer's, and the same on every machine.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as dockerBuild from "@pulumi/docker-build";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { throwIfProblems } from "../config/issues";
import { componentNameProblems, iamMemberProblem, isValidRegion } from "../config/names";
import { roleLabels } from "../labels";

/** Role that lets a Cloud Run service agent pull the image: read only. */
export const IMAGE_READER_ROLE = "roles/artifactregistry.reader";
/** Image name inside the repository. */
export const SERVICE_IMAGE_NAME = "services";
/** Longest component name: the repository id (`<name>`) must fit 63 characters, and the reader children derive from it. */
export const MAX_SERVICE_IMAGE_NAME_LENGTH = 50;
/**
 * What the image is built from (exactly what services/Dockerfile copies), relative to the package root; hashed
 * into the tag, so a changed service is a new image and a changed component is not.
 */
export const SERVICE_SOURCES = ["package.json", "services/image-lock.json", "services", ".dockerignore"];

export interface ServiceImageArgs {
    /** Project of the Artifact Registry repository (the control-plane project). Required. */
    project: pulumi.Input<string>;
    /** Region of the repository. Required. */
    region: pulumi.Input<string>;
    /** IAM members allowed to pull (e.g. another project's Cloud Run service agent). Default none: same-project pulls need no grant. */
    readers?: pulumi.Input<string>[];
    /** Package root holding `services/Dockerfile`. Default: this package's own root. */
    sourceRoot?: string;
}

/** The root of this package (the directory of its package.json), from either the sources or dist/. */
export function packageRoot(from: string = __dirname): string {
    let dir = from;
    for (;;) {
        const candidate = path.join(dir, "package.json");
        if (fs.existsSync(candidate) && fs.existsSync(path.join(dir, "services", "Dockerfile"))) {
            return dir;
        }
        const parent = path.dirname(dir);
        if (parent === dir) {
            throw new Error(`ServiceImage: no package root with services/Dockerfile above ${from}`);
        }
        dir = parent;
    }
}

/** A stable sha256 over the image sources (file paths and contents, sorted), so the tag changes with the code. */
export function sourceHash(root: string): string {
    const hash = crypto.createHash("sha256");
    const visit = (rel: string): void => {
        const abs = path.join(root, rel);
        if (!fs.existsSync(abs)) {
            return;
        }
        const stat = fs.statSync(abs);
        if (stat.isDirectory()) {
            for (const entry of fs.readdirSync(abs).sort()) {
                if (entry !== "node_modules" && entry !== "dist") {
                    visit(path.join(rel, entry));
                }
            }
        } else {
            hash.update(rel.split(path.sep).join("/")).update("\0").update(fs.readFileSync(abs)).update("\0");
        }
    };
    SERVICE_SOURCES.forEach(visit);
    return hash.digest("hex");
}

/** The Artifact Registry user name that takes an OAuth access token as its password. */
export const ACCESS_TOKEN_USER = "oauth2accesstoken";

/**
 * The image tag: the sources' hash and a hash of everything else the build is made from (Dockerfile, platforms,
 * labels), so any change that rebuilds the image pushes a new tag, which an immutable-tag repository accepts;
 * the same tag is never pushed twice with other bytes.
 */
export function buildTag(sources: string, build: Record<string, unknown>): string {
    const settings = crypto.createHash("sha256").update(JSON.stringify(build)).digest("hex");
    return `src-${sources.slice(0, 16)}-${settings.slice(0, 8)}`;
}

/** A Docker repository id (lower-case, starts with a letter, at most 63). */
function repositoryIdFor(name: string): string {
    return name.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 63).replace(/-+$/, "");
}

export function validateServiceImageArgs(name: string, args: ServiceImageArgs): string[] {
    const problems = componentNameProblems(name, MAX_SERVICE_IMAGE_NAME_LENGTH);
    if (args === undefined || args === null) {
        return [...problems, "args: missing; pass at least { project, region }."];
    }
    if (args.project === undefined || args.project === "") {
        problems.push("project: missing; pass the control-plane project id.");
    }
    if (args.region === undefined || args.region === "" || (typeof args.region === "string" && !isValidRegion(args.region))) {
        problems.push(`region: ${JSON.stringify(args.region)} is not a region; pass e.g. "europe-west1".`);
    }
    (args.readers ?? []).forEach((m, i) => {
        const problem = typeof m === "string" ? iamMemberProblem(m) : undefined;
        if (problem !== undefined) {
            problems.push(`readers[${i}]: "${m}" ${problem}.`);
        }
    });
    if (args.sourceRoot !== undefined && !fs.existsSync(path.join(args.sourceRoot, "services", "Dockerfile"))) {
        problems.push(`sourceRoot: "${args.sourceRoot}" has no services/Dockerfile; pass this package's root or leave it unset.`);
    }
    return problems;
}

export class ServiceImage extends pulumi.ComponentResource {
    readonly repository: gcp.artifactregistry.Repository;
    readonly image: dockerBuild.Image;
    readonly readerGrants: gcp.artifactregistry.RepositoryIamMember[];
    /** `<region>-docker.pkg.dev/<project>/<repo>/services`. */
    readonly imageName: pulumi.Output<string>;
    /** `<imageName>@sha256:<digest>`: what the services run. */
    readonly imageRef: pulumi.Output<string>;

    constructor(name: string, args: ServiceImageArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfProblems("ServiceImage", name, validateServiceImageArgs(name, args));
        super("hardened-build-fleet:index:ServiceImage", name, {}, opts);
        const root = args.sourceRoot ?? packageRoot();

        // Immutable tags: a pushed tag can never be pointed at other bytes; the services use the digest anyway.
        this.repository = new gcp.artifactregistry.Repository(`${name}-repo`, {
            project: args.project,
            location: args.region,
            repositoryId: repositoryIdFor(name),
            format: "DOCKER",
            description: "hardened-build-fleet service images (signer, broker, webhook receiver, provenance generator)",
            dockerConfig: { immutableTags: true },
            labels: roleLabels("control-plane"),
        }, { parent: this });
        this.imageName = pulumi.interpolate`${args.region}-docker.pkg.dev/${this.repository.project}/${this.repository.repositoryId}/${SERVICE_IMAGE_NAME}`;

        const platforms = [dockerBuild.Platform.Linux_amd64];
        const baseLabels = { ...roleLabels("control-plane"), "org.opencontainers.image.source": "hardened-build-fleet" };
        const tag = buildTag(sourceHash(root), { dockerfile: "services/Dockerfile", platforms, labels: baseLabels });
        const registry = pulumi.interpolate`${args.region}-docker.pkg.dev`;
        const deployer = gcp.organizations.getClientConfigOutput({ parent: this });
        this.image = new dockerBuild.Image(`${name}-image`, {
            context: { location: root },
            dockerfile: { location: path.join(root, "services", "Dockerfile") },
            platforms,
            tags: [pulumi.interpolate`${this.imageName}:${tag}`],
            push: true,
            // The deployer's own short-lived token; docker-build does not rebuild when only a credential changes.
            registries: [{ address: registry, username: ACCESS_TOKEN_USER, password: pulumi.secret(deployer.accessToken) }],
            // Never during a preview: a preview must not publish code.
            buildOnPreview: false,
            labels: { ...baseLabels, "org.opencontainers.image.revision": tag },
        }, { parent: this });
        this.imageRef = pulumi.interpolate`${this.imageName}@${this.image.digest}`;

        this.readerGrants = (args.readers ?? []).map((member, i) => new gcp.artifactregistry.RepositoryIamMember(`${name}-reader-${i}`, {
            project: this.repository.project,
            location: this.repository.location,
            repository: this.repository.repositoryId,
            role: IMAGE_READER_ROLE,
            member,
        }, { parent: this }));

        this.registerOutputs({ imageName: this.imageName, imageRef: this.imageRef });
    }
}
