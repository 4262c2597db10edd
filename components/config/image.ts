/** Container image references that cannot change under the fleet: pinned by sha256 digest. */

// registry host[:port] / path [:tag] @sha256:<64 hex>
const DIGEST_PINNED = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[a-f0-9]{64}$/;

/** True when `image` names exactly one image by content: `<registry>/<path>[:tag]@sha256:<64 hex>`. */
export function isDigestPinnedImage(image: unknown): image is string {
    return typeof image === "string" && DIGEST_PINNED.test(image);
}

/** Why `image` is not digest-pinned (undefined when it is), for messages that name the field and the fix. */
export function imageReferenceProblem(image: unknown): string | undefined {
    if (typeof image !== "string" || image === "") {
        return "is not an image reference";
    }
    if (isDigestPinnedImage(image)) {
        return undefined;
    }
    if (/@sha256:/.test(image)) {
        return "has a malformed digest (it must be @sha256: followed by 64 lower-case hex digits) or registry path";
    }
    return "is not pinned by digest: a tag can be moved to other code under the running fleet";
}
