/**
 * `FleetPerimeter`: two VPC Service Controls perimeters in an existing access policy (I4, I10, I11).
 *
 * - **enclave**: the signer project and the control-plane project (one member when they are the same),
 *   with Cloud KMS, Cloud Storage, Secret Manager, Compute, logging, monitoring and the token services
 *   restricted; Cloud Run too when the control plane has a project of its own. Stolen credentials of the
 *   signer or the control plane no longer work from outside it. Its networks reach only restricted services.
 * - **workers**: the worker project with its storage, images, compute, logging and monitoring restricted and
 *   `vpcAccessibleServices` limited to what runners call, so runner traffic through the restricted VIP reaches
 *   only the worker project's own resources, plus the crossings below.
 *
 * What crosses the boundary, and nothing else:
 * - runner uploads: a job POSTs its upload with a policy the broker signed, so the request runs as the broker
 *   SA: storage object creation only, as the broker only, from the worker project into the control-plane
 *   project only (worker egress + enclave ingress);
 * - the control plane's calls into the worker project: the broker lists a MIG's instances (membership), the
 *   webhook receiver writes the demand metric and deletes finished runner VMs (enclave egress + worker ingress),
 *   each identity to exactly its methods;
 * - Cloud Run invocations: run.app URLs are governed by VPC-SC when run.googleapis.com is restricted, and that
 *   check ignores the caller's IAM identity (identity-based rules do not match invocations). So the runners'
 *   broker calls leave the workers by an ANY_IDENTITY egress rule to the control-plane project's Cloud Run only
 *   (IAM on the broker and the broker itself still check the runner identity). With a control-plane project of
 *   its own, GitHub's deliveries to the public webhook receiver enter by an ANY_IDENTITY ingress rule from any
 *   source to that project's Cloud Run only, never to the signer project's. When the signer project hosts the
 *   control plane, such a rule would open the signer's run.app to the internet at the perimeter (its internal
 *   ingress admits what the perimeter admits), so Cloud Run is left unrestricted in the enclave instead: the
 *   signer's internal ingress then admits only its own project's network, and the public receiver works.
 * - image pulls: runner identities read (download only) from the declared image projects.
 *
 * Membership lives in one place only: the perimeter's own `status.resources` (enforced) or
 * `spec.resources` (dry run). This component never uses `ServicePerimeterResource`, which rewrites the
 * same list and would fight the inline one on every update. Members are `projects/<number>` (the API
 * rejects ids), resolved with organizations.getProject unless given.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { throwIfProblems } from "../config/issues";
import { isGcpName, isValidProjectId } from "../config/names";
import { isProjectNumber, normaliseAccessPolicy, PERIMETER_MODES, PerimeterMode } from "../config/perimeter";

type PerimeterConfig = gcp.types.input.accesscontextmanager.ServicePerimeterStatus;
type IngressPolicy = gcp.types.input.accesscontextmanager.ServicePerimeterStatusIngressPolicy;
type EgressPolicy = gcp.types.input.accesscontextmanager.ServicePerimeterStatusEgressPolicy;

const RUN = "run.googleapis.com";

/** Services restricted around the signer and control plane (Cloud Run only with a control-plane project of its own). */
export const ENCLAVE_RESTRICTED_SERVICES = [
    "cloudkms.googleapis.com",
    RUN,
    "storage.googleapis.com",
    "secretmanager.googleapis.com",
    "compute.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "artifactregistry.googleapis.com",
    "iamcredentials.googleapis.com",
    "sts.googleapis.com",
] as const;

/**
 * The only Google APIs runner networks may call through the restricted VIP: uploads, images, logs and
 * metrics, and the token exchange GKE Workload Identity needs. Each is also restricted, so it answers only
 * for resources inside the worker perimeter (and the crossings its rules allow). Cloud Run (the broker's
 * run.app) is added when runners invoke the broker.
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
    RUN,
    "compute.googleapis.com",
] as const;

/** A service and the method selectors a rule admits. */
type Operation = { serviceName: string; methodSelectors: ({ method: string } | { permission: string })[] };
const op = (serviceName: string, ...methods: string[]): Operation => ({ serviceName, methodSelectors: methods.map((method) => ({ method })) });

/** The one operation a runner upload performs (as the broker SA, whose policy it carries): create an object. */
export const UPLOAD_OPERATION = op("storage.googleapis.com", "google.storage.objects.create");
/** The broker's membership check: list a regional MIG's instances. */
export const MEMBERSHIP_OPERATION = op("compute.googleapis.com", "RegionInstanceGroupManagersService.ListManagedInstances");
/** The webhook receiver's calls into the worker project: the demand metric and scale-in. */
export const WEBHOOK_OPERATIONS = [
    op("monitoring.googleapis.com", "google.monitoring.v3.MetricService.CreateTimeSeries"),
    op("compute.googleapis.com", "RegionInstanceGroupManagersService.DeleteInstances"),
];
/** Cloud Run invocations (run.app): VPC-SC cannot tell them apart by method or identity. */
export const RUN_INVOKE_OPERATION = op(RUN, "*");
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
    /** Worker project id: in the worker perimeter. Required; must differ from the signer and control-plane projects. */
    workerProject: string;
    /**
     * Control-plane project id: in the enclave perimeter (one member with the signer's when equal). Default:
     * signerProject. A project of its own keeps Cloud Run restricted around the signer (see the file comment).
     */
    controlPlaneProject?: string;
    /** The registration broker's identity (`serviceAccount:...`): runner uploads run as it; it reads MIG membership. Required. */
    brokerMember: pulumi.Input<string>;
    /** The webhook receiver's identity (`serviceAccount:...`): writes the demand metric and scales in. Required. */
    webhookMember: pulumi.Input<string>;
    /** Runners invoke the broker's run.app URL (GCE pools). Default true; false (GKE-only fleets) drops that egress rule. */
    runnersInvokeBroker?: boolean;
    /** Runner identities allowed to pull from imageProjects. Default: none (no image rule). */
    runnerMembers?: pulumi.Input<string>[];
    /** Project ids holding runner images (Artifact Registry) the workers may pull from. Default: none. */
    imageProjects?: string[];
    /** Known project numbers by id; others are resolved with organizations.getProject. Default: none. */
    projectNumbers?: Record<string, string>;
    /**
     * Services restricted in the enclave perimeter. Default ENCLAVE_RESTRICTED_SERVICES, without Cloud Run when the
     * signer project hosts the control plane. Must include Cloud KMS; may include Cloud Run only with a control-plane project of its own.
     */
    enclaveRestrictedServices?: string[];
    /** Services restricted in the worker perimeter. Default WORKER_RESTRICTED_SERVICES. */
    workerRestrictedServices?: string[];
    /** APIs runner networks may call (each must be restricted too). Default WORKER_VPC_ACCESSIBLE_SERVICES (+ Cloud Run when runners invoke the broker). */
    workerVpcAccessibleServices?: string[];
}

/** `fleet-perimeter` -> `fleet_perimeter` (perimeter short names allow letters, digits and '_'). */
export function perimeterShortName(name: string, zone: "enclave" | "workers"): string {
    return `${name.replace(/-/g, "_")}_${zone}`;
}

const SERVICE = /^[a-z][-a-z0-9]*(\.[a-z][-a-z0-9]*)*\.googleapis\.com$/;

/** The effective service lists for `args`. */
function serviceLists(args: FleetPerimeterArgs): { enclave: string[]; worker: string[]; vpc: string[] } {
    const shared = (args.controlPlaneProject ?? args.signerProject) === args.signerProject;
    return {
        enclave: args.enclaveRestrictedServices ?? ENCLAVE_RESTRICTED_SERVICES.filter((s) => !(shared && s === RUN)),
        worker: args.workerRestrictedServices ?? [...WORKER_RESTRICTED_SERVICES],
        vpc: args.workerVpcAccessibleServices ?? [...WORKER_VPC_ACCESSIBLE_SERVICES, ...(args.runnersInvokeBroker ?? true ? [RUN] : [])],
    };
}

/** Every problem with `args` for a `FleetPerimeter` named `name` (empty when valid). */
export function validateFleetPerimeterArgs(name: string, args: FleetPerimeterArgs): string[] {
    const problems: string[] = [];
    if (!isGcpName(name, MAX_PERIMETER_NAME_LENGTH)) {
        problems.push(`name: ${JSON.stringify(name)} must be lower-case letters, digits and hyphens, at most ${MAX_PERIMETER_NAME_LENGTH} characters (perimeter names derive from it).`);
    }
    if (args === undefined || args === null) {
        return [...problems, "args: missing; pass at least { accessPolicy, signerProject, workerProject, brokerMember, webhookMember }."];
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
    if (args.controlPlaneProject !== undefined && args.controlPlaneProject === args.workerProject) {
        problems.push(`controlPlaneProject: "${args.controlPlaneProject}" equals workerProject; the control plane belongs in the enclave (its own project or the signer's), never beside the runners.`);
    }
    for (const field of ["brokerMember", "webhookMember"] as const) {
        if (args[field] === undefined || args[field] === "") {
            problems.push(`${field}: missing; pass the control-plane service's identity, e.g. "serviceAccount:fleet-brk@acme-build-control.iam.gserviceaccount.com".`);
        }
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
    const { enclave, worker, vpc } = serviceLists(args);
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
    if ((args.controlPlaneProject ?? args.signerProject) === args.signerProject && enclave.includes(RUN)) {
        problems.push(`enclaveRestrictedServices: includes "${RUN}" while the signer project hosts the control plane; GitHub's deliveries to the public webhook receiver ` +
            "would need an ingress rule from anywhere to the signer project's Cloud Run. Give the control plane a project of its own (controlPlaneProject), or drop it.");
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
        const cpProject = args.controlPlaneProject ?? args.signerProject;
        const cpSeparate = cpProject !== args.signerProject;
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
        const cp = member(cpProject);
        const broker = [args.brokerMember];
        const webhook = [args.webhookMember];
        const lists = serviceLists(args);

        // Enclave ingress: runner uploads (as the broker) into the control-plane project; with a project of its own,
        // run.app invocations of that project (GitHub's deliveries, the runners' broker calls) from anywhere.
        const enclaveIngress: IngressPolicy[] = [{
            title: "runner uploads to the intake buckets",
            ingressFrom: { identities: broker, sources: [{ resource: worker }] },
            ingressTo: { resources: [cp], operations: [UPLOAD_OPERATION] },
        }];
        if (cpSeparate && lists.enclave.includes(RUN)) {
            enclaveIngress.push({
                title: "invocations of the control plane services",
                ingressFrom: { identityType: "ANY_IDENTITY", sources: [{ accessLevel: "*" }] },
                ingressTo: { resources: [cp], operations: [RUN_INVOKE_OPERATION] },
            });
        }
        // Enclave egress and worker ingress: the control plane's calls into the worker project, each identity to its methods.
        const calls = [
            { title: "broker reads runner MIG membership", identities: broker, operations: [MEMBERSHIP_OPERATION] },
            { title: "webhook receiver writes demand and scales in", identities: webhook, operations: WEBHOOK_OPERATIONS },
        ];
        const enclaveEgress: EgressPolicy[] = calls.map((c) => ({
            title: c.title, egressFrom: { identities: c.identities }, egressTo: { resources: [worker], operations: c.operations },
        }));
        const enclaveConfig: PerimeterConfig = {
            resources: cpSeparate ? [signer, cp] : [signer],
            restrictedServices: lists.enclave,
            // The enclave's networks reach protected services only.
            vpcAccessibleServices: { enableRestriction: true, allowedServices: ["RESTRICTED-SERVICES"] },
            ingressPolicies: enclaveIngress,
            egressPolicies: enclaveEgress,
        };

        const workerIngress: IngressPolicy[] = calls.map((c) => ({
            title: c.title, ingressFrom: { identities: c.identities, sources: [{ resource: cp }] }, ingressTo: { resources: [worker], operations: c.operations },
        }));
        const workerEgress: EgressPolicy[] = [{
            title: "runner uploads to the intake buckets",
            egressFrom: { identities: broker },
            egressTo: { resources: [cp], operations: [UPLOAD_OPERATION] },
        }];
        if (args.runnersInvokeBroker ?? true) {
            // Invocations carry no identity VPC-SC can use: any caller, but only to the control plane's Cloud Run.
            workerEgress.push({ title: "runners invoke the broker", egressFrom: { identityType: "ANY_IDENTITY" }, egressTo: { resources: [cp], operations: [RUN_INVOKE_OPERATION] } });
        }
        const images = (args.imageProjects ?? []).filter((p) => p !== args.workerProject);
        const runners = [...(args.runnerMembers ?? [])];
        if (images.length > 0 && runners.length > 0) {
            workerEgress.push({
                title: "runners pull images",
                egressFrom: { identities: runners },
                egressTo: {
                    resources: images.map(member),
                    operations: [{ serviceName: "artifactregistry.googleapis.com", methodSelectors: [{ permission: IMAGE_PULL_PERMISSION }] }],
                },
            });
        }
        const workerConfig: PerimeterConfig = {
            resources: [worker],
            restrictedServices: lists.worker,
            vpcAccessibleServices: { enableRestriction: true, allowedServices: lists.vpc },
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
        this.enclave = perimeter("enclave", enclaveConfig, "hardened-build-fleet signer enclave: the provenance key and the control plane (I10, I11).");
        this.workers = perimeter("workers", workerConfig, "hardened-build-fleet workers: runner traffic reaches only the fleet's own services (I4).");
        this.enclaveName = this.enclave.name;
        this.workersName = this.workers.name;
        this.registerOutputs({ enclaveName: this.enclaveName, workersName: this.workersName, mode: this.mode });
    }
}
