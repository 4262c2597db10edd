/**
 * Credentials that arrive as files: `.npmrc` auth tokens, Docker auth configs, git credential URLs,
 * `.pypirc` passwords, written by a startup script or kept in a ConfigMap or Secret (I7). Complements
 * credentials.ts (token shapes); messages name the kind, never the value.
 */
import { credentialIn } from "./credentials";

const FILE_PATTERNS: readonly { kind: string; pattern: RegExp }[] = [
    // A literal token, not an environment reference like ${NPM_TOKEN}.
    { kind: "an npm registry token (.npmrc _authToken)", pattern: /_auth(Token)?\s*=\s*(?!\$\{?[A-Za-z_])[^\s"'$]{8,}/ },
    { kind: "a Docker registry auth (auths.*.auth)", pattern: /"auths"\s*:\s*\{[\s\S]*"(auth|identitytoken|password)"\s*:\s*"[^"]{4,}"/ },
    { kind: "a git credential URL (https://user:secret@host)", pattern: /\bhttps?:\/\/[^\s:@/'"]+:(?!\$\{?[A-Za-z_])[^\s@/'"]{6,}@/ },
    { kind: "a .pypirc password", pattern: /^\s*password\s*[:=]\s*(?!\$\{?[A-Za-z_])\S{6,}/m },
];

/** File names that hold credentials when mounted or written into a runner. */
export const CREDENTIAL_FILE_NAME = /(^|\/)(\.npmrc|\.dockerconfigjson|\.dockercfg|config\.json|\.git-credentials|\.pypirc|\.netrc|credentials(\.json)?)$/;

/** The kind of the first credential found in a literal (file contents, a script, a JSON value). */
export function credentialInText(value: unknown): string | undefined {
    const shaped = credentialIn(value);
    if (shaped !== undefined) {
        return shaped;
    }
    const text = typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value) ?? "";
    return FILE_PATTERNS.find((c) => c.pattern.test(text))?.kind;
}

/** base64 data of a Secret, decoded when it decodes to text; otherwise the raw value. */
export function decodeSecretValue(v: unknown): unknown {
    if (typeof v !== "string") {
        return v;
    }
    try {
        const text = Buffer.from(v, "base64").toString("utf8");
        // Printable text only (tab, newline, carriage return and ASCII 0x20-0x7e); binary stays as it was.
        return [...text].every((c) => c === "\t" || c === "\n" || c === "\r" || (c >= " " && c <= "~")) ? text : v;
    } catch {
        return v;
    }
}
