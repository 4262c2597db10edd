/** Provider facade of `HardenedBuildFleet` (components/fleet/index.ts) for the component schema. */
import * as pulumi from "@pulumi/pulumi";
import type { Bucket } from "@pulumi/gcp/storage/bucket";
import type { CryptoKey } from "@pulumi/gcp/kms/cryptoKey";
import type { KeyRing } from "@pulumi/gcp/kms/keyRing";
import type { Account } from "@pulumi/gcp/serviceaccount/account";
import { implementationOf, HardenedBuildFleetOutputs } from "./implementation";
import { FleetConfig, GceOptions, GkeOptions, MonitoringOptions } from "./types";

export interface HardenedBuildFleetArgs {
    /** The fleet config in stack-config shape: a typed `FleetConfigInput` (the keys of the `hardened-build-fleet:` namespace without the prefix, durations such as "2h", as in Pulumi.example.yaml), or the stack's own config from `readRawFleetConfig()`. Required. Validated in full, with every problem reported at once, before any resource is registered. */
    config: FleetConfig;
    /** GCE backend tunables applied to every gce pool. Default: RunnerPool's defaults. */
    gce?: GceOptions;
    /** GKE backend tunables applied to every gke pool. Default: RunnerPool's defaults. */
    gke?: GkeOptions;
    /** The fleet's dashboard and alert policies (FleetMonitoring, in the control-plane project). Default: on, notifying no channel. */
    monitoring?: MonitoringOptions;
}

/**
 * The whole SLSA Build Level 3 fleet from one validated config: one RunnerPool per pool, the ControlPlane with
 * one intake bucket per pool, and the SignerEnclave in the signer project, invocable only by the control plane.
 * Registers a `HardenedBuildFleet` of the same name as its child.
 */
export class HardenedBuildFleet extends pulumi.ComponentResource implements HardenedBuildFleetOutputs {
    /** The pool names, in config order. */
    public readonly poolNames!: pulumi.Output<string[]>;
    /** Intake bucket name per pool name. */
    public readonly intakeBuckets!: pulumi.Output<Record<string, string>>;
    /** Runner service-account email per pool name. */
    public readonly runnerServiceAccountEmails!: pulumi.Output<Record<string, string>>;
    /** PEM public key of the signing key version, for verifiers. */
    public readonly signerPublicKeyPem!: pulumi.Output<string>;
    /** Full name of the key version the signer uses. */
    public readonly signerKeyVersionName!: pulumi.Output<string>;
    /** URL of the internal-only signer service. */
    public readonly signerServiceUrl!: pulumi.Output<string>;
    /** Name of the provenance bucket. */
    public readonly provenanceBucketName!: pulumi.Output<string>;
    /** Email of the provenance generator's service account: the signer's only invoker. */
    public readonly generatorServiceAccountEmail!: pulumi.Output<string>;
    /** @deprecated "Control plane" names the zone; the identity is the generator's: use `generatorServiceAccountEmail`. */
    public readonly controlPlaneServiceAccountEmail!: pulumi.Output<string>;
    /** Where GitHub delivers workflow_job events (configure it on the GitHub App). */
    public readonly webhookUrl!: pulumi.Output<string>;
    /** URL of the registration broker the gce runners call (a custom domain in front of it goes to registrationBrokerUrl). */
    public readonly brokerUrl!: pulumi.Output<string>;
    /** Id of the signer's Cloud KMS key ring (`projects/<p>/locations/<l>/keyRings/<r>`): where verifiers find the keys. */
    public readonly signerKeyRingId!: pulumi.Output<string>;
    /** Id of the signing key (`<keyRingId>/cryptoKeys/<k>`). */
    public readonly signerKeyId!: pulumi.Output<string>;
    /** Email of the signer service account. */
    public readonly signerServiceAccountEmail!: pulumi.Output<string>;
    /** The provenance bucket (gcp.storage.Bucket): grant readers on it, or subscribe to its notifications. */
    public readonly provenanceBucket!: Bucket;
    /** The signer's Cloud KMS key ring (gcp.kms.KeyRing): its `location` and `id` are where verifiers find the keys. */
    public readonly signerKeyRing!: KeyRing;
    /** The signing key (gcp.kms.CryptoKey): grant `roles/cloudkms.publicKeyViewer` on it to verifiers. */
    public readonly signerKey!: CryptoKey;
    /** The signer's service account (gcp.serviceaccount.Account). */
    public readonly signerServiceAccount!: Account;
    /** The generator's service account (gcp.serviceaccount.Account): the signer's only caller. */
    public readonly generatorServiceAccount!: Account;
    /** Each pool's runner service account (gcp.serviceaccount.Account), by pool name. */
    public readonly runnerServiceAccounts!: Record<string, Account>;

    constructor(name: string, args: HardenedBuildFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        const body = implementationOf<HardenedBuildFleetArgs, HardenedBuildFleetOutputs>("HardenedBuildFleet");
        // Validate before super(): invalid arguments register nothing, not even this facade.
        body.validate(name, args);
        super("hardened-build-fleet:index:HardenedBuildFleet", name, {}, opts);
        const outputs = body.create(this, name, args);
        Object.assign(this, outputs);
        this.registerOutputs(outputs);
    }
}
