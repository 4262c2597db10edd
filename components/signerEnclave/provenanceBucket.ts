/**
 * The provenance bucket of a `SignerEnclave`: private, retention-protected storage that only the
 * signer identity can write (I10, I11). No object versioning: Cloud Storage refuses a bucket with both
 * versioning and a locked retention policy, and the retention policy already makes every object
 * write-once (no overwrite, no delete) for its period.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { roleLabels } from "../labels";

export const PROVENANCE_WRITER_ROLE = "roles/storage.objectCreator";
export const PROVENANCE_READER_ROLE = "roles/storage.objectViewer";
/** GCS rejects retention periods of 3,155,760,000 seconds (100 years) or more. */
export const MAX_RETENTION_DAYS = 36524;

export interface ProvenanceBucketArgs {
    project: pulumi.Input<string>;
    location: pulumi.Input<string>;
    retentionDays: number;
    /** Lock the retention policy: irreversible, the period can then only grow and the bucket outlives it (opt-in). */
    locked: boolean;
    /** The only member granted `roles/storage.objectCreator`. */
    writerMember: pulumi.Input<string>;
    /** Members granted `roles/storage.objectViewer`; no binding when empty. */
    readers: pulumi.Input<string>[];
}

export interface ProvenanceBucket {
    bucket: gcp.storage.Bucket;
    writerBinding: gcp.storage.BucketIAMBinding;
    readerBinding?: gcp.storage.BucketIAMBinding;
}

/** Creates the bucket and its IAM as children of `parent`, names derived from `name`. */
export function createProvenanceBucket(name: string, args: ProvenanceBucketArgs, parent: pulumi.Resource): ProvenanceBucket {
    const bucket = new gcp.storage.Bucket(`${name}-provenance`, {
        project: args.project,
        location: args.location,
        // I10: IAM only (no ACLs), never public.
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        // Provenance is evidence: the retention policy forbids deletion or overwrite for its period. No
        // versioning: it cannot be combined with a locked retention policy, and there is nothing to keep.
        versioning: { enabled: false },
        retentionPolicy: { retentionPeriod: String(args.retentionDays * 86400), isLocked: args.locked },
        forceDestroy: false,
        labels: roleLabels("signer"),
    }, { parent });

    // I11: AUTHORITATIVE for the create role: only the signer writes provenance (create, not overwrite/delete).
    const writerBinding = new gcp.storage.BucketIAMBinding(`${name}-provenance-writer`, {
        bucket: bucket.name,
        role: PROVENANCE_WRITER_ROLE,
        members: [args.writerMember],
    }, { parent });

    const readerBinding = args.readers.length > 0
        ? new gcp.storage.BucketIAMBinding(`${name}-provenance-readers`, {
            bucket: bucket.name,
            role: PROVENANCE_READER_ROLE,
            members: [...args.readers],
        }, { parent })
        : undefined;

    return { bucket, writerBinding, readerBinding };
}
