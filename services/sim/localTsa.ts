/**
 * A local RFC 3161 timestamp authority on loopback for `npm run simulate`, `signer:dev` and the
 * tests: @sigstore/mock's TSA (a P-256 key generated now, a root and a timestamping certificate
 * for it) behind the same `POST /api/v1/timestamp` and `GET /api/v1/timestamp/certchain` endpoints
 * sigstore's timestamp-authority serves,
 * so the signer's TSA client talks HTTP to it exactly as it does to the server in the enclave.
 * @sigstore/mock is a development dependency: this module loads it only when a TSA is started.
 */
import { generateKeyPairSync, X509Certificate } from "crypto";
import { createServer, Server } from "http";
import type { AddressInfo } from "net";
import type { TimestampAuthorityInput } from "../lib/trustedRoot";

export interface LocalTsa {
    /** Base URL: the signer posts to `${url}/api/v1/timestamp`. */
    url: string;
    /** The TSA's chain (signing certificate, then root), PEM. */
    certChainPem: string;
    /** Its entry in a trusted root. */
    authority: TimestampAuthorityInput;
    /** Every request's method, path and Authorization header (tests check the caller's identity token). */
    requests: { method: string; path: string; authorization?: string }[];
    close(): Promise<void>;
}

export interface LocalTsaOptions {
    /** A fixed time every timestamp carries (tests of windows); default the current time. */
    clock?: Date;
    /** validFrom of its trusted-root entry; default one minute before start. */
    validFrom?: string;
}

const toPem = (der: ArrayBufferView): string => new X509Certificate(Buffer.from(der.buffer, der.byteOffset, der.byteLength)).toString();

export async function startLocalTsa(opts: LocalTsaOptions = {}): Promise<LocalTsa> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mock = require("@sigstore/mock") as typeof import("@sigstore/mock");
    const tsa = await mock.initializeTSA(generateKeyPairSync("ec", { namedCurve: "P-256" }), opts.clock);
    // The mock writes genTime with trimmed milliseconds (".5Z"), which strict DER parsers (including
    // @sigstore/core) refuse; timestamp-authority writes whole seconds, and so does this stand-in.
    const clock = opts.clock;
    (tsa as unknown as { getCurrentTime: () => Date }).getCurrentTime = () => new Date(Math.floor((clock ?? new Date()).getTime() / 1000) * 1000);
    const handler = mock.tsaHandler(tsa);
    const certChainPem = `${toPem(tsa.intCertificate)}${toPem(tsa.rootCertificate)}`;
    const requests: LocalTsa["requests"] = [];
    const server: Server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        requests.push({ method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization });
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            if (req.method === "GET" && req.url === `${handler.path}/certchain`) {
                res.writeHead(200, { "content-type": "application/pem-certificate-chain" }).end(certChainPem);
                return;
            }
            if (req.method !== "POST" || req.url !== handler.path) {
                res.writeHead(404, { "content-type": "text/plain" }).end(`POST ${handler.path} or GET ${handler.path}/certchain only`);
                return;
            }
            handler.fn(Buffer.concat(chunks).toString("utf8")).then(
                (r) => res.writeHead(r.statusCode, { "content-type": r.contentType ?? "text/plain" }).end(r.response),
                (err: Error) => res.writeHead(400, { "content-type": "text/plain" }).end(err.message),
            );
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
        url,
        certChainPem,
        requests,
        authority: { uri: url, certChainPem, validFrom: opts.validFrom ?? new Date(Date.now() - 60_000).toISOString() },
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
