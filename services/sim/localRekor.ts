/**
 * A local Rekor-compatible transparency log on loopback for `npm run simulate -- --tlog` and the tests:
 * @sigstore/mock's log (a P-256 key generated now; signed entry timestamps and inclusion proofs) behind
 * Rekor's `POST /api/v1/log/entries`, the endpoint @sigstore/sign's RekorWitness writes to, so the
 * signer talks HTTP to it exactly as it does to rekor.sigstore.dev or a private log.
 *
 * It speaks either API: Rekor v1 (`POST /api/v1/log/entries`, rekor.sigstore.dev) or Rekor v2
 * (`POST /api/v2/log/entries`, rekor-tiles, what a private log on GCP runs).
 *
 * Like Rekor, it stores a DSSE entry in its canonical form (v1: hashes of the envelope and payload and
 * the signatures with their verifiers; v2: the `Entry` message with the payload hash and signatures),
 * not as proposed: that body is what verifiers compare with the bundle. The mock alone would log the
 * proposed body, which no verifier accepts.
 * @sigstore/mock is a development dependency: this module loads it only when a log is started.
 */
import { createHash, generateKeyPairSync } from "crypto";
import { createServer, Server } from "http";
import type { AddressInfo } from "net";
import { TransparencyLogEntry } from "@sigstore/protobuf-specs";
import type { TransparencyLogInput } from "../lib/trustedRoot";

const ENTRIES_PATH = { 1: "/api/v1/log/entries", 2: "/api/v2/log/entries" } as const;

/** Rekor's canonical body of a proposed `dsse` 0.0.1 entry; throws on anything else. */
export function canonicalDsseEntry(proposed: any): object {
    const content = proposed?.spec?.proposedContent;
    if (proposed?.kind !== "dsse" || proposed?.apiVersion !== "0.0.1" || typeof content?.envelope !== "string" || !Array.isArray(content?.verifiers)) {
        throw new Error("this log accepts dsse 0.0.1 entries only ({kind: dsse, apiVersion: 0.0.1, spec: {proposedContent: {envelope, verifiers}}})");
    }
    const envelope = JSON.parse(content.envelope) as { payload: string; signatures: { sig: string }[] };
    if (envelope.signatures.length !== content.verifiers.length) {
        throw new Error("one verifier per signature");
    }
    const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
    return {
        apiVersion: "0.0.1",
        kind: "dsse",
        spec: {
            envelopeHash: { algorithm: "sha256", value: sha256(content.envelope) },
            payloadHash: { algorithm: "sha256", value: sha256(Buffer.from(envelope.payload, "base64")) },
            signatures: envelope.signatures.map((s, i) => ({ signature: s.sig, verifier: content.verifiers[i] })),
        },
    };
}

/**
 * Rekor v2's canonical `Entry` (protobuf JSON, as rekor-tiles stores it) of a `dsseRequestV002` create
 * request (protobuf JSON, as @sigstore/sign sends it); throws on anything else.
 */
export function canonicalDsseEntryV2(request: any): unknown {
    const dsse = request?.dsseRequestV002;
    const envelope = dsse?.envelope;
    if (typeof envelope?.payload !== "string" || !Array.isArray(envelope?.signatures) || !Array.isArray(dsse?.verifiers)) {
        throw new Error("this log accepts dsseRequestV002 entries only ({dsseRequestV002: {envelope, verifiers}})");
    }
    if (envelope.signatures.length !== dsse.verifiers.length) {
        throw new Error("one verifier per signature");
    }
    return {
        kind: "dsse",
        apiVersion: "0.0.2",
        spec: {
            dsseV002: {
                payloadHash: { algorithm: "SHA2_256", digest: createHash("sha256").update(Buffer.from(envelope.payload, "base64")).digest("base64") },
                signatures: envelope.signatures.map((sig: { sig: string }, i: number) => ({ content: sig.sig, verifier: dsse.verifiers[i] })),
            },
        },
    };
}

export interface LocalRekorOptions {
    /** The Rekor API it serves: 1 (rekor.sigstore.dev) or 2 (rekor-tiles). Default 1. */
    apiVersion?: 1 | 2;
}

export interface LocalRekor {
    /** Base URL: the signer posts to `${url}/api/v1/log/entries`. */
    url: string;
    /** Its entry in a trusted root. */
    log: TransparencyLogInput;
    apiVersion: 1 | 2;
    /** Entries written so far. */
    entries: number;
    /** Every request's method, path and Authorization header (tests check the caller's identity token). */
    requests: { method: string; path: string; authorization?: string }[];
    close(): Promise<void>;
}

export async function startLocalRekor(opts: LocalRekorOptions = {}): Promise<LocalRekor> {
    const apiVersion = opts.apiVersion ?? 1;
    const entriesPath = ENTRIES_PATH[apiVersion];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mock = require("@sigstore/mock") as typeof import("@sigstore/mock");
    const keyPair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    // The log is made once the server has its URL (its checkpoints name the host).
    const requests: LocalRekor["requests"] = [];
    const state: { entries: number; tlog?: Awaited<ReturnType<typeof mock.initializeTLog>> } = { entries: 0 };
    const server: Server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        requests.push({ method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization });
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const tlog = state.tlog;
            if (tlog === undefined || req.method !== "POST" || req.url !== entriesPath) {
                res.writeHead(404, { "content-type": "text/plain" }).end(`POST ${entriesPath} only`);
                return;
            }
            let canonical: unknown;
            try {
                const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
                canonical = apiVersion === 1 ? canonicalDsseEntry(body) : canonicalDsseEntryV2(body);
            } catch (err) {
                res.writeHead(400, { "content-type": "text/plain" }).end((err as Error).message);
                return;
            }
            // The mock signs and proves whatever body it is given: here, the canonical one.
            const logged = apiVersion === 1
                ? tlog.log(canonical as object).then((entry) => JSON.stringify(entry))
                : tlog.logV2(canonical as never).then((entry) => {
                    // The mock proves inclusion in a one-entry tree but numbers the entry at random; a v2 entry has no
                    // signed entry timestamp over its index, so give it the index its proof is for.
                    const proved = { ...entry, logIndex: "0", inclusionProof: entry.inclusionProof && { ...entry.inclusionProof, logIndex: "0" } };
                    return JSON.stringify(TransparencyLogEntry.toJSON(proved));
                });
            logged.then(
                (json) => {
                    state.entries++;
                    res.writeHead(201, { "content-type": "application/json" }).end(json);
                },
                (err: Error) => res.writeHead(400, { "content-type": "text/plain" }).end(err.message),
            );
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    state.tlog = await mock.initializeTLog(url, keyPair);
    const publicKeyPem = keyPair.publicKey.export({ type: "spki", format: "pem" }).toString();
    return {
        url,
        log: { baseUrl: url, publicKeyPem, validFrom: new Date(Date.now() - 60_000).toISOString() },
        apiVersion,
        requests,
        get entries() {
            return state.entries;
        },
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
