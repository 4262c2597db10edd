/**
 * `FleetPerimeter`: two VPC Service Controls perimeters in an existing access policy (I4, I10).
 *
 * - **enclave**: the signer project (and the control-plane project when it has its own) with Cloud KMS,
 *   Cloud Run, Cloud Storage, Secret Manager, logging and the token services restricted. Stolen
 *   credentials of the signer (or of anyone with a grant there) no longer work from outside it. Its
 *   networks reach only restricted services. Ingress: only the control-plane identities, only to the
 *   services they call. Egress: none, except (when the control plane has its own project) one rule
 *   for the control-plane identities to read the intake buckets in the worker project.
 * - **workers**: the worker project with its storage, images, logging and monitoring restricted and
 *   `vpcAccessibleServices` limited to them, so runner traffic through the restricted VIP reaches only
 *   the fleet's own intake buckets, registries and logs; one egress rule lets the runner identities pull
 *   (read only) from the declared image projects.
 *
 * Membership lives in one place only: the perimeter's own `status.resources` (enforced) or
 * `spec.resources` (dry run). This component never uses `ServicePerimeterResource`, which rewrites the
 * same list and would fight the inline one on every update. Members are `projects/<number>` (the API
 * rejects ids), resolved with organizations.getProject unless given.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { throwIfProblems } from "./config/issues";
import { isGcpName, isValidProjectId } from "./config/names";
import { isProjectNumber, normaliseAccessPolicy, PERIMETER_MODES, PerimeterMode } from "./config/perimeter";

type PerimeterConfig = gcp.types.input.accesscontextmanager.ServicePerimeterStatus;
type IngressPolicy = gcp.types.input.accesscontextmanager.ServicePerimeterStatusIngressPolicy;
type EgressPolicy = gcp.types.input.accesscontextmanager.ServicePerimeterStatusEgressPolicy;

/** Services restricted around the signer and control plane. */
export const ENCLAVE_RESTRICTED_SERVICES = [
    "cloudkms.googleapis.com",
    "run.googleapis.com",
    "storage.googleapis.com",
    "secretmanager.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "artifactregistry.googleapis.com",
    "iamcredentials.googleapis.com",
    "sts.googleapis.com",
] as const;

/**
 * The only Google APIs runner networks may call through the restricted VIP: intake uploads, images,
 * logs and metrics, and the token exchange GKE Workload Identity needs. Each is also restricted, so
 * it answers only for resources inside the worker perimeter.
 */
export const WORKER_VPC_ACCESSIBLE_SERVICES = [
    "storage.googleapis.com",
    "artifactregistry.googleapis.com",
    "containerregistry.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "iamcredentials.googleapis.com",
    "sts.googleapis.com",
] as const;

/** Services restricted around the workers: what runners use, plus what they must never reach elsewhere. */
export const WORKER_RESTRICTED_SERVICES = [
    ...WORKER_VPC_ACCESSIBLE_SERVICES,
    "cloudkms.googleapis.com",
    "secretmanager.googleapis.com",
    "run.googleapis.com",
] as const;

/** Read-only permissions the control plane needs on the intake buckets. */
const INTAKE_READ_PERMISSIONS = ["storage.objects.get", "storage.objects.list"];
/** Read-only permission for pulling images from an image project. */
const IMAGE_PULL_PERMISSION = "artifactregistry.repositories.downloadArtifacts";

/** Longest component name: perimeter short names (`<name>_workers`) are limited to 50 characters. */
export const MAX_PERIMETER_NAME_LENGTH = 40;

export interface FleetPerimeterArgs {
    /** Existing access policy, `accessPolicies/<number>` or the number. Required (creating one is an org-admin act). */
    accessPolicy: string;
    /** "dryRun" (explicit dry-run spec, nothing blocked, violations logged) or "enforced". Default "dryRun". */
    mode?: PerimeterMode;
    /** Signer project id: in the enclave perimeter. Required. */
    signerProject: string;
    /** Worker project id: in the worker perimeter. Required; must differ from signerProject. */
    workerProject: string;
    /**
     * Control-plane project id. Default: workerProject. When it is its own project it joins the enclave
     * perimeter; otherwise the control plane calls the signer through the enclave's one ingress rule.
     */
    controlPlaneProject?: string;
    /** Control-plane identities (`serviceAccount:...`): the only ingress principals. Required, non-empty. */
    controlPlaneMembers: pulumi.Input<string>[];
    /** Runner identities allowed to pull from imageProjects. Default: none (no egress rule). */
    runnerMembers?: pulumi.Input<string>[];
    /** Project ids holding runner images (Artifact Registry) the workers may pull from. Default: none. */
    imageProjects?: string[];
    /** Known project numbers by id; others are resolved with organizations.getProject. Default: none. */
    projectNumbers?: Record<string, string>;
    /** Services restricted in the enclave perimeter. Default ENCLAVE_RESTRICTED_SERVICES (must include Cloud KMS). */
    enclaveRestrictedServices?: string[];
    /** Services restricted in the worker perimeter. Default WORKER_RESTRICTED_SERVICES. */
    workerRestrictedServices?: string[];
    /** APIs runner networks may call (each must be restricted too). Default WORKER_VPC_ACCESSIBLE_SERVICES. */
    workerVpcAccessibleServices?: string[];
}

/** `fleet-perimeter` -> `fleet_perimeter` (perimeter short names allow letters, digits and '_'). */
export function perimeterShortName(name: string, zone: "enclave" | "workers"): string {
    return `${name.replace(/-/g, "_")}_${zone}`;
}

const SERVICE = /^[a-z][-a-z0-9]*(\.[a-z][-a-z0-9]*)*\.googleapis\.com$/;

/** Every problem with `args` for a `FleetPerimeter` named `name` (empty when valid). */
export function validateFleetPerimeterArgs(name: string, args: FleetPerimeterArgs): string[] {
    const problems: string[] = [];
    if (!isGcpName(name, MAX_PERIMETER_NAME_LENGTH)) {
        problems.push(`name: ${JSON.stringify(name)} must be lower-case letters, digits and hyphens, at most ${MAX_PERIMETER_NAME_LENGTH} characters (perimeter names derive from it).`);
    }
    if (args === undefined || args === null) {
        return [...problems, "args: missing; pass at least { accessPolicy, signerProject, workerProject, controlPlaneMembers }."];
    }
    if (typeof args.accessPolicy !== "string" || normaliseAccessPolicy(args.accessPolicy) === undefined) {
        problems.push(`accessPolicy: ${JSON.stringify(args.accessPolicy)} is not an access policy; pass the existing one, e.g. "accessPolicies/123456789012".`);
    }
    if (args.mode !== undefined && !(PERIMETER_MODES as readonly string[]).includes(args.mode)) {
        problems.push(`mode: ${JSON.stringify(args.mode)} must be "dryRun" or "enforced".`);
    }
    for (const field of ["signerProject", "workerProject", "controlPlaneProject"] as const) {
        const v = args[field];
        if ((v !== undefined || field !== "controlPlaneProject") && (typeof v !== "string" || !isValidProjectId(v))) {
            problems.push(`${field}: ${JSON.stringify(v)} is not a project id; pass the id (not the number), e.g. "acme-build-signer".`);
        }
    }
    if (args.signerProject === args.workerProject) {
        problems.push(`signerProject: "${args.signerProject}" equals workerProject; a project is in at most one regular perimeter, so the signer needs its own project.`);
    }
    if (!Array.isArray(args.controlPlaneMembers) || args.controlPlaneMembers.length === 0) {
        problems.push("controlPlaneMembers: empty; pass the control-plane identities, e.g. \"serviceAccount:cp@proj.iam.gserviceaccount.com\" (the only ingress principals).");
    }
    (args.imageProjects ?? []).forEach((p, i) => {
        if (!isValidProjectId(p)) {
            problems.push(`imageProjects[${i}]: ${JSON.stringify(p)} is not a project id.`);
        }
    });
    for (const [id, n] of Object.entries(args.projectNumbers ?? {})) {
        if (!isProjectNumber(n)) {
            problems.push(`projectNumbers.${id}: ${JSON.stringify(n)} is not a project number; write it as a string of digits, e.g. "123456789012".`);
        }
    }
    const enclave = args.enclaveRestrictedServices ?? [...ENCLAVE_RESTRICTED_SERVICES];
    const worker = args.workerRestrictedServices ?? [...WORKER_RESTRICTED_SERVICES];
    const vpc = args.workerVpcAccessibleServices ?? [...WORKER_VPC_ACCESSIBLE_SERVICES];
    for (const [field, list] of [["enclaveRestrictedServices", enclave], ["workerRestrictedServices", worker], ["workerVpcAccessibleServices", vpc]] as const) {
        list.forEach((s, i) => {
            if (typeof s !== "string" || !SERVICE.test(s)) {
                problems.push(`${field}[${i}]: ${JSON.stringify(s)} is not a service name such as "storage.googleapis.com".`);
            }
        });
    }
    if (!enclave.includes("cloudkms.googleapis.com")) {
        problems.push("enclaveRestrictedServices: does not include \"cloudkms.googleapis.com\"; the enclave perimeter exists to protect the signing key (I10).");
    }
    for (const s of vpc.filter((x) => !worker.includes(x))) {
        problems.push(`workerVpcAccessibleServices: "${s}" is not in workerRestrictedServices; an unrestricted API would let runners reach any project's resources through it. Restrict it too, or drop it.`);
    }
    return problems;
}

export class FleetPerimeter extends pulumi.ComponentResource {
    readonly enclave: gcp.accesscontextmanager.ServicePerimeter;
    readonly workers: gcp.accesscontextmanager.ServicePerimeter;
    readonly mode: PerimeterMode;
    /** Full perimeter names (`accessPolicies/<n>/servicePerimeters/<short>`). */
    readonly enclaveName: pulumi.Output<string>;
    readonly workersName: pulumi.Output<string>;

    constructor(name: string, args: FleetPerimeterArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before super(): an invalid perimeter registers nothing.
        throwIfProblems("FleetPerimeter", name, validateFleetPerimeterArgs(name, args));
        super("hardened-build-fleet:index:FleetPerimeter", name, {}, opts);

        const policy = normaliseAccessPolicy(args.accessPolicy)!;
        this.mode = args.mode ?? "dryRun";
        const cpProject = args.controlPlaneProject ?? args.workerProject;
        const cpSeparate = cpProject !== args.workerProject;
        if (this.mode === "enforced" && !cpSeparate) {
            pulumi.log.warn(`FleetPerimeter "${name}": enforced while the control plane shares the worker project. The signer's internal-only ` +
                "ingress admits callers inside the enclave perimeter, which the worker project must not join: run the control plane in a " +
                "project of its own (controlPlaneProject) so it can reach the signer.", this);
        }
        const numbers = new Map<string, pulumi.Output<string>>();
        const member = (project: string): pulumi.Output<string> => {
            let n = numbers.get(project);
            if (n === undefined) {
                const known = args.projectNumbers?.[project];
                // Perimeters take projects/<number>; an id is rejected by the API.
                n = known !== undefined
                    ? pulumi.output(`projects/${known}`)
                    : gcp.organizations.getProjectOutput({ projectId: project }, { parent: this }).apply((p) => `projects/${p.number}`);
                numbers.set(project, n);
            }
            return n;
        };
        const signer = member(args.signerProject);
        const worker = member(args.workerProject);
        const cpMembers = [...args.controlPlaneMembers];

        // Enclave: ingress only for the control plane, only to what it calls; egress only to read intake.
        const enclaveIngress: IngressPolicy[] = cpSeparate ? [] : [{
            title: "control plane invokes the signer",
            ingressFrom: { identities: cpMembers, sources: [{ resource: worker }] },
            ingressTo: { resources: [signer], operations: [{ serviceName: "run.googleapis.com", methodSelectors: [{ method: "*" }] }] },
        }];
        const intakeRead = { serviceName: "storage.googleapis.com", methodSelectors: INTAKE_READ_PERMISSIONS.map((permission) => ({ permission })) };
        const enclaveEgress: EgressPolicy[] = cpSeparate ? [{
            title: "control plane reads the intake buckets",
            egressFrom: { identities: cpMembers },
            egressTo: { resources: [worker], operations: [intakeRead] },
        }] : [];
        const enclaveConfig: PerimeterConfig = {
            resources: cpSeparate && cpProject !== args.signerProject ? [signer, member(cpProject)] : [signer],
            restrictedServices: args.enclaveRestrictedServices ?? [...ENCLAVE_RESTRICTED_SERVICES],
            // The enclave's networks reach protected services only.
            vpcAccessibleServices: { enableRestriction: true, allowedServices: ["RESTRICTED-SERVICES"] },
            ingressPolicies: enclaveIngress,
            egressPolicies: enclaveEgress,
        };

        // Workers: runner networks reach only the worker project's storage, images and logs.
        const images = (args.imageProjects ?? []).filter((p) => p !== args.workerProject);
        const runners = [...(args.runnerMembers ?? [])];
        const workerEgress: EgressPolicy[] = images.length > 0 && runners.length > 0 ? [{
            title: "runners pull images",
            egressFrom: { identities: runners },
            egressTo: {
                resources: images.map(member),
                operations: [{ serviceName: "artifactregistry.googleapis.com", methodSelectors: [{ permission: IMAGE_PULL_PERMISSION }] }],
            },
        }] : [];
        const workerIngress: IngressPolicy[] = cpSeparate ? [{
            title: "control plane reads the intake buckets",
            ingressFrom: { identities: cpMembers, sources: [{ resource: member(cpProject) }] },
            ingressTo: { resources: [worker], operations: [intakeRead] },
        }] : [];
        const workerConfig: PerimeterConfig = {
            resources: [worker],
            restrictedServices: args.workerRestrictedServices ?? [...WORKER_RESTRICTED_SERVICES],
            vpcAccessibleServices: { enableRestriction: true, allowedServices: args.workerVpcAccessibleServices ?? [...WORKER_VPC_ACCESSIBLE_SERVICES] },
            ingressPolicies: workerIngress,
            egressPolicies: workerEgress,
        };

        const perimeter = (zone: "enclave" | "workers", config: PerimeterConfig, description: string) =>
            new gcp.accesscontextmanager.ServicePerimeter(`${name}-${zone}`, {
                parent: policy,
                name: `${policy}/servicePerimeters/${perimeterShortName(name, zone)}`,
                title: `${name} ${zone}`, // unique within the access policy
                description,
                perimeterType: "PERIMETER_TYPE_REGULAR",
                // Dry run: only the explicit spec is set, nothing is blocked, violations are logged.
                // Enforced: the same config as status, and no dry-run spec left behind.
                ...(this.mode === "dryRun"
                    ? { useExplicitDryRunSpec: true, spec: config }
                    : { useExplicitDryRunSpec: false, status: config }),
            }, { parent: this });
        this.enclave = perimeter("enclave", enclaveConfig, "hardened-build-fleet signer enclave: the provenance key and the control plane (I10).");
        this.workers = perimeter("workers", workerConfig, "hardened-build-fleet workers: runner traffic reaches only the fleet's own services (I4).");
        this.enclaveName = this.enclave.name;
        this.workersName = this.workers.name;
        this.registerOutputs({ enclaveName: this.enclaveName, workersName: this.workersName, mode: this.mode });
    }
}
