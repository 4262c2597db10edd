/**
 * A small client for the OCI distribution API, only what publishing needs: sign in (basic, or a bearer
 * token from the registry's token service), read a manifest with its digest, upload a blob (from bytes
 * or a stream), put a manifest with an optional `If-Match`.
 *
 * Why our own: `@sigstore/oci` exports only `attachArtifactToImage` and `getImageDigest` from its
 * package root; its registry client is not public API, and nothing else kept here pushes blobs and
 * manifests. This client keeps what matters for a publisher: credentials go only to the registry's own
 * origin (never to a redirect or upload location on another host), every error names the request and
 * the registry's error codes, and 4xx answers are told apart from transient failures.
 */
import { request as httpRequest } from "http";
import { request as httpsRequest } from "https";
import type { Readable } from "stream";
import { pipeline } from "stream/promises";

export interface Credentials {
    username: string;
    password: string;
}

/** A registry answer other than the expected one. `final` for 4xx refusals a retry cannot change. */
export class RegistryHttpError extends Error {
    constructor(
        readonly status: number,
        readonly codes: string[],
        message: string,
    ) {
        super(message);
        this.name = "RegistryHttpError";
    }

    /** A refusal of the request itself (bad manifest, immutable tag, denied): retrying sends the same thing. */
    get final(): boolean {
        return this.status >= 400 && this.status < 500 && ![401, 408, 429].includes(this.status);
    }
}

export interface ManifestRead {
    bytes: Buffer;
    mediaType: string;
    /** `Docker-Content-Digest` as served (may be empty). */
    digest: string;
    etag?: string;
}

/** A blob body: bytes, or a stream factory with the exact size (the stream is read once per call). */
export type BlobSource = Buffer | { size: number; open: () => Readable };

const ACCEPT = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
].join(",");

const RETRIES = 4;

async function errorOf(what: string, res: Response): Promise<RegistryHttpError> {
    const text = await res.text().catch(() => "");
    let codes: string[] = [];
    let detail = text.slice(0, 300);
    try {
        const errors = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors ?? [];
        codes = errors.map((e) => String(e.code ?? ""));
        detail = errors.map((e) => `${e.code}: ${e.message}`).join("; ");
    } catch {
        // not the registry's JSON error body
    }
    return new RegistryHttpError(res.status, codes, `${what}: ${res.status}${detail ? ` (${detail})` : ""}`);
}

export class DistributionClient {
    private readonly base: string;
    private authorization?: string;

    /**
     * @param registry `host[:port]`; loopback hosts are spoken to over http, every other host over https.
     * @param repository the repository path inside the registry
     */
    constructor(
        readonly registry: string,
        readonly repository: string,
        private readonly timeoutMs = 60_000,
    ) {
        const host = registry.split(":")[0];
        this.base = `${host === "127.0.0.1" || host === "localhost" ? "http" : "https"}://${registry}`;
    }

    /** Answers the registry's challenge: basic credentials as they are, or a bearer token for push and pull. */
    async signIn(creds: Credentials): Promise<void> {
        const basic = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
        const probe = await this.fetch(`${this.base}/v2/`, { method: "GET" }, false);
        await probe.arrayBuffer();
        const challenge = probe.headers.get("www-authenticate") ?? "";
        if (probe.status !== 401 || /^basic/i.test(challenge)) {
            this.authorization = basic;
            return;
        }
        const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1].toLowerCase(), m[2]]));
        if (!/^bearer/i.test(challenge) || params.realm === undefined) {
            throw new RegistryHttpError(401, [], `sign in to ${this.registry}: unsupported challenge ${JSON.stringify(challenge.slice(0, 100))}`);
        }
        const url = new URL(params.realm);
        if (params.service !== undefined) {
            url.searchParams.set("service", params.service);
        }
        url.searchParams.set("scope", `repository:${this.repository}:pull,push`);
        const res = await fetch(url, { headers: { authorization: basic }, signal: AbortSignal.timeout(this.timeoutMs) });
        if (res.status !== 200) {
            throw await errorOf(`token for ${this.registry}/${this.repository}`, res);
        }
        const body = (await res.json()) as { token?: string; access_token?: string };
        const token = body.token ?? body.access_token;
        if (typeof token !== "string" || token.length === 0) {
            throw new RegistryHttpError(401, [], `the token service of ${this.registry} answered without a token`);
        }
        this.authorization = `Bearer ${token}`;
    }

    /** The manifest under `reference` (a digest or a tag), or undefined when there is none (404). */
    async getManifest(reference: string): Promise<ManifestRead | undefined> {
        const res = await this.fetch(this.url(`manifests/${reference}`), { method: "GET", headers: { accept: ACCEPT } });
        if (res.status === 404) {
            await res.arrayBuffer();
            return undefined;
        }
        if (res.status !== 200) {
            throw await errorOf(`GET manifest ${this.repository}:${reference}`, res);
        }
        return {
            bytes: Buffer.from(await res.arrayBuffer()),
            mediaType: (res.headers.get("content-type") ?? "").split(";")[0],
            digest: res.headers.get("docker-content-digest") ?? "",
            ...(res.headers.get("etag") ? { etag: res.headers.get("etag")! } : {}),
        };
    }

    /** True when the registry has the blob (HEAD). */
    async hasBlob(digest: string): Promise<boolean> {
        const res = await this.fetch(this.url(`blobs/${digest}`), { method: "HEAD" });
        if (res.status === 200 || res.status === 404) {
            return res.status === 200;
        }
        throw await errorOf(`HEAD blob ${digest}`, res);
    }

    /**
     * Uploads a blob under `digest` (monolithic: POST, then PUT with the digest), unless the registry has
     * it. The registry hashes what it received and refuses a digest mismatch (400 DIGEST_INVALID).
     */
    async uploadBlob(digest: string, source: BlobSource): Promise<void> {
        if (await this.hasBlob(digest)) {
            return;
        }
        const start = await this.fetch(this.url("blobs/uploads/"), { method: "POST", headers: { "content-length": "0" } });
        await start.arrayBuffer();
        const location = start.headers.get("location");
        if (start.status !== 202 || location === null) {
            throw await errorOf(`start blob upload ${digest}`, start);
        }
        const target = new URL(location, this.base);
        target.searchParams.set("digest", digest);
        const size = Buffer.isBuffer(source) ? source.length : source.size;
        const res = Buffer.isBuffer(source)
            ? await this.fetch(target.toString(), { method: "PUT", headers: { "content-type": "application/octet-stream", "content-length": String(size) }, body: source })
            : await this.putStream(target, size, source.open());
        if (res.status !== 201) {
            throw await errorOf(`PUT blob ${digest} (${size} bytes)`, res);
        }
        await res.arrayBuffer();
    }

    /**
     * PUTs a stream with its exact Content-Length through node's http client, piped with backpressure:
     * fetch buffers a streamed request body (a 256 MiB layer cost 240 MiB of memory; bench/imageMemory.ts).
     */
    private async putStream(target: URL, size: number, body: Readable): Promise<Response> {
        const sameOrigin = target.origin === new URL(this.base).origin;
        const headers: Record<string, string> = { "content-type": "application/octet-stream", "content-length": String(size), ...(sameOrigin && this.authorization ? { authorization: this.authorization } : {}) };
        const send = target.protocol === "https:" ? httpsRequest : httpRequest;
        return new Promise<Response>((resolve, reject) => {
            const req = send(target, { method: "PUT", headers, timeout: this.timeoutMs }, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 502, headers: res.headers as Record<string, string> })));
                res.on("error", reject);
            });
            req.on("timeout", () => req.destroy(new Error(`PUT ${target.pathname}: no answer in ${this.timeoutMs} ms`)));
            pipeline(body, req).catch((err: Error) => reject(new Error(`PUT ${target.pathname}: ${err.message}`, { cause: err })));
        });
    }

    /** PUTs a manifest's exact bytes under `reference`; `ifMatch` makes the write conditional where the registry supports it. */
    async putManifest(reference: string, bytes: Buffer, mediaType: string, ifMatch?: string): Promise<{ digest: string }> {
        const res = await this.fetch(this.url(`manifests/${reference}`), {
            method: "PUT",
            headers: { "content-type": mediaType, ...(ifMatch !== undefined ? { "if-match": ifMatch } : {}) },
            body: bytes,
        });
        if (res.status !== 201) {
            throw await errorOf(`PUT manifest ${this.repository}:${reference}`, res);
        }
        await res.arrayBuffer();
        return { digest: res.headers.get("docker-content-digest") ?? "" };
    }

    private url(suffix: string): string {
        return `${this.base}/v2/${this.repository}/${suffix}`;
    }

    /**
     * Credentials only to the registry's own origin; redirects are not followed (a publisher needs none).
     * Reads and manifest writes (idempotent: the same bytes under the same reference) are retried on a 5xx
     * or a dropped connection: a registry serving two writers of one manifest can answer 500 for a moment.
     */
    private async fetch(url: string, init: RequestInit, withAuth = true): Promise<Response> {
        const sameOrigin = new URL(url).origin === new URL(this.base).origin;
        const headers = { ...(init.headers as Record<string, string>), ...(withAuth && sameOrigin && this.authorization ? { authorization: this.authorization } : {}) };
        const retryable = init.method === "GET" || init.method === "HEAD" || (init.method === "PUT" && Buffer.isBuffer(init.body) && url.includes("/manifests/"));
        for (let attempt = 1; ; attempt++) {
            const last = !retryable || attempt >= RETRIES;
            try {
                const res = await fetch(url, { ...init, headers, redirect: "manual", signal: AbortSignal.timeout(this.timeoutMs) });
                if (res.status < 500 || last) {
                    return res;
                }
                await res.arrayBuffer().catch(() => undefined);
            } catch (err) {
                if (last) {
                    throw new Error(`${init.method} ${url}: ${(err as Error).message}${(err as { cause?: Error }).cause ? ` (${(err as { cause: Error }).cause.message})` : ""}`, { cause: err });
                }
            }
            await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        }
    }
}
