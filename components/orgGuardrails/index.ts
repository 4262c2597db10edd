/**
 * `OrgGuardrails`: organization-policy constraints on one fleet project (gcp.orgpolicy.Policy), the
 * defence in depth a hardened Google Cloud foundation applies. They hold even against a principal
 * who can edit the project's resources: nobody can mint a service-account key, give a VM an
 * external IP or a serial console, or open the signer's Cloud Run ingress to the internet.
 * Invariants I3, I5, I6, I7, I10, I11.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { GUARDRAIL_CONSTRAINTS, GuardrailConstraint } from "../config/perimeter";
import { throwIfProblems } from "../config/issues";
import { componentNameProblems, isValidProjectId, suggestion } from "../config/names";

export { GUARDRAIL_CONSTRAINTS, GuardrailConstraint };

/** How a guardrail is enforced: a boolean constraint, or a list constraint denying every value. */
type GuardrailKind = "enforce" | "denyAll";

/** The catalogue: kind and why (each is on by default). */
export const GUARDRAILS: Record<GuardrailConstraint, { kind: GuardrailKind; why: string }> = {
    "iam.disableServiceAccountKeyCreation": { kind: "enforce", why: "I7: no standing service-account keys can be created" },
    "iam.disableServiceAccountKeyUpload": { kind: "enforce", why: "I7: no external key can be uploaded to a service account" },
    "iam.automaticIamGrantsForDefaultServiceAccounts": { kind: "enforce", why: "I7: default service accounts get no Editor role" },
    "compute.requireShieldedVm": { kind: "enforce", why: "I6: every VM boots Shielded (secure boot, vTPM, integrity monitoring)" },
    "compute.requireOsLogin": { kind: "enforce", why: "I3: no metadata SSH keys; SSH only through IAM" },
    "compute.vmExternalIpAccess": { kind: "denyAll", why: "I3: no VM gets an external IP" },
    "compute.disableSerialPortAccess": { kind: "enforce", why: "I3: no interactive serial console" },
    "compute.skipDefaultNetworkCreation": { kind: "enforce", why: "I5: no auto-mode default network in projects created below" },
    "compute.vmCanIpForward": { kind: "denyAll", why: "I3: no VM forwards traffic for others (GKE nodes need it: off in projects with GKE pools)" },
    "compute.restrictVpcPeering": { kind: "denyAll", why: "I5: no VPC peering (GKE private control planes peer: off in projects with GKE pools)" },
    "storage.uniformBucketLevelAccess": { kind: "enforce", why: "I11: bucket access through IAM only, no object ACLs" },
    "storage.publicAccessPrevention": { kind: "enforce", why: "I10: no bucket can be made public" },
};

/** Values the `run.allowedIngress` constraint accepts for a hardened project. */
export const RUN_INGRESS_VALUES = ["internal", "internal-and-cloud-load-balancing"] as const;
export type RunIngress = (typeof RUN_INGRESS_VALUES)[number];

export interface OrgGuardrailsArgs {
    /** Project id the policies apply to (`projects/<id>`). Required. */
    project: pulumi.Input<string>;
    /**
     * Per-constraint switches over GUARDRAILS. Default: every constraint on. Turning one off leaves it to
     * the organization or folder (it does not set it to "not enforced").
     */
    constraints?: Partial<Record<GuardrailConstraint, boolean>>;
    /** Sets `run.allowedIngress` to exactly this value (the signer project: "internal"). Default: not set. */
    runAllowedIngress?: RunIngress;
    /** Directory customer ids for `iam.allowedPolicyMemberDomains` (IAM members only from these). Default: not set. */
    allowedPolicyMemberDomains?: string[];
    /** `gcp.resourceLocations` allowed values, e.g. "in:europe-west1-locations". Default: not set. */
    resourceLocations?: string[];
}

/** The constraints on for `args` (defaults plus switches). */
export function enabledGuardrails(args: Pick<OrgGuardrailsArgs, "constraints">): GuardrailConstraint[] {
    return GUARDRAIL_CONSTRAINTS.filter((c) => args.constraints?.[c] ?? true);
}

/** Every problem with `args` for an `OrgGuardrails` named `name` (empty when valid). */
export function validateOrgGuardrailsArgs(name: string, args: OrgGuardrailsArgs): string[] {
    const problems = componentNameProblems(name, 63);
    if (args === undefined || args === null) {
        return [...problems, "args: missing; pass at least { project }."];
    }
    if (args.project === undefined || args.project === "" || (typeof args.project === "string" && !isValidProjectId(args.project))) {
        problems.push(`project: ${JSON.stringify(args.project)} is not a project id; pass the id, e.g. "acme-build-signer".`);
    }
    for (const [c, on] of Object.entries(args.constraints ?? {})) {
        if (!(GUARDRAIL_CONSTRAINTS as readonly string[]).includes(c)) {
            problems.push(`constraints.${c}: not a guardrail this component manages; ${suggestion(c, GUARDRAIL_CONSTRAINTS, "constraints")}.`);
        } else if (typeof on !== "boolean") {
            problems.push(`constraints.${c}: ${JSON.stringify(on)} must be true or false.`);
        }
    }
    if (args.runAllowedIngress !== undefined && !(RUN_INGRESS_VALUES as readonly string[]).includes(args.runAllowedIngress)) {
        problems.push(`runAllowedIngress: ${JSON.stringify(args.runAllowedIngress)} must be one of ${RUN_INGRESS_VALUES.join(", ")} (or unset).`);
    }
    for (const [field, values] of [["allowedPolicyMemberDomains", args.allowedPolicyMemberDomains], ["resourceLocations", args.resourceLocations]] as const) {
        if (values !== undefined && (!Array.isArray(values) || values.some((v) => typeof v !== "string" || v === ""))) {
            problems.push(`${field}: ${JSON.stringify(values)} must be a list of non-empty strings.`);
        }
    }
    return problems;
}

function specFor(kind: GuardrailKind): gcp.types.input.orgpolicy.PolicySpec {
    return { rules: [kind === "enforce" ? { enforce: "TRUE" } : { denyAll: "TRUE" }] };
}

export class OrgGuardrails extends pulumi.ComponentResource {
    /** One policy per constraint set, by constraint name. */
    readonly policies: Record<string, gcp.orgpolicy.Policy>;
    readonly constraintNames: string[];

    constructor(name: string, args: OrgGuardrailsArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before super(): invalid guardrails register nothing.
        throwIfProblems("OrgGuardrails", name, validateOrgGuardrailsArgs(name, args));
        super("hardened-build-fleet:index:OrgGuardrails", name, {}, opts);

        const parent = pulumi.interpolate`projects/${args.project}`;
        const specs: [string, gcp.types.input.orgpolicy.PolicySpec][] = enabledGuardrails(args).map((c) => [c, specFor(GUARDRAILS[c].kind)]);
        if (args.runAllowedIngress !== undefined) {
            specs.push(["run.allowedIngress", { rules: [{ values: { allowedValues: [args.runAllowedIngress] } }] }]);
        }
        if ((args.allowedPolicyMemberDomains ?? []).length > 0) {
            specs.push(["iam.allowedPolicyMemberDomains", { rules: [{ values: { allowedValues: args.allowedPolicyMemberDomains!.map(asCustomer) } }] }]);
        }
        if ((args.resourceLocations ?? []).length > 0) {
            specs.push(["gcp.resourceLocations", { rules: [{ values: { allowedValues: [...args.resourceLocations!] } }] }]);
        }
        this.policies = {};
        for (const [constraint, spec] of specs) {
            this.policies[constraint] = new gcp.orgpolicy.Policy(`${name}-${constraint}`, {
                // The project's own policy for the constraint: it replaces (does not merge with) an inherited one.
                name: pulumi.interpolate`${parent}/policies/${constraint}`,
                parent,
                spec,
            }, { parent: this });
        }
        this.constraintNames = specs.map(([c]) => c);
        this.registerOutputs({ constraintNames: this.constraintNames });
    }
}

/** `C0abc` -> `is:C0abc` (the form the constraint stores). */
function asCustomer(id: string): string {
    return id.startsWith("is:") ? id : `is:${id}`;
}
