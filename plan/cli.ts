/**
 * `hardened-build-fleet-plan`: runs a fleet program offline, evaluates the policy pack and prints
 * the plan (table, JSON or SARIF), optionally drawing the topology. No cloud credentials and no
 * Pulumi CLI needed. Exit 0: no mandatory violations; 1: mandatory violations; 2: bad input.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import * as pulumi from "@pulumi/pulumi";
import type { Policy } from "@pulumi/policy";
import { evaluatePolicies, Evaluation, PolicyConfigError, ProgramError, ProgramRun, resolvePolicyConfig, runProgram, StackConfigError, loadStackConfig } from "./engine";
import { packageRoot } from "./packageInfo";
import { Progress, ProgressStream } from "./progress";
import { renderDot } from "./report/dot";
import { renderJson } from "./report/json";
import { renderMermaid } from "./report/mermaid";
import { buildPlanResult, isBlocking } from "./report/result";
import { renderSarif } from "./report/sarif";
import { renderTable } from "./report/table";

export const COMMAND = "hardened-build-fleet-plan";
export const FORMATS = ["table", "json", "sarif"] as const;
export type Format = (typeof FORMATS)[number];
export const EXIT = { ok: 0, violations: 1, badInput: 2 } as const;

const GRAPH_FORMATS: Record<string, "dot" | "mermaid"> = { ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid" };

export const USAGE = `Usage: ${COMMAND} [options]

Runs a Pulumi program offline (no cloud credentials, no Pulumi CLI), evaluates the
hardened-build-fleet policy pack (SLSA Build L3 invariants I1-I12) and prints the plan.
With no options it plans the package's example fleet.

Options:
  --program <path>          Pulumi program, .ts or .js (default: the package's index.ts)
  --config <file>           stack config, Pulumi.<stack>.yaml (default: the package's Pulumi.example.yaml)
  --policy-config <file>    policy pack config JSON, as for pulumi --policy-pack-config (default: none)
  --preview                 evaluate as a first preview would: computed outputs unknown
  --format <table|json|sarif>  report format (default: table)
  --output <file>           write the report to a file (default: stdout)
  --graph <file.dot|file.mmd>  also draw the topology as Graphviz DOT or Mermaid
  -h, --help                show this help

Exit codes: 0 no mandatory violations, 1 mandatory violations, 2 bad input
(unknown option, missing or unreadable file, invalid config, program crash).
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
    /** The policies to evaluate; default: the pack's `policies` from policies/rules. */
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
    preview: boolean;
    format: Format;
    output?: string;
    graph?: { file: string; kind: "dot" | "mermaid" };
    help: boolean;
}

function parse(argv: string[], cwd: string): Options {
    let values: Record<string, string | boolean | undefined>;
    try {
        ({ values } = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                program: { type: "string" },
                config: { type: "string" },
                "policy-config": { type: "string" },
                preview: { type: "boolean" },
                format: { type: "string" },
                output: { type: "string" },
                graph: { type: "string" },
                help: { type: "boolean", short: "h" },
            },
        }));
    } catch (err) {
        throw new CliError(`${(err as Error).message.replace(/\.$/, "")}. Run ${COMMAND} --help for the options.`);
    }
    const format = (values.format as string | undefined) ?? "table";
    if (!(FORMATS as readonly string[]).includes(format)) {
        throw new CliError(`--format ${JSON.stringify(format)} is not a report format; use one of ${FORMATS.join(", ")} (default table).`);
    }
    let graph: Options["graph"];
    if (values.graph !== undefined) {
        const file = values.graph as string;
        const kind = GRAPH_FORMATS[path.extname(file).toLowerCase()];
        if (!kind) {
            throw new CliError(`--graph ${JSON.stringify(file)} has no graph extension; name the file *.dot (Graphviz) or *.mmd (Mermaid).`);
        }
        graph = { file: path.resolve(cwd, file), kind };
    }
    const root = packageRoot();
    const defaultProgram = fs.existsSync(path.join(root, "index.ts")) || !fs.existsSync(path.join(root, "dist", "index.js"))
        ? path.join(root, "index.ts")
        : path.join(root, "dist", "index.js");
    return {
        program: values.program !== undefined ? path.resolve(cwd, values.program as string) : defaultProgram,
        config: values.config !== undefined ? path.resolve(cwd, values.config as string) : path.join(root, "Pulumi.example.yaml"),
        policyConfig: values["policy-config"] !== undefined ? path.resolve(cwd, values["policy-config"] as string) : undefined,
        preview: values.preview === true,
        format: format as Format,
        output: values.output !== undefined ? path.resolve(cwd, values.output as string) : undefined,
        graph,
        help: values.help === true,
    };
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
    return pulumi.RunError.isInstance(err as unknown) || err.name === "FleetConfigError";
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
        const again = await runProgram(opts.program, { configFile: opts.config, preview: opts.preview, allowError: true, stackTraces: true });
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
    if (!fs.existsSync(opts.program)) {
        throw new CliError(`program ${shown(opts.program)} not found; pass --program <path to a Pulumi program, .ts or .js>.`);
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
    const policies = injected ?? loadPackPolicies();
    try {
        resolvePolicyConfig(policies, { policyConfig });
    } catch (err) {
        if (err instanceof PolicyConfigError) {
            throw new CliError(`${opts.policyConfig ? `policy config ${shown(opts.policyConfig)}: ` : ""}${err.message}`);
        }
        throw err;
    }

    const progress = new Progress(io.stderr);
    let run: ProgramRun;
    try {
        run = await runProgram(opts.program, {
            configFile: opts.config,
            preview: opts.preview,
            onRegister: (n) => progress.update(`registering resources: ${n}`),
        });
    } catch (err) {
        progress.done();
        if (err instanceof ProgramError) {
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
        evaluation = await evaluatePolicies(run, policies, {
            policyConfig,
            onProgress: (done, total) => progress.update(`evaluating ${policies.length} policies: ${done}/${total} resources`, done === total),
        });
    } catch (err) {
        // The analyzer turns a throwing policy into an error naming the policy; the pack is at fault, not the stack.
        throw new CliError(`policy evaluation failed: ${describeProgramFailure(err)}`);
    } finally {
        progress.done();
    }

    const result = buildPlanResult(run, evaluation, policies, { policyConfig, programFile: opts.program, configFile: opts.config });
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
