/**
 * Small, generic queries over a captured resource graph (plan/engine ProgramRun). Shared by tests.
 */
import * as assert from "assert";
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
