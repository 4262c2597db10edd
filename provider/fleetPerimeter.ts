/** Provider facade of `FleetPerimeter` (components/fleetPerimeter/index.ts) for the component schema. */
import * as pulumi from "@pulumi/pulumi";
import type { ServicePerimeter } from "@pulumi/gcp/accesscontextmanager/servicePerimeter";
import { FleetPerimeterOutputs, implementationOf } from "./implementation";
import { PerimeterMode } from "./enums";

export interface FleetPerimeterArgs {
    /** Existing access policy, `accessPolicies/<number>` or the number. Required (creating one is an org-admin act). */
    accessPolicy: string;
    /** "dryRun" (explicit dry-run spec, nothing blocked, violations logged) or "enforced". Default "dryRun". */
    mode?: PerimeterMode;
    /** Signer project id: in the enclave perimeter. Required. */
    signerProject: string;
    /** Worker project id: in the worker perimeter. Required; must differ from the signer and control-plane projects. */
    workerProject: string;
    /** Control-plane project id: in the enclave perimeter (one member with the signer's when equal). Default: signerProject. A project of its own keeps Cloud Run restricted around the signer (see the file comment). */
    controlPlaneProject?: string;
    /** The registration broker's identity (`serviceAccount:...`): runner uploads run as it; it reads MIG membership. Required. */
    brokerMember: pulumi.Input<string>;
    /** The webhook receiver's identity (`serviceAccount:...`): writes the demand metric and scales in. Required. */
    webhookMember: pulumi.Input<string>;
    /** Runners invoke the broker's run.app URL (GCE pools). Default true; false (GKE-only fleets) drops that egress rule. */
    runnersInvokeBroker?: boolean;
    /** Runner identities allowed to pull from imageProjects. Default: none (no image rule). */
    runnerMembers?: pulumi.Input<string>[];
    /** Project ids holding runner images (Artifact Registry) the workers may pull from. Default: none. */
    imageProjects?: string[];
    /** Known project numbers by id; others are resolved with organizations.getProject. Default: none. */
    projectNumbers?: Record<string, string>;
    /** Services restricted in the enclave perimeter. Default ENCLAVE_RESTRICTED_SERVICES, without Cloud Run when the signer project hosts the control plane. Must include Cloud KMS; may include Cloud Run only with a control-plane project of its own. */
    enclaveRestrictedServices?: string[];
    /** Services restricted in the worker perimeter. Default WORKER_RESTRICTED_SERVICES. */
    workerRestrictedServices?: string[];
    /** APIs runner networks may call (each must be restricted too). Default WORKER_VPC_ACCESSIBLE_SERVICES (+ Cloud Run when runners invoke the broker). */
    workerVpcAccessibleServices?: string[];
}

/**
 * The enclave and worker VPC Service Controls perimeters: Cloud KMS and the signer's storage only inside the
 * enclave, the workers' Google APIs only to the fleet's own resources (I4, I10). Registers a `FleetPerimeter`
 * of the same name as its child.
 */
export class FleetPerimeter extends pulumi.ComponentResource implements FleetPerimeterOutputs {
    /** Full name of the enclave perimeter (`accessPolicies/<n>/servicePerimeters/<short>`). */
    public readonly enclaveName!: pulumi.Output<string>;
    /** Full name of the worker perimeter. */
    public readonly workersName!: pulumi.Output<string>;
    /** The rollout mode in effect: "dryRun" or "enforced". */
    public readonly mode!: pulumi.Output<string>;
    /** The enclave perimeter (gcp.accesscontextmanager.ServicePerimeter). */
    public readonly enclave!: ServicePerimeter;
    /** The worker perimeter (gcp.accesscontextmanager.ServicePerimeter). */
    public readonly workers!: ServicePerimeter;

    constructor(name: string, args: FleetPerimeterArgs, opts?: pulumi.ComponentResourceOptions) {
        const body = implementationOf<FleetPerimeterArgs, FleetPerimeterOutputs>("FleetPerimeter");
        body.validate(name, args);
        super("hardened-build-fleet:index:FleetPerimeter", name, {}, opts);
        const outputs = body.create(this, name, args);
        Object.assign(this, outputs);
        this.registerOutputs(outputs);
    }
}
