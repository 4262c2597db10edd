/**
 * Credential-SHAPED throwaway values for the I7 secret rules' tests, generated at run time so no
 * credential-shaped literal sits in the repository (and secret scanners stay quiet). None of them is
 * a credential of any account.
 */
import { randomBytes } from "crypto";

const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

function random(alphabet: string, length: number): string {
    return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join("");
}

export const throwaway = {
    /** `ghp_` + 36 base62 characters (a classic personal access token's shape). */
    githubToken: (prefix: "ghp" | "gho" | "ghu" | "ghs" | "ghr" = "ghp"): string => `${prefix}_${random(BASE62, 36)}`,
    /** `github_pat_` + 82 characters (a fine-grained token's shape). */
    githubPat: (): string => `github_pat_${random(BASE62, 22)}_${random(BASE62, 59)}`,
    /** A PEM private key block with random (not key) content. */
    pemPrivateKey: (): string => ["-----BEGIN", "EC PRIVATE KEY-----"].join(" ") + `\n${randomBytes(48).toString("base64")}\n` + ["-----END", "EC PRIVATE KEY-----"].join(" "),
    /** `AIza` + 35 characters (a Google API key's shape). */
    googleApiKey: (): string => `AIza${random(BASE62, 35)}`,
    /** `AKIA` + 16 upper-case characters (an AWS access key id's shape). */
    awsAccessKeyId: (): string => `AKIA${random(UPPER_ALNUM, 16)}`,
    /** `xoxb-` + digits and characters (a Slack bot token's shape). */
    slackToken: (): string => `xoxb-${random("0123456789", 12)}-${random(BASE62, 24)}`,
};
