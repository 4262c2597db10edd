/** Nearest-rank percentile (p in 0-100) of `xs`; 0 for an empty list. One definition for the simulation and the benchmarks. */
export function percentile(xs: number[], p: number): number {
    if (xs.length === 0) {
        return 0;
    }
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
