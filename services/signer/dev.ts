/**
 * Local mode of the signer, for development and tests:
 *   npm run signer:dev -- --port <n> --key <pkcs8 or SEC1 P-256 PEM file> --store <dir> [--builder-id <uri>]
 * Same API as the cloud service; the PEM key stands in for Cloud KMS (same digest-sign semantics),
 * a directory for the provenance bucket. Caller identity checks are OFF, and it says so.
 */
import { readFileSync } from "fs";
import type { AddressInfo } from "net";
import { parseArgs } from "util";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import { DirectoryStore } from "../lib/objectStore";
import { buildTrustedRoot, TimestampAuthorityInput } from "../lib/trustedRoot";
import { startLocalTsa } from "../sim/localTsa";
import { buildSignerApp, publishKeyring, publishTrustedRoot } from "./app";
import { witnessesFor } from "./attest";
import { builderIdProblem } from "./config";
import { FileSigningKey, loadP256PrivateKey } from "./signingKey";

export const DEFAULT_LOCAL_BUILDER_ID = "https://localhost/hardened-build-fleet/builder/local";
export const LOCAL_MODE_WARNING =
    "WARNING: signer LOCAL MODE: caller identity checks are OFF; any process that reaches this port gets statements signed. Never run local mode outside development.";

export interface LocalSignerOptions {
    port: number;
    keyPem: string;
    /** Where the key came from, for messages. */
    keySource?: string;
    storeDir: string;
    builderId?: string;
    /** The timestamp authority; default a local one started here (@sigstore/mock, development only). */
    tsa?: TimestampAuthorityInput;
    /** Where the startup lines go; default stderr. */
    log?: (line: string) => void;
    logger?: FastifyServerOptions["logger"];
}

export interface LocalSigner {
    app: FastifyInstance;
    url: string;
    keyid: string;
    /** Where the keyring document was written in the store. */
    keyringObject: string;
    /** Where the trusted root (the TSA) was written in the store. */
    trustedRootObject: string;
    close(): Promise<void>;
}

/** Starts the local signer on 127.0.0.1 (port 0 = ephemeral). */
export async function startLocalSigner(opts: LocalSignerOptions): Promise<LocalSigner> {
    const key = new FileSigningKey(loadP256PrivateKey(opts.keyPem, opts.keySource ?? "the key"));
    const builderId = opts.builderId ?? DEFAULT_LOCAL_BUILDER_ID;
    const problem = builderIdProblem(builderId);
    if (problem !== undefined) {
        throw new Error(`--builder-id ${JSON.stringify(builderId)} ${problem}`);
    }
    const store = new DirectoryStore(opts.storeDir);
    const localTsa = opts.tsa === undefined ? await startLocalTsa() : undefined;
    const tsa = opts.tsa ?? localTsa!.authority;
    const trustedRoot = buildTrustedRoot({ timestampAuthorities: [tsa] });
    const app = buildSignerApp({
        builderId,
        // The file key has no rotation history: one active version, valid for any time.
        versions: [{ name: key.name, state: "active", validFrom: "1970-01-01T00:00:00Z" }],
        signingKey: key,
        publicKeyOf: async (name) => {
            if (name !== key.name) {
                throw new Error(`${name} is not the local key`);
            }
            return key.publicKey();
        },
        store,
        attestation: { witnesses: witnessesFor({ tsaUrl: tsa.uri }), trustedRoot },
        caller: { mode: "local" },
        logger: opts.logger,
    });
    app.addHook("onClose", async () => localTsa?.close());
    const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    log(LOCAL_MODE_WARNING);
    const keyringObject = await publishKeyring(app, store);
    const trustedRootObject = await publishTrustedRoot(store, trustedRoot);
    await app.listen({ port: opts.port, host: "127.0.0.1" });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    log(`signer (local mode) listening on ${url}: builder id ${builderId}, key ${key.name}, store ${opts.storeDir}, keyring ${keyringObject}, timestamp authority ${tsa.uri}`);
    return { app, url, keyid: key.name, keyringObject, trustedRootObject, close: () => app.close() };
}

const USAGE = "usage: npm run signer:dev -- --port <n> --key <pkcs8 or SEC1 P-256 PEM file> --store <dir> [--builder-id <uri>]";

/** The `signer:dev` command. Resolves when the server is listening; exits 2 on bad arguments. */
export async function cli(argv: string[]): Promise<LocalSigner | undefined> {
    let values: Record<string, string | undefined>;
    try {
        ({ values } = parseArgs({
            args: argv,
            options: { port: { type: "string" }, key: { type: "string" }, store: { type: "string" }, "builder-id": { type: "string" } },
            strict: true,
        }));
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
        process.exitCode = 2;
        return undefined;
    }
    const problems: string[] = [];
    const port = Number(values.port);
    if (values.port === undefined || !/^\d+$/.test(values.port) || port > 65535) {
        problems.push(`--port ${JSON.stringify(values.port ?? "(missing)")} must be an integer 0-65535 (0 = any free port)`);
    }
    if (values.key === undefined) {
        problems.push("--key is required: a P-256 private key PEM file (openssl ecparam -name prime256v1 -genkey -noout -out key.pem)");
    }
    if (values.store === undefined) {
        problems.push("--store is required: the directory that stands in for the provenance bucket");
    }
    let keyPem = "";
    if (values.key !== undefined) {
        try {
            keyPem = readFileSync(values.key, "utf8");
        } catch (err) {
            problems.push(`--key ${JSON.stringify(values.key)} cannot be read: ${(err as Error).message}`);
        }
    }
    if (problems.length > 0) {
        process.stderr.write(`${problems.join("\n")}\n${USAGE}\n`);
        process.exitCode = 2;
        return undefined;
    }
    try {
        const signer = await startLocalSigner({ port, keyPem, keySource: values.key, storeDir: values.store!, builderId: values["builder-id"], logger: { level: "info" } });
        process.once("SIGINT", () => void signer.close());
        process.once("SIGTERM", () => void signer.close());
        return signer;
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        process.exitCode = 2;
        return undefined;
    }
}

if (require.main === module) {
    void cli(process.argv.slice(2));
}
