/**
 * The signer's key versions and the keyring document it publishes (`GET /v1/keys`).
 *
 * Cloud KMS never rotates an asymmetric key by itself, so versions are explicit, each in one state:
 * - `published`: announced in the keyring ahead of use (verifiers pick it up during the overlap);
 * - `active`:    the one version the signer signs with (exactly one);
 * - `retired`:   still published so old envelopes verify, never used to sign again.
 *
 * Rotation is `publishVersion` (new version, published), then after the overlap `activateVersion`
 * (it becomes active, the previous active becomes retired at that instant). A retired version
 * never comes back. Each version's window [validFrom, validUntil) is what verifiers accept it for,
 * checked at the statement's finish time.
 */

export type KeyVersionState = "published" | "active" | "retired";
export const KEY_VERSION_STATES: readonly KeyVersionState[] = ["published", "active", "retired"];

export interface KeyVersion {
    /** Full Cloud KMS name: projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N. */
    name: string;
    state: KeyVersionState;
    /** ISO 8601 instant from which verifiers accept signatures by this version. */
    validFrom: string;
    /** ISO 8601 instant until which (exclusive) verifiers accept it; set when it is retired. */
    validUntil?: string;
}

export interface KeyringKey extends KeyVersion {
    /** Cloud KMS algorithm name, e.g. EC_SIGN_P256_SHA256. */
    algorithm: string;
    publicKeyPem: string;
}

export const KEYRING_MEDIA_TYPE = "application/vnd.hardened-build-fleet.keyring.v1+json";

export interface KeyringDocument {
    mediaType: typeof KEYRING_MEDIA_TYPE;
    /** The builder id every statement this signer signs carries. */
    builderId: string;
    keys: KeyringKey[];
}

export const KMS_KEY_VERSION_NAME = /^projects\/[a-z0-9-]+\/locations\/[a-z0-9-]+\/keyRings\/[A-Za-z0-9_-]+\/cryptoKeys\/[A-Za-z0-9_-]+\/cryptoKeyVersions\/[1-9][0-9]*$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export class KeyringError extends Error {
    constructor(readonly problems: string[]) {
        super(`key versions are not valid:\n  - ${problems.join("\n  - ")}`);
        this.name = "KeyringError";
    }
}

function instant(value: unknown): number | undefined {
    return typeof value === "string" && ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value)) ? Date.parse(value) : undefined;
}

export interface KeyVersionRules {
    /** When set, every version must be a version of this key (projects/.../cryptoKeys/K). */
    cryptoKey?: string;
    /** Require Cloud KMS version names (cloud mode). Default true. */
    kmsNames?: boolean;
    /** Where the versions came from, for messages (e.g. the env var). Default "key versions". */
    source?: string;
}

/** Every problem of a list of key versions, in one pass; empty when it is a valid keyring state. */
export function keyVersionProblems(value: unknown, rules: KeyVersionRules = {}): string[] {
    const src = rules.source ?? "key versions";
    if (!Array.isArray(value) || value.length === 0) {
        return [`${src} must be a non-empty JSON array of {name, state, validFrom, validUntil?}`];
    }
    const problems: string[] = [];
    const seen = new Set<string>();
    value.forEach((v: any, i) => {
        const at = `${src}[${i}]`;
        if (v === null || typeof v !== "object" || Array.isArray(v)) {
            problems.push(`${at} must be an object {name, state, validFrom, validUntil?}`);
            return;
        }
        const unknown = Object.keys(v).filter((k) => !["name", "state", "validFrom", "validUntil"].includes(k));
        if (unknown.length > 0) {
            problems.push(`${at} has unknown field(s) ${unknown.join(", ")}: only name, state, validFrom, validUntil`);
        }
        if (typeof v.name !== "string" || v.name.length === 0) {
            problems.push(`${at}.name ${JSON.stringify(v.name)} must be a key version name`);
        } else {
            if ((rules.kmsNames ?? true) && !KMS_KEY_VERSION_NAME.test(v.name)) {
                problems.push(`${at}.name ${JSON.stringify(v.name)} must be a full Cloud KMS name projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N`);
            } else if (rules.cryptoKey !== undefined && !v.name.startsWith(`${rules.cryptoKey}/cryptoKeyVersions/`)) {
                problems.push(`${at}.name ${JSON.stringify(v.name)} is not a version of ${rules.cryptoKey}: list only versions of the signing key`);
            }
            if (seen.has(v.name)) {
                problems.push(`${at}.name ${JSON.stringify(v.name)} is listed twice: list each version once`);
            }
            seen.add(v.name);
        }
        if (!KEY_VERSION_STATES.includes(v.state)) {
            problems.push(`${at}.state ${JSON.stringify(v.state)} must be one of ${KEY_VERSION_STATES.join(", ")}`);
        }
        const from = instant(v.validFrom);
        if (from === undefined) {
            problems.push(`${at}.validFrom ${JSON.stringify(v.validFrom)} must be an ISO 8601 instant such as 2026-01-31T00:00:00Z`);
        }
        if (v.validUntil !== undefined) {
            const until = instant(v.validUntil);
            if (until === undefined) {
                problems.push(`${at}.validUntil ${JSON.stringify(v.validUntil)} must be an ISO 8601 instant such as 2026-01-31T00:00:00Z`);
            } else if (from !== undefined && until <= from) {
                problems.push(`${at}.validUntil ${v.validUntil} must be after validFrom ${v.validFrom}`);
            }
        }
        if (v.state === "retired" && v.validUntil === undefined) {
            problems.push(`${at} is retired but has no validUntil: set it to the instant it stopped signing`);
        }
        if ((v.state === "active" || v.state === "published") && v.validUntil !== undefined) {
            problems.push(`${at} is ${v.state} but has validUntil ${v.validUntil}: only a retired version ends; retire it instead`);
        }
    });
    const active = value.filter((v: any) => v?.state === "active");
    if (active.length !== 1) {
        problems.push(`${src} must have exactly one active version (the one the signer signs with), found ${active.length}${active.length > 1 ? ": " + active.map((v: any) => v.name).join(", ") : ""}`);
    } else {
        const activeFrom = instant(active[0].validFrom);
        value.forEach((v: any, i) => {
            const from = instant(v?.validFrom);
            if (activeFrom === undefined || from === undefined) {
                return;
            }
            if (v.state === "published" && from < activeFrom) {
                problems.push(`${src}[${i}] is published from ${v.validFrom}, before the active version's ${active[0].validFrom}: a version waiting to sign must be newer than the one signing`);
            }
        });
    }
    return problems;
}

/** The versions if valid; else throws KeyringError with every problem. */
export function checkKeyVersions(value: unknown, rules: KeyVersionRules = {}): KeyVersion[] {
    const problems = keyVersionProblems(value, rules);
    if (problems.length > 0) {
        throw new KeyringError(problems);
    }
    return (value as KeyVersion[]).map((v) => ({ ...v }));
}

export function activeVersion(versions: KeyVersion[]): KeyVersion {
    const active = versions.filter((v) => v.state === "active");
    if (active.length !== 1) {
        throw new KeyringError([`exactly one active version is required, found ${active.length}`]);
    }
    return active[0];
}

/** True when `t` is inside the version's window [validFrom, validUntil). */
export function validAt(version: KeyVersion, t: Date): boolean {
    const time = t.getTime();
    return time >= Date.parse(version.validFrom) && (version.validUntil === undefined || time < Date.parse(version.validUntil));
}

function transition(versions: KeyVersion[], next: KeyVersion[], rules: KeyVersionRules): KeyVersion[] {
    checkKeyVersions(versions, rules);
    return checkKeyVersions(next, rules);
}

/** Rotation step 1: a new version, announced in the keyring from `validFrom`, not yet signing. */
export function publishVersion(versions: KeyVersion[], name: string, validFrom: Date, rules: KeyVersionRules = {}): KeyVersion[] {
    if (versions.some((v) => v.name === name)) {
        throw new KeyringError([`${name} is already listed (${versions.find((v) => v.name === name)!.state}): a version is published once; create a new version to rotate`]);
    }
    return transition(versions, [...versions, { name, state: "published", validFrom: validFrom.toISOString() }], rules);
}

/**
 * Rotation step 2, after the overlap: the published version `name` becomes the signing version at
 * `at` and the previous active version is retired at the same instant. `minOverlapSeconds` is the
 * least time it must have been published for, so verifiers have fetched it before it is used.
 */
export function activateVersion(versions: KeyVersion[], name: string, at: Date, minOverlapSeconds = 0, rules: KeyVersionRules = {}): KeyVersion[] {
    const target = versions.find((v) => v.name === name);
    if (target === undefined) {
        throw new KeyringError([`${name} is not listed: publish it first`]);
    }
    if (target.state !== "published") {
        throw new KeyringError([`${name} is ${target.state}: only a published version can become active${target.state === "retired" ? " (a retired version never signs again)" : ""}`]);
    }
    const publishedFor = (at.getTime() - Date.parse(target.validFrom)) / 1000;
    if (publishedFor < minOverlapSeconds) {
        throw new KeyringError([`${name} has been published for ${Math.max(0, Math.floor(publishedFor))}s, less than the overlap of ${minOverlapSeconds}s: wait until ${new Date(Date.parse(target.validFrom) + minOverlapSeconds * 1000).toISOString()}`]);
    }
    const next = versions.map((v): KeyVersion =>
        v.name === name ? { ...v, state: "active" }
        : v.state === "active" ? { ...v, state: "retired", validUntil: at.toISOString() }
        : { ...v },
    );
    return transition(versions, next, rules);
}

/** Withdraws a published version that never signed (an abandoned rotation). The active version cannot be retired alone: activate its successor. */
export function retireVersion(versions: KeyVersion[], name: string, at: Date, rules: KeyVersionRules = {}): KeyVersion[] {
    const target = versions.find((v) => v.name === name);
    if (target === undefined) {
        throw new KeyringError([`${name} is not listed`]);
    }
    if (target.state !== "published") {
        throw new KeyringError([
            target.state === "active"
                ? `${name} is the active version: activate its successor, which retires it, so the signer always has exactly one signing version`
                : `${name} is already retired`,
        ]);
    }
    return transition(versions, versions.map((v) => (v.name === name ? { ...v, state: "retired", validUntil: at.toISOString() } : { ...v })), rules);
}

/** Checks a keyring document read from a file or `GET /v1/keys` (verifier side); throws naming the field. */
export function parseKeyringDocument(value: unknown): KeyringDocument {
    const doc = value as Record<string, any>;
    if (doc === null || typeof doc !== "object" || doc.mediaType !== KEYRING_MEDIA_TYPE) {
        throw new KeyringError([`a keyring document has mediaType ${KEYRING_MEDIA_TYPE}`]);
    }
    const problems: string[] = [];
    if (typeof doc.builderId !== "string" || doc.builderId.length === 0) {
        problems.push("keyring.builderId must be a non-empty string");
    }
    if (!Array.isArray(doc.keys)) {
        throw new KeyringError([...problems, "keyring.keys must be an array"]);
    }
    const versions = doc.keys.map((k: any) => (k && typeof k === "object" ? { name: k.name, state: k.state, validFrom: k.validFrom, ...(k.validUntil !== undefined ? { validUntil: k.validUntil } : {}) } : k));
    problems.push(...keyVersionProblems(versions, { kmsNames: false, source: "keyring.keys" }));
    doc.keys.forEach((k: any, i: number) => {
        if (typeof k?.publicKeyPem !== "string" || !k.publicKeyPem.includes("-----BEGIN PUBLIC KEY-----")) {
            problems.push(`keyring.keys[${i}].publicKeyPem must be a PEM public key`);
        }
        if (typeof k?.algorithm !== "string") {
            problems.push(`keyring.keys[${i}].algorithm must be a string`);
        }
    });
    if (problems.length > 0) {
        throw new KeyringError(problems);
    }
    return doc as KeyringDocument;
}
