/**
 * What the reports say about a policy: its description, invariants, SLSA clause and fix. Works for
 * any CrossGuard policy: the pack's `meta` first, else the SDK's own fields (`remediationSteps`,
 * `framework.specification`, invariant ids among `tags`); "—" for what a policy declares in neither.
 */
import type { Policy } from "@pulumi/policy/policy"; // not the index: see policies/meta.ts
import { InvariantId, PolicyMeta, slsaClause } from "../../policies/meta";

/** Placeholder for metadata a policy does not declare. */
export const NONE = "—";

/** Short names of the invariants, so a report line reads "I3 no inbound". */
export const INVARIANT_TITLES: Record<InvariantId, string> = {
    I1: "ephemeral",
    I2: "bounded lifetime",
    I3: "no inbound",
    I4: "egress allow-list",
    I5: "pool separation",
    I6: "hardened host",
    I7: "no standing credentials on workers",
    I8: "HSM signing key",
    I9: "single signer",
    I10: "enclave isolation",
    I11: "provenance by control plane",
    I12: "audit trail",
};

export interface PolicyInfo {
    name: string;
    description: string;
    /** Invariant ids, e.g. ["I3"]; empty when the policy declares none. */
    invariants: string[];
    /** "I3 no inbound; I4 egress allow-list", or "—". */
    invariantText: string;
    /** The SLSA Build L3 clause, or "—". */
    slsaClause: string;
    /** How to fix a violation, or "—". */
    fix: string;
}

function metaOf(p: Policy): PolicyMeta | undefined {
    const meta = (p as { meta?: unknown }).meta as PolicyMeta | undefined;
    return meta && Array.isArray(meta.invariants) ? meta : undefined;
}

/** Report metadata for one policy. */
export function describePolicy(p: Policy): PolicyInfo {
    const meta = metaOf(p);
    const invariants = meta ? meta.invariants.map(String) : (p.tags ?? []).filter((t) => /^I\d+$/.test(t));
    const known = invariants.filter((i): i is InvariantId => i in INVARIANT_TITLES);
    const fix = (meta?.fix ?? p.remediationSteps ?? "").trim();
    const clause = meta && known.length > 0 ? slsaClause({ invariants: known, fix }) : p.framework?.specification?.trim();
    return {
        name: p.name,
        description: p.description ?? NONE,
        invariants,
        invariantText: invariants.length > 0 ? invariants.map((i) => (i in INVARIANT_TITLES ? `${i} ${INVARIANT_TITLES[i as InvariantId]}` : i)).join("; ") : NONE,
        slsaClause: clause ? clause : NONE,
        fix: fix !== "" ? fix : NONE,
    };
}

/** Report metadata by policy name; a violation naming an unknown policy still gets an entry. */
export function policyIndex(policies: readonly Policy[]): (name: string) => PolicyInfo {
    const byName = new Map(policies.map((p) => [p.name, describePolicy(p)]));
    return (name) => byName.get(name) ?? { name, description: NONE, invariants: [], invariantText: NONE, slsaClause: NONE, fix: NONE };
}

/**
 * The violation's own detail: the analyzer prefixes every message with the policy description
 * (and a blank line or newline); reports that already show the description drop it.
 */
export function violationDetail(message: string, description: string): string {
    const trimmed = message.trim();
    if (description !== NONE && trimmed.startsWith(description)) {
        const rest = trimmed.slice(description.length).trim();
        return rest === "" ? trimmed : rest;
    }
    return trimmed;
}
