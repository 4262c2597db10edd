/**
 * Cloud Run's deterministic service URL, `https://<service>-<project number>.<region>.run.app`, known
 * before the service exists. It breaks the construction cycles of the fleet without weakening a grant:
 * runners need the broker's URL (their identity-token audience) in their startup script, and the
 * generator needs the signer's URL, while the broker's and signer's invoker bindings need the runners'
 * and the generator's identities. The project number comes from a data source, which is resolved
 * during a preview too, so the URL is never an unknown in a plan.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

/** Cloud Run service names: lower-case letters, digits and hyphens, starting with a letter, at most 49. */
export const MAX_CLOUD_RUN_SERVICE_NAME = 49;

export function deterministicRunUrl(project: pulumi.Input<string>, region: pulumi.Input<string>, service: string, opts?: pulumi.InvokeOutputOptions): pulumi.Output<string> {
    const number = gcp.organizations.getProjectOutput({ projectId: project }, opts).number;
    return pulumi.interpolate`https://${service}-${number}.${region}.run.app`;
}
