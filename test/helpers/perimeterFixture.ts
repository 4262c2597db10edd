/**
 * The organization-level hardening of a secure raw fleet, written with raw @pulumi/gcp resources (no
 * components), as the secure fixtures add it: an enforced enclave perimeter around the signer project
 * restricting Cloud KMS (ingress only for the control plane, to Cloud Run), an enforced worker
 * perimeter (storage restricted, VPC-accessible services restricted too), and the org-policy guardrails the pack requires on both projects. Members are project
 * numbers; the pack learns which number is whose from perimeterPackConfig().
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

export const ACCESS_POLICY = "accessPolicies/555000111";
/** Fixed numbers for the fixture projects (any digits: the pack only needs to know which is which). */
export function fixtureProjectNumber(project: string): string {
    let n = 0;
    for (const c of project) {
        n = (n * 31 + c.charCodeAt(0)) % 900000000;
    }
    return String(100000000000 + n);
}

/** The guardrails the org-guardrails rule requires, and how the fixture sets each. */
export const FIXTURE_GUARDRAILS: Record<string, { zone: "all" | "runner" | "signer"; spec: gcp.types.input.orgpolicy.PolicySpec }> = {
    "iam.disableServiceAccountKeyCreation": { zone: "all", spec: { rules: [{ enforce: "TRUE" }] } },
    "iam.disableServiceAccountKeyUpload": { zone: "all", spec: { rules: [{ enforce: "TRUE" }] } },
    "iam.automaticIamGrantsForDefaultServiceAccounts": { zone: "all", spec: { rules: [{ enforce: "TRUE" }] } },
    "compute.requireShieldedVm": { zone: "runner", spec: { rules: [{ enforce: "TRUE" }] } },
    "compute.requireOsLogin": { zone: "runner", spec: { rules: [{ enforce: "TRUE" }] } },
    "compute.vmExternalIpAccess": { zone: "runner", spec: { rules: [{ denyAll: "TRUE" }] } },
    "run.allowedIngress": { zone: "signer", spec: { rules: [{ values: { allowedValues: ["internal"] } }] } },
};

export interface HardeningOptions {
    workerProject: string;
    signerProject: string;
    controlPlaneMember: pulumi.Input<string>;
    /** Skip creating these (a variant then adds its own). */
    omit?: { enclave?: boolean; workers?: boolean; guardrails?: string[] };
}

/** Registers the perimeters and guardrails; returns the enclave perimeter (when created). */
export function addPerimeterAndGuardrails(o: HardeningOptions): gcp.accesscontextmanager.ServicePerimeter | undefined {
    const signer = `projects/${fixtureProjectNumber(o.signerProject)}`;
    const worker = `projects/${fixtureProjectNumber(o.workerProject)}`;
    const enclave = o.omit?.enclave ? undefined : new gcp.accesscontextmanager.ServicePerimeter("enclave-perimeter", {
        parent: ACCESS_POLICY,
        name: `${ACCESS_POLICY}/servicePerimeters/signer_enclave`,
        title: "signer enclave",
        status: {
            resources: [signer],
            restrictedServices: ["cloudkms.googleapis.com", "run.googleapis.com", "storage.googleapis.com"],
            vpcAccessibleServices: { enableRestriction: true, allowedServices: ["RESTRICTED-SERVICES"] },
            ingressPolicies: [{
                title: "control plane invokes the signer",
                ingressFrom: { identities: [o.controlPlaneMember], sources: [{ resource: worker }] },
                ingressTo: { resources: [signer], operations: [{ serviceName: "run.googleapis.com", methodSelectors: [{ method: "*" }] }] },
            }],
        },
    });
    if (!o.omit?.workers) {
        new gcp.accesscontextmanager.ServicePerimeter("worker-perimeter", {
            parent: ACCESS_POLICY,
            name: `${ACCESS_POLICY}/servicePerimeters/workers`,
            title: "workers",
            status: {
                resources: [worker],
                restrictedServices: ["storage.googleapis.com", "logging.googleapis.com"],
                vpcAccessibleServices: { enableRestriction: true, allowedServices: ["storage.googleapis.com", "logging.googleapis.com"] },
            },
        });
    }
    for (const [constraint, g] of Object.entries(FIXTURE_GUARDRAILS)) {
        if (o.omit?.guardrails?.includes(constraint)) {
            continue;
        }
        const projects = g.zone === "all" ? [o.workerProject, o.signerProject] : [g.zone === "runner" ? o.workerProject : o.signerProject];
        for (const project of projects) {
            new gcp.orgpolicy.Policy(`guardrail-${project}-${constraint}`, {
                parent: `projects/${project}`, name: `projects/${project}/policies/${constraint}`, spec: g.spec,
            });
        }
    }
    return enclave;
}

/** Pack config telling signer-perimeter and runner-perimeter the projects' numbers. */
export function perimeterPackConfig(signerProject: string, workerProject: string): Record<string, unknown> {
    return {
        "signer-perimeter": { projectNumbers: { [signerProject]: fixtureProjectNumber(signerProject) } },
        "runner-perimeter": { projectNumbers: { [workerProject]: fixtureProjectNumber(workerProject) } },
    };
}
