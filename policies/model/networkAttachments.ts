/**
 * Private Service Connect network attachments: a producer (a VM's PSC interface, Vertex AI, Cloud
 * Run of another project) gets addresses in the subnets an attachment names. Read by the compute
 * model (an interface puts its VM there) and by the network joins (the attachment joins the subnet's
 * network to the producers').
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { get, unknown } from "./props";
import { depsOf, resolveRef, str } from "./lookup";
import { T } from "./types";

export const NETWORK_ATTACHMENT = "gcp:compute/networkAttachment:NetworkAttachment";

/** What the lookups need of the model (the compute index and the fleet graph both have it). */
interface SubnetLookups {
    props(r: PolicyResource): Record<string, any>;
    projectOf(r: PolicyResource): unknown;
    findSubnets(ref: string, project?: string): PolicyResource[];
}

/** The subnets a PSC network attachment names (`subnetworks`), by value or dependency. */
export function attachmentSubnets(g: SubnetLookups, att: PolicyResource): { subnets: PolicyResource[]; unknown: boolean } {
    const raw = get(g.props(att), "subnetworks");
    const project = str(g.projectOf(att));
    if (unknown(raw) || (Array.isArray(raw) && raw.some((v) => unknown(v)))) {
        const subnets = depsOf(att, "subnetworks", [T.subnetwork]);
        return { subnets, unknown: subnets.length === 0 };
    }
    const subnets: PolicyResource[] = [];
    for (const v of Array.isArray(raw) ? raw : []) {
        subnets.push(...resolveRef(att, "subnetworks", v, [T.subnetwork], (ref) => g.findSubnets(ref, project)).found);
    }
    return { subnets: [...new Set(subnets)], unknown: false };
}

/** Network attachments of the stack that a reference (name, id or self link) names. */
export function findAttachments(all: PolicyResource[], ref: string): PolicyResource[] {
    return all.filter((a) => [get(a.props, "name"), get(a.props, "id"), get(a.props, "selfLink")]
        .some((v) => typeof v === "string" && !unknown(v) && (v === ref || ref.endsWith(`/networkAttachments/${v}`))));
}
