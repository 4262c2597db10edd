/**
 * `hardened-build-fleet-plan`: runs a fleet program offline, evaluates the policy pack and prints
 * the plan (table, JSON or SARIF), optionally drawing the topology. No cloud credentials and no
 * Pulumi CLI needed. Exit 0: no mandatory violations; 1: mandatory violations; 2: bad input.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import type { Policy } from "@pulumi/policy/policy"; // not the index: see policies/meta.ts
import type { Evaluation, ProgramRun } from "./engine";
import { projectProgram, readProject, resolveProgramEntry, stackConfigFiles, tsconfigFor } from "./engine/project";
import { StackConfigError, loadStackConfig } from "./engine/stackConfig";
import { CompileSetupError, registerTypeScript, TypeCheckError } from "./engine/typescript";
import { packageRoot } from "./packageInfo";
import { Progress, ProgressStream } from "./progress";

/*
 * The engine (the Pulumi runtime, the analyzer) and the reports load on first use: `--help` and
 * bad-option errors answer without paying for them.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const engine = (): typeof import("./engine") => require("./engine");
const reports = () => ({
    ...(require("./report/dot") as typeof import("./report/dot")),
    ...(require("./report/json") as typeof import("./report/json")),
    ...(require("./report/mermaid") as typeof import("./report/mermaid")),
    ...(require("./report/result") as typeof import("./report/result")),
    ...(require("./report/sarif") as typeof import("./report/sarif")),
    ...(require("./report/table") as typeof import("./report/table")),
});
/* eslint-enable @typescript-eslint/no-require-imports */

export const COMMAND = "hardened-build-fleet-plan";
export const FORMATS = ["table", "json", "sarif"] as const;
export type Format = (typeof FORMATS)[number];
export const EXIT = { ok: 0, violations: 1, badInput: 2 } as const;

const GRAPH_FORMATS: Record<string, "dot" | "mermaid"> = { ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid" };

/** Report formats by output file extension, when --format is not given. */
const OUTPUT_FORMATS: Record<string, Format> = { ".json": "json", ".sarif": "sarif", ".txt": "table" };
/** Image formats people ask for; the command writes graph source, which Graphviz or Mermaid renders. */
const IMAGE_EXTENSIONS = [".png", ".svg", ".pdf", ".jpg", ".jpeg", ".gif"];

export const USAGE = `Usage: ${COMMAND} [options]

Runs a Pulumi program offline (no cloud credentials, no Pulumi CLI), evaluates the
hardened-build-fleet policy pack (SLSA Build L3 invariants I1-I12) and prints the plan.
Run it in a Pulumi project directory: it plans the project's program with its stack config.

Options:
  --program <path>          Pulumi program: a .ts/.js file or a directory, compiled with its
                            project's tsconfig (default: \`main\` of ./Pulumi.yaml, else its directory)
  --config <file>           stack config, Pulumi.<stack>.yaml (default: the only Pulumi.<stack>.yaml
                            in the current directory)
  --policy-config <file>    policy pack config JSON, as for pulumi --policy-pack-config (default: none)
  --policies <module>       evaluate the \`policies\` array this module exports (a file or a package,
                            e.g. a re-levelled or extended pack) instead of this package's pack
  --no-typecheck            skip type-checking a TypeScript program (pulumi up type-checks; so
                            does the plan by default, and exits 2 on type errors)
  --preview                 evaluate as a first preview would: computed outputs unknown
  --stack-reference <name>=<outputs.json>  outputs of a stack the program references with
                            new pulumi.StackReference(<name>), e.g. from
                            pulumi stack output --json -s <name>; repeatable (default: unknown,
                            as in a first preview)
  --format <table|json|sarif>  report format (default: from the --output extension
                            .json/.sarif, else table)
  --output <file>           write the report to a file (default: stdout)
  --graph <file.dot|file.mmd>  also draw the topology as Graphviz DOT or Mermaid
  -h, --help                show this help

Exit codes: 0 no mandatory violations, 1 mandatory violations, 2 bad input
(unknown option, missing or unreadable file, invalid config, type errors, program crash).
`;

/** Where the command writes; tests pass their own. */
export interface CliIO {
    /** Writes report text to standard output; resolves once flushed. */
    stdout(text: string): Promise<void> | void;
    /** Standard error: messages and progress (progress only when `isTTY`). */
    stderr: ProgressStream;
    /** Directory relative paths are resolved against. */
    cwd: string;
}

export interface MainOptions {
    io?: Partial<CliIO>;
    /** The policies to evaluate (`--policies` wins); default: this package's pack. */
    policies?: Policy[];
}

/** A bad-input problem: printed as one `error:` paragraph, exit 2. */
export class CliError extends Error {}

const defaultIO: CliIO = {
    stdout: (text) => new Promise<void>((resolve) => {
        process.stdout.write(text, () => resolve());
    }),
    stderr: process.stderr,
    cwd: process.cwd(),
};

interface Options {
    program: string;
    config: string;
    policyConfig?: string;
    policies?: string;
    typeCheck: boolean;
    preview: boolean;
    format: Format;
    output?: string;
    graph?: { file: string; kind: "dot" | "mermaid" };
    stackReferences: Record<string, Record<string, unknown>>;
    help: boolean;
}

function parse(argv: string[], cwd: string): Options {
    let values: Record<string, string | boolean | string[] | undefined>;
    try {
        ({ values } = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                program: { type: "string" },
                config: { type: "string" },
                "policy-config": { type: "string" },
                policies: { type: "string" },
                "no-typecheck": { type: "boolean" },
                preview: { type: "boolean" },
                format: { type: "string" },
                output: { type: "string" },
                graph: { type: "string" },
                "stack-reference": { type: "string", multiple: true },
                help: { type: "boolean", short: "h" },
            },
        }));
    } catch (err) {
        throw new CliError(`${(err as Error).message.replace(/\.$/, "")}. Run ${COMMAND} --help for the options.`);
    }
    const help = values.help === true;
    const output = values.output as string | undefined;
    const format = (values.format as string | undefined) ?? (output !== undefined ? OUTPUT_FORMATS[path.extname(output).toLowerCase()] : undefined) ?? "table";
    if (!(FORMATS as readonly string[]).includes(format)) {
        throw new CliError(`--format ${JSON.stringify(format)} is not a report format; use one of ${FORMATS.join(", ")} (default table).`);
    }
    if (output !== undefined && values.format === undefined && !OUTPUT_FORMATS[path.extname(output).toLowerCase()]) {
        throw new CliError(`--output ${JSON.stringify(output)}: cannot tell the report format from the extension; name the file *.json, *.sarif or *.txt, or pass --format ${FORMATS.join("|")}.`);
    }
    let graph: Options["graph"];
    if (values.graph !== undefined) {
        const file = values.graph as string;
        const ext = path.extname(file).toLowerCase();
        const kind = GRAPH_FORMATS[ext];
        if (!kind) {
            const base = file.slice(0, file.length - ext.length);
            throw new CliError(IMAGE_EXTENSIONS.includes(ext)
                ? `--graph ${JSON.stringify(file)}: the command writes graph source, not images; name the file *.dot (Graphviz) or *.mmd (Mermaid) and render it, e.g. --graph ${base}.dot, then dot -T${ext.slice(1)} ${base}.dot -o ${file}.`
                : `--graph ${JSON.stringify(file)} has no graph extension; name the file *.dot (Graphviz) or *.mmd (Mermaid).`);
        }
        graph = { file: path.resolve(cwd, file), kind };
    }
    // `pulumi up` skips its type check when PULUMI_NODEJS_TRANSPILE_ONLY=true; so does the plan.
    const typeCheck = values["no-typecheck"] !== true && process.env.PULUMI_NODEJS_TRANSPILE_ONLY !== "true";
    const common = {
        policyConfig: values["policy-config"] !== undefined ? path.resolve(cwd, values["policy-config"] as string) : undefined,
        policies: values.policies as string | undefined,
        typeCheck,
        preview: values.preview === true,
        format: format as Format,
        output: output !== undefined ? path.resolve(cwd, output) : undefined,
        graph,
        stackReferences: readStackReferences((values["stack-reference"] as string[] | undefined) ?? [], cwd),
        help,
    };
    if (help) {
        return { ...common, program: "", config: "" };
    }
    return {
        ...common,
        program: values.program !== undefined ? path.resolve(cwd, values.program as string) : defaultProgram(cwd),
        config: values.config !== undefined ? path.resolve(cwd, values.config as string) : defaultConfig(cwd),
    };
}

/** `--stack-reference <name>=<outputs.json>` values: every problem in one message. */
function readStackReferences(specs: string[], cwd: string): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    const problems: string[] = [];
    for (const spec of specs) {
        const eq = spec.indexOf("=");
        if (eq <= 0 || eq === spec.length - 1) {
            problems.push(`--stack-reference ${JSON.stringify(spec)} is not <stack name>=<outputs.json>; write e.g. --stack-reference acme/network/prod=network-outputs.json`);
            continue;
        }
        const name = spec.slice(0, eq);
        const file = path.resolve(cwd, spec.slice(eq + 1));
        let parsed: unknown;
        try {
            parsed = JSON.parse(fs.readFileSync(file, "utf8"));
        } catch (err) {
            problems.push(`--stack-reference ${name}: cannot read ${display(file, cwd)} as JSON (${(err as Error).message}); write the file with pulumi stack output --json -s ${name} > ${display(file, cwd)}`);
            continue;
        }
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
            problems.push(`--stack-reference ${name}: ${display(file, cwd)} holds ${Array.isArray(parsed) ? "an array" : JSON.stringify(parsed)}, not an object of stack outputs; write it with pulumi stack output --json -s ${name}`);
            continue;
        }
        out[name] = parsed as Record<string, unknown>;
    }
    if (problems.length > 0) {
        throw new CliError(problems.join("\n"));
    }
    return out;
}

/** The program of the Pulumi project in `cwd`, as `pulumi up` there would run it. */
function defaultProgram(cwd: string): string {
    const project = readProjectOrFail(cwd);
    if (!project) {
        throw new CliError(`no Pulumi.yaml in ${cwd}: run ${COMMAND} in your Pulumi project's directory, or pass --program <file or directory> and --config <Pulumi.<stack>.yaml>.`);
    }
    return projectProgram(project);
}

function readProjectOrFail(cwd: string): ReturnType<typeof readProject> {
    try {
        return readProject(cwd);
    } catch (err) {
        throw new CliError(`${(err as Error).message}. Fix the YAML or pass --program.`);
    }
}

/**
 * The stack config: the only `Pulumi.<stack>.yaml` in `cwd`. In this package's own checkout (cwd is
 * the package root) the example stack is the default, so `npm run plan` plans the example fleet.
 */
function defaultConfig(cwd: string): string {
    const files = stackConfigFiles(cwd);
    const example = path.join(cwd, "Pulumi.example.yaml");
    if (path.resolve(cwd) === packageRoot() && fs.existsSync(example)) {
        return example;
    }
    if (files.length === 1) {
        return files[0];
    }
    throw new CliError(files.length === 0
        ? `no stack config: there is no Pulumi.<stack>.yaml in ${cwd}; pass --config <Pulumi.<stack>.yaml>.`
        : `${files.length} stack configs in ${cwd} (${files.map((f) => path.basename(f)).join(", ")}); pass --config <file> to choose the stack to plan.`);
}

function display(file: string, cwd: string): string {
    const rel = path.relative(cwd, file);
    return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}

function readPolicyConfig(file: string, shown: string): Record<string, unknown> {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err: any) {
        throw new CliError(err.code === "ENOENT"
            ? `policy config file ${shown} not found; pass --policy-config <file.json> with the JSON you would give pulumi --policy-pack-config.`
            : `cannot read policy config ${shown}: ${err.message}.`);
    }
    if (text.trim() === "") {
        // The Pulumi CLI accepts an empty config file: no settings.
        return {};
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (err) {
        throw new CliError(`cannot parse policy config ${shown} as JSON: ${(err as Error).message}. It must be an object such as {"all": "mandatory", "<policy>": {"enforcementLevel": "advisory"}}.`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new CliError(`policy config ${shown} must be a JSON object mapping "all" or policy names to an enforcement level or a config object.`);
    }
    return parsed as Record<string, unknown>;
}

function loadPackPolicies(): Policy[] {
    try {
        // Loaded lazily: the pack is only needed once the inputs are known to be good.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const pack = require("../policies/rules");
        if (!Array.isArray(pack.policies)) {
            throw new Error("policies/rules does not export a `policies` array");
        }
        return pack.policies as Policy[];
    } catch (err) {
        throw new CliError(`cannot load the policy pack (policies/rules): ${(err as Error).message.split("\n")[0]}.`);
    }
}

/**
 * The `policies` array a module exports (a team's own pack: re-levelled, extended or new). A path
 * (file or directory, .ts compiled with its project's tsconfig) or a package specifier resolved from `cwd`.
 */
function loadPoliciesModule(spec: string, cwd: string): Policy[] {
    const local = resolveProgramEntry(path.resolve(cwd, spec));
    let entry = local;
    if (!entry) {
        try {
            entry = require.resolve(spec, { paths: [cwd] });
        } catch {
            throw new CliError(`--policies ${spec}: no such file or package from ${cwd}; pass a module that exports \`policies\` (an array of CrossGuard policies), e.g. --policies ./policies/index.ts.`);
        }
    }
    let mod: any;
    try {
        if (local) {
            registerTypeScript(entry, tsconfigFor(entry));
        }
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        mod = require(entry);
    } catch (err) {
        throw new CliError(`--policies ${spec}: cannot load ${entry}: ${describeProgramFailure(err).split("\n")[0]}`);
    }
    const policies = mod?.policies ?? mod?.default?.policies;
    if (!Array.isArray(policies)) {
        const keys = mod && typeof mod === "object" ? Object.keys(mod) : [];
        throw new CliError(`--policies ${spec}: the module exports no \`policies\` array (it exports ${keys.length > 0 ? keys.join(", ") : "nothing"}); add \`export const policies: Policy[] = [...]\` (a module that only calls new PolicyPack(...) cannot be evaluated offline).`);
    }
    const bad = policies.map((p: any, i: number) => (p && typeof p.name === "string" && (typeof p.validateResource === "function" || Array.isArray(p.validateResource) || typeof p.validateStack === "function") ? undefined : `policies[${i}]`)).filter((x: string | undefined): x is string => x !== undefined);
    if (bad.length > 0) {
        throw new CliError(`--policies ${spec}: ${bad.join(", ")} ${bad.length === 1 ? "is not a policy" : "are not policies"}; each needs a \`name\` and a \`validateResource\` or \`validateStack\` function.`);
    }
    const names = new Set<string>();
    for (const p of policies as Policy[]) {
        if (names.has(p.name)) {
            throw new CliError(`--policies ${spec}: two policies are named ${JSON.stringify(p.name)}; policy names must be unique within a pack.`);
        }
        names.add(p.name);
    }
    return policies as Policy[];
}

/** The first stack frame in the user's code (not node_modules, not this engine), for a crash message. */
function userFrame(stack: string | undefined): string | undefined {
    const engineDir = path.join(__dirname, "engine");
    for (const line of (stack ?? "").split("\n").slice(1)) {
        const m = /^at (?:.* \()?(.+?):(\d+):(\d+)\)?$/.exec(line.trim());
        if (m && path.isAbsolute(m[1]) && !m[1].includes(`${path.sep}node_modules${path.sep}`) && !m[1].startsWith(engineDir)) {
            return `${m[1]}:${m[2]}:${m[3]}`;
        }
    }
    return undefined;
}

/** RunErrors (FleetConfigError among them) are meant to be shown as they are, without a stack. */
function isRunError(err: Error): boolean {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { RunError } = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    return RunError.isInstance(err as unknown) || err.name === "FleetConfigError";
}

/** The cause of a program failure as a readable message: config errors in full, crashes with their location. */
export function describeProgramFailure(cause: unknown): string {
    if (cause instanceof Error) {
        if (isRunError(cause)) {
            return cause.message;
        }
        const where = userFrame(cause.stack);
        return `${cause.name && cause.name !== "Error" ? `${cause.name}: ` : ""}${cause.message}${where ? ` (at ${where})` : ""}`;
    }
    return String(cause);
}

/**
 * The engine runs programs without stack traces (capturing them is most of a run's cost), so a crash
 * carries only its message. To say where it happened, run the program once more with traces on:
 * only on this error path, and only for real crashes (config errors are complete without a location).
 */
async function withLocation(cause: unknown, opts: Options): Promise<unknown> {
    if (!(cause instanceof Error) || isRunError(cause) || userFrame(cause.stack) !== undefined) {
        return cause;
    }
    try {
        const again = await engine().runProgram(opts.program, { configFile: opts.config, preview: opts.preview, allowError: true, stackTraces: true, typeCheck: false, stackReferences: opts.stackReferences });
        const traced = again.error;
        return traced instanceof Error && traced.message === cause.message ? traced : cause;
    } catch {
        return cause;
    }
}

async function writeFile(file: string, text: string, what: string): Promise<void> {
    try {
        await fs.promises.mkdir(path.dirname(file), { recursive: true });
        await fs.promises.writeFile(file, text);
    } catch (err) {
        throw new CliError(`cannot write the ${what} to ${file}: ${(err as Error).message}.`);
    }
}

async function plan(opts: Options, io: CliIO, injected: Policy[] | undefined): Promise<number> {
    const shown = (f: string) => display(f, io.cwd);
    if (!resolveProgramEntry(opts.program)) {
        throw new CliError(`program ${shown(opts.program)} not found; pass --program <a Pulumi program: a .ts or .js file, or a directory with index.ts or a package.json main>.`);
    }
    if (!fs.existsSync(opts.config)) {
        throw new CliError(`stack config ${shown(opts.config)} not found; pass --config <Pulumi.<stack>.yaml>.`);
    }
    try {
        loadStackConfig(opts.config);
    } catch (err) {
        if (err instanceof StackConfigError) {
            throw new CliError(`${err.message.replace(/[:.\s]+$/, "")}. Fix the YAML or pass another --config.`);
        }
        throw err;
    }
    const policyConfig = opts.policyConfig ? readPolicyConfig(opts.policyConfig, shown(opts.policyConfig)) : undefined;
    const policies = opts.policies !== undefined ? loadPoliciesModule(opts.policies, io.cwd) : injected ?? loadPackPolicies();
    const warnAll = (warnings: string[]) => warnings.forEach((w) => io.stderr.write(`warning: policy config${opts.policyConfig ? ` ${shown(opts.policyConfig)}` : ""}: ${w}\n`));
    try {
        warnAll(engine().resolvePolicyConfigs(policies, { policyConfig }).warnings);
    } catch (err) {
        if (err instanceof engine().PolicyConfigError) {
            warnAll(err.warnings);
            throw new CliError(`${opts.policyConfig ? `policy config ${shown(opts.policyConfig)}: ` : ""}${err.message}`);
        }
        throw err;
    }

    const progress = new Progress(io.stderr);
    let run: ProgramRun;
    try {
        run = await engine().runProgram(opts.program, {
            configFile: opts.config,
            preview: opts.preview,
            typeCheck: opts.typeCheck,
            stackReferences: opts.stackReferences,
            onRegister: (n) => progress.update(`registering resources: ${n}`),
        });
    } catch (err) {
        progress.done();
        if (err instanceof TypeCheckError) {
            throw new CliError(`the program ${shown(opts.program)} does not type-check (${err.count} ${err.count === 1 ? "error" : "errors"}; pulumi up would stop here too). Fix ${err.count === 1 ? "it" : "them"}, or pass --no-typecheck to plan anyway:\n${err.diagnostics}`);
        }
        if (err instanceof CompileSetupError) {
            throw new CliError(err.message);
        }
        if (err instanceof engine().ProgramError) {
            const cause = await withLocation(err.cause, opts);
            throw new CliError(`the program ${shown(opts.program)} failed with stack config ${shown(opts.config)}:\n${describeProgramFailure(cause)}`);
        }
        if (err instanceof StackConfigError) {
            throw new CliError(err.message);
        }
        throw err;
    }
    let evaluation: Evaluation;
    try {
        evaluation = await engine().evaluatePolicies(run, policies, {
            policyConfig,
            onProgress: (done, total) => progress.update(`evaluating ${policies.length} policies: ${done}/${total} resources`, done === total),
        });
    } catch (err) {
        // The analyzer turns a throwing policy into an error naming the policy; the pack is at fault, not the stack.
        throw new CliError(`policy evaluation failed: ${describeProgramFailure(err)}`);
    } finally {
        progress.done();
    }

    const { buildPlanResult, isBlocking, renderDot, renderJson, renderMermaid, renderSarif, renderTable } = reports();
    const result = buildPlanResult(run, evaluation, policies, { policyConfig, programFile: opts.program, configFile: opts.config });
    // Warnings go to stderr whatever the format (the JSON and SARIF reports carry them too).
    for (const w of run.logs.filter((l) => l.severity === "warning")) {
        io.stderr.write(`warning: ${w.message.replace(/\n/g, "\n  ")}\n`);
    }
    const report = opts.format === "json" ? renderJson(result) : opts.format === "sarif" ? renderSarif(result) : renderTable(result);
    const blocking = result.violations.filter(isBlocking).length;
    if (opts.output) {
        await writeFile(opts.output, report, `${opts.format} report`);
        io.stderr.write(`wrote ${opts.format} report to ${shown(opts.output)}: ${result.violations.length} violations (${blocking} mandatory)\n`);
    } else {
        await io.stdout(report);
    }
    if (opts.graph) {
        const text = opts.graph.kind === "dot" ? renderDot(result.topology) : renderMermaid(result.topology);
        await writeFile(opts.graph.file, text, "topology graph");
        io.stderr.write(`wrote topology graph to ${shown(opts.graph.file)}\n`);
    }
    return blocking > 0 ? EXIT.violations : EXIT.ok;
}

/** Runs the command with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
    const io: CliIO = { ...defaultIO, ...options.io };
    try {
        const opts = parse(argv, io.cwd);
        if (opts.help) {
            await io.stdout(USAGE);
            return EXIT.ok;
        }
        return await plan(opts, io, options.policies);
    } catch (err) {
        if (err instanceof CliError) {
            io.stderr.write(`error: ${err.message}\n`);
            return EXIT.badInput;
        }
        // Anything else is a bug in this tool: still one message, with where it happened.
        io.stderr.write(`error: internal error in ${COMMAND}: ${describeProgramFailure(err)}\n`);
        return EXIT.badInput;
    }
}
