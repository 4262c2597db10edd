/** Opens a GCS bucket as an ObjectStore (the cloud side of services/lib/objectStore). */
import { GcsStore, ObjectStore } from "../lib/objectStore";

export function gcsBucket(name: string): ObjectStore {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Storage } = require("@google-cloud/storage");
    return new GcsStore(new Storage().bucket(name));
}

/** Listens on all interfaces (Cloud Run) and closes cleanly on SIGTERM. */
export async function serve(app: import("fastify").FastifyInstance, port: number, name: string, timers: NodeJS.Timeout[] = []): Promise<void> {
    await app.listen({ host: "0.0.0.0", port });
    process.stderr.write(`${JSON.stringify({ severity: "INFO", message: `${name} listening on :${port}` })}\n`);
    process.once("SIGTERM", () => {
        timers.forEach(clearInterval);
        void app.close();
    });
}

/** Runs `fn` every `seconds`, logging (not throwing) its failures. */
export function every(seconds: number, name: string, fn: () => Promise<unknown>): NodeJS.Timeout {
    return setInterval(() => {
        fn().catch((err) => process.stderr.write(`${JSON.stringify({ severity: "ERROR", message: `${name} failed`, error: String(err?.message ?? err) })}\n`));
    }, seconds * 1000);
}
