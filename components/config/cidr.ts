/** IPv4 CIDR parsing (ipaddr.js), overlap tests and free-range suggestions. */
import * as ipaddr from "ipaddr.js";

/** An inclusive IPv4 address interval, as unsigned 32-bit integers. */
export interface Ipv4Range {
    cidr: string;
    prefix: number;
    first: number;
    last: number;
}

export type CidrParse = { ok: true; range: Ipv4Range } | { ok: false; problem: string; fix: string };

// Strict dotted-quad form: ipaddr.js alone also accepts "10.1/16", octal and hex forms.
const DOTTED_CIDR = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;
const EXAMPLE = "10.10.0.0/24";

function toUint(address: ipaddr.IPv4): number {
    return address.toByteArray().reduce((acc, byte) => acc * 256 + byte, 0);
}

function fromUint(value: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

function rangeOf(first: number, prefix: number): Ipv4Range {
    const size = 2 ** (32 - prefix);
    return { cidr: `${fromUint(first)}/${prefix}`, prefix, first, last: first + size - 1 };
}

/** Parses an IPv4 network in CIDR notation, requiring the network address (no host bits). */
export function parseIpv4Cidr(value: string): CidrParse {
    if (!value.includes("/")) {
        if (ipaddr.IPv4.isValidFourPartDecimal(value)) {
            return { ok: false, problem: "is an address, not a CIDR range", fix: `use ${value}/32 for a single address` };
        }
        return { ok: false, problem: "is not an IPv4 CIDR range", fix: `use dotted-quad CIDR notation, e.g. ${EXAMPLE}` };
    }
    if (ipaddr.IPv6.isValidCIDR(value)) {
        return { ok: false, problem: "is an IPv6 range; the fleet's subnets and allow-lists are IPv4", fix: `use an IPv4 range, e.g. ${EXAMPLE}` };
    }
    if (!DOTTED_CIDR.test(value) || !ipaddr.IPv4.isValidCIDRFourPartDecimal(value)) {
        return { ok: false, problem: "is not an IPv4 CIDR range", fix: `use dotted-quad CIDR notation with a prefix length 0-32, e.g. ${EXAMPLE}` };
    }
    const [address, prefix] = ipaddr.IPv4.parseCIDR(value);
    const network = ipaddr.IPv4.networkAddressFromCIDR(value);
    const range = rangeOf(toUint(network), prefix);
    if (toUint(address) !== range.first) {
        return { ok: false, problem: "is not a network address (host bits are set)", fix: `use ${range.cidr}` };
    }
    return { ok: true, range };
}

/** A built-in range known to be valid (throws otherwise: a programming error). */
export function constantRange(cidr: string): Ipv4Range {
    const parsed = parseIpv4Cidr(cidr);
    if (!parsed.ok) {
        throw new Error(`bad built-in range ${cidr}: ${parsed.problem}`);
    }
    return parsed.range;
}

export { RESTRICTED_VIP_CIDR, PRIVATE_VIP_CIDR } from "../networks";

export function overlaps(a: Ipv4Range, b: Ipv4Range): boolean {
    return a.first <= b.last && b.first <= a.last;
}

/** True for RFC 1918 private space (GKE requires it for the control-plane range). */
export function isRfc1918(range: Ipv4Range): boolean {
    const parsed = ipaddr.IPv4.parse(fromUint(range.first));
    return parsed.range() === "private" && ipaddr.IPv4.parse(fromUint(range.last)).range() === "private";
}

const PRIVATE_BLOCKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((cidr) => {
    const [address, prefix] = ipaddr.IPv4.parseCIDR(cidr);
    return rangeOf(toUint(address), prefix);
});

/**
 * The first range of the same size as `wanted` that starts after it and overlaps none of `taken`,
 * so a fix can name a concrete free range. The search stays inside the RFC 1918 block `wanted`
 * is in (if any); undefined when that block has no room.
 */
export function suggestFreeRange(wanted: Ipv4Range, taken: readonly Ipv4Range[]): string | undefined {
    const size = 2 ** (32 - wanted.prefix);
    const block = PRIVATE_BLOCKS.find((b) => b.first <= wanted.first && wanted.last <= b.last);
    const limit = block?.last ?? 0xffffffff;
    let first = wanted.first;
    for (let step = 0; step < 65536 && first + size - 1 <= limit; step++) {
        const candidate = rangeOf(first, wanted.prefix);
        const blocker = taken.filter((t) => overlaps(t, candidate)).reduce((max, t) => Math.max(max, t.last), -1);
        if (blocker < 0) {
            return candidate.cidr;
        }
        first = Math.ceil((blocker + 1) / size) * size;
    }
    return undefined;
}
