/**
 * Safe access to policy props during a preview.
 *
 * The CrossGuard analyzer wraps props in a proxy that throws `UnknownValueError` when a rule reads a
 * value that is unknown until deployment; the analyzer then turns the throw into an advisory
 * "can't run policy during preview". Rules in this pack want to decide where they can (from literal
 * values and from property dependencies), so they read the raw object behind the proxy and treat the
 * unknown sentinels explicitly.
 */
// Property names the analyzer proxy answers (@pulumi/policy proxy.js; its typings are internal).
const isSpecialProxy = "__isSpecialProxy";
const getSpecialProxyTarget = "__getSpecialProxyTarget";

/** The analyzer's sentinels for values unknown during preview, by type. */
const UNKNOWN_SENTINELS = new Set<string>([
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", // boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421", // number
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9", // string (also the engine's wire form of any unknown)
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", // array
    "030794c1-ac77-496b-92df-f27374a8bd58", // asset
    "e48ece36-62e2-4504-bad9-02848725956a", // archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", // object
]);

/** True when `v` is a value the engine does not know yet (preview). */
export function isUnknown(v: unknown): boolean {
    return typeof v === "string" && UNKNOWN_SENTINELS.has(v);
}

/** The plain object behind the analyzer's unknown-checking proxy (or `v` itself when not proxied). */
export function unwrap<T = any>(v: T): T {
    if (v !== null && typeof v === "object" && (v as any)[isSpecialProxy] === true) {
        return (v as any)[getSpecialProxyTarget] as T;
    }
    return v;
}

/**
 * Reads a nested path from raw props without throwing. Returns `UNKNOWN` when the value or any
 * parent on the path is unknown, `undefined` when absent.
 */
export const UNKNOWN_VALUE: unique symbol = Symbol("unknown");
export function get(props: unknown, ...path: (string | number)[]): any {
    let cur: any = unwrap(props);
    for (const key of path) {
        if (isUnknown(cur)) {
            return UNKNOWN_VALUE;
        }
        if (cur === null || cur === undefined || typeof cur !== "object") {
            return undefined;
        }
        cur = cur[key];
    }
    return isUnknown(cur) ? UNKNOWN_VALUE : cur;
}

/** True when a value read with `get` is unknown. */
export function unknown(v: unknown): v is typeof UNKNOWN_VALUE {
    return v === UNKNOWN_VALUE || isUnknown(v);
}

/** Reads an array-valued path; unknown stays unknown, absent becomes []. */
export function list(props: unknown, ...path: (string | number)[]): any[] | typeof UNKNOWN_VALUE {
    const v = get(props, ...path);
    if (v === UNKNOWN_VALUE) {
        return v;
    }
    return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
}

/** Prefix of every finding a rule reports because a deciding value is unknown during a preview. */
export const UNDECIDED_PREFIX = "cannot decide during preview:";

/**
 * Reports an advisory finding (a policy that cannot decide says so, never passes
 * silently). The analyzer's reportViolation (@pulumi/policy server.js, makeReportViolationFun)
 * accepts a violation object whose `enforcementLevel` overrides the policy's level for that one
 * finding; its typings declare only the string form, hence the cast.
 */
export function reportAdvisory(report: (message: string, urn?: string) => void, message: string, urn?: string): void {
    (report as unknown as (v: { message: string; urn?: string; enforcementLevel: "advisory" }) => void)({ message, urn, enforcementLevel: "advisory" });
}
