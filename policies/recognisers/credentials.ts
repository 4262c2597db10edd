/**
 * Recognising credentials in plain configuration (I7: no secrets in VM metadata or runner pod env).
 * Used by runner-vm-no-secrets-in-metadata (compute.ts) and k8s-runner-no-secrets-in-env
 * (kubernetesWorkload.ts).
 *
 * CrossGuard hands policies the plaintext of Pulumi secrets (the analyzer unwraps them), so whether a
 * value was marked secret is invisible: a credential is recognised by the name it is stored under and
 * by the shape of the value. Messages name the kind of credential and where it is, never the value.
 */

/** Names (metadata keys, env var names) that say the value is a credential. */
export const SECRET_NAME = /token|secret|passw(or)?d|credential|private[-_]?key|api[-_]?key|jitconfig/i;

/** Value shapes of well-known credentials, each with a description for messages. */
export const CREDENTIAL_PATTERNS: readonly { kind: string; pattern: RegExp }[] = [
    // ghp_ (classic PAT), gho_ (OAuth), ghu_ (user-to-server), ghs_ (server-to-server / App installation), ghr_ (refresh).
    { kind: "a GitHub token (gh[pousr]_...)", pattern: /\bgh[pousr]_[A-Za-z0-9]{30,}/ },
    { kind: "a GitHub fine-grained token (github_pat_...)", pattern: /\bgithub_pat_[A-Za-z0-9_]{30,}/ },
    { kind: "a PEM private key", pattern: /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----/ },
    { kind: "a Google API key (AIza...)", pattern: /\bAIza[0-9A-Za-z_-]{35}/ },
    { kind: "an AWS access key id (AKIA...)", pattern: /\bAKIA[0-9A-Z]{16}\b/ },
    { kind: "a Slack token (xox[abp]-...)", pattern: /\bxox[abp]-[0-9A-Za-z-]{10,}/ },
];

/** True when a metadata key or variable name says its value is a credential. */
export function isSecretName(name: unknown): boolean {
    return typeof name === "string" && SECRET_NAME.test(name);
}

/**
 * The kind of the first credential found in a literal value (strings as they are, other literals as
 * JSON), or undefined when none is found.
 */
export function credentialIn(value: unknown): string | undefined {
    let text: string;
    if (typeof value === "string") {
        text = value;
    } else if (value === undefined || value === null) {
        return undefined;
    } else {
        try {
            text = JSON.stringify(value) ?? "";
        } catch {
            return undefined;
        }
    }
    return CREDENTIAL_PATTERNS.find((c) => c.pattern.test(text))?.kind;
}

/** True for a value that carries something: not absent, not null, not the empty string. */
export function hasValue(value: unknown): boolean {
    return value !== undefined && value !== null && !(typeof value === "string" && value.trim() === "");
}
