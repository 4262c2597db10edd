/**
 * Nothing in the stack is public (I7, I10): no IAM Member/Binding/Policy of any GCP service, and no
 * Cloud Storage ACL, grants `allUsers` or `allAuthenticatedUsers`. Grants on Cloud Run services are
 * left to `signer-service-no-public-invoker`, so each finding fires one policy.
 */
import { FleetResourcePolicy } from "../../meta";
import { get, list, unknown } from "../../model/props";
import { allOf, forTypes, undecided } from "../../recognisers/common";
import { isIamGrantType, isPublicPrincipal, publicGrants } from "../../recognisers/iamMembers";
import { CLOUD_RUN_SERVICE_IAM_TYPES } from "./signerService";

/** Storage ACL resources with a single `entity`. */
const STORAGE_ENTITY_ACL_TYPES: readonly string[] = [
    "gcp:storage/bucketAccessControl:BucketAccessControl",
    "gcp:storage/objectAccessControl:ObjectAccessControl",
    "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl",
];
/** Storage ACL resources with `roleEntities` ("ROLE:entity") and possibly a `predefinedAcl`. */
const STORAGE_ROLE_ENTITIES_ACL_TYPES: readonly string[] = [
    "gcp:storage/bucketACL:BucketACL",
    "gcp:storage/defaultObjectACL:DefaultObjectACL",
    "gcp:storage/objectACL:ObjectACL",
];
/** Predefined (canned) ACLs that make a bucket or object public. */
const PUBLIC_PREDEFINED_ACLS = new Set(["publicread", "publicreadwrite", "public-read", "public-read-write"]);

export const noPublicIam: FleetResourcePolicy = {
    name: "no-public-iam",
    description: "[I7] No IAM binding or storage ACL anywhere in the stack grants allUsers or allAuthenticatedUsers.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "no public principal in any other IAM Member/Binding/Policy or storage ACL",
        invariants: ["I7", "I10"],
        fix: "Remove allUsers / allAuthenticatedUsers (and public predefined ACLs); grant roles to the specific service accounts that need them.",
    },
    validateResource: allOf(
        forTypes((t) => isIamGrantType(t) && !CLOUD_RUN_SERVICE_IAM_TYPES.includes(t), (props, args, report) => {
            const { found, undecidable } = publicGrants(args.type, props);
            if (undecidable) {
                undecided(report, undecidable);
            }
            if (found.length > 0) {
                report(`IAM grants ${found.join(", ")}: anyone on the internet gets the role.`);
            }
        }),
        forTypes(STORAGE_ENTITY_ACL_TYPES, (props, _args, report) => {
            const entity = get(props, "entity");
            if (isPublicPrincipal(entity)) {
                report(`storage ACL grants ${JSON.stringify(get(props, "role") ?? "a role")} to ${entity}.`);
            }
        }),
        forTypes(STORAGE_ROLE_ENTITIES_ACL_TYPES, (props, _args, report) => {
            const predefined = get(props, "predefinedAcl");
            if (typeof predefined === "string" && PUBLIC_PREDEFINED_ACLS.has(predefined.toLowerCase())) {
                report(`predefinedAcl ${JSON.stringify(predefined)} makes the data public.`);
            }
            const entries = list(props, "roleEntities");
            if (unknown(entries)) {
                return;
            }
            const pub = entries.filter((e) => typeof e === "string" && isPublicPrincipal(e.slice(e.indexOf(":") + 1)));
            if (pub.length > 0) {
                report(`storage ACL roleEntities grant ${pub.join(", ")}.`);
            }
        }),
    ),
};

export const publicIamPolicies: FleetResourcePolicy[] = [noPublicIam];
