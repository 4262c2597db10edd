/**
 * Where an uploaded image is published. The rule (docs/images.md):
 *
 *   upload `image.oci.tar`              -> <release registry>/<owner>/<repo>
 *   upload `images/<name>.oci.tar`      -> <release registry>/<owner>/<repo>/<name>
 *
 * `<owner>/<repo>` is the job's source repository as the HMAC-verified webhook reported it,
 * lower-cased; `<name>` is one OCI path component. Nothing else the job wrote (the path above,
 * index.json's `org.opencontainers.image.ref.name`) names the repository, so a job can only publish
 * under its own repository's prefix, never under another tenant's. GitHub names that are not valid
 * OCI path components are refused, never rewritten: a rewrite could map two repositories to one name.
 */

/** One OCI repository path component (distribution's reference grammar). */
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const MAX_REPOSITORY_LENGTH = 255;

export const IMAGE_SUFFIX = ".oci.tar";
export const DEFAULT_IMAGE_UPLOAD = `image${IMAGE_SUFFIX}`;
const NAMED_UPLOAD = /^images\/([^/]+)\.oci\.tar$/;

/** True for an upload path the generator treats as an image (and refuses if it breaks the rule). */
export function isImageUpload(uploadPath: string): boolean {
    return uploadPath.endsWith(IMAGE_SUFFIX);
}

export type RepositoryRule = (sourceRepository: string, uploadPath: string) => { repository: string } | { problem: string };

/** The documented rule: the repository path (below the release registry's own path) for an upload. */
export const repositoryFor: RepositoryRule = (sourceRepository, uploadPath) => {
    const source = sourceRepository.toLowerCase().split("/");
    if (source.length !== 2 || !source.every((c) => COMPONENT.test(c))) {
        return { problem: `source repository ${JSON.stringify(sourceRepository)} is not a valid OCI repository path (lower-cased owner/repo, components [a-z0-9] separated by ".", "_", "__" or "-"): rename the repository to publish images from it` };
    }
    let name: string | undefined;
    if (uploadPath !== DEFAULT_IMAGE_UPLOAD) {
        const m = NAMED_UPLOAD.exec(uploadPath);
        if (m === null) {
            return { problem: `image upload ${JSON.stringify(uploadPath)} is not ${DEFAULT_IMAGE_UPLOAD} or images/<name>${IMAGE_SUFFIX}: images are published only under the job's own repository, by these two names` };
        }
        if (!COMPONENT.test(m[1]) || m[1].length > 64) {
            return { problem: `image name ${JSON.stringify(m[1])} in ${JSON.stringify(uploadPath)} is not one OCI path component of at most 64 characters ([a-z0-9] separated by ".", "_", "__" or "-")` };
        }
        name = m[1];
    }
    const repository = [...source, ...(name !== undefined ? [name] : [])].join("/");
    return { repository };
};

/** The full repository (`<registry host>/<registry path>/<rule's path>`), checked for length. */
export function publishedRepository(releaseRegistry: string, path: string): { repository: string } | { problem: string } {
    const full = `${releaseRegistry}/${path}`;
    const inRegistry = full.slice(full.indexOf("/") + 1);
    if (inRegistry.length > MAX_REPOSITORY_LENGTH) {
        return { problem: `repository ${JSON.stringify(full)} is longer than ${MAX_REPOSITORY_LENGTH} characters` };
    }
    return { repository: full };
}
