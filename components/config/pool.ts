/** Validation and normalisation of one `pools[i]` entry. */
import { isRfc1918 } from "./cidr";
import { formatDuration, parseDuration } from "./duration";
import { FieldReader, isRawObject, typeName } from "./fields";
import { indexPath, IssueCollector } from "./issues";
import { EgressAllowList, PoolConfig, RunnerBackend } from "./types";
import { fqdnProblem, isValidPoolName, sanitizePoolName, suggestion } from "./names";
import { checkCidr, checkSubnetSize, NamedRange, readCidr } from "./ranges";
import { runnerHostsWarning } from "./runnerHosts";
import { MAX_RUNNER_LABELS, poolLabel, poolLabelProblem, poolLabelWarning, RUNNER_LABEL, runnerLabels } from "../../services/controlPlane/runsOn";
import {
    DEFAULTS, EGRESS_KEYS, MAX_BUILD_DURATION_SECONDS, MAX_POOL_NAME_LENGTH, POOL_GCE_ONLY_KEYS, POOL_GKE_ONLY_KEYS,
    POOL_KEYS, RUNNER_BACKENDS,
} from "./schema";

/** What the fleet-level checks need from one pool, even when the pool itself has issues. */
export interface PoolParse {
    /** Set only when this pool has no issues. */
    config?: PoolConfig;
    path: string;
    name?: string;
    backend?: RunnerBackend;
    /** Primary and secondary ranges (fleet-wide disjointness). */
    ranges: NamedRange[];
    /** GKE control-plane range (disjoint from this pool's ranges only). */
    master?: NamedRange;
    /** Egress allow-list CIDRs (must not cover other zones). */
    egress: NamedRange[];
    /** The pool's runner label set (fleet-wide: no two pools' sets may nest). */
    labels?: string[];
}

/** Why a gke pool cannot offer a container engine (docs/images.md, "GKE pools"). */
export const GKE_CONTAINERS_REFUSAL =
    "is not supported on gke pools: runner pods run under gVisor with Pod Security restricted (non-root, no privilege escalation, " +
    "seccomp RuntimeDefault). A rootless engine (rootless BuildKit or Docker) needs user namespaces and mounts that seccomp " +
    "RuntimeDefault blocks, so it needs seccomp and AppArmor Unconfined, or BuildKit's --oci-worker-no-process-sandbox, which " +
    "lets build steps signal and trace the daemon; neither is allowed in a runner namespace";

const MACHINE_TYPE = /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/;

/** Validates pool `index` of the fleet config, or a pool on its own when `path` is given (e.g. "pool"). */
/** Pools this validator produced: their warnings went to the validator's caller, who reports them. */
const VALIDATED = new WeakSet<PoolConfig>();

/** Whether `pool` is one this validator produced (so its warnings were already handed to whoever read it). */
export function isValidatedPool(pool: PoolConfig): boolean {
    return VALIDATED.has(pool);
}

export function validatePool(issues: IssueCollector, raw: unknown, index: number, path = indexPath("pools", index)): PoolParse {
    const result: PoolParse = { path, ranges: [], egress: [] };
    if (!isRawObject(raw)) {
        issues.add(path, raw, `expected a pool object, got ${typeName(raw)}`, "write each pool as an object with at least name, backend, cidr and image");
        return result;
    }
    const issuesBefore = issues.issues.length;
    const f = new FieldReader(issues, raw, path);
    f.checkKeys(POOL_KEYS);

    const name = f.string("name", { required: true, example: "linux-amd64" });
    if (name !== undefined && !isValidPoolName(name)) {
        issues.add(
            f.pathOf("name"),
            name,
            `is not a valid pool name: lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen, at most ${MAX_POOL_NAME_LENGTH} characters (child resource names derive from it)`,
            `use e.g. "${sanitizePoolName(name)}"`,
        );
    } else if (name !== undefined && poolLabelProblem(name) !== undefined) {
        issues.add(f.pathOf("name"), name, `${poolLabelProblem(name)} (every runner carries its pool's name as the label that targets the pool)`, `use a name of its own, e.g. "${name}-builds"`);
    } else {
        result.name = name;
        if (name !== undefined && poolLabelWarning(name) !== undefined) {
            issues.warn(f.pathOf("name"), name, `${poolLabelWarning(name)}; prefer a name of its own, e.g. "${name}-builds"`);
        }
    }
    const owner = `pool ${JSON.stringify(name ?? `#${index}`)}`;

    const backendValue = f.string("backend", { required: true, example: "gce" });
    const backend = RUNNER_BACKENDS.find((b) => b === backendValue);
    if (backendValue !== undefined && backend === undefined) {
        issues.add(f.pathOf("backend"), backendValue, "is not a runner backend", suggestion(backendValue, RUNNER_BACKENDS, "backends"));
    }
    result.backend = backend;
    // Fields of the other backend are rejected rather than silently ignored.
    const foreignKeys: readonly string[] = backend === "gce" ? POOL_GKE_ONLY_KEYS : backend === "gke" ? POOL_GCE_ONLY_KEYS : [];
    for (const key of foreignKeys) {
        if (key in raw) {
            const other = backend === "gce" ? "gke" : "gce";
            issues.add(f.pathOf(key), raw[key], `applies only to ${other} pools`, `remove it from this ${backend} pool, or set backend: ${other}`);
        }
    }

    const machineType = f.string("machineType", { example: DEFAULTS.machineType }) ?? DEFAULTS.machineType;
    if (!MACHINE_TYPE.test(machineType)) {
        issues.add(f.pathOf("machineType"), machineType, "is not a Compute Engine machine type", `use e.g. ${DEFAULTS.machineType} or n2d-standard-8`);
    }

    const minRunners = f.integer("minRunners", { min: 0, example: "0" }) ?? (f.has("minRunners") ? undefined : DEFAULTS.minRunners);
    const maxRunners = f.integer("maxRunners", { min: 1, example: "10" }) ?? (f.has("maxRunners") ? undefined : DEFAULTS.maxRunners);
    if (minRunners !== undefined && maxRunners !== undefined && minRunners > maxRunners) {
        issues.add(
            f.pathOf("minRunners"),
            minRunners,
            `is greater than maxRunners (${maxRunners})`,
            `lower minRunners to at most ${maxRunners}, or raise maxRunners to at least ${minRunners}`,
        );
    }

    const spot = f.boolean("spot", false);

    const cidr = readCidr(f, "cidr", { required: true, example: "10.10.0.0/24" });
    if (cidr !== undefined && checkSubnetSize(issues, f.pathOf("cidr"), cidr)) {
        result.ranges.push({ path: f.pathOf("cidr"), range: cidr, owner });
    }

    const egressAllowList = readEgress(f, owner, result);
    const maxBuildDurationSeconds = readMaxBuildDuration(f);

    const image = f.string("image", {
        required: true,
        example: backend === "gke" ? "ghcr.io/actions/actions-runner:2.321.0" : "projects/acme-images/global/images/family/runner",
    });

    const confidentialCompute = backend === "gce" ? f.boolean("confidentialCompute", false) : false;
    const extraLabels = backend === "gce" ? readLabels(f, name) : [];
    const runnerGroup = readRunnerGroup(f, backend);
    if (name !== undefined && extraLabels !== undefined) {
        // An ARC scale set is targeted by its name alone; a gce runner also carries GitHub's default labels.
        result.labels = backend === "gke" ? [poolLabel(name)] : runnerLabels(name, extraLabels, machineType);
    }
    const containers = f.boolean("containers", false);
    if (containers && backend === "gke") {
        issues.add(f.pathOf("containers"), true, GKE_CONTAINERS_REFUSAL, "build images on a gce pool with containers: true, and run this job there (docs/images.md)");
    }

    let podCidr: string | undefined;
    let serviceCidr: string | undefined;
    let masterCidr: string = DEFAULTS.masterCidr;
    if (backend === "gke") {
        for (const [key, example] of [["podCidr", "10.64.0.0/14"], ["serviceCidr", "10.68.0.0/20"]] as const) {
            const range = readCidr(f, key, { example });
            if (range !== undefined) {
                result.ranges.push({ path: f.pathOf(key), range, owner: `${owner} ${key}` });
                if (key === "podCidr") {
                    podCidr = range.cidr;
                } else {
                    serviceCidr = range.cidr;
                }
            }
        }
        if ((podCidr === undefined) !== (serviceCidr === undefined) && (f.has("podCidr") !== f.has("serviceCidr"))) {
            const [missing, given] = podCidr === undefined ? ["podCidr", "serviceCidr"] : ["serviceCidr", "podCidr"];
            issues.add(f.pathOf(missing), undefined, `must be set together with ${given}`, "set both secondary ranges or neither (GKE then allocates them)");
        }
        const master = f.has("masterCidr") ? readCidr(f, "masterCidr", { example: DEFAULTS.masterCidr }) : checkCidr(issues, f.pathOf("masterCidr"), DEFAULTS.masterCidr);
        if (master !== undefined) {
            if (master.prefix !== 28 || !isRfc1918(master)) {
                issues.add(f.pathOf("masterCidr"), master.cidr, "must be an RFC 1918 /28 (GKE private control-plane range)", `use e.g. ${DEFAULTS.masterCidr}`);
            } else {
                masterCidr = master.cidr;
                result.master = { path: f.pathOf("masterCidr"), range: master, owner: `${owner} control plane` };
            }
        }
    }

    if (issues.issues.length === issuesBefore && name !== undefined && extraLabels !== undefined && backend !== undefined && cidr !== undefined && image !== undefined
        && minRunners !== undefined && maxRunners !== undefined && maxBuildDurationSeconds !== undefined) {
        result.config = {
            name, backend, machineType, minRunners, maxRunners, spot, cidr: cidr.cidr, egressAllowList,
            maxBuildDurationSeconds, image, confidentialCompute, masterCidr,
            labels: result.labels ?? [],
            ...runnerGroup,
            ...(containers ? { containers: true as const } : {}),
            ...(podCidr !== undefined ? { podCidr } : {}),
            ...(serviceCidr !== undefined ? { serviceCidr } : {}),
        };
        const hosts = runnerHostsWarning(result.config);
        if (hosts !== undefined) {
            issues.warn(f.pathOf("egressAllowList.fqdns"), egressAllowList.fqdns, hosts);
        }
        VALIDATED.add(result.config);
    }
    return result;
}

function readEgress(pool: FieldReader, owner: string, result: PoolParse): EgressAllowList {
    const allowList: EgressAllowList = { cidrs: [], fqdns: [] };
    const raw = pool.object("egressAllowList", { example: "{cidrs: [203.0.113.0/24], fqdns: [github.com]}" });
    if (raw === undefined) {
        return allowList;
    }
    const f = new FieldReader(pool.issues, raw, pool.pathOf("egressAllowList"));
    f.checkKeys(EGRESS_KEYS);
    f.stringArray("cidrs", "203.0.113.0/24").forEach((value, i) => {
        const path = `${f.pathOf("cidrs")}[${i}]`;
        const range = checkCidr(f.issues, path, value);
        if (range === undefined) {
            return;
        }
        if (range.prefix === 0) {
            f.issues.add(path, value, "allows egress to the whole internet, defeating default-deny egress (I4)", "list only the destinations builds need, e.g. a package mirror's range");
            return;
        }
        if (!allowList.cidrs.includes(range.cidr)) {
            allowList.cidrs.push(range.cidr);
            result.egress.push({ path, range, owner: `${owner} egress` });
        }
    });
    f.stringArray("fqdns", "github.com").forEach((value, i) => {
        const problem = fqdnProblem(value);
        if (problem !== undefined) {
            const fix = problem.includes("IP address")
                ? `put addresses in egressAllowList.cidrs, e.g. ${value}/32`
                : problem.includes("wildcard")
                  ? `list each host builds need, e.g. ${value.replace(/^(\*\.)+/, "results-receiver.")}`
                  : "use a host name such as github.com";
            f.issues.add(`${f.pathOf("fqdns")}[${i}]`, value, `is not a valid FQDN: it ${problem}`, problem === "has a trailing dot" ? `use ${value.replace(/\.+$/, "")}` : fix);
            return;
        }
        const normalised = value.toLowerCase();
        if (!allowList.fqdns.includes(normalised)) {
            allowList.fqdns.push(normalised);
        }
    });
    return allowList;
}

function readMaxBuildDuration(f: FieldReader): number | undefined {
    const value = f.value("maxBuildDuration") ?? DEFAULTS.maxBuildDuration;
    const path = f.pathOf("maxBuildDuration");
    const parsed = parseDuration(value);
    if (!parsed.ok) {
        f.issues.add(path, value, `${parsed.problem}`, 'use a duration such as "90m", "2h", "1h30m", "3600s", or a number of seconds');
        return undefined;
    }
    if (parsed.seconds <= 0) {
        f.issues.add(path, value, "must be greater than zero (I2: every build environment has a bounded lifetime)", `use a positive duration up to 24h, e.g. "${DEFAULTS.maxBuildDuration}"`);
        return undefined;
    }
    if (parsed.seconds > MAX_BUILD_DURATION_SECONDS) {
        f.issues.add(path, value, `is ${formatDuration(parsed.seconds)}, above the 24h maximum (I2: bounded lifetime)`, 'use at most "24h"');
        return undefined;
    }
    return parsed.seconds;
}

/** `labels` (gce): extra runner labels; the pool name and GitHub's defaults are always there. */
function readLabels(f: FieldReader, pool: string | undefined): string[] | undefined {
    if (!f.has("labels")) {
        return [];
    }
    const path = f.pathOf("labels");
    const raw = f.value("labels");
    if (!Array.isArray(raw) || raw.length > MAX_RUNNER_LABELS - 4) {
        f.issues.add(path, raw, `expected a list of at most ${MAX_RUNNER_LABELS - 4} runner labels, got ${typeName(raw)}${Array.isArray(raw) ? ` of ${raw.length}` : ""}`, "write extra labels as a list, e.g. [gpu, large]");
        return undefined;
    }
    let ok = true;
    raw.forEach((label, i) => {
        if (typeof label !== "string" || !RUNNER_LABEL.test(label)) {
            f.issues.add(`${path}[${i}]`, label, "is not a runner label (1-100 letters, digits, '.', '_' or '-')", "use e.g. gpu");
            ok = false;
        } else if (pool !== undefined && label.toLowerCase() === pool.toLowerCase()) {
            f.issues.add(`${path}[${i}]`, label, "is the pool's own name, which every runner of the pool carries already", "remove it");
            ok = false;
        }
    });
    return ok ? (raw as string[]) : undefined;
}

/** The GitHub runner group: by id for gce (the broker's JIT configs), by name for gke (ARC). */
function readRunnerGroup(f: FieldReader, backend: RunnerBackend | undefined): { runnerGroupId?: number; runnerGroupName?: string } {
    if (backend === "gce") {
        const id = f.integer("runnerGroupId", { min: 1, example: "3" });
        return id !== undefined ? { runnerGroupId: id } : {};
    }
    if (backend === "gke" && f.has("runnerGroupName")) {
        const name = f.string("runnerGroupName", { example: "release-builders" });
        if (name !== undefined && !/^[^\s/](?:[^/]{0,98}[^\s/])?$/.test(name)) {
            f.issues.add(f.pathOf("runnerGroupName"), name, "is not a runner group name (1-100 characters, no slash, no surrounding spaces)", "write the group's name as GitHub shows it, e.g. release-builders");
            return {};
        }
        return name === undefined ? {} : { runnerGroupName: name };
    }
    return {};
}
