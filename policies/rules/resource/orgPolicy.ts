/**
 * Organization-policy guardrails (I3, I6, I7, I10): how a `gcp.orgpolicy.Policy` spec is judged, and
 * `org-policy-not-weakened`: no policy in the stack, at any level, switches a guardrail off, resets it
 * to Google's default, allows all values, or enforces it only under a condition.
 */
import { FleetResourcePolicy } from "../../meta";
import { get, unknown } from "../../model/props";
import { forTypes, undecided } from "../../recognisers/common";

export const ORG_POLICY = "gcp:orgpolicy/policy:Policy";

/** How a guardrail must be set: a boolean constraint enforced, a list constraint denying all, or only allowed values. */
export type GuardrailRequirement =
    | { kind: "enforce" }
    | { kind: "denyAll" }
    | { kind: "allowedSubset"; allowed: string[] };

const ENFORCE: GuardrailRequirement = { kind: "enforce" };
const DENY_ALL: GuardrailRequirement = { kind: "denyAll" };

/** The guardrails this pack knows, and how each must be set to count. */
export const GUARDRAIL_REQUIREMENTS: Record<string, GuardrailRequirement> = {
    "iam.disableServiceAccountKeyCreation": ENFORCE,
    "iam.disableServiceAccountKeyUpload": ENFORCE,
    "iam.automaticIamGrantsForDefaultServiceAccounts": ENFORCE,
    "compute.requireShieldedVm": ENFORCE,
    "compute.requireOsLogin": ENFORCE,
    "compute.disableSerialPortAccess": ENFORCE,
    "compute.skipDefaultNetworkCreation": ENFORCE,
    "storage.uniformBucketLevelAccess": ENFORCE,
    "storage.publicAccessPrevention": ENFORCE,
    "compute.vmExternalIpAccess": DENY_ALL,
    "compute.vmCanIpForward": DENY_ALL,
    "compute.restrictVpcPeering": DENY_ALL,
    // Internal only (the load-balancer variant also keeps the internet out of the service itself).
    "run.allowedIngress": { kind: "allowedSubset", allowed: ["internal", "internal-and-cloud-load-balancing"] },
};

export type Verdict = { state: "enforced" } | { state: "weakened" | "absent"; why: string } | { state: "unknown" };

const isTrue = (v: unknown) => v === true || (typeof v === "string" && v.toUpperCase() === "TRUE");
const isFalse = (v: unknown) => v === false || (typeof v === "string" && v.toUpperCase() === "FALSE");
const plain = (v: string) => v.replace(/^is:/, "");

/** Judges the enforced `spec` of an org policy against a requirement (the dry-run spec never counts). */
export function judgeSpec(spec: unknown, req: GuardrailRequirement): Verdict {
    if (unknown(spec)) {
        return { state: "unknown" };
    }
    if (spec === undefined || spec === null) {
        return { state: "absent", why: "has no enforced spec (a dryRunSpec only logs)" };
    }
    if (unknown(get(spec, "reset")) || unknown(get(spec, "rules")) || unknown(get(spec, "inheritFromParent"))) {
        return { state: "unknown" };
    }
    if (get(spec, "reset") === true) {
        return { state: "weakened", why: "resets the constraint to Google's default (not enforced)" };
    }
    const rules: any[] = Array.isArray(get(spec, "rules")) ? get(spec, "rules") : [];
    if (rules.some((r) => [get(r, "enforce"), get(r, "allowAll"), get(r, "denyAll"), get(r, "values")].some(unknown))) {
        return { state: "unknown" };
    }
    const unconditional = (r: unknown) => get(r, "condition") === undefined || get(r, "condition") === null;
    const allowAll = rules.find((r) => isTrue(get(r, "allowAll")));
    if (allowAll) {
        return { state: "weakened", why: `allows all values${unconditional(allowAll) ? "" : " under a condition"}` };
    }
    if (req.kind === "enforce") {
        const off = rules.find((r) => isFalse(get(r, "enforce")));
        if (off) {
            return { state: "weakened", why: `sets enforce: FALSE${unconditional(off) ? "" : " under a condition"}` };
        }
        return rules.some((r) => isTrue(get(r, "enforce")) && unconditional(r))
            ? { state: "enforced" }
            : { state: "weakened", why: rules.some((r) => isTrue(get(r, "enforce"))) ? "is enforced only under a condition" : "has no rule with enforce: TRUE" };
    }
    const allowedValues = (r: unknown): string[] => {
        const v = get(r, "values", "allowedValues");
        return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
    };
    const denied = (r: unknown) => Array.isArray(get(r, "values", "deniedValues")) && get(r, "values", "deniedValues").length > 0;
    if (req.kind === "denyAll") {
        const allows = rules.find((r) => allowedValues(r).length > 0);
        if (allows) {
            return { state: "weakened", why: `allows ${allowedValues(allows).join(", ")}` };
        }
        return rules.some((r) => isTrue(get(r, "denyAll")) && unconditional(r))
            ? { state: "enforced" }
            : { state: "weakened", why: "does not deny all values unconditionally (denyAll: TRUE)" };
    }
    if (get(spec, "inheritFromParent") === true) {
        return { state: "weakened", why: "inherits (merges) the parent's allowed values" };
    }
    const extra = rules.flatMap(allowedValues).filter((v) => !req.allowed.includes(plain(v)));
    if (extra.length > 0) {
        return { state: "weakened", why: `allows ${extra.join(", ")} (only ${req.allowed.join(" or ")})` };
    }
    if (rules.some((r) => denied(r) && allowedValues(r).length === 0 && !isTrue(get(r, "denyAll")))) {
        return { state: "weakened", why: "only denies some values, allowing every other" };
    }
    return rules.some((r) => unconditional(r) && (isTrue(get(r, "denyAll")) || allowedValues(r).length > 0))
        ? { state: "enforced" }
        : { state: "weakened", why: `does not restrict the values unconditionally to ${req.allowed.join(" or ")}` };
}

/** `projects/p/policies/compute.requireOsLogin` -> `compute.requireOsLogin`. */
export function constraintOf(name: unknown): string | undefined {
    const m = typeof name === "string" ? /\/policies\/([^/]+)$/.exec(name) : null;
    return m ? m[1] : undefined;
}

export const orgPolicyNotWeakened: FleetResourcePolicy = {
    name: "org-policy-not-weakened",
    description:
        "[I3, I6, I7, I10] No organization policy in the stack (project, folder or organization) switches a fleet guardrail off, " +
        "resets it, allows all values or enforces it only under a condition.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "no `gcp.orgpolicy.Policy` (project, folder or organization) on a guardrail constraint sets `enforce: FALSE`, `reset`, `allowAll`, extra allowed values (anything but internal Cloud Run ingress; any value for deny-all constraints), `inheritFromParent` on `run.allowedIngress`, or enforces only under a condition",
        invariants: ["I3", "I6", "I7", "I10"],
        fix: "Remove the override, or set the constraint as OrgGuardrails does (enforce: TRUE, denyAll: TRUE, or only the internal Cloud Run ingress values).",
    },
    validateResource: forTypes([ORG_POLICY], (props, _args, report) => {
        const name = get(props, "name");
        if (unknown(name)) {
            undecided(report, "the org policy's name (its constraint) is unknown until apply, so it cannot be checked against the guardrails");
            return;
        }
        const constraint = constraintOf(name);
        const req = constraint === undefined ? undefined : GUARDRAIL_REQUIREMENTS[constraint];
        if (req === undefined || get(props, "spec") === undefined) {
            return; // not a guardrail, or only a dry-run spec (no effect)
        }
        const verdict = judgeSpec(get(props, "spec"), req);
        if (verdict.state === "unknown") {
            undecided(report, `the spec of ${constraint} is unknown until apply`);
        } else if (verdict.state !== "enforced") {
            report(`${name} ${verdict.why}: it switches off the ${constraint} guardrail for everything below ${get(props, "parent") ?? "its parent"}.`);
        }
    }),
};

export const orgPolicyPolicies: FleetResourcePolicy[] = [orgPolicyNotWeakened];
