/**
 * Compiles and type-checks a TypeScript program with its own tsconfig, as the Pulumi Node.js
 * language host does: ts-node with the project's tsconfig (its options win over the host's
 * defaults), the project's own `typescript` when it has one. `pulumi up` type-checks by default, so
 * the plan does too (`typeCheckProgram`); compiling itself is transpile-only.
 */
import * as fs from "fs";
import * as path from "path";
import type * as TS from "typescript";

/** The program does not type-check; `message` is the compiler's output, one diagnostic per line. */
export class TypeCheckError extends Error {
    constructor(readonly diagnostics: string, readonly count: number) {
        super(diagnostics);
    }
}

/** The program cannot be compiled at all (unreadable tsconfig, ES module package). */
export class CompileSetupError extends Error {}

/** What the language host sets when the tsconfig leaves it unset (TypeScript >= 4.7). */
const HOST_DEFAULTS = { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: true } as const;

function typescriptFor(dir: string): { ts: typeof TS; path: string } {
    let resolved: string;
    try {
        // The project's own compiler first, as the language host does.
        resolved = require.resolve("typescript", { paths: [dir] });
    } catch {
        resolved = require.resolve("typescript");
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { ts: require(resolved), path: resolved };
}

/** The nearest package.json's `type` at or above `file`. */
function packageType(file: string): string | undefined {
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
        const manifest = path.join(dir, "package.json");
        if (fs.existsSync(manifest)) {
            try {
                return JSON.parse(fs.readFileSync(manifest, "utf8")).type;
            } catch {
                return undefined;
            }
        }
        if (path.dirname(dir) === dir) {
            return undefined;
        }
    }
}

function parseTsconfig(ts: typeof TS, tsconfig: string): TS.ParsedCommandLine {
    const problems: TS.Diagnostic[] = [];
    const parsed = ts.getParsedCommandLineOfConfigFile(tsconfig, {}, {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => problems.push(d),
    });
    // "No inputs were found" only means `include` matches nothing: the program is the root file anyway.
    const errors = [...problems, ...(parsed?.errors ?? [])].filter((d) => d.code !== 18003 && d.category === ts.DiagnosticCategory.Error);
    if (!parsed || errors.length > 0) {
        throw new CompileSetupError(`cannot use ${tsconfig}: ${ts.flattenDiagnosticMessageText(errors[0]?.messageText ?? "unreadable", " ")}`);
    }
    return parsed;
}

/** TypeScript in an ES module package: the plan compiles TypeScript to CommonJS, while compiled ES modules load fine. */
function checkModuleFormat(entry: string): void {
    if (/\.tsx?$/.test(entry) && packageType(entry) === "module") {
        throw new CompileSetupError(`${entry} is TypeScript in an ES module package ("type": "module" in its package.json), and the offline plan compiles TypeScript ` +
            `to CommonJS only. Compile the program first (e.g. \`npx tsc\`) and point --program at the compiled entry: compiled ES module JavaScript (.js or .mjs) ` +
            `works. Or remove "type": "module" (the \`pulumi new typescript\` layout).`);
    }
}

/** Compiler options for a program: the tsconfig's, with the language host's defaults where it sets none. */
function programOptions(ts: typeof TS, tsconfig: string | undefined): { options: TS.CompilerOptions; ambient: string[] } {
    if (!tsconfig) {
        const converted = ts.convertCompilerOptionsFromJson(HOST_DEFAULTS, process.cwd());
        return { options: converted.options, ambient: [] };
    }
    const parsed = parseTsconfig(ts, tsconfig);
    const options = { ...parsed.options };
    if (options.module === undefined && options.moduleResolution === undefined) {
        options.module = ts.ModuleKind.NodeNext;
        options.moduleResolution = ts.ModuleResolutionKind.NodeNext;
    }
    options.target ??= ts.ScriptTarget.ES2020;
    // Declaration files the project includes carry its ambient declarations.
    return { options, ambient: parsed.fileNames.filter((f) => f.endsWith(".d.ts")) };
}

/**
 * Type-checks `entry` and everything it imports with `tsconfig` (undefined: the host's defaults),
 * unless the tsconfig sets `noCheck` (which the language host honours too).
 * Returns nothing when it type-checks; throws TypeCheckError with the compiler's messages otherwise.
 */
export function typeCheckProgram(entry: string, tsconfig: string | undefined): void {
    if (!/\.tsx?$/.test(entry)) {
        return;
    }
    checkModuleFormat(entry);
    const { ts } = typescriptFor(path.dirname(entry));
    const { options, ambient } = programOptions(ts, tsconfig);
    if (options.noCheck) {
        return;
    }
    Object.assign(options, { noEmit: true, declaration: false, composite: false, incremental: false, emitDeclarationOnly: false, tsBuildInfoFile: undefined });
    const program = ts.createProgram({ rootNames: [entry, ...ambient], options });
    // As ts-node under the language host: the program's own files are checked, declaration files
    // (libraries, whose errors `skipLibCheck` would hide anyway) only as far as the program uses them.
    const own = program.getSourceFiles().filter((f) => !f.isDeclarationFile && !f.fileName.split(/[\\/]/).includes("node_modules"));
    const diagnostics = [
        ...program.getOptionsDiagnostics(),
        ...program.getGlobalDiagnostics(),
        ...own.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
    ].filter((d) => d.category === ts.DiagnosticCategory.Error);
    if (diagnostics.length > 0) {
        const text = ts.formatDiagnostics(diagnostics, {
            getCanonicalFileName: (f) => f,
            // Paths relative to the project, as `tsc -p` run there prints them.
            getCurrentDirectory: () => path.dirname(tsconfig ?? entry),
            getNewLine: () => "\n",
        });
        throw new TypeCheckError(text.trimEnd(), diagnostics.length);
    }
}

/** True when a ts-node instance already compiles .ts files in this process (mocha, this package's source). */
export function typeScriptRegistered(): boolean {
    return Boolean((process as any)[Symbol.for("ts-node.register.instance")]);
}

/**
 * Makes `require` compile .ts files with the program's tsconfig, transpile-only (type errors are
 * `typeCheckProgram`'s job). A ts-node already registered in this process is kept: one process has
 * one compiler hook.
 */
export function registerTypeScript(entry: string, tsconfig: string | undefined): void {
    if (!/\.tsx?$/.test(entry)) {
        return;
    }
    checkModuleFormat(entry);
    if (typeScriptRegistered()) {
        return;
    }
    const { ts, path: compiler } = typescriptFor(path.dirname(entry));
    // ts-node reads the tsconfig itself; its `compilerOptions` override it, so pass only the host's
    // defaults for what the tsconfig (with its `extends`) leaves unset. Module and resolution go together.
    const set = tsconfig ? parseTsconfig(ts, tsconfig).options : {};
    const defaults: Record<string, unknown> = {};
    if (set.target === undefined) {
        defaults.target = HOST_DEFAULTS.target;
    }
    if (set.module === undefined && set.moduleResolution === undefined) {
        Object.assign(defaults, { module: HOST_DEFAULTS.module, moduleResolution: HOST_DEFAULTS.moduleResolution });
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("ts-node").register({
        compiler,
        transpileOnly: true,
        project: tsconfig,
        skipProject: !tsconfig,
        cwd: tsconfig ? path.dirname(tsconfig) : path.dirname(entry),
        compilerOptions: defaults,
    });
}
