/**
 * bucket-versioning-with-locked-retention: Cloud Storage refuses to create (or update) a bucket that has
 * both object versioning and a locked retention policy, so a stack that declares the two stops at that
 * bucket on `pulumi up`, and everything depending on it (for the provenance bucket: the signer service)
 * with it. A locked retention policy is already write-once for its period; versioning adds nothing.
 */
import { FleetResourcePolicy } from "../../meta";
import { get } from "../../model/props";
import { boolish, forTypes, undecided } from "../../recognisers/common";

export const STORAGE_BUCKET = "gcp:storage/bucket:Bucket";

export const bucketVersioningWithLockedRetention: FleetResourcePolicy = {
    name: "bucket-versioning-with-locked-retention",
    description: "[I11, I12] No bucket combines object versioning with a locked retention policy (Cloud Storage refuses the bucket).",
    enforcementLevel: "mandatory",
    meta: {
        invariants: ["I11", "I12"],
        checks: "no Cloud Storage bucket enables object versioning together with a locked retention policy (Cloud Storage refuses such a bucket, stopping `pulumi up` there and everything that depends on it)",
        fix: "Drop `versioning` (set `versioning: { enabled: false }`): the locked retention policy already forbids overwriting or deleting objects.",
    },
    validateResource: forTypes([STORAGE_BUCKET], (props, _args, report) => {
        const versioning = boolish(get(props, "versioning", "enabled"));
        const locked = boolish(get(props, "retentionPolicy", "isLocked"));
        if (versioning === false || versioning === undefined || locked === false || locked === undefined) {
            return;
        }
        if (versioning === "unknown" || locked === "unknown") {
            undecided(report, "versioning.enabled or retentionPolicy.isLocked is unknown, so it is not known whether Cloud Storage accepts the bucket.");
            return;
        }
        report("the bucket enables object versioning and locks its retention policy; Cloud Storage refuses that combination, so `pulumi up` stops here. Drop versioning: the locked retention is already write-once.");
    }),
};
