/**
 * Reading the principals an IAM resource grants (`member`, `members`, or the bindings of
 * `policyData`) and spotting public principals. Used by the publicIam and signerService rules and the stack model.
 */
import { kindOf } from "./common";
import { get, list, unknown } from "../model/props";

/** IAM Member / Binding / Policy resources of any GCP service (both the `Iam` and `IAM` spellings). */
const IAM_TYPE = /^gcp:[^:]+:\w*(IamMember|IAMMember|IamBinding|IAMBinding|IamPolicy|IAMPolicy)$/;

export function isIamGrantType(type: string): boolean {
    return IAM_TYPE.test(type);
}

/** The principals that make a grant public. */
export const PUBLIC_PRINCIPALS = ["allUsers", "allAuthenticatedUsers"];

export function isPublicPrincipal(member: unknown): boolean {
    return typeof member === "string" && PUBLIC_PRINCIPALS.some((p) => p.toLowerCase() === member.trim().toLowerCase());
}

/** What an IAM resource grants: `[role, member]` pairs, or `undecidable` naming what is unknown. */
export interface Grants {
    grants: { role: string; member: string }[];
    undecidable?: string;
}

/**
 * Literal grants of an IAM Member/Binding/Policy resource. Unknown members (e.g. an email not yet
 * created) are skipped: a value computed from another resource's output is never a public
 * principal, which is always a literal. An unknown or unparsable `policyData` is undecidable.
 */
export function grantsOf(type: string, props: Record<string, any>): Grants {
    const kind = kindOf(type);
    const roleValue = get(props, "role");
    const role = typeof roleValue === "string" ? roleValue : "(unknown role)";
    if (/Member$/i.test(kind)) {
        const member = get(props, "member");
        return { grants: typeof member === "string" ? [{ role, member }] : [] };
    }
    if (/Binding$/i.test(kind)) {
        const members = list(props, "members");
        if (unknown(members)) {
            return { grants: [] };
        }
        return { grants: members.filter((m): m is string => typeof m === "string").map((member) => ({ role, member })) };
    }
    const policyData = get(props, "policyData");
    if (unknown(policyData)) {
        return { grants: [], undecidable: "policyData is unknown, so a public binding cannot be ruled out." };
    }
    if (typeof policyData !== "string") {
        return { grants: [] };
    }
    let parsed: any;
    try {
        parsed = JSON.parse(policyData);
    } catch {
        return { grants: [], undecidable: "policyData is not valid JSON." };
    }
    const grants: { role: string; member: string }[] = [];
    for (const binding of Array.isArray(parsed?.bindings) ? parsed.bindings : []) {
        const bRole = typeof binding?.role === "string" ? binding.role : "(unknown role)";
        for (const member of Array.isArray(binding?.members) ? binding.members : []) {
            if (typeof member === "string") {
                grants.push({ role: bRole, member });
            }
        }
    }
    return { grants };
}

/** Public grants of an IAM resource, formatted for a message. */
export function publicGrants(type: string, props: Record<string, any>): { found: string[]; undecidable?: string } {
    const { grants, undecidable } = grantsOf(type, props);
    return { found: grants.filter((g) => isPublicPrincipal(g.member)).map((g) => `${g.member} -> ${g.role}`), undecidable };
}
