/**
 * `HardenedBuildFleet`: the whole SLSA Build L3 fleet from one validated config.
 *
 * - one RunnerPool per pool, each with its own network, identity and backend (I1-I7);
 * - the ControlPlane: its identity, one intake bucket per pool and the I11 grants;
 * - the SignerEnclave in the signer project, invocable only by the control plane (I8-I10, I12).
 *
 * Pools depend on nothing but the config, so they deploy in parallel: the dependency chain of a
 * `pulumi up` does not grow with the number of pools.
 */
import * as pulumi from "@pulumi/pulumi";
import { FleetConfig, FleetConfigError, FleetConfigSource, validateFleetConfig } from "./config";
import { isGcpName } from "./config/names";
import { MAX_POOL_NAME_LENGTH } from "./config/schema";
import { ControlPlane, ControlPlaneArgs, validateControlPlaneArgs } from "./controlPlane";
import { GceBackendOptions } from "./gceRunnerBackend";
import { GkeBackendOptions } from "./gkeRunnerBackend";
import { MAX_RUNNER_POOL_NAME_LENGTH, RunnerPool, RunnerPoolArgs, validateRunnerPoolArgs } from "./runnerPool";
import { SignerEnclave, SignerEnclaveArgs, validateSignerEnclaveArgs } from "./signerEnclave";

/** Longest fleet name: `${name}-pool-${pool}` must fit RunnerPool's name limit for a 20-character pool. */
export const MAX_FLEET_NAME_LENGTH = MAX_RUNNER_POOL_NAME_LENGTH - "-pool-".length - MAX_POOL_NAME_LENGTH;

export interface HardenedBuildFleetArgs {
    /**
     * The fleet config in stack-config shape: a typed `FleetConfigInput` (the keys of the `hardened-build-fleet:`
     * namespace without the prefix, durations such as "2h", as in Pulumi.example.yaml), or the stack's own
     * config from `readRawFleetConfig()`. Required. Validated in full, with every problem reported at once,
     * before any resource is registered.
     */
    config: FleetConfigSource;
    /** GCE backend tunables applied to every gce pool. Default: RunnerPool's defaults. */
    gce?: GceBackendOptions;
    /** GKE backend tunables applied to every gke pool. Default: RunnerPool's defaults. */
    gke?: GkeBackendOptions;
}

/** Child component names, derived from the fleet name. */
export function fleetChildNames(name: string, poolNames: string[]): { pools: Record<string, string>; controlPlane: string; signer: string } {
    return {
        pools: Object.fromEntries(poolNames.map((p) => [p, `${name}-pool-${p}`])),
        controlPlane: `${name}-control-plane`,
        signer: `${name}-signer`,
    };
}

function poolArgs(config: FleetConfig, args: HardenedBuildFleetArgs): RunnerPoolArgs[] {
    return config.pools.map((pool) => ({
        pool,
        project: config.workerProject,
        region: config.region,
        github: config.github,
        registrationBrokerUrl: config.registrationBrokerUrl,
        gce: args.gce,
        gke: args.gke,
    }));
}

function controlPlaneArgs(config: FleetConfig, runnerMembers: pulumi.Input<string>[]): ControlPlaneArgs {
    return {
        project: config.workerProject,
        region: config.region,
        pools: config.pools.map((p, i) => ({ name: p.name, runnerMember: runnerMembers[i] })),
        intakeRetentionDays: config.controlPlane.intakeRetentionDays,
    };
}

function signerArgs(config: FleetConfig, controlPlaneMember: pulumi.Input<string>): SignerEnclaveArgs {
    const signer = config.signer;
    return {
        project: config.signerProject,
        region: config.region,
        cidr: signer.cidr,
        serviceImage: signer.serviceImage,
        // I9/I10: only the control plane may invoke the signer; runners are never named.
        invokers: [controlPlaneMember],
        verifiers: signer.verifiers,
        keyAlgorithm: signer.keyAlgorithm,
        protectionLevel: signer.protectionLevel,
        allowSoftwareKeyForDevelopment: signer.allowSoftwareKeyForDevelopment,
        provenanceRetentionDays: signer.provenanceRetentionDays,
    };
}

/**
 * Runs every child's own validator on the args the fleet would pass, so a gap between the config
 * validator and a component fails here, before anything is registered, not half-way through.
 */
function childProblems(name: string, config: FleetConfig, args: HardenedBuildFleetArgs): string[] {
    const names = fleetChildNames(name, config.pools.map((p) => p.name));
    const placeholder = (id: string) => `serviceAccount:${id}@validation.iam.gserviceaccount.com`;
    const problems: string[] = [];
    poolArgs(config, args).forEach((a) => {
        const child = names.pools[a.pool.name];
        problems.push(...validateRunnerPoolArgs(child, a).map((p) => `RunnerPool "${child}": ${p}`));
    });
    const cp = controlPlaneArgs(config, config.pools.map((p) => placeholder(p.name)));
    problems.push(...validateControlPlaneArgs(names.controlPlane, cp).map((p) => `ControlPlane "${names.controlPlane}": ${p}`));
    const signer = signerArgs(config, placeholder("control-plane"));
    problems.push(...validateSignerEnclaveArgs(names.signer, signer).map((p) => `SignerEnclave "${names.signer}": ${p}`));
    return problems;
}

/** The validated config, or a FleetConfigError naming every problem (nothing registered yet). */
function validate(name: string, args: HardenedBuildFleetArgs): { config: FleetConfig; warnings: string[] } {
    const result = validateFleetConfig(args?.config ?? {});
    const issues = [...result.issues];
    if (!isGcpName(name, MAX_FLEET_NAME_LENGTH)) {
        issues.unshift({
            path: "(component name)",
            value: name,
            message: `is not a valid fleet name (lower-case letters, digits, inner hyphens, at most ${MAX_FLEET_NAME_LENGTH} characters, since child names derive from it)`,
            fix: "use a short name such as \"fleet\"",
        });
    }
    if (issues.length > 0 || result.config === undefined) {
        throw new FleetConfigError(issues);
    }
    const problems = childProblems(name, result.config, args);
    if (problems.length > 0) {
        throw new pulumi.RunError(`HardenedBuildFleet "${name}": the config passed validation but its components reject it:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
    return { config: result.config, warnings: result.warnings };
}

export class HardenedBuildFleet extends pulumi.ComponentResource {
    /** The validated, normalised config the fleet was built from. */
    readonly config: FleetConfig;
    /** Pools by pool name. */
    readonly pools: Record<string, RunnerPool>;
    readonly controlPlane: ControlPlane;
    readonly signer: SignerEnclave;

    readonly poolNames: string[];
    /** Intake bucket name per pool. */
    readonly intakeBuckets: Record<string, pulumi.Output<string>>;
    readonly signerPublicKeyPem: pulumi.Output<string>;
    readonly signerKeyVersionName: pulumi.Output<string>;
    readonly signerServiceUrl: pulumi.Output<string>;
    readonly provenanceBucketName: pulumi.Output<string>;
    readonly controlPlaneServiceAccountEmail: pulumi.Output<string>;

    constructor(name: string, args: HardenedBuildFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before super(): an invalid config registers nothing, not even this component.
        const { config, warnings } = validate(name, args);
        super("hardened-build-fleet:index:HardenedBuildFleet", name, {}, opts);
        for (const warning of warnings) {
            pulumi.log.warn(warning, this);
        }
        this.config = config;

        const names = fleetChildNames(name, config.pools.map((p) => p.name));
        this.pools = {};
        for (const a of poolArgs(config, args)) {
            this.pools[a.pool.name] = new RunnerPool(names.pools[a.pool.name], a, { parent: this });
        }
        // I11: runners may only create objects in their own pool's intake bucket.
        const runnerMembers = config.pools.map((p) => this.pools[p.name].serviceAccountMember);
        this.controlPlane = new ControlPlane(names.controlPlane, controlPlaneArgs(config, runnerMembers), { parent: this });
        this.signer = new SignerEnclave(names.signer, signerArgs(config, this.controlPlane.member), { parent: this });

        this.poolNames = config.pools.map((p) => p.name);
        this.intakeBuckets = this.controlPlane.intakeBuckets;
        this.signerPublicKeyPem = this.signer.publicKeyPem;
        this.signerKeyVersionName = this.signer.keyVersionName;
        this.signerServiceUrl = this.signer.serviceUrl;
        this.provenanceBucketName = this.signer.provenanceBucketName;
        this.controlPlaneServiceAccountEmail = this.controlPlane.serviceAccountEmail;

        this.registerOutputs({
            poolNames: this.poolNames,
            intakeBuckets: this.intakeBuckets,
            signerPublicKeyPem: this.signerPublicKeyPem,
            signerKeyVersionName: this.signerKeyVersionName,
            signerServiceUrl: this.signerServiceUrl,
            provenanceBucketName: this.provenanceBucketName,
            controlPlaneServiceAccountEmail: this.controlPlaneServiceAccountEmail,
        });
    }
}
