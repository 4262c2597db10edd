/**
 * A local Rekor-compatible transparency log on loopback for `npm run simulate -- --tlog` and the tests:
 * @sigstore/mock's log (a P-256 key generated now; signed entry timestamps and inclusion proofs) behind
 * Rekor's `POST /api/v1/log/entries`, the endpoint @sigstore/sign's RekorWitness writes to, so the
 * signer talks HTTP to it exactly as it does to rekor.sigstore.dev or a private log.
 *
 * Like Rekor, it stores a DSSE entry in its canonical form (hashes of the envelope and payload, the
 * signatures with their verifiers), not as proposed: that body is what verifiers compare with the
 * bundle. The mock alone would log the proposed body, which no verifier accepts.
 * @sigstore/mock is a development dependency: this module loads it only when a log is started.
 */
import { createHash, generateKeyPairSync } from "crypto";
import { createServer, Server } from "http";
import type { AddressInfo } from "net";
import type { TransparencyLogInput } from "../lib/trustedRoot";

const ENTRIES_PATH = "/api/v1/log/entries";

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

export interface LocalRekor {
    /** Base URL: the signer posts to `${url}/api/v1/log/entries`. */
    url: string;
    /** Its entry in a trusted root. */
    log: TransparencyLogInput;
    /** Entries written so far. */
    entries: number;
    close(): Promise<void>;
}

export async function startLocalRekor(): Promise<LocalRekor> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mock = require("@sigstore/mock") as typeof import("@sigstore/mock");
    const keyPair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    // The log is made once the server has its URL (its checkpoints name the host).
    const state: { entries: number; tlog?: Awaited<ReturnType<typeof mock.initializeTLog>> } = { entries: 0 };
    const server: Server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const tlog = state.tlog;
            if (tlog === undefined || req.method !== "POST" || req.url !== ENTRIES_PATH) {
                res.writeHead(404, { "content-type": "text/plain" }).end(`POST ${ENTRIES_PATH} only`);
                return;
            }
            let canonical: object;
            try {
                canonical = canonicalDsseEntry(JSON.parse(Buffer.concat(chunks).toString("utf8")));
            } catch (err) {
                res.writeHead(400, { "content-type": "text/plain" }).end((err as Error).message);
                return;
            }
            tlog.log(canonical).then(
                (entry) => {
                    state.entries++;
                    res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify(entry));
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
        get entries() {
            return state.entries;
        },
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
