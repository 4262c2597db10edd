/**
 * Verifies a Kubernetes projected service-account token (a pod's identity) with `jose`, against the
 * keys the cluster's issuer publishes (OIDC discovery -> jwks_uri; on GKE
 * `https://container.googleapis.com/v1/projects/<p>/locations/<l>/clusters/<c>/jwks`).
 *
 * Checked: signature (RS256/ES256 only), issuer, audience (exactly one audience, the broker's: a
 * token for the API server or any other audience is refused), expiry and not-before, a lifetime of at
 * most `maxLifetimeSeconds` (the pod template projects 600 s), and the `kubernetes.io` claims of a
 * token bound to a pod: namespace, service account and pod, each with name and UID. A token bound to a
 * Secret or to nothing names no pod and is refused.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from "jose";

/** The longest projected-token lifetime accepted: the pod template asks for exactly this (Kubernetes' minimum). */
export const MAX_POD_TOKEN_LIFETIME_SECONDS = 600;

export interface PodIdentity {
    issuer: string;
    namespace: string;
    serviceAccount: { name: string; uid: string };
    pod: { name: string; uid: string };
    node?: { name: string; uid: string };
    exp: number;
    iat: number;
}

export type PodTokenFailure = "malformed" | "bad-signature" | "expired" | "not-yet-valid" | "lifetime-too-long" | "wrong-issuer" | "wrong-audience" | "not-pod-bound" | "keys-unavailable";

/** A token that did not verify; the message never contains the token. */
export class PodTokenError extends Error {
    constructor(
        readonly reason: PodTokenFailure,
        message: string,
    ) {
        super(`pod token rejected (${reason}): ${message}`);
        this.name = "PodTokenError";
    }
}

/** Keys of one issuer. Default: discovered from `<issuer>/.well-known/openid-configuration`, cached by jose. */
export type IssuerKeys = (issuer: string) => Promise<JWTVerifyGetKey>;

export function discoveredIssuerKeys(timeoutMs = 5000): IssuerKeys {
    const cache = new Map<string, JWTVerifyGetKey>();
    return async (issuer) => {
        const known = cache.get(issuer);
        if (known !== undefined) {
            return known;
        }
        const res = await fetch(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(timeoutMs) });
        const doc: any = res.ok ? await res.json() : undefined;
        if (doc?.issuer !== issuer || typeof doc?.jwks_uri !== "string") {
            throw new Error(`the discovery document of ${issuer} answered ${res.status} without this issuer and a jwks_uri`);
        }
        const keys = createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: timeoutMs });
        cache.set(issuer, keys);
        return keys;
    };
}

const named = (v: any): v is { name: string; uid: string } => v !== null && typeof v === "object" && typeof v.name === "string" && v.name !== "" && typeof v.uid === "string" && v.uid !== "";

function failure(err: unknown): PodTokenError {
    if (err instanceof PodTokenError) {
        return err;
    }
    if (err instanceof errors.JWTExpired) {
        return new PodTokenError("expired", "the token has expired");
    }
    if (err instanceof errors.JWTClaimValidationFailed) {
        const byClaim: Record<string, [PodTokenFailure, string]> = {
            aud: ["wrong-audience", "the token was minted for another audience"],
            iss: ["wrong-issuer", "the token was issued by another cluster or issuer"],
            nbf: ["not-yet-valid", "the token is not valid yet"],
            iat: ["not-yet-valid", "the token's iat is in the future"],
        };
        const [reason, message] = byClaim[err.claim] ?? ["malformed", `claim ${err.claim} is invalid`];
        return new PodTokenError(reason, message);
    }
    if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey) {
        return new PodTokenError("bad-signature", "the signature does not verify against the issuer's published keys");
    }
    if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError)) {
        // Not a verdict on the token (the keys could not be fetched): the caller answers retryable.
        return new PodTokenError("keys-unavailable", "the issuer's keys could not be fetched");
    }
    return new PodTokenError("malformed", "the token is not a signed JWT of an accepted algorithm");
}

export interface PodTokenVerifierOptions {
    /** The one audience accepted: the broker's (its URL or configured audience). */
    audience: string;
    keys?: IssuerKeys;
    maxLifetimeSeconds?: number;
    clockSkewSeconds?: number;
}

export class PodTokenVerifier {
    private readonly keys: IssuerKeys;
    private readonly maxLifetime: number;
    private readonly skew: number;

    constructor(private readonly opts: PodTokenVerifierOptions) {
        if (typeof opts.audience !== "string" || opts.audience === "") {
            throw new Error(`PodTokenVerifier: audience ${JSON.stringify(opts.audience)} must be the broker's audience`);
        }
        this.keys = opts.keys ?? discoveredIssuerKeys();
        this.maxLifetime = opts.maxLifetimeSeconds ?? MAX_POD_TOKEN_LIFETIME_SECONDS;
        this.skew = opts.clockSkewSeconds ?? 60;
    }

    /** Verifies `token` as issued by `issuer` (the pool's cluster) for the broker's audience. */
    async verify(token: string, issuer: string): Promise<PodIdentity> {
        let keys: JWTVerifyGetKey;
        try {
            keys = await this.keys(issuer);
        } catch (err) {
            throw new PodTokenError("keys-unavailable", `the issuer's keys could not be fetched: ${(err as Error).message}`);
        }
        let payload: any;
        try {
            ({ payload } = await jwtVerify(token, keys, {
                issuer,
                audience: this.opts.audience,
                algorithms: ["RS256", "ES256"],
                requiredClaims: ["exp", "iat", "sub"],
                clockTolerance: this.skew,
            }));
        } catch (err) {
            throw failure(err);
        }
        // A token for several audiences would also work against the others (the API server among them).
        const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
        if (audiences.length !== 1) {
            throw new PodTokenError("wrong-audience", `the token names ${audiences.length} audiences; only a token for the broker alone is accepted`);
        }
        if (payload.exp - payload.iat > this.maxLifetime) {
            throw new PodTokenError("lifetime-too-long", `the token lives ${payload.exp - payload.iat}s; project it with expirationSeconds ${this.maxLifetime} or less`);
        }
        const k8s = payload["kubernetes.io"];
        if (k8s === null || typeof k8s !== "object" || typeof k8s.namespace !== "string" || !named(k8s.serviceaccount)) {
            throw new PodTokenError("malformed", "the token carries no kubernetes.io namespace and service account claims");
        }
        if (!named(k8s.pod)) {
            throw new PodTokenError("not-pod-bound", "the token is not bound to a pod (a Secret-based or unbound token); project one into the runner pod");
        }
        if (payload.sub !== `system:serviceaccount:${k8s.namespace}:${k8s.serviceaccount.name}`) {
            throw new PodTokenError("malformed", "the token's subject does not match its kubernetes.io claims");
        }
        return {
            issuer,
            namespace: k8s.namespace,
            serviceAccount: { name: k8s.serviceaccount.name, uid: k8s.serviceaccount.uid },
            pod: { name: k8s.pod.name, uid: k8s.pod.uid },
            ...(named(k8s.node) ? { node: { name: k8s.node.name, uid: k8s.node.uid } } : {}),
            exp: payload.exp,
            iat: payload.iat,
        };
    }
}
