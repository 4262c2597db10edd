/**
 * Small, generic queries over a captured resource graph (plan/engine ProgramRun). Shared by tests.
 */
import * as assert from "assert";
import { providerUrnOf as providerRefUrn } from "../../plan/engine/types";
import { isIamGrantType } from "../../policies/recognisers/iamMembers";
import { CapturedResource, ProgramRun } from "../../plan/engine";

/** Every resource of `type` (a full Pulumi type token), in registration order. */
export function byType(run: ProgramRun, type: string): CapturedResource[] {
    return run.resources.filter((r) => r.type === type);
}

/** The single resource of `type`; fails the test unless there is exactly one. */
export function one(run: ProgramRun, type: string, name?: string): CapturedResource {
    const found = byType(run, type).filter((r) => name === undefined || r.name === name);
    assert.strictEqual(found.length, 1, `expected exactly one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
    return found[0];
}

/** The resource with logical name `name`; fails the test if absent or ambiguous. */
export function byName(run: ProgramRun, name: string): CapturedResource {
    const found = run.resources.filter((r) => r.name === name);
    assert.strictEqual(found.length, 1, `expected exactly one resource named ${name}, found ${found.length}`);
    return found[0];
}

/** The component resource of `type` named `name`. */
export function component(run: ProgramRun, type: string, name: string): CapturedResource {
    const found = run.resources.filter((r) => !r.custom && r.type === type && r.name === name);
    assert.strictEqual(found.length, 1, `expected component ${type} ${name}, found ${found.length}`);
    return found[0];
}

/** The stack resource. */
export function stackOf(run: ProgramRun): CapturedResource {
    return one(run, "pulumi:pulumi:Stack");
}

/** Direct children of `parent` (a resource or URN). */
export function childrenOf(run: ProgramRun, parent: CapturedResource | string): CapturedResource[] {
    const urn = typeof parent === "string" ? parent : parent.urn;
    return run.resources.filter((r) => r.parent === urn);
}

/** URNs of `res`'s ancestors, nearest first (stops at the stack). */
export function ancestorsOf(run: ProgramRun, res: CapturedResource): string[] {
    const out: string[] = [];
    let parent = res.parent;
    while (parent !== undefined) {
        out.push(parent);
        parent = run.byUrn.get(parent)?.parent;
    }
    return out;
}

/** Every resource below `root` (children, grandchildren, ...), not including `root`. */
export function descendantsOf(run: ProgramRun, root: CapturedResource | string): CapturedResource[] {
    const urn = typeof root === "string" ? root : root.urn;
    return run.resources.filter((r) => ancestorsOf(run, r).includes(urn));
}

/** Whether `res` lists `dep` among its dependencies (explicit or through an input). */
export function dependsOn(res: CapturedResource, dep: CapturedResource): boolean {
    return res.dependencies.includes(dep.urn) || Object.values(res.propertyDependencies).some((urns) => urns.includes(dep.urn));
}

/** Every (path, value) pair in a plain JS value, depth first; paths like `template.containers[0].image`. */
export function walk(value: unknown, path = ""): [string, unknown][] {
    const out: [string, unknown][] = [[path, value]];
    if (Array.isArray(value)) {
        value.forEach((v, i) => out.push(...walk(v, `${path}[${i}]`)));
    } else if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) {
            out.push(...walk(v, path ? `${path}.${k}` : k));
        }
    }
    return out;
}

/** Property paths (in inputs) whose last key is `key`, across all resources: `[resource, path]`. */
export function findKey(run: ProgramRun, key: string): [CapturedResource, string][] {
    const out: [CapturedResource, string][] = [];
    for (const r of run.resources) {
        for (const [path] of walk(r.inputs)) {
            if (path === key || path.endsWith(`.${key}`)) {
                out.push([r, path]);
            }
        }
    }
    return out;
}

/** The URN without its `urn:pulumi:<stack>::<project>::` prefix: `<qualified type>::<name>`, stable across stacks. */
export function urnSuffix(urn: string): string {
    return urn.split("::").slice(2).join("::");
}

/** The nearest ancestor of `res` of component type `type`, if any. */
export function ancestorOfType(run: ProgramRun, res: CapturedResource, type: string): CapturedResource | undefined {
    for (const urn of ancestorsOf(run, res)) {
        const ancestor = run.byUrn.get(urn);
        if (ancestor?.type === type) {
            return ancestor;
        }
    }
    return undefined;
}

/** URN of the explicit provider `res` uses (its `provider` reference is `<providerUrn>::<providerId>`). */
export function providerUrnOf(res: CapturedResource): string | undefined {
    return providerRefUrn(res.provider);
}

/** Every URN `res` depends on: explicit dependencies, property dependencies and its explicit provider. */
export function allDependencies(res: CapturedResource): string[] {
    const provider = providerUrnOf(res);
    return [...new Set([...res.dependencies, ...Object.values(res.propertyDependencies).flat(), ...(provider ? [provider] : [])])];
}

/** Whether `res` is an IAM grant (`*IAMBinding`, `*IAMMember`, `*IAMPolicy`, `*IamBinding`, ...). */
export function isIamGrant(res: CapturedResource): boolean {
    return isIamGrantType(res.type);
}

/** Input keys of an IAM grant that name principals (everything else names the role or the target). */
const IAM_PRINCIPAL_KEYS = ["member", "members", "policyData"];
const IAM_NON_TARGET_KEYS = [...IAM_PRINCIPAL_KEYS, "role", "condition", "auditConfigs"];

/** The literal principals of an IAM grant: `member`, `members`, or the members of `policyData` bindings. */
export function grantMembers(res: CapturedResource): string[] {
    const out: string[] = [];
    const { member, members, policyData } = res.inputs;
    if (typeof member === "string") {
        out.push(member);
    }
    if (Array.isArray(members)) {
        out.push(...members.filter((m): m is string => typeof m === "string"));
    }
    if (typeof policyData === "string") {
        try {
            for (const binding of JSON.parse(policyData)?.bindings ?? []) {
                out.push(...(Array.isArray(binding?.members) ? binding.members.filter((m: unknown): m is string => typeof m === "string") : []));
            }
        } catch {
            // unknown during preview, or not JSON: the property dependencies still tell
        }
    }
    return out;
}

/** URNs the principals of an IAM grant were computed from (known even when the members are not). */
export function grantMemberDependencies(res: CapturedResource): string[] {
    return IAM_PRINCIPAL_KEYS.flatMap((k) => res.propertyDependencies[k] ?? []);
}

/** URNs the target of an IAM grant (key, bucket, service, service account, ...) was computed from. */
export function grantTargetDependencies(res: CapturedResource): string[] {
    return Object.entries(res.propertyDependencies).filter(([k]) => !IAM_NON_TARGET_KEYS.includes(k)).flatMap(([, urns]) => urns);
}

