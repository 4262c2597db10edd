/**
 * org-guardrails (I3, I6, I7, I10, I11): every project that runs runners, holds the signer or runs the
 * control plane's services carries the organization-policy guardrails, set on the project by a
 * gcp.orgpolicy.Policy in this stack: no service-account key creation or upload, no automatic Editor
 * grants to default service accounts (a control-plane key would be a signing oracle);
 * runner projects also Shielded VM, no external IPs and OS Login; signer projects also Cloud Run
 * ingress internal only. Guardrails declared external in pack config (set at the folder or
 * organization by the foundation) are an advisory: this stack cannot prove them.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { FleetStackPolicy } from "../../meta";
import { get, unknown } from "../../model/props";
import { constraintOf, GUARDRAIL_REQUIREMENTS, judgeSpec, Verdict } from "../resource/orgPolicy";
import { fleetScope, FleetZone, memberNames, projectNumbers, projectNumbersSchema, PT, rawStackCheck, ScopedProject, UNDECIDED } from "../../model/perimeterScope";

const EVERY_PROJECT = [
    "iam.disableServiceAccountKeyCreation",
    "iam.disableServiceAccountKeyUpload",
    "iam.automaticIamGrantsForDefaultServiceAccounts",
];
const RUNNER_PROJECT = ["compute.requireShieldedVm", "compute.vmExternalIpAccess", "compute.requireOsLogin"];
const SIGNER_PROJECT = ["run.allowedIngress"];

/** The guardrails a project in these zones must carry. */
export function requiredGuardrails(zones: Set<FleetZone>): string[] {
    return [...EVERY_PROJECT, ...(zones.has("runner") ? RUNNER_PROJECT : []), ...(zones.has("signer") ? SIGNER_PROJECT : [])];
}

interface Config {
    externalGuardrails?: boolean;
    projectNumbers?: Record<string, string>;
}

interface Found {
    /** Best verdict per constraint for each project parent string. */
    byParent: Map<string, Map<string, { verdict: Verdict; urn: string }>>;
    /** Constraints set on folders or the organization (cannot be tied to a project here). */
    above: Set<string>;
    /** Org policies whose parent or name is unknown during a preview. */
    undecided: PolicyResource[];
}

function collect(resources: PolicyResource[]): Found {
    const found: Found = { byParent: new Map(), above: new Set(), undecided: [] };
    for (const r of resources.filter((x) => x.type === PT.orgPolicy)) {
        const parent = get(r.props, "parent");
        const name = get(r.props, "name");
        if (unknown(parent) || unknown(name)) {
            found.undecided.push(r);
            continue;
        }
        const constraint = constraintOf(name);
        const req = constraint === undefined ? undefined : GUARDRAIL_REQUIREMENTS[constraint];
        if (req === undefined || typeof parent !== "string") {
            continue;
        }
        if (!parent.startsWith("projects/")) {
            found.above.add(constraint!);
            continue;
        }
        const verdict = judgeSpec(get(r.props, "spec"), req);
        const perConstraint = found.byParent.get(parent) ?? new Map();
        const prev = perConstraint.get(constraint!);
        if (!prev || prev.verdict.state !== "enforced") {
            perConstraint.set(constraint!, { verdict, urn: r.urn });
        }
        found.byParent.set(parent, perConstraint);
    }
    return found;
}

export const orgGuardrails: FleetStackPolicy = {
    name: "org-guardrails",
    description:
        "[I3, I6, I7, I10] Runner, signer and control-plane projects carry the organization-policy guardrails (no SA key creation or upload, no " +
        "default-SA grants; runners: Shielded VM, no external IP, OS Login; signer: Cloud Run ingress internal), set by gcp.orgpolicy.Policy in the stack.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            externalGuardrails: {
                type: "boolean",
                default: false,
                description: "The guardrails are set outside this stack (folder or organization): missing ones become an advisory.",
            },
            projectNumbers: projectNumbersSchema("for policies whose parent names the project by number"),
        },
    },
    meta: {
        checks: "every runner, signer and control-plane project (one holding a Cloud Run service labelled `control-plane`: a key for its identities would be a signing oracle) carries, by a project `gcp.orgpolicy.Policy` in the stack (parent by id, or by number from pack config `projectNumbers`), `iam.disableServiceAccountKeyCreation`, `iam.disableServiceAccountKeyUpload`, `iam.automaticIamGrantsForDefaultServiceAccounts`; runner projects also `compute.requireShieldedVm`, `compute.vmExternalIpAccess` (deny all), `compute.requireOsLogin`; signer projects `run.allowedIngress` internal. A weakened, dry-run-only or folder-only guardrail does not count. Pack config `externalGuardrails`: missing ones become an advisory",
        invariants: ["I3", "I6", "I7", "I10"],
        fix:
            "Add the guardrails with OrgGuardrails (HardenedBuildFleet does, guardrails.enabled), or a gcp.orgpolicy.Policy per constraint on the project; " +
            "when the foundation sets them at the folder or organization, declare externalGuardrails: true in the pack config.",
    },
    validateStack: rawStackCheck((resources, report, args) => {
        const config = args.getConfig<Config>();
        const scope = fleetScope(resources);
        const numbers = projectNumbers(resources, config.projectNumbers);
        const found = collect(resources);
        for (const r of scope.undecided) {
            report(`${UNDECIDED} the project of ${r.name} is unknown until apply, so its guardrails cannot be matched`, r.urn);
        }
        for (const r of scope.projectless) {
            report(`cannot tell the project of ${r.name} (no project input, none on its provider), so its guardrails cannot be proven; name the project explicitly`, r.urn, true);
        }
        for (const project of scope.projects.values()) {
            checkProject(project, numbers, found, config.externalGuardrails === true, report);
        }
    }),
};

function checkProject(
    project: ScopedProject, numbers: Map<string, Set<string>>, found: Found, external: boolean,
    report: (message: string, urn?: string, advisory?: boolean) => void,
): void {
    const parents = memberNames(project.id, numbers);
    const problems: string[] = [];
    let undecided = found.undecided.length > 0;
    for (const constraint of requiredGuardrails(project.zones)) {
        const hits = [...parents].map((p) => found.byParent.get(p)?.get(constraint)).filter((h) => h !== undefined);
        if (hits.some((h) => h!.verdict.state === "enforced")) {
            continue;
        }
        const hit = hits[0];
        if (hit?.verdict.state === "unknown") {
            undecided = true;
            problems.push(`${constraint} (unknown until apply)`);
        } else if (hit) {
            problems.push(`${constraint} (${(hit.verdict as { why: string }).why})`);
        } else if (found.above.has(constraint)) {
            problems.push(`${constraint} (set only on a folder or the organization in this stack, which cannot show the project is under it)`);
        } else {
            problems.push(`${constraint} (missing)`);
        }
    }
    if (problems.length === 0) {
        return;
    }
    const zones = [...project.zones].sort().join(" and ");
    const text = `${zones} project ${project.id} lacks the organization-policy guardrails ${problems.join(", ")}`;
    if (external) {
        report(`guardrails declared external (pack config externalGuardrails): this stack does not prove them; ${text}. Check them at the folder or organization.`, project.anchor.urn, true);
    } else if (undecided) {
        report(`${UNDECIDED} ${text}`, project.anchor.urn);
    } else {
        report(`${text}: a principal with project rights could mint a key, open an external IP or widen ingress with nothing above to stop it.`, project.anchor.urn);
    }
}
