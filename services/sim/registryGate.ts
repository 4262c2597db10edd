/**
 * A local stand-in for Artifact Registry's IAM in front of the real distribution registry: reads are
 * open (consumers pull), writes need basic auth as `oauth2accesstoken` with a Google-style identity
 * token from the simulation's issuer, whose email must be one of `writers` (the control plane's
 * publishing identity). Everything else is proxied unchanged to the registry, which stores and checks
 * the bytes. A runner that mints a token from its metadata server is refused with 403. With
 * `immutableTags`, moving an existing tag is refused as Artifact Registry refuses it.
 */
import { createServer, IncomingMessage, request as httpRequest, Server, ServerResponse } from "http";
import type { AddressInfo } from "net";
import { IdTokenError, IdTokenVerifier } from "../lib/idToken";

export interface RegistryGateOptions {
    /** `http://127.0.0.1:<port>` of the registry behind the gate. */
    upstream: string;
    verifier: IdTokenVerifier;
    /** Emails allowed to write (artifactregistry.writer). */
    writers: string[];
    /** Refuse a manifest PUT to a tag that already exists (Artifact Registry's `immutableTags`), 400 TAG_INVALID. */
    immutableTags?: boolean;
}

export interface RegistryGate {
    /** `127.0.0.1:<port>`: the registry host consumers and the generator use. */
    host: string;
    url: string;
    /** Writes refused, with the identity that tried. */
    refused: { email?: string; method: string; path: string; status: number }[];
    close(): Promise<void>;
}

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

type Denial = { status: 400 | 401 | 403; message: string; email?: string };
const DENIAL_CODE = { 400: "TAG_INVALID", 401: "UNAUTHORIZED", 403: "DENIED" } as const;

function deny(res: ServerResponse, status: Denial["status"], message: string): void {
    res.writeHead(status, {
        "content-type": "application/json",
        ...(status === 401 ? { "www-authenticate": 'Basic realm="hardened-build-fleet sim registry"' } : {}),
    });
    res.end(JSON.stringify({ errors: [{ code: DENIAL_CODE[status], message }] }));
}

/** True when the registry behind the gate has a manifest under the tag this PUT names. */
async function movesTag(upstream: URL, req: IncomingMessage): Promise<boolean> {
    const m = /^\/v2\/(.+)\/manifests\/([^/?]+)$/.exec(req.url ?? "");
    if (req.method !== "PUT" || m === null || m[2].startsWith("sha256:")) {
        return false;
    }
    const res = await fetch(`${upstream.origin}/v2/${m[1]}/manifests/${m[2]}`, { method: "HEAD", headers: { accept: "application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json" } });
    return res.status === 200;
}

export async function startRegistryGate(opts: RegistryGateOptions): Promise<RegistryGate> {
    const writers = new Set(opts.writers.map((w) => w.toLowerCase()));
    const upstream = new URL(opts.upstream);
    const refused: RegistryGate["refused"] = [];

    const authorize = async (req: IncomingMessage): Promise<Denial | undefined> => {
        if (!WRITE_METHODS.has(req.method ?? "")) {
            return undefined;
        }
        const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? "");
        if (m === null) {
            return { status: 401, message: "authentication required to write" };
        }
        const [user, ...rest] = Buffer.from(m[1], "base64").toString("utf8").split(":");
        if (user !== "oauth2accesstoken") {
            return { status: 401, message: "use the user oauth2accesstoken with an identity token" };
        }
        try {
            const id = await opts.verifier.verify(rest.join(":"));
            if (!id.emailVerified || id.email === undefined || !writers.has(id.email.toLowerCase())) {
                return { status: 403, message: `${id.email ?? id.sub} may not write to this registry`, email: id.email };
            }
            if (opts.immutableTags === true && (await movesTag(upstream, req))) {
                return { status: 400, message: "the tag exists and tags in this repository are immutable", email: id.email };
            }
            return undefined;
        } catch (err) {
            if (err instanceof IdTokenError) {
                return { status: 401, message: err.message };
            }
            throw err;
        }
    };

    const server: Server = createServer((req, res) => {
        authorize(req).then((denied) => {
            if (denied !== undefined) {
                req.resume();
                refused.push({ email: denied.email, method: req.method ?? "", path: req.url ?? "", status: denied.status });
                return deny(res, denied.status, denied.message);
            }
            const headers = { ...req.headers };
            delete headers.authorization;
            const up = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (upRes) => {
                res.writeHead(upRes.statusCode ?? 502, upRes.headers);
                upRes.pipe(res);
            });
            up.on("error", () => {
                if (!res.headersSent) {
                    res.writeHead(502);
                }
                res.end();
            });
            req.pipe(up);
        }).catch(() => {
            res.writeHead(500);
            res.end();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return {
        host: `127.0.0.1:${port}`,
        url: `http://127.0.0.1:${port}`,
        refused,
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}
