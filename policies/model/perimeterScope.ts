/**
 * The small, self-contained view of a stack the perimeter and guardrail rules need: which projects
 * hold the signer and the runners, how project ids map to the numbers perimeters use, and each
 * service perimeter's enforced and dry-run configuration (wherever its members and rules are
 * declared). Which resource is a runner, the signer or the control plane, and which project it is
 * in, comes from the shared stack model; perimeters are read from raw properties.
 */
import { PolicyResource, ReportViolation, StackValidation, StackValidationArgs } from "@pulumi/policy/policy";
import { get, reportAdvisory, UNDECIDED_PREFIX, unknown, UNKNOWN_VALUE, unwrap } from "./props";
import { fleetGraph, str } from ".";
export { listText } from "../framework/stackRule";

export const PT = {
    perimeter: "gcp:accesscontextmanager/servicePerimeter:ServicePerimeter",
    perimeters: "gcp:accesscontextmanager/servicePerimeters:ServicePerimeters",
    perimeterResource: "gcp:accesscontextmanager/servicePerimeterResource:ServicePerimeterResource",
    perimeterDryRunResource: "gcp:accesscontextmanager/servicePerimeterDryRunResource:ServicePerimeterDryRunResource",
    ingressPolicy: "gcp:accesscontextmanager/servicePerimeterIngressPolicy:ServicePerimeterIngressPolicy",
    egressPolicy: "gcp:accesscontextmanager/servicePerimeterEgressPolicy:ServicePerimeterEgressPolicy",
    dryRunIngressPolicy: "gcp:accesscontextmanager/servicePerimeterDryRunIngressPolicy:ServicePerimeterDryRunIngressPolicy",
    dryRunEgressPolicy: "gcp:accesscontextmanager/servicePerimeterDryRunEgressPolicy:ServicePerimeterDryRunEgressPolicy",
    orgPolicy: "gcp:orgpolicy/policy:Policy",
    project: "gcp:organizations/project:Project",
    cryptoKey: "gcp:kms/cryptoKey:CryptoKey",
} as const;

export const UNDECIDED = UNDECIDED_PREFIX;
/** Reports a finding; `advisory` forces the advisory level (dry run, declared external). */
export type Report = (message: string, urn?: string, advisory?: boolean) => void;

/** The trust zones a project can hold (a project may hold several). */
export type FleetZone = "runner" | "signer" | "control-plane";

/** A fleet project and the resource a finding about it names. */
export interface ScopedProject {
    id: string;
    zones: Set<FleetZone>;
    /** The resource a finding about the project names: a signer key if any, else the smallest URN in scope. */
    anchor: PolicyResource;
}

export interface Scope {
    projects: Map<string, ScopedProject>;
    /** Resources whose project is unknown during a preview. */
    undecided: PolicyResource[];
    /** Resources whose project cannot be told at all (no project input, none on the provider): never a pass. */
    projectless: PolicyResource[];
    /** Signer keys found (the signer-perimeter rule applies only when there are some). */
    signerKeys: PolicyResource[];
}

const scopes = new WeakMap<object, Scope>();

/**
 * The signer, runner and control-plane projects of the stack, from the shared model: its signer
 * keys and signer services, every compute kind it classifies as a runner (labels never override
 * what the graph proves), and the control plane's non-runner compute.
 */
export function fleetScope(resources: PolicyResource[]): Scope {
    const g = fleetGraph(resources);
    const cached = scopes.get(g);
    if (cached) {
        return cached;
    }
    const projects = new Map<string, ScopedProject>();
    const undecided: PolicyResource[] = [];
    const projectless: PolicyResource[] = [];
    const add = (p: string | typeof UNKNOWN_VALUE | undefined, zone: FleetZone, r: PolicyResource) => {
        if (p === UNKNOWN_VALUE) {
            undecided.push(r);
        } else if (p === undefined) {
            projectless.push(r);
        } else {
            const sp = projects.get(p) ?? { id: p, zones: new Set(), anchor: r };
            sp.zones.add(zone);
            // A stable anchor whatever the registration order: a signer key first, then the smallest URN.
            const rank = (x: PolicyResource) => (x.type === PT.cryptoKey ? "0" : "1") + x.urn;
            if (rank(r) < rank(sp.anchor)) {
                sp.anchor = r;
            }
            projects.set(p, sp);
        }
    };
    for (const k of g.signerKeys) {
        // A ring the model cannot place is unknown only while its reference is; else the key's own project, if any.
        const p = g.keyProject(k);
        add(p !== UNKNOWN_VALUE ? p : unknown(get(k.props, "keyRing")) ? UNKNOWN_VALUE : g.projectOf(k), "signer", k);
    }
    for (const n of g.compute) {
        if (n.isRunner) {
            add(g.projectOf(n.res), "runner", n.res);
        } else if (n.role === "signer") {
            add(g.projectOf(n.res), "signer", n.res);
        } else if (n.role === "control-plane") {
            // Control-plane identities can ask the signer to sign (guardrails: no keys there).
            add(g.projectOf(n.res), "control-plane", n.res);
        }
    }
    const scope = { projects, undecided, projectless, signerKeys: [...g.signerKeys] };
    scopes.set(g, scope);
    return scope;
}

/** Project id -> the numbers it is known by (stack Project resources, then pack config). */
export function projectNumbers(resources: PolicyResource[], declared: Record<string, unknown> | undefined): Map<string, Set<string>> {
    const numbers = new Map<string, Set<string>>();
    const note = (id: string | undefined, n: unknown) => {
        const num = typeof n === "number" ? String(n) : str(n);
        if (id && num && /^[0-9]+$/.test(num)) {
            const set = numbers.get(id) ?? new Set<string>();
            set.add(num);
            numbers.set(id, set);
        }
    };
    for (const r of resources.filter((x) => x.type === PT.project)) {
        note(str(get(r.props, "projectId")), get(r.props, "number"));
    }
    for (const [id, n] of Object.entries(declared ?? {})) {
        note(id, n);
    }
    return numbers;
}

/** Pack-config schema of `projectNumbers` (id -> number), shared by the rules that match projects by number. */
export function projectNumbersSchema(why: string): { type: "object"; additionalProperties: { type: "string"; pattern: string }; default: Record<string, string>; description: string } {
    return { type: "object", additionalProperties: { type: "string", pattern: "^[0-9]+$" }, default: {}, description: `Project numbers by project id: ${why}.` };
}

/** Number-or-id member strings (`projects/<x>`) that name project `id`. */
export function memberNames(id: string, numbers: Map<string, Set<string>>): Set<string> {
    return new Set([`projects/${id}`, ...[...(numbers.get(id) ?? [])].map((n) => `projects/${n}`)]);
}

/** One perimeter configuration (enforced `status` or dry-run `spec`), merged from every place it is declared. */
export interface PerimeterConfig {
    /** `projects/<n>` and network members; "unknown" when a member is unknown during a preview. */
    resources: string[] | "unknown";
    /** Members a Project resource supplies through a property dependency (known before its number). */
    resourceProjects: Set<string>;
    restrictedServices: string[] | "unknown";
    ingress: any[];
    egress: any[];
    /** Inline members were declared (as opposed to only by ServicePerimeterResource). */
    inlineMembers: boolean;
    /** Resources adding members from outside the perimeter. */
    externalMembers: PolicyResource[];
    /** Resources adding ingress/egress rules from outside the perimeter. */
    externalRules: PolicyResource[];
}

export interface Perimeter {
    resource: PolicyResource;
    /** The perimeter's full name, when known. */
    name?: string;
    /** Label for messages. */
    label: string;
    bridge: boolean;
    enforced?: PerimeterConfig;
    dryRun?: PerimeterConfig;
    /** The raw enforced (`status`) object, for fields the merged config does not carry. */
    rawEnforced?: unknown;
}

function configOf(raw: unknown, r: PolicyResource, prop: string): PerimeterConfig | undefined {
    if (raw === undefined || raw === null) {
        return undefined;
    }
    const members = get(raw, "resources");
    const services = get(raw, "restrictedServices");
    const deps = (r.propertyDependencies?.[prop] ?? []).filter((d) => d.type === PT.project);
    const list = (v: unknown): string[] | "unknown" => unknown(v) ? "unknown"
        : Array.isArray(v) ? (v.some((x) => unknown(x)) ? "unknown" : v.filter((x): x is string => typeof x === "string")) : [];
    const ingress = get(raw, "ingressPolicies");
    const egress = get(raw, "egressPolicies");
    return {
        resources: list(members),
        resourceProjects: new Set(deps.map((d) => str(get(d.props, "projectId"))).filter((x): x is string => x !== undefined)),
        restrictedServices: list(services),
        ingress: Array.isArray(ingress) ? [...ingress] : [],
        egress: Array.isArray(egress) ? [...egress] : [],
        inlineMembers: Array.isArray(members) ? members.length > 0 : members !== undefined,
        externalMembers: [],
        externalRules: [],
    };
}

function emptyConfig(): PerimeterConfig {
    return { resources: [], resourceProjects: new Set(), restrictedServices: [], ingress: [], egress: [], inlineMembers: false, externalMembers: [], externalRules: [] };
}

/** `inList`: one entry of a ServicePerimeters resource, whose property dependencies are recorded for the whole list. */
function perimeterOf(r: PolicyResource, raw: Record<string, any>, label: string, inList: boolean): Perimeter {
    const explicit = get(raw, "useExplicitDryRunSpec") === true;
    const status = configOf(get(raw, "status"), r, inList ? "servicePerimeters" : "status");
    const spec = explicit ? configOf(get(raw, "spec"), r, inList ? "servicePerimeters" : "spec") : undefined;
    return {
        resource: r,
        name: str(get(raw, "name")),
        label,
        bridge: get(raw, "perimeterType") === "PERIMETER_TYPE_BRIDGE",
        enforced: status,
        rawEnforced: get(raw, "status"),
        // Without an explicit dry-run spec, the dry-run config is the enforced one.
        dryRun: explicit ? spec : status,
    };
}

/** Every perimeter of the stack, with members and rules declared by separate resources merged in. */
export function perimeters(resources: PolicyResource[]): Perimeter[] {
    const found: Perimeter[] = [];
    for (const r of resources) {
        const raw = unwrap(r.props) ?? {};
        if (r.type === PT.perimeter) {
            found.push(perimeterOf(r, raw, r.name, false));
        } else if (r.type === PT.perimeters) {
            const list = get(raw, "servicePerimeters");
            (Array.isArray(list) ? list : []).forEach((p, i) => found.push(perimeterOf(r, p ?? {}, `${r.name}[${str(get(p, "title")) ?? i}]`, true)));
        }
    }
    const target = (r: PolicyResource, prop: string): Perimeter | undefined => {
        const dep = (r.propertyDependencies?.[prop] ?? []).find((d) => d.type === PT.perimeter);
        const name = str(get(r.props, prop));
        return found.find((p) => (dep && p.resource.urn === dep.urn) || (name !== undefined && p.name === name));
    };
    const attach = (types: string[], prop: string, dryRun: boolean, apply: (c: PerimeterConfig, r: PolicyResource) => void) => {
        for (const r of resources.filter((x) => types.includes(x.type))) {
            const p = target(r, prop);
            if (!p) {
                continue;
            }
            const key = dryRun ? "dryRun" : "enforced";
            p[key] ??= emptyConfig();
            apply(p[key]!, r);
        }
    };
    attach([PT.perimeterResource], "perimeterName", false, (c, r) => {
        const m = get(r.props, "resource");
        if (c.resources !== "unknown") {
            c.resources = unknown(m) ? "unknown" : [...c.resources, ...(typeof m === "string" ? [m] : [])];
        }
        c.externalMembers.push(r);
    });
    attach([PT.perimeterDryRunResource], "perimeterName", true, (c, r) => {
        const m = get(r.props, "resource");
        if (c.resources !== "unknown") {
            c.resources = unknown(m) ? "unknown" : [...c.resources, ...(typeof m === "string" ? [m] : [])];
        }
        c.externalMembers.push(r);
    });
    attach([PT.ingressPolicy], "perimeter", false, (c, r) => { c.ingress.push(unwrap(r.props)); c.externalRules.push(r); });
    attach([PT.egressPolicy], "perimeter", false, (c, r) => { c.egress.push(unwrap(r.props)); c.externalRules.push(r); });
    attach([PT.dryRunIngressPolicy], "perimeter", true, (c, r) => { c.ingress.push(unwrap(r.props)); c.externalRules.push(r); });
    attach([PT.dryRunEgressPolicy], "perimeter", true, (c, r) => { c.egress.push(unwrap(r.props)); c.externalRules.push(r); });
    return found;
}

/**
 * A stack validation over raw resources: findings starting with UNDECIDED become advisories, the
 * same finding is reported once, and a rule that throws reports that it could not decide (fail closed).
 */
export function rawStackCheck(check: (resources: PolicyResource[], report: Report, args: StackValidationArgs) => void): StackValidation {
    return (args: StackValidationArgs, reportViolation: ReportViolation) => {
        const seen = new Set<string>();
        const report: Report = (message, urn, advisory = false) => {
            const key = `${urn ?? ""}\u0000${message}`;
            if (!seen.has(key)) {
                seen.add(key);
                if (advisory || message.startsWith(UNDECIDED)) {
                    reportAdvisory(reportViolation, message, urn);
                } else {
                    reportViolation(message, urn);
                }
            }
        };
        try {
            check(args.resources, report, args);
        } catch (err) {
            report(`cannot decide: the rule failed while reading the stack (${err instanceof Error ? err.message : String(err)}); treat the stack as not proven`);
        }
    };
}
