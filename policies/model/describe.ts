/**
 * Reading grants for rules and messages: which grants apply to a project, whether a role touches
 * storage, and the path text every finding quotes.
 */
import { get, unknown, UNKNOWN_VALUE } from "./props";
import { isCustomRoleName } from "./roles";
import { GrantIndex } from "./grants";
import { str } from "./lookup";
import { Grant, Principal } from "./types";

const BASIC_ROLES: ReadonlySet<string> = new Set(["roles/owner", "roles/editor", "roles/viewer"]);

export class GrantReader extends GrantIndex {
    /** Whether a grant's role touches Cloud Storage at all (any storage.* permission, or a basic role). */
    touchesStorage(g: Grant): boolean | "unknown" {
        if (g.customRole) {
            const perms = get(g.customRole.props, "permissions");
            if (unknown(perms) || !Array.isArray(perms)) {
                return "unknown";
            }
            return perms.some((x) => typeof x === "string" && x.startsWith("storage."));
        }
        if (g.role === UNKNOWN_VALUE) {
            return "unknown";
        }
        return g.role.startsWith("roles/storage.") || BASIC_ROLES.has(g.role) || (isCustomRoleName(g.role) ? "unknown" : false);
    }

    /** The role as text for messages. */
    roleText(g: Grant): string {
        if (g.role !== UNKNOWN_VALUE) {
            return g.role;
        }
        if (g.customRole) {
            return str(get(g.customRole.props, "name")) ?? `custom role ${g.customRole.name}`;
        }
        return "an unknown role";
    }

    /** Where a grant applies, for messages: `on project p`, `on key ring r`, ... */
    whereText(g: Grant): string {
        const t = g.target ? g.target.name : g.targetId ?? "an unknown target";
        switch (g.scope) {
            case "key":
                return `on crypto key ${t}`;
            case "keyRing":
                return `on key ring ${t}`;
            case "project":
                return `on project ${g.targetId ?? "(unknown)"}`;
            case "folder":
                return `on folder ${t}`;
            case "org":
                return `on organization ${t}`;
            case "serviceAccount":
                return `on service account ${g.target ? this.principalOfSa(g.target).label.replace(/^serviceAccount:/, "") : t}`;
            case "runService":
                return `on Cloud Run ${g.target ? `${g.target.type.split(":").pop()} ${t}` : `service ${t}`}`;
            case "bucket":
            case "acl":
                return `${g.scope === "acl" ? "in the ACL of" : "on"} bucket ${g.target ? str(get(g.target.props, "name")) ?? t : t}`;
            case "resource":
                return `on ${g.target ? `${g.target.type.split(":").pop()} ${t}` : t}`;
        }
    }

    /** `<principal> via <role> <where> (<resource>)`, the path text rules report. */
    pathText(p: Principal, g: Grant): string {
        return `${p.label} via ${this.roleText(g)} ${this.whereText(g)}${g.conditional ? " (conditional binding, still counted)" : ""} [${g.res.type.split(":").pop()} ${g.res.name}]`;
    }

    /** Grants that apply to a project: its project-scope grants plus folder/org grants. */
    grantsInProject(project: string | typeof UNKNOWN_VALUE): { grants: Grant[]; maybe: Grant[] } {
        if (project === UNKNOWN_VALUE) {
            const all: Grant[] = [];
            for (const gs of this.projectGrants.values()) {
                all.push(...gs);
            }
            return { grants: [...this.hierarchyGrants], maybe: [...all, ...this.projectGrantsUnknown] };
        }
        return { grants: [...(this.projectGrants.get(project) ?? []), ...this.hierarchyGrants], maybe: [...this.projectGrantsUnknown] };
    }
}
