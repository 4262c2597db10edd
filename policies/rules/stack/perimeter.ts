/**
 * VPC Service Controls around the signer (I10).
 *
 * - signer-perimeter: every project holding a signer key is a member of an ENFORCED regular perimeter
 *   that restricts cloudkms.googleapis.com, and no ingress rule of that perimeter admits any identity to
 *   Cloud KMS. A perimeter in dry run only is an advisory; a perimeter declared external in pack config
 *   passes. Stolen signer credentials then fail outside the perimeter.
 * - perimeter-well-formed: the provider pitfalls that silently break a perimeter: members named by
 *   project id (the API wants numbers), duplicate rule titles, and membership or rules declared both
 *   inline and by separate resources, which rewrite each other on every update.
 */
import { FleetStackPolicy } from "../meta";
import { get } from "../props";
import { listText } from "./report";
import {
    fleetScope, memberNames, Perimeter, PerimeterConfig, perimeters, projectNumbers, projectNumbersSchema, rawStackCheck, UNDECIDED,
} from "./perimeterScope";

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

/** Ingress rules of `c` that admit any identity (of a kind) to Cloud KMS. */
function openKmsIngress(c: PerimeterConfig): string[] {
    return c.ingress.filter((rule) => {
        const type = get(rule, "ingressFrom", "identityType");
        const ops = get(rule, "ingressTo", "operations");
        const toKms = !Array.isArray(ops) || ops.some((o: unknown) => ["*", KMS].includes(get(o, "serviceName")));
        return typeof type === "string" && ANY_IDENTITY.has(type) && toKms;
    }).map((rule, i) => String(get(rule, "title") ?? `#${i + 1}`));
}

export const signerPerimeter: FleetStackPolicy = {
    name: "signer-perimeter",
    description:
        "[I10] Every signer key's project is in an enforced VPC Service Controls perimeter restricting cloudkms.googleapis.com, with no " +
        "ingress for any identity to Cloud KMS (dry run only: advisory; declared external in pack config: passes).",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            externalPerimeter: {
                type: "boolean",
                default: false,
                description: "The signer project's perimeter is managed outside this stack (it then passes).",
            },
            projectNumbers: projectNumbersSchema("perimeters list projects/<number>, the stack knows the signer by id"),
        },
    },
    meta: {
        invariants: ["I10"],
        fix:
            "Add FleetPerimeter (HardenedBuildFleet does with a perimeter config block) and switch it to mode: enforced once the dry run is clean; " +
            "give the pack the signer project's number (projectNumbers) unless the stack creates the project.",
    },
    validateStack: rawStackCheck((resources, report, args) => {
        const config = args.getConfig<Config>();
        const scope = fleetScope(resources);
        if (scope.signerKeys.length === 0 || config.externalPerimeter === true) {
            return;
        }
        const numbers = projectNumbers(resources, config.projectNumbers);
        const regular = perimeters(resources).filter((p) => !p.bridge);
        for (const key of scope.signerKeys) {
            if (scope.undecided.includes(key)) {
                report(`${UNDECIDED} the project of signer key ${key.name} is unknown until apply, so its perimeter cannot be matched`, key.urn);
            } else if (scope.projectless.includes(key)) {
                report(`cannot tell the project of signer key ${key.name} (no project on its key ring or provider), so its perimeter cannot be proven; name the project explicitly`, key.urn, true);
            }
        }
        for (const project of [...scope.projects.values()].filter((p) => p.zones.has("signer"))) {
            const names = memberNames(project.id, numbers);
            const enforced = regular.filter((p) => membership(p.enforced, names, project.id) === "yes");
            const kmsEnforced = enforced.filter((p) => restricts(p.enforced!, KMS) === "yes");
            if (kmsEnforced.length > 0) {
                for (const p of kmsEnforced) {
                    const open = openKmsIngress(p.enforced!);
                    if (open.length > 0) {
                        report(`perimeter ${p.label} around signer project ${project.id} has ingress rule(s) ${listText(open)} admitting any identity to Cloud KMS: the perimeter no longer stops stolen credentials`, p.resource.urn);
                    }
                }
                continue;
            }
            const notKms = enforced.find((p) => restricts(p.enforced!, KMS) === "no");
            if (notKms) {
                report(`perimeter ${notKms.label} contains signer project ${project.id} but does not restrict ${KMS}: the signing key is reachable from outside it`, notKms.resource.urn);
                continue;
            }
            // Enforced perimeters that may hold the project and may restrict Cloud KMS.
            const maybe = (m: Membership) => regular.find((p) => p.enforced !== undefined && membership(p.enforced, names, project.id) === m && restricts(p.enforced, KMS) !== "no");
            const previewUnknown = maybe("unknown") ?? enforced.find((p) => restricts(p.enforced!, KMS) === "unknown");
            const unmatched = maybe("unmatched");
            const dryRun = regular.find((p) => ["yes", "unmatched"].includes(membership(p.dryRun, names, project.id)) && restricts(p.dryRun!, KMS) === "yes");
            if (previewUnknown) {
                report(`${UNDECIDED} the members or restricted services of perimeter ${previewUnknown.label} are unknown until apply, so signer project ${project.id} cannot be matched`, previewUnknown.resource.urn);
            } else if (unmatched) {
                report(`cannot match signer project ${project.id} to the projects/<number> members of enforced perimeter ${unmatched.label}: its number is unknown to the pack. ` +
                    `Declare it in the pack config (projectNumbers: {"${project.id}": "<number>"}) to prove the perimeter`, unmatched.resource.urn, true);
            } else if (dryRun) {
                const holds = membership(dryRun.dryRun, names, project.id) === "yes"
                    ? `protects signer project ${project.id} in dry run only`
                    : `restricts Cloud KMS in dry run only, for numbered projects the pack cannot match to signer project ${project.id} (declare projectNumbers to prove it)`;
                report(`perimeter ${dryRun.label} ${holds}: violations are logged, not blocked. Switch it to enforced once the dry-run logs are clean`, dryRun.resource.urn, true);
            } else {
                report(`signer project ${project.id} is in no enforced perimeter restricting ${KMS}: credentials able to sign work from anywhere`, project.anchor.urn);
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

export const perimeterPolicies: FleetStackPolicy[] = [signerPerimeter, perimeterWellFormed];
