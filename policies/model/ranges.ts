/** Address-range helpers for the network rules: an interval index over owned ranges. */
import { Cidr, contains, overlaps } from "./cidr";

/**
 * Interval index over owned ranges: answers "which owner's range overlaps this one" in
 * O(log n + hits), so rules stay linear overall.
 */
export class RangeIndex<O> {
    private v4: { start: number; end: number; owner: O; cidr: Cidr }[] = [];
    private v6: { owner: O; cidr: Cidr }[] = [];
    private maxEnd: number[] = [];
    private sorted = true;

    add(cidr: Cidr, owner: O): void {
        if (cidr.kind === "ipv4") {
            const [start, end] = v4Interval(cidr);
            this.v4.push({ start, end, owner, cidr });
            this.sorted = false;
        } else {
            this.v6.push({ owner, cidr });
        }
    }

    private sort(): void {
        if (this.sorted) {
            return;
        }
        this.v4.sort((a, b) => a.start - b.start);
        let m = -1;
        this.maxEnd = this.v4.map((e) => (m = Math.max(m, e.end)));
        this.sorted = true;
    }

    /** The first entry overlapping `q` for which `accept(owner)` holds. */
    findOverlap(q: Cidr, accept: (owner: O, cidr: Cidr) => boolean): { owner: O; cidr: Cidr } | undefined {
        if (q.kind === "ipv6") {
            return this.v6.find((e) => overlaps(e.cidr, q) && accept(e.owner, e.cidr));
        }
        this.sort();
        const [qs, qe] = v4Interval(q);
        // Last index with start <= qe.
        let lo = 0;
        let hi = this.v4.length - 1;
        let idx = -1;
        while (lo <= hi) {
            const mid = (lo + hi) >> 1;
            if (this.v4[mid].start <= qe) {
                idx = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        for (let i = idx; i >= 0 && this.maxEnd[i] >= qs; i--) {
            const e = this.v4[i];
            if (e.end >= qs && accept(e.owner, e.cidr)) {
                return { owner: e.owner, cidr: e.cidr };
            }
        }
        return undefined;
    }
}

function v4Interval(c: Cidr): [number, number] {
    const bytes = c.net.toByteArray();
    const start = ((bytes[0] << 24) >>> 0) + (bytes[1] << 16) + (bytes[2] << 8) + bytes[3];
    const size = 2 ** (32 - c.prefix);
    return [start, start + size - 1];
}

/** True when `c` lies entirely inside one of `own`. */
export function insideAny(c: Cidr, own: Cidr[]): boolean {
    return own.some((o) => contains(o, c));
}
