/**
 * The signer's locked audit trail (I12): the Cloud KMS audit logs of the signer project (admin
 * activity and data access: every sign and public-key read) copied by a project sink into a log
 * bucket of the signer project whose retention is locked, so nobody (the project owner included) can
 * shorten it or delete the bucket before the logs expire. The _Default bucket keeps its own copy.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

/** Log buckets keep logs between 1 and 3650 days. */
export const MAX_LOG_RETENTION_DAYS = 3650;

/** The Cloud KMS audit entries of the project: data access (sign, public key) and admin activity. */
export const KMS_AUDIT_LOG_FILTER =
    'protoPayload.serviceName="cloudkms.googleapis.com" AND ' +
    '(LOG_ID("cloudaudit.googleapis.com/data_access") OR LOG_ID("cloudaudit.googleapis.com/activity"))';

export interface SignerAuditLogArgs {
    project: pulumi.Input<string>;
    /** Location of the log bucket (the enclave's region keeps the logs with the key). */
    location: pulumi.Input<string>;
    retentionDays: number;
    /** Lock the bucket's retention (irreversible). */
    locked: boolean;
}

export interface SignerAuditLog {
    bucket: gcp.logging.ProjectBucketConfig;
    sink: gcp.logging.ProjectSink;
}

/** Creates the log bucket and the sink as children of `parent`, names derived from `name`. */
export function createSignerAuditLog(name: string, args: SignerAuditLogArgs, parent: pulumi.Resource): SignerAuditLog {
    const bucket = new gcp.logging.ProjectBucketConfig(`${name}-kms-log`, {
        project: args.project,
        location: args.location,
        bucketId: `${name}-kms-audit`,
        description: "Cloud KMS audit logs of the provenance signer (I12); retention locked.",
        retentionDays: args.retentionDays,
        locked: args.locked,
    }, { parent });
    // Same-project destination: the sink needs no grant on the bucket.
    const sink = new gcp.logging.ProjectSink(`${name}-kms-log-sink`, {
        project: args.project,
        name: `${name}-kms-audit`,
        destination: pulumi.interpolate`logging.googleapis.com/projects/${bucket.project}/locations/${bucket.location}/buckets/${bucket.bucketId}`,
        filter: KMS_AUDIT_LOG_FILTER,
        description: "Copies every Cloud KMS audit entry of the signer project into the locked log bucket (I12).",
    }, { parent });
    return { bucket, sink };
}
