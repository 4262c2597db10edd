/** Validation and normalisation of the `controlPlane` block (issue: the control plane leaves the worker project). */
import { FieldReader } from "./fields";
import { checkSubnetSize, readCidr } from "./ranges";
import { DIRECT_VPC_EGRESS_MAX_PREFIX } from "../networks";
import { imageReferenceProblem } from "./image";
import { ControlPlaneConfig } from "./types";
import { isValidProjectId } from "./names";
import { CONFIG_NAMESPACE, CONTROL_PLANE_KEYS, DEFAULTS, GITHUB_APP_KEYS } from "./schema";
export const BROKER_INGRESS = ["all", "internal"] as const;

/** A Secret Manager secret resource id (never a version, never a value). */
const SECRET_ID = /^projects\/([a-z][-a-z0-9]{4,28}[a-z0-9]|[0-9]{1,20})\/secrets\/[A-Za-z0-9_-]{1,255}$/;

/** Why `value` is not a Secret Manager secret id, or undefined. Values that look like the secret itself are called out. */
export function secretIdProblem(value: string): string | undefined {
    if (SECRET_ID.test(value)) {
        return undefined;
    }
    if (/^projects\/[^/]+\/secrets\/[^/]+\/versions\//.test(value)) {
        return "names a secret version; name the secret (the services read its latest version)";
    }
    if (!value.startsWith("projects/") && /BEGIN [A-Z ]*PRIVATE KEY|^[A-Fa-f0-9]{20,}$|^[A-Za-z0-9+/=_-]{32,}$/.test(value)) {
        return "looks like the secret value itself; stack config and state must only name the secret";
    }
    return "is not a Secret Manager secret id";
}

function readSecretId(f: FieldReader, key: string, example: string): string | undefined {
    const value = f.string(key, { required: true, example });
    if (value === undefined) {
        return undefined;
    }
    const problem = secretIdProblem(value);
    if (problem !== undefined) {
        // Never echo what may be a secret value back into logs.
        const shown = problem.startsWith("looks like") ? "(redacted)" : value;
        f.issues.add(f.pathOf(key), shown, problem, `create the secret out of band and write its id, e.g. ${example}`);
        return undefined;
    }
    return value;
}

/**
 * Reads `controlPlane` (optional block; the GitHub App and webhook secret references inside it are
 * required). `signerProject` is the default project: the control plane shares the signer's project
 * with identities of its own unless `controlPlane.project` names another.
 */
export function readControlPlane(top: FieldReader, signerProject: string | undefined, workerProject: string | undefined, allowShared: boolean): ControlPlaneConfig | undefined {
    const example = "{githubApp: {appId: 123456, installationId: 7890123, privateKeySecret: projects/acme-build-signer/secrets/github-app-key}, webhookSecret: projects/acme-build-signer/secrets/github-webhook-secret}";
    const raw = top.object("controlPlane", { required: true, example });
    if (raw === undefined) {
        return undefined;
    }
    const before = top.issues.issues.length;
    const f = new FieldReader(top.issues, raw, "controlPlane");
    f.checkKeys(CONTROL_PLANE_KEYS);
    const intakeRetentionDays = f.integer("intakeRetentionDays", { min: 1, max: 3650, example: String(DEFAULTS.intakeRetentionDays) }) ?? DEFAULTS.intakeRetentionDays;

    let project = f.string("project", { example: "acme-build-control" });
    if (project !== undefined && !isValidProjectId(project)) {
        f.issues.add(f.pathOf("project"), project, "is not a GCP project id", "use the project id, e.g. acme-build-control");
        project = undefined;
    }
    const effective = project ?? signerProject;
    // (When it defaults to a signer project equal to the worker project, the signerProject issue already says so.)
    if (project !== undefined && project === workerProject && !allowShared) {
        f.issues.add(
            f.pathOf("project"),
            effective,
            "puts the control plane in the worker project, where any principal with actAs on its service accounts can use it as a signing oracle",
            `use a project of its own (or leave it unset to share the signer project with separate identities); for a development stack only set ${CONFIG_NAMESPACE}:allowSharedSignerProject true`,
        );
    }

    const serviceImage = f.string("serviceImage", { example: "europe-west1-docker.pkg.dev/acme-build-signer/fleet/services@sha256:<64 hex>" });
    const imageProblem = serviceImage === undefined ? undefined : imageReferenceProblem(serviceImage);
    if (imageProblem !== undefined) {
        f.issues.add(f.pathOf("serviceImage"), serviceImage, imageProblem, "pass <registry>/<path>@sha256:<64 hex digits> (e.g. from `docker buildx imagetools inspect`), or remove it to build and pin this package's own image");
    }

    const appRaw = f.object("githubApp", { required: true, example: "{appId: 123456, installationId: 7890123, privateKeySecret: projects/acme-build-signer/secrets/github-app-key}" });
    let githubApp: ControlPlaneConfig["githubApp"] | undefined;
    if (appRaw !== undefined) {
        const g = new FieldReader(f.issues, appRaw, f.pathOf("githubApp"));
        g.checkKeys(GITHUB_APP_KEYS);
        const appId = g.integer("appId", { min: 1, required: true, example: "123456" });
        const installationId = g.integer("installationId", { min: 1, required: true, example: "7890123" });
        const privateKeySecret = readSecretId(g, "privateKeySecret", "projects/acme-build-signer/secrets/github-app-key");
        if (appId !== undefined && installationId !== undefined && privateKeySecret !== undefined) {
            githubApp = { appId, installationId, privateKeySecret };
        }
    }
    const webhookSecret = readSecretId(f, "webhookSecret", "projects/acme-build-signer/secrets/github-webhook-secret");
    const runnerGroupId = f.integer("runnerGroupId", { min: 1, example: "1" }) ?? 1;
    const brokerIngress = f.string("brokerIngress", { example: "all" }) ?? "all";
    if (!BROKER_INGRESS.includes(brokerIngress as (typeof BROKER_INGRESS)[number])) {
        f.issues.add(f.pathOf("brokerIngress"), brokerIngress, "is not a broker ingress mode", "use \"all\" (IAM-gated to the pool identities) or \"internal\" (needs the worker and control-plane projects in one VPC Service Controls perimeter)");
    }
    const range = readCidr(f, "cidr", { example: DEFAULTS.controlPlaneCidr });
    if (range !== undefined) {
        checkSubnetSize(f.issues, f.pathOf("cidr"), range, DIRECT_VPC_EGRESS_MAX_PREFIX, "the generator's subnet (Cloud Run Direct VPC egress)");
        if (effective !== undefined && effective === signerProject) {
            f.issues.warn(f.pathOf("cidr"), range.cidr, "is unused: the control plane shares the signer project, and the generator egresses into the signer's network");
        }
    }
    if (top.issues.issues.length > before || effective === undefined || githubApp === undefined || webhookSecret === undefined) {
        return undefined;
    }
    return {
        intakeRetentionDays, project: effective, ...(serviceImage !== undefined ? { serviceImage } : {}), githubApp, webhookSecret, runnerGroupId,
        brokerIngress: brokerIngress as ControlPlaneConfig["brokerIngress"], cidr: range?.cidr ?? DEFAULTS.controlPlaneCidr,
    };
}
