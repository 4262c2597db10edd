/**
 * Offline verification of fleet provenance against an artifact and a source policy:
 *   npx hardened-build-fleet-verify --bundle <artifact>.sigstore.json --trusted-root trusted_root.json
 *       --artifact <file> --keys <keyring.json or PEM> --source-uri <repo>
 *       [--source-ref <ref> | --source-branch <b> | --source-tag <t>] [--workflow <path>] [--event <name>]
 *       [--builder-id <uri>] [--vsa <out.json> --vsa-key <P-256 PEM>]
 *   npx hardened-build-fleet-verify --envelope <file.intoto.jsonl> ... (no timestamp)
 * Exit 0: verified (and what was checked); 1: not verified, with one line saying why; 2: bad input.
 * `--source-uri` is mandatory: without it any tenant's build on the fleet would verify.
 *
 * A bundle is first verified with @sigstore/verify (bundle.ts: the fleet's TSA timestamp required,
 * a log entry when the trusted root lists a log, the key version valid at the timestamp); then its
 * envelope goes through the checks below under the one key version the bundle was verified with.
 *
 * Order of checks (the payload is trusted only after its signature verifies):
 * payloadType -> DSSE signature under a published key (the envelope's keyid is only a hint) ->
 * statement _type, predicateType and shape -> the signing key version's validity window contains
 * the statement's finish time -> without a trusted timestamp, the version is not retired (unless
 * --allow-untimestamped) -> the artifact's sha256 is a subject -> builder id -> the source
 * policy (policy.ts: repository, ref, workflow, event).
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
import { SLSA_PROVENANCE_V1, Statement, STATEMENT_TYPE, statementProblems, statementTime } from "../lib/statement";
import { checkSourcePolicy, normalizeRepository, SourcePolicy, sourceFacts } from "./policy";

export { normalizeRepository };

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
    /** What the statement must say about its source; the repository is mandatory. */
    policy: SourcePolicy;
    /**
     * The signing time is proven by a verified timestamp (a bundle). Without one, a retired key version
     * is refused: whoever holds it (it may have leaked after retirement) could sign a statement dated
     * inside its old window. Default false.
     */
    timestamped?: boolean;
    /** Accept a retired key version's untimestamped signature anyway (`--allow-untimestamped`). Default false. */
    allowUntimestamped?: boolean;
}

export type VerifyResult =
    | { verified: true; statement: Statement; keyid: string; subjectName: string; artifactSha256: string; checked: string[] }
    | { verified: false; reason: string };

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
    if (signer.key.window?.state === "retired" && opts.timestamped !== true && opts.allowUntimestamped !== true) {
        const w = signer.key.window;
        return { stage: 3, reason: `key version ${w.name} is retired and the envelope has no trusted timestamp: its finishedOn could be backdated into the version's window by whoever holds the retired key; verify the bundle (--bundle with --trusted-root), or accept the risk with --allow-untimestamped` };
    }
    const subject = (statement as Statement).subject.find((s) => s.digest.sha256 === artifactSha256);
    if (subject === undefined) {
        return { stage: 4, reason: `the artifact's sha256 ${artifactSha256} is not a subject of the statement` };
    }
    const actualBuilder = (statement as Statement).predicate.runDetails.builder.id;
    if (actualBuilder !== builderId) {
        return { stage: 5, reason: `builder id ${JSON.stringify(actualBuilder)} is not the expected ${JSON.stringify(builderId)}` };
    }
    const policy = checkSourcePolicy(statement, opts.policy);
    if (!policy.ok) {
        return { stage: 6, reason: policy.reason };
    }
    const keyid = signer.key.name === "pem" ? signer.sig : signer.key.name;
    const checked = [`DSSE signature by ${keyid}`, `subject sha256:${artifactSha256} (${subject.name})`, `builder id ${builderId}`, ...policy.checked];
    return { verified: true, statement, keyid, subjectName: subject.name, artifactSha256, checked };
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
    if (typeof opts.policy?.sourceUri !== "string" || opts.policy.sourceUri.trim() === "") {
        throw new BadInputError("--source-uri is required: name the repository whose builds you accept (github.com/org/repo); without it any tenant's build on the fleet would verify");
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
    "--keys <keyring.json or PEM> --source-uri <repo> [--source-ref <ref> | --source-branch <branch> | --source-tag <tag>] [--workflow <path>] [--event <name>] " +
    "[--builder-id <uri>] [--allow-untimestamped] [--vsa <out.json> --vsa-key <P-256 private key PEM> [--resource-uri <uri>]]";

const HELP = [
    USAGE,
    "exit codes: 0 verified, 1 not verified (one line says why), 2 bad input",
    "",
    "Verifies that <artifact> was built by the fleet, from the expected source, and prints what was checked.",
    "",
    "  --bundle <file>         the Sigstore bundle (.sigstore.json): signature, RFC 3161 timestamp, log entry when listed",
    "  --trusted-root <file>   the fleet's trusted_root.json (required with --bundle)",
    "  --envelope <file>       instead of a bundle: the DSSE envelope(s), .intoto.jsonl (one per line) or one JSON envelope",
    "  --artifact <file>       the artifact; its sha256 must be a subject of the statement",
    "  --keys <file>           the signer's keyring document (GET /v1/keys, or keyring/*.json in the provenance bucket) or a PEM public key",
    "  --source-uri <repo>     required: the source repository (github.com/org/repo, https://github.com/org/repo)",
    "  --source-ref <ref>      the fully qualified ref the build ran for (refs/heads/main, refs/tags/v1.2.0, refs/pull/42/merge)",
    "  --source-branch <name>  shorthand for --source-ref refs/heads/<name>",
    "  --source-tag <name>     shorthand for --source-ref refs/tags/<name>",
    "  --workflow <path>       the workflow file (.github/workflows/release.yml)",
    "  --event <name>          the event that triggered the run (push, release, workflow_dispatch, ...)",
    "  --builder-id <uri>      the fleet's builder id (default: the keyring's; required with a PEM key)",
    "  --allow-untimestamped   with --envelope: accept a signature by a retired key version (no timestamp proves when it was made)",
    "  --vsa <file>            write a signed SLSA verification summary there (with --vsa-key, optional --resource-uri)",
    "  -h, --help              this help",
];

export interface Io {
    stdout(line: string): void;
    stderr(line: string): void;
}
const processIo: Io = {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
};

/** The source policy from the flags; every problem is reported at once. */
function sourcePolicyOf(str: (name: string) => string | undefined): SourcePolicy {
    const problems: string[] = [];
    const sourceUri = str("source-uri");
    if (sourceUri === undefined || sourceUri.trim() === "") {
        problems.push("--source-uri is required: name the repository whose builds you accept (github.com/org/repo); without it any tenant's build on the fleet would verify");
    }
    const refs = (["source-ref", "source-branch", "source-tag"] as const).filter((f) => str(f) !== undefined);
    if (refs.length > 1) {
        problems.push(`--${refs.join(", --")}: give at most one of them`);
    }
    const ref = str("source-ref");
    if (ref !== undefined && !/^refs\/(heads|tags)\/.+|^refs\/pull\/\d+\/merge$/.test(ref)) {
        problems.push(`--source-ref ${JSON.stringify(ref)} is not a fully qualified ref: use refs/heads/<branch>, refs/tags/<tag> or refs/pull/<n>/merge (or --source-branch / --source-tag)`);
    }
    for (const f of ["source-branch", "source-tag"] as const) {
        const v = str(f);
        if (v !== undefined && (v === "" || v.startsWith("refs/"))) {
            problems.push(`--${f} ${JSON.stringify(v)} must be a bare ${f === "source-branch" ? "branch" : "tag"} name; use --source-ref for a fully qualified ref`);
        }
    }
    if (problems.length > 0) {
        throw new BadInputError(problems.join("; "));
    }
    const branch = str("source-branch");
    const tag = str("source-tag");
    return {
        sourceUri: sourceUri!,
        ...(ref !== undefined ? { ref } : branch !== undefined ? { ref: `refs/heads/${branch}` } : tag !== undefined ? { ref: `refs/tags/${tag}` } : {}),
        ...(str("workflow") !== undefined ? { workflow: str("workflow") } : {}),
        ...(str("event") !== undefined ? { event: str("event") } : {}),
    };
}

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
                    "source-ref": { type: "string" },
                    "source-branch": { type: "string" },
                    "source-tag": { type: "string" },
                    workflow: { type: "string" },
                    event: { type: "string" },
                    help: { type: "boolean", short: "h" },
                    "allow-untimestamped": { type: "boolean" },
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
        if (values.help === true) {
            HELP.forEach((line) => io.stdout(line));
            return 0;
        }
        const option = (name: string) => values[name] as string | undefined;
        const policy = sourcePolicyOf(option);
        const artifact = readInput(option("artifact"), "--artifact");
        const keys = parseTrustedKeys(readInput(option("keys"), "--keys").toString("utf8"));
        const vsaKey = option("vsa") === undefined ? undefined : readInput(option("vsa-key"), "--vsa-key (the P-256 private key that signs the VSA)").toString("utf8");
        const source = readProvenance(option, keys);
        if ("reason" in source) {
            io.stderr(`not verified: ${source.reason}`);
            return 1;
        }
        if (values["allow-untimestamped"] === true && option("bundle") !== undefined) {
            throw new BadInputError("--allow-untimestamped applies to --envelope only: a bundle's timestamp is always required");
        }
        const result = verifyProvenance({
            envelopes: source.envelopes, artifact, keys: source.keys, builderId: option("builder-id"), policy,
            timestamped: source.timestamped !== undefined, allowUntimestamped: values["allow-untimestamped"] === true,
        });
        if (!result.verified) {
            io.stderr(`not verified: ${result.reason}`);
            return 1;
        }
        const s = result.statement;
        io.stdout(
            `verified: ${result.subjectName} sha256:${result.artifactSha256} built by ${s.predicate.runDetails.builder.id}` +
                ` from ${sourceFacts(s).repository} (invocation ${s.predicate.runDetails.metadata.invocationId}), signed by ${result.keyid}` +
                `${source.timestamped ? `, timestamped ${source.timestamped}` : ""}`,
        );
        io.stdout(`checked: ${[...result.checked, ...(source.timestamped ? [`RFC 3161 timestamp ${source.timestamped}`] : [])].join("; ")}`);
        if (option("vsa") !== undefined) {
            const statement = vsaStatement({
                subjectName: result.subjectName,
                artifactSha256: result.artifactSha256,
                resourceUri: option("resource-uri") ?? `file:${path.basename(option("artifact")!)}`,
                policy: { builderId: option("builder-id") ?? keys.builderId, sourceUri: policy.sourceUri, timestampRequired: option("bundle") !== undefined },
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
