/**
 * `HardenedBuildFleet`: the whole SLSA Build L3 fleet from one validated config.
 *
 * - one RunnerPool per pool, each with its own network, identity and backend (I1-I7);
 * - the ServiceImage: this package's services, built once and pinned by digest (unless both images are given);
 * - the SignerEnclave in the signer project, invocable only by the provenance generator (I8-I10, I12);
 * - the ControlPlane out of the worker project: broker, webhook receiver and provenance generator, each with
 *   its own identity, the intake buckets and the job-scoped upload path (I11).
 *
 * Pools depend on nothing but the config (the broker URL they call is Cloud Run's deterministic URL), so they
 * deploy in parallel: the dependency chain of a `pulumi up` does not grow with the number of pools. The signer
 * is built before the control plane (the generator egresses into the signer's network) and names the
 * generator as its only invoker through a deferred output, resolved once the control plane exists.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { FleetConfig, FleetConfigError, FleetConfigSource, validateFleetConfig } from "../config";
import { isGcpName, serviceAccountIdFor } from "../config/names";
import { MAX_POOL_NAME_LENGTH } from "../config/schema";
import { deterministicRunUrl } from "../controlPlane/cloudRunUrl";
import { ControlPlane, ControlPlaneArgs, controlPlaneServiceNames, generatorEmailFor, validateControlPlaneArgs } from "../controlPlane";
import { fleetApis } from "./apis";
import { fleetGuardrails, fleetPerimeterArgs } from "./hardening";
import { orderAfter } from "./ordering";
import { OrgGuardrails, validateOrgGuardrailsArgs } from "../orgGuardrails";
import { FleetPerimeter, validateFleetPerimeterArgs } from "../fleetPerimeter";
import { GceBackendOptions } from "../runnerPool/gce";
import { GkeBackendOptions } from "../runnerPool/gke";
import { MAX_RUNNER_POOL_NAME_LENGTH, RunnerPool, RunnerPoolArgs, validateRunnerPoolArgs } from "../runnerPool";
import { ProjectApis } from "../projectApis";
import { AlertThresholds, FleetMonitoring, FleetMonitoringArgs, validateFleetMonitoringArgs } from "../monitoring";
import { ServiceImage } from "../serviceImage";
import { runnerLabels } from "../../services/controlPlane/runsOn";
import { SignerEnclave, SignerEnclaveArgs, signerServiceName, validateSignerEnclaveArgs } from "../signerEnclave";

/** Validation stand-in for the image the fleet builds (a syntactically pinned reference). */
const PLACEHOLDER_IMAGE = `validation.invalid/fleet/services@sha256:${"0".repeat(64)}`;

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
    /** The fleet's dashboard and alert policies (FleetMonitoring, in the control-plane project). Default: on, notifying no channel. */
    monitoring?: FleetMonitoringOptions;
}

export interface FleetMonitoringOptions {
    /** Create the dashboard, the alert policies and the metrics scope. Default true. */
    enabled?: boolean;
    /** Notification channel ids (`projects/<p>/notificationChannels/<n>`) every alert notifies. Default none (console only). */
    notificationChannels?: pulumi.Input<string>[];
    /** Alert thresholds; each field defaults to FleetMonitoring's. */
    thresholds?: Partial<AlertThresholds>;
}

/** Child component names, derived from the fleet name. */
export function fleetChildNames(name: string, poolNames: string[]): { pools: Record<string, string>; controlPlane: string; signer: string; images: string; monitoring: string } {
    return {
        pools: Object.fromEntries(poolNames.map((p) => [p, `${name}-pool-${p}`])),
        controlPlane: `${name}-control-plane`,
        signer: `${name}-signer`,
        images: `${name}-images`,
        monitoring: `${name}-monitoring`,
    };
}

/** The SLSA builder.id of a fleet: the generator writes it, the signer enforces it. Default `<github.configUrl>/hardened-build-fleet/<fleet>`. */
export function fleetBuilderId(name: string, config: FleetConfig): string {
    return config.signer.builderId ?? `${config.github.configUrl.replace(/\/+$/, "")}/hardened-build-fleet/${name}`;
}

/** The broker URL the runners call: the configured override, or the control-plane broker's deterministic Cloud Run URL. */
function brokerUrlFor(name: string, config: FleetConfig, opts?: pulumi.InvokeOutputOptions): pulumi.Input<string> {
    return config.registrationBrokerUrl
        ?? deterministicRunUrl(config.controlPlane.project, config.region, controlPlaneServiceNames(fleetChildNames(name, []).controlPlane).broker, opts);
}

function poolArgs(config: FleetConfig, args: HardenedBuildFleetArgs, brokerUrl: pulumi.Input<string>): RunnerPoolArgs[] {
    return config.pools.map((pool) => ({
        pool,
        project: config.workerProject,
        region: config.region,
        github: config.github,
        registrationBrokerUrl: pool.backend === "gce" ? brokerUrl : undefined,
        gce: args.gce,
        gke: args.gke,
    }));
}

interface ControlPlaneInputs {
    runnerMembers: pulumi.Input<string>[];
    /** The runner SAs' emails as literals (fixed by account id and project). */
    runnerEmails: string[];
    migs: (pulumi.Input<string> | undefined)[];
    image: pulumi.Input<string>;
    signerUrl: pulumi.Input<string>;
    generatorVpc?: ControlPlaneArgs["generatorVpc"];
}

function controlPlaneArgs(name: string, config: FleetConfig, inputs: ControlPlaneInputs): ControlPlaneArgs {
    const cp = config.controlPlane;
    return {
        project: cp.project,
        workerProject: config.workerProject,
        region: config.region,
        pools: config.pools.map((p, i) => ({
            name: p.name,
            backend: p.backend,
            runnerMember: inputs.runnerMembers[i],
            serviceAccountEmail: inputs.runnerEmails[i],
            instanceGroupManager: inputs.migs[i],
            image: p.image,
            maxRunDurationSeconds: p.maxBuildDurationSeconds,
            labels: p.labels ?? runnerLabels(p.name, [], p.machineType),
            ...(p.runnerGroupId !== undefined ? { runnerGroupId: p.runnerGroupId } : {}),
        })),
        image: inputs.image,
        signerUrl: inputs.signerUrl,
        builderId: fleetBuilderId(name, config),
        githubConfigUrl: config.github.configUrl,
        githubApp: cp.githubApp,
        webhookSecret: cp.webhookSecret,
        runnerGroupId: cp.runnerGroupId,
        brokerIngress: cp.brokerIngress,
        brokerAudience: config.registrationBrokerUrl,
        generatorVpc: inputs.generatorVpc,
        ...(cp.project !== config.signerProject ? { generatorNetwork: { cidr: cp.cidr } } : {}),
        intakeRetentionDays: cp.intakeRetentionDays,
        allowWorkerProjectForDevelopment: config.allowSharedSignerProject,
    };
}

function signerArgs(name: string, config: FleetConfig, image: pulumi.Input<string>, generatorMember: pulumi.Input<string>): SignerEnclaveArgs {
    const signer = config.signer;
    const cpName = fleetChildNames(name, []).controlPlane;
    return {
        // The caller identity the signer checks itself: the generator's email, fixed by its account id and project (a
        // literal, so the signer service's definition depends on no control-plane resource).
        allowedCallers: [generatorEmailFor(cpName, config.controlPlane.project)],
        project: config.signerProject,
        region: config.region,
        cidr: signer.cidr,
        serviceImage: image,
        // I9/I10: only the provenance generator may invoke the signer; runners are never named.
        invokers: [generatorMember],
        builderId: fleetBuilderId(name, config),
        keyVersions: signer.keyVersions,
        verifiers: signer.verifiers,
        keyAlgorithm: signer.keyAlgorithm,
        protectionLevel: signer.protectionLevel,
        allowSoftwareKeyForDevelopment: signer.allowSoftwareKeyForDevelopment,
        provenanceRetentionDays: signer.provenanceRetentionDays,
        lockProvenanceRetention: signer.lockProvenanceRetention,
        auditLogRetentionDays: signer.auditLogRetentionDays,
        lockAuditLog: signer.lockAuditLog,
        // Without a TSA the signer runs but signs nothing (503): every bundle must carry a timestamp.
        ...(signer.timestampAuthority !== undefined ? { timestampAuthority: signer.timestampAuthority } : {}),
        ...(signer.transparencyLog !== undefined ? { transparencyLog: signer.transparencyLog } : {}),
        ...(signer.privateTransparencyLog !== undefined ? { privateTransparencyLog: signer.privateTransparencyLog } : {}),
    };
}

function monitoringArgs(config: FleetConfig, args: HardenedBuildFleetArgs, controlPlane: { uploads: pulumi.Input<string>; deadLetters: pulumi.Input<string>; migs: (pulumi.Input<string> | undefined)[] }): FleetMonitoringArgs {
    return {
        project: config.controlPlane.project,
        monitoredProjects: [config.workerProject, config.signerProject],
        notificationChannels: args.monitoring?.notificationChannels,
        pools: config.pools.map((p, i) => ({ name: p.name, ...(controlPlane.migs[i] !== undefined ? { instanceGroupManager: controlPlane.migs[i] } : {}) })),
        uploadsSubscription: controlPlane.uploads,
        deadLetterSubscription: controlPlane.deadLetters,
        thresholds: args.monitoring?.thresholds,
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
    poolArgs(config, args, config.registrationBrokerUrl ?? "https://broker.validation.invalid").forEach((a) => {
        const child = names.pools[a.pool.name];
        problems.push(...validateRunnerPoolArgs(child, a).map((p) => `RunnerPool "${child}": ${p}`));
    });
    const cp = controlPlaneArgs(name, config, {
        runnerMembers: config.pools.map((p) => placeholder(p.name)),
        runnerEmails: config.pools.map((p) => `${p.name}@validation.iam.gserviceaccount.com`),
        migs: config.pools.map((p) => (p.backend === "gce" ? `${p.name}-mig` : undefined)),
        image: config.controlPlane.serviceImage ?? PLACEHOLDER_IMAGE,
        signerUrl: "https://signer.validation.invalid",
    });
    problems.push(...validateControlPlaneArgs(names.controlPlane, cp).map((p) => `ControlPlane "${names.controlPlane}": ${p}`));
    const signer = signerArgs(name, config, config.signer.serviceImage ?? PLACEHOLDER_IMAGE, placeholder("control-plane"));
    problems.push(...validateSignerEnclaveArgs(names.signer, signer).map((p) => `SignerEnclave "${names.signer}": ${p}`));
    for (const g of fleetGuardrails(name, config)) {
        problems.push(...validateOrgGuardrailsArgs(g.name, g.args).map((p) => `OrgGuardrails "${g.name}": ${p}`));
    }
    if (args.monitoring?.enabled ?? true) {
        const monitoring = monitoringArgs(config, args, { uploads: "uploads", deadLetters: "dead-letters", migs: config.pools.map((p) => (p.backend === "gce" ? `${p.name}-mig` : undefined)) });
        problems.push(...validateFleetMonitoringArgs(names.monitoring, monitoring).map((p) => `FleetMonitoring "${names.monitoring}": ${p}`));
    }
    const perimeter = fleetPerimeterArgs(config, { broker: placeholder("broker"), webhook: placeholder("webhook") }, config.pools.map((p) => placeholder(p.name)));
    if (perimeter !== undefined) {
        problems.push(...validateFleetPerimeterArgs(`${name}-perimeter`, perimeter).map((p) => `FleetPerimeter "${name}-perimeter": ${p}`));
    }
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
    /** The service image built from this package (absent when both images are configured). */
    readonly serviceImage?: ServiceImage;
    /** Organization-policy guardrails, one per fleet project (none when guardrails.enabled is false). */
    readonly guardrails: OrgGuardrails[];
    /** The VPC Service Controls perimeters (only with a `perimeter` config block). */
    readonly perimeter?: FleetPerimeter;
    /** The Google APIs of the fleet's projects (absent with `enableApis: false`). */
    readonly apis?: ProjectApis;
    /** The dashboard and alert policies (absent with `monitoring.enabled: false`). */
    readonly monitoring?: FleetMonitoring;

    readonly poolNames: string[];
    /** Intake bucket name per pool. */
    readonly intakeBuckets: Record<string, pulumi.Output<string>>;
    readonly signerPublicKeyPem: pulumi.Output<string>;
    readonly signerKeyVersionName: pulumi.Output<string>;
    readonly signerServiceUrl: pulumi.Output<string>;
    readonly provenanceBucketName: pulumi.Output<string>;
    /** The provenance generator's identity: the signer's only invoker. */
    readonly generatorServiceAccountEmail: pulumi.Output<string>;
    /** @deprecated Use `generatorServiceAccountEmail`. */
    get controlPlaneServiceAccountEmail(): pulumi.Output<string> { return this.generatorServiceAccountEmail; }
    /** Where GitHub delivers `workflow_job` events (set it on the GitHub App's webhook). */
    readonly webhookUrl: pulumi.Output<string>;
    readonly brokerUrl: pulumi.Output<string>;
    /** Every published signer key version with its validity window and PEM (what verifiers pin). */
    readonly signerKeyring: SignerEnclave["keyring"];

    constructor(name: string, args: HardenedBuildFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before super(): an invalid config registers nothing, not even this component.
        const { config, warnings } = validate(name, args);
        super("hardened-build-fleet:index:HardenedBuildFleet", name, {}, opts);
        for (const warning of warnings) {
            pulumi.log.warn(warning, this);
        }
        this.config = config;

        const names = fleetChildNames(name, config.pools.map((p) => p.name));
        // First the APIs: on a fresh project every other call fails with SERVICE_DISABLED until they are on.
        // Each zone's resources depend on the APIs of their own project through a transformation.
        this.apis = config.enableApis ? new ProjectApis(`${name}-apis`, { projects: fleetApis(config) }, { parent: this }) : undefined;
        const apis = this.apis;
        const inProject = (project: string, ...more: pulumi.ResourceTransformation[]): pulumi.ComponentResourceOptions => ({
            parent: this, transformations: [...(apis !== undefined ? [apis.transformation(project)] : []), ...more],
        });
        this.pools = {};
        for (const a of poolArgs(config, args, brokerUrlFor(name, config, { parent: this }))) {
            this.pools[a.pool.name] = new RunnerPool(names.pools[a.pool.name], a, inProject(config.workerProject));
        }

        // One image for every service, from this package's source, pinned by digest; unless both are given.
        const cpProject = config.controlPlane.project;
        if (config.signer.serviceImage === undefined || config.controlPlane.serviceImage === undefined) {
            // The repository lives in the control-plane project; a signer in another project pulls through its
            // Cloud Run service agent, which is the only reader granted.
            const readers = cpProject === config.signerProject ? [] : [
                gcp.organizations.getProjectOutput({ projectId: config.signerProject }, { parent: this }).number
                    .apply((n) => `serviceAccount:service-${n}@serverless-robot-prod.iam.gserviceaccount.com`),
            ];
            // The reader is the signer project's Cloud Run service agent, which exists once that project's Run API is on.
            const signerRun = apis?.service(config.signerProject, "run.googleapis.com");
            this.serviceImage = new ServiceImage(names.images, { project: cpProject, region: config.region, readers }, inProject(
                cpProject, orderAfter("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", signerRun !== undefined ? [signerRun] : []),
            ));
        }
        const builtImage = this.serviceImage?.imageRef as pulumi.Input<string>;

        // I9/I10: the generator is the signer's only invoker; it exists once the control plane does.
        const [generatorMember, resolveGeneratorMember] = pulumi.deferredOutput<string>();
        // The signer's first revision pulls its image as the Cloud Run service agent: after the reader grant.
        this.signer = new SignerEnclave(names.signer, signerArgs(name, config, config.signer.serviceImage ?? builtImage, generatorMember), inProject(
            config.signerProject, orderAfter("gcp:cloudrunv2/service:Service", this.serviceImage?.readerGrants ?? []),
        ));
        this.controlPlane = new ControlPlane(names.controlPlane, controlPlaneArgs(name, config, {
            runnerMembers: config.pools.map((p) => this.pools[p.name].serviceAccountMember),
            runnerEmails: config.pools.map((p) => `${serviceAccountIdFor(names.pools[p.name], "rn")}@${config.workerProject}.iam.gserviceaccount.com`),
            migs: config.pools.map((p) => this.pools[p.name].gce?.instanceGroupManager.name),
            image: config.controlPlane.serviceImage ?? builtImage,
            signerUrl: deterministicRunUrl(config.signerProject, config.region, signerServiceName(names.signer), { parent: this }),
            // Same project: the generator's calls leave through the signer's network, so they are internal. A project of its
            // own: through the control plane's own network, internal once the enclave perimeter holding both is enforced.
            generatorVpc: cpProject === config.signerProject ? { network: this.signer.network.networkId, subnetwork: this.signer.network.subnetId } : undefined,
        }), inProject(cpProject));
        resolveGeneratorMember(this.controlPlane.generatorMember);
        this.guardrails = fleetGuardrails(name, config).map((g) => new OrgGuardrails(g.name, g.args, inProject(g.args.project as string)));
        const cpMember = (role: "broker" | "webhook") => pulumi.interpolate`serviceAccount:${this.controlPlane.serviceAccounts[role].email}`;
        const perimeter = fleetPerimeterArgs(config, { broker: cpMember("broker"), webhook: cpMember("webhook") }, config.pools.map((p) => this.pools[p.name].serviceAccountMember));
        this.perimeter = perimeter && new FleetPerimeter(`${name}-perimeter`, perimeter, { parent: this });
        if (args.monitoring?.enabled ?? true) {
            this.monitoring = new FleetMonitoring(names.monitoring, monitoringArgs(config, args, {
                uploads: this.controlPlane.uploadsSubscription.name,
                deadLetters: this.controlPlane.uploadsDeadLetter.subscription.name,
                migs: config.pools.map((p) => this.pools[p.name].gce?.instanceGroupManager.name),
            }), inProject(cpProject));
        }

        this.poolNames = config.pools.map((p) => p.name);
        this.intakeBuckets = this.controlPlane.intakeBuckets;
        this.signerPublicKeyPem = this.signer.publicKeyPem;
        this.signerKeyVersionName = this.signer.keyVersionName;
        this.signerServiceUrl = this.signer.serviceUrl;
        this.provenanceBucketName = this.signer.provenanceBucketName;
        this.generatorServiceAccountEmail = this.controlPlane.generatorServiceAccountEmail;
        this.webhookUrl = this.controlPlane.webhookUrl;
        this.brokerUrl = this.controlPlane.brokerUrl;
        this.signerKeyring = this.signer.keyring;

        this.registerOutputs({
            poolNames: this.poolNames,
            intakeBuckets: this.intakeBuckets,
            signerPublicKeyPem: this.signerPublicKeyPem,
            signerKeyVersionName: this.signerKeyVersionName,
            signerServiceUrl: this.signerServiceUrl,
            provenanceBucketName: this.provenanceBucketName,
            generatorServiceAccountEmail: this.generatorServiceAccountEmail,
            webhookUrl: this.webhookUrl,
            brokerUrl: this.brokerUrl,
            signerKeyring: this.signerKeyring,
        });
    }
}
