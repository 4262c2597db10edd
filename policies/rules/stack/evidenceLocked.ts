/**
 * signer-evidence-locked (I11, I12): on a production stack the signer's evidence cannot be shortened or
 * deleted by anyone, the project owner included: every signer-labelled Cloud Storage bucket (the
 * provenance bucket) has a LOCKED retention policy, and every log bucket that a sink routes Cloud KMS
 * audit entries into is locked and keeps them at least `minLogRetentionDays`; a log bucket declared in
 * a runner project (the workers' trail: job, flow and NAT logs) or in a signer project is held to the same.
 *
 * Locks are irreversible, so the components take them as an explicit opt-in (`lockProvenanceRetention`,
 * `lockAuditLog`). "Production" is this rule's config: a stack is production unless the pack config says
 * `{"signer-evidence-locked": {"production": false}}` (fail closed: a stack nobody classified is held to
 * the production bar). Trial stacks set it to false and keep their buckets deletable.
 */
import { PolicyResource, StackValidationArgs } from "@pulumi/policy/policy";
import { FleetStackPolicy } from "../../meta";
import { ROLE_LABEL } from "../../model/labels";
import { get, unknown } from "../../model/props";
import { stackCheck } from "../../framework/stackRule";
import { UNDECIDED } from "../../model";

const BUCKET = "gcp:storage/bucket:Bucket";
const MIN_LOG_RETENTION_DAYS = 365;
const LOG_BUCKET = "gcp:logging/projectBucketConfig:ProjectBucketConfig";
const SINK_TYPES = new Set(["gcp:logging/projectSink:ProjectSink", "gcp:logging/folderSink:FolderSink", "gcp:logging/organizationSink:OrganizationSink"]);

/** Log buckets that a sink whose filter selects Cloud KMS entries writes into (by property dependency or by bucket id in the destination). */
function kmsLogBuckets(resources: PolicyResource[]): PolicyResource[] {
    const logBuckets = resources.filter((r) => r.type === LOG_BUCKET);
    const found = new Set<PolicyResource>();
    for (const sink of resources.filter((r) => SINK_TYPES.has(r.type))) {
        const filter = get(sink.props, "filter");
        if (!(typeof filter === "string" && filter.includes("cloudkms.googleapis.com")) && !unknown(filter)) {
            continue;
        }
        const viaDeps = (sink.propertyDependencies?.destination ?? []).filter((d) => d.type === LOG_BUCKET);
        viaDeps.forEach((b) => found.add(b));
        const destination = get(sink.props, "destination");
        if (typeof destination === "string") {
            for (const b of logBuckets) {
                const id = get(b.props, "bucketId");
                if (typeof id === "string" && destination.endsWith(`/buckets/${id}`)) {
                    found.add(b);
                }
            }
        }
    }
    return [...found];
}

export const signerEvidenceLocked: FleetStackPolicy = {
    name: "signer-evidence-locked",
    description:
        "[I11, I12] On a production stack (pack config `production`, default true) the signer's provenance bucket has a locked retention " +
        "policy and the log bucket holding the Cloud KMS audit logs is locked.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            production: {
                type: "boolean",
                default: true,
                description: "Hold the stack to the production bar (locked evidence). Set false for trial stacks whose buckets must stay deletable.",
            },
            minLogRetentionDays: {
                type: "number",
                default: MIN_LOG_RETENTION_DAYS,
                description: "The shortest retention a Cloud KMS audit log bucket or a runner project's log bucket may keep on a production stack.",
            },
        },
    },
    meta: {
        invariants: ["I11", "I12"],
        checks:
            "on a production stack (pack config `production`, default true: fail closed) every signer-labelled bucket has a locked retention policy " +
            "and every log bucket a sink routes Cloud KMS audit entries into, and every log bucket declared in a runner or signer project, is locked with " +
            "`retentionDays` of at least pack config `minLogRetentionDays` (default 365)",
        fix:
            "Set `signer.lockProvenanceRetention: true` and `signer.lockAuditLog: true` (irreversible; docs/deploy.md, the lock step), " +
            "or declare a trial stack with the pack config {\"signer-evidence-locked\": {\"production\": false}}.",
    },
    validateStack: stackCheck((g, report, args: StackValidationArgs) => {
        const cfg = args.getConfig<{ production?: boolean; minLogRetentionDays?: number }>();
        if (cfg.production === false) {
            return;
        }
        const minDays = cfg.minLogRetentionDays ?? MIN_LOG_RETENTION_DAYS;
        const retention = (r: PolicyResource, what: string) => {
            const days = get(r.props, "retentionDays");
            if (unknown(days)) {
                report(`${UNDECIDED} the retention of ${what} ${r.name} is unknown until apply`, r.urn);
            } else if (typeof days !== "number" || days < minDays) {
                report(`${what} ${r.name} keeps its logs ${typeof days === "number" ? `${days} days` : "30 days (retentionDays not set)"}, under the ${minDays} days a production trail needs; set retentionDays`, r.urn);
            }
        };
        const check = (r: PolicyResource, flag: unknown, what: string, setting: string) => {
            if (unknown(flag)) {
                report(`${UNDECIDED} whether ${what} ${r.name} is locked is unknown until apply`, r.urn);
            } else if (flag !== true && flag !== "true") {
                report(`${what} ${r.name} is not locked on a production stack: whoever administers the signer project can shorten its retention or delete it. Set ${setting} (irreversible), or declare a trial stack (production: false).`, r.urn);
            }
        };
        for (const r of args.resources) {
            if (r.type === BUCKET && get(r.props, "labels", ROLE_LABEL) === "signer") {
                check(r, get(r.props, "retentionPolicy", "isLocked"), "provenance bucket", "signer.lockProvenanceRetention: true");
            }
        }
        const kms = kmsLogBuckets(args.resources);
        for (const r of kms) {
            check(r, get(r.props, "locked"), "Cloud KMS audit log bucket", "signer.lockAuditLog: true");
            retention(r, "Cloud KMS audit log bucket");
        }
        // The workers' and the signer's trail: log buckets declared in a project where runners run, or in a signer project (_Default included).
        const runnerProjects = new Set(g.compute.filter((n) => n.isRunner).map((n) => g.projectOf(n.res)).filter((p): p is string => typeof p === "string"));
        for (const r of args.resources.filter((x) => x.type === LOG_BUCKET && !kms.includes(x))) {
            const project = g.projectOf(r);
            const what = typeof project !== "string" ? undefined : g.signerProjects.has(project) ? "signer project log bucket" : runnerProjects.has(project) ? "runner project log bucket" : undefined;
            if (what !== undefined) {
                check(r, get(r.props, "locked"), what, "locked: true");
                retention(r, what);
            }
        }
    }),
};
