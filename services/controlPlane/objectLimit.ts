/**
 * The largest object a job may upload. One variable and one default for both services that use it:
 * the broker writes it into every upload grant's `content-length-range`, and the generator refuses
 * anything larger before and while streaming it. So an upload the broker allows is never one the
 * generator will not read, and raising one without the other is not possible.
 */
import type { EnvReader } from "./config";

export const MAX_OBJECT_BYTES_ENV = "MAX_OBJECT_BYTES";
/** 1 GiB: an image layout of a large service, well under what a job's VM disk and a Pub/Sub push allow. */
export const DEFAULT_MAX_OBJECT_BYTES = 1024 ** 3;
/** The generator streams every object, so its memory does not grow with this; the bound is upload time. */
export const MAX_OBJECT_BYTES_LIMIT = 64 * 1024 ** 3;

/** Names the limit had when each service read its own: refused, so a deployment cannot set them apart. */
const REPLACED = ["BROKER_UPLOAD_MAX_BYTES", "GENERATOR_MAX_OBJECT_BYTES"];

export function readMaxObjectBytes(r: EnvReader, env: NodeJS.ProcessEnv): number {
    for (const old of REPLACED) {
        if (env[old] !== undefined) {
            r.problems.push(`${old}: no longer read; set ${MAX_OBJECT_BYTES_ENV} (one limit for the broker's upload grants and the generator's reads)`);
        }
    }
    return r.integer(MAX_OBJECT_BYTES_ENV, DEFAULT_MAX_OBJECT_BYTES, 1, MAX_OBJECT_BYTES_LIMIT);
}
