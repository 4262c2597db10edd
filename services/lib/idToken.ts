/**
 * Verification of Google-signed OIDC identity tokens (RS256): the caller check of every service.
 * A Cloud Run service receives the caller's ID token in `Authorization: Bearer`; Cloud Run IAM has
 * already checked `run.invoker`, but the service checks the verified identity itself so a grant
 * that widens by mistake (or a request that bypasses the front end) cannot make it a signing oracle.
 *
 * Signature, expiry, issuer and audience are checked by google-auth-library
 * (`OAuth2Client.verifySignedJwtWithCertsAsync`); the certificates come from a `CertSource`
 * (Google's by default, the local identity issuer in tests and the simulation).
 */
import { OAuth2Client } from "google-auth-library";

/** Google's PEM certificate endpoint for ID tokens (the one google-auth-library uses). */
export const GOOGLE_PEM_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs";
export const GOOGLE_ISSUERS = ["accounts.google.com", "https://accounts.google.com"];
/** Google ID tokens live one hour; anything longer was not minted by Google's token service. */
const MAX_TOKEN_LIFETIME_SECONDS = 3600;
/** google-auth-library allows this much clock skew and it cannot be widened. */
const LIBRARY_CLOCK_SKEW_SECONDS = 300;

/** Where the verifier gets the issuer's certificates: a map of key id to PEM. */
export interface CertSource {
    certs(): Promise<Record<string, string>>;
}

/**
 * Certificates fetched from `url` (JSON map kid -> PEM) by google-auth-library's own fetcher, which
 * caches them for the response's Cache-Control max-age.
 */
export function urlCertSource(url: string = GOOGLE_PEM_CERTS_URL): CertSource {
    const client = new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: url } });
    return {
        async certs() {
            const { certs } = await client.getFederatedSignonCertsAsync();
            return certs as Record<string, string>;
        },
    };
}

/** The `google.compute_engine` claims of a `format=full` GCE metadata identity token. */
export interface ComputeEngineIdentity {
    projectId: string;
    projectNumber: number;
    zone: string;
    instanceId: string;
    instanceName: string;
    instanceCreationTimestamp: number;
    licenseId?: string[];
}

export interface VerifiedIdentity {
    email?: string;
    emailVerified: boolean;
    sub: string;
    aud: string;
    iss: string;
    exp: number;
    iat: number;
    computeEngine?: ComputeEngineIdentity;
}

export type IdTokenFailure =
    | "missing"
    | "malformed"
    | "unsupported-algorithm"
    | "unknown-kid"
    | "bad-signature"
    | "expired"
    | "not-yet-valid"
    | "lifetime-too-long"
    | "wrong-issuer"
    | "wrong-audience"
    | "certs-unavailable";

/** A token that did not verify. The message never contains the token itself. */
export class IdTokenError extends Error {
    constructor(
        readonly reason: IdTokenFailure,
        message: string,
    ) {
        super(`ID token rejected (${reason}): ${message}`);
        this.name = "IdTokenError";
    }
}

export interface IdTokenVerifierOptions {
    /** The audience (or audiences) the token must be minted for: the service URL. */
    audience: string | string[];
    /** Accepted `iss` values. Default: accounts.google.com and https://accounts.google.com. */
    issuers?: string[];
    /** Certificates of the issuer. Default: Google's, fetched and cached by google-auth-library. */
    certs?: CertSource;
    /** Allowed clock skew for `iat`/`exp`, 0-300 seconds. Default 300 (google-auth-library's). */
    clockSkewSeconds?: number;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined when there is none. */
export function bearerToken(authorizationHeader: string | string[] | undefined): string | undefined {
    if (typeof authorizationHeader !== "string") {
        return undefined;
    }
    const match = /^Bearer[ ]+([A-Za-z0-9_\-.=]+)\s*$/i.exec(authorizationHeader);
    return match ? match[1] : undefined;
}

function decodeSegment(segment: string, what: string): any {
    if (!/^[A-Za-z0-9_-]+={0,2}$/.test(segment)) {
        throw new IdTokenError("malformed", `${what} is not base64url`);
    }
    try {
        const value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
            throw new Error("not an object");
        }
        return value;
    } catch {
        throw new IdTokenError("malformed", `${what} is not a JSON object`);
    }
}

/** Maps google-auth-library's messages (which embed the token) to a reason and a token-free message. */
function libraryFailure(err: unknown): IdTokenError {
    const message = err instanceof Error ? err.message : String(err);
    const table: [RegExp, IdTokenFailure, string][] = [
        [/^No pem found/, "unknown-kid", "the token's key id is not one of the issuer's current certificates"],
        [/^Invalid token signature/, "bad-signature", "the signature does not verify against the issuer's certificate"],
        [/^Token used too late/, "expired", "the token has expired"],
        [/^Token used too early/, "not-yet-valid", "the token's iat is in the future"],
        [/^Expiration time too far/, "lifetime-too-long", `the token expires more than ${MAX_TOKEN_LIFETIME_SECONDS}s from now`],
        [/^Invalid issuer/, "wrong-issuer", "the token's issuer is not accepted"],
        [/^Wrong recipient/, "wrong-audience", "the token was minted for another audience"],
        [/^(No issue time|No expiration time|iat field|exp field|Wrong number|Can't parse)/, "malformed", "the token lacks valid iat/exp claims"],
    ];
    for (const [pattern, reason, text] of table) {
        if (pattern.test(message)) {
            return new IdTokenError(reason, text);
        }
    }
    return new IdTokenError("malformed", "the token could not be verified");
}

function computeEngineClaims(google: any): ComputeEngineIdentity | undefined {
    const ce = google?.compute_engine;
    if (ce === undefined) {
        return undefined;
    }
    const str = (v: unknown) => typeof v === "string" && v.length > 0;
    const num = (v: unknown) => typeof v === "number" && Number.isFinite(v);
    if (
        typeof ce !== "object" || ce === null ||
        !str(ce.project_id) || !num(ce.project_number) || !str(ce.zone) || !str(ce.instance_id) ||
        !str(ce.instance_name) || !num(ce.instance_creation_timestamp) ||
        (ce.license_id !== undefined && !(Array.isArray(ce.license_id) && ce.license_id.every(str)))
    ) {
        throw new IdTokenError("malformed", "google.compute_engine claims are incomplete or of the wrong type");
    }
    return {
        projectId: ce.project_id,
        projectNumber: ce.project_number,
        zone: ce.zone,
        instanceId: ce.instance_id,
        instanceName: ce.instance_name,
        instanceCreationTimestamp: ce.instance_creation_timestamp,
        ...(ce.license_id !== undefined ? { licenseId: [...ce.license_id] } : {}),
    };
}

export class IdTokenVerifier {
    private readonly audience: string | string[];
    private readonly issuers: string[];
    private readonly certSource: CertSource;
    private readonly skew: number;
    private readonly client = new OAuth2Client();

    constructor(opts: IdTokenVerifierOptions) {
        const audiences = Array.isArray(opts.audience) ? opts.audience : [opts.audience];
        if (audiences.length === 0 || audiences.some((a) => typeof a !== "string" || a.length === 0)) {
            throw new Error(`IdTokenVerifier: audience ${JSON.stringify(opts.audience)} must be a non-empty string (the service URL) or a non-empty list of them`);
        }
        const skew = opts.clockSkewSeconds ?? LIBRARY_CLOCK_SKEW_SECONDS;
        if (!Number.isInteger(skew) || skew < 0 || skew > LIBRARY_CLOCK_SKEW_SECONDS) {
            throw new Error(`IdTokenVerifier: clockSkewSeconds ${skew} must be an integer in 0-${LIBRARY_CLOCK_SKEW_SECONDS}`);
        }
        this.audience = opts.audience;
        this.issuers = opts.issuers ?? GOOGLE_ISSUERS;
        if (this.issuers.length === 0) {
            throw new Error("IdTokenVerifier: issuers must not be empty (default: accounts.google.com, https://accounts.google.com)");
        }
        this.certSource = opts.certs ?? urlCertSource();
        this.skew = skew;
    }

    async verify(token: string): Promise<VerifiedIdentity> {
        if (typeof token !== "string" || token.length === 0) {
            throw new IdTokenError("missing", "no token was presented");
        }
        const segments = token.split(".");
        if (segments.length !== 3 || segments[2].length === 0) {
            throw new IdTokenError("malformed", "a JWT has three non-empty dot-separated segments");
        }
        const header = decodeSegment(segments[0], "header");
        decodeSegment(segments[1], "payload");
        // The library would also try ES256; Google signs ID tokens with RS256 only.
        if (header.alg !== "RS256") {
            throw new IdTokenError("unsupported-algorithm", `alg ${JSON.stringify(header.alg)} is not RS256`);
        }
        let certs: Record<string, string>;
        try {
            certs = await this.certSource.certs();
        } catch (err) {
            throw new IdTokenError("certs-unavailable", `the issuer's certificates could not be fetched: ${(err as Error).message}`);
        }
        let payload: any;
        try {
            const ticket = await this.client.verifySignedJwtWithCertsAsync(
                token,
                certs,
                this.audience,
                this.issuers,
                MAX_TOKEN_LIFETIME_SECONDS + this.skew,
            );
            payload = ticket.getPayload();
        } catch (err) {
            throw libraryFailure(err);
        }
        if (payload === undefined) {
            throw new IdTokenError("malformed", "the token has no payload");
        }
        const now = Date.now() / 1000;
        if (now > payload.exp + this.skew) {
            throw new IdTokenError("expired", "the token has expired");
        }
        if (now < payload.iat - this.skew) {
            throw new IdTokenError("not-yet-valid", "the token's iat is in the future");
        }
        if (typeof payload.sub !== "string" || payload.sub.length === 0 || typeof payload.aud !== "string") {
            throw new IdTokenError("malformed", "sub and aud must be strings");
        }
        if (payload.email !== undefined && typeof payload.email !== "string") {
            throw new IdTokenError("malformed", "email must be a string");
        }
        const computeEngine = computeEngineClaims(payload.google);
        return {
            ...(payload.email !== undefined ? { email: payload.email } : {}),
            // Google sends a boolean; some issuers send the string "true".
            emailVerified: payload.email_verified === true || payload.email_verified === "true",
            sub: payload.sub,
            aud: payload.aud,
            iss: payload.iss,
            exp: payload.exp,
            iat: payload.iat,
            ...(computeEngine !== undefined ? { computeEngine } : {}),
        };
    }
}
