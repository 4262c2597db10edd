/**
 * What the fleet derives from its config for the organization-level hardening: the guardrails on
 * each fleet project and the perimeter arguments. Kept apart from fleet.ts so the composition there
 * stays a list of components.
 */
import * as pulumi from "@pulumi/pulumi";
import { FleetConfig } from "../config";
import { FleetPerimeterArgs } from "../fleetPerimeter";
import { OrgGuardrailsArgs } from "../orgGuardrails";

export interface NamedGuardrails {
    /** Child component name. */
    name: string;
    args: OrgGuardrailsArgs;
}

/**
 * One OrgGuardrails per fleet project: the workers', the signer's and, when it has its own, the control
 * plane's. GKE nodes forward pod traffic and private GKE control planes peer with the pool VPC, so the
 * worker project leaves vmCanIpForward and restrictVpcPeering unset unless the config turns them on (a
 * GCE-only fleet can). The signer's Cloud Run ingress is pinned to internal unless the signer project
 * also hosts the control plane, whose webhook receiver GitHub must reach (config warns). The project of
 * the webhook receiver gets no iam.allowedPolicyMemberDomains: that constraint refuses its `allUsers`
 * invoker (config warns). A shared signer project (development) gets one set.
 */
export function fleetGuardrails(name: string, config: FleetConfig): NamedGuardrails[] {
    const g = config.guardrails;
    if (!g.enabled) {
        return [];
    }
    const cpProject = config.controlPlane.project;
    const common = (project: string) => ({
        ...(g.allowedPolicyMemberDomains.length > 0 && project !== cpProject ? { allowedPolicyMemberDomains: g.allowedPolicyMemberDomains } : {}),
        ...(g.resourceLocations.length > 0 ? { resourceLocations: g.resourceLocations } : {}),
    });
    const workerConstraints = { "compute.vmCanIpForward": false, "compute.restrictVpcPeering": false, ...g.constraints };
    const sharesControlPlane = cpProject === config.signerProject;
    const signer: OrgGuardrailsArgs = {
        project: config.signerProject, constraints: { ...g.constraints }, ...(sharesControlPlane ? {} : { runAllowedIngress: "internal" as const }), ...common(config.signerProject),
    };
    if (config.signerProject === config.workerProject) {
        return [{ name: `${name}-guardrails`, args: { ...signer, constraints: workerConstraints } }];
    }
    const sets = [
        { name: `${name}-guardrails-workers`, args: { project: config.workerProject, constraints: workerConstraints, ...common(config.workerProject) } },
        { name: `${name}-guardrails-signer`, args: signer },
    ];
    if (!sharesControlPlane && cpProject !== config.workerProject) {
        // The control plane's own project: no internal-only Cloud Run ingress (the public webhook receiver lives there).
        sets.push({ name: `${name}-guardrails-control-plane`, args: { project: cpProject, constraints: { ...g.constraints }, ...common(cpProject) } });
    }
    return sets;
}

/** The fleet's perimeter arguments, or undefined when the config has no `perimeter` block. */
export function fleetPerimeterArgs(
    config: FleetConfig, members: { broker: pulumi.Input<string>; webhook: pulumi.Input<string> }, runnerMembers: pulumi.Input<string>[],
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
        brokerMember: members.broker,
        webhookMember: members.webhook,
        // Only GCE runners register through the broker's run.app URL.
        runnersInvokeBroker: config.pools.some((pool) => pool.backend === "gce"),
        runnerMembers,
        imageProjects: p.imageProjects,
        projectNumbers: p.projectNumbers,
    };
}
