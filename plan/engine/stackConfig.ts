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
    return { project, stack, ...normaliseConfig(project, config) };
}
