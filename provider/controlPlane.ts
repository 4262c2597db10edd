/** Provider facade of `ControlPlane` (components/controlPlane.ts) for the component schema. */
import * as pulumi from "@pulumi/pulumi";
import { implementationOf, ControlPlaneOutputs } from "./implementation";
import { ControlPlanePool } from "./types";

export interface ControlPlaneArgs {
    /** Project holding the control plane and the intake buckets. Required. */
    project: pulumi.Input<string>;
    /** Region: location of the intake buckets. Required. */
    region: pulumi.Input<string>;
    /** One entry per pool; each gets its own intake bucket (I5). Required, at least one. */
    pools: ControlPlanePool[];
    /** Days after which intake objects are deleted. Default 7. */
    intakeRetentionDays?: number;
    /** Service-account id of the control plane. Default derived from the component name (`<name>-cp`). */
    serviceAccountId?: string;
}

/**
 * The control-plane identity, one intake bucket per pool, and the grants that make provenance the control
 * plane's work (I11): a runner may only create objects in its own pool's bucket. Registers a `ControlPlane`
 * of the same name as its child.
 */
export class ControlPlane extends pulumi.ComponentResource implements ControlPlaneOutputs {
    /** Email of the control-plane service account. */
    public readonly serviceAccountEmail!: pulumi.Output<string>;
    /** `serviceAccount:<email>` of the control plane: pass it to SignerEnclave as its invoker. */
    public readonly member!: pulumi.Output<string>;
    /** Intake bucket name per pool name. */
    public readonly intakeBuckets!: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: ControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        const body = implementationOf("ControlPlane");
        // Validate before super(): invalid arguments register nothing, not even this facade.
        body.validate(name, args);
        super("hardened-build-fleet:index:ControlPlane", name, {}, opts);
        const outputs = body.create(this, name, args);
        Object.assign(this, outputs);
        this.registerOutputs(outputs);
    }
}
