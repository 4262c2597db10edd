/**
 * CIDR arithmetic for the network separation rules (I4, I5): ranges are compared by overlap,
 * never by string equality, so `10.0.0.0/8` and `10.1.2.0/24` are seen to meet.
 */
import * as ipaddr from "ipaddr.js";
import { PRIVATE_VIP_CIDR, RESTRICTED_VIP_CIDR } from "../../components/networks";

export interface Cidr {
    text: string;
    kind: "ipv4" | "ipv6";
    /** The network address (host bits cleared). */
    net: ipaddr.IPv4 | ipaddr.IPv6;
    prefix: number;
}

/** Parses `a.b.c.d/n`, an IPv6 CIDR, or a bare address (as /32 or /128); undefined when not a range. */
export function parseCidr(text: unknown): Cidr | undefined {
    if (typeof text !== "string") {
        return undefined;
    }
    const s = text.trim();
    try {
        if (s.includes("/")) {
            const [addr, prefix] = ipaddr.parseCIDR(s);
            const net = addr.kind() === "ipv4"
                ? ipaddr.IPv4.networkAddressFromCIDR(s)
                : ipaddr.IPv6.networkAddressFromCIDR(s);
            return { text: s, kind: addr.kind(), net, prefix };
        }
        const addr = ipaddr.parse(s);
        return { text: s, kind: addr.kind(), net: addr, prefix: addr.kind() === "ipv4" ? 32 : 128 };
    } catch {
        return undefined;
    }
}

/** True when the two ranges share at least one address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
    if (a.kind !== b.kind) {
        return false;
    }
    const p = Math.min(a.prefix, b.prefix);
    return (a.net as any).match(b.net, p) === true;
}

/** True when every address of `inner` is in `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
    return outer.kind === inner.kind && inner.prefix >= outer.prefix && (inner.net as any).match(outer.net, outer.prefix) === true;
}

/** True for 0.0.0.0/0 and ::/0. */
export function isAnywhere(c: Cidr): boolean {
    return c.prefix === 0;
}

/** The restricted Google APIs VIP (restricted.googleapis.com). */
export const RESTRICTED_VIP = parseCidr(RESTRICTED_VIP_CIDR)!;
/** The private Google APIs VIP (private.googleapis.com): reaches APIs outside VPC Service Controls. */
export const PRIVATE_VIP = parseCidr(PRIVATE_VIP_CIDR)!;

/** The first and last address of a range, as integers. */
function bounds(c: Cidr): [bigint, bigint] {
    const bits = c.kind === "ipv4" ? 32 : 128;
    let start = 0n;
    for (const b of c.net.toByteArray()) {
        start = (start << 8n) | BigInt(b);
    }
    return [start, start + (1n << BigInt(bits - c.prefix)) - 1n];
}

/**
 * The address family whose every address the ranges cover together (e.g. `0.0.0.0/1` and
 * `128.0.0.0/1` are all of IPv4, as much as `0.0.0.0/0` is), or undefined.
 */
export function coveredFamily(ranges: Cidr[]): "ipv4" | "ipv6" | undefined {
    for (const kind of ["ipv4", "ipv6"] as const) {
        const last = (1n << BigInt(kind === "ipv4" ? 32 : 128)) - 1n;
        const spans = ranges.filter((c) => c.kind === kind).map(bounds).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        let next = 0n;
        for (const [start, end] of spans) {
            if (start > next) {
                break;
            }
            if (end + 1n > next) {
                next = end + 1n;
            }
        }
        if (spans.length > 0 && next > last) {
            return kind;
        }
    }
    return undefined;
}

/** Spans minus holes, as [first, last] address pairs of one family. */
function minusSpans(spans: [bigint, bigint][], holes: [bigint, bigint][]): [bigint, bigint][] {
    let out = spans;
    for (const [hs, he] of holes) {
        out = out.flatMap(([s, e]): [bigint, bigint][] => {
            if (he < s || hs > e) {
                return [[s, e]];
            }
            const parts: [bigint, bigint][] = [];
            if (hs > s) {
                parts.push([s, hs - 1n]);
            }
            if (he < e) {
                parts.push([he + 1n, e]);
            }
            return parts;
        });
    }
    return out;
}

/**
 * Which of `targets` the blocks (each a range minus its exceptions, as a NetworkPolicy ipBlock) reach
 * together: any address of a target inside the union counts. Blocks of another family are ignored.
 */
export function reachedTogether(blocks: { cidr: Cidr; except: Cidr[] }[], targets: Cidr[]): Cidr[] {
    const spans = blocks.flatMap((b) => minusSpans([bounds(b.cidr)], b.except.filter((x) => x.kind === b.cidr.kind).map(bounds)).map((sp) => ({ kind: b.cidr.kind, sp })));
    return targets.filter((t) => {
        const [ts, te] = bounds(t);
        return spans.some((x) => x.kind === t.kind && !(x.sp[1] < ts || x.sp[0] > te));
    });
}
