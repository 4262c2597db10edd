/**
 * The enclave's RFC 3161 timestamp authority: sigstore's timestamp-authority server (kept upstream code,
 * deployed digest-pinned, never rewritten here) on Cloud Run, with a Cloud KMS HSM key of its own that
 * only its own service account can use, and its certificate chain mounted from Secret Manager.
 *
 * Why its own identity: a signer identity that could also sign timestamps could back-date a signature
 * after a compromise; with the TSA key usable only by the TSA, a stolen signer identity still gets
 * the current time on everything it signs. Invariants I8/I9 for the TSA key, I10 for the service, I12.
 *
 * Bootstrap: the chain certifies the TSA key, so it exists only after the key does. Until
 * `certificateChainPem` is set the TSA service is not deployed, and the signer runs but answers 503
 * `timestamp_authority_unavailable` (SIGNER_TSA_URL answers nothing): nothing is signed without a timestamp.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { deterministicRunUrl } from "../controlPlane/cloudRunUrl";
import { roleLabels } from "../labels";
import type { IsolatedNetwork } from "../isolatedNetwork";
import { createWitnessKey, signerOnlyInvokers, witnessService, WITNESS_KEY_ALGORITHM, WITNESS_SIGNING_ROLE } from "./witnessKey";

/** The algorithm of the TSA key (timestamp-server's `--timestamp-signer-hash sha256` matches it). */
export const TSA_KEY_ALGORITHM = WITNESS_KEY_ALGORITHM;
/** timestamp-server signs and reads its public key at start: the least role holding both. */
export const TSA_SIGNING_ROLE = WITNESS_SIGNING_ROLE;
export const TSA_CHAIN_MOUNT = "/etc/timestamp-authority";
export const TSA_PORT = 8080;

export interface TimestampAuthorityArgs {
    /**
     * sigstore timestamp-authority's `timestamp-server` image pinned by digest, e.g. an Artifact Registry remote
     * repository of ghcr.io: `europe-docker.pkg.dev/p/ghcr/sigstore/timestamp-server@sha256:<64 hex>`. Required.
     */
    image: pulumi.Input<string>;
    /**
     * PEM chain certifying the TSA key (timestamping certificate first, root last), made once with
     * timestamp-authority's `fetch-tsa-certs --leaf-kms-resource gcpkms://<tsaKeyVersionName>`. Until set, the
     * TSA service is not deployed. Default unset.
     */
    certificateChainPem?: pulumi.Input<string>;
}

export interface TimestampAuthorityInputs {
    project: pulumi.Input<string>;
    region: pulumi.Input<string>;
    keyRingId: pulumi.Input<string>;
    protectionLevel: string;
    network: IsolatedNetwork;
    /** The signer's member: the only invoker of the TSA service. */
    signerMember: pulumi.Input<string>;
    deletionProtection: boolean;
    args?: TimestampAuthorityArgs;
}

export interface TimestampAuthority {
    serviceAccount: gcp.serviceaccount.Account;
    key: gcp.kms.CryptoKey;
    /** Authoritative signing binding on the TSA key: exactly the TSA's service account. */
    keyBinding: gcp.kms.CryptoKeyIAMBinding;
    /** `projects/.../cryptoKeys/<tsa key>/cryptoKeyVersions/1`: the key fetch-tsa-certs certifies. */
    keyVersionName: pulumi.Output<string>;
    /** The TSA service's URL (deterministic, known before it exists): the signer's SIGNER_TSA_URL. */
    url: pulumi.Output<string>;
    chainSecret?: gcp.secretmanager.Secret;
    chainVersion?: gcp.secretmanager.SecretVersion;
    chainReader?: gcp.secretmanager.SecretIamBinding;
    service?: gcp.cloudrunv2.Service;
    invokerBinding?: gcp.cloudrunv2.ServiceIamBinding;
}

/** The TSA service's name for an enclave named `name`. */
export function tsaServiceName(name: string): string {
    return `${name}-tsa`;
}

/** The TSA key, identity and (once its chain is known) service, as children of `parent`. */
export function createTimestampAuthority(name: string, inputs: TimestampAuthorityInputs, parent: pulumi.Resource): TimestampAuthority {
    const labels = roleLabels("signer");
    const { serviceAccount, member, key, keyBinding, keyVersionName } = createWitnessKey(name, {
        project: inputs.project, keyRingId: inputs.keyRingId, protectionLevel: inputs.protectionLevel, suffix: "tsa",
        displayName: `Timestamp authority (${name})`,
        description: "hardened-build-fleet timestamp authority identity: the only principal allowed to use the TSA key.",
    }, parent);
    const serviceName = tsaServiceName(name);
    const url = deterministicRunUrl(inputs.project, inputs.region, serviceName, { parent });
    const out: TimestampAuthority = { serviceAccount, key, keyBinding, keyVersionName, url };
    const chain = inputs.args?.certificateChainPem;
    if (inputs.args === undefined || chain === undefined) {
        return out;
    }

    // The chain is public; Secret Manager is how Cloud Run mounts a file timestamp-server reads.
    out.chainSecret = new gcp.secretmanager.Secret(`${name}-tsa-chain`, {
        project: inputs.project,
        secretId: `${name}-tsa-chain`,
        labels,
        replication: { auto: {} },
    }, { parent });
    out.chainVersion = new gcp.secretmanager.SecretVersion(`${name}-tsa-chain-version`, {
        secret: out.chainSecret.id,
        secretData: chain,
    }, { parent });
    out.chainReader = new gcp.secretmanager.SecretIamBinding(`${name}-tsa-chain-reader`, {
        project: inputs.project,
        secretId: out.chainSecret.secretId,
        role: "roles/secretmanager.secretAccessor",
        members: [member],
    }, { parent });

    out.service = witnessService(`${name}-tsa`, {
        project: inputs.project, region: inputs.region, serviceName, network: inputs.network, serviceAccountEmail: serviceAccount.email,
        deletionProtection: inputs.deletionProtection,
        volumes: [{ name: "chain", secret: { secret: out.chainSecret.secretId, items: [{ path: "chain.pem", version: out.chainVersion.version }] } }],
        containers: [{
                // Digest-pinned (validated by the enclave): the code that timestamps cannot change under the fleet.
                image: inputs.args.image,
                args: [
                    "serve",
                    "--host=0.0.0.0",
                    `--port=${TSA_PORT}`,
                    "--log-type=prod",
                    "--timestamp-signer=kms",
                    "--timestamp-signer-hash=sha256",
                    pulumi.interpolate`--kms-key-resource=gcpkms://${keyVersionName}`,
                    `--certificate-chain-path=${TSA_CHAIN_MOUNT}/chain.pem`,
                    // The enclave has no internet egress for public NTP pools; Cloud Run's clock is Google's synchronised time.
                    "--disable-ntp-monitoring",
                ],
                ports: { containerPort: TSA_PORT },
                volumeMounts: [{ name: "chain", mountPath: TSA_CHAIN_MOUNT }],
        }],
    }, { parent, dependsOn: [keyBinding, out.chainReader] });

    // Authoritative: the signer, and nobody else, asks for timestamps.
    out.invokerBinding = signerOnlyInvokers(`${name}-tsa-invokers`, out.service, inputs.project, inputs.signerMember, parent);
    return out;
}
