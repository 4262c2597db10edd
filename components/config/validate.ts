/** The fleet-level validator: walks the raw config, applies defaults, runs the cross-field checks. */
import { FieldReader, isRawObject, typeName } from "./fields";
import type { FleetConfigSource } from "./input";
import { FleetConfigError, IssueCollector } from "./issues";
import { FleetConfig, FleetConfigValidation, PoolConfig } from "./types";
import { httpsUrlProblem, isValidProjectId, isValidRegion, isValidSecretName } from "./names";
import { validateGuardrails, validatePerimeter } from "./perimeter";
import { PoolParse, validatePool } from "./pool";
import { NamedRange, reportEgressIntoFleet, reportMasterOverlaps, reportOverlaps } from "./ranges";
import { SignerParse, validateSigner } from "./signer";
import { readControlPlane } from "./controlPlane";
import { readGithubConfigUrl } from "./githubUrl";
import { CONFIG_NAMESPACE, DEFAULTS, FLEET_CONFIG_KEYS, GITHUB_KEYS } from "./schema";
import { labelSetProblems } from "../../services/controlPlane/runsOn";

/**
 * Pure: validates a raw config object (keys without the `hardened-build-fleet:` namespace) and
 * returns the normalised config, or every issue found. Never throws on bad input.
 */
export function validateFleetConfig(source: FleetConfigSource | Record<string, unknown>): FleetConfigValidation {
    const raw: unknown = source;
    const issues = new IssueCollector();
    if (!isRawObject(raw)) {
        issues.add("", raw, `expected an object of ${CONFIG_NAMESPACE}:* keys, got ${typeName(raw)}`, "pass the stack config keys as an object");
        return { issues: issues.issues, warnings: issues.warnings };
    }
    const f = new FieldReader(issues, raw, "");
    f.checkKeys(FLEET_CONFIG_KEYS);

    const region = readRegion(f);
    const workerProject = readProject(f, "workerProject", "gcp:project", "acme-build-workers");
    const signerProject = readProject(f, "signerProject", undefined, "acme-build-signer");
    const allowSharedSignerProject = f.boolean("allowSharedSignerProject", false);
    const enableApis = f.boolean("enableApis", true);
    if (workerProject !== undefined && workerProject === signerProject) {
        if (allowSharedSignerProject) {
            issues.warn("signerProject", signerProject, "the signer enclave shares the worker project (allowSharedSignerProject); project-level IAM in that project can reach the signing key, so I10 rests on IAM alone");
        } else {
            issues.add(
                "signerProject",
                signerProject,
                "is the same project as workerProject; the signer enclave belongs in its own project (I10)",
                `use a dedicated project for the signer, or accept the weaker isolation with \`pulumi config set ${CONFIG_NAMESPACE}:allowSharedSignerProject true\``,
            );
        }
    }

    const github = readGithub(f);
    const registrationBrokerUrl = readHttpsUrl(f, "registrationBrokerUrl", "https://broker.build.example.com");

    const poolItems = f.array("pools", { required: true, example: "[{name: linux, backend: gce, cidr: 10.10.0.0/24, image: ...}]" });
    if (poolItems !== undefined && poolItems.length === 0) {
        issues.add("pools", poolItems, "must list at least one pool", "add a pool with at least name, backend, cidr and image");
    }
    const pools = (poolItems ?? []).map((item, i) => validatePool(issues, item, i));
    reportDuplicateNames(issues, pools);
    reportLabelSets(issues, pools);

    const signerRaw = f.object("signer", { required: true, example: "{serviceImage: ..., cidr: 10.200.0.0/26}" });
    const signer: SignerParse = signerRaw === undefined ? {} : validateSigner(issues, signerRaw, "signer");

    const controlPlane = readControlPlane(f, signerProject, workerProject, allowSharedSignerProject);
    const perimeter = validatePerimeter(issues, f);
    const guardrails = validateGuardrails(issues, f);
    if (perimeter !== undefined && workerProject !== undefined && workerProject === signerProject) {
        issues.add("perimeter", f.value("perimeter"), "needs the signer in its own project: a project can be in only one regular perimeter, and the workers must stay outside the enclave's",
            "give the signer its own signerProject (and drop allowSharedSignerProject), or remove the perimeter block");
    }

    checkAddressSpace(issues, pools, signer.range);

    if (issues.issues.length > 0 || region === undefined || workerProject === undefined || signerProject === undefined
        || github === undefined || signer.config === undefined || controlPlane === undefined || guardrails === undefined) {
        return { issues: issues.issues, warnings: issues.warnings };
    }
    const config: FleetConfig = {
        region,
        workerProject,
        signerProject,
        allowSharedSignerProject,
        enableApis,
        github,
        ...(registrationBrokerUrl !== undefined ? { registrationBrokerUrl } : {}),
        pools: pools.map((p) => p.config).filter((p): p is PoolConfig => p !== undefined),
        signer: signer.config,
        controlPlane,
        ...(perimeter !== undefined ? { perimeter } : {}),
        guardrails,
    };
    warnHardeningGaps(issues, config);
    return { config, issues: [], warnings: issues.warnings };
}

/** Same as validateFleetConfig but throws FleetConfigError listing every issue. */
export function parseFleetConfig(raw: FleetConfigSource | Record<string, unknown>): FleetConfig {
    const result = validateFleetConfig(raw);
    if (result.config === undefined) {
        throw new FleetConfigError(result.issues);
    }
    return result.config;
}

function readRegion(f: FieldReader): string | undefined {
    if (!f.has("region")) {
        f.issues.add("region", undefined, "required field is missing (no gcp:region to fall back to)", "run `pulumi config set gcp:region europe-west1` (or set hardened-build-fleet:region)");
        return undefined;
    }
    const region = f.string("region", { example: "europe-west1" });
    if (region !== undefined && !isValidRegion(region)) {
        f.issues.add("region", region, "is not a GCP region name", "use a region such as europe-west1 or us-central1 (not a zone like europe-west1-b)");
        return undefined;
    }
    return region;
}

function readProject(f: FieldReader, key: string, fallback: string | undefined, example: string): string | undefined {
    if (!f.has(key)) {
        const source = fallback === undefined ? "" : ` (no ${fallback} to fall back to)`;
        const fix = fallback === undefined
            ? `run \`pulumi config set ${CONFIG_NAMESPACE}:${key} ${example}\``
            : `run \`pulumi config set ${fallback} ${example}\` (or set ${CONFIG_NAMESPACE}:${key})`;
        f.issues.add(key, undefined, `required field is missing${source}`, fix);
        return undefined;
    }
    const project = f.string(key, { example });
    if (project !== undefined && !isValidProjectId(project)) {
        f.issues.add(key, project, "is not a GCP project id (6-30 lower-case letters, digits and hyphens, starting with a letter)", `use the project id, not its name or number, e.g. ${example}`);
        return undefined;
    }
    return project;
}

function readHttpsUrl(f: FieldReader, key: string, example: string): string | undefined {
    const value = f.string(key, { example });
    if (value === undefined) {
        return undefined;
    }
    const problem = httpsUrlProblem(value);
    if (problem !== undefined) {
        f.issues.add(f.pathOf(key), value, `${problem}`, `use an https URL, e.g. ${example}`);
        return undefined;
    }
    return value;
}

/** `github.configUrl`: read exactly as the ControlPlane component reads it (githubUrl.ts). */
function readConfigUrl(f: FieldReader): string | undefined {
    const value = f.string("configUrl", { example: "https://github.com/acme" });
    if (value === undefined) {
        return undefined;
    }
    const reading = readGithubConfigUrl(value);
    if ("problem" in reading) {
        f.issues.add(f.pathOf("configUrl"), value, reading.problem, reading.fix);
        return undefined;
    }
    return value;
}

function readGithub(top: FieldReader): FleetConfig["github"] | undefined {
    const raw = top.object("github", { required: true, example: "{configUrl: https://github.com/acme}" });
    if (raw === undefined) {
        return undefined;
    }
    const f = new FieldReader(top.issues, raw, "github");
    f.checkKeys(GITHUB_KEYS);
    if (!f.has("configUrl")) {
        f.missing("configUrl", "https://github.com/acme");
    }
    const configUrl = readConfigUrl(f);
    const scaleSetSecretName = f.string("scaleSetSecretName", { example: DEFAULTS.scaleSetSecretName }) ?? DEFAULTS.scaleSetSecretName;
    if (!isValidSecretName(scaleSetSecretName)) {
        f.issues.add(f.pathOf("scaleSetSecretName"), scaleSetSecretName, "is not a Kubernetes Secret name (DNS-1123 subdomain)", `use e.g. ${DEFAULTS.scaleSetSecretName}`);
        return undefined;
    }
    return configUrl === undefined ? undefined : { configUrl, scaleSetSecretName };
}

function reportDuplicateNames(issues: IssueCollector, pools: readonly PoolParse[]): void {
    const seen = new Map<string, PoolParse>();
    for (const pool of pools) {
        if (pool.name === undefined) {
            continue;
        }
        const first = seen.get(pool.name);
        if (first === undefined) {
            seen.set(pool.name, pool);
            continue;
        }
        const taken = new Set(pools.map((p) => p.name));
        let n = 2;
        while (taken.has(`${pool.name}-${n}`)) {
            n++;
        }
        issues.add(`${pool.path}.name`, pool.name, `duplicates ${first.path}.name; each pool gets its own network, identity and bucket (I5)`, `give each pool a unique name, e.g. "${pool.name}-${n}"`);
    }
}

/** Pools whose runner label sets nest (the runs-on rule in services/controlPlane/runsOn.ts). */
function reportLabelSets(issues: IssueCollector, pools: readonly PoolParse[]): void {
    const labelled = pools.filter((p): p is PoolParse & { name: string; labels: string[] } => p.name !== undefined && p.labels !== undefined);
    const names = new Set<string>();
    const unique = labelled.filter((p) => !names.has(p.name) && names.add(p.name));
    for (const [i, message] of labelSetProblems(unique)) {
        const pool = unique[i];
        issues.add(`${pool.path}.labels`, pool.labels, message, "keep each pool's name out of every other pool's labels; jobs target a pool by naming it in runs-on");
    }
}

function checkAddressSpace(issues: IssueCollector, pools: readonly PoolParse[], signerRange: NamedRange | undefined): void {
    const fleetRanges = [...pools.flatMap((p) => p.ranges), ...(signerRange !== undefined ? [signerRange] : [])];
    reportOverlaps(issues, fleetRanges);
    for (const pool of pools) {
        if (pool.master !== undefined) {
            reportMasterOverlaps(issues, pool.master, pool.ranges);
        }
        const foreign = fleetRanges.filter((r) => !pool.ranges.includes(r));
        for (const egress of pool.egress) {
            reportEgressIntoFleet(issues, egress, foreign);
        }
    }
}

/** What the guardrails cannot pin for this topology (fleetGuardrails in components/fleet/hardening.ts leaves it out). */
function warnHardeningGaps(issues: IssueCollector, config: FleetConfig): void {
    const cpProject = config.controlPlane.project;
    if (!config.guardrails.enabled) {
        return;
    }
    if (cpProject === config.signerProject && config.signerProject !== config.workerProject) {
        issues.warn("controlPlane.project", cpProject, "the signer project also hosts the control plane, whose public webhook receiver GitHub must reach, so the signer " +
            "project's run.allowedIngress is not pinned to internal (org-guardrails reports it) and a perimeter cannot restrict Cloud Run around the signer; " +
            "give the control plane a project of its own, e.g. controlPlane.project: acme-build-control");
    }
    if (config.guardrails.allowedPolicyMemberDomains.length > 0) {
        issues.warn("guardrails.allowedPolicyMemberDomains", config.guardrails.allowedPolicyMemberDomains, `not set on the control-plane project ${cpProject}: it ` +
            "would refuse the webhook receiver's allUsers invoker (GitHub cannot present a Google identity); set it there at the folder or organization with a tag-conditioned exception");
    }
}
