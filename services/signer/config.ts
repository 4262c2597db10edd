/**
 * Cloud-mode configuration of the signer, from environment variables set by the SignerEnclave
 * component. Every variable is checked in one pass; each problem names the variable, the value
 * and the fix, and the service does not start until all are fixed.
 */
import { createPublicKey, X509Certificate } from "crypto";
import { activeVersion, KeyVersion, keyVersionProblems } from "../lib/keyring";
import { pemCertificates, TrustedRootInput } from "../lib/trustedRoot";
import type { WitnessConfig } from "./attest";

export interface SignerConfig {
    /** projects/P/locations/L/keyRings/R/cryptoKeys/K */
    kmsKey: string;
    versions: KeyVersion[];
    /** The active version: the only one the signer signs with. */
    activeVersion: KeyVersion;
    provenanceBucket: string;
    builderId: string;
    /** Lower-cased service account emails allowed to call POST /v1/sign. */
    allowedCallers: string[];
    /** Expected ID token audience: the service's URL. */
    audience: string;
    port: number;
    /** The fleet's timestamp authority (required: every bundle carries a timestamp) and optional log. */
    witnesses: WitnessConfig;
    /** What the published trusted root lists. */
    trustedRoot: TrustedRootInput;
}

export class SignerConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`signer configuration is not valid:\n  - ${problems.join("\n  - ")}`);
        this.name = "SignerConfigError";
    }
}

const KMS_KEY = /^projects\/[a-z0-9-]+\/locations\/[a-z0-9-]+\/keyRings\/[A-Za-z0-9_-]+\/cryptoKeys\/[A-Za-z0-9_-]+$/;
const BUCKET = /^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$/;
const SERVICE_ACCOUNT = /^[a-z0-9][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9-]+\.iam\.gserviceaccount\.com$/;

const q = (v: string | undefined) => (v === undefined ? "(unset)" : JSON.stringify(v));

/** An absolute URI without whitespace (what runDetails.builder.id must be). */
export function builderIdProblem(value: string): string | undefined {
    try {
        const url = new URL(value);
        if (/\s/.test(value) || url.protocol.length < 2) {
            return "must be an absolute URI without whitespace";
        }
        return undefined;
    } catch {
        return "must be an absolute URI (e.g. https://github.com/org/fleet/builder@v1)";
    }
}

export function loadSignerConfig(env: NodeJS.ProcessEnv, now: Date = new Date()): SignerConfig {
    const problems: string[] = [];

    const kmsKey = env.SIGNER_KMS_KEY ?? "";
    if (!KMS_KEY.test(kmsKey)) {
        problems.push(`SIGNER_KMS_KEY ${q(env.SIGNER_KMS_KEY)} must be the full key name projects/P/locations/L/keyRings/R/cryptoKeys/K (without /cryptoKeyVersions/N)`);
    }

    let versions: KeyVersion[] = [];
    let parsed: unknown;
    try {
        parsed = JSON.parse(env.SIGNER_KEY_VERSIONS ?? "");
    } catch {
        problems.push(`SIGNER_KEY_VERSIONS ${q(env.SIGNER_KEY_VERSIONS)} must be a JSON array such as [{"name":"projects/.../cryptoKeyVersions/1","state":"active","validFrom":"2026-01-01T00:00:00Z"}]`);
    }
    if (parsed !== undefined) {
        const vp = keyVersionProblems(parsed, { cryptoKey: KMS_KEY.test(kmsKey) ? kmsKey : undefined, source: "SIGNER_KEY_VERSIONS" });
        problems.push(...vp);
        if (vp.length === 0) {
            versions = parsed as KeyVersion[];
            const active = activeVersion(versions);
            if (Date.parse(active.validFrom) > now.getTime()) {
                problems.push(`SIGNER_KEY_VERSIONS: the active version ${active.name} is valid only from ${active.validFrom}, after now (${now.toISOString()}): envelopes signed now would not verify; keep the previous version active until then`);
            }
        }
    }

    const bucket = env.SIGNER_PROVENANCE_BUCKET ?? "";
    if (!BUCKET.test(bucket) || bucket.includes("..")) {
        problems.push(`SIGNER_PROVENANCE_BUCKET ${q(env.SIGNER_PROVENANCE_BUCKET)} must be a bucket name (3-63 of a-z 0-9 . _ -), without gs://`);
    }

    const builderId = env.SIGNER_BUILDER_ID ?? "";
    const builderProblem = builderIdProblem(builderId);
    if (builderProblem !== undefined) {
        problems.push(`SIGNER_BUILDER_ID ${q(env.SIGNER_BUILDER_ID)} ${builderProblem}`);
    }

    const allowedCallers = (env.SIGNER_ALLOWED_CALLERS ?? "").split(",").map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0);
    if (allowedCallers.length === 0) {
        problems.push(`SIGNER_ALLOWED_CALLERS ${q(env.SIGNER_ALLOWED_CALLERS)} must list the provenance generator's service account email (comma-separated)`);
    }
    for (const email of allowedCallers) {
        if (!SERVICE_ACCOUNT.test(email)) {
            problems.push(`SIGNER_ALLOWED_CALLERS entry ${JSON.stringify(email)} must be a service account email (name@project.iam.gserviceaccount.com): only the generator's identity may sign, never a user`);
        }
    }

    const audience = env.SIGNER_AUDIENCE ?? "";
    let audienceOk = false;
    try {
        audienceOk = new URL(audience).protocol === "https:";
    } catch {
        audienceOk = false;
    }
    if (!audienceOk) {
        problems.push(`SIGNER_AUDIENCE ${q(env.SIGNER_AUDIENCE)} must be the service's https URL (the audience the generator's ID token is minted for)`);
    }

    const portText = env.PORT ?? "8080";
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
        problems.push(`PORT ${q(env.PORT)} must be an integer 1-65535 (Cloud Run sets it; default 8080)`);
    }

    const attestation = readAttestation(env, problems);

    if (problems.length > 0) {
        throw new SignerConfigError(problems);
    }
    return { kmsKey, versions, activeVersion: activeVersion(versions), provenanceBucket: bucket, builderId, allowedCallers, audience, port, ...attestation };
}

function httpsUrl(value: string | undefined): boolean {
    try {
        return new URL(value ?? "").protocol === "https:";
    } catch {
        return false;
    }
}

/** The TSA (SIGNER_TSA_*) and the optional log (SIGNER_TLOG_*), with their trusted-root entries. */
function readAttestation(env: NodeJS.ProcessEnv, problems: string[]): { witnesses: WitnessConfig; trustedRoot: TrustedRootInput } {
    const tsaUrl = env.SIGNER_TSA_URL ?? "";
    if (!httpsUrl(tsaUrl)) {
        problems.push(`SIGNER_TSA_URL ${q(env.SIGNER_TSA_URL)} must be the https URL of the fleet's timestamp authority: every bundle carries an RFC 3161 timestamp`);
    }
    // Unset: the signer reads the chain from the TSA itself at start (GET /api/v1/timestamp/certchain).
    const chainPem = env.SIGNER_TSA_CERT_CHAIN ?? "";
    if (chainPem !== "") {
        try {
            pemCertificates(chainPem, "SIGNER_TSA_CERT_CHAIN");
        } catch (err) {
            problems.push(`${(err as Error).message}: set it to the timestamp authority's certificate chain (signing certificate first, root last), the one its --certificate-chain-path file holds, or unset it to read it from the TSA`);
        }
    }
    const validFrom = env.SIGNER_TSA_VALID_FROM;
    if (validFrom !== undefined && Number.isNaN(Date.parse(validFrom))) {
        problems.push(`SIGNER_TSA_VALID_FROM ${q(validFrom)} must be an ISO 8601 instant (default: the TSA certificate's notBefore)`);
    }
    const tlogUrl = env.SIGNER_TLOG_URL === undefined || env.SIGNER_TLOG_URL === "" ? undefined : env.SIGNER_TLOG_URL;
    const tlogKey = env.SIGNER_TLOG_PUBLIC_KEY ?? "";
    if (tlogUrl !== undefined) {
        if (!httpsUrl(tlogUrl)) {
            problems.push(`SIGNER_TLOG_URL ${q(tlogUrl)} must be the https URL of a Rekor-compatible log (https://rekor.sigstore.dev, or the fleet's private log), or unset for no log`);
        }
        try {
            createPublicKey(tlogKey);
        } catch {
            problems.push(`SIGNER_TLOG_PUBLIC_KEY ${q(env.SIGNER_TLOG_PUBLIC_KEY)} must be the log's PEM public key when SIGNER_TLOG_URL is set (verifiers check inclusion proofs with it)`);
        }
    } else if (tlogKey !== "") {
        problems.push("SIGNER_TLOG_PUBLIC_KEY is set but SIGNER_TLOG_URL is not: set both for a log, or neither");
    }
    const tlogIdentity = env.SIGNER_TLOG_IDENTITY === "true";
    if (env.SIGNER_TLOG_IDENTITY !== undefined && env.SIGNER_TLOG_IDENTITY !== "true" && env.SIGNER_TLOG_IDENTITY !== "false") {
        problems.push(`SIGNER_TLOG_IDENTITY ${q(env.SIGNER_TLOG_IDENTITY)} must be true (the log is behind Cloud Run IAM: send the signer's ID token) or false`);
    }
    const tlogApi = env.SIGNER_TLOG_API_VERSION ?? "1";
    if (tlogIdentity && tlogApi !== "2") {
        problems.push("SIGNER_TLOG_IDENTITY is true but SIGNER_TLOG_API_VERSION is not 2: the identity-carrying client speaks Rekor v2 (rekor-tiles) only");
    }
    if (tlogApi !== "1" && tlogApi !== "2") {
        problems.push(`SIGNER_TLOG_API_VERSION ${q(env.SIGNER_TLOG_API_VERSION)} must be 1 (Rekor v1, e.g. rekor.sigstore.dev) or 2 (Rekor v2, rekor-tiles)`);
    }
    return {
        witnesses: { tsaUrl, ...(tlogUrl !== undefined ? { tlogUrl, tlogApiVersion: tlogApi === "2" ? 2 : 1, ...(tlogIdentity ? { tlogIdentity } : {}) } : {}) },
        trustedRoot: {
            timestampAuthorities: [{ uri: tsaUrl, certChainPem: chainPem, validFrom: validFrom ?? "" }],
            transparencyLogs: tlogUrl !== undefined ? [{ baseUrl: tlogUrl, publicKeyPem: tlogKey, validFrom: validFrom ?? "" }] : [],
        },
    };
}

/**
 * The trusted root's input once the TSA chain is known: `chainPem` fills an unset SIGNER_TSA_CERT_CHAIN,
 * and an unset SIGNER_TSA_VALID_FROM becomes the TSA certificate's notBefore.
 */
export function completeTrustedRoot(input: TrustedRootInput, chainPem?: string): TrustedRootInput {
    const tsa = input.timestampAuthorities[0];
    const certChainPem = tsa.certChainPem !== "" ? tsa.certChainPem : chainPem ?? "";
    const validFrom = tsa.validFrom !== "" ? tsa.validFrom : new Date(new X509Certificate(pemCertificates(certChainPem, "the TSA certificate chain")[0]).validFrom).toISOString();
    return {
        timestampAuthorities: [{ ...tsa, certChainPem, validFrom }],
        transparencyLogs: (input.transparencyLogs ?? []).map((l) => ({ ...l, validFrom: l.validFrom !== "" ? l.validFrom : validFrom })),
    };
}
