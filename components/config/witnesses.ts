/**
 * The signer's witnesses in stack config: the enclave's timestamp authority (`signer.timestampAuthority`) and an
 * optional transparency log (`signer.transparencyLog`). Checked here, in the one-pass report, because a bad chain or
 * key would otherwise surface only as a signer that never starts.
 */
import { createPublicKey, X509Certificate } from "crypto";
import { FieldReader } from "./fields";
import { imageReferenceProblem } from "./image";
import { SignerConfig } from "./types";
import { iamMemberProblem } from "./names";
import { PRIVATE_TRANSPARENCY_LOG_KEYS, TIMESTAMP_AUTHORITY_KEYS, TRANSPARENCY_LOG_KEYS } from "./schema";

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const TSA_IMAGE_EXAMPLE = "europe-docker.pkg.dev/acme-build-signer/ghcr/sigstore/timestamp-server@sha256:<64 hex>";
/** id-kp-timeStamping: RFC 3161 requires it, as the only (critical) extended key usage of the TSA certificate. */
const TIME_STAMPING_EKU = "1.3.6.1.5.5.7.3.8";

/** Why `pem` is not a usable TSA chain (undefined when it is): certificates, leaf first, the leaf for time stamping. */
export function tsaChainProblem(pem: string): string | undefined {
    const blocks = pem.match(PEM_CERTIFICATE) ?? [];
    if (blocks.length === 0) {
        return "holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
    }
    const certs: X509Certificate[] = [];
    for (const [i, block] of blocks.entries()) {
        try {
            certs.push(new X509Certificate(block));
        } catch (err) {
            return `certificate ${i + 1} is not an X.509 certificate (${(err as Error).message})`;
        }
    }
    const leaf = certs[0];
    if (!(leaf.keyUsage ?? []).includes(TIME_STAMPING_EKU)) {
        return "its first certificate is not a timestamping certificate (no id-kp-timeStamping extended key usage): the chain must start with the TSA's own certificate";
    }
    for (let i = 0; i + 1 < certs.length; i++) {
        if (!certs[i].checkIssued(certs[i + 1]) || !certs[i].verify(certs[i + 1].publicKey)) {
            return `certificate ${i + 1} is not issued by certificate ${i + 2}: order it leaf first, root last`;
        }
    }
    return undefined;
}

/** A size a Spanner instance accepts: 100-900 processing units in steps of 100, then multiples of 1000. */
export function isSpannerSize(units: number): boolean {
    return Number.isInteger(units) && units >= 100 && (units < 1000 ? units % 100 === 0 : units % 1000 === 0);
}

/** Why `pem` is not a transparency log key (undefined when it is): Rekor keys are ECDSA P-256 or Ed25519. */
export function logKeyProblem(pem: string): string | undefined {
    let key;
    try {
        key = createPublicKey(pem);
    } catch {
        return "is not a PEM public key";
    }
    if (key.asymmetricKeyType === "ed25519" || (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1")) {
        return undefined;
    }
    return `is a ${key.asymmetricKeyType} key; a Rekor log key is ECDSA P-256 or Ed25519`;
}

/** `signer.timestampAuthority`: image (digest-pinned) and, from bootstrap step 2, the chain. Warns while no TSA runs. */
export function readTimestampAuthority(f: FieldReader): SignerConfig["timestampAuthority"] {
    const raw = f.object("timestampAuthority", { example: `{image: ${TSA_IMAGE_EXAMPLE}, certificateChainPem: <PEM>}` });
    if (raw === undefined) {
        if (!f.has("timestampAuthority")) {
            f.issues.warn(f.pathOf("timestampAuthority"), undefined,
                "no timestamp authority is configured: the TSA key is created, but the signer answers 503 to every signing call until a TSA runs (every bundle carries a timestamp); set signer.timestampAuthority (docs/attestations.md, bootstrap)");
        }
        return undefined;
    }
    const t = new FieldReader(f.issues, raw, f.pathOf("timestampAuthority"));
    t.checkKeys(TIMESTAMP_AUTHORITY_KEYS);
    const image = t.string("image", { required: true, example: TSA_IMAGE_EXAMPLE });
    const imageProblem = image === undefined ? undefined : imageReferenceProblem(image);
    if (imageProblem !== undefined) {
        t.issues.add(t.pathOf("image"), image, imageProblem, `pin sigstore's timestamp-server by digest, e.g. ${TSA_IMAGE_EXAMPLE} (a tag can change the code that timestamps)`);
    }
    const chain = t.string("certificateChainPem", { example: "<PEM from fetch-tsa-certs>" });
    const chainProblem = chain === undefined ? undefined : tsaChainProblem(chain);
    if (chainProblem !== undefined) {
        t.issues.add(t.pathOf("certificateChainPem"), chain, chainProblem, "pass the output of timestamp-authority's fetch-tsa-certs for the stack output tsaKeyVersionName (timestamping certificate first, root last)");
    }
    if (chain === undefined && t.value("certificateChainPem") === undefined) {
        t.issues.warn(t.pathOf("certificateChainPem"), undefined,
            "not set yet: the TSA service is not deployed and the signer answers 503 until it is; make the chain with fetch-tsa-certs from the stack output tsaKeyVersionName and set it (docs/attestations.md, bootstrap step 2)");
    }
    if (image === undefined || imageProblem !== undefined || chainProblem !== undefined) {
        return undefined;
    }
    return { image, ...(chain !== undefined ? { certificateChainPem: chain } : {}) };
}

/** `signer.transparencyLog`: an https log URL and its key, or nothing. */
export function readTransparencyLog(f: FieldReader): SignerConfig["transparencyLog"] {
    const raw = f.object("transparencyLog", { example: "{url: https://rekor.sigstore.dev, publicKeyPem: <the log's PEM public key>}" });
    if (raw === undefined) {
        return undefined;
    }
    const l = new FieldReader(f.issues, raw, f.pathOf("transparencyLog"));
    const before = l.issues.issues.length;
    l.checkKeys(TRANSPARENCY_LOG_KEYS);
    const url = l.string("url", { required: true, example: "https://rekor.sigstore.dev" });
    let urlOk = url !== undefined;
    if (url !== undefined) {
        let parsed: URL | undefined;
        try {
            parsed = new URL(url);
        } catch {
            parsed = undefined;
        }
        if (parsed === undefined || parsed.protocol !== "https:" || parsed.username !== "" || parsed.search !== "") {
            l.issues.add(l.pathOf("url"), url, "is not an https base URL", "use the log's https base URL, e.g. https://rekor.sigstore.dev (public-good) or your private log's URL");
            urlOk = false;
        }
    }
    const key = l.string("publicKeyPem", { required: true, example: "<the log's PEM public key>" });
    const keyProblem = key === undefined ? undefined : logKeyProblem(key);
    if (keyProblem !== undefined) {
        l.issues.add(l.pathOf("publicKeyPem"), key, keyProblem, "pass the log's public key (for the public-good instance: curl https://rekor.sigstore.dev/api/v1/log/publicKey)");
    }
    const apiVersion = l.integer("apiVersion", { min: 1, max: 2, example: "2" }) ?? 1;
    return urlOk && key !== undefined && keyProblem === undefined && l.issues.issues.length === before ? { url: url as string, publicKeyPem: key, apiVersion: apiVersion as 1 | 2 } : undefined;
}

/** `signer.privateTransparencyLog`: a rekor-tiles log deployed in the enclave, exclusive with transparencyLog. */
export function readPrivateTransparencyLog(f: FieldReader): SignerConfig["privateTransparencyLog"] {
    const example = "{image: europe-docker.pkg.dev/acme-build-signer/ghcr/sigstore/rekor-tiles/gcp@sha256:<64 hex>}";
    const raw = f.object("privateTransparencyLog", { example });
    if (raw === undefined) {
        return undefined;
    }
    const p = new FieldReader(f.issues, raw, f.pathOf("privateTransparencyLog"));
    const before = p.issues.issues.length;
    p.checkKeys(PRIVATE_TRANSPARENCY_LOG_KEYS);
    if (f.has("transparencyLog")) {
        p.issues.add(f.pathOf("privateTransparencyLog"), raw, "is set together with signer.transparencyLog", "keep one: transparencyLog for an existing log (e.g. rekor.sigstore.dev), privateTransparencyLog to deploy one in the enclave");
    }
    const image = p.string("image", { required: true, example: "europe-docker.pkg.dev/acme-build-signer/ghcr/sigstore/rekor-tiles/gcp@sha256:<64 hex>" });
    const imageProblem = image === undefined ? undefined : imageReferenceProblem(image);
    if (imageProblem !== undefined) {
        p.issues.add(p.pathOf("image"), image, imageProblem, "pin rekor-tiles' GCP server by digest (a tag can change the code that signs the log's checkpoints)");
    }
    const units = p.integer("spannerProcessingUnits", { min: 100, example: "100" }) ?? 100;
    if (!isSpannerSize(units)) {
        p.issues.add(p.pathOf("spannerProcessingUnits"), units, "is not a Spanner size", "use 100-900 in steps of 100, or a multiple of 1000");
    }
    const readers: string[] = [];
    p.stringArray("readers", "group:log-auditors@example.com").forEach((member, i) => {
        const problem = iamMemberProblem(member);
        if (problem !== undefined) {
            p.issues.add(`${p.pathOf("readers")}[${i}]`, member, problem, "use a member such as group:log-auditors@example.com");
        } else {
            readers.push(member);
        }
    });
    return image !== undefined && p.issues.issues.length === before ? { image, spannerProcessingUnits: units, readers } : undefined;
}
