/**
 * What each facade delegates to: the TypeScript component's validator and constructor. The implementation
 * (bodies/) is loaded with `require` when a facade is first constructed, not imported: the schema analyzer
 * builds a TypeScript program from this directory's files and imports, and the components' own imports
 * (@pulumi/gcp and @pulumi/kubernetes, about 50 MB of declarations) would make every `getSchema()` parse
 * them. bodies/ is type-checked against these interfaces with the rest of the repository. The resources the
 * facades output are imported as types from their own @pulumi/gcp modules (not the package index), so the
 * analyzer reads only those classes and the shared input and output types they name, and writes each as a
 * reference into the installed @pulumi/gcp schema.
 *
 * Imports run one way: facades → this module; bodies/ → facades and this module. This module names no
 * facade: each facade states its own argument and output types when it asks for its body.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ServicePerimeter } from "@pulumi/gcp/accesscontextmanager/servicePerimeter";
import type { Repository } from "@pulumi/gcp/artifactregistry/repository";
import type { Network } from "@pulumi/gcp/compute/network";
import type { Subnetwork } from "@pulumi/gcp/compute/subnetwork";
import type { CryptoKey } from "@pulumi/gcp/kms/cryptoKey";
import type { KeyRing } from "@pulumi/gcp/kms/keyRing";
import type { Policy } from "@pulumi/gcp/orgpolicy/policy";
import type { Account } from "@pulumi/gcp/serviceaccount/account";
import type { Bucket } from "@pulumi/gcp/storage/bucket";

/** One facade's implementation. */
export interface Body<A, O> {
    /** Throws the component's own error naming every problem; registers nothing. Called before the facade registers. */
    validate(name: string, args: A): void;
    /** Registers the TypeScript component named `name` as a child of `parent`; returns the facade's outputs. */
    create(parent: pulumi.ComponentResource, name: string, args: A): O;
}

export interface HardenedBuildFleetOutputs {
    poolNames: pulumi.Output<string[]>;
    intakeBuckets: pulumi.Output<Record<string, string>>;
    runnerServiceAccountEmails: pulumi.Output<Record<string, string>>;
    signerPublicKeyPem: pulumi.Output<string>;
    signerKeyVersionName: pulumi.Output<string>;
    signerServiceUrl: pulumi.Output<string>;
    provenanceBucketName: pulumi.Output<string>;
    generatorServiceAccountEmail: pulumi.Output<string>;
    /** @deprecated Use `generatorServiceAccountEmail`. */
    controlPlaneServiceAccountEmail: pulumi.Output<string>;
    webhookUrl: pulumi.Output<string>;
    brokerUrl: pulumi.Output<string>;
    signerKeyRingId: pulumi.Output<string>;
    signerKeyId: pulumi.Output<string>;
    signerServiceAccountEmail: pulumi.Output<string>;
    provenanceBucket: Bucket;
    signerKeyRing: KeyRing;
    signerKey: CryptoKey;
    signerServiceAccount: Account;
    generatorServiceAccount: Account;
    runnerServiceAccounts: Record<string, Account>;
}

export interface RunnerPoolOutputs {
    poolName: pulumi.Output<string>;
    backend: pulumi.Output<string>;
    networkSelfLink: pulumi.Output<string>;
    subnetSelfLink: pulumi.Output<string>;
    serviceAccountEmail: pulumi.Output<string>;
    serviceAccountMember: pulumi.Output<string>;
    instanceTemplate?: pulumi.Output<string>;
    instanceGroupManager?: pulumi.Output<string>;
    cluster?: pulumi.Output<string>;
    runnerNamespace?: pulumi.Output<string>;
    serviceAccount: Account;
    network: Network;
    subnet: Subnetwork;
}

export interface SignerEnclaveOutputs {
    keyId: pulumi.Output<string>;
    keyVersionName: pulumi.Output<string>;
    publicKeyPem: pulumi.Output<string>;
    serviceUrl: pulumi.Output<string>;
    signerServiceAccountEmail: pulumi.Output<string>;
    signerMember: pulumi.Output<string>;
    provenanceBucketName: pulumi.Output<string>;
    keyRingId: pulumi.Output<string>;
    keyRing: KeyRing;
    key: CryptoKey;
    signerServiceAccount: Account;
    provenanceBucket: Bucket;
}

export interface ControlPlaneOutputs {
    generatorServiceAccountEmail: pulumi.Output<string>;
    generatorMember: pulumi.Output<string>;
    /** @deprecated Use `generatorServiceAccountEmail`. */
    serviceAccountEmail: pulumi.Output<string>;
    /** @deprecated Use `generatorMember`. */
    member: pulumi.Output<string>;
    intakeBuckets: pulumi.Output<Record<string, string>>;
    brokerUrl: pulumi.Output<string>;
    webhookUrl: pulumi.Output<string>;
    generatorServiceAccount: Account;
    serviceAccounts: Record<string, Account>;
}

export interface IsolatedNetworkOutputs {
    networkId: pulumi.Output<string>;
    networkSelfLink: pulumi.Output<string>;
    subnetId: pulumi.Output<string>;
    subnetSelfLink: pulumi.Output<string>;
    network: Network;
    subnet: Subnetwork;
}

export interface FleetPerimeterOutputs {
    enclaveName: pulumi.Output<string>;
    workersName: pulumi.Output<string>;
    mode: pulumi.Output<string>;
    enclave: ServicePerimeter;
    workers: ServicePerimeter;
}

export interface OrgGuardrailsOutputs {
    constraintNames: pulumi.Output<string[]>;
    policyNames: pulumi.Output<Record<string, string>>;
    policies: Record<string, Policy>;
}

export interface ServiceImageOutputs {
    imageName: pulumi.Output<string>;
    imageRef: pulumi.Output<string>;
    repositoryId: pulumi.Output<string>;
    repository: Repository;
}

/** The components that have a facade. */
export type ComponentName = "HardenedBuildFleet" | "RunnerPool" | "SignerEnclave" | "ControlPlane" | "IsolatedNetwork" | "FleetPerimeter" | "OrgGuardrails" | "ServiceImage";

/** The implementation of `component`, loaded on first use. */
export function implementationOf<A, O>(component: ComponentName): Body<A, O> {
    // A lazy require, not an import: see the header (the schema analyzer must not parse the components).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { implementation } = require("./bodies") as { implementation: Record<ComponentName, Body<unknown, unknown>> };
    return implementation[component] as Body<A, O>;
}
