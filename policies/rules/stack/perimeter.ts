/**
 * VPC Service Controls around the signer (I10).
 *
 * - signer-perimeter: every project holding a signer key is a member of an ENFORCED regular perimeter
 *   that restricts cloudkms.googleapis.com, and no ingress rule of that perimeter admits any identity to
 *   Cloud KMS, or to the signer project's Cloud Run when the perimeter restricts it (the signer's internal
 *   ingress admits what its perimeter admits). A perimeter in dry run only is an advisory; a perimeter declared external in pack config
 *   passes. Stolen signer credentials then fail outside the perimeter.
 * - perimeter-well-formed: the provider pitfalls that silently break a perimeter: members named by
 *   project id (the API wants numbers), duplicate rule titles, and membership or rules declared both
 *   inline and by separate resources, which rewrite each other on every update.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { FleetStackPolicy } from "../../meta";
import { get, unknown as unknownValue } from "../../model/props";
import {
    fleetScope, listText, memberNames, Perimeter, PerimeterConfig, perimeters, projectNumbers, projectNumbersSchema, rawStackCheck, Report, Scope,
    ScopedProject, UNDECIDED,
} from "../../model/perimeterScope";

const KMS = "cloudkms.googleapis.com";
const ANY_IDENTITY = new Set(["ANY_IDENTITY", "ANY_USER_ACCOUNT", "ANY_SERVICE_ACCOUNT"]);
const PROJECT_MEMBER = /^projects\/[0-9]+$/;
const NETWORK_MEMBER = /^\/\/compute\.googleapis\.com\/projects\/[^/]+\/global\/networks\/[^/]+$/;

interface Config {
    externalPerimeter?: boolean;
    projectNumbers?: Record<string, string>;
}

/** "unmatched": the project's number is unknown to the pack and the config has numbered members it could be. */
type Membership = "yes" | "no" | "unknown" | "unmatched";

function membership(c: PerimeterConfig | undefined, names: Set<string>, projectId: string): Membership {
    if (c === undefined) {
        return "no";
    }
    if (c.resourceProjects.has(projectId)) {
        return "yes";
    }
    if (c.resources === "unknown") {
        return "unknown";
    }
    if (c.resources.some((m) => names.has(m))) {
        return "yes";
    }
    return names.size === 1 && c.resources.some((m) => PROJECT_MEMBER.test(m)) ? "unmatched" : "no";
}

function restricts(c: PerimeterConfig, service: string): Membership {
    if (c.restrictedServices === "unknown") {
        return "unknown";
    }
    return c.restrictedServices.includes(service) ? "yes" : "no";
}

/** An ingress (or egress) rule admitting any identity (of a kind) to `service`. */
function isOpenRule(rule: unknown, side: "ingress" | "egress", service: string): boolean {
    const [from, to] = side === "ingress" ? ["ingressFrom", "ingressTo"] : ["egressFrom", "egressTo"];
    const type = get(rule, from, "identityType");
    const ops = get(rule, to, "operations");
    const covers = !Array.isArray(ops) || ops.some((o: unknown) => ["*", service].includes(get(o, "serviceName")));
    return typeof type === "string" && ANY_IDENTITY.has(type) && covers;
}

/** Titles (or `#<position>`) of the rules matching `keep`. */
function titlesOf(rules: unknown[], keep: (rule: unknown) => boolean): string[] {
    return rules.map((rule, i) => ({ rule, i })).filter(({ rule }) => keep(rule)).map(({ rule, i }) => String(get(rule, "title") ?? `#${i + 1}`));
}

/** Titles of the ingress (or egress) rules of `c` that admit any identity (of a kind) to `service`. */
function openRules(rules: unknown[], side: "ingress" | "egress", service: string): string[] {
    return titlesOf(rules, (rule) => isOpenRule(rule, side, service));
}

function openIngress(c: PerimeterConfig, service: string): string[] {
    return openRules(c.ingress, "ingress", service);
}

const RUN = "run.googleapis.com";

/**
 * Titles of the ingress rules of `c` admitting any identity to Cloud Run of the signer project (`names`, or every
 * member with "*"), when `c` restricts Cloud Run. Cloud Run's internal ingress admits what the perimeter admits,
 * so such a rule puts the signer's run.app in reach of every source it names (a public webhook receiver belongs
 * in a control-plane project of its own, where the rule can target that project only).
 */
function openSignerRun(c: PerimeterConfig, names: Set<string>): { open: string[]; undecided: string[] } {
    if (restricts(c, RUN) !== "yes") {
        return { open: [], undecided: [] };
    }
    const targets = (rule: unknown): "yes" | "no" | "unknown" => {
        const resources = get(rule, "ingressTo", "resources");
        if (unknownValue(resources) || (Array.isArray(resources) && resources.some((m: unknown) => unknownValue(m)))) {
            return "unknown";
        }
        // No resources listed: the rule applies to every member.
        return !Array.isArray(resources) || resources.some((m: unknown) => m === "*" || (typeof m === "string" && names.has(m))) ? "yes" : "no";
    };
    return {
        open: titlesOf(c.ingress, (rule) => isOpenRule(rule, "ingress", RUN) && targets(rule) === "yes"),
        undecided: titlesOf(c.ingress, (rule) => isOpenRule(rule, "ingress", RUN) && targets(rule) === "unknown"),
    };
}

/** Where a project stands with respect to the stack's enforced perimeters restricting `service`. */
type Placement =
    | { state: "enforced"; perimeters: Perimeter[] }
    | { state: "notRestricting" | "previewUnknown" | "unmatched"; perimeter: Perimeter }
    | { state: "dryRun"; perimeter: Perimeter; matched: true }
    /** Dry-run perimeters with numbered members the pack cannot match to the project: any of them may hold it. */
    | { state: "dryRunUnmatched"; perimeters: Perimeter[] }
    | { state: "none" };

export function locate(projectId: string, names: Set<string>, regular: Perimeter[], service: string): Placement {
    const enforced = regular.filter((p) => membership(p.enforced, names, projectId) === "yes");
    const restricting = enforced.filter((p) => restricts(p.enforced!, service) === "yes");
    if (restricting.length > 0) {
        return { state: "enforced", perimeters: restricting };
    }
    const notRestricting = enforced.find((p) => restricts(p.enforced!, service) === "no");
    if (notRestricting) {
        return { state: "notRestricting", perimeter: notRestricting };
    }
    // Enforced perimeters that may hold the project and may restrict the service.
    const maybe = (m: Membership) => regular.find((p) => p.enforced !== undefined && membership(p.enforced, names, projectId) === m && restricts(p.enforced, service) !== "no");
    const previewUnknown = maybe("unknown") ?? enforced.find((p) => restricts(p.enforced!, service) === "unknown");
    if (previewUnknown) {
        return { state: "previewUnknown", perimeter: previewUnknown };
    }
    const unmatched = maybe("unmatched");
    if (unmatched) {
        return { state: "unmatched", perimeter: unmatched };
    }
    const dryRun = (m: Membership) => regular.filter((p) => membership(p.dryRun, names, projectId) === m && restricts(p.dryRun!, service) === "yes");
    const matched = dryRun("yes");
    if (matched.length > 0) {
        return { state: "dryRun", perimeter: matched[0], matched: true };
    }
    const candidates = dryRun("unmatched");
    return candidates.length > 0 ? { state: "dryRunUnmatched", perimeters: candidates } : { state: "none" };
}

interface PlacementContext {
    zone: string;
    project: string;
    service: string;
    /** URN of the finding when no perimeter is involved. */
    anchor: string;
    /** What goes wrong without the perimeter. */
    risk: string;
}

/** Reports every placement but "enforced": the level follows what the stack proves. */
function reportPlacement(placement: Placement, c: PlacementContext, report: Report): void {
    const what = `${c.zone} project ${c.project}`;
    switch (placement.state) {
        case "enforced":
            return;
        case "notRestricting":
            report(`perimeter ${placement.perimeter.label} contains ${what} but does not restrict ${c.service}: ${c.risk}`, placement.perimeter.resource.urn);
            return;
        case "previewUnknown":
            report(`${UNDECIDED} the members or restricted services of perimeter ${placement.perimeter.label} are unknown until apply, so ${what} cannot be matched`, placement.perimeter.resource.urn);
            return;
        case "unmatched":
            report(`cannot match ${what} to the projects/<number> members of enforced perimeter ${placement.perimeter.label}: its number is unknown to the pack. ` +
                `Declare it in the pack config (projectNumbers: {"${c.project}": "<number>"}) to prove the perimeter`, placement.perimeter.resource.urn, true);
            return;
        case "dryRun":
            report(`perimeter ${placement.perimeter.label} protects ${what} in dry run only: violations are logged, not blocked. ` +
                "Switch it to enforced once the dry-run logs are clean", placement.perimeter.resource.urn, true);
            return;
        case "dryRunUnmatched": {
            // Which one holds the project is unknown: name the only candidate, or the project's own resource with all of them.
            const only = placement.perimeters.length === 1 ? placement.perimeters[0] : undefined;
            report(`${only ? `perimeter ${only.label} restricts` : `perimeters ${listText(placement.perimeters.map((p) => p.label))} restrict`} ${c.service} in dry run ` +
                `only, for numbered projects the pack cannot match to ${what} (declare projectNumbers to prove it): nothing is blocked yet. ` +
                "Switch to enforced once the dry-run logs are clean", only?.resource.urn ?? c.anchor, true);
            return;
        }
        case "none":
            report(`${what} is in no enforced perimeter restricting ${c.service}: ${c.risk}`, c.anchor);
    }
}

/** Pack config of the perimeter rules: declared external, and project numbers. */
function perimeterConfigSchema(zone: "signer" | "runner") {
    return {
        properties: {
            externalPerimeter: {
                type: "boolean" as const,
                default: false,
                description: `The ${zone} project's perimeter is managed outside this stack (it then passes).`,
            },
            projectNumbers: projectNumbersSchema(`perimeters list projects/<number>, the stack knows the ${zone} project by id`),
        },
    };
}

/** The zone's projects and where each stands; undefined when there is nothing to check or the perimeter is declared external. */
function placements(resources: PolicyResource[], scope: Scope, config: Config, zone: "signer" | "runner", service: string):
    { project: ScopedProject; names: Set<string>; placement: Placement }[] | undefined {
    if (config.externalPerimeter === true || (zone === "signer" && scope.signerKeys.length === 0)) {
        return undefined;
    }
    const numbers = projectNumbers(resources, config.projectNumbers);
    const regular = perimeters(resources).filter((p) => !p.bridge);
    return [...scope.projects.values()].filter((p) => p.zones.has(zone))
        .map((project) => {
            const names = memberNames(project.id, numbers);
            return { project, names, placement: locate(project.id, names, regular, service) };
        });
}

/**
 * Bridge perimeters: projects in one bridge call each other's restricted services across their
 * perimeters, so a bridge that holds the signer project opens Cloud KMS to every other member.
 * A numbered member the pack cannot match (no `projectNumbers`) may be the signer project: advisory.
 */
function bridgesAround(resources: PolicyResource[], placed: { project: ScopedProject; names: Set<string> }[], report: Report): void {
    for (const b of perimeters(resources).filter((p) => p.bridge)) {
        for (const c of [b.enforced, b.dryRun].filter((x): x is PerimeterConfig => x !== undefined)) {
            for (const { project, names } of placed) {
                if (c.resources === "unknown") {
                    report(`${UNDECIDED} the members of bridge perimeter ${b.label} are unknown until apply; it may bridge signer project ${project.id} to other projects`, b.resource.urn);
                    continue;
                }
                const others = c.resources.filter((m) => !names.has(m));
                if (c.resources.some((m) => names.has(m)) || c.resourceProjects.has(project.id)) {
                    report(`bridge perimeter ${b.label} puts signer project ${project.id} in a bridge with ${listText(others)}: their identities and networks reach the signer's Cloud KMS across its perimeter`, b.resource.urn);
                } else if (![...names].some((n) => /^projects\/\d+$/.test(n)) && c.resources.some((m) => /^projects\/\d+$/.test(m))) {
                    report(`cannot tell whether bridge perimeter ${b.label} holds signer project ${project.id}: it lists projects by number and the pack has no number for it (set projectNumbers)`, b.resource.urn, true);
                }
            }
        }
    }
}

export const signerPerimeter: FleetStackPolicy = {
    name: "signer-perimeter",
    description:
        "[I10] Every signer key's project is in an enforced VPC Service Controls perimeter restricting cloudkms.googleapis.com, with no " +
        "ingress for any identity to Cloud KMS, nor to the signer project's Cloud Run when the perimeter restricts it (dry run only: advisory; " +
        "declared external in pack config: passes).",
    enforcementLevel: "mandatory",
    configSchema: perimeterConfigSchema("signer"),
    meta: {
        checks: "every signer key's project is a member (`projects/<number>`, inline, by `ServicePerimeterResource`, or a `Project` resource's number) of an **enforced** regular perimeter restricting `cloudkms.googleapis.com`, with no ingress rule for `ANY_IDENTITY`/`ANY_USER_ACCOUNT`/`ANY_SERVICE_ACCOUNT` to Cloud KMS, nor (when the perimeter restricts Cloud Run) to the signer project's Cloud Run: the signer's internal ingress admits what its perimeter admits, so such a rule belongs on a control-plane project of its own. Dry run only: advisory. Pack config `externalPerimeter` (perimeter managed elsewhere: passes) and `projectNumbers` (id → number; without it an enforced perimeter with numbered members is an advisory, never a pass)",
        invariants: ["I10"],
        fix:
            "Add FleetPerimeter (HardenedBuildFleet does with a perimeter config block) and switch it to mode: enforced once the dry run is clean; " +
            "give the pack the signer project's number (projectNumbers) unless the stack creates the project.",
    },
    validateStack: rawStackCheck((resources, report, args) => {
        const scope = fleetScope(resources);
        const placed = placements(resources, scope, args.getConfig<Config>(), "signer", KMS);
        if (placed === undefined) {
            return;
        }
        for (const key of scope.signerKeys) {
            if (scope.undecided.includes(key)) {
                report(`${UNDECIDED} the project of signer key ${key.name} is unknown until apply, so its perimeter cannot be matched`, key.urn);
            } else if (scope.projectless.includes(key)) {
                report(`cannot tell the project of signer key ${key.name} (no project on its key ring or provider), so its perimeter cannot be proven; name the project explicitly`, key.urn, true);
            }
        }
        bridgesAround(resources, placed, report);
        for (const { project, names, placement } of placed) {
            if (placement.state === "enforced") {
                for (const p of placement.perimeters) {
                    const open = openIngress(p.enforced!, KMS);
                    if (open.length > 0) {
                        report(`perimeter ${p.label} around signer project ${project.id} has ingress rule(s) ${listText(open)} admitting any identity to Cloud KMS: the perimeter no longer stops stolen credentials`, p.resource.urn);
                    }
                    const run = openSignerRun(p.enforced!, names);
                    if (run.open.length > 0) {
                        report(`perimeter ${p.label} around signer project ${project.id} has ingress rule(s) ${listText(run.open)} admitting any identity to its Cloud Run: the signer's internal ` +
                            "ingress admits what the perimeter admits, so its run.app is in reach of those sources. Target the rule at a control-plane project of its own", p.resource.urn);
                    }
                    if (run.undecided.length > 0) {
                        report(`${UNDECIDED} the target projects of ingress rule(s) ${listText(run.undecided)} of perimeter ${p.label}, which admit any identity to Cloud Run, are unknown until apply`, p.resource.urn);
                    }
                }
            } else {
                reportPlacement(placement, { zone: "signer", project: project.id, service: KMS, anchor: project.anchor.urn,
                    risk: "credentials able to sign work from anywhere" }, report);
            }
        }
    }),
};

const STORAGE = "storage.googleapis.com";

/** Services runner networks may call that the perimeter does not restrict (so they answer for any project). */
function unrestrictedVpcServices(c: PerimeterConfig, raw: unknown): string[] | "unknown" | "open" {
    const vpc = get(raw, "vpcAccessibleServices");
    const enabled = get(vpc, "enableRestriction");
    const allowed = get(vpc, "allowedServices");
    if ([vpc, enabled, allowed].some(unknownValue) || c.restrictedServices === "unknown") {
        return "unknown";
    }
    if (enabled !== true) {
        return "open";
    }
    const restricted = c.restrictedServices;
    return (Array.isArray(allowed) ? allowed : []).filter((s: unknown) => typeof s === "string" && s !== "RESTRICTED-SERVICES" && !restricted.includes(s));
}

export const runnerPerimeter: FleetStackPolicy = {
    name: "runner-perimeter",
    description:
        "[I4] Every runner project is in an enforced VPC Service Controls perimeter restricting storage.googleapis.com whose VPC-accessible " +
        "services are restricted too, with no egress rule for any identity to Cloud Storage: the restricted VIP reaches only the fleet's own " +
        "buckets, images and logs (dry run only: advisory; declared external in pack config: passes).",
    enforcementLevel: "mandatory",
    configSchema: perimeterConfigSchema("runner"),
    meta: {
        checks: "every runner project is a member of an **enforced** regular perimeter restricting `storage.googleapis.com`, whose `vpcAccessibleServices` restriction is on with only restricted services (or `RESTRICTED-SERVICES`) allowed, and with no egress rule for any identity to Cloud Storage: the restricted VIP then reaches only the fleet's own buckets, images and logs. Dry run only: advisory. Pack config `externalPerimeter`, `projectNumbers` as for `signer-perimeter`",
        invariants: ["I4"],
        fix:
            "Add FleetPerimeter (its worker perimeter restricts storage, images and logs and limits vpcAccessibleServices to them) and switch it " +
            "to mode: enforced once the dry run is clean; give the pack the worker project's number (projectNumbers).",
    },
    validateStack: rawStackCheck((resources, report, args) => {
        for (const { project, placement } of placements(resources, fleetScope(resources), args.getConfig<Config>(), "runner", STORAGE) ?? []) {
            if (placement.state !== "enforced") {
                reportPlacement(placement, { zone: "runner", project: project.id, service: STORAGE, anchor: project.anchor.urn,
                    risk: "builds can reach any project's buckets through the restricted VIP (exfiltration, cache poisoning)" }, report);
                continue;
            }
            for (const p of placement.perimeters) {
                const raw = p.rawEnforced;
                const open = unrestrictedVpcServices(p.enforced!, raw);
                if (open === "unknown") {
                    report(`${UNDECIDED} the VPC-accessible or restricted services of perimeter ${p.label} are unknown until apply`, p.resource.urn);
                } else if (open === "open") {
                    report(`perimeter ${p.label} around runner project ${project.id} does not restrict its VPC-accessible services (vpcAccessibleServices.enableRestriction): runner networks can call every Google API, unrestricted ones for any project`, p.resource.urn);
                } else if (open.length > 0) {
                    report(`perimeter ${p.label} lets runner networks call ${listText(open)}, which it does not restrict: those answer for any project's resources`, p.resource.urn);
                }
                const egress = openRules(p.enforced!.egress, "egress", STORAGE);
                if (egress.length > 0) {
                    report(`perimeter ${p.label} around runner project ${project.id} has egress rule(s) ${listText(egress)} letting any identity reach Cloud Storage outside it`, p.resource.urn);
                }
            }
        }
    }),
};

function titleProblems(p: Perimeter, zone: string, c: PerimeterConfig): string[] {
    const problems: string[] = [];
    for (const [kind, rules] of [["ingress", c.ingress], ["egress", c.egress]] as const) {
        const seen = new Set<string>();
        for (const rule of rules) {
            const title = get(rule, "title");
            if (typeof title === "string" && title !== "") {
                if (seen.has(title)) {
                    problems.push(`${zone} ${kind} rule title "${title}" is used twice in perimeter ${p.label} (titles must be unique within a perimeter)`);
                }
                seen.add(title);
            }
        }
    }
    return problems;
}

function placementProblems(p: Perimeter, zone: "status" | "spec", c: PerimeterConfig): string[] {
    const problems: string[] = [];
    const ignores = p.resource.opts?.ignoreChanges ?? [];
    const ignored = (field: string) => ignores.some((i) => i === zone || i === `${zone}.${field}` || i === `${zone}.${field}[*]`);
    if (c.externalMembers.length > 0 && (c.inlineMembers || !ignored("resources"))) {
        problems.push(`${zone} members of perimeter ${p.label} are declared by ${listText(c.externalMembers.map((r) => r.name))}` +
            (c.inlineMembers ? " and inline" : ` while the perimeter does not ignore changes to ${zone}.resources`) +
            ": the two rewrite each other on every update (declare members in one place)");
    }
    if (c.externalRules.length > 0 && !ignored("ingressPolicies") && !ignored("egressPolicies")) {
        problems.push(`${zone} ingress/egress rules of perimeter ${p.label} are declared by ${listText(c.externalRules.map((r) => r.name))} as well as by the perimeter: the two rewrite each other (declare rules in one place)`);
    }
    return problems;
}

export const perimeterWellFormed: FleetStackPolicy = {
    name: "perimeter-well-formed",
    description:
        "[I10] Service perimeters name member projects by number, use unique ingress/egress rule titles, and declare members and rules " +
        "in one place only (inline, or by ServicePerimeterResource with the inline list ignored).",
    enforcementLevel: "mandatory",
    meta: {
        checks: "perimeter members are `projects/<number>` or VPC networks (not project ids); ingress and egress rule titles unique per perimeter; members and rules declared in one place (inline, or by separate resources with the inline list in `ignoreChanges`)",
        invariants: ["I10"],
        fix: "Use projects/<number> (organizations.getProject), give each rule its own title, and keep members in the perimeter's own status/spec (as FleetPerimeter does).",
    },
    validateStack: rawStackCheck((resources, report) => {
        for (const p of perimeters(resources)) {
            const problems: string[] = [];
            for (const [zone, c] of [["status", p.enforced], ["spec", p.dryRun !== p.enforced ? p.dryRun : undefined]] as const) {
                if (c === undefined) {
                    continue;
                }
                if (c.resources !== "unknown") {
                    const bad = c.resources.filter((m) => !PROJECT_MEMBER.test(m) && !NETWORK_MEMBER.test(m));
                    if (bad.length > 0) {
                        problems.push(`${zone} members ${listText(bad.map((m) => `"${m}"`))} of perimeter ${p.label} are not projects/<number> or a VPC network (a project id is rejected by the API)`);
                    }
                }
                problems.push(...titleProblems(p, zone, c), ...placementProblems(p, zone, c));
            }
            for (const problem of problems) {
                report(problem, p.resource.urn);
            }
            // Members computed from a Project resource's number are numbers; anything else unknown cannot be checked.
            if (p.enforced?.resources === "unknown" && p.enforced.resourceProjects.size === 0) {
                report(`${UNDECIDED} the members of perimeter ${p.label} are unknown until apply, so their form cannot be checked`, p.resource.urn);
            }
        }
    }),
};

export const perimeterPolicies: FleetStackPolicy[] = [signerPerimeter, runnerPerimeter, perimeterWellFormed];
