/** Syntax checks for names, domains, URLs and IAM members, service-account ids, and "did you mean" suggestions. */
import * as crypto from "crypto";
import * as levenshtein from "fast-levenshtein";
import { MAX_POOL_NAME_LENGTH } from "./schema";

/** The closest candidate to `input` when it is plausibly a typo of it, else undefined. */
export function closestMatch(input: string, candidates: readonly string[]): string | undefined {
    const lowered = input.toLowerCase();
    let best: string | undefined;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const candidate of candidates) {
        const distance = candidate.toLowerCase() === lowered ? 0 : levenshtein.get(lowered, candidate.toLowerCase());
        if (distance < bestDistance) {
            best = candidate;
            bestDistance = distance;
        }
    }
    const threshold = Math.max(2, Math.floor(input.length / 3));
    return bestDistance <= threshold ? best : undefined;
}

/** "did you mean `x`?" when a close candidate exists, else the list of valid choices. */
export function suggestion(input: string, candidates: readonly string[], what: string): string {
    const close = closestMatch(input, candidates);
    return close !== undefined ? `did you mean \`${close}\`?` : `use one of the ${what}: ${candidates.join(", ")}`;
}

const GCP_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** A GCP resource-name stem: lower-case letters, digits and inner hyphens, starting with a letter. */
export function isGcpName(name: unknown, maxLength = 63): name is string {
    return typeof name === "string" && name.length <= maxLength && GCP_NAME.test(name);
}

/** The `name:` problem of a component whose child names derive from `name` (empty when valid). */
export function componentNameProblems(name: unknown, maxLength: number): string[] {
    return isGcpName(name, maxLength)
        ? []
        : [
              `name: ${JSON.stringify(name)} must be lower-case letters, digits and hyphens, start with a letter, ` +
                  `end with a letter or digit and be at most ${maxLength} characters (child names derive from it).`,
          ];
}

/** A valid pool name (GCP resource name, short enough to prefix derived child names). */
export function isValidPoolName(name: string): boolean {
    return isGcpName(name, MAX_POOL_NAME_LENGTH);
}

/** Turns an invalid name into the nearest valid one, e.g. `Linux_Pool` -> `linux-pool`. */
export function sanitizePoolName(name: string): string {
    let cleaned = name.toLowerCase().replace(/[^-a-z0-9]+/g, "-").replace(/^[^a-z]+/, "");
    cleaned = cleaned.slice(0, MAX_POOL_NAME_LENGTH).replace(/-+$/, "");
    return cleaned === "" ? "pool" : cleaned;
}

// Optional legacy domain scope ("example.com:proj"), then 6-30 chars.
const PROJECT_ID = /^([a-z][-a-z0-9.]*[a-z0-9]:)?[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
export function isValidProjectId(id: string): boolean {
    return PROJECT_ID.test(id);
}

export { isValidRegion } from "../networks";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i;

/**
 * Why `fqdn` is not an RFC 1123 host name, or undefined when it is.
 * Requires at least two labels and a non-numeric top-level label, so IP addresses are rejected.
 * Wildcards are rejected: Cloud NGFW FQDN objects (firewall policy `destFqdns`) resolve exact
 * host names only, so a `*.` entry would silently allow nothing (or fail to apply).
 */
export function fqdnProblem(fqdn: string): string | undefined {
    if (fqdn.includes("*")) {
        return "is a wildcard, and firewall FQDN objects match exact host names only";
    }
    const name = fqdn;
    if (name.endsWith(".")) {
        return "has a trailing dot";
    }
    if (name.length === 0 || name.length > 253) {
        return "is not 1-253 characters long";
    }
    const labels = name.split(".");
    if (labels.length < 2) {
        return "is not fully qualified (it needs a domain, e.g. example.com)";
    }
    const bad = labels.find((label) => !DNS_LABEL.test(label));
    if (bad !== undefined) {
        return `has an invalid label ${JSON.stringify(bad)} (RFC 1123: letters, digits and inner hyphens, 1-63 characters)`;
    }
    if (/^[0-9]+$/.test(labels[labels.length - 1])) {
        return "is an IP address, not a domain name";
    }
    return undefined;
}

// Kubernetes Secret names are DNS-1123 subdomains.
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export function isValidSecretName(name: string): boolean {
    return name.length <= 253 && DNS1123_SUBDOMAIN.test(name);
}

/** Why `value` is not a plain https URL with a host, or undefined when it is. */
export function httpsUrlProblem(value: string): string | undefined {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return "is not a URL";
    }
    if (url.protocol !== "https:") {
        return `uses ${url.protocol.replace(/:$/, "")}, not https`;
    }
    if (url.username !== "" || url.password !== "") {
        return "embeds credentials (stack config is not a secret store)";
    }
    if (url.search !== "" || url.hash !== "") {
        return "carries a query or fragment (it ends up in instance metadata, I7)";
    }
    if (url.hostname === "") {
        return "has no host";
    }
    return undefined;
}

const IAM_MEMBER = /^((user|serviceAccount|group):[^@\s:]+@[^@\s:]+\.[^@\s:]+|domain:[a-z0-9][-a-z0-9.]*\.[a-z]+|principal(Set)?:\/\/\S+)$/;
const PUBLIC_MEMBERS = ["allUsers", "allAuthenticatedUsers"];

/** Why `member` is not an acceptable non-public IAM member, or undefined when it is. */
export function iamMemberProblem(member: string): string | undefined {
    if (PUBLIC_MEMBERS.includes(member)) {
        return "is a public principal; nothing in the signer enclave is granted publicly (I10)";
    }
    return IAM_MEMBER.test(member) ? undefined : "is not an IAM member (user:, serviceAccount:, group:, domain:, principal:// or principalSet://)";
}

const ACCOUNT_ID = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;

/**
 * A service-account id (6-30 chars, `^[a-z][-a-z0-9]*[a-z0-9]$`) derived from a component name and
 * a suffix. Long names are shortened with a stable hash of the full name so two components never
 * collide.
 */
export function serviceAccountIdFor(name: string, suffix: string): string {
    let base = name.toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/-+/g, "-").replace(/^-+|-+$/g, "");
    if (!/^[a-z]/.test(base)) {
        base = `x${base}`;
    }
    let id = `${base}-${suffix}`;
    if (id.length > 30) {
        const hash = crypto.createHash("sha256").update(name).digest("hex").slice(0, 6);
        const keep = 30 - suffix.length - hash.length - 2;
        id = `${base.slice(0, keep).replace(/-+$/, "")}-${hash}-${suffix}`;
    }
    while (id.length < 6) {
        id = `${id}-sa`;
    }
    return id;
}

/** True when `id` is a valid service-account id. */
export function isValidServiceAccountId(id: string): boolean {
    return ACCOUNT_ID.test(id);
}

/** Why `value` is not an https builder id (the signer and the generator both check it), or undefined. */
export function builderIdProblem(value: unknown): string | undefined {
    if (typeof value !== "string" || value === "") {
        return "is missing";
    }
    try {
        const url = new URL(value);
        return url.protocol === "https:" && !/\s/.test(value) && url.search === "" && url.hash === "" ? undefined : "is not a plain https URI";
    } catch {
        return "is not a URI";
    }
}
