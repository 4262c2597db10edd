/**
 * A resource's inputs as the JSON report carries them, as `pulumi preview --json` carries a step's
 * state: from the wire form the analyzer receives, with every secret replaced by "[secret]" (the
 * report is read by other tools and stored as a CI artifact) and every value unknown until apply by
 * "[unknown]". Resource references are the referenced id or URN, as policies see them.
 */
import { UNKNOWN } from "../engine";

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export const SECRET_MASK = "[secret]";
export const UNKNOWN_MASK = "[unknown]";

/** `wire` with secrets masked and unknowns marked; assets and archives keep their wire form. */
export function reportInputs(wire: unknown): unknown {
    if (Array.isArray(wire)) {
        return wire.map(reportInputs);
    }
    if (wire === UNKNOWN) {
        return UNKNOWN_MASK;
    }
    if (wire === null || typeof wire !== "object") {
        return wire;
    }
    const obj = wire as Record<string, unknown>;
    if (obj[SIG] === SECRET_SIG) {
        return SECRET_MASK;
    }
    return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined).map(([k, v]) => [k, reportInputs(v)]));
}
