/**
 * Finds a Pulumi project's program, stack config and tsconfig the way the Pulumi CLI and its Node.js
 * language host do: `main` of `Pulumi.yaml` (a file or a directory), else the project directory,
 * whose entry is `exports`/`main` of its package.json, else `index`.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { StackConfigError } from "./stackConfig";

export interface PulumiProject {
    /** Directory holding Pulumi.yaml. */
    dir: string;
    file: string;
    name?: string;
    /** `main` from Pulumi.yaml, if set (relative to `dir`). */
    main?: string;
    /** `runtime.options.tsconfig`, if set (relative to `dir`). */
    tsconfig?: string;
    /** `runtime.options.typescript`; the language host's default is true. */
    typescript: boolean;
}

/** Reads `Pulumi.yaml` (or `Pulumi.yml`) in `dir`; undefined when there is none. */
export function readProject(dir: string): PulumiProject | undefined {
    const file = ["Pulumi.yaml", "Pulumi.yml"].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
    if (!file) {
        return undefined;
    }
    let doc: any;
    try {
        doc = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
    } catch (err) {
        throw new StackConfigError(`cannot parse ${file} as YAML: ${(err as Error).message.split("\n")[0]}`);
    }
    const options = typeof doc.runtime === "object" && doc.runtime !== null ? doc.runtime.options ?? {} : {};
    return {
        dir,
        file,
        name: typeof doc.name === "string" ? doc.name : undefined,
        main: typeof doc.main === "string" && doc.main !== "" ? doc.main : undefined,
        tsconfig: typeof options.tsconfig === "string" ? options.tsconfig : undefined,
        typescript: options.typescript !== false,
    };
}

/** The nearest Pulumi project at or above `from`. */
export function findProject(from: string): PulumiProject | undefined {
    for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
        const project = readProject(dir);
        if (project) {
            return project;
        }
        if (path.dirname(dir) === dir) {
            return undefined;
        }
    }
}

function readPackageJson(dir: string): any {
    try {
        return JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    } catch {
        return undefined;
    }
}

/** A file path, trying the extensions Node and ts-node would. */
function existingFile(candidate: string): string | undefined {
    for (const f of [candidate, `${candidate}.ts`, `${candidate}.js`, path.join(candidate, "index.ts"), path.join(candidate, "index.js")]) {
        if (fs.existsSync(f) && fs.statSync(f).isFile()) {
            return f;
        }
    }
    return undefined;
}

/**
 * The entry file of a program given as a file or a directory. A directory's entry is its
 * package.json `exports["."]`/`main` if it names one, else index.ts, else index.js (the language host's order).
 * Undefined when nothing exists.
 */
export function resolveProgramEntry(program: string): string | undefined {
    const target = path.resolve(program);
    if (!fs.existsSync(target) || !fs.statSync(target).isDirectory()) {
        return existingFile(target);
    }
    const pkg = readPackageJson(target);
    const exported = typeof pkg?.exports === "string" ? pkg.exports
        : typeof pkg?.exports?.["."] === "string" ? pkg.exports["."]
            : pkg?.exports?.["."]?.default ?? pkg?.exports?.["."]?.require;
    const main = typeof exported === "string" ? exported : typeof pkg?.main === "string" ? pkg.main : undefined;
    return (main ? existingFile(path.join(target, main)) : undefined) ?? existingFile(target);
}

/** The program a project runs: `main` of Pulumi.yaml (file or directory), else the project directory. */
export function projectProgram(project: PulumiProject): string {
    return path.resolve(project.dir, project.main ?? ".");
}

/** The `Pulumi.<stack>.yaml` files in `dir`, sorted. */
export function stackConfigFiles(dir: string): string[] {
    let names: string[];
    try {
        names = fs.readdirSync(dir);
    } catch {
        return [];
    }
    return names.filter((n) => /^Pulumi\.[^.]+(\.[^.]+)*\.ya?ml$/.test(n) && !/^Pulumi\.ya?ml$/.test(n)).sort().map((n) => path.join(dir, n));
}

/**
 * The tsconfig a program compiles with, as the language host picks it: the project's
 * `runtime.options.tsconfig`, else `tsconfig.json` in the project directory; without a project, the
 * nearest `tsconfig.json` at or above the program. Undefined when there is none (compiler defaults).
 */
export function tsconfigFor(entry: string, project: PulumiProject | undefined = findProject(path.dirname(entry))): string | undefined {
    if (project) {
        const file = path.resolve(project.dir, project.tsconfig ?? "tsconfig.json");
        // The language host uses no tsconfig (compiler defaults) when the project has none.
        return fs.existsSync(file) || project.tsconfig ? file : undefined;
    }
    for (let dir = path.dirname(path.resolve(entry)); ; dir = path.dirname(dir)) {
        const file = path.join(dir, "tsconfig.json");
        if (fs.existsSync(file)) {
            return file;
        }
        if (path.dirname(dir) === dir) {
            return undefined;
        }
    }
}
