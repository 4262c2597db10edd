/** Syntax checks for names, domains, URLs and IAM members, and "did you mean" suggestions. */
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

/** A valid pool name (GCP resource name, short enough to prefix derived child names). */
export function isValidPoolName(name: string): boolean {
    return name.length <= MAX_POOL_NAME_LENGTH && GCP_NAME.test(name);
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

const REGION = /^[a-z]+(-[a-z]+)*[0-9]+$/;
export function isValidRegion(region: string): boolean {
    return REGION.test(region);
}

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
