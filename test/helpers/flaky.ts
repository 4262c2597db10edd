/**
 * A flaky HTTP stand-in: it answers its first requests with the faults it is given (a reset
 * connection, an error status, no answer at all), then hands every later request to `healthy`.
 */
import * as http from "http";
import type { AddressInfo } from "net";

export type Fault = "reset" | "hang" | number;

export interface FlakyServer {
    url: string;
    /** Requests received, faulty ones included. */
    requests: number;
    close(): Promise<void>;
}

export async function flakyServer(faults: Fault[], healthy: (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void): Promise<FlakyServer> {
    const queue = [...faults];
    const state = { requests: 0 };
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            state.requests++;
            const fault = queue.shift();
            if (fault === "reset") {
                req.socket.destroy();
            } else if (fault === "hang") {
                // Never answers: the client's attempt timeout must end it.
            } else if (typeof fault === "number") {
                res.writeHead(fault, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "flaky", message: `stand-in fault ${fault}` } }));
            } else {
                healthy(req, Buffer.concat(chunks), res);
            }
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        get requests() {
            return state.requests;
        },
        close: () => new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}
