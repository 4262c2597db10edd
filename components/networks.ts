/**
 * Network facts that components build with and policies check against: one source, imported by both.
 */

/** The restricted Google APIs VIP (restricted.googleapis.com): only VPC-SC-supported APIs. */
export const RESTRICTED_VIP_CIDR = "199.36.153.4/30";
/** The private Google APIs VIP (private.googleapis.com): reaches APIs outside VPC Service Controls. */
export const PRIVATE_VIP_CIDR = "199.36.153.8/30";
/** The four addresses of the restricted VIP, as DNS A records. */
export const RESTRICTED_VIP_ADDRESSES = ["199.36.153.4", "199.36.153.5", "199.36.153.6", "199.36.153.7"];

/** Cloud Run Direct VPC egress needs a subnet of at least /26. */
export const DIRECT_VPC_EGRESS_MAX_PREFIX = 26;

/** A Google Cloud region name (`europe-west1`, `us-central1`, `northamerica-northeast2`). */
const REGION = /^[a-z]+(-[a-z]+)*[0-9]+$/;
export function isValidRegion(region: string): boolean {
    return REGION.test(region);
}
