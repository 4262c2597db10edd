/** Provider facade of `OrgGuardrails` (components/orgGuardrails/index.ts) for the component schema. */
import * as pulumi from "@pulumi/pulumi";
import type { Policy } from "@pulumi/gcp/orgpolicy/policy";
import { implementationOf, OrgGuardrailsOutputs } from "./implementation";
import { RunIngress } from "./enums";

export interface OrgGuardrailsArgs {
    /** Project id the policies apply to (`projects/<id>`). Required. */
    project: pulumi.Input<string>;
    /** Per-constraint switches over GUARDRAILS. Default: every constraint on. Turning one off leaves it to the organization or folder (it does not set it to "not enforced"). */
    constraints?: Record<string, boolean>;
    /** Sets `run.allowedIngress` to exactly this value (the signer project: "internal"). Default: not set. */
    runAllowedIngress?: RunIngress;
    /** Directory customer ids for `iam.allowedPolicyMemberDomains` (IAM members only from these). Default: not set. */
    allowedPolicyMemberDomains?: string[];
    /** `gcp.resourceLocations` allowed values, e.g. "in:europe-west1-locations". Default: not set. */
    resourceLocations?: string[];
}

/**
 * Organization-policy guardrails on one project: no service-account keys, no default-SA grants, no external
 * IPs or serial ports, Shielded VMs, and optional ingress, domain and location pins. Registers an
 * `OrgGuardrails` of the same name as its child.
 */
export class OrgGuardrails extends pulumi.ComponentResource implements OrgGuardrailsOutputs {
    /** The constraints this component sets on the project. */
    public readonly constraintNames!: pulumi.Output<string[]>;
    /** The policy resource names (`projects/<id>/policies/<constraint>`), by constraint. */
    public readonly policyNames!: pulumi.Output<Record<string, string>>;
    /** The organization policies (gcp.orgpolicy.Policy), by constraint. */
    public readonly policies!: Record<string, Policy>;

    constructor(name: string, args: OrgGuardrailsArgs, opts?: pulumi.ComponentResourceOptions) {
        const body = implementationOf<OrgGuardrailsArgs, OrgGuardrailsOutputs>("OrgGuardrails");
        body.validate(name, args);
        super("hardened-build-fleet:index:OrgGuardrails", name, {}, opts);
        const outputs = body.create(this, name, args);
        Object.assign(this, outputs);
        this.registerOutputs(outputs);
    }
}
