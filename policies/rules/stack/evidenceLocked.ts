/**
 * signer-evidence-locked (I11, I12): on a production stack the signer's evidence cannot be shortened or
 * deleted by anyone, the project owner included: every signer-labelled Cloud Storage bucket (the
 * provenance bucket) has a LOCKED retention policy, and every log bucket that a sink routes Cloud KMS
 * audit entries into is locked.
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
        },
    },
    meta: {
        invariants: ["I11", "I12"],
        checks:
            "on a production stack (pack config `production`, default true: fail closed) every signer-labelled bucket has a locked retention policy " +
            "and every log bucket a sink routes Cloud KMS audit entries into is locked",
        fix:
            "Set `signer.lockProvenanceRetention: true` and `signer.lockAuditLog: true` (irreversible; docs/deploy.md, the lock step), " +
            "or declare a trial stack with the pack config {\"signer-evidence-locked\": {\"production\": false}}.",
    },
    validateStack: stackCheck((_g, report, args: StackValidationArgs) => {
        if (args.getConfig<{ production?: boolean }>().production === false) {
            return;
        }
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
        for (const r of kmsLogBuckets(args.resources)) {
            check(r, get(r.props, "locked"), "Cloud KMS audit log bucket", "signer.lockAuditLog: true");
        }
    }),
};
