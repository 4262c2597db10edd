/**
 * signer-service-pinned-image (I10): every container of a signer-labelled Cloud Run service (v1 or
 * v2) runs an image pinned by digest (`<repository>@sha256:<64 hex>`), never a tag. During a preview
 * an image computed from a `docker-build` Image of the stack (whose outputs reference the pushed
 * digest) is decided from that dependency; any other unknown image is an advisory.
 */
import { FleetStackPolicy } from "../../meta";
import { get, unknown } from "../../model/props";
import { DIGEST_PINNED } from "../resource/signerService";
import { depsOf, T, UNDECIDED } from "../../model";
import { stackRule } from "../../framework/stackRule";

const DOCKER_BUILD_IMAGE = "docker-build:index:Image";

export const signerServicePinnedImage: FleetStackPolicy = stackRule({
    name: "signer-service-pinned-image",
    description: "[I10] Every container of the signer's Cloud Run service runs an image pinned by digest (`@sha256:`), never a tag.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "every container of a signer-labelled Cloud Run service (v1 or v2) runs `<repository>@sha256:<digest>`, never a tag; during a preview an image computed from a `docker-build` Image of the stack is decided from that dependency",
        invariants: ["I10"],
        fix: "Deploy the signer from this package's digest-pinned image, or pass your own image as `<repository>@sha256:<digest>`.",
    },
    check: (g, report) => {
        for (const r of [...g.of(T.runService), ...g.of(T.runServiceV1)]) {
            if (g.computeByUrn.get(r.urn)?.role !== "signer") {
                continue;
            }
            const props = g.props(r);
            const containers = r.type === T.runService ? get(props, "template", "containers") : get(props, "template", "spec", "containers");
            const built = depsOf(r, "template", [DOCKER_BUILD_IMAGE]).length > 0;
            if (unknown(containers)) {
                if (!built) {
                    report(`${UNDECIDED} the containers of signer service ${r.name} are unknown until apply`, r.urn);
                }
                continue;
            }
            const list = Array.isArray(containers) ? containers : [];
            if (list.length === 0) {
                report(`signer service ${r.name} declares no container image`, r.urn);
            }
            for (const c of list) {
                const image = get(c, "image");
                if (unknown(image)) {
                    if (!built) {
                        report(`${UNDECIDED} the image of signer service ${r.name} is unknown until apply`, r.urn);
                    }
                } else if (typeof image !== "string" || !DIGEST_PINNED.test(image)) {
                    report(`signer image ${JSON.stringify(image)} of ${r.name} is not pinned by digest; a tag can change under the fleet`, r.urn);
                }
            }
        }
    },
});
