/**
 * Runs a Pulumi program offline under the runtime mocks and captures the resource graph.
 *
 * Runs are serialised: the Pulumi runtime keeps global state, so two programs cannot register at
 * once in one process.
 */
import * as path from "path";
import * as pulumiRuntime from "@pulumi/pulumi/runtime";
import { resourceClass, runtimeDebuggable, runtimeSettings, runtimeState } from "./sdk";
import { GraphMonitor } from "./monitor";
import { OfflineCallbacks } from "./transforms";
import { findProject, resolveProgramEntry, tsconfigFor } from "./project";
import { CompileSetupError, registerTypeScript, typeCheckProgram } from "./typescript";
import { secondPulumiCopyProblem } from "./pulumiCopies";
import { dependencyRange } from "../packageInfo";
import { loadStackConfig, normaliseConfig, projectNameNear } from "./stackConfig";
import { CapturedLog, ProgramRun, STACK_TYPE } from "./types";

export interface RunOptions {
    /** Project name; default: from the config file's Pulumi.yaml, else "hardened-build-fleet". */
    project?: string;
    /** Stack name; default: from the config file name, else "test". */
    stack?: string;
    /** Stack config, keys with or without namespace; values may be objects (structured config). */
    config?: Record<string, unknown>;
    /** A `Pulumi.<stack>.yaml`; `config` entries override it. */
    configFile?: string;
    /** Evaluate as a first `pulumi preview` would: computed outputs unknown. Default false. */
    preview?: boolean;
    /** Return the run with `error` set instead of rejecting when the program throws. Default false. */
    allowError?: boolean;
    /** Progress callback, called with the number of resources registered so far. */
    onRegister?: (count: number) => void;
    /**
     * Keep full stack traces while the program runs. Default false: the Pulumi runtime captures a stack
     * for every output, and source-mapping them under ts-node costs about three quarters of a run's
     * CPU; it also captures an unbounded one per resource for a source position the offline monitor
     * never reads, and tags every output promise for a leak report only `pulumi up` makes. Errors
     * still carry their message. Also enabled by HBF_STACK_TRACES=1.
     */
    stackTraces?: boolean;
    /**
     * Type-check a TypeScript program (a path) with its tsconfig before running it, as `pulumi up`
     * does; type errors reject with a TypeCheckError carrying the compiler's messages. Default false
     * here (the `plan` command turns it on).
     */
    typeCheck?: boolean;
    /** The tsconfig to compile a .ts program with; default: the project's, as the Pulumi language host picks it. */
    tsconfig?: string;
    /**
     * Outputs of the stacks the program references (`new pulumi.StackReference(name)`), by stack name.
     * A reference not listed has unknown outputs, as in a first preview.
     */
    stackReferences?: Record<string, Record<string, unknown>>;
}

export type Program = string | (() => unknown);

/** Thrown when a program fails; carries what was registered before the failure. */
export class ProgramError extends Error {
    constructor(readonly cause: unknown, readonly run: ProgramRun) {
        super(`program failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
}

// Internal runtime modules (their typings omit the @internal functions used here): see sdk.ts.
const settings = runtimeSettings;
const state = runtimeState;

let queue: Promise<unknown> = Promise.resolve();
const loadedPrograms = new Set<string>();

/**
 * Runs `program` (a function, or a path to a .ts/.js Pulumi program or a directory holding one) and
 * returns its graph.
 */
export function runProgram(program: Program, opts: RunOptions = {}): Promise<ProgramRun> {
    const next = queue.then(() => runExclusive(program, opts));
    queue = next.catch(() => undefined);
    return next;
}

function resolveConfig(opts: RunOptions, programProject: string | undefined): { project: string; stack: string; values: Record<string, string>; secretKeys: string[] } {
    // The project is the one beside the stack config, else the program's (config in another directory).
    const projectName = opts.project ?? (opts.configFile ? projectNameNear(opts.configFile) : undefined) ?? programProject;
    const fromFile = opts.configFile ? loadStackConfig(opts.configFile, projectName) : undefined;
    const project = projectName ?? fromFile?.project ?? "hardened-build-fleet";
    const stack = opts.stack ?? fromFile?.stack ?? "test";
    const extra = normaliseConfig(project, opts.config ?? {});
    return {
        project,
        stack,
        values: { ...(fromFile?.values ?? {}), ...extra.values },
        secretKeys: [...(fromFile?.secretKeys ?? []), ...extra.secretKeys],
    };
}

/** The entry file of a program path (a file or a directory), its tsconfig, and a type check if asked. */
function prepareProgram(program: string, opts: RunOptions): string {
    const entry = resolveProgramEntry(program);
    if (!entry) {
        throw new Error(`program ${program} not found: no such file, and no index.ts/index.js or package.json main in it`);
    }
    const second = secondPulumiCopyProblem(path.dirname(entry), dependencyRange("@pulumi/pulumi") ?? "^3");
    if (second !== undefined) {
        throw new CompileSetupError(`${entry}: ${second}`);
    }
    const tsconfig = opts.tsconfig ?? tsconfigFor(entry, findProject(path.dirname(entry)));
    if (opts.typeCheck) {
        typeCheckProgram(entry, tsconfig);
    }
    registerTypeScript(entry, tsconfig);
    return entry;
}

/** Loads a program module the way the Pulumi Node.js host does: call an exported function, else use the exports. */
async function loadProgram(resolved: string): Promise<unknown> {
    // A module caches its side effects: forget earlier loads so each run registers afresh.
    for (const p of loadedPrograms) {
        delete require.cache[p];
    }
    const before = new Set(Object.keys(require.cache));
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        let exported = require(resolved);
        if (exported && exported.__esModule && typeof exported.default === "function") {
            exported = exported.default;
        }
        return typeof exported === "function" ? await exported() : exported;
    } finally {
        for (const p of Object.keys(require.cache)) {
            if (!before.has(p) && !p.includes(`${path.sep}node_modules${path.sep}`)) {
                loadedPrograms.add(p);
            }
        }
        loadedPrograms.add(resolved);
    }
}

const LOG_PREFIX = /^(debug|info|warning|error): \[runtime\] ([\s\S]*)$/;

async function runExclusive(program: Program, opts: RunOptions): Promise<ProgramRun> {
    // Compile problems (missing file, type errors) reject before anything runs or registers.
    const entry = typeof program === "string" ? prepareProgram(program, opts) : undefined;
    const cfg = resolveConfig(opts, entry ? findProject(path.dirname(entry))?.name : undefined);
    const preview = opts.preview ?? false;
    // The program's transforms run in process, as the engine's callback server would run them.
    const callbacks = new OfflineCallbacks();
    const monitor = new GraphMonitor({ project: cfg.project, stack: cfg.stack, preview, config: cfg.values, onRegister: opts.onRegister, callbacks, stackReferences: opts.stackReferences });

    settings.setMockOptions(monitor as any, cfg.project, cfg.stack, preview);
    const store = state.getStore();
    // The same feature set `setMocks` announces: secrets and resource references travel on the wire.
    store.supportsSecrets = true;
    store.supportsResourceReferences = true;
    store.supportsOutputValues = false;
    store.supportsDeletedWith = true;
    store.supportsAliasSpecs = true;
    store.supportsTransforms = true;
    store.supportsInvokeTransforms = true;
    store.callbacks = callbacks;
    pulumiRuntime.setAllConfig(cfg.values, cfg.secretKeys);

    // Without an engine, pulumi.log writes "<severity>: [runtime] msg" to the console: capture it.
    const logs: CapturedLog[] = [];
    const original = { log: console.log, warn: console.warn, error: console.error };
    const capture = (fallback: (...a: any[]) => void) => (...args: any[]) => {
        const m = typeof args[0] === "string" && args.length === 1 ? LOG_PREFIX.exec(args[0]) : null;
        if (m) {
            logs.push({ severity: m[1] as CapturedLog["severity"], message: m[2] });
        } else {
            fallback.apply(console, args);
        }
    };
    console.log = capture(original.log);
    console.warn = capture(original.warn);
    console.error = capture(original.error);
    const errorClass = Error as unknown as { prepareStackTrace?: unknown; stackTraceLimit: number };
    const savedTraces = {
        prepare: errorClass.prepareStackTrace,
        limit: errorClass.stackTraceLimit,
        callsites: resourceClass.callsites,
        debuggable: runtimeDebuggable.debuggablePromise,
    };
    if (!(opts.stackTraces ?? process.env.HBF_STACK_TRACES === "1")) {
        errorClass.prepareStackTrace = undefined;
        errorClass.stackTraceLimit = 0;
        // Source positions of resources: a full stack each, sent to a monitor that ignores them.
        resourceClass.callsites = () => [];
        // Leak bookkeeping for `pulumi up`'s exit report: no engine here, and no such exit.
        runtimeDebuggable.debuggablePromise = (p) => p;
    }
    // Registration failures surface as rejected output promises nobody awaits.
    const stray: unknown[] = [];
    const onRejection = (reason: unknown) => stray.push(reason);
    process.on("unhandledRejection", onRejection);

    let outputs: Record<string, any> = {};
    let error: unknown;
    try {
        const init = typeof program === "function" ? program : () => loadProgram(entry!);
        await pulumiRuntime.runInPulumiStack(async () => (await init()) as any);
    } catch (err) {
        error = err;
    } finally {
        try {
            await settings.waitForRPCs();
        } catch (err) {
            error = error ?? err;
        }
        // Let rejected registration promises reach the handler before it is removed.
        await new Promise((resolve) => setImmediate(resolve));
        process.off("unhandledRejection", onRejection);
        Object.assign(console, original);
        errorClass.prepareStackTrace = savedTraces.prepare;
        errorClass.stackTraceLimit = savedTraces.limit;
        resourceClass.callsites = savedTraces.callsites;
        runtimeDebuggable.debuggablePromise = savedTraces.debuggable;
    }
    // Stack outputs as the engine records them: the stack resource's registered outputs, where
    // values unknown in a preview stay UNKNOWN instead of hiding the whole object.
    const stackResource = monitor.captured.find((r) => r.type === STACK_TYPE);
    outputs = stackResource?.outputs ?? {};
    if (error === undefined && stray.length > 0) {
        error = stray[0];
    }
    if (error === undefined && logs.some((l) => l.severity === "error")) {
        error = new Error(logs.filter((l) => l.severity === "error").map((l) => l.message).join("\n"));
    }

    const run: ProgramRun = {
        project: cfg.project,
        stack: cfg.stack,
        preview,
        resources: monitor.captured,
        byUrn: monitor.byUrn,
        outputs,
        invokes: monitor.invokes,
        logs,
        error,
    };
    if (error !== undefined && !opts.allowError) {
        throw new ProgramError(error, run);
    }
    return run;
}
