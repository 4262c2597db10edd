/**
 * Reads a `Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program: keys without a
 * namespace belong to the project, structured values are JSON strings, `secure:` values are
 * secrets (here: placeholders, since no decryption key exists offline).
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

export class StackConfigError extends Error {}

export interface StackConfig {
    project: string;
    stack: string;
    /** Fully qualified key -> value as the runtime stores it (strings; objects JSON-encoded). */
    values: Record<string, string>;
    /** Keys whose values are secrets. */
    secretKeys: string[];
}

/** Placeholder for a `secure:` value: recognisable, and never a usable credential. */
export const SECRET_PLACEHOLDER = "[secret: offline plan placeholder]";

function readYaml(file: string): any {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err: any) {
        throw new StackConfigError(`cannot read ${file}: ${err.code === "ENOENT" ? "no such file" : err.message}`);
    }
    try {
        return YAML.parse(text) ?? {};
    } catch (err: any) {
        throw new StackConfigError(`cannot parse ${file} as YAML: ${err.message.split("\n")[0]}`);
    }
}

/** One declared key of a Pulumi.yaml `config:` block. */
interface DeclaredConfig {
    type?: string;
    items?: DeclaredConfig;
}

function describe(value: unknown): string {
    return Array.isArray(value) ? "an array" : value === null ? "null" : typeof value === "object" ? "an object" : `${typeof value === "string" ? "a string" : `a ${typeof value}`} ${JSON.stringify(value)}`;
}

/** Why `value` does not have the declared type, or undefined when it does. Scalars are lenient, shapes are not. */
function typeProblem(decl: DeclaredConfig, value: unknown): string | undefined {
    const scalar = value === null || typeof value !== "object";
    switch (decl.type) {
        case "string":
            return scalar ? undefined : `expected a string, got ${describe(value)}`;
        case "integer":
            return Number.isInteger(typeof value === "string" ? Number(value) : value) ? undefined : `expected an integer, got ${describe(value)}`;
        case "boolean":
            return typeof value === "boolean" || value === "true" || value === "false" ? undefined : `expected a boolean, got ${describe(value)}`;
        case "object":
            return !scalar && !Array.isArray(value) ? undefined : `expected an object, got ${describe(value)}`;
        case "array": {
            if (!Array.isArray(value)) {
                return `expected an array${decl.items?.type ? ` of ${decl.items.type}s` : ""}, got ${describe(value)}`;
            }
            for (const [i, item] of value.entries()) {
                const problem = decl.items ? typeProblem(decl.items, item) : undefined;
                if (problem) {
                    return `[${i}]: ${problem}`;
                }
            }
            return undefined;
        }
        default:
            return undefined;
    }
}

/**
 * Problems of a stack's config against the types its Pulumi.yaml declares, which the Pulumi CLI
 * checks before the program runs (structured `object` and array-of-object types since 3.187).
 */
export function declaredTypeProblems(projectFile: string, project: string, config: Record<string, unknown>): string[] {
    const declared = readYaml(projectFile)?.config;
    if (declared === null || typeof declared !== "object") {
        return [];
    }
    const qualify = (key: string) => (key.includes(":") ? key : `${project}:${key}`);
    const values = new Map(Object.entries(config).map(([k, v]) => [qualify(k), v]));
    const problems: string[] = [];
    for (const [key, decl] of Object.entries<DeclaredConfig>(declared)) {
        const value = values.get(qualify(key));
        if (value === undefined || decl === null || typeof decl !== "object" || (typeof value === "object" && value !== null && "secure" in value)) {
            continue;
        }
        const problem = typeProblem(decl, value);
        if (problem) {
            problems.push(`${qualify(key)}${problem.startsWith("[") ? "" : ": "}${problem}`);
        }
    }
    return problems;
}

/** The project name from the Pulumi.yaml beside `file`, if there is one. */
export function projectNameNear(file: string): string | undefined {
    const projectFile = path.join(path.dirname(path.resolve(file)), "Pulumi.yaml");
    if (!fs.existsSync(projectFile)) {
        return undefined;
    }
    const name = readYaml(projectFile)?.name;
    return typeof name === "string" ? name : undefined;
}

/** Normalises a config map (from YAML or from a test) into runtime form. */
export function normaliseConfig(project: string, raw: Record<string, unknown>): { values: Record<string, string>; secretKeys: string[] } {
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(raw ?? {})) {
        const full = key.includes(":") ? key : `${project}:${key}`;
        if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value) {
            values[full] = SECRET_PLACEHOLDER;
            secretKeys.push(full);
        } else if (typeof value === "string") {
            values[full] = value;
        } else {
            values[full] = JSON.stringify(value);
        }
    }
    return { values, secretKeys };
}

/** Loads `Pulumi.<stack>.yaml`; the stack name comes from the file name, the project from Pulumi.yaml. */
export function loadStackConfig(file: string, projectOverride?: string): StackConfig {
    const doc = readYaml(file);
    if (typeof doc !== "object" || Array.isArray(doc)) {
        throw new StackConfigError(`${file} must be a YAML mapping with a 'config:' key`);
    }
    const base = path.basename(file);
    const m = /^Pulumi\.(.+)\.ya?ml$/.exec(base);
    const stack = m ? m[1] : base.replace(/\.ya?ml$/, "");
    const project = projectOverride ?? projectNameNear(file) ?? "hardened-build-fleet";
    const config = doc.config ?? {};
    if (typeof config !== "object" || Array.isArray(config)) {
        throw new StackConfigError(`${file}: 'config' must be a mapping of keys to values`);
    }
    const projectFile = path.join(path.dirname(path.resolve(file)), "Pulumi.yaml");
    const problems = fs.existsSync(projectFile) ? declaredTypeProblems(projectFile, project, config) : [];
    if (problems.length > 0) {
        throw new StackConfigError(`${file} does not match the config types ${projectFile} declares (the Pulumi CLI rejects it before the program runs):\n${problems.map((p) => `  - ${p}`).join("\n")}\n`);
    }
    return { project, stack, ...normaliseConfig(project, config) };
}
