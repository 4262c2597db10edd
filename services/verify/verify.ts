/**
 * Offline verification of fleet provenance against an artifact:
 *   npx hardened-build-fleet-verify --bundle <artifact>.sigstore.json --trusted-root trusted_root.json
 *                                  --artifact <file> --keys <keyring.json or PEM> [--builder-id <uri>]
 *                                  [--source-uri <repo>] [--vsa <out.json> --vsa-key <P-256 PEM>]
 *   npx hardened-build-fleet-verify --envelope <file.intoto.jsonl> --artifact <file> --keys <...> (no timestamp)
 * Exit 0: verified; 1: not verified, with one line saying why; 2: bad input.
 *
 * A bundle is first verified with @sigstore/verify (bundle.ts: the fleet's TSA timestamp required,
 * a log entry when the trusted root lists a log, the key version valid at the timestamp); then its
 * envelope goes through the checks below under the one key version the bundle was verified with.
 *
 * Order of checks (the payload is trusted only after its signature verifies):
 * payloadType -> DSSE signature under a published key (the envelope's keyid is only a hint) ->
 * statement _type, predicateType and shape -> the signing key version's validity window contains
 * the statement's finish time -> the artifact's sha256 is a subject -> builder id -> source repository.
 */
import * as crypto from "crypto";
import { readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { decodeBase64, DsseEnvelope, EnvelopeFormatError, INTOTO_PAYLOAD_TYPE, parseEnvelopes, verifySignature } from "../lib/dsse";
import { KeyringError, parseKeyringDocument, validAt, KeyVersion } from "../lib/keyring";
import { parseTrustedRoot } from "../lib/trustedRoot";
import { verifyBundle } from "./bundle";
import { signVsa, VERIFIER_VERSION, VSA_PREDICATE_TYPE, vsaStatement } from "./vsa";
import { SLSA_PROVENANCE_V1, sourceRepository, Statement, STATEMENT_TYPE, statementProblems, statementTime } from "../lib/statement";

/** Input that cannot be verified at all (unreadable file, not an envelope, not a key): exit 2. */
export class BadInputError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "BadInputError";
    }
}

export interface TrustedKey {
    /** The keyring version name, or "pem" for a bare PEM key. */
    name: string;
    key: crypto.KeyObject;
    /** Absent for a bare PEM key: no window to check. */
    window?: KeyVersion;
}

export interface TrustedKeys {
    keys: TrustedKey[];
    /** The keyring's builder id, if the keys came from a keyring document. */
    builderId?: string;
}

/** Reads a keyring document (JSON) or a single PEM public key. */
export function parseTrustedKeys(text: string, source = "--keys"): TrustedKeys {
    const trimmed = text.trim();
    if (trimmed.startsWith("{")) {
        let doc;
        try {
            doc = parseKeyringDocument(JSON.parse(trimmed));
        } catch (err) {
            const why = err instanceof KeyringError ? err.problems.join("; ") : (err as Error).message;
            throw new BadInputError(`${source} is not a keyring document: ${why}`);
        }
        return {
            builderId: doc.builderId,
            keys: doc.keys.map((k, i) => {
                try {
                    return { name: k.name, key: crypto.createPublicKey(k.publicKeyPem), window: { name: k.name, state: k.state, validFrom: k.validFrom, validUntil: k.validUntil } };
                } catch (err) {
                    throw new BadInputError(`${source} keys[${i}].publicKeyPem is not a public key: ${(err as Error).message}`);
                }
            }),
        };
    }
    if (!trimmed.includes("-----BEGIN PUBLIC KEY-----")) {
        throw new BadInputError(`${source} must be a keyring document (GET /v1/keys) or a PEM public key (-----BEGIN PUBLIC KEY-----)`);
    }
    try {
        return { keys: [{ name: "pem", key: crypto.createPublicKey(trimmed) }] };
    } catch (err) {
        throw new BadInputError(`${source} is not a PEM public key: ${(err as Error).message}`);
    }
}

export interface VerifyOptions {
    envelopes: DsseEnvelope[];
    artifact: Buffer;
    keys: TrustedKeys;
    /** Expected builder id; default the keyring's. Required with a bare PEM key. */
    builderId?: string;
    /** Expected source repository (https://github.com/org/repo or github.com/org/repo). */
    sourceUri?: string;
}

export type VerifyResult =
    | { verified: true; statement: Statement; keyid: string; subjectName: string; artifactSha256: string }
    | { verified: false; reason: string };

/** `git+https://GitHub.com/org/repo.git/` -> `github.com/org/repo`. */
export function normalizeRepository(uri: string): string {
    const bare = uri.trim().replace(/^git\+/, "").replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/\/+$/, "").replace(/\.git$/, "");
    const slash = bare.indexOf("/");
    return slash < 0 ? bare.toLowerCase() : bare.slice(0, slash).toLowerCase() + bare.slice(slash);
}

/** Stage reached by a failed envelope: the report names the failure of the envelope that got furthest. */
type Failure = { stage: number; reason: string };

function verifyOne(env: DsseEnvelope, artifactSha256: string, opts: VerifyOptions, builderId: string): VerifyResult | Failure {
    if (env.payloadType !== INTOTO_PAYLOAD_TYPE) {
        return { stage: 0, reason: `payloadType ${JSON.stringify(env.payloadType)} is not ${INTOTO_PAYLOAD_TYPE}` };
    }
    const payload = decodeBase64(env.payload, "payload");
    let signer: { sig: string; key: TrustedKey } | undefined;
    for (const s of env.signatures) {
        const sig = decodeBase64(s.sig, "sig");
        // The keyid only orders the attempt; a signature counts only if it verifies.
        const ordered = [...opts.keys.keys].sort((a, b) => Number(b.name === s.keyid) - Number(a.name === s.keyid));
        const key = ordered.find((k) => verifySignature(env.payloadType, payload, sig, k.key));
        if (key !== undefined) {
            signer = { sig: s.keyid, key };
            break;
        }
    }
    if (signer === undefined) {
        return { stage: 1, reason: "no signature verifies under the given keys (tampered payload or wrong key)" };
    }
    let statement: any;
    try {
        statement = JSON.parse(payload.toString("utf8"));
    } catch {
        return { stage: 2, reason: "the signed payload is not JSON" };
    }
    if (statement?._type !== STATEMENT_TYPE) {
        return { stage: 2, reason: `_type ${JSON.stringify(statement?._type)} is not ${STATEMENT_TYPE}` };
    }
    if (statement.predicateType !== SLSA_PROVENANCE_V1) {
        return { stage: 2, reason: `predicateType ${JSON.stringify(statement.predicateType)} is not ${SLSA_PROVENANCE_V1}` };
    }
    const problems = statementProblems(statement, { builderId });
    const shape = problems.filter((p) => p.code !== "builder_id_mismatch");
    if (shape.length > 0) {
        return { stage: 2, reason: `the statement is malformed: ${shape.map((p) => p.message).join("; ")}` };
    }
    const time = statementTime(statement);
    if (signer.key.window !== undefined && !validAt(signer.key.window, time)) {
        const w = signer.key.window;
        return { stage: 3, reason: `key version ${w.name} (${w.state}) is valid ${w.validFrom} to ${w.validUntil ?? "now"}, not at the statement's finishedOn ${time.toISOString()}` };
    }
    const subject = (statement as Statement).subject.find((s) => s.digest.sha256 === artifactSha256);
    if (subject === undefined) {
        return { stage: 4, reason: `the artifact's sha256 ${artifactSha256} is not a subject of the statement` };
    }
    const actualBuilder = (statement as Statement).predicate.runDetails.builder.id;
    if (actualBuilder !== builderId) {
        return { stage: 5, reason: `builder id ${JSON.stringify(actualBuilder)} is not the expected ${JSON.stringify(builderId)}` };
    }
    if (opts.sourceUri !== undefined) {
        const repo = sourceRepository(statement);
        if (repo === undefined) {
            return { stage: 6, reason: "the statement names no source repository (externalParameters.repository)" };
        }
        if (normalizeRepository(repo) !== normalizeRepository(opts.sourceUri)) {
            return { stage: 6, reason: `source repository ${JSON.stringify(repo)} is not the expected ${JSON.stringify(opts.sourceUri)}` };
        }
    }
    return { verified: true, statement, keyid: signer.key.name === "pem" ? signer.sig : signer.key.name, subjectName: subject.name, artifactSha256 };
}

/** Verified when at least one envelope passes every check; otherwise the reason of the one that got furthest. */
export function verifyProvenance(opts: VerifyOptions): VerifyResult {
    const builderId = opts.builderId ?? opts.keys.builderId;
    if (builderId === undefined) {
        throw new BadInputError("--builder-id is required with a PEM key (a keyring document carries the builder id)");
    }
    if (opts.envelopes.length === 0) {
        throw new BadInputError("no envelope to verify");
    }
    const artifactSha256 = crypto.createHash("sha256").update(opts.artifact).digest("hex");
    let best: Failure = { stage: -1, reason: "no envelope" };
    for (const env of opts.envelopes) {
        const result = verifyOne(env, artifactSha256, opts, builderId);
        if ("verified" in result) {
            return result;
        }
        if (result.stage > best.stage) {
            best = result;
        }
    }
    return { verified: false, reason: best.reason };
}

const USAGE =
    "usage: hardened-build-fleet-verify (--bundle <file.sigstore.json> --trusted-root <trusted_root.json> | --envelope <file>) --artifact <file> " +
    "--keys <keyring.json or PEM> [--builder-id <uri>] [--source-uri <repo>] [--vsa <out.json> --vsa-key <P-256 private key PEM> [--resource-uri <uri>]]";

export interface Io {
    stdout(line: string): void;
    stderr(line: string): void;
}
const processIo: Io = {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
};

function readInput(file: string | undefined, flag: string): Buffer {
    if (file === undefined) {
        throw new BadInputError(`${flag} is required`);
    }
    try {
        return readFileSync(file);
    } catch (err) {
        throw new BadInputError(`${flag} ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
}

type Provenance = { envelopes: DsseEnvelope[]; keys: TrustedKeys; bytes: Buffer; timestamped?: string } | { reason: string };

/**
 * The envelopes to check and the keys to check them with: from a bundle, once @sigstore/verify has
 * verified it (only the key version it was verified with); else from an `.intoto.jsonl` file.
 */
function readProvenance(option: (name: string) => string | undefined, keys: TrustedKeys): Provenance {
    if (option("bundle") !== undefined && option("envelope") !== undefined) {
        throw new BadInputError("pass --bundle or --envelope, not both");
    }
    if (option("bundle") === undefined) {
        const bytes = readInput(option("envelope"), "--envelope (or --bundle)");
        try {
            return { envelopes: parseEnvelopes(bytes.toString("utf8")), keys, bytes };
        } catch (err) {
            throw new BadInputError(`--envelope ${option("envelope")} is not a DSSE envelope: ${(err as Error).message}`);
        }
    }
    const bytes = readInput(option("bundle"), "--bundle");
    const rootText = readInput(option("trusted-root"), "--trusted-root (the fleet's trusted_root.json, published beside the keyring)").toString("utf8");
    let root;
    try {
        root = parseTrustedRoot(rootText, `--trusted-root ${option("trusted-root")}`);
    } catch (err) {
        throw new BadInputError((err as Error).message);
    }
    let json: unknown;
    try {
        json = JSON.parse(bytes.toString("utf8"));
    } catch {
        throw new BadInputError(`--bundle ${option("bundle")} is not JSON`);
    }
    const checked = verifyBundle(json, root, keys.keys);
    if (!checked.verified) {
        return { reason: checked.reason };
    }
    const key = keys.keys.filter((k) => k.name === checked.keyName || k.name === "pem");
    return { envelopes: [checked.envelope], keys: { ...keys, keys: key }, bytes, timestamped: checked.timestamps.map((t) => t.toISOString()).join(", ") };
}

/** The command: 0 verified, 1 not verified (one line why), 2 bad input. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
    try {
        let values: Record<string, string | boolean | undefined>;
        try {
            ({ values } = parseArgs({
                args: argv,
                options: {
                    envelope: { type: "string" },
                    artifact: { type: "string" },
                    keys: { type: "string" },
                    "builder-id": { type: "string" },
                    "source-uri": { type: "string" },
                    help: { type: "boolean", short: "h" },
                    bundle: { type: "string" },
                    "trusted-root": { type: "string" },
                    vsa: { type: "string" },
                    "vsa-key": { type: "string" },
                    "resource-uri": { type: "string" },
                },
                strict: true,
            }));
        } catch (err) {
            throw new BadInputError((err as Error).message);
        }
        if (values.help) {
            io.stdout(USAGE);
            io.stdout("exit codes: 0 verified, 1 not verified (one line saying why), 2 bad input");
            return 0;
        }
        const option = (name: string) => values[name] as string | undefined;
        const artifact = readInput(option("artifact"), "--artifact");
        const keys = parseTrustedKeys(readInput(option("keys"), "--keys").toString("utf8"));
        const vsaKey = option("vsa") === undefined ? undefined : readInput(option("vsa-key"), "--vsa-key (the P-256 private key that signs the VSA)").toString("utf8");
        const source = readProvenance(option, keys);
        if ("reason" in source) {
            io.stderr(`not verified: ${source.reason}`);
            return 1;
        }
        const result = verifyProvenance({ envelopes: source.envelopes, artifact, keys: source.keys, builderId: option("builder-id"), sourceUri: option("source-uri") });
        if (!result.verified) {
            io.stderr(`not verified: ${result.reason}`);
            return 1;
        }
        const s = result.statement;
        io.stdout(
            `verified: ${result.subjectName} sha256:${result.artifactSha256} built by ${s.predicate.runDetails.builder.id}` +
                `${sourceRepository(s) ? ` from ${sourceRepository(s)}` : ""} (invocation ${s.predicate.runDetails.metadata.invocationId}), signed by ${result.keyid}` +
                `${source.timestamped ? `, timestamped ${source.timestamped}` : ""}`,
        );
        if (option("vsa") !== undefined) {
            const statement = vsaStatement({
                subjectName: result.subjectName,
                artifactSha256: result.artifactSha256,
                resourceUri: option("resource-uri") ?? `file:${path.basename(option("artifact")!)}`,
                policy: { builderId: option("builder-id") ?? keys.builderId, sourceUri: option("source-uri"), timestampRequired: option("bundle") !== undefined },
                inputAttestation: { uri: `file:${path.basename(option("bundle") ?? option("envelope")!)}`, bytes: source.bytes },
                timeVerified: new Date(),
                verifierVersion: VERIFIER_VERSION,
            });
            const bundle = await signVsa(statement, vsaKey!, `--vsa-key ${option("vsa-key")}`).catch((err: Error) => {
                throw new BadInputError(err.message);
            });
            writeFileSync(option("vsa")!, `${JSON.stringify(bundle, null, 2)}\n`);
            io.stdout(`verification summary (${VSA_PREDICATE_TYPE}, SLSA_BUILD_LEVEL_3) written to ${option("vsa")!}`);
        }
        return 0;
    } catch (err) {
        if (err instanceof BadInputError || err instanceof EnvelopeFormatError) {
            io.stderr(`error: ${err.message}`);
            io.stderr(USAGE);
            return 2;
        }
        throw err;
    }
}
