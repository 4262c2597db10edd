/**
 * The enclave's private transparency log: sigstore's rekor-tiles (Rekor v2, the kept upstream server, deployed
 * digest-pinned, never rewritten here) on Cloud Run, sequencing in Cloud Spanner and serving its tiles and
 * checkpoints from a Cloud Storage bucket, with a Cloud KMS HSM key of its own that only its own identity can use.
 *
 * For private fleets that want a tamper-evident, append-only record of everything the signer signed without
 * publishing repository names on the public-good log. The signer writes every bundle to it with its ID token
 * (Cloud Run IAM, invoker: the signer alone) and verifiers check the inclusion proof offline against the
 * trusted root, which lists this log's key. Auditors read the tiles from the bucket (`readers`).
 *
 * Why its own identity and key: a stolen signer identity must not be able to rewrite or re-sign the log's
 * checkpoints. Invariants I8/I9 for the log key, I10 for the service, I12 (the log is itself audit evidence).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { deterministicRunUrl } from "../controlPlane/cloudRunUrl";
import { roleLabels } from "../labels";
import type { IsolatedNetwork } from "../isolatedNetwork";
import { createWitnessKey, signerOnlyInvokers, witnessService } from "./witnessKey";

export const TLOG_HTTP_PORT = 3000;

export interface PrivateTransparencyLogArgs {
    /**
     * rekor-tiles' GCP server image pinned by digest (`rekor-tiles/gcp`, mirrored into Artifact Registry), e.g.
     * `europe-docker.pkg.dev/p/ghcr/sigstore/rekor-tiles/gcp@sha256:<64 hex>`. Required.
     */
    image: pulumi.Input<string>;
    /** Spanner processing units of the sequencer (100 is the smallest instance). Default 100. */
    spannerProcessingUnits?: number;
    /** IAM members allowed to read the log's tiles and checkpoints (auditors, monitors). Default none. */
    readers?: pulumi.Input<string>[];
}

export interface PrivateTransparencyLogInputs {
    project: pulumi.Input<string>;
    region: pulumi.Input<string>;
    keyRingId: pulumi.Input<string>;
    protectionLevel: string;
    network: IsolatedNetwork;
    /** The signer's member: the only invoker of the log. */
    signerMember: pulumi.Input<string>;
    deletionProtection: boolean;
    args: PrivateTransparencyLogArgs;
}

export interface PrivateTransparencyLog {
    serviceAccount: gcp.serviceaccount.Account;
    key: gcp.kms.CryptoKey;
    keyBinding: gcp.kms.CryptoKeyIAMBinding;
    /** `projects/.../cryptoKeys/<log key>/cryptoKeyVersions/1`: the key rekor-tiles signs checkpoints with. */
    keyVersionName: pulumi.Output<string>;
    /** The log key's PEM public key (the trusted root's entry for this log). */
    publicKeyPem: pulumi.Output<string>;
    bucket: gcp.storage.Bucket;
    bucketWriter: gcp.storage.BucketIAMBinding;
    bucketReaders?: gcp.storage.BucketIAMBinding;
    spannerInstance: gcp.spanner.Instance;
    database: gcp.spanner.Database;
    databaseUser: gcp.spanner.DatabaseIAMBinding;
    service: gcp.cloudrunv2.Service;
    invokerBinding: gcp.cloudrunv2.ServiceIamBinding;
    /** The log's URL (deterministic, known before it exists): the signer's SIGNER_TLOG_URL. */
    url: pulumi.Output<string>;
}

/** The log service's name for an enclave named `name`. */
export function tlogServiceName(name: string): string {
    return `${name}-tlog`;
}

/** The private log's key, storage, sequencer, identity and service, as children of `parent`. */
export function createPrivateTransparencyLog(name: string, inputs: PrivateTransparencyLogInputs, parent: pulumi.Resource): PrivateTransparencyLog {
    const labels = roleLabels("signer");
    const { serviceAccount, member, key, keyBinding, keyVersionName } = createWitnessKey(name, {
        project: inputs.project, keyRingId: inputs.keyRingId, protectionLevel: inputs.protectionLevel, suffix: "tlog",
        displayName: `Transparency log (${name})`,
        description: "hardened-build-fleet transparency log identity: the only principal allowed to use the log key and write its storage.",
    }, parent);
    const publicKeyPem = gcp.kms.getKMSCryptoKeyVersionOutput({ cryptoKey: key.id, version: 1 }, { parent })
        .apply((v) => v.publicKeys[0]?.pem ?? "");

    // Tiles and checkpoints: written by the log alone, read by the named auditors; no public access.
    const bucket = new gcp.storage.Bucket(`${name}-tlog`, {
        project: inputs.project,
        location: pulumi.output(inputs.region).apply((r) => r.toUpperCase()),
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        forceDestroy: false,
        labels,
    }, { parent, protect: inputs.deletionProtection });
    const bucketWriter = new gcp.storage.BucketIAMBinding(`${name}-tlog-writer`, {
        bucket: bucket.name,
        role: "roles/storage.objectAdmin",
        members: [member],
    }, { parent });
    const readers = inputs.args.readers ?? [];
    const bucketReaders = readers.length === 0 ? undefined : new gcp.storage.BucketIAMBinding(`${name}-tlog-readers`, {
        bucket: bucket.name,
        role: "roles/storage.objectViewer",
        members: readers,
    }, { parent });

    // The sequencer: Tessera's Spanner driver creates its own tables.
    const spannerInstance = new gcp.spanner.Instance(`${name}-tlog`, {
        project: inputs.project,
        config: pulumi.interpolate`regional-${inputs.region}`,
        displayName: `${name} transparency log`.slice(0, 30),
        processingUnits: inputs.args.spannerProcessingUnits ?? 100,
        labels,
    }, { parent });
    const database = new gcp.spanner.Database(`${name}-tlog`, {
        project: inputs.project,
        instance: spannerInstance.name,
        name: "tlog",
        deletionProtection: inputs.deletionProtection,
    }, { parent, protect: inputs.deletionProtection });
    const databaseUser = new gcp.spanner.DatabaseIAMBinding(`${name}-tlog-db-user`, {
        project: inputs.project,
        instance: spannerInstance.name,
        database: database.name,
        role: "roles/spanner.databaseUser",
        members: [member],
    }, { parent });

    const serviceName = tlogServiceName(name);
    const url = deterministicRunUrl(inputs.project, inputs.region, serviceName, { parent });
    const service = witnessService(`${name}-tlog`, {
        project: inputs.project, region: inputs.region, serviceName, network: inputs.network, serviceAccountEmail: serviceAccount.email,
        deletionProtection: inputs.deletionProtection,
        containers: [{
                // Digest-pinned (validated by the enclave): the code that sequences and signs checkpoints cannot change.
                image: inputs.args.image,
                args: [
                    "serve",
                    "--http-address=0.0.0.0",
                    `--http-port=${TLOG_HTTP_PORT}`,
                    // The checkpoint origin: the URL verifiers know the log by.
                    pulumi.interpolate`--hostname=${url.apply((u) => new URL(u).host)}`,
                    pulumi.interpolate`--gcp-bucket=${bucket.name}`,
                    pulumi.interpolate`--gcp-spanner=projects/${inputs.project}/instances/${spannerInstance.name}/databases/${database.name}`,
                    pulumi.interpolate`--signer-kmskey=gcpkms://${keyVersionName}`,
                    "--signer-kmshash=sha256",
                    "--persistent-antispam",
                ],
                ports: { containerPort: TLOG_HTTP_PORT },
        }],
    }, { parent, dependsOn: [keyBinding, bucketWriter, databaseUser] });

    // Authoritative: the signer, and nobody else, appends entries.
    const invokerBinding = signerOnlyInvokers(`${name}-tlog-invokers`, service, inputs.project, inputs.signerMember, parent);
    return {
        serviceAccount, key, keyBinding, keyVersionName, publicKeyPem, bucket, bucketWriter, ...(bucketReaders !== undefined ? { bucketReaders } : {}),
        spannerInstance, database, databaseUser, service, invokerBinding, url,
    };
}
