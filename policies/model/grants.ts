/**
 * Grants of the model, in every form GCP accepts: IAM Member / Binding / Policy resources of any
 * service (policyData included), storage ACLs and access controls, and credentials (service-account
 * keys, HMAC keys). Each is resolved to principals and to a target node whatever the spelling.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { get, unknown, UNKNOWN_VALUE } from "./props";
import { isIamGrantType } from "../recognisers/iamMembers";
import { Capability, customRoleParent, editsRoles, isCustomRoleName, permissionsHave, predefinedHas } from "./roles";
import { ComputeIndex } from "./compute";
import { depsOf, push, resolveRef, str } from "./lookup";
import { Can, Grant, GrantForm, GrantScope, Principal, T } from "./types";

interface IamType {
    scope: GrantScope;
    /** The property naming the target. */
    target: string;
}

const NAMED: [RegExp, IamType][] = [
    [/^gcp:kms\/cryptoKeyIAM/, { scope: "key", target: "cryptoKeyId" }],
    [/^gcp:kms\/keyRingIAM/, { scope: "keyRing", target: "keyRingId" }],
    [/^gcp:projects\/iAM(Member|Binding|Policy):/, { scope: "project", target: "project" }],
    [/^gcp:folder\/iAM(Member|Binding|Policy):/, { scope: "folder", target: "folder" }],
    [/^gcp:organizations\/iAM(Member|Binding|Policy):/, { scope: "org", target: "orgId" }],
    [/^gcp:serviceaccount\/iAM/, { scope: "serviceAccount", target: "serviceAccountId" }],
    [/^gcp:cloudrunv2\/(service|job|workerPool)Iam/, { scope: "runService", target: "name" }],
    [/^gcp:cloudrun\/iam/, { scope: "runService", target: "service" }],
    [/^gcp:storage\/bucketIAM/, { scope: "bucket", target: "bucket" }],
];

/** Properties of a generic IAM resource that hold members, role or policy, never the target. */
const NOT_TARGET = new Set(["member", "members", "role", "policyData", "condition", "etag", "project", "location", "region", "zone", "id", "urn"]);

/** How a resource type grants (undefined: it does not). */
export function iamTypeOf(type: string): (IamType & { form: GrantForm }) | undefined {
    if (!isIamGrantType(type)) {
        return undefined;
    }
    const form: GrantForm = /Member$/i.test(type) ? "member" : /Binding$/i.test(type) ? "binding" : "policy";
    const named = NAMED.find(([re]) => re.test(type));
    return { ...(named ? named[1] : { scope: "resource", target: "" }), form };
}

const ACL_TYPES = new Set([
    "gcp:storage/bucketACL:BucketACL", "gcp:storage/defaultObjectACL:DefaultObjectACL", "gcp:storage/objectACL:ObjectACL",
    "gcp:storage/bucketAccessControl:BucketAccessControl", "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl",
    "gcp:storage/objectAccessControl:ObjectAccessControl",
]);

const conditional = (c: unknown): boolean => c !== undefined && c !== null && !(typeof c === "object" && Object.keys(c as object).length === 0);

export class GrantIndex extends ComputeIndex {
    readonly grants: Grant[] = [];
    readonly grantsByTarget = new Map<string, Grant[]>();
    readonly projectGrants = new Map<string, Grant[]>();
    /** Project-scope grants whose project is unknown during preview. */
    readonly projectGrantsUnknown: Grant[] = [];
    /** Folder and organization grants: the hierarchy is not visible, so they apply everywhere. */
    readonly hierarchyGrants: Grant[] = [];
    /** Key, key ring, SA, service or bucket grants whose target is unknown and unresolvable. */
    readonly unknownTargetGrants: Grant[] = [];
    /** IAM policies whose bindings cannot be read (missing or unparsable policyData): never "grants nothing". */
    readonly opaqueGrants: { res: PolicyResource; why: string }[] = [];
    /** Credentials (service-account keys, HMAC keys) by the account's URN or literal member id. */
    readonly credentials = new Map<string, PolicyResource[]>();
    readonly credentialsUnknown: PolicyResource[] = [];
    /** Service-account keys by the account's URN (kept for the single-signer rule). */
    readonly saKeys = new Map<string, PolicyResource[]>();
    readonly saKeysUnknown: PolicyResource[] = [];

    protected indexGrantsOf(r: PolicyResource): void {
        const iam = iamTypeOf(r.type);
        if (iam) {
            this.indexIam(r, iam);
        } else if (ACL_TYPES.has(r.type)) {
            this.indexAcl(r);
        } else if (r.type === T.serviceAccountKey || r.type === T.hmacKey) {
            this.indexCredential(r, r.type === T.serviceAccountKey ? "serviceAccountId" : "serviceAccountEmail");
        }
    }

    private target(r: PolicyResource, iam: IamType, props: Record<string, any>): Pick<Grant, "target" | "targetId" | "targetUnknown"> {
        const tv = iam.target ? get(props, iam.target) : undefined;
        const project = str(this.projectOf(r));
        const one = (types: readonly string[], find: (ref: string) => PolicyResource[]) => {
            const res = resolveRef(r, iam.target, tv, types, find);
            return { target: res.found[0], targetId: res.external, targetUnknown: res.unknown };
        };
        switch (iam.scope) {
            case "key":
                return one([T.cryptoKey], (ref) => this.findKeys(ref));
            case "keyRing":
                return one([T.keyRing], (ref) => this.findRings(ref));
            case "serviceAccount":
                return one([T.serviceAccount], (ref) => {
                    const sa = this.findSa(ref);
                    return sa ? [sa] : [];
                });
            case "runService":
                return one([T.runService, T.runServiceV1, T.runJob, T.runWorkerPool], (ref) => this.findServices(ref, project));
            case "bucket":
                return one([T.bucket], (ref) => this.findBuckets(ref));
            case "project": {
                if (unknown(tv)) {
                    const p = depsOf(r, iam.target, [T.project])[0];
                    const pid = p ? str(get(p.props, "projectId")) : undefined;
                    return { targetId: pid, targetUnknown: pid === undefined };
                }
                const pid = str(tv) ? this.canonicalProject(str(tv)!) : project;
                return { targetId: pid, targetUnknown: pid === undefined };
            }
            case "folder":
            case "org":
                return { targetId: str(tv) ?? "?", targetUnknown: false };
            default: {
                // Any other IAM-bearing resource: the target is whatever the grant depends on, else what it names.
                const keys = Object.keys(props).filter((k) => !NOT_TARGET.has(k));
                for (const k of keys) {
                    const dep = (r.propertyDependencies?.[k] ?? []).find((d) => d && !d.type.startsWith("pulumi:"));
                    if (dep) {
                        return { target: dep, targetUnknown: false };
                    }
                }
                for (const k of keys) {
                    const v = props[k];
                    if (typeof v === "string" && !unknown(v)) {
                        const found = [...this.findRepositories(v, project), ...this.findBuckets(v)];
                        return found.length > 0 ? { target: found[0], targetUnknown: false } : { targetId: `${k} ${v}`, targetUnknown: false };
                    }
                }
                return { targetUnknown: Object.values(props).some((v) => unknown(v)) };
            }
        }
    }

    private indexIam(r: PolicyResource, iam: IamType & { form: GrantForm }): void {
        const props = this.props(r);
        const where = this.target(r, iam, props);
        const make = (role: unknown, members: Principal[], cond: boolean, roleDepsProp: string): Grant => {
            let customRole: PolicyResource | undefined;
            if (unknown(role)) {
                customRole = depsOf(r, roleDepsProp, [T.projectCustomRole, T.orgCustomRole])[0];
            } else if (typeof role === "string" && isCustomRoleName(role)) {
                customRole = this.customRoles.find(role)[0];
            }
            return { res: r, scope: iam.scope, ...where, role: unknown(role) ? UNKNOWN_VALUE : String(role ?? ""), customRole, members, conditional: cond };
        };
        if (iam.form === "member") {
            // A Member grant always names one member: none at all is a value the plan could not read (a data source
            // the offline engine does not evaluate), never "grants nobody".
            const member = get(props, "member");
            const members = member === undefined || member === null || member === "" ? [this.unresolvedPrincipal(r, "member")] : this.principalsOfMembers(r, "member", member);
            this.addGrant(make(get(props, "role"), members, conditional(get(props, "condition")), "role"));
        } else if (iam.form === "binding") {
            this.addGrant(make(get(props, "role"), this.principalsOfMembers(r, "members", get(props, "members")), conditional(get(props, "condition")), "role"));
        } else {
            const data = get(props, "policyData");
            let parsed: any;
            if (typeof data === "string" && !unknown(data)) {
                try {
                    parsed = JSON.parse(data);
                } catch {
                    parsed = undefined;
                }
            }
            if (parsed && typeof parsed === "object") {
                for (const b of Array.isArray(parsed.bindings) ? parsed.bindings : []) {
                    const members = Array.isArray(b?.members) ? b.members.filter((m: unknown) => typeof m === "string").map((m: string) => this.principalOfMember(m)) : [];
                    this.addGrant(make(typeof b?.role === "string" ? b.role : UNKNOWN_VALUE, members, conditional(b?.condition), "policyData"));
                }
            } else if (unknown(data)) {
                // Unknown during preview: the roles are unknown; members from dependencies.
                this.addGrant(make(UNKNOWN_VALUE, this.principalsFromDeps(r, "policyData"), false, "policyData"));
            } else {
                this.opaqueGrants.push({ res: r, why: data === undefined ? "has no policyData the model can read (a data source it does not evaluate?)" : "has a policyData that is not an IAM policy document" });
            }
        }
    }

    /** Storage ACL entries: `ROLE:entity` lists or one `entity` + `role`. */
    private indexAcl(r: PolicyResource): void {
        const props = this.props(r);
        const bucket = resolveRef(r, "bucket", get(props, "bucket"), [T.bucket], (ref) => this.findBuckets(ref));
        const where = { target: bucket.found[0], targetId: bucket.external, targetUnknown: bucket.unknown };
        const entries: [unknown, unknown][] = [];
        const roleEntities = get(props, "roleEntities");
        if (Array.isArray(roleEntities)) {
            for (const e of roleEntities) {
                const m = typeof e === "string" && !unknown(e) ? /^([A-Z]+):(.+)$/.exec(e) : null;
                entries.push(m ? [m[1], m[2]] : [UNKNOWN_VALUE, UNKNOWN_VALUE]);
            }
        } else if (unknown(roleEntities)) {
            entries.push([UNKNOWN_VALUE, UNKNOWN_VALUE]);
        }
        if (get(props, "entity") !== undefined) {
            entries.push([get(props, "role"), get(props, "entity")]);
        }
        const predefined = str(get(props, "predefinedAcl"));
        if (predefined) {
            entries.push([`predefined ${predefined}`, "allUsers"]);
        }
        for (const [role, entity] of entries) {
            const members = unknown(entity) ? this.principalsFromDeps(r, Array.isArray(roleEntities) ? "roleEntities" : "entity")
                : typeof entity === "string" ? [this.aclPrincipal(entity)] : [];
            this.addGrant({ res: r, scope: "acl", ...where, role: unknown(role) ? UNKNOWN_VALUE : `acl:${String(role)}`, members, conditional: false });
        }
    }

    private aclPrincipal(entity: string): Principal {
        const m = /^(user|group|domain)-(.+)$/i.exec(entity);
        if (!m) {
            return this.literalPrincipal(entity);
        }
        if (m[1].toLowerCase() === "user" && this.findSa(m[2])) {
            return this.principalOfSa(this.findSa(m[2])!);
        }
        return this.principalOfMember(`${m[1].toLowerCase()}:${m[2]}`);
    }

    private indexCredential(r: PolicyResource, prop: string): void {
        const res = resolveRef(r, prop, get(r.props, prop), [T.serviceAccount], (ref) => {
            const sa = this.findSa(ref);
            return sa ? [sa] : [];
        });
        for (const sa of res.found) {
            push(this.credentials, sa.urn, r);
            if (r.type === T.serviceAccountKey) {
                push(this.saKeys, sa.urn, r);
            }
        }
        if (res.external) {
            push(this.credentials, this.principalOfMember(`serviceAccount:${res.external}`).id, r);
        }
        if (res.unknown) {
            this.credentialsUnknown.push(r);
            if (r.type === T.serviceAccountKey) {
                this.saKeysUnknown.push(r);
            }
        }
    }

    private addGrant(g: Grant): void {
        this.grants.push(g);
        if (g.target) {
            push(this.grantsByTarget, g.target.urn, g);
        } else if (g.scope === "project") {
            if (g.targetId !== undefined) {
                push(this.projectGrants, g.targetId, g);
            } else {
                this.projectGrantsUnknown.push(g);
            }
        } else if (g.scope === "folder" || g.scope === "org") {
            this.hierarchyGrants.push(g);
        } else if (g.targetUnknown) {
            this.unknownTargetGrants.push(g);
        }
    }

    private boundRoleParents?: Set<string>;

    /** Parents (`projects/p`, `organizations/o`) of the custom roles some grant of the stack binds. */
    private customRoleParentsBound(): Set<string> {
        if (!this.boundRoleParents) {
            this.boundRoleParents = new Set();
            for (const g of this.grants) {
                const name = g.customRole ? str(get(g.customRole.props, "name")) ?? this.customRoleName(g.customRole) : typeof g.role === "string" ? g.role : undefined;
                const parent = name ? customRoleParent(name) : undefined;
                if (parent) {
                    this.boundRoleParents.add(parent);
                }
            }
        }
        return this.boundRoleParents;
    }

    private customRoleName(r: PolicyResource): string | undefined {
        const id = str(get(r.props, "roleId"));
        if (r.type === T.orgCustomRole) {
            const org = str(get(r.props, "orgId"));
            return org && id ? `organizations/${org}/roles/${id}` : undefined;
        }
        const project = str(this.projectOf(r));
        return project && id ? `projects/${project}/roles/${id}` : undefined;
    }

    /**
     * True when the grant can edit (`iam.roles.update`) a custom role that a grant of the stack binds:
     * the role's future permissions are the holder's to choose, so it can change who may do anything
     * that role is bound for. Folder and organization grants reach every project below (unseen).
     */
    private editsBoundRole(g: Grant): boolean {
        if (g.scope !== "project" && g.scope !== "folder" && g.scope !== "org") {
            return false;
        }
        const perms = g.customRole ? get(g.customRole.props, "permissions") : undefined;
        if (g.role === UNKNOWN_VALUE || !editsRoles(g.role, Array.isArray(perms) ? perms : undefined)) {
            return false;
        }
        const bound = this.customRoleParentsBound();
        if (g.scope === "project") {
            return g.targetId !== undefined && bound.has(`projects/${g.targetId}`);
        }
        return bound.size > 0;
    }

    /** Whether a grant's role carries `cap`. */
    can(g: Grant, cap: Capability): Can {
        // Editing a bound custom role changes who may do what it is bound for: every capability but using it directly.
        if (cap !== "sign" && this.editsBoundRole(g)) {
            return "yes";
        }
        if (g.scope === "acl") {
            // Storage ACLs: WRITER and OWNER create, overwrite and delete; nothing else is reachable through them.
            if (g.role === UNKNOWN_VALUE) {
                return "unknown";
            }
            return cap === "storageWrite" && /^acl:(WRITER|OWNER|predefined)/i.test(g.role) ? "yes" : "no";
        }
        if (g.customRole) {
            const perms = get(g.customRole.props, "permissions");
            if (unknown(perms) || !Array.isArray(perms)) {
                return "unknown";
            }
            return permissionsHave(perms, cap) ? "yes" : "no";
        }
        if (g.role === UNKNOWN_VALUE) {
            return "unknown";
        }
        if (isCustomRoleName(g.role)) {
            return "unchecked";
        }
        return predefinedHas(g.role, cap) ? "yes" : "no";
    }
}
