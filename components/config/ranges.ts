/** CIDR fields and the cross-field address-space checks (I5 pool separation, I10 enclave isolation). */
import { constantRange, Ipv4Range, overlaps, parseIpv4Cidr, PRIVATE_VIP_CIDR, RESTRICTED_VIP_CIDR, suggestFreeRange } from "./cidr";
import { FieldReader } from "./fields";
import { IssueCollector } from "./issues";

/** A parsed range and the field it came from. */
export interface NamedRange {
    path: string;
    range: Ipv4Range;
    /** Human label of the zone owning it: `pool "linux"` or `signer`. */
    owner: string;
}

/** Google API VIPs the fleet's private DNS points at; no fleet subnet may shadow them (I4). */
const GOOGLE_API_VIPS: readonly NamedRange[] = [
    { path: "restricted.googleapis.com", owner: "Google APIs", range: constantRange(RESTRICTED_VIP_CIDR) },
    { path: "private.googleapis.com", owner: "Google APIs", range: constantRange(PRIVATE_VIP_CIDR) },
];

/** Validates one CIDR string at `path`; records an issue and returns undefined when it is bad. */
export function checkCidr(issues: IssueCollector, path: string, value: string): Ipv4Range | undefined {
    const parsed = parseIpv4Cidr(value);
    if (!parsed.ok) {
        issues.add(path, value, parsed.problem, parsed.fix);
        return undefined;
    }
    return parsed.range;
}

/** Reads an optional or required CIDR field of `f`. */
export function readCidr(f: FieldReader, key: string, opts: { example: string; required?: boolean }): Ipv4Range | undefined {
    const value = f.string(key, opts);
    return value === undefined ? undefined : checkCidr(f.issues, f.pathOf(key), value);
}

/**
 * Records a subnet range too small for its use: a GCP subnet needs /29 or larger; the signer's needs
 * /26 or larger because Cloud Run Direct VPC egress reserves addresses from it.
 */
export function checkSubnetSize(issues: IssueCollector, path: string, range: Ipv4Range, maxPrefix = 29, why = "a GCP subnet range"): boolean {
    if (range.prefix > maxPrefix) {
        const fixPrefix = maxPrefix >= 29 ? 24 : maxPrefix;
        issues.add(path, range.cidr, `is a /${range.prefix}; ${why} must be /${maxPrefix} or larger`, `use a larger range, e.g. ${range.cidr.split("/")[0]}/${fixPrefix}`);
        return false;
    }
    return true;
}

function describe(r: NamedRange): string {
    return `${r.path} = ${r.range.cidr} (${r.owner})`;
}

/**
 * Reports every range that overlaps an earlier one. Fleet ranges (pool primary and secondary
 * ranges, the signer subnet) must be pairwise disjoint so firewall rules and flow logs identify
 * one zone per address (I5, I12), and must not shadow the Google API VIPs.
 */
export function reportOverlaps(issues: IssueCollector, ranges: readonly NamedRange[]): void {
    // A range already reported is treated as removed, so one bad range yields one issue.
    const reported = new Set<NamedRange>();
    ranges.forEach((current, j) => {
        const vip = GOOGLE_API_VIPS.find((v) => overlaps(v.range, current.range));
        if (vip !== undefined) {
            reported.add(current);
            const free = suggestFreeRange(rangeIn10(current.range), ranges.map((r) => r.range)) ?? "10.10.0.0/24";
            issues.add(current.path, current.range.cidr, `overlaps the ${vip.path} VIP ${vip.range.cidr} that Google API traffic is routed to (I4)`, `choose a private range, e.g. ${free}`);
            return;
        }
        const earlier = ranges.slice(0, j).filter((other) => !reported.has(other) && overlaps(other.range, current.range));
        if (earlier.length === 0) {
            return;
        }
        reported.add(current);
        const free = suggestFreeRange(current.range, ranges.filter((_, i) => i !== j).map((r) => r.range));
        issues.add(
            current.path,
            current.range.cidr,
            `overlaps ${earlier.map(describe).join(" and ")}; pool and signer ranges must be disjoint (I5)`,
            free === undefined ? "choose a range that overlaps no other pool or signer range" : `choose a disjoint range, e.g. ${free}`,
        );
    });
}

/** The same-sized block at the start of 10.0.0.0/8, as a search start for suggestions. */
function rangeIn10(range: Ipv4Range): Ipv4Range {
    const prefix = Math.max(range.prefix, 8);
    return { cidr: `10.0.0.0/${prefix}`, prefix, first: 0x0a000000, last: 0x0a000000 + 2 ** (32 - prefix) - 1 };
}

/**
 * A GKE control-plane range is peered into its own pool's VPC only, so it must be disjoint from
 * that pool's ranges; pools may share the default because their VPCs never meet (I5).
 */
export function reportMasterOverlaps(issues: IssueCollector, master: NamedRange, poolRanges: readonly NamedRange[]): void {
    const clashes = poolRanges.filter((r) => overlaps(r.range, master.range));
    if (clashes.length > 0) {
        const free = suggestFreeRange(master.range, poolRanges.map((r) => r.range));
        issues.add(
            master.path,
            master.range.cidr,
            `overlaps ${clashes.map(describe).join(" and ")} in the same VPC`,
            free === undefined ? "choose a /28 disjoint from this pool's ranges" : `use ${free}`,
        );
    }
}

/**
 * An egress allow-list entry covering another zone's range would open a firewall path from one
 * pool to another pool or to the signer enclave (I5, I10).
 */
export function reportEgressIntoFleet(issues: IssueCollector, egress: NamedRange, foreign: readonly NamedRange[]): void {
    const hits = foreign.filter((r) => overlaps(r.range, egress.range));
    if (hits.length > 0) {
        issues.add(
            egress.path,
            egress.range.cidr,
            `covers ${hits.map(describe).join(" and ")}, opening a path between isolation zones (I5, I10)`,
            "remove it: pools and the signer must not reach each other; list only external destinations",
        );
    }
}
