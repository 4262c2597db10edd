/**
 * What the fleet derives from its config for the organization-level hardening: the guardrails on
 * each fleet project and the perimeter arguments. Kept apart from fleet.ts so the composition there
 * stays a list of components.
 */
import * as pulumi from "@pulumi/pulumi";
import { FleetConfig } from "./config";
import { FleetPerimeterArgs } from "./servicePerimeter";
import { OrgGuardrailsArgs } from "./orgGuardrails";

export interface NamedGuardrails {
    /** Child component name. */
    name: string;
    args: OrgGuardrailsArgs;
}

/**
 * One OrgGuardrails per fleet project: the workers' and the signer's (the signer's also pins Cloud Run
 * ingress to internal). GKE nodes forward pod traffic and private GKE control planes peer with the pool
 * VPC, so the worker project leaves vmCanIpForward and restrictVpcPeering unset unless the config turns
 * them on (a GCE-only fleet can). A shared signer project (development) gets one set with both.
 */
export function fleetGuardrails(name: string, config: FleetConfig): NamedGuardrails[] {
    const g = config.guardrails;
    if (!g.enabled) {
        return [];
    }
    const common = {
        ...(g.allowedPolicyMemberDomains.length > 0 ? { allowedPolicyMemberDomains: g.allowedPolicyMemberDomains } : {}),
        ...(g.resourceLocations.length > 0 ? { resourceLocations: g.resourceLocations } : {}),
    };
    const workerConstraints = { "compute.vmCanIpForward": false, "compute.restrictVpcPeering": false, ...g.constraints };
    // The webhook receiver must be reachable by GitHub, so a signer project that also hosts the control
    // plane cannot pin Cloud Run ingress to internal; a control plane in its own project leaves the pin on.
    const sharesControlPlane = config.controlPlane.project === config.signerProject;
    const signer: OrgGuardrailsArgs = {
        project: config.signerProject, constraints: { ...g.constraints }, ...(sharesControlPlane ? {} : { runAllowedIngress: "internal" as const }), ...common,
    };
    if (config.signerProject === config.workerProject) {
        return [{ name: `${name}-guardrails`, args: { ...signer, constraints: workerConstraints } }];
    }
    const sets = [
        { name: `${name}-guardrails-workers`, args: { project: config.workerProject, constraints: workerConstraints, ...common } },
        { name: `${name}-guardrails-signer`, args: signer },
    ];
    if (!sharesControlPlane && config.controlPlane.project !== config.workerProject) {
        sets.push({ name: `${name}-guardrails-control-plane`, args: { project: config.controlPlane.project, constraints: { ...g.constraints }, ...common } });
    }
    return sets;
}

/** The fleet's perimeter arguments, or undefined when the config has no `perimeter` block. */
export function fleetPerimeterArgs(
    config: FleetConfig, controlPlaneMember: pulumi.Input<string>, runnerMembers: pulumi.Input<string>[],
): FleetPerimeterArgs | undefined {
    const p = config.perimeter;
    if (p === undefined) {
        return undefined;
    }
    return {
        accessPolicy: p.accessPolicy,
        mode: p.mode,
        signerProject: config.signerProject,
        workerProject: config.workerProject,
        // The control plane's own project (or the signer's): never the worker project.
        controlPlaneProject: config.controlPlane.project,
        controlPlaneMembers: [controlPlaneMember],
        runnerMembers,
        imageProjects: p.imageProjects,
        projectNumbers: p.projectNumbers,
    };
}
