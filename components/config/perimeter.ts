/**
 * The `perimeter` (VPC Service Controls) and `guardrails` (organization policies) blocks of the
 * fleet config: their model, defaults and validation. Every problem names the field, the value and
 * the fix; nothing here registers resources.
 */
import { FieldReader, isRawObject, RawObject } from "./fields";
import { IssueCollector } from "./issues";
import { isValidProjectId, suggestion } from "./names";

/** `dryRun`: the perimeter only logs what it would block (explicit dry-run spec); `enforced`: it blocks. */
export const PERIMETER_MODES = ["dryRun", "enforced"] as const;
export type PerimeterMode = (typeof PERIMETER_MODES)[number];

/** The VPC Service Controls perimeters around the fleet (see components/fleetPerimeter/index.ts). */
export interface PerimeterConfig {
    /** `accessPolicies/<number>`: an existing access policy (creating one is an organization-admin act). */
    accessPolicy: string;
    mode: PerimeterMode;
    /** Projects holding runner images (Artifact Registry) the worker perimeter may pull from. */
    imageProjects: string[];
    /** Known project numbers by project id; the rest are looked up with organizations.getProject. */
    projectNumbers: Record<string, string>;
}

/** Organization-policy constraints the fleet sets as guardrails (components/orgGuardrails/index.ts). */
export const GUARDRAIL_CONSTRAINTS = [
    "iam.disableServiceAccountKeyCreation",
    "iam.disableServiceAccountKeyUpload",
    "iam.automaticIamGrantsForDefaultServiceAccounts",
    "compute.requireShieldedVm",
    "compute.requireOsLogin",
    "compute.vmExternalIpAccess",
    "compute.disableSerialPortAccess",
    "compute.skipDefaultNetworkCreation",
    "compute.vmCanIpForward",
    "compute.restrictVpcPeering",
    "storage.uniformBucketLevelAccess",
    "storage.publicAccessPrevention",
] as const;
export type GuardrailConstraint = (typeof GUARDRAIL_CONSTRAINTS)[number];

/** Org-policy guardrails on the fleet's projects. */
export interface GuardrailsConfig {
    enabled: boolean;
    /** Per-constraint switches; a constraint missing here takes its default (on, see orgGuardrails.ts). */
    constraints: Partial<Record<GuardrailConstraint, boolean>>;
    /** Customer ids (`C0xxxxxxx`) for iam.allowedPolicyMemberDomains; empty: constraint not set. */
    allowedPolicyMemberDomains: string[];
    /** Value groups or locations for gcp.resourceLocations (e.g. `in:europe-west1-locations`); empty: not set. */
    resourceLocations: string[];
}

export const PERIMETER_KEYS = ["accessPolicy", "mode", "imageProjects", "projectNumbers"] as const;
export const GUARDRAILS_KEYS = ["enabled", "constraints", "allowedPolicyMemberDomains", "resourceLocations"] as const;

export const DEFAULT_GUARDRAILS: GuardrailsConfig = { enabled: true, constraints: {}, allowedPolicyMemberDomains: [], resourceLocations: [] };

const ACCESS_POLICY = /^(accessPolicies\/)?([0-9]{1,20})$/;
const PROJECT_NUMBER = /^[0-9]{6,20}$/;
/** Directory customer ids as iam.allowedPolicyMemberDomains takes them (`C0abc123` or `is:C0abc123`). */
const CUSTOMER_ID = /^(is:)?C[0-9a-z]{6,12}$/i;
/** gcp.resourceLocations values: `in:<value group>` or a location such as `europe-west1`. */
const LOCATION_VALUE = /^(in:)?[a-z][-a-z0-9]*[a-z0-9]$/;

/** `accessPolicies/<n>` for an access policy given by name or number, else undefined. */
export function normaliseAccessPolicy(value: string): string | undefined {
    const m = ACCESS_POLICY.exec(value.trim());
    return m ? `accessPolicies/${m[2]}` : undefined;
}

export function isProjectNumber(value: unknown): value is string {
    return typeof value === "string" && PROJECT_NUMBER.test(value);
}

/** Validates the `perimeter` block; undefined when absent or `{}` (no perimeter is created) or invalid. */
export function validatePerimeter(issues: IssueCollector, top: FieldReader): PerimeterConfig | undefined {
    const raw = top.object("perimeter", { example: "{accessPolicy: accessPolicies/123456789012, mode: dryRun}" });
    if (raw === undefined || Object.keys(raw).length === 0) {
        return undefined; // `{}` is the Pulumi.yaml default: no perimeter
    }
    const before = issues.issues.length;
    const f = new FieldReader(issues, raw, "perimeter");
    f.checkKeys(PERIMETER_KEYS);
    const policyText = f.string("accessPolicy", { required: true, example: "accessPolicies/123456789012" });
    const accessPolicy = policyText === undefined ? undefined : normaliseAccessPolicy(policyText);
    if (policyText !== undefined && accessPolicy === undefined) {
        issues.add(f.pathOf("accessPolicy"), policyText, "is not an access policy name (accessPolicies/<number>)",
            "use the existing organization access policy, e.g. accessPolicies/123456789012 (`gcloud access-context-manager policies list --organization <organization id>`); creating one is an organization-admin act outside this stack");
    }
    const modeText = f.string("mode", { example: "dryRun" }) ?? "dryRun";
    if (!(PERIMETER_MODES as readonly string[]).includes(modeText)) {
        issues.add(f.pathOf("mode"), modeText, "is not a perimeter mode", `${suggestion(modeText, PERIMETER_MODES, "modes")} (start with dryRun, switch to enforced once the dry-run logs are clean)`);
    }
    const imageProjects: string[] = [];
    f.stringArray("imageProjects", "acme-build-images").forEach((p, i) => {
        if (!isValidProjectId(p)) {
            issues.add(`${f.pathOf("imageProjects")}[${i}]`, p, "is not a GCP project id", "use the id of the project holding the runner images, e.g. acme-build-images");
        } else if (!imageProjects.includes(p)) {
            imageProjects.push(p);
        }
    });
    const projectNumbers: Record<string, string> = {};
    const numbers = f.object("projectNumbers", { example: "{acme-build-signer: \"123456789012\"}" }) ?? {};
    for (const [id, n] of Object.entries(numbers)) {
        const path = `${f.pathOf("projectNumbers")}.${id}`;
        if (!isValidProjectId(id)) {
            issues.add(path, n, `key ${JSON.stringify(id)} is not a GCP project id`, "key the map by project id, e.g. acme-build-signer: \"123456789012\"");
        } else if (!isProjectNumber(typeof n === "number" ? String(n) : n)) {
            issues.add(path, n, "is not a project number (perimeter members are projects/<number>, never ids)", `write the number as a string, e.g. ${id}: "123456789012" (\`gcloud projects describe ${id} --format='value(projectNumber)'\`)`);
        } else {
            projectNumbers[id] = String(n);
        }
    }
    if (issues.issues.length > before || accessPolicy === undefined) {
        return undefined;
    }
    return { accessPolicy, mode: modeText as PerimeterMode, imageProjects, projectNumbers };
}

/** Validates the `guardrails` block; the defaults (every guardrail on) when absent. */
export function validateGuardrails(issues: IssueCollector, top: FieldReader): GuardrailsConfig | undefined {
    const raw = top.object("guardrails", { example: "{enabled: true}" });
    if (raw === undefined) {
        return top.has("guardrails") ? undefined : DEFAULT_GUARDRAILS;
    }
    const before = issues.issues.length;
    const f = new FieldReader(issues, raw, "guardrails");
    f.checkKeys(GUARDRAILS_KEYS);
    const enabled = f.boolean("enabled", true);
    const constraints = readConstraints(issues, f);
    const allowedPolicyMemberDomains = f.stringArray("allowedPolicyMemberDomains", "C0abc1234");
    allowedPolicyMemberDomains.forEach((id, i) => {
        if (!CUSTOMER_ID.test(id)) {
            issues.add(`${f.pathOf("allowedPolicyMemberDomains")}[${i}]`, id, "is not a Google Workspace / Cloud Identity customer id",
                "use the directory customer id, e.g. C0abc1234 (`gcloud organizations list` shows it as DIRECTORY_CUSTOMER_ID)");
        }
    });
    const resourceLocations = f.stringArray("resourceLocations", "in:europe-west1-locations");
    resourceLocations.forEach((v, i) => {
        if (!LOCATION_VALUE.test(v)) {
            issues.add(`${f.pathOf("resourceLocations")}[${i}]`, v, "is not a gcp.resourceLocations value", "use a value group such as in:europe-west1-locations or in:eu-locations");
        }
    });
    if (issues.issues.length > before) {
        return undefined;
    }
    return { enabled, constraints, allowedPolicyMemberDomains, resourceLocations };
}

function readConstraints(issues: IssueCollector, f: FieldReader): Partial<Record<GuardrailConstraint, boolean>> {
    const raw: RawObject = f.object("constraints", { example: "{compute.requireOsLogin: true}" }) ?? {};
    const constraints: Partial<Record<GuardrailConstraint, boolean>> = {};
    if (!isRawObject(raw)) {
        return constraints;
    }
    for (const [name, on] of Object.entries(raw)) {
        const path = `${f.pathOf("constraints")}.${name}`;
        if (!(GUARDRAIL_CONSTRAINTS as readonly string[]).includes(name)) {
            issues.add(path, on, "is not a guardrail this fleet manages", `${suggestion(name, GUARDRAIL_CONSTRAINTS, "guardrail constraints")} (or remove it)`);
        } else if (typeof on !== "boolean") {
            issues.add(path, on, "expected a boolean", `write ${name}: true (set it) or ${name}: false (leave it to the organization)`);
        } else {
            constraints[name as GuardrailConstraint] = on;
        }
    }
    return constraints;
}
