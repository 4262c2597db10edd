/** Provider facade of `ServiceImage` (components/serviceImage/index.ts) for the component schema. */
import * as pulumi from "@pulumi/pulumi";
import type { Repository } from "@pulumi/gcp/artifactregistry/repository";
import { implementationOf, ServiceImageOutputs } from "./implementation";

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

/**
 * The control-plane and signer services image, built from this package's `services/Dockerfile`, pushed to an
 * Artifact Registry repository of its own and referenced by digest. Registers a `ServiceImage` of the same
 * name as its child.
 */
export class ServiceImage extends pulumi.ComponentResource implements ServiceImageOutputs {
    /** `<region>-docker.pkg.dev/<project>/<repo>/services`. */
    public readonly imageName!: pulumi.Output<string>;
    /** `<imageName>@sha256:<digest>`: pass it as the ControlPlane's and SignerEnclave's image. */
    public readonly imageRef!: pulumi.Output<string>;
    /** Id of the Artifact Registry repository. */
    public readonly repositoryId!: pulumi.Output<string>;
    /** The Artifact Registry repository (gcp.artifactregistry.Repository): grant pullers on it. */
    public readonly repository!: Repository;

    constructor(name: string, args: ServiceImageArgs, opts?: pulumi.ComponentResourceOptions) {
        const body = implementationOf<ServiceImageArgs, ServiceImageOutputs>("ServiceImage");
        body.validate(name, args);
        super("hardened-build-fleet:index:ServiceImage", name, {}, opts);
        const outputs = body.create(this, name, args);
        Object.assign(this, outputs);
        this.registerOutputs(outputs);
    }
}
