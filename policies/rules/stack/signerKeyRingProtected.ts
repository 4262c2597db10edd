/**
 * signer-key-ring-deletion-protected (I8): the key ring of every signer key, and every key ring in
 * a signer project, is protected from deletion. A key ring holding no signer key elsewhere (a CMEK
 * ring) need not be: destroying it cannot take the signer key with it.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { get } from "../../model/props";
import { FleetStackPolicy } from "../../meta";
import { T } from "../../model";
import { stackRule } from "../../framework/stackRule";

function protectedRing(r: PolicyResource): boolean {
    const opts = r.opts as { protect?: boolean; retainOnDelete?: boolean } | undefined;
    const policy = get(r.props, "deletionPolicy");
    return opts?.protect === true || opts?.retainOnDelete === true || (typeof policy === "string" && ["PREVENT", "ABANDON"].includes(policy.toUpperCase()));
}

export const signerKeyRingDeletionProtected: FleetStackPolicy = stackRule({
    name: "signer-key-ring-deletion-protected",
    description: "[I8] The key ring of every signer key (and every key ring in a signer project) is protected from deletion (protect: true).",
    enforcementLevel: "mandatory",
    meta: {
        checks: "the key ring of every signer key, and every key ring in a signer project, has `protect: true` (or `deletionPolicy` PREVENT/ABANDON); a CMEK ring holding no signer key need not",
        invariants: ["I8"],
        fix: "Give the key ring the resource option `protect: true`.",
    },
    check: (g, report) => {
        const rings = new Map<string, PolicyResource>();
        for (const key of g.signerKeys) {
            const { ring } = g.ringOfKey(key);
            if (ring) {
                rings.set(ring.urn, ring);
            }
        }
        for (const r of g.of(T.keyRing)) {
            const p = g.projectOf(r);
            if (typeof p === "string" && g.signerProjects.has(p)) {
                rings.set(r.urn, r);
            }
        }
        for (const r of rings.values()) {
            if (!protectedRing(r)) {
                report(`key ring ${r.name} holds the signer key (or is in the signer project) and is not protected from deletion (set \`protect: true\`): destroying or replacing it destroys the signer key, and a Cloud KMS key ring name cannot be reused`, r.urn);
            }
        }
    },
});
