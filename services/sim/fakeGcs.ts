/**
 * A fake Cloud Storage upload endpoint on loopback that enforces what GCS enforces for a V4 signed
 * POST policy, so the upload-attack tests are meaningful:
 * - the signature (GOOG4-RSA-SHA256, hex) over the base64 policy must verify with the public key of
 *   the `x-goog-credential` principal (the control plane's key, generated at run time);
 * - the policy must not have expired, and every condition must hold: `{bucket}` equals the URL's
 *   bucket, exact and `starts-with` conditions on the form fields (the object `key`),
 *   `content-length-range` on the file;
 * - every form field except policy, x-goog-signature, file and x-ignore-* must be covered by a
 *   condition (else GCS refuses the upload);
 * - the signing principal holds objectCreator only: an existing object is never overwritten (403),
 *   and nothing can be read back (GET is 403).
 * On every created object it calls `onFinalize`, as a bucket's OBJECT_FINALIZE notification would.
 */
import { createVerify, KeyObject } from "crypto";
import Fastify, { FastifyInstance, FastifyReply } from "fastify";
import { checkObjectName, ObjectStore } from "../lib/objectStore";

export interface FakeGcsOptions {
    buckets: Record<string, ObjectStore>;
    /** Public keys of the principals allowed to sign policies (email -> key). */
    signers: Record<string, KeyObject>;
    onFinalize?: (bucket: string, object: string) => void;
    now?: () => Date;
}

const UNCOVERED_OK = new Set(["policy", "x-goog-signature", "file", "bucket"]);

/** Cloud Storage's XML API error codes for the refusals below. */
const CODES: Record<number, string> = { 400: "InvalidArgument", 403: "AccessDenied", 404: "NoSuchBucket" };

function refuse(reply: FastifyReply, status: number, message: string): FastifyReply {
    return reply.code(status).type("application/json").send({ error: { code: CODES[status] ?? String(status), message } });
}

export class FakeGcs {
    readonly app: FastifyInstance;
    url = "";
    /** Upload attempts and their outcome, for the simulation's summary. */
    readonly log: { bucket: string; key: string; status: number; reason?: string }[] = [];

    constructor(private readonly opts: FakeGcsOptions) {
        this.app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
        this.app.addContentTypeParser(/^multipart\/form-data/, { parseAs: "buffer" }, (_req, body, done) => done(null, body));
        this.app.get("/*", async (_request, reply) => refuse(reply, 403, "the caller does not have storage.objects.get access"));
        this.app.post("/:bucket/", async (request, reply) => {
            const bucket = (request.params as any).bucket as string;
            const form = await new Response(request.body as Buffer, { headers: { "content-type": String(request.headers["content-type"]) } }).formData();
            const key = String(form.get("key") ?? "");
            const result = await this.upload(bucket, form);
            this.log.push({ bucket, key, status: result.status, ...(result.reason ? { reason: result.reason } : {}) });
            if (result.status !== 204) {
                return refuse(reply, result.status, result.reason!);
            }
            this.opts.onFinalize?.(bucket, key);
            return reply.code(204).send();
        });
    }

    async listen(): Promise<string> {
        this.url = await this.app.listen({ host: "127.0.0.1", port: 0 });
        return this.url;
    }

    close(): Promise<void> {
        return this.app.close();
    }

    private async upload(bucket: string, form: FormData): Promise<{ status: number; reason?: string }> {
        const store = this.opts.buckets[bucket];
        if (store === undefined) {
            return { status: 404, reason: `bucket ${bucket} does not exist` };
        }
        const field = (name: string) => (typeof form.get(name) === "string" ? (form.get(name) as string) : undefined);
        const policyB64 = field("policy");
        const signature = field("x-goog-signature");
        const credential = field("x-goog-credential");
        const file = form.get("file");
        if (policyB64 === undefined || signature === undefined || credential === undefined || field("x-goog-algorithm") !== "GOOG4-RSA-SHA256" || !(file instanceof Blob)) {
            return { status: 400, reason: "policy, x-goog-signature, x-goog-credential, x-goog-algorithm=GOOG4-RSA-SHA256 and file are required" };
        }
        const email = credential.split("/")[0];
        const publicKey = this.opts.signers[email];
        if (publicKey === undefined || !/^[0-9a-f]+$/.test(signature) || !createVerify("sha256").update(policyB64).verify(publicKey, Buffer.from(signature, "hex"))) {
            return { status: 403, reason: "the policy signature does not match" };
        }
        let policy: any;
        try {
            policy = JSON.parse(Buffer.from(policyB64, "base64").toString("utf8"));
        } catch {
            return { status: 400, reason: "the policy is not JSON" };
        }
        const now = (this.opts.now ?? (() => new Date()))();
        if (!(Date.parse(policy.expiration) > now.getTime())) {
            return { status: 403, reason: "the policy has expired" };
        }
        const bytes = Buffer.from(await file.arrayBuffer());
        const covered = new Set<string>();
        for (const c of policy.conditions ?? []) {
            if (Array.isArray(c) && c[0] === "content-length-range") {
                if (bytes.length < c[1] || bytes.length > c[2]) {
                    return { status: 400, reason: `the file size ${bytes.length} is outside content-length-range [${c[1]}, ${c[2]}]` };
                }
            } else if (Array.isArray(c) && (c[0] === "starts-with" || c[0] === "eq") && typeof c[1] === "string" && c[1].startsWith("$")) {
                const name = c[1].slice(1);
                covered.add(name);
                const value = name === "bucket" ? bucket : field(name) ?? "";
                if (c[0] === "eq" ? value !== c[2] : !value.startsWith(c[2])) {
                    return { status: 403, reason: `policy condition failed: ${JSON.stringify(c)}` };
                }
            } else if (c !== null && typeof c === "object" && !Array.isArray(c) && Object.keys(c).length === 1) {
                const [name, expected] = Object.entries(c)[0];
                covered.add(name);
                const value = name === "bucket" ? bucket : field(name);
                if (value !== expected) {
                    return { status: 403, reason: `policy condition failed: ${JSON.stringify(c)}` };
                }
            } else {
                return { status: 400, reason: `unsupported policy condition ${JSON.stringify(c)}` };
            }
        }
        for (const name of form.keys()) {
            if (!UNCOVERED_OK.has(name) && !name.startsWith("x-ignore-") && !covered.has(name)) {
                return { status: 403, reason: `form field ${name} is not covered by a policy condition` };
            }
        }
        const key = field("key") ?? "";
        const problem = checkObjectName(key);
        if (problem !== undefined) {
            return { status: 400, reason: problem };
        }
        const { created } = await store.create(key, bytes, String((file as Blob).type || "application/octet-stream"));
        if (!created) {
            return { status: 403, reason: "the object exists and the caller does not have storage.objects.delete access (no overwrite)" };
        }
        return { status: 204 };
    }
}

/** What a runner does with its upload grant: a multipart POST of the fields plus `key` and the file. */
export async function uploadWithGrant(grant: { url: string; fields: Record<string, string> }, key: string, bytes: Buffer): Promise<{ status: number; body: string }> {
    const form = new FormData();
    for (const [k, v] of Object.entries(grant.fields)) {
        form.append(k, v);
    }
    form.append("key", key);
    form.append("file", new Blob([bytes], { type: "application/octet-stream" }));
    const res = await fetch(grant.url, { method: "POST", body: form });
    return { status: res.status, body: await res.text() };
}
