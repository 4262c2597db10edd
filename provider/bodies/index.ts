/**
 * The facades' implementation: each validates with the TypeScript component's own validator and registers
 * the TypeScript component, under the facade's name, as the facade's child. Loaded lazily (implementation.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { FleetConfigError, FleetConfigInput, PoolInput, rawFleetConfig, RawFleetConfig, validateFleetConfig } from "../../components/config";
import { throwIfProblems } from "../../components/config/issues";
import { ControlPlane, validateControlPlaneArgs } from "../../components/controlPlane";
import { HardenedBuildFleet, HardenedBuildFleetArgs } from "../../components/fleet";
import { IsolatedNetwork, validateIsolatedNetworkArgs } from "../../components/isolatedNetwork";
import { RunnerPool, RunnerPoolArgs, validateRunnerPoolArgs } from "../../components/runnerPool";
import { SignerEnclave, validateSignerEnclaveArgs } from "../../components/signerEnclave";
import type { HardenedBuildFleetArgs as FleetFacadeArgs } from "../fleet";
import { FleetPerimeter, validateFleetPerimeterArgs } from "../../components/fleetPerimeter";
import { OrgGuardrails, OrgGuardrailsArgs, validateOrgGuardrailsArgs } from "../../components/orgGuardrails";
import { ServiceImage, validateServiceImageArgs } from "../../components/serviceImage";
import type {
    Body, ControlPlaneOutputs, FleetPerimeterOutputs, HardenedBuildFleetOutputs, IsolatedNetworkOutputs, OrgGuardrailsOutputs, RunnerPoolOutputs,
    ServiceImageOutputs, SignerEnclaveOutputs,
} from "../implementation";
import type { FleetPerimeterArgs as PerimeterFacadeArgs } from "../fleetPerimeter";
import type { OrgGuardrailsArgs as GuardrailsFacadeArgs } from "../orgGuardrails";
import type { ServiceImageArgs as ImageFacadeArgs } from "../serviceImage";
import type { ControlPlaneArgs as ControlPlaneFacadeArgs } from "../controlPlane";
import type { IsolatedNetworkArgs as NetworkFacadeArgs } from "../isolatedNetwork";
import type { SignerEnclaveArgs as EnclaveFacadeArgs } from "../signerEnclave";
import type { RunnerPoolArgs as PoolFacadeArgs } from "../runnerPool";
import type { FleetConfig } from "../types";

/**
 * The facade's config as HardenedBuildFleet's. The schema cannot express the backend-discriminated pool
 * union or a duration in seconds, so the facade's pools are the flat stack-config shape: raw config, which
 * the fleet validates in full exactly as it validates stack config.
 */
function fleetArgs(args: FleetFacadeArgs): HardenedBuildFleetArgs {
    const config: FleetConfigInput | RawFleetConfig = rawFleetConfig({ ...(args?.config ?? ({} as FleetConfig)) });
    return { config, gce: args?.gce, gke: args?.gke };
}

/** The facade's pool as RunnerPool's: the YAML shape, validated in full by `validatePoolConfig`. */
function poolArgs(args: PoolFacadeArgs): RunnerPoolArgs {
    return { ...args, pool: args?.pool as unknown as PoolInput };
}

/** Every facade's implementation, by component name. */
export interface Implementation {
    HardenedBuildFleet: Body<FleetFacadeArgs, HardenedBuildFleetOutputs>;
    RunnerPool: Body<PoolFacadeArgs, RunnerPoolOutputs>;
    SignerEnclave: Body<EnclaveFacadeArgs, SignerEnclaveOutputs>;
    ControlPlane: Body<ControlPlaneFacadeArgs, ControlPlaneOutputs>;
    IsolatedNetwork: Body<NetworkFacadeArgs, IsolatedNetworkOutputs>;
    FleetPerimeter: Body<PerimeterFacadeArgs, FleetPerimeterOutputs>;
    OrgGuardrails: Body<GuardrailsFacadeArgs, OrgGuardrailsOutputs>;
    ServiceImage: Body<ImageFacadeArgs, ServiceImageOutputs>;
}

export const implementation: Implementation = {
    HardenedBuildFleet: {
        validate(_name, args) {
            const result = validateFleetConfig(fleetArgs(args).config);
            if (result.config === undefined) {
                throw new FleetConfigError(result.issues);
            }
        },
        create(parent, name, args) {
            const fleet = new HardenedBuildFleet(name, fleetArgs(args), { parent });
            return {
                poolNames: pulumi.output(fleet.poolNames),
                intakeBuckets: pulumi.output(fleet.intakeBuckets),
                runnerServiceAccountEmails: pulumi.output(Object.fromEntries(fleet.poolNames.map((p) => [p, fleet.pools[p].serviceAccountEmail]))),
                signerPublicKeyPem: fleet.signerPublicKeyPem,
                signerKeyVersionName: fleet.signerKeyVersionName,
                signerServiceUrl: fleet.signerServiceUrl,
                provenanceBucketName: fleet.provenanceBucketName,
                generatorServiceAccountEmail: fleet.generatorServiceAccountEmail,
                controlPlaneServiceAccountEmail: fleet.generatorServiceAccountEmail,
                webhookUrl: fleet.webhookUrl,
                brokerUrl: fleet.controlPlane.brokerUrl,
                signerKeyRingId: fleet.signer.keyRing.id,
                signerKeyId: fleet.signer.keyId,
                signerServiceAccountEmail: fleet.signer.signerServiceAccountEmail,
                provenanceBucket: fleet.signer.bucket,
                signerKeyRing: fleet.signer.keyRing,
                signerKey: fleet.signer.key,
                signerServiceAccount: fleet.signer.signerServiceAccount,
                generatorServiceAccount: fleet.controlPlane.generatorServiceAccount,
                runnerServiceAccounts: Object.fromEntries(fleet.poolNames.map((p) => [p, fleet.pools[p].serviceAccount])),
            };
        },
    },
    RunnerPool: {
        validate: (name, args) => throwIfProblems("RunnerPool", name, validateRunnerPoolArgs(name, poolArgs(args))),
        create(parent, name, args) {
            const pool = new RunnerPool(name, poolArgs(args), { parent });
            return {
                poolName: pulumi.output(pool.poolName),
                backend: pulumi.output<string>(pool.backend),
                networkSelfLink: pool.network.networkSelfLink,
                subnetSelfLink: pool.network.subnetSelfLink,
                serviceAccountEmail: pool.serviceAccountEmail,
                serviceAccountMember: pool.serviceAccountMember,
                serviceAccount: pool.serviceAccount,
                network: pool.network.network,
                subnet: pool.network.subnet,
                ...(pool.gce !== undefined
                    ? { instanceTemplate: pool.gce.instanceTemplate.selfLink, instanceGroupManager: pool.gce.instanceGroupManager.selfLink }
                    : {}),
                ...(pool.gke !== undefined ? { cluster: pool.gke.cluster.name, runnerNamespace: pulumi.output(pool.gke.runnerNamespace) } : {}),
            };
        },
    },
    SignerEnclave: {
        validate: (name, args) => throwIfProblems("SignerEnclave", name, validateSignerEnclaveArgs(name, args)),
        create(parent, name, args) {
            const enclave = new SignerEnclave(name, args, { parent });
            return {
                keyId: enclave.keyId,
                keyVersionName: enclave.keyVersionName,
                publicKeyPem: enclave.publicKeyPem,
                serviceUrl: enclave.serviceUrl,
                signerServiceAccountEmail: enclave.signerServiceAccountEmail,
                signerMember: enclave.signerMember,
                provenanceBucketName: enclave.provenanceBucketName,
                keyRingId: enclave.keyRing.id,
                keyRing: enclave.keyRing,
                key: enclave.key,
                signerServiceAccount: enclave.signerServiceAccount,
                provenanceBucket: enclave.bucket,
            };
        },
    },
    ControlPlane: {
        validate: (name, args) => throwIfProblems("ControlPlane", name, validateControlPlaneArgs(name, args)),
        create(parent, name, args) {
            const controlPlane = new ControlPlane(name, args, { parent });
            return {
                generatorServiceAccountEmail: controlPlane.generatorServiceAccountEmail, generatorMember: controlPlane.generatorMember,
                serviceAccountEmail: controlPlane.generatorServiceAccountEmail, member: controlPlane.generatorMember, intakeBuckets: pulumi.output(controlPlane.intakeBuckets),
                brokerUrl: controlPlane.brokerUrl, webhookUrl: controlPlane.webhookUrl,
                generatorServiceAccount: controlPlane.generatorServiceAccount, serviceAccounts: { ...controlPlane.serviceAccounts },
            };
        },
    },
    IsolatedNetwork: {
        validate: (name, args) => throwIfProblems("IsolatedNetwork", name, validateIsolatedNetworkArgs(name, args)),
        create(parent, name, args) {
            const network = new IsolatedNetwork(name, args, { parent });
            return {
                networkId: network.networkId, networkSelfLink: network.networkSelfLink, subnetId: network.subnetId, subnetSelfLink: network.subnetSelfLink,
                network: network.network, subnet: network.subnet,
            };
        },
    },
    FleetPerimeter: {
        validate: (name, args) => throwIfProblems("FleetPerimeter", name, validateFleetPerimeterArgs(name, args)),
        create(parent, name, args) {
            const perimeter = new FleetPerimeter(name, args, { parent });
            return { enclaveName: perimeter.enclaveName, workersName: perimeter.workersName, mode: pulumi.output(perimeter.mode), enclave: perimeter.enclave, workers: perimeter.workers };
        },
    },
    OrgGuardrails: {
        // The facade's constraint switches are a string map; the component checks every key against its guardrails.
        validate: (name, args) => throwIfProblems("OrgGuardrails", name, validateOrgGuardrailsArgs(name, args as OrgGuardrailsArgs)),
        create(parent, name, args) {
            const guardrails = new OrgGuardrails(name, args as OrgGuardrailsArgs, { parent });
            return {
                constraintNames: pulumi.output(guardrails.constraintNames),
                policyNames: pulumi.all(Object.fromEntries(Object.entries(guardrails.policies).map(([c, p]) => [c, p.name]))),
                policies: { ...guardrails.policies },
            };
        },
    },
    ServiceImage: {
        validate: (name, args) => throwIfProblems("ServiceImage", name, validateServiceImageArgs(name, args)),
        create(parent, name, args) {
            const image = new ServiceImage(name, args, { parent });
            return { imageName: image.imageName, imageRef: image.imageRef, repositoryId: image.repository.id, repository: image.repository };
        },
    },
};
