/**
 * Conversions between Pulumi's wire form of property values and the plain form tests read.
 *
 * The engine hands analyzers resource references as the referenced resource's id (custom) or URN
 * (component), never as references, so we do the same before evaluation.
 */
import { UNKNOWN } from "./types";

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";

/** Wire form as an analyzer receives it: resource references flattened, secrets and unknowns kept. */
export function toAnalyzerWire(v: any): any {
    if (Array.isArray(v)) {
        return v.map(toAnalyzerWire);
    }
    if (v === null || typeof v !== "object") {
        return v;
    }
    const sig = v[SIG];
    if (sig === RESOURCE_SIG) {
        return typeof v.id === "string" && v.id !== "" ? v.id : v.urn;
    }
    if (sig === OUTPUT_SIG) {
        if (!("value" in v)) {
            return UNKNOWN;
        }
        const inner = toAnalyzerWire(v.value);
        return v.secret ? { [SIG]: SECRET_SIG, value: inner } : inner;
    }
    const out: Record<string, any> = {};
    for (const [k, val] of Object.entries(v)) {
        if (val !== undefined) {
            out[k] = toAnalyzerWire(val);
        }
    }
    return out;
}

/** Plain form: secrets unwrapped, references flattened; unknowns stay as the UNKNOWN sentinel. */
export function toPlain(v: any): any {
    if (Array.isArray(v)) {
        return v.map(toPlain);
    }
    if (v === null || typeof v !== "object") {
        return v;
    }
    const sig = v[SIG];
    if (sig === SECRET_SIG) {
        return toPlain(v.value);
    }
    if (sig === RESOURCE_SIG || sig === OUTPUT_SIG) {
        return toPlain(toAnalyzerWire(v));
    }
    const out: Record<string, any> = {};
    for (const [k, val] of Object.entries(v)) {
        if (val !== undefined) {
            out[k] = toPlain(val);
        }
    }
    return out;
}

/** Drops `undefined` recursively so a value can go into a protobuf Struct. */
export function stripUndefined(v: any): any {
    if (Array.isArray(v)) {
        return v.map((e) => (e === undefined ? null : stripUndefined(e)));
    }
    if (v === null || typeof v !== "object") {
        return v;
    }
    const out: Record<string, any> = {};
    for (const [k, val] of Object.entries(v)) {
        if (val !== undefined) {
            out[k] = stripUndefined(val);
        }
    }
    return out;
}
