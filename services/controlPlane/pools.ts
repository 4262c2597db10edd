/**
 * The runner pools as the control-plane services see them. Every service reads the same JSON schema
 * (`BROKER_POOLS`, `WEBHOOK_POOLS`, `GENERATOR_POOLS`): an array of pool objects. Each service names
 * the fields it needs; the rest may be present and are ignored.
 *
 * Label rule (webhook -> pool): a job belongs to the pool whose label set equals the job's
 * `runs-on` label set exactly, compared case-insensitively (GitHub compares labels that way). No
 * pool may have the same label set as another, so the mapping is a function. A job whose set matches
 * no pool is not ours: it is ignored and logged.
 */
import { EnvReader } from "./config";

export interface PoolSpec {
    /** Pool name (RunnerPool name): the first segment of every upload location, `<pool>/<instanceId>/`. */
    name: string;
    /** Labels the pool's runners register with (GitHub `runs-on`); the job <-> pool mapping. */
    labels: string[];
    /** GitHub runner group id the JIT runners join. */
    runnerGroupId: number;
    /** Project of the pool's managed instance group (and of its VMs). */
    project: string;
    /** Region of the pool's regional managed instance group; VM zones must lie in it. */
    region: string;
    /** Name of the pool's regional managed instance group. */
    mig: string;
    /** Email of the pool's runner service account: the only identity that may register for this pool. */
    serviceAccount: string;
    /** Intake bucket of the pool. */
    intakeBucket: string;
    /** The pool's boot image (recorded in provenance as an internal parameter). */
    image: string;
    /** The pool's scheduling.maxRunDuration: the upload credential expires with it. */
    maxRunDurationSeconds: number;
    /**
     * Most objects one job may have signed (one KMS signature each). Default
     * DEFAULT_MAX_OBJECTS_PER_JOB; objects over it are refused and recorded, never signed.
     */
    maxObjectsPerJob?: number;
}

/** Default per-job budget of signed objects: the signing quota is shared by every job of the fleet. */
export const DEFAULT_MAX_OBJECTS_PER_JOB = 32;
/** Largest per-job budget a pool may set. */
export const MAX_OBJECTS_PER_JOB_LIMIT = 1000;

export type PoolField = Exclude<keyof PoolSpec, "maxObjectsPerJob">;

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL = /^[A-Za-z0-9._-]{1,100}$/;
const EMAIL = /^[a-z0-9][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9-]+\.iam\.gserviceaccount\.com$|^[^@\s]+@[^@\s]+$/;
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

const CHECKS: Record<PoolField, [(v: any) => boolean, string]> = {
    name: [(v) => typeof v === "string" && NAME.test(v), "a pool name: lower-case letters, digits and hyphens"],
    labels: [(v) => Array.isArray(v) && v.length > 0 && v.length <= 100 && v.every((l) => typeof l === "string" && LABEL.test(l)), "a non-empty array of runner labels ([A-Za-z0-9._-])"],
    runnerGroupId: [(v) => Number.isInteger(v) && v >= 1, "a positive integer runner group id (1 is the Default group)"],
    project: [(v) => typeof v === "string" && /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/.test(v), "a GCP project id"],
    region: [(v) => typeof v === "string" && /^[a-z]+-[a-z]+\d+$/.test(v), "a GCP region such as europe-west1"],
    mig: [(v) => typeof v === "string" && NAME.test(v), "the managed instance group's name"],
    serviceAccount: [(v) => typeof v === "string" && EMAIL.test(v), "the runner service account's email"],
    intakeBucket: [(v) => typeof v === "string" && BUCKET.test(v), "the pool's intake bucket name"],
    image: [(v) => typeof v === "string" && v.length > 0 && v.length <= 1024, "the pool's boot image reference"],
    maxRunDurationSeconds: [(v) => Number.isInteger(v) && v >= 60 && v <= 7 * 24 * 3600, "an integer number of seconds between 60 and 604800 (7 days)"],
};

/** The canonical form of a label set: lower-cased, de-duplicated, sorted, joined. */
export function labelKey(labels: readonly string[]): string {
    return [...new Set(labels.map((l) => l.toLowerCase()))].sort().join(",");
}

/** Reads the pools variable `envName`, requiring `fields`; problems go to the reader. */
export function readPools(reader: EnvReader, envName: string, fields: readonly PoolField[]): PoolSpec[] {
    const example = `[{"name":"pool-a","labels":["self-hosted","pool-a"],...}]`;
    const value = reader.json(envName, `set a JSON array of pools, e.g. ${example}`);
    if (value === undefined) {
        return [];
    }
    if (!Array.isArray(value) || value.length === 0) {
        reader.problems.push(`${envName}: ${JSON.stringify(value).slice(0, 80)} must be a non-empty JSON array of pools, e.g. ${example}`);
        return [];
    }
    const pools: PoolSpec[] = [];
    const names = new Set<string>();
    const labelSets = new Map<string, string>();
    value.forEach((pool: any, i) => {
        if (pool === null || typeof pool !== "object" || Array.isArray(pool)) {
            reader.problems.push(`${envName}[${i}]: ${JSON.stringify(pool)} must be an object`);
            return;
        }
        let ok = true;
        for (const field of fields) {
            const [check, what] = CHECKS[field];
            if (!check(pool[field])) {
                reader.problems.push(`${envName}[${i}].${field}: ${JSON.stringify(pool[field])} is not valid; set ${what}`);
                ok = false;
            }
        }
        const budget = pool.maxObjectsPerJob;
        if (budget !== undefined && !(Number.isInteger(budget) && budget >= 1 && budget <= MAX_OBJECTS_PER_JOB_LIMIT)) {
            reader.problems.push(`${envName}[${i}].maxObjectsPerJob: ${JSON.stringify(budget)} is not valid; set an integer between 1 and ${MAX_OBJECTS_PER_JOB_LIMIT}, or leave it out for the default ${DEFAULT_MAX_OBJECTS_PER_JOB}`);
            ok = false;
        }
        if (!ok) {
            return;
        }
        if (names.has(pool.name)) {
            reader.problems.push(`${envName}[${i}].name: "${pool.name}" appears twice; pool names are unique`);
        }
        names.add(pool.name);
        if (fields.includes("labels")) {
            const key = labelKey(pool.labels);
            const other = labelSets.get(key);
            if (other !== undefined) {
                reader.problems.push(`${envName}[${i}].labels: the label set of "${pool.name}" equals that of "${other}"; give every pool a distinct label set (e.g. add the pool name as a label)`);
            }
            labelSets.set(key, pool.name);
        }
        pools.push(pool as PoolSpec);
    });
    return pools;
}

/** Maps a job's labels to its pool by the exact-set rule, or undefined. */
export function poolForLabels(pools: readonly PoolSpec[], labels: readonly string[]): PoolSpec | undefined {
    const key = labelKey(labels);
    return pools.find((p) => labelKey(p.labels) === key);
}
