/**
 * What each of the enclave's witnesses (the timestamp authority, the private transparency log) owns: a service
 * account of its own and an HSM signing key only that account can use (authoritative binding), so a stolen signer
 * identity can neither mint timestamps nor re-sign the log's checkpoints (I8/I9).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { serviceAccountIdFor } from "../config/names";
import { roleLabels } from "../labels";
import type { IsolatedNetwork } from "../isolatedNetwork";

/** Both witnesses sign and read their public key at start: the least role holding both. */
export const WITNESS_SIGNING_ROLE = "roles/cloudkms.signerVerifier";
/** Both witnesses sign with EC P-256 / SHA-256 (timestamp-server's and rekor-tiles' sha256 options match it). */
export const WITNESS_KEY_ALGORITHM = "EC_SIGN_P256_SHA256";

export interface WitnessKeyInputs {
    project: pulumi.Input<string>;
    keyRingId: pulumi.Input<string>;
    protectionLevel: string;
    /** `tsa`, `tlog`: the child names are `<name>-<suffix>-sa`, `<name>-<suffix>-key`, `<name>-<suffix>-key-signer`. */
    suffix: string;
    displayName: string;
    description: string;
}

export interface WitnessKey {
    serviceAccount: gcp.serviceaccount.Account;
    member: pulumi.Output<string>;
    key: gcp.kms.CryptoKey;
    keyBinding: gcp.kms.CryptoKeyIAMBinding;
    /** `projects/.../cryptoKeys/<key>/cryptoKeyVersions/1`: the version the witness signs with. */
    keyVersionName: pulumi.Output<string>;
}

/** The witness's identity, its protected HSM key and the authoritative binding, as children of `parent`. */
export function createWitnessKey(name: string, inputs: WitnessKeyInputs, parent: pulumi.Resource): WitnessKey {
    const serviceAccount = new gcp.serviceaccount.Account(`${name}-${inputs.suffix}-sa`, {
        project: inputs.project,
        accountId: serviceAccountIdFor(name, inputs.suffix),
        displayName: inputs.displayName,
        description: inputs.description,
    }, { parent });
    const member = pulumi.interpolate`serviceAccount:${serviceAccount.email}`;
    const key = new gcp.kms.CryptoKey(`${name}-${inputs.suffix}-key`, {
        keyRing: inputs.keyRingId,
        name: `${name}-${inputs.suffix}-key`,
        purpose: "ASYMMETRIC_SIGN",
        versionTemplate: { algorithm: WITNESS_KEY_ALGORITHM, protectionLevel: inputs.protectionLevel },
        labels: roleLabels("signer"),
        deletionPolicy: "PREVENT",
    }, { parent, protect: true });
    const keyBinding = new gcp.kms.CryptoKeyIAMBinding(`${name}-${inputs.suffix}-key-signer`, {
        cryptoKeyId: key.id,
        role: WITNESS_SIGNING_ROLE,
        members: [member],
    }, { parent });
    return { serviceAccount, member, key, keyBinding, keyVersionName: pulumi.interpolate`${key.id}/cryptoKeyVersions/1` };
}

/** Authoritative: the signer, and nobody else, invokes the witness's service. */
export function signerOnlyInvokers(resourceName: string, service: gcp.cloudrunv2.Service, project: pulumi.Input<string>, signerMember: pulumi.Input<string>, parent: pulumi.Resource): gcp.cloudrunv2.ServiceIamBinding {
    return new gcp.cloudrunv2.ServiceIamBinding(resourceName, {
        project,
        location: service.location,
        name: service.name,
        role: "roles/run.invoker",
        members: [signerMember],
    }, { parent });
}

export interface WitnessServiceInputs {
    project: pulumi.Input<string>;
    region: pulumi.Input<string>;
    serviceName: string;
    network: IsolatedNetwork;
    serviceAccountEmail: pulumi.Input<string>;
    deletionProtection: boolean;
    containers: gcp.types.input.cloudrunv2.ServiceTemplateContainer[];
    volumes?: gcp.types.input.cloudrunv2.ServiceTemplateVolume[];
}

/** A witness's Cloud Run service: internal ingress, IAM-checked, all egress into the enclave network (I10). */
export function witnessService(resourceName: string, inputs: WitnessServiceInputs, opts: pulumi.CustomResourceOptions): gcp.cloudrunv2.Service {
    const labels = roleLabels("signer");
    return new gcp.cloudrunv2.Service(resourceName, {
        project: inputs.project,
        location: inputs.region,
        name: inputs.serviceName,
        ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY",
        invokerIamDisabled: false,
        deletionProtection: inputs.deletionProtection,
        labels,
        template: {
            serviceAccount: inputs.serviceAccountEmail,
            labels,
            vpcAccess: {
                networkInterfaces: [{ network: inputs.network.networkId, subnetwork: inputs.network.subnetId }],
                egress: "ALL_TRAFFIC",
            },
            ...(inputs.volumes !== undefined ? { volumes: inputs.volumes } : {}),
            containers: inputs.containers,
        },
    }, opts);
}
