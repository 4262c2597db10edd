/**
 * The signer service stays inside the enclave (I10): internal-only ingress, and no public invoker.
 *
 * Ingress is checked on Cloud Run services labelled `build-fleet-role=signer`. A service with the invoker
 * IAM check off is public whatever it runs, so it is reported here; public IAM grants on Cloud Run need
 * the stack (which service they target) and are judged by the stack rule `cloud-run-no-public-invoker`.
 */
import { FleetResourcePolicy } from "../../meta";
import { roleOf } from "../../model/labels";
import { get, unknown } from "../../model/props";
import { allOf, boolish, forTypes, undecided } from "../../recognisers/common";

export const CLOUD_RUN_V2_SERVICE = "gcp:cloudrunv2/service:Service";
export const CLOUD_RUN_V1_SERVICE = "gcp:cloudrun/service:Service";
/** IAM resources on Cloud Run services (v2 and v1). */
export const CLOUD_RUN_SERVICE_IAM_TYPES: readonly string[] = [
    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
    "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding",
    "gcp:cloudrunv2/serviceIamPolicy:ServiceIamPolicy",
    "gcp:cloudrun/iamMember:IamMember",
    "gcp:cloudrun/iamBinding:IamBinding",
    "gcp:cloudrun/iamPolicy:IamPolicy",
];

const V1_INGRESS_ANNOTATION = "run.googleapis.com/ingress";
const V1_INVOKER_IAM_DISABLED_ANNOTATION = "run.googleapis.com/invoker-iam-disabled";

export const signerServiceInternalIngress: FleetResourcePolicy = {
    name: "signer-service-internal-ingress",
    description: "[I10] The signer's Cloud Run service accepts internal traffic only (INGRESS_TRAFFIC_INTERNAL_ONLY).",
    enforcementLevel: "mandatory",
    meta: {
        checks: "signer Cloud Run ingress internal only",
        invariants: ["I10"],
        fix: "Set `ingress: \"INGRESS_TRAFFIC_INTERNAL_ONLY\"` (Cloud Run v2) or the annotation `run.googleapis.com/ingress: internal` (v1).",
    },
    validateResource: allOf(
        forTypes([CLOUD_RUN_V2_SERVICE], (props, args, report) => {
            if (roleOf(args.type, props) !== "signer") {
                return;
            }
            const ingress = get(props, "ingress");
            if (unknown(ingress)) {
                undecided(report, "ingress of the signer service is unknown.");
            } else if (ingress !== "INGRESS_TRAFFIC_INTERNAL_ONLY") {
                report(`signer service ingress is ${ingress === undefined ? "not set (defaults to INGRESS_TRAFFIC_ALL)" : JSON.stringify(ingress)}; it must be INGRESS_TRAFFIC_INTERNAL_ONLY.`);
            }
        }),
        forTypes([CLOUD_RUN_V1_SERVICE], (props, args, report) => {
            if (roleOf(args.type, props) !== "signer") {
                return;
            }
            const ingress = get(props, "metadata", "annotations", V1_INGRESS_ANNOTATION);
            if (unknown(ingress)) {
                undecided(report, `metadata.annotations["${V1_INGRESS_ANNOTATION}"] of the signer service is unknown.`);
            } else if (ingress !== "internal") {
                report(`signer service annotation ${V1_INGRESS_ANNOTATION} is ${ingress === undefined ? "not set (defaults to all)" : JSON.stringify(ingress)}; it must be "internal".`);
            }
        }),
    ),
};

export const signerServiceNoPublicInvoker: FleetResourcePolicy = {
    name: "signer-service-no-public-invoker",
    description: "[I10] No Cloud Run service (in particular the signer) turns the invoker IAM check off (public grants: cloud-run-no-public-invoker).",
    enforcementLevel: "mandatory",
    meta: {
        checks: "no Cloud Run service turns the invoker IAM check off (public IAM grants: `cloud-run-no-public-invoker`)",
        invariants: ["I10"],
        fix: "Keep the invoker IAM check on (invokerIamDisabled false, no run.googleapis.com/invoker-iam-disabled annotation) and grant roles/run.invoker to named identities.",
    },
    validateResource: allOf(
        forTypes([CLOUD_RUN_V2_SERVICE], (props, _args, report) => {
            const disabled = boolish(get(props, "invokerIamDisabled"));
            if (disabled === "unknown") {
                undecided(report, "invokerIamDisabled is unknown.");
            } else if (disabled === true) {
                report("invokerIamDisabled is true: the service accepts unauthenticated invocations.");
            }
        }),
        forTypes([CLOUD_RUN_V1_SERVICE], (props, _args, report) => {
            const disabled = boolish(get(props, "metadata", "annotations", V1_INVOKER_IAM_DISABLED_ANNOTATION));
            if (disabled === "unknown") {
                undecided(report, `metadata.annotations["${V1_INVOKER_IAM_DISABLED_ANNOTATION}"] is unknown.`);
            } else if (disabled === true) {
                report(`annotation ${V1_INVOKER_IAM_DISABLED_ANNOTATION} is true: the service accepts unauthenticated invocations.`);
            }
        }),
    ),
};

/** An image reference that cannot change under the fleet: `<repo>@sha256:<64 hex>`. */
export const DIGEST_PINNED = /@sha256:[0-9a-f]{64}$/;

export const signerServicePolicies: FleetResourcePolicy[] = [signerServiceInternalIngress, signerServiceNoPublicInvoker];
