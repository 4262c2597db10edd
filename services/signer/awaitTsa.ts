/**
 * Start-up of a signer whose timestamp authority does not answer yet (the first `pulumi up`: the TSA's chain is
 * made after its key exists, so the TSA service comes later). The signer must not exit: Cloud Run would never mark
 * its revision ready and the whole `up` would fail. It must not sign either: every bundle carries a timestamp.
 * So, until the TSA's chain can be read, it listens and answers 503 to everything but liveness, and retries.
 */
import { createServer, Server } from "http";

export interface AwaitTsaOptions {
    port: number;
    host: string;
    /** Where progress is reported (one line per failed attempt). */
    log: (message: string) => void;
    /** First retry delay; doubles to maxDelayMs, with up to 20% jitter. Default 2 s. */
    initialDelayMs?: number;
    /** Default 60 s. */
    maxDelayMs?: number;
}

/** The body of every refused request while waiting: a code callers can act on, and what fixes it. */
export const WAITING_FOR_TSA = {
    error: "timestamp_authority_unavailable",
    message: "the signer signs nothing until its timestamp authority answers (every bundle carries a timestamp); deploy it with signer.timestampAuthority (docs/attestations.md, bootstrap)",
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Resolves with the TSA's chain as soon as `fetchChain` succeeds. While it fails, a placeholder server on
 * `port` answers GET /healthz 200 and everything else 503 (with Retry-After); it is closed before this resolves.
 */
export async function awaitTimestampAuthority(fetchChain: () => Promise<string>, opts: AwaitTsaOptions): Promise<string> {
    let server: Server | undefined;
    let delay = opts.initialDelayMs ?? 2_000;
    const maxDelay = opts.maxDelayMs ?? 60_000;
    try {
        for (;;) {
            try {
                return await fetchChain();
            } catch (err) {
                opts.log(`signer: the timestamp authority does not answer (${(err as Error).message}); signing nothing, retrying in ${Math.round(delay / 1000)} s`);
            }
            server ??= await listenWaiting(opts.port, opts.host);
            await sleep(delay * (1 + Math.random() * 0.2));
            delay = Math.min(delay * 2, maxDelay);
        }
    } finally {
        if (server !== undefined) {
            const s = server;
            await new Promise<void>((resolve) => s.close(() => resolve()));
        }
    }
}

function listenWaiting(port: number, host: string): Promise<Server> {
    const server = createServer((req, res) => {
        req.resume();
        if (req.method === "GET" && req.url === "/healthz") {
            res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "waiting_for_timestamp_authority" }));
            return;
        }
        res.writeHead(503, { "content-type": "application/json", "retry-after": "30", connection: "close" }).end(JSON.stringify(WAITING_FOR_TSA));
    });
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve(server));
    });
}
