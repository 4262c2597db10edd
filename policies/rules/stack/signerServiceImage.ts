/**
 * signer-service-pinned-image (I10): every container of a signer- or control-plane-labelled Cloud
 * Run service (v1 or v2), job or worker pool runs an image pinned by digest (a signer-labelled job or
 * worker pool is not the signer service, and gets no exemption for it) (`<repository>@sha256:<64 hex>`), never a tag. During a preview
 * an image computed from a `docker-build` Image of the stack (whose outputs reference the pushed
 * digest) is decided from that dependency; any other unknown image is an advisory.
 */
import { FleetStackPolicy } from "../../meta";
import { get, unknown } from "../../model/props";
import { DIGEST_PINNED } from "../resource/signerService";
import { depsOf, T, UNDECIDED } from "../../model";
import { stackRule } from "../../framework/stackRule";

const DOCKER_BUILD_IMAGE = "docker-build:index:Image";

/** Where each Cloud Run kind keeps its containers. */
const CONTAINERS: Record<string, string[]> = {
    [T.runService]: ["template", "containers"],
    [T.runServiceV1]: ["template", "spec", "containers"],
    [T.runJob]: ["template", "template", "containers"],
    [T.runWorkerPool]: ["template", "containers"],
};

export const signerServicePinnedImage: FleetStackPolicy = stackRule({
    name: "signer-service-pinned-image",
    description: "[I10] Every container of a signer or control-plane Cloud Run service, job or worker pool runs an image pinned by digest (`@sha256:`), never a tag.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "every container of a signer- or control-plane-labelled Cloud Run service (v1 or v2), job or worker pool runs `<repository>@sha256:<digest>`, never a tag; during a preview an image computed from a `docker-build` Image of the stack is decided from that dependency",
        invariants: ["I10"],
        fix: "Deploy the signer from this package's digest-pinned image, or pass your own image as `<repository>@sha256:<digest>`.",
    },
    check: (g, report) => {
        for (const r of [...g.of(T.runService), ...g.of(T.runServiceV1), ...g.of(T.runJob), ...g.of(T.runWorkerPool)]) {
            // Every signer and control-plane Cloud Run workload: services, jobs and worker pools alike (no exemption by kind).
            const node = g.computeByUrn.get(r.urn);
            if (!node || node.isRunner || (node.role !== "signer" && node.role !== "control-plane")) {
                continue;
            }
            const what = `${node.role} ${r.type === T.runJob ? "job" : r.type === T.runWorkerPool ? "worker pool" : "service"}`;
            const props = g.props(r);
            const containers = get(props, ...CONTAINERS[r.type]);
            const built = depsOf(r, "template", [DOCKER_BUILD_IMAGE]).length > 0;
            if (unknown(containers)) {
                if (!built) {
                    report(`${UNDECIDED} the containers of ${what} ${r.name} are unknown until apply`, r.urn);
                }
                continue;
            }
            const list = Array.isArray(containers) ? containers : [];
            if (list.length === 0) {
                report(`${what} ${r.name} declares no container image`, r.urn);
            }
            for (const c of list) {
                const image = get(c, "image");
                if (unknown(image)) {
                    if (!built) {
                        report(`${UNDECIDED} the image of ${what} ${r.name} is unknown until apply`, r.urn);
                    }
                } else if (typeof image !== "string" || !DIGEST_PINNED.test(image)) {
                    report(`${node.role} image ${JSON.stringify(image)} of ${what} ${r.name} is not pinned by digest; a tag can change under the fleet`, r.urn);
                }
            }
        }
    },
});
