/**
 * Which resource types a validation can report on: a marker hosts may use to skip calling it for
 * other types.
 *
 * The analyzer has a fast path only for a validation tied to one type; this pack's rules cover
 * several types each (every VM kind, every pod-holding kind), so the analyzer builds props and
 * arguments for every resource only for the rule to return at once. A validation built with
 * `forTypes` (resource/common.ts) carries its type predicate under this registered symbol: for any
 * type the predicate rejects, calling it reports nothing and changes nothing, so a host that skips
 * the call gets the same result. The Pulumi CLI ignores the marker; the offline engine uses it.
 */
export const APPLIES_TO = Symbol.for("hardened-build-fleet:applies-to");

export type TypePredicate = (type: string) => boolean;

/** The predicate a validation declared, if any. */
export function appliesTo(validation: unknown): TypePredicate | undefined {
    const p = typeof validation === "function" ? (validation as { [APPLIES_TO]?: unknown })[APPLIES_TO] : undefined;
    return typeof p === "function" ? (p as TypePredicate) : undefined;
}

/** Declares that `validation` reports nothing for types `predicate` rejects. */
export function declareAppliesTo<F extends object>(validation: F, predicate: TypePredicate): F {
    Object.defineProperty(validation, APPLIES_TO, { value: predicate, enumerable: false });
    return validation;
}
