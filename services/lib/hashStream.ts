/** sha256 of a stream as it passes, with a byte limit: memory stays bounded whatever the stream's size. */
import { createHash } from "crypto";
import type { Readable } from "stream";

/** `{ sha256, size }`, or `{ tooLarge }` (the bytes read when the limit was passed; the stream is destroyed). */
export async function hashStream(stream: Readable, limit: number): Promise<{ sha256: string; size: number } | { tooLarge: number }> {
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of stream) {
        size += (chunk as Buffer).length;
        if (size > limit) {
            stream.destroy();
            return { tooLarge: size };
        }
        hash.update(chunk as Buffer);
    }
    return { sha256: hash.digest("hex"), size };
}
