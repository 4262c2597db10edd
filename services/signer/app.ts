/**
 * The signer service (fastify): `POST /v1/sign`, `GET /v1/keys`, `GET /v1/trusted-root`, `GET /healthz`.
 *
 * Order of a sign request, each step refusing before the next runs:
 * 1. caller identity (cloud mode): a verified Google ID token for this service's audience whose
 *    verified email is on the allow-list (the provenance generator), checked before the body is read;
 * 2. body limit (413, from Content-Length and while reading, before parsing) and content type (415);
 * 3. JSON parse (400, prototype-poisoning keys refused) and statement validation (400): schema,
 *    subjects, builder id equal to the fleet's, times;
 * 4. the statement's finish time not in the future (422 statement_time, may pass later) and inside the
 *    active key version's window (422 outside_key_window: final, no later version covers the past);
 * 5. no envelope exists yet for this invocation and subject (409), unless the stored one carries this
 *    very statement: then it is returned (200), so a redelivered request keeps its envelope;
 * 6. sign with the active version (never a key id from the request) into a Sigstore bundle with an
 *    RFC 3161 timestamp (and a log entry when a log is configured), check the bundle verifies against
 *    the fleet's trusted root and that version's key and window (attest.ts), store the envelope
 *    and the bundle beside it create-only (a racing request's stored result is returned instead).
 *
 * The payload signed is the re-serialisation of the validated object, not the request bytes, so
 * what verifiers parse is exactly what was validated (no duplicate keys, no parser differentials).
 * Nothing from the payload is logged; errors have one shape: `{error: {code, message}}`.
 */
import * as crypto from "crypto";
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from "fastify";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import type { Witness } from "@sigstore/sign";
import { DsseEnvelope, envelopeLine, envelopeObjectName, INTOTO_PAYLOAD_TYPE, parseEnvelopes } from "../lib/dsse";

export { envelopeObjectName };
import { bearerToken, IdTokenError, IdTokenVerifier } from "../lib/idToken";
import { MAX_JSON_DEPTH, tooDeep } from "../lib/jsonDepth";
import { activeVersion, KEYRING_MEDIA_TYPE, KeyringDocument, KeyVersion, validAt } from "../lib/keyring";
import type { ObjectStore } from "../lib/objectStore";
import { Problem, signingFacts, SLSA_PROVENANCE_V1, Statement, statementProblems } from "../lib/statement";
import { trustedRootJson } from "../lib/trustedRoot";
import { log } from "../lib/ops/log";
import { ServiceMetrics } from "../lib/ops/metrics";
import { operate } from "../lib/ops/operations";
import { attest, Attestation, AttestationError, BUNDLE_MEDIA_TYPE } from "./attest";
import { PublicKeyInfo, SigningKey, SigningKeyError } from "./signingKey";

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
const ACCEPTED_CONTENT_TYPES = ["application/json", INTOTO_PAYLOAD_TYPE];

export type CallerCheck =
    | { mode: "local" }
    | { mode: "cloud"; verifier: IdTokenVerifier; allowedCallers: string[] };

export interface SignerAppOptions {
    /** The fleet's builder id; every statement must carry exactly this `runDetails.builder.id`. */
    builderId: string;
    /** Every key version (published, active, retired); exactly one active. */
    versions: KeyVersion[];
    /** The backend of the active version; its name must be the active version's. */
    signingKey: SigningKey;
    /** The public key of any listed version (KMS getPublicKey with CRC32C, or the file key). */
    publicKeyOf(name: string): Promise<PublicKeyInfo>;
    /** The provenance bucket (create-only). */
    store: ObjectStore;
    /** The timestamp authority (and optional log) every bundle is witnessed by, and the trusted root listing them. */
    attestation: { witnesses: Witness[]; trustedRoot: TrustedRoot };
    caller: CallerCheck;
    /** fastify logger option; default off. Request bodies are never logged either way. */
    logger?: FastifyServerOptions["logger"];
    /** Default DEFAULT_MAX_BODY_BYTES. */
    maxBodyBytes?: number;
    /** Default statement.ts DEFAULT_MAX_SUBJECTS. */
    maxSubjects?: number;
    /** How far a statement's finishedOn may lie in the future (clock skew). Default 300 s. */
    futureSkewSeconds?: number;
    /** Clock, for tests. */
    now?: () => Date;
    /** Default: the global meter's instruments. */
    metrics?: ServiceMetrics;
}

/** A refusal with its status and the one error shape every response uses. */
class HttpError extends Error {
    constructor(
        readonly status: number,
        readonly code: string,
        message: string,
    ) {
        super(message);
    }
}

/** The error code each refused reply carried, for the refusals metric. */
const refusalCodes = new WeakMap<FastifyReply, string>();

function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
    refusalCodes.set(reply, code);
    return reply.code(status).type("application/json").send({ error: { code, message } });
}

/**
 * Writes the keyring document to the provenance bucket as `keyring/sha256-<hex>.json`
 * (content-addressed, create-only: a second start with the same versions writes nothing), so
 * verifiers who cannot reach the internal-only service read the keys next to the envelopes.
 */
export async function publishKeyring(app: FastifyInstance, store: ObjectStore): Promise<string> {
    const res = await app.inject({ method: "GET", url: "/v1/keys" });
    if (res.statusCode !== 200) {
        throw new Error(`the keyring document is unavailable (${res.statusCode}): ${res.body}`);
    }
    const bytes = Buffer.from(`${JSON.stringify(JSON.parse(res.body), null, 2)}\n`, "utf8");
    const name = `keyring/sha256-${crypto.createHash("sha256").update(bytes).digest("hex")}.json`;
    await store.create(name, bytes, "application/json");
    return name;
}

/** The envelope stored under every one of `names`, when each carries exactly `payloadBase64`. */
/** The bundle stored beside an envelope: `<...>.intoto.jsonl` -> `<...>.sigstore.json`. */
export function bundleObjectName(envelopeObject: string): string {
    return envelopeObject.replace(/\.intoto\.jsonl$/, ".sigstore.json");
}

function wantsBundle(accept: string | undefined): boolean {
    return (accept ?? "").split(",").some((t) => t.split(";")[0].trim().toLowerCase() === BUNDLE_MEDIA_TYPE);
}

/**
 * Writes the trusted root (TSA and log) to the provenance bucket as
 * `trusted-root/sha256-<hex>.json`, content-addressed and create-only like the keyring.
 */
export async function publishTrustedRoot(store: ObjectStore, root: TrustedRoot): Promise<string> {
    const bytes = Buffer.from(trustedRootJson(root), "utf8");
    const name = `trusted-root/sha256-${crypto.createHash("sha256").update(bytes).digest("hex")}.json`;
    await store.create(name, bytes, "application/json");
    return name;
}

async function storedEnvelope(store: ObjectStore, names: string[], payloadBase64: string): Promise<DsseEnvelope | undefined> {
    let first: DsseEnvelope | undefined;
    for (const name of names) {
        const bytes = await store.read(name);
        let envelope: DsseEnvelope | undefined;
        try {
            envelope = bytes === undefined ? undefined : parseEnvelopes(bytes.toString("utf8"))[0];
        } catch {
            envelope = undefined;
        }
        if (envelope === undefined || envelope.payload !== payloadBase64) {
            return undefined;
        }
        first ??= envelope;
    }
    return first;
}

function describeProblems(problems: Problem[]): { code: string; message: string } {
    const onlyBuilder = problems.every((p) => p.code === "builder_id_mismatch");
    return {
        code: onlyBuilder ? "builder_id_mismatch" : "invalid_statement",
        message: problems.map((p) => p.message).join("; "),
    };
}

export function buildSignerApp(opts: SignerAppOptions): FastifyInstance {
    const active = activeVersion(opts.versions);
    if (opts.signingKey.name !== active.name) {
        throw new Error(`the signing key ${opts.signingKey.name} is not the active version ${active.name}`);
    }
    const now = opts.now ?? (() => new Date());
    const futureSkewMs = (opts.futureSkewSeconds ?? 300) * 1000;
    const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const allowedCallers = new Set(opts.caller.mode === "cloud" ? opts.caller.allowedCallers.map((e) => e.toLowerCase()) : []);

    const app = Fastify({
        logger: opts.logger ?? false,
        bodyLimit: maxBodyBytes,
        // Caller identity comes from the token, never from forwarded headers.
        trustProxy: false,
        return503OnClosing: true,
    });
    const metrics = opts.metrics ?? new ServiceMetrics();
    operate(app, {
        service: "signer",
        metrics,
        // The key's backend (Cloud KMS getPublicKey, uncached) and the provenance bucket (one read).
        readiness: { key: () => opts.signingKey.publicKey(), storage: () => opts.store.read("health/readiness-probe.json") },
    });
    app.addHook("onResponse", async (req, reply) => {
        const status = reply.statusCode;
        if (status >= 400 && status < 500) {
            metrics.count("refusals", { service: "signer", reason: refusalCodes.get(reply) ?? String(status) });
        }
        if (req.routeOptions.url === "/v1/sign") {
            metrics.observe("signingDuration", reply.elapsedTime / 1000, { outcome: status < 400 ? "signed" : status < 500 ? "refused" : "failed" });
        }
    });

    // Only JSON, parsed by fastify's own parser with __proto__/constructor keys refused.
    app.removeAllContentTypeParsers();
    const json = app.getDefaultJsonParser("error", "error");
    app.addContentTypeParser(ACCEPTED_CONTENT_TYPES, { parseAs: "string", bodyLimit: maxBodyBytes }, (req, body, done) => {
        json(req, body as string, (err: Error | null, value?: unknown) => {
            if (err !== null) {
                return done(err, undefined);
            }
            // Serialising a deeper statement would overflow the stack: refuse it before anything reads it.
            return tooDeep(value) ? done(new HttpError(400, "too_deep", `the body nests more than ${MAX_JSON_DEPTH} levels deep`), undefined) : done(null, value);
        });
    });

    app.setErrorHandler((err: any, _req, reply) => {
        if (err instanceof HttpError) {
            return sendError(reply, err.status, err.code, err.message);
        }
        switch (err.code) {
            case "FST_ERR_CTP_BODY_TOO_LARGE":
                return sendError(reply, 413, "body_too_large", `the body is larger than ${maxBodyBytes} bytes`);
            case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
                return sendError(reply, 415, "unsupported_media_type", `Content-Type must be one of ${ACCEPTED_CONTENT_TYPES.join(", ")}`);
            case "FST_ERR_CTP_EMPTY_JSON_BODY":
                return sendError(reply, 400, "invalid_json", "the body is empty: send an in-toto Statement");
            case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
                return sendError(reply, 400, "invalid_request", "Content-Length does not match the body");
        }
        if (err instanceof SyntaxError || err.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
            // The parser's message quotes part of the body: never echo or log it.
            return sendError(reply, 400, "invalid_json", "the body is not valid JSON (or uses __proto__/constructor keys)");
        }
        if (typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500) {
            return sendError(reply, err.statusCode, "invalid_request", "the request was refused");
        }
        log("ERROR", "signer internal error", { service: "signer", error: { message: err.message, name: err.name } });
        return sendError(reply, 500, "internal", "internal error; nothing was signed");
    });
    app.setNotFoundHandler((_req, reply) => sendError(reply, 404, "not_found", "no such endpoint: POST /v1/sign, GET /v1/keys, GET /v1/trusted-root, GET /healthz"));

    let keyringCache: Promise<KeyringDocument> | undefined;
    const keyring = (): Promise<KeyringDocument> => {
        keyringCache ??= (async () => {
            // Wait for every version, so no fetch is still in flight when a retry starts.
            const settled = await Promise.allSettled(opts.versions.map((v) => opts.publicKeyOf(v.name)));
            const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
            if (failed !== undefined) {
                throw failed.reason;
            }
            return {
                mediaType: KEYRING_MEDIA_TYPE,
                builderId: opts.builderId,
                keys: opts.versions.map((v, i) => {
                    const key = (settled[i] as PromiseFulfilledResult<PublicKeyInfo>).value;
                    return { ...v, algorithm: key.algorithm, publicKeyPem: key.pem };
                }),
            };
        })();
        // A failed fetch is retried on the next request rather than cached.
        keyringCache.catch(() => (keyringCache = undefined));
        return keyringCache;
    };
    let activeKey: Promise<PublicKeyInfo> | undefined;
    const activePublicKey = (): Promise<PublicKeyInfo> => {
        activeKey ??= opts.signingKey.publicKey();
        activeKey.catch(() => (activeKey = undefined));
        return activeKey;
    };

    app.get("/v1/keys", async (_req, reply) => {
        try {
            const doc = await keyring();
            return reply.header("cache-control", "public, max-age=300").send(doc);
        } catch (err) {
            const message = err instanceof SigningKeyError ? err.message : "the key backend is unavailable";
            return sendError(reply, 502, "key_backend_unavailable", message);
        }
    });

    app.get("/v1/trusted-root", async (_req, reply) =>
        reply.header("cache-control", "public, max-age=300").type("application/json").send(TrustedRoot.toJSON(opts.attestation.trustedRoot)));

    // Caller identity before the body is read: an unknown caller cannot make the signer parse anything.
    const checkCaller = async (req: FastifyRequest, reply: FastifyReply) => {
        if (opts.caller.mode === "local") {
            return;
        }
        const token = bearerToken(req.headers.authorization);
        if (token === undefined) {
            return sendError(reply, 401, "unauthenticated", "send the caller's Google ID token as Authorization: Bearer <token>");
        }
        let email: string | undefined;
        try {
            const id = await opts.caller.verifier.verify(token);
            if (!id.emailVerified || id.email === undefined) {
                return sendError(reply, 403, "forbidden", "the token's email is not verified");
            }
            email = id.email;
        } catch (err) {
            if (err instanceof IdTokenError) {
                if (err.reason === "certs-unavailable") {
                    return sendError(reply, 503, "identity_unavailable", "the identity certificates could not be fetched; retry");
                }
                return sendError(reply, 401, "unauthenticated", err.message);
            }
            throw err;
        }
        if (!allowedCallers.has(email.toLowerCase())) {
            log("WARNING", "signer: refused a caller not on the allow-list", { service: "signer", caller: email });
            return sendError(reply, 403, "forbidden", `${email} may not call the signer`);
        }
        return undefined;
    };

    app.post("/v1/sign", { onRequest: checkCaller }, async (req, reply) => {
        if (req.body === undefined || req.body === null) {
            throw new HttpError(415, "unsupported_media_type", `send the statement as ${ACCEPTED_CONTENT_TYPES.join(" or ")}`);
        }
        const problems = statementProblems(req.body, { builderId: opts.builderId, maxSubjects: opts.maxSubjects });
        if (problems.length > 0) {
            const { code, message } = describeProblems(problems);
            throw new HttpError(400, code, message);
        }
        const statement = req.body as Statement;
        // Provenance or an SBOM attestation (lib/sbomStatement.ts): the time it speaks for, and its invocation.
        const { finishedOn, invocationId } = signingFacts(statement);
        const finished = new Date(finishedOn);
        if (finished.getTime() > now().getTime() + futureSkewMs) {
            throw new HttpError(422, "statement_time", `finishedOn ${finishedOn} is in the future`);
        }
        if (!validAt(active, finished)) {
            throw new HttpError(422, "outside_key_window", `finishedOn ${finishedOn} is outside the active key version's window (from ${active.validFrom}): verifiers would reject the envelope`);
        }

        const names = [...new Set(statement.subject.map((s) => s.digest.sha256))].map((d) => envelopeObjectName(d, invocationId));
        const payload = Buffer.from(JSON.stringify(statement), "utf8");
        // The same statement again (a redelivered or concurrent request) gets the stored envelope back,
        // so every caller keeps a reference to it; a different statement for the same invocation never does.
        const stored = async (reason: string): Promise<FastifyReply> => {
            const same = await storedEnvelope(opts.store, names, payload.toString("base64"));
            if (same === undefined) {
                throw new HttpError(409, "already_signed", `provenance for this invocation and subject already exists with another statement (${reason}); nothing was replaced`);
            }
            reply.code(200).header("x-provenance-objects", names.join(","));
            if (!wantsBundle(req.headers.accept)) {
                return reply.send(same);
            }
            const bundle = await opts.store.read(bundleObjectName(names[0]));
            if (bundle === undefined) {
                throw new HttpError(409, "already_signed", `provenance for this invocation exists without a Sigstore bundle (${reason}); nothing was replaced`);
            }
            return reply.type(BUNDLE_MEDIA_TYPE).send(JSON.parse(bundle.toString("utf8")));
        };
        for (const name of names) {
            if ((await opts.store.read(name)) !== undefined) {
                return stored(name);
            }
        }

        let attestation: Attestation;
        try {
            attestation = await attest(payload, {
                key: opts.signingKey,
                version: active,
                publicKeyPem: async () => (await activePublicKey()).pem,
                witnesses: opts.attestation.witnesses,
                trustedRoot: opts.attestation.trustedRoot,
            });
        } catch (err) {
            if (err instanceof SigningKeyError) {
                log("ERROR", "signer: key backend refused", { service: "signer", error: err.message });
                throw new HttpError(502, "signing_failed", `${err.message}; nothing was signed`);
            }
            if (err instanceof AttestationError) {
                log("ERROR", "signer: no verifiable bundle", { service: "signer", error: err.message });
                throw new HttpError(502, "attestation_failed", `${err.message}; nothing was returned or stored`);
            }
            throw err;
        }
        const line = Buffer.from(envelopeLine(attestation.envelope), "utf8");
        const bundleBytes = Buffer.from(`${JSON.stringify(attestation.bundle)}\n`, "utf8");
        for (const name of names) {
            // The bundle first: a stored envelope always has its bundle beside it (the envelope's name is the existence check).
            const bundleStored = await opts.store.create(bundleObjectName(name), bundleBytes, BUNDLE_MEDIA_TYPE);
            const { created } = bundleStored.created ? await opts.store.create(name, line, "application/jsonl") : bundleStored;
            if (!created) {
                return stored(`${name}, stored by a concurrent request`);
            }
        }
        metrics.count("signatures", { kind: statement.predicateType === SLSA_PROVENANCE_V1 ? "provenance" : "sbom" });
        log("INFO", "signer: signed and stored", { service: "signer", subjects: statement.subject.length, objects: names.length, keyid: opts.signingKey.name });
        reply.code(201).header("x-provenance-objects", names.join(","));
        // A client that asks for the bundle gets it (the envelope is inside); others the bare envelope.
        return wantsBundle(req.headers.accept) ? reply.type(BUNDLE_MEDIA_TYPE).send(attestation.bundle) : reply.send(attestation.envelope);
    });

    return app;
}
