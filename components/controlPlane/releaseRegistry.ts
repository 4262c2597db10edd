/**
 * The release registry: an Artifact Registry Docker repository in the control-plane project with
 * immutable tags, written only by the publishing identity (the provenance generator) through an
 * authoritative binding. Images and their `.att` attestations land here, pushed by the control plane.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { roleLabels } from "../labels";

/** Artifact Registry role of the publishing identity on the release registry. */
export const RELEASE_WRITER_ROLE = "roles/artifactregistry.writer";

export interface ReleaseRegistry {
    repository: gcp.artifactregistry.Repository;
    /** Authoritative: the publishing identity is the only writer. */
    writers: gcp.artifactregistry.RepositoryIamBinding;
    /** `<region>-docker.pkg.dev/<project>/<repository id>`: the generator's RELEASE_REGISTRY. */
    address: pulumi.Output<string>;
}

/** A repository id from the component name: lower-case letters, digits and hyphens, at most 63 characters. */
export function releaseRepositoryId(name: string): string {
    return `${name.slice(0, 54).replace(/-+$/, "")}-releases`;
}

export function createReleaseRegistry(name: string, args: { project: pulumi.Input<string>; region: pulumi.Input<string>; publisher: pulumi.Input<string> }, opts: pulumi.CustomResourceOptions): ReleaseRegistry {
    const repository = new gcp.artifactregistry.Repository(`${name}-releases`, {
        project: args.project,
        location: args.region,
        repositoryId: releaseRepositoryId(name),
        format: "DOCKER",
        description: "hardened-build-fleet release registry: images pushed by the control plane, with their attestations (sha256-<hex>.att)",
        // A tag, once written (an attestation tag included), never names other bytes.
        dockerConfig: { immutableTags: true },
        labels: roleLabels("control-plane"),
    }, opts);
    const writers = new gcp.artifactregistry.RepositoryIamBinding(`${name}-releases-writers`, {
        project: repository.project,
        location: repository.location,
        repository: repository.name,
        role: RELEASE_WRITER_ROLE,
        members: [args.publisher],
    }, opts);
    const address = pulumi.interpolate`${args.region}-docker.pkg.dev/${repository.project}/${repository.repositoryId}`;
    return { repository, writers, address };
}
