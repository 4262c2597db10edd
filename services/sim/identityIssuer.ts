/**
 * A local stand-in for Google's ID token issuer and for the GCE metadata server's identity endpoint,
 * on loopback only. It generates an RSA key at start (nothing is stored), serves the certificate in
 * the format google-auth-library fetches (`GET /oauth2/v1/certs`: JSON map of key id to an X.509
 * certificate PEM; `GET /oauth2/v3/certs`: JWKS), and mints RS256 tokens with Google's claim layout,
 * including the `google.compute_engine` claims of a `format=full` instance identity token.
 */
import * as crypto from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";
import { CertSource, ComputeEngineIdentity, urlCertSource } from "../lib/idToken";

export interface MintOptions {
    audience: string;
    email: string;
    /** Default true (a Google service account's email is always verified). */
    emailVerified?: boolean;
    /** Adds `google.compute_engine` claims (a `format=full` metadata token). */
    computeEngine?: ComputeEngineIdentity;
    /** Default 3600 (Google's lifetime). */
    ttlSeconds?: number;
    /** Epoch seconds; default now. A past value mints an expired token. */
    issuedAt?: number;
    /** Default https://accounts.google.com. */
    issuer?: string;
    /** Default a stable numeric id derived from the email, like a service account's unique id. */
    sub?: string;
}

export interface MetadataIdentity {
    email: string;
    computeEngine?: ComputeEngineIdentity;
}

export interface MetadataServer {
    /** `127.0.0.1:<port>`: the value of GCE_METADATA_HOST for a process that plays this instance. */
    host: string;
    url: string;
    close(): Promise<void>;
}

// ---- a minimal DER writer for one self-signed X.509 v1 certificate (Google serves certificates) ----
function der(tag: number, ...parts: Buffer[]): Buffer {
    const body = Buffer.concat(parts);
    const len = body.length;
    let header: Buffer;
    if (len < 0x80) {
        header = Buffer.from([tag, len]);
    } else {
        const bytes: number[] = [];
        for (let n = len; n > 0; n = Math.floor(n / 256)) {
            bytes.unshift(n % 256);
        }
        header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
    }
    return Buffer.concat([header, body]);
}
const seq = (...parts: Buffer[]) => der(0x30, ...parts);
const SHA256_WITH_RSA = seq(Buffer.from("06092a864886f70d01010b", "hex"), Buffer.from("0500", "hex"));
const commonName = (cn: string) =>
    seq(der(0x31, seq(Buffer.from("0603550403", "hex"), der(0x0c, Buffer.from(cn, "utf8")))));
const utcTime = (d: Date) => der(0x17, Buffer.from(d.toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z", "ascii"));

function selfSignedCertificate(key: crypto.KeyObject, pub: crypto.KeyObject, cn: string): string {
    const now = Date.now();
    const serial = crypto.randomBytes(8);
    // A positive INTEGER with a non-zero first byte: DER forbids a leading 0x00 before a byte < 0x80, so
    // clearing only the sign bit made one issuer in 256 serve a certificate no parser accepts.
    serial[0] = 0x40 | (serial[0] & 0x3f);
    const tbs = seq(
        der(0x02, serial),
        SHA256_WITH_RSA,
        commonName(cn),
        seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 14 * 86400_000))),
        commonName(cn),
        pub.export({ type: "spki", format: "der" }),
    );
    const signature = crypto.sign("sha256", tbs, key);
    const cert = seq(tbs, SHA256_WITH_RSA, der(0x03, Buffer.from([0]), signature));
    const b64 = cert.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
    return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A stable 21-digit numeric id for an email, the shape of a service account's unique id. */
function numericId(email: string): string {
    const digest = crypto.createHash("sha256").update(email).digest();
    return "1" + (digest.readBigUInt64BE(0) % 10n ** 20n).toString().padStart(20, "0");
}

function listen(server: http.Server): Promise<number> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
    });
}

function closeServer(server: http.Server): Promise<void> {
    return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
    });
}

export class IdentityIssuer {
    readonly kid: string;
    private readonly privateKey: crypto.KeyObject;
    private readonly certificatePem: string;
    private readonly jwk: crypto.JsonWebKey;
    private readonly metadataServers = new Set<http.Server>();
    private server?: http.Server;
    private baseUrl?: string;

    constructor() {
        const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
        this.privateKey = privateKey;
        this.kid = crypto.createHash("sha1").update(publicKey.export({ type: "spki", format: "der" })).digest("hex");
        this.certificatePem = selfSignedCertificate(privateKey, publicKey, "local-identity-issuer");
        this.jwk = { ...publicKey.export({ format: "jwk" }), kid: this.kid, alg: "RS256", use: "sig" } as crypto.JsonWebKey;
    }

    /** Starts the certificate endpoint on 127.0.0.1 (ephemeral port). */
    static async start(): Promise<IdentityIssuer> {
        const issuer = new IdentityIssuer();
        await issuer.listen();
        return issuer;
    }

    private async listen(): Promise<void> {
        this.server = http.createServer((req, res) => {
            const path = (req.url ?? "").split("?")[0];
            const body =
                req.method !== "GET" ? undefined
                : path === "/oauth2/v1/certs" ? { [this.kid]: this.certificatePem }
                : path === "/oauth2/v3/certs" ? { keys: [this.jwk] }
                : undefined;
            if (body === undefined) {
                res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
                return;
            }
            res.writeHead(200, { "content-type": "application/json", "cache-control": "public, max-age=300" }).end(JSON.stringify(body));
        });
        const port = await listen(this.server);
        this.baseUrl = `http://127.0.0.1:${port}`;
    }

    /** The PEM certificate endpoint, in the format of https://www.googleapis.com/oauth2/v1/certs. */
    get certsUrl(): string {
        if (this.baseUrl === undefined) {
            throw new Error("IdentityIssuer: call IdentityIssuer.start() before using its URLs");
        }
        return `${this.baseUrl}/oauth2/v1/certs`;
    }

    /** The certificate source to hand to `IdTokenVerifier` (fetched over loopback by google-auth-library). */
    certSource(): CertSource {
        return urlCertSource(this.certsUrl);
    }

    /** The certificate PEM (for a verifier configured without HTTP). */
    get certificate(): string {
        return this.certificatePem;
    }

    mint(opts: MintOptions): string {
        const iat = opts.issuedAt ?? Math.floor(Date.now() / 1000);
        const sub = opts.sub ?? numericId(opts.email);
        const payload: Record<string, unknown> = {
            aud: opts.audience,
            azp: sub,
            email: opts.email,
            email_verified: opts.emailVerified ?? true,
            exp: iat + (opts.ttlSeconds ?? 3600),
            iat,
            iss: opts.issuer ?? "https://accounts.google.com",
            sub,
        };
        if (opts.computeEngine !== undefined) {
            const ce = opts.computeEngine;
            payload.google = {
                compute_engine: {
                    instance_creation_timestamp: ce.instanceCreationTimestamp,
                    instance_id: ce.instanceId,
                    instance_name: ce.instanceName,
                    project_id: ce.projectId,
                    project_number: ce.projectNumber,
                    zone: ce.zone,
                    ...(ce.licenseId !== undefined ? { license_id: ce.licenseId } : {}),
                },
            };
        }
        const signed = `${b64url({ alg: "RS256", kid: this.kid, typ: "JWT" })}.${b64url(payload)}`;
        return `${signed}.${crypto.sign("sha256", Buffer.from(signed), this.privateKey).toString("base64url")}`;
    }

    /**
     * A metadata server for one simulated instance on its own loopback port, answering
     * `GET /computeMetadata/v1/instance/service-accounts/default/identity?audience=...[&format=full][&licenses=TRUE]`
     * (and `.../default/email`) only with the `Metadata-Flavor: Google` header, like GCE's.
     */
    async startMetadataServer(identity: MetadataIdentity): Promise<MetadataServer> {
        const server = http.createServer((req, res) => {
            const url = new URL(req.url ?? "/", "http://metadata.google.internal");
            const text = (status: number, body: string) =>
                res.writeHead(status, { "content-type": "text/plain", "metadata-flavor": "Google" }).end(body);
            if (req.headers["metadata-flavor"] !== "Google") {
                return text(403, "Missing Metadata-Flavor:Google header.");
            }
            if (req.method !== "GET") {
                return text(405, "Method not allowed.");
            }
            const prefix = "/computeMetadata/v1/instance/service-accounts/default/";
            if (url.pathname === `${prefix}email`) {
                return text(200, identity.email);
            }
            if (url.pathname !== `${prefix}identity`) {
                return text(404, "Not found.");
            }
            const audience = url.searchParams.get("audience");
            if (!audience) {
                return text(400, "non-empty audience parameter required");
            }
            const full = url.searchParams.get("format") === "full";
            const licenses = url.searchParams.get("licenses")?.toUpperCase() === "TRUE";
            let computeEngine = full ? identity.computeEngine : undefined;
            if (computeEngine !== undefined && !licenses) {
                const { licenseId: _omitted, ...rest } = computeEngine;
                computeEngine = rest;
            }
            return text(200, this.mint({ audience, email: identity.email, computeEngine }));
        });
        const port = await listen(server);
        this.metadataServers.add(server);
        return {
            host: `127.0.0.1:${port}`,
            url: `http://127.0.0.1:${port}`,
            close: async () => {
                this.metadataServers.delete(server);
                await closeServer(server);
            },
        };
    }

    async close(): Promise<void> {
        await Promise.all([...this.metadataServers].map(closeServer));
        this.metadataServers.clear();
        if (this.server !== undefined) {
            await closeServer(this.server);
        }
    }
}
