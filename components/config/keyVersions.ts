/**
 * Explicit versions of the signer's HSM key (rotation). Cloud KMS never rotates an asymmetric key:
 * a new version is added (published, so verifiers learn it during an overlap period), then made the
 * signing version (active), and the previous one retired (still published, never used to sign).
 */
import { IssueCollector } from "./issues";
import { KEY_VERSION_KEYS } from "./schema";

export const KEY_VERSION_STATES = ["published", "active", "retired"] as const;
export type KeyVersionState = (typeof KEY_VERSION_STATES)[number];

/** One key version as the operator declares it. The first entry is the version KMS creates with the key. */
export interface KeyVersionConfig {
    /** Stable logical id (lower-case letters, digits, hyphens; at most 20): child-name suffix, never reused. */
    id: string;
    state: KeyVersionState;
    /** RFC 3339 instant from which signatures by this version are valid. */
    validFrom: string;
    /** RFC 3339 instant after which this version signs nothing (required once retired). */
    validUntil?: string;
    /**
     * retired only: disable the version in KMS (runbook step 4), so KMS itself refuses to sign with it. The signer
     * keeps publishing its public key from the keyring documents it wrote while the version was enabled.
     */
    disabled?: boolean;
}

/** The default: the key's initial version, signing since the key exists. */
export const DEFAULT_KEY_VERSIONS: readonly KeyVersionConfig[] = [{ id: "1", state: "active", validFrom: "1970-01-01T00:00:00Z" }];

const ID = /^[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const EXAMPLE = "[{id: \"1\", state: retired, validFrom: 2026-01-01T00:00:00Z, validUntil: 2026-07-01T00:00:00Z}, {id: \"2\", state: active, validFrom: 2026-06-01T00:00:00Z}]";

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Validates `raw` (a list of key versions) at `path`, recording every problem in `issues`.
 * Returns the versions only when they are all valid.
 */
export function validateKeyVersions(issues: IssueCollector, raw: unknown, path: string): KeyVersionConfig[] | undefined {
    if (raw === undefined || raw === null) {
        return DEFAULT_KEY_VERSIONS.map((v) => ({ ...v }));
    }
    const before = issues.issues.length;
    if (!Array.isArray(raw) || raw.length === 0) {
        issues.add(path, raw, "must be a non-empty list of key versions", `use e.g. ${EXAMPLE}`);
        return undefined;
    }
    const out: KeyVersionConfig[] = [];
    const ids = new Set<string>();
    raw.forEach((item, i) => {
        const at = `${path}[${i}]`;
        if (!isRecord(item)) {
            issues.add(at, item, "must be an object {id, state, validFrom, validUntil?}", `use e.g. ${EXAMPLE}`);
            return;
        }
        for (const key of Object.keys(item)) {
            if (!(KEY_VERSION_KEYS as readonly string[]).includes(key)) {
                issues.add(`${at}.${key}`, item[key], "unknown key", "use only id, state, validFrom, validUntil and disabled (or remove it)");
            }
        }
        const id = typeof item.id === "number" ? String(item.id) : item.id;
        if (typeof id !== "string" || !ID.test(id)) {
            issues.add(`${at}.id`, item.id, "must be a short id of lower-case letters, digits and hyphens (at most 20)", "use e.g. \"2\"");
        } else if (ids.has(id)) {
            issues.add(`${at}.id`, id, "is used by another key version", "give every version its own id and never reuse one");
        } else {
            ids.add(id);
        }
        const state = item.state;
        if (!KEY_VERSION_STATES.includes(state as KeyVersionState)) {
            issues.add(`${at}.state`, state, "is not a key version state", `use one of ${KEY_VERSION_STATES.join(", ")}`);
        }
        const from = instant(issues, `${at}.validFrom`, item.validFrom, true);
        const until = instant(issues, `${at}.validUntil`, item.validUntil, false);
        if (from !== undefined && until !== undefined && until <= from) {
            issues.add(`${at}.validUntil`, item.validUntil, "is not after validFrom", "set validUntil later than validFrom");
        }
        if (state === "retired" && item.validUntil === undefined) {
            issues.add(`${at}.validUntil`, undefined, "is required for a retired version (verifiers must know when it stopped signing)", "set it to the instant the next version became active");
        }
        if (state === "active" && item.validUntil !== undefined) {
            issues.add(`${at}.validUntil`, item.validUntil, "is set on the active version, which would stop signing validly while still in use", "remove it, or retire the version and activate another");
        }
        if (item.disabled !== undefined && typeof item.disabled !== "boolean") {
            issues.add(`${at}.disabled`, item.disabled, "must be a boolean", "write true or false");
        } else if (item.disabled === true && state !== "retired") {
            issues.add(`${at}.disabled`, true, `disables a ${String(state)} version in KMS, which the signer still needs`, "disable only retired versions (after the new revision replaced the old one)");
        } else if (item.disabled === true && i === 0) {
            issues.add(`${at}.disabled`, true, "is set on the key's initial version, which KMS created with the key and this component does not manage",
                "disable it once with `gcloud kms keys versions disable 1 --key <key> --keyring <ring> --location <region>` and remove the flag; it stays published");
        }
        out.push({
            id: String(id), state: state as KeyVersionState, validFrom: String(item.validFrom),
            ...(item.validUntil !== undefined ? { validUntil: String(item.validUntil) } : {}),
            ...(item.disabled === true ? { disabled: true } : {}),
        });
    });
    const active = out.filter((v) => v.state === "active");
    if (active.length !== 1) {
        issues.add(path, active.map((v) => v.id), `has ${active.length} active versions (ids shown); exactly one version signs`, active.length === 0
            ? "mark the version that should sign with state: active"
            : `keep one active version and mark the previous one retired (with validUntil): ${active.map((v) => v.id).join(", ")}`);
    }
    return issues.issues.length === before ? out : undefined;
}

function instant(issues: IssueCollector, path: string, value: unknown, required: boolean): number | undefined {
    if (value === undefined) {
        if (required) {
            issues.add(path, undefined, "required field is missing", "set an RFC 3339 instant, e.g. 2026-06-01T00:00:00Z");
        }
        return undefined;
    }
    const t = typeof value === "string" && RFC3339.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(t)) {
        issues.add(path, value, "is not an RFC 3339 instant", "write it as e.g. 2026-06-01T00:00:00Z (quote it in YAML)");
        return undefined;
    }
    return t;
}
