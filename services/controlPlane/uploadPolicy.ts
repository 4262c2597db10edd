/**
 * Uploads bound to the job (I11): the broker hands each registered VM a Cloud Storage V4 signed POST
 * policy for its own location `<pool>/<instanceId>/` in its pool's intake bucket, and nothing else.
 *
 * - The policy's conditions pin the bucket, require the object name to start with the VM's prefix
 *   (`["starts-with", "$key", prefix]`), bound the size, and expire with the pool's
 *   maxRunDuration counted from registration (the VM is deleted by then).
 * - It is signed by the broker's identity, which holds only roles/storage.objectCreator on the intake
 *   buckets: creating is all the policy can ever do. Overwriting an existing object needs
 *   storage.objects.delete, so an object, once uploaded, cannot be replaced; reading or listing needs
 *   get/list, which the signer does not hold either.
 * - The pool's runner service account holds no grant on the intake bucket at all.
 *
 * The policy document is hand-built because @google-cloud/storage's generateSignedPostPolicyV4 always
 * adds an exact `key` condition, which cannot express a prefix; signing goes through
 * google-auth-library (the IAM signBlob API on Cloud Run) or, locally, a key generated at run time.
 */
import { createSign, KeyObject } from "crypto";

export interface PolicySigner {
    /** The email of the signing identity (the `x-goog-credential` principal). */
    clientEmail(): Promise<string>;
    /** RSA-SHA256 signature of `data`. */
    sign(data: string): Promise<Buffer>;
}

export interface UploadGrant {
    /** Where to POST the multipart form (https://storage.googleapis.com/<bucket>/ in the cloud). */
    url: string;
    /** Form fields to send with the file; `key` must be set by the uploader to `<prefix><name>`. */
    fields: Record<string, string>;
    bucket: string;
    prefix: string;
    expiresAt: string;
    maxBytes: number;
}

function compactDate(d: Date): { date: string; stamp: string } {
    const iso = d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
    return { date: iso.slice(0, 8), stamp: iso };
}

export async function signUploadPolicy(opts: {
    signer: PolicySigner;
    /** Upload endpoint base: https://storage.googleapis.com, or the fake GCS endpoint on loopback. */
    endpoint: string;
    bucket: string;
    prefix: string;
    expiresAt: Date;
    maxBytes: number;
    now: Date;
}): Promise<UploadGrant> {
    const email = await opts.signer.clientEmail();
    const { date, stamp } = compactDate(opts.now);
    const fields: Record<string, string> = {
        "x-goog-algorithm": "GOOG4-RSA-SHA256",
        "x-goog-credential": `${email}/${date}/auto/storage/goog4_request`,
        "x-goog-date": stamp,
    };
    const policy = {
        conditions: [
            { bucket: opts.bucket },
            ["starts-with", "$key", opts.prefix],
            ["content-length-range", 0, opts.maxBytes],
            ...Object.entries(fields).map(([k, v]) => ({ [k]: v })),
        ],
        expiration: opts.expiresAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
    const policyBase64 = Buffer.from(JSON.stringify(policy)).toString("base64");
    const signature = await opts.signer.sign(policyBase64);
    return {
        url: `${opts.endpoint.replace(/\/+$/, "")}/${opts.bucket}/`,
        fields: { ...fields, policy: policyBase64, "x-goog-signature": signature.toString("hex") },
        bucket: opts.bucket,
        prefix: opts.prefix,
        expiresAt: policy.expiration,
        maxBytes: opts.maxBytes,
    };
}

/** A signer over a private key held in this process (local mode and tests; generated at run time). */
export function keySigner(email: string, key: KeyObject): PolicySigner {
    return {
        clientEmail: async () => email,
        sign: async (data) => createSign("sha256").update(data).sign(key),
    };
}

/** The cloud signer: google-auth-library signs with the service's own identity (IAM signBlob). */
export function googleAuthSigner(): PolicySigner {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { GoogleAuth } = require("google-auth-library");
    const auth = new GoogleAuth({ scopes: ["https://www.googleapis.com/auth/cloud-platform"] });
    return {
        clientEmail: async () => (await auth.getCredentials()).client_email,
        sign: async (data) => Buffer.from(await auth.sign(data), "base64"),
    };
}

/** What the broker signs grants with. */
export interface GrantSigning {
    uploadSigner: PolicySigner;
    uploadEndpoint: string;
    uploadMaxBytes: number;
}

/**
 * The job's grant for `prefix` of the pool's intake bucket, registered `now`: it expires with the pool's
 * maxRunDuration (the VM's maxRunDuration, the pod's activeDeadlineSeconds), so it never outlives the worker.
 */
export function workerUploadGrant(deps: GrantSigning, pool: { intakeBucket: string; maxRunDurationSeconds: number }, prefix: string, now: Date): Promise<UploadGrant> {
    return signUploadPolicy({
        signer: deps.uploadSigner,
        endpoint: deps.uploadEndpoint,
        bucket: pool.intakeBucket,
        prefix,
        expiresAt: new Date(now.getTime() + pool.maxRunDurationSeconds * 1000),
        maxBytes: deps.uploadMaxBytes,
        now,
    });
}
