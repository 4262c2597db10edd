/**
 * kms-audit-logging (I12): when the stack has a signer key, data-access audit logs (DATA_READ and
 * DATA_WRITE) for cloudkms.googleapis.com (or allServices) are on for the key's project, through a
 * project, folder or organization audit config (or the auditConfigs of a project IAMPolicy); and
 * nothing breaks that trail: no audit config exempting members from KMS (or all-services) logs, no
 * log exclusion or sink exclusion over the signer project (or a folder, org or billing account)
 * whose filter may drop Cloud KMS data-access entries, and no folder or organization sink that
 * intercepts its children's logs (`interceptChildren`) with a filter that may take them away from
 * the signer project's own buckets and sinks.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { get, unknown } from "../../model/props";
import { FleetStackPolicy } from "../../meta";
import { FleetGraph, T, UNDECIDED } from "../../model";
import { stackRule } from "../../framework/stackRule";

const SERVICES = new Set(["cloudkms.googleapis.com", "allServices"]);
const NEEDED = ["DATA_READ", "DATA_WRITE"];

interface Coverage {
    logTypes: Set<string>;
    unknown: boolean;
}

export const kmsAuditLogging: FleetStackPolicy = stackRule({
    name: "kms-audit-logging",
    description:
        "[I12] Every signer key's project has DATA_READ and DATA_WRITE audit logs for cloudkms.googleapis.com (or allServices), " +
        "from a project, folder or organization audit config, with no exempted members and no log or sink exclusion that may drop them.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "each signer key's project has `DATA_READ` and `DATA_WRITE` audit logs for `cloudkms.googleapis.com` (or `allServices`) at project, folder or org level; no audit config with `exemptedMembers` for them; no log exclusion or sink exclusion (signer project, folder, org, billing account) whose filter may drop KMS data-access entries; no folder or organization sink with `interceptChildren` whose filter may match them (they would no longer reach the signer project's own buckets); no disabled signer-project sink (the `_Default` one, or one whose filter may match them)",
        invariants: ["I12"],
        fix:
            "Add a gcp.projects.IAMAuditConfig for the key's project with service cloudkms.googleapis.com and auditLogConfigs " +
            "ADMIN_READ, DATA_READ and DATA_WRITE (SignerEnclave adds it).",
    },
    check: (g, report) => {
        if (g.signerKeys.length === 0) {
            return;
        }
        trailBreakers(g, report);
        const { byProject, anywhere, unknownProject } = coverage(g);
        for (const key of g.signerKeys) {
            const project = g.keyProject(key);
            const types = new Set<string>(anywhere.logTypes);
            let undecided = anywhere.unknown || unknownProject.unknown;
            if (typeof project === "string") {
                const c = byProject.get(project);
                if (c) {
                    c.logTypes.forEach((t) => types.add(t));
                    undecided ||= c.unknown;
                }
                undecided ||= unknownProject.logTypes.size > 0;
            } else {
                undecided = true;
                for (const c of byProject.values()) {
                    c.logTypes.forEach((t) => types.add(t));
                }
            }
            const missing = NEEDED.filter((t) => !types.has(t));
            if (missing.length === 0) {
                if (typeof project !== "string") {
                    report(`${UNDECIDED} the project of signer key ${key.name} is unknown until apply, so its audit config cannot be matched`, key.urn);
                }
                continue;
            }
            report(
                `${undecided ? `${UNDECIDED} ` : ""}signer key ${key.name} (project ${typeof project === "string" ? project : "unknown"}) has no ` +
                    `${missing.join(" and ")} audit logging for cloudkms.googleapis.com: uses of the signing key would leave no trail`,
                key.urn,
            );
        }
    },
});

const EXCLUSIONS = [
    "gcp:logging/projectExclusion:ProjectExclusion", "gcp:logging/folderExclusion:FolderExclusion",
    "gcp:logging/organizationExclusion:OrganizationExclusion", "gcp:logging/billingAccountExclusion:BillingAccountExclusion",
];
const SINKS = ["gcp:logging/projectSink:ProjectSink", "gcp:logging/folderSink:FolderSink", "gcp:logging/organizationSink:OrganizationSink"];

/**
 * A filter that may match Cloud KMS data-access entries: it names KMS, data access or audit logs, or
 * narrows by neither log name nor resource type (so it may match anything).
 */
function mayDropKms(filter: unknown): boolean | "unknown" {
    if (unknown(filter)) {
        return "unknown";
    }
    if (typeof filter !== "string") {
        return false;
    }
    return /cloudkms|data_access|cloudaudit|activity/i.test(filter) || !/logName|resource\.type|log_id\(/i.test(filter);
}

/** Audit configs exempting members, and exclusions that may drop KMS data-access logs. */
function trailBreakers(g: FleetGraph, report: (m: string, urn?: string) => void): void {
    const inScope = (r: PolicyResource): boolean => {
        if (!r.type.startsWith("gcp:logging/project")) {
            return true; // folder, organization, billing account: the hierarchy is not visible
        }
        const p = g.projectOf(r);
        return typeof p !== "string" || g.signerProjects.has(p);
    };
    for (const type of [T.projectAuditConfig, T.folderAuditConfig, T.orgAuditConfig]) {
        for (const r of g.of(type)) {
            const service = get(r.props, "service");
            if (typeof service === "string" && !SERVICES.has(service)) {
                continue;
            }
            const configs = get(r.props, "auditLogConfigs");
            for (const lc of Array.isArray(configs) ? configs : []) {
                const ex = get(lc, "exemptedMembers");
                if (unknown(ex) || (Array.isArray(ex) && ex.length > 0)) {
                    report(`${unknown(ex) ? `${UNDECIDED} ` : ""}audit config ${r.name} exempts ${unknown(ex) ? "members unknown until apply" : ex.join(", ")} from ${get(lc, "logType")} logs of ${service}: their uses of the signing key would leave no trail`, r.urn);
                }
            }
        }
    }
    for (const type of EXCLUSIONS) {
        for (const r of g.of(type)) {
            const drop = mayDropKms(get(r.props, "filter"));
            if (get(r.props, "disabled") !== true && drop !== false && inScope(r)) {
                report(`${drop === "unknown" ? `${UNDECIDED} ` : ""}log exclusion ${r.name} (filter ${JSON.stringify(get(r.props, "filter"))}) may drop Cloud KMS data-access logs of the signer`, r.urn);
            }
        }
    }
    // A disabled sink of the signer project that would carry KMS entries (the _Default sink carries them all).
    for (const r of g.of(SINKS[0])) {
        const disabled = get(r.props, "disabled");
        const drop = mayDropKms(get(r.props, "filter"));
        const name = get(r.props, "name");
        if ((disabled === true || unknown(disabled)) && (drop !== false || name === "_Default") && inScope(r)) {
            report(`${unknown(disabled) ? `${UNDECIDED} ` : ""}log sink ${r.name} of the signer project is disabled: the Cloud KMS audit entries it routes ${name === "_Default" ? "(every entry not in _Required) " : ""}are stored nowhere`, r.urn);
        }
    }
    for (const type of SINKS.filter((t) => !t.startsWith("gcp:logging/project"))) {
        for (const r of g.of(type)) {
            const intercept = get(r.props, "interceptChildren");
            const drop = mayDropKms(get(r.props, "filter"));
            if ((intercept === true || unknown(intercept)) && drop !== false && get(r.props, "disabled") !== true) {
                report(`${unknown(intercept) || drop === "unknown" ? `${UNDECIDED} ` : ""}log sink ${r.name} intercepts its children's logs (interceptChildren) with filter ` +
                    `${JSON.stringify(get(r.props, "filter") ?? "(none)")}: the signer's Cloud KMS audit entries go to ${JSON.stringify(get(r.props, "destination"))} and no longer reach the signer project's own log buckets and sinks`, r.urn);
            }
        }
    }
    for (const type of SINKS) {
        for (const r of g.of(type)) {
            const exclusions = get(r.props, "exclusions");
            for (const e of Array.isArray(exclusions) ? exclusions : []) {
                const drop = mayDropKms(get(e, "filter"));
                if (get(e, "disabled") !== true && drop !== false && inScope(r)) {
                    report(`${drop === "unknown" ? `${UNDECIDED} ` : ""}log sink ${r.name} excludes ${JSON.stringify(get(e, "filter"))}, which may drop Cloud KMS data-access logs of the signer`, r.urn);
                }
            }
        }
    }
}

function coverage(g: FleetGraph): { byProject: Map<string, Coverage>; anywhere: Coverage; unknownProject: Coverage } {
    const byProject = new Map<string, Coverage>();
    const anywhere: Coverage = { logTypes: new Set(), unknown: false };
    const unknownProject: Coverage = { logTypes: new Set(), unknown: false };
    const target = (c: Coverage, service: unknown, configs: unknown) => {
        if (unknown(service) || unknown(configs)) {
            c.unknown = true;
            return;
        }
        if (typeof service !== "string" || !SERVICES.has(service) || !Array.isArray(configs)) {
            return;
        }
        for (const lc of configs) {
            const t = get(lc, "logType");
            if (unknown(t)) {
                c.unknown = true;
            } else if (typeof t === "string") {
                c.logTypes.add(t);
            }
        }
    };
    const forProject = (r: PolicyResource): Coverage => {
        const p = g.projectOf(r);
        if (typeof p !== "string") {
            return unknownProject;
        }
        let c = byProject.get(p);
        if (!c) {
            c = { logTypes: new Set(), unknown: false };
            byProject.set(p, c);
        }
        return c;
    };
    for (const r of g.of(T.projectAuditConfig)) {
        target(forProject(r), get(r.props, "service"), get(r.props, "auditLogConfigs"));
    }
    for (const type of [T.folderAuditConfig, T.orgAuditConfig]) {
        for (const r of g.of(type)) {
            target(anywhere, get(r.props, "service"), get(r.props, "auditLogConfigs"));
        }
    }
    for (const r of g.of(T.projectIamPolicy)) {
        const data = get(r.props, "policyData");
        if (unknown(data)) {
            forProject(r).unknown = true;
            continue;
        }
        try {
            const parsed = typeof data === "string" ? JSON.parse(data) : undefined;
            for (const ac of Array.isArray(parsed?.auditConfigs) ? parsed.auditConfigs : []) {
                target(forProject(r), ac?.service, ac?.auditLogConfigs);
            }
        } catch {
            // An unparsable policy grants no audit config.
        }
    }
    return { byProject, anywhere, unknownProject };
}
