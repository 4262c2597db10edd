/**
 * Independent reads of a registry for the image tests: skopeo (a separate implementation of the
 * distribution protocol) and plain HTTP against the registry API, never the code under test; and DSSE
 * signature checks with the openssl command line.
 */
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";

export const sha256 = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** `skopeo inspect --raw` of `<host>/<repo>@<ref>` or `:<tag>`: the manifest bytes as the registry serves them. */
export function skopeoRaw(reference: string): Buffer {
    return execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${reference}`], { maxBuffer: 16 * 1024 * 1024 });
}

/** skopeo's exit status and error text for a reference that should not exist. */
export function skopeoMissing(reference: string): string | undefined {
    const r = spawnSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${reference}`], { encoding: "utf8" });
    return r.status === 0 ? undefined : r.stderr;
}

/** A blob through the registry's HTTP API. */
export async function fetchBlob(registryUrl: string, repository: string, digest: string): Promise<Buffer> {
    const res = await fetch(`${registryUrl}/v2/${repository}/blobs/${digest}`);
    if (res.status !== 200) {
        throw new Error(`GET blob ${digest}: ${res.status}`);
    }
    return Buffer.from(await res.arrayBuffer());
}

/** Tags of a repository through the registry's HTTP API ([] when the repository does not exist). */
export async function listTags(registryUrl: string, repository: string): Promise<string[]> {
    const res = await fetch(`${registryUrl}/v2/${repository}/tags/list`);
    if (res.status === 404) {
        return [];
    }
    return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

/** Repositories through the registry's catalog API. */
export async function catalog(registryUrl: string): Promise<string[]> {
    const res = await fetch(`${registryUrl}/v2/_catalog`);
    return ((await res.json()) as { repositories: string[] }).repositories;
}

/** DSSE v1 PAE, written out from the spec (not the package's helper). */
export function paeOf(payloadType: string, payload: Buffer): Buffer {
    return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `), payload]);
}

/**
 * Verifies a DSSE envelope (as cosign does for a `--key` check: any signature over PAE verifies under
 * the key) with `openssl dgst -sha256 -verify`. Returns the decoded payload when one signature verifies.
 */
export function opensslVerifyEnvelope(envelope: { payloadType: string; payload: string; signatures: { sig: string }[] }, publicKeyPem: string): Buffer | undefined {
    const dir = mkdtempSync(path.join(tmpdir(), "hbf-openssl-"));
    try {
        const payload = Buffer.from(envelope.payload, "base64");
        writeFileSync(path.join(dir, "key.pem"), publicKeyPem);
        writeFileSync(path.join(dir, "pae"), paeOf(envelope.payloadType, payload));
        for (const [i, s] of envelope.signatures.entries()) {
            writeFileSync(path.join(dir, `sig${i}`), Buffer.from(s.sig, "base64"));
            const r = spawnSync("openssl", ["dgst", "-sha256", "-verify", path.join(dir, "key.pem"), "-signature", path.join(dir, `sig${i}`), path.join(dir, "pae")], { encoding: "utf8" });
            if (r.status === 0 && /Verified OK/.test(r.stdout)) {
                return payload;
            }
        }
        return undefined;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
