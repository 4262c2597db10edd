/**
 * Evaluates a CrossGuard policy pack over a captured graph with the analyzer's own code.
 *
 * The RPC handlers of @pulumi/policy's analyzer server are called directly with the requests the
 * Pulumi engine would send (as plain objects with the protobuf getters the handlers read): `analyze` once per resource with its (checked) inputs, `analyzeStack`
 * once with every resource's outputs, parent, dependencies and property dependencies. Reading an
 * unknown value, `notApplicable`, enforcement-level handling and message formatting are therefore
 * the real analyzer's. Pack config is resolved as the CLI resolves `--policy-pack-config`: schema
 * defaults, then the file's values, validated against each policy's JSON schema.
 */
import Ajv, { ValidateFunction } from "ajv";
import { get as levenshtein } from "fast-levenshtein";
import type { Policy, PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy/policy"; // not the index: see policies/meta.ts
import { CapturedResource, EnforcementLevel, Evaluation, NotApplicable, ProgramRun, Violation, providerUrnOf, STACK_TYPE } from "./types";
import { stripUndefined } from "./wire";

import { appliesTo, beginStackEvaluation } from "../../policies/contract";
import { policyServer as server } from "./sdk";
import { SharingScope, withSharedProps } from "./sharedProps";

export interface EvaluateOptions {
    /** The parsed `--policy-pack-config` JSON: `{ all?: level | {...}, "<policy>": level | { enforcementLevel?, ...props } }`. */
    policyConfig?: Record<string, unknown>;
    /** The pack's default enforcement level (PolicyPack `enforcementLevel`); default "advisory". */
    packEnforcementLevel?: EnforcementLevel;
    /** Stack tags visible to policies. Default none. */
    stackTags?: Record<string, string>;
    packName?: string;
    packVersion?: string;
    /**
     * Default true: every policy reads one copy of each resource's properties and one linked stack
     * array (a pack that writes to them is evaluated again with private copies), and a validation
     * that declares the types it applies to (policies/contract/appliesTo.ts) is not called for others.
     * The result is the same, for a fraction of the work. False: the analyzer's own per-policy work
     * throughout, exactly as under the Pulumi CLI.
     */
    shortcuts?: boolean;
    /** Called after each policy phase with counts (progress reporting). */
    onProgress?: (done: number, total: number) => void;
}

export class PolicyConfigError extends Error {
    /** The warnings found alongside the problems (see resolvePolicyConfigs). */
    warnings: string[] = [];
    constructor(readonly problems: string[]) {
        super(`invalid policy pack config:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
}

const LEVELS: EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];
const LEVEL_FROM_PROTO: Record<number, Violation["enforcementLevel"]> = { 0: "advisory", 1: "mandatory", 3: "remediate" };

export interface ResolvedPolicyConfig {
    enforcementLevel: EnforcementLevel;
    properties: Record<string, unknown>;
}

function closest(name: string, candidates: string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const c of candidates) {
        const d = levenshtein(name, c);
        if (d < bestDistance) {
            best = c;
            bestDistance = d;
        }
    }
    return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

// One validator per config schema, compiled once per process (compiling costs more than evaluating).
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const compiled = new WeakMap<object, ValidateFunction>();
function compiledSchema(configSchema: object): ValidateFunction {
    let validate = compiled.get(configSchema);
    if (!validate) {
        validate = ajv.compile({ type: "object", ...configSchema });
        compiled.set(configSchema, validate);
    }
    return validate;
}

/**
 * Top-level keys of a policy config file that are not policy names: `all`, and `environments`
 * (Pulumi ESC environments the CLI opens to merge their `policyConfig`).
 */
const RESERVED_KEYS = ["all", "environments"];

export interface ResolvedPolicyConfigs {
    byPolicy: Map<string, ResolvedPolicyConfig>;
    /** What the Pulumi CLI accepts but is probably a mistake: unknown policy names and properties. */
    warnings: string[];
}

/**
 * Resolves each policy's enforcement level and config properties as the Pulumi CLI does: schema
 * defaults, then the file's values, validated against each policy's schema. Like the CLI it keeps
 * going past unknown policy names (warnings, not errors); unknown properties of a policy are
 * warnings too, since a misspelled property would otherwise fall back to its default unnoticed.
 * Invalid levels and values that fail a policy's schema throw PolicyConfigError, listing all of them.
 */
export function resolvePolicyConfigs(policies: Policy[], opts: EvaluateOptions = {}): ResolvedPolicyConfigs {
    const raw = opts.policyConfig ?? {};
    const problems: string[] = [];
    const warnings: string[] = [];
    const names = policies.map((p) => p.name);

    const levelOf = (key: string, value: unknown): EnforcementLevel | undefined => {
        const level = typeof value === "string" ? value : (value as any)?.enforcementLevel;
        if (level === undefined) {
            return undefined;
        }
        if (!LEVELS.includes(level)) {
            problems.push(`${key}: enforcement level ${JSON.stringify(level)} is not one of ${LEVELS.join(", ")}`);
            return undefined;
        }
        return level;
    };

    for (const key of Object.keys(raw)) {
        if (!RESERVED_KEYS.includes(key) && !names.includes(key)) {
            const hint = closest(key, names);
            warnings.push(`${key}: no policy of that name in the pack${hint ? ` (did you mean "${hint}"?)` : ""}; its settings are ignored`);
        }
    }
    if (raw.environments !== undefined) {
        const envs = Array.isArray(raw.environments) ? raw.environments.map(String) : [String(raw.environments)];
        warnings.push(`environments: ${envs.join(", ")}: Pulumi ESC environments cannot be opened offline; their policyConfig values are not applied`);
    }
    const allLevel = levelOf("all", raw.all);

    const byPolicy = new Map<string, ResolvedPolicyConfig>();
    for (const p of policies) {
        const entry = raw[p.name];
        const level = levelOf(p.name, entry) ?? allLevel ?? p.enforcementLevel ?? opts.packEnforcementLevel ?? "advisory";
        const properties: Record<string, unknown> = {};
        if (entry !== null && typeof entry === "object") {
            for (const [k, v] of Object.entries(entry)) {
                if (k !== "enforcementLevel") {
                    properties[k] = v;
                }
            }
        }
        const known = Object.keys(p.configSchema?.properties ?? {});
        for (const k of Object.keys(properties)) {
            if (!known.includes(k)) {
                const hint = closest(k, known);
                warnings.push(`${p.name}.${k}: not a property of this policy${known.length > 0 ? ` (${hint ? `did you mean "${hint}"? ` : ""}it takes ${known.join(", ")})` : " (it takes no configuration)"}; ignored`);
            }
        }
        if (p.configSchema) {
            const validate = compiledSchema(p.configSchema);
            if (!validate(properties)) {
                for (const e of validate.errors ?? []) {
                    problems.push(`${p.name}${e.instancePath.replace(/\//g, ".")}: ${e.message}${e.params && (e.params as any).additionalProperty ? ` (${(e.params as any).additionalProperty})` : ""}`);
                }
            }
        }
        byPolicy.set(p.name, { enforcementLevel: level, properties });
    }
    if (problems.length > 0) {
        const error = new PolicyConfigError(problems);
        error.warnings = warnings;
        throw error;
    }
    return { byPolicy, warnings };
}

/** Each policy's resolved level and properties (see resolvePolicyConfigs for the warnings). */
export function resolvePolicyConfig(policies: Policy[], opts: EvaluateOptions = {}): Map<string, ResolvedPolicyConfig> {
    return resolvePolicyConfigs(policies, opts).byPolicy;
}

function freezeTags(tags: Record<string, string>): ReadonlyMap<string, string> {
    return Object.freeze(new Map(Object.entries(tags)));
}

/** The linked resources array every stack policy of one shared pass reads (sharedProps.ts). */
interface StackShare {
    resources?: PolicyResource[];
}

/**
 * A copy of the policy whose level is resolved and whose validations see our config and tags, and
 * in a shared pass the shared resources array instead of the one the analyzer built for it.
 */
function bindPolicy(p: Policy, cfg: ResolvedPolicyConfig, stackTags: ReadonlyMap<string, string>, share: StackShare): Policy {
    const bind = <A extends ResourceValidationArgs | StackValidationArgs>(fn: (args: A, report: any) => any) => {
        const wrapped = (args: A, report: any) => {
            const resources = "resources" in args ? { resources: share.resources ?? args.resources } : {};
            return fn({ ...args, ...resources, getConfig: () => ({ ...cfg.properties }), stackTags } as A, report);
        };
        // Keep the type marker the analyzer uses for its not-applicable fast path.
        (wrapped as any).__pulumiType = (fn as any).__pulumiType;
        return wrapped;
    };
    const copy: any = { ...p, enforcementLevel: cfg.enforcementLevel };
    if ("validateResource" in p && p.validateResource) {
        copy.validateResource = Array.isArray(p.validateResource) ? p.validateResource.map(bind) : bind(p.validateResource as any);
    }
    if ("validateStack" in p && p.validateStack) {
        copy.validateStack = bind(p.validateStack as any);
    }
    return copy;
}

/*
 * Request messages in the shape the analyzer handlers read them (the generated protobuf getters).
 * The handlers only ever call `getProperties().toJavaScript()`, so handing them the wire-form
 * object directly skips a protobuf Struct round trip per resource (half the evaluation time at
 * 100 pools) without changing what any policy sees.
 */
const stripped = new WeakMap<object, Record<string, any>>();
function properties(v: Record<string, any>): { toJavaScript(): Record<string, any> } {
    // The analyzer deep-copies what it reads (deserializeProperties), so one stripped copy per
    // resource serves every policy.
    let plain = stripped.get(v);
    if (!plain) {
        plain = stripUndefined(v) as Record<string, any>;
        stripped.set(v, plain);
    }
    return { toJavaScript: () => plain };
}

/**
 * A request's resource options. Like a protobuf message's repeated fields, each list is one array
 * per request, which every policy of that call reads (the analyzer passes it on as is); a new
 * request (the next evaluation) gets new arrays, so no policy changes the captured run.
 */
function options(r: CapturedResource): any {
    const ignoreChanges = [...r.ignoreChanges];
    const aliases = [...r.aliases];
    const additionalSecretOutputs = [...r.additionalSecretOutputs];
    return {
        getProtect: () => r.protect,
        getIgnorechangesList: () => ignoreChanges,
        getAliasesList: () => aliases,
        getCustomtimeouts: () => undefined,
        getAdditionalsecretoutputsList: () => additionalSecretOutputs,
        getDeletebeforereplace: () => r.deleteBeforeReplace,
        getDeletebeforereplacedefined: () => r.deleteBeforeReplace,
        getParent: () => r.parent ?? "",
    };
}

function providerOf(r: CapturedResource, run: ProgramRun, useOutputs: boolean): any {
    if (!r.provider) {
        return undefined;
    }
    const p = run.byUrn.get(providerUrnOf(r.provider)!);
    if (!p) {
        return undefined;
    }
    return {
        getType: () => p.type,
        getName: () => p.name,
        getUrn: () => p.urn,
        getProperties: () => properties(useOutputs ? p.wireOutputs : p.wireInputs),
    };
}

/**
 * An `AnalyzeRequest`: one resource with its checked inputs (`useOutputs` false), or the resource
 * part of an `AnalyzerResource` with its outputs. Built once; the analyzer reads it once per policy.
 */
function analyzeRequest(r: CapturedResource, run: ProgramRun, useOutputs = false): any {
    const props = properties(useOutputs ? r.wireOutputs : r.wireInputs);
    const opts = options(r);
    const provider = providerOf(r, run, useOutputs);
    return {
        getType: () => r.type,
        getName: () => r.name,
        getUrn: () => r.urn,
        getProperties: () => props,
        getOptions: () => opts,
        getProvider: () => provider,
    };
}

/** An `AnalyzerResource` of an `AnalyzeStackRequest`: outputs plus the graph links. */
function stackResource(r: CapturedResource, run: ProgramRun): any {
    // As the engine sends them (analyzer_plugin.go, AnalyzeStack): "Skip properties that have no dependencies."
    const deps = new Map(Object.entries(r.propertyDependencies).filter(([, urns]) => urns.length > 0).map(([k, urns]) => [k, { getUrnsList: () => urns }]));
    return {
        ...analyzeRequest(r, run, true),
        getParent: () => r.parent ?? "",
        getDependenciesList: () => r.dependencies,
        getPropertydependenciesMap: () => deps,
    };
}

function call(fn: any, request: any): Promise<any> {
    return new Promise((resolve, reject) => {
        fn({ request }, (err: any, resp: any) => (err ? reject(err) : resolve(resp)));
    });
}

function collect(resp: any, defaultUrn: string | undefined, out: Evaluation): void {
    for (const d of resp.getDiagnosticsList()) {
        out.violations.push({
            policy: d.getPolicyname(),
            enforcementLevel: LEVEL_FROM_PROTO[d.getEnforcementlevel()] ?? "advisory",
            message: d.getMessage(),
            urn: d.getUrn() || defaultUrn,
        });
    }
    for (const na of resp.getNotApplicableList?.() ?? []) {
        const entry: NotApplicable = { policy: na.getPolicyName(), reason: na.getReason() };
        if (defaultUrn) {
            entry.urn = defaultUrn;
        }
        out.notApplicable.push(entry);
    }
}

/** Evaluates `policies` over `run` and returns violations as the CrossGuard analyzer reports them. */
export async function evaluatePolicies(run: ProgramRun, policies: Policy[], opts: EvaluateOptions = {}): Promise<Evaluation> {
    const { byPolicy: config, warnings } = resolvePolicyConfigs(policies, opts);
    const tags = freezeTags(opts.stackTags ?? {});
    const share: StackShare = {};
    const bound = policies.map((p) => bindPolicy(p, config.get(p.name)!, tags, share));
    const pack = { name: opts.packName ?? "hardened-build-fleet", version: opts.packVersion ?? "0.0.0" };
    const packLevel = opts.packEnforcementLevel ?? "advisory";
    const shortcuts = opts.shortcuts !== false;
    const ctx: Pass = {
        run,
        pack,
        share,
        stackPolicies: bound.filter((p) => "validateStack" in p && p.validateStack && p.enforcementLevel !== "disabled").length,
        warnings,
        opts,
        analyzeFor: analyzeHandlers(policies, bound, shortcuts, (subset) => server.makeAnalyzeRpcFun(pack.name, pack.version, packLevel, subset)),
        analyzeStack: server.makeAnalyzeStackRpcFun(pack.name, pack.version, packLevel, bound),
    };
    if (!shortcuts) {
        return { ...(await analyzeAll(ctx)), shortcuts: "off" };
    }
    let written = false;
    try {
        const shared = await withSharedProps(async (scope) => {
            try {
                return await analyzeAll(ctx, scope);
            } finally {
                written = scope.written();
            }
        });
        if (!written) {
            return { ...shared, shortcuts: "shared" };
        }
    } catch (err) {
        if (!written) {
            throw err;
        }
    }
    // A policy wrote to what it was given: each must read its own copy, as under the CLI.
    return { ...(await analyzeAll(ctx)), shortcuts: "repeated" };
}

type Handler = (call: unknown, callback: (err: unknown, resp: unknown) => void) => unknown;

interface Pass {
    run: ProgramRun;
    pack: { name: string; version: string };
    share: StackShare;
    /** Stack policies the analyzer will run (not disabled). */
    stackPolicies: number;
    warnings: string[];
    opts: EvaluateOptions;
    /** The `analyze` handler for resources of one type. */
    analyzeFor: (type: string) => TypeHandler;
    analyzeStack: Handler;
}

/** The analyzer's `analyze` handler for one resource type, and whether it runs no validation at all there. */
interface TypeHandler {
    handler: Handler;
    /**
     * Every policy it holds is disabled, not a resource policy, or tied to another single type (the
     * analyzer's fast path): its answer is the same not-applicable list for every resource of the type.
     */
    inert: boolean;
}

/**
 * One analyzer `analyze` handler per resource type, over the policies that can report on that type:
 * a validation that declares the types it applies to (policies/contract/appliesTo.ts) and does not
 * name one type for the analyzer's own fast path is left out for the others, where calling it
 * would report nothing. Every other policy stays, in pack order.
 */
function analyzeHandlers(policies: Policy[], bound: Policy[], skip: boolean, make: (subset: Policy[]) => Handler): (type: string) => TypeHandler {
    const declared = policies.map((p) => {
        const v = skip && "validateResource" in p ? p.validateResource : undefined;
        return v && !Array.isArray(v) && (v as { __pulumiType?: string }).__pulumiType === undefined ? appliesTo(v) : undefined;
    });
    const runsOn = (p: Policy, type: string): boolean => {
        const v = (p as { validateResource?: unknown }).validateResource;
        if (p.enforcementLevel === "disabled" || (v === undefined && !("remediateResource" in p))) {
            return false;
        }
        const only = typeof v === "function" ? (v as { __pulumiType?: unknown }).__pulumiType : undefined;
        return !(typeof only === "string" && only !== "" && only !== type);
    };
    const byType = new Map<string, TypeHandler>();
    const bySubset = new Map<string, Handler>();
    return (type) => {
        let th = byType.get(type);
        if (!th) {
            const keep = bound.map((_, i) => declared[i] === undefined || declared[i]!(type));
            const key = keep.map((k) => (k ? "1" : "0")).join("");
            let handler = bySubset.get(key);
            const subset = bound.filter((_, i) => keep[i]);
            if (!handler) {
                handler = make(subset);
                bySubset.set(key, handler);
            }
            th = { handler, inert: skip && !subset.some((p) => runsOn(p, type)) };
            byType.set(type, th);
        }
        return th;
    };
}

/**
 * The request list of a shared stack pass: the analyzer's not-applicable check by type (`some`)
 * sees every resource, its per-policy array building (`for...of`) none, since the bound policies
 * read the shared array instead. test/plan/engine/sdk.test.ts pins that the handler reads it so.
 */
class TypesOnly extends Array<{ getType(): string }> {
    [Symbol.iterator]() {
        return ([] as { getType(): string }[])[Symbol.iterator]();
    }
}

/** The analyzer's own linked resources array for `request` (built by a one-policy pass). */
async function linkedResources(ctx: Pass, request: unknown): Promise<PolicyResource[] | undefined> {
    let linked: PolicyResource[] | undefined;
    const capture = { name: "engine-linked-resources", description: "", enforcementLevel: "mandatory", validateStack: (args: StackValidationArgs) => void (linked = args.resources) };
    try {
        await call(server.makeAnalyzeStackRpcFun(ctx.pack.name, ctx.pack.version, "mandatory", [capture]), request);
    } catch {
        // The per-policy pass reports the same failure in the analyzer's words.
        return undefined;
    }
    return linked;
}

/** The engine's calls: `analyze` for every resource but the root stack, then one `analyzeStack`. */
async function analyzeAll(ctx: Pass, sharing?: SharingScope): Promise<Evaluation> {
    const { run, opts } = ctx;
    const result: Evaluation = { violations: [], notApplicable: [], warnings: [...ctx.warnings] };
    const analyzed = run.resources.filter((r) => r.type !== STACK_TYPE);
    const total = analyzed.length + 1;
    let done = 0;
    // The analyzer's own answer for the first resource of an inert type, reused for the others.
    const inertAnswers = new Map<string, NotApplicable[]>();
    for (const r of analyzed) {
        const { handler, inert } = ctx.analyzeFor(r.type);
        const known = inert ? inertAnswers.get(r.type) : undefined;
        if (known) {
            for (const na of known) {
                result.notApplicable.push({ ...na, urn: r.urn });
            }
        } else {
            const answer: Evaluation = { violations: [], notApplicable: [] };
            collect(await call(handler, analyzeRequest(r, run)), r.urn, answer);
            if (inert && answer.violations.length === 0) {
                inertAnswers.set(r.type, answer.notApplicable.map(({ policy, reason }) => ({ policy, reason })));
            }
            result.violations.push(...answer.violations);
            result.notApplicable.push(...answer.notApplicable);
        }
        opts.onProgress?.(++done, total);
    }

    let stackReq: { getResourcesList(): unknown[] } = { getResourcesList: () => run.resources.map((r) => stackResource(r, run)) };
    // One array for several stack policies; a single one gets the analyzer's own, nothing to share.
    if (sharing && ctx.stackPolicies > 1) {
        const linked = await linkedResources(ctx, stackReq);
        if (linked && !sharing.unshareable) {
            ctx.share.resources = linked;
            sharing.record(linked);
            const types = new TypesOnly();
            for (const r of run.resources) {
                types.push({ getType: () => r.type });
            }
            stackReq = { getResourcesList: () => types };
        }
    }
    // Every stack policy of this one call sees the same stack: the pack may share its model among them.
    const stackEvaluation = beginStackEvaluation();
    try {
        collect(await call(ctx.analyzeStack, stackReq), undefined, result);
    } finally {
        stackEvaluation.end();
        ctx.share.resources = undefined;
    }
    opts.onProgress?.(++done, total);
    return result;
}
