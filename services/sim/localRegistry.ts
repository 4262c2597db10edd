/**
 * A real OCI registry on loopback for tests and `npm run simulate`: Debian's `docker-registry`
 * (the CNCF distribution registry, 2.8: no referrers API) serving a temporary storage directory on a
 * free 127.0.0.1 port. `.ci/run` installs it (`apt-get install -y docker-registry skopeo`).
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { createServer } from "net";
import { tmpdir } from "os";
import * as path from "path";

export const REGISTRY_BINARY = "docker-registry";

export interface LocalRegistry {
    /** `127.0.0.1:<port>`: the registry host as image references spell it. */
    host: string;
    /** `http://127.0.0.1:<port>` */
    url: string;
    /** The registry's storage directory (removed on stop). */
    storage: string;
    stop(): Promise<void>;
}

/** Why a local registry cannot start here, or undefined when the binary is installed. */
export function registryUnavailable(): string | undefined {
    const probe = spawnSync(REGISTRY_BINARY, ["--version"], { encoding: "utf8" });
    return probe.error !== undefined || probe.status !== 0
        ? `${REGISTRY_BINARY} is not installed: apt-get install -y docker-registry skopeo (.ci/run does this)`
        : undefined;
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as { port: number }).port;
            srv.close(() => resolve(port));
        });
    });
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) {
            throw new Error(`${REGISTRY_BINARY} exited with ${child.exitCode}: ${output().slice(-500)}`);
        }
        try {
            const res = await fetch(`${url}/v2/`);
            await res.arrayBuffer();
            if (res.status === 200) {
                return;
            }
        } catch {
            // not listening yet
        }
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${REGISTRY_BINARY} did not answer on ${url} within 15 s: ${output().slice(-500)}`);
}

/** Starts `docker-registry serve <config.yml>` with a fresh storage directory; stop() ends it and removes the directory. */
export async function startLocalRegistry(): Promise<LocalRegistry> {
    const unavailable = registryUnavailable();
    if (unavailable !== undefined) {
        throw new Error(unavailable);
    }
    const dir = mkdtempSync(path.join(tmpdir(), "hbf-registry-"));
    const storage = path.join(dir, "storage");
    // A port picked by the kernel can be taken between close and the registry's bind: retry a few.
    for (let attempt = 0; ; attempt++) {
        const port = await freePort();
        const config = path.join(dir, "config.yml");
        writeFileSync(config, [
            "version: 0.1",
            "log:",
            "  level: error",
            "  accesslog:",
            "    disabled: true",
            "storage:",
            "  filesystem:",
            `    rootdirectory: ${storage}`,
            "  delete:",
            "    enabled: false",
            "http:",
            `  addr: 127.0.0.1:${port}`,
            "",
        ].join("\n"));
        let out = "";
        const child = spawn(REGISTRY_BINARY, ["serve", config], { stdio: ["ignore", "pipe", "pipe"] });
        child.stdout!.on("data", (d) => (out += d));
        child.stderr!.on("data", (d) => (out += d));
        const url = `http://127.0.0.1:${port}`;
        try {
            await waitReady(url, child, () => out);
        } catch (err) {
            child.kill("SIGKILL");
            if (attempt < 3 && /address already in use/.test(out)) {
                continue;
            }
            rmSync(dir, { recursive: true, force: true });
            throw err;
        }
        return {
            host: `127.0.0.1:${port}`,
            url,
            storage,
            stop: async () => {
                if (child.exitCode === null) {
                    const exited = new Promise((r) => child.once("exit", r));
                    child.kill("SIGTERM");
                    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
                    if (child.exitCode === null) {
                        child.kill("SIGKILL");
                    }
                }
                rmSync(dir, { recursive: true, force: true });
            },
        };
    }
}
