/**
 * CIDR arithmetic for the network separation rules (I4, I5): ranges are compared by overlap,
 * never by string equality, so `10.0.0.0/8` and `10.1.2.0/24` are seen to meet.
 */
import * as ipaddr from "ipaddr.js";

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
export const RESTRICTED_VIP = parseCidr("199.36.153.4/30")!;
/** The private Google APIs VIP (private.googleapis.com): reaches APIs outside VPC Service Controls. */
export const PRIVATE_VIP = parseCidr("199.36.153.8/30")!;
