/**
 * Insecure variants of the raw baseline (baseline.ts): each changes one thing and so breaks exactly
 * one invariant. The test (cases.test.ts) runs each variant alone under the full pack and asserts
 * that exactly the listed rules fire, at level mandatory, naming the offending resource.
 *
 * `also` lists the other rules the same change necessarily breaks too (with why); nothing outside
 * `expectedPolicy` + `also` may fire.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { InvariantId } from "../../../policies/meta";
import { throwaway } from "../../helpers/throwaway";
import { Core, Editable, Handles, Mutations, Omittable, POOLS, R, SIGNER_PROJECT, WORKER_PROJECT } from "../../helpers/insecureBaseline";

export interface AlsoFires {
    policy: string;
    /** Logical name of the resource that rule must name; undefined: any. */
    offender?: string;
    /** Why the same change breaks this rule too. */
    why: string;
}

export interface InsecureCase {
    name: string;
    /** The invariant the variant breaks (I1-I12, README "SLSA Build L3 mapping"). */
    invariant: InvariantId;
    /** The rule that must catch it (exact name). */
    expectedPolicy: string;
    /**
     * Logical name of the resource the finding must name (its URN); a list when the rule cannot tell
     * which of several resources is at fault and may name any of them.
     */
    offender: string | string[];
    /** Text the finding's message must contain (e.g. the offender's name when the URN is another's). */
    mentions?: string;
    /**
     * Set when no rule of the pack catches the variant yet: the case is skipped ("POLICY GAP: ...")
     * and listed for the lead; `expectedPolicy` is then the rule that should catch it.
     */
    gap?: string;
    /** Other rules that must fire too (and may). */
    also?: AlsoFires[];
    mutate: (m: Mutations) => void;
    /** Evaluate as a first `pulumi preview`: computed outputs (SA emails, ids) unknown. */
    preview?: boolean;
    /** --policy-pack-config for this case. */
    policyConfig?: Record<string, unknown>;
}

/** Edits the arguments of one baseline resource before it is registered. */
function edit(key: Editable, f: (args: Record<string, any>, core: Core) => void): (m: Mutations) => void {
    return (m) => {
        m.args[key] = f;
    };
}

/** Edits the resource options of one baseline resource. */
function options(key: Editable, f: (opts: pulumi.CustomResourceOptions) => void): (m: Mutations) => void {
    return (m) => {
        m.opts[key] = f;
    };
}

/** Leaves a part of the baseline out. */
function omit(part: Omittable): (m: Mutations) => void {
    return (m) => {
        m.omit.add(part);
    };
}

/** Adds resources once the baseline is registered. */
function add(f: (h: Handles) => void): (m: Mutations) => void {
    return (m) => {
        m.after.push(f);
    };
}

const nothing = (): void => undefined;

/** The first network interface / container of the baseline's template and pod. */
const nic0 = (a: Record<string, any>) => a.networkInterfaces[0];
const runner = (a: Record<string, any>) => a.spec.containers[0];

const WORLD_SPREADS: AlsoFires = {
    policy: "pool-network-separation",
    why: "0.0.0.0/0 contains the other pool's and the signer's ranges, so the same rule also opens a path between zones (I5)",
};

/** Runner egress is evaluated by the network firewall policy before the VPC rules (deny-all) on the `vm` network. */
function firewallPolicyFirst(m: Mutations): void {
    m.network = (zone, args) => {
        if (zone === "vm") {
            args.networkFirewallPolicyEnforcementOrder = "BEFORE_CLASSIC_FIREWALL";
        }
    };
}

/**
 * A NetworkFirewallPolicyWithRules whose inline rule allows egress to 0.0.0.0/0, associated with the
 * `vm` network, which evaluates it before its VPC rules (so the deny-all VPC rule never applies).
 */
function worldEgressPolicyWithRules(m: Mutations): void {
    firewallPolicyFirst(m);
    add((h) => {
        const policy = new gcp.compute.NetworkFirewallPolicyWithRules("vm-egress-policy-with-rules", {
            project: WORKER_PROJECT,
            rules: [{ priority: 100, direction: "EGRESS", action: "allow", match: { destIpRanges: ["0.0.0.0/0"], layer4Configs: [{ ipProtocol: "tcp", ports: ["443"] }] } }],
        });
        new gcp.compute.NetworkFirewallPolicyAssociation("vm-egress-policy-with-rules-assoc", { project: WORKER_PROJECT, firewallPolicy: policy.name, attachmentTarget: h.vm.network.id });
    })(m);
}

/** The same change also grants a runner identity something outside the runner allow-list (I7). */
const allowList = (offender: string): AlsoFires => ({
    policy: "runner-least-privilege",
    offender,
    why: "a runner identity now holds a grant or credential outside the runner allow-list",
});

/** The Workload Identity principal runner pods act as (the runner namespace's Kubernetes SA). */
const KSA = `serviceAccount:${WORKER_PROJECT}.svc.id.goog[runners/runner]`;

export const CASES: InsecureCase[] = [
    // ---------------------------------------------------------------- I3 no inbound
    {
        name: "runner template with an external IPv4 access config",
        invariant: "I3",
        expectedPolicy: "runner-vm-no-external-ip",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a) => {
            nic0(a).accessConfigs = [{ networkTier: "STANDARD" }];
        }),
    },
    {
        name: "runner template with an external IPv6 access config",
        invariant: "I3",
        expectedPolicy: "runner-vm-no-external-ip",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a) => {
            nic0(a).stackType = "IPV4_IPV6";
            nic0(a).ipv6AccessConfigs = [{ networkTier: "PREMIUM" }];
        }),
    },
    {
        name: "ssh-keys in the runner template metadata",
        invariant: "I3",
        expectedPolicy: "runner-vm-no-ssh",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a) => {
            // A placeholder, not a key.
            a.metadata["ssh-keys"] = "admin:ssh-ed25519 AAAAPLACEHOLDERNOTAKEY admin@example.com";
        }),
    },
    {
        name: "project-wide SSH keys not blocked",
        invariant: "I3",
        expectedPolicy: "runner-vm-no-ssh",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a) => {
            delete a.metadata["block-project-ssh-keys"];
        }),
    },
    {
        name: "serial port enabled",
        invariant: "I3",
        expectedPolicy: "runner-vm-serial-port-off",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a) => {
            a.metadata["serial-port-enable"] = "TRUE";
        }),
    },
    {
        name: "IP forwarding on (canIpForward)",
        invariant: "I3",
        expectedPolicy: "runner-vm-no-ip-forwarding",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a) => {
            a.canIpForward = true;
        }),
    },
    {
        name: "ingress firewall rule from 0.0.0.0/0 on a pool network",
        invariant: "I3",
        expectedPolicy: "firewall-no-world-ingress",
        offender: "vm-allow-ssh-world",
        also: [{ ...WORLD_SPREADS, offender: "vm-allow-ssh-world" }, { policy: "runner-network-no-ingress", offender: "vm-allow-ssh-world", why: "any ingress allow into a runner network breaks I3" }],
        mutate: add((h) => {
            new gcp.compute.Firewall("vm-allow-ssh-world", {
                project: WORKER_PROJECT, network: h.vm.network.id, direction: "INGRESS", priority: 1000,
                sourceRanges: ["0.0.0.0/0"], allows: [{ protocol: "tcp", ports: ["22"] }],
            });
        }),
    },

    {
        name: "standalone runner VM (Instance) with an external IP",
        invariant: "I3",
        expectedPolicy: "runner-vm-no-external-ip",
        offender: "vm-debug-instance",
        mutate: add((h) => {
            // Hardened in every other respect: only the access config is wrong.
            new gcp.compute.Instance("vm-debug-instance", {
                project: WORKER_PROJECT, zone: "europe-west1-b", machineType: "e2-standard-4",
                labels: { "build-fleet-role": "runner", "build-fleet-pool": POOLS.vm.pool },
                bootDisk: { autoDelete: true, initializeParams: { image: "projects/acme-images/global/images/family/gha-runner" } },
                networkInterfaces: [{ subnetwork: h.vm.subnet.id, accessConfigs: [{}] }],
                metadata: { "block-project-ssh-keys": "TRUE", "serial-port-enable": "FALSE" },
                shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
                scheduling: { maxRunDuration: { seconds: 3600 }, instanceTerminationAction: "DELETE", provisioningModel: "SPOT", preemptible: true, automaticRestart: false },
                serviceAccount: { email: h.vm.sa.email, scopes: ["cloud-platform"] },
            });
        }),
    },

    // ---------------------------------------------------------------- I1 ephemeral
    {
        name: "extra persistent disk on the runner template",
        invariant: "I1",
        expectedPolicy: "runner-vm-ephemeral-disks",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a) => {
            a.disks.push({ boot: false, autoDelete: true, diskType: "pd-ssd", diskSizeGb: 200, type: "PERSISTENT", deviceName: "cache" });
        }),
    },
    {
        name: "boot disk not auto-deleted",
        invariant: "I1",
        expectedPolicy: "runner-vm-ephemeral-disks",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a) => {
            a.disks[0].autoDelete = false;
        }),
    },
    {
        name: "boot disk attached from an existing disk",
        invariant: "I1",
        expectedPolicy: "runner-vm-ephemeral-disks",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a) => {
            delete a.disks[0].sourceImage;
            a.disks[0].source = "projects/acme-workers/zones/europe-west1-b/disks/warm-cache";
        }),
    },
    {
        name: "stateful disk on the runner MIG",
        invariant: "I1",
        expectedPolicy: "runner-mig-stateless",
        offender: R.vmMig,
        mutate: edit("vmMig", (a) => {
            a.statefulDisks = [{ deviceName: "persistent-disk-0", deleteRule: "NEVER" }];
        }),
    },
    {
        name: "per-instance config preserving state in the runner MIG",
        invariant: "I1",
        expectedPolicy: "runner-mig-stateless",
        offender: "vm-mig-pinned",
        mutate: add((h) => {
            new gcp.compute.RegionPerInstanceConfig("vm-mig-pinned", {
                project: WORKER_PROJECT, region: "europe-west1", regionInstanceGroupManager: h.vmMig.name, name: "linux-vm-runner-pinned",
                preservedState: { metadata: { pinned: "true" } },
            });
        }),
    },
    {
        name: "runner pod mounts a persistentVolumeClaim",
        invariant: "I1",
        expectedPolicy: "k8s-runner-no-persistent-volumes",
        offender: R.k8sPod,
        mutate: edit("k8sPod", (a) => {
            a.spec.volumes.push({ name: "cache", persistentVolumeClaim: { claimName: "build-cache" } });
            runner(a).volumeMounts.push({ name: "cache", mountPath: "/cache" });
        }),
    },

    // ---------------------------------------------------------------- I2 bounded lifetime
    {
        name: "no scheduling.maxRunDuration",
        invariant: "I2",
        expectedPolicy: "runner-vm-bounded-lifetime",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a) => {
            delete a.scheduling.maxRunDuration;
        }),
    },
    {
        name: "maxRunDuration above the default bound (2 days > 86400 s)",
        invariant: "I2",
        expectedPolicy: "runner-vm-bounded-lifetime",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a) => {
            a.scheduling.maxRunDuration = { seconds: 172800 };
        }),
    },
    {
        name: "maxRunDuration above a configured bound (3600 s > maxBuildDurationSeconds 1800)",
        invariant: "I2",
        expectedPolicy: "runner-vm-bounded-lifetime",
        offender: R.vmTemplate,
        policyConfig: { "runner-vm-bounded-lifetime": { maxBuildDurationSeconds: 1800 } },
        mutate: nothing,
    },
    {
        name: "instanceTerminationAction STOP",
        invariant: "I2",
        expectedPolicy: "runner-vm-bounded-lifetime",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a) => {
            a.scheduling.instanceTerminationAction = "STOP";
        }),
    },

    {
        name: "runner pod without activeDeadlineSeconds",
        invariant: "I2",
        expectedPolicy: "k8s-runner-bounded-lifetime",
        offender: R.k8sPod,
        mentions: "activeDeadlineSeconds is not set",
        mutate: edit("k8sPod", (a) => {
            delete a.spec.activeDeadlineSeconds;
        }),
    },
    {
        name: "runner pod activeDeadlineSeconds above a configured bound (3600 s > maxBuildDurationSeconds 1800)",
        invariant: "I2",
        expectedPolicy: "k8s-runner-bounded-lifetime",
        offender: R.k8sPod,
        mentions: "above the configured bound of 1800 seconds",
        // Both lifetime rules share the meaning of maxBuildDurationSeconds; only the pod's is lowered here.
        policyConfig: { "k8s-runner-bounded-lifetime": { maxBuildDurationSeconds: 1800 } },
        mutate: nothing,
    },

    // ---------------------------------------------------------------- I6 hardened host
    {
        name: "Shielded VM secure boot off",
        invariant: "I6",
        expectedPolicy: "runner-vm-shielded",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a) => {
            a.shieldedInstanceConfig.enableSecureBoot = false;
        }),
    },
    {
        name: "GKE cluster without private nodes",
        invariant: "I6",
        expectedPolicy: "gke-cluster-hardened",
        offender: R.k8sCluster,
        mutate: edit("k8sCluster", (a) => {
            a.privateClusterConfig.enablePrivateNodes = false;
        }),
    },
    {
        name: "GKE cluster with legacy ABAC",
        invariant: "I6",
        expectedPolicy: "gke-cluster-hardened",
        offender: R.k8sCluster,
        mutate: edit("k8sCluster", (a) => {
            a.enableLegacyAbac = true;
        }),
    },
    {
        name: "GKE cluster issuing a client certificate",
        invariant: "I6",
        expectedPolicy: "gke-cluster-hardened",
        offender: R.k8sCluster,
        mutate: edit("k8sCluster", (a) => {
            a.masterAuth.clientCertificateConfig.issueClientCertificate = true;
        }),
    },
    {
        name: "runner node pool without gVisor",
        invariant: "I6",
        expectedPolicy: "gke-runner-node-pool-hardened",
        offender: R.k8sNodePool,
        mutate: edit("k8sNodePool", (a) => {
            delete a.nodeConfig.sandboxConfig;
        }),
    },
    {
        name: "runner node pool with GCE_METADATA (node credentials visible to pods)",
        invariant: "I6",
        expectedPolicy: "gke-runner-node-pool-hardened",
        offender: R.k8sNodePool,
        mutate: edit("k8sNodePool", (a) => {
            a.nodeConfig.workloadMetadataConfig.mode = "GCE_METADATA";
        }),
    },
    {
        name: "runner namespace without the Pod Security restricted label",
        invariant: "I6",
        expectedPolicy: "k8s-runner-namespace-restricted",
        offender: R.k8sNamespace,
        mutate: edit("k8sNamespace", (a) => {
            a.metadata.labels["pod-security.kubernetes.io/enforce"] = "baseline";
        }),
    },
    {
        name: "privileged runner pod",
        invariant: "I6",
        expectedPolicy: "k8s-runner-pod-security",
        offender: R.k8sPod,
        mutate: edit("k8sPod", (a) => {
            runner(a).securityContext.privileged = true;
        }),
    },
    {
        name: "runner pod container running as root",
        invariant: "I6",
        expectedPolicy: "k8s-runner-pod-security",
        offender: R.k8sPod,
        mutate: edit("k8sPod", (a) => {
            runner(a).securityContext.runAsNonRoot = false;
            runner(a).securityContext.runAsUser = 0;
        }),
    },
    {
        name: "runner pod mounts a hostPath volume (docker socket)",
        invariant: "I6",
        expectedPolicy: "k8s-runner-no-host-access",
        offender: R.k8sPod,
        mutate: edit("k8sPod", (a) => {
            a.spec.volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock", type: "Socket" } });
            runner(a).volumeMounts.push({ name: "docker", mountPath: "/var/run/docker.sock" });
        }),
    },
    {
        name: "runner pod on the host network",
        invariant: "I6",
        expectedPolicy: "k8s-runner-no-host-access",
        offender: R.k8sPod,
        mutate: edit("k8sPod", (a) => {
            a.spec.hostNetwork = true;
        }),
    },

    {
        name: "GKE cluster without Workload Identity",
        invariant: "I6",
        expectedPolicy: "gke-cluster-hardened",
        offender: R.k8sCluster,
        mutate: edit("k8sCluster", (a) => {
            delete a.workloadIdentityConfig;
        }),
    },
    {
        name: "GKE default node pool kept, without gVisor",
        invariant: "I6",
        expectedPolicy: "gke-runner-node-pool-hardened",
        offender: R.k8sCluster,
        mutate: edit("k8sCluster", (a) => {
            a.removeDefaultNodePool = false;
        }),
    },
    {
        name: "runner container adds the SYS_ADMIN capability",
        invariant: "I6",
        expectedPolicy: "k8s-runner-pod-security",
        offender: R.k8sPod,
        mutate: edit("k8sPod", (a) => {
            runner(a).securityContext.capabilities = { drop: ["ALL"], add: ["SYS_ADMIN"] };
        }),
    },

    // ---------------------------------------------------------------- I7 no standing credentials
    {
        name: "runner pod automounts its service-account token",
        invariant: "I7",
        expectedPolicy: "k8s-runner-no-sa-token",
        offender: R.k8sPod,
        mutate: edit("k8sPod", (a) => {
            a.spec.automountServiceAccountToken = true;
        }),
    },
    {
        name: "service-account key for the runner SA",
        invariant: "I7",
        expectedPolicy: "no-service-account-keys",
        offender: "vm-runner-key",
        also: [allowList("vm-runner-key")],
        mutate: add((h) => {
            new gcp.serviceaccount.Key("vm-runner-key", { serviceAccountId: h.vm.sa.name });
        }),
    },
    {
        name: "runner template runs as the default compute service account",
        invariant: "I7",
        expectedPolicy: "runner-vm-not-default-sa",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a) => {
            a.serviceAccount = { email: "123456789012-compute@developer.gserviceaccount.com", scopes: ["cloud-platform"] };
        }),
    },

    {
        name: "runner template service-account block without an email (the default compute SA)",
        invariant: "I7",
        expectedPolicy: "runner-vm-not-default-sa",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a) => {
            a.serviceAccount = { scopes: ["cloud-platform"] };
        }),
    },
    {
        // CrossGuard unwraps the Pulumi secret: the rule sees the plaintext and decides from the key name.
        name: "Pulumi secret (a GitHub token) in the runner template metadata",
        invariant: "I7",
        expectedPolicy: "runner-vm-no-secrets-in-metadata",
        offender: R.vmTemplate,
        mentions: "metadata[\"github-token\"]",
        mutate: edit("vmTemplate", (a) => {
            a.metadata["github-token"] = pulumi.secret("ghp_PLACEHOLDER_NOT_A_TOKEN");
        }),
    },
    {
        name: "GitHub token (shape, not name) embedded in the runner template's startup script",
        invariant: "I7",
        expectedPolicy: "runner-vm-no-secrets-in-metadata",
        offender: R.vmTemplate,
        mentions: "metadataStartupScript contains a GitHub token",
        mutate: edit("vmTemplate", (a) => {
            a.metadataStartupScript = `#!/bin/bash\n./config.sh --url https://github.com/acme --token ${throwaway.githubToken()} --ephemeral\n`;
        }),
    },
    {
        name: "Pulumi secret (a GitHub token) in the runner pod env",
        invariant: "I7",
        expectedPolicy: "k8s-runner-no-secrets-in-env",
        offender: R.k8sPod,
        mentions: "GITHUB_TOKEN passes a credential",
        mutate: edit("k8sPod", (a) => {
            runner(a).env = [{ name: "GITHUB_TOKEN", value: pulumi.secret("ghp_PLACEHOLDER_NOT_A_TOKEN") }];
        }),
    },
    {
        name: "runner pod env reads a Kubernetes Secret (secretKeyRef)",
        invariant: "I7",
        expectedPolicy: "k8s-runner-no-secrets-in-env",
        offender: R.k8sPod,
        mentions: "valueFrom.secretKeyRef",
        mutate: edit("k8sPod", (a) => {
            runner(a).env = [{ name: "REGISTRY_AUTH", valueFrom: { secretKeyRef: { name: "registry", key: "auth" } } }];
        }),
    },
    {
        name: "runner pod mounts a Kubernetes Secret volume",
        invariant: "I7",
        expectedPolicy: "k8s-runner-no-secrets-in-env",
        offender: R.k8sPod,
        mentions: "mounts Secret \"github-app\"",
        mutate: edit("k8sPod", (a) => {
            a.spec.volumes.push({ name: "app-key", secret: { secretName: "github-app" } });
            runner(a).volumeMounts.push({ name: "app-key", mountPath: "/etc/github-app", readOnly: true });
        }),
    },

    // ---------------------------------------------------------------- I8 HSM signing key
    {
        name: "signer key in SOFTWARE, not HSM",
        invariant: "I8",
        expectedPolicy: "signer-key-hsm",
        offender: R.signerKey,
        mutate: edit("signerKey", (a) => {
            a.versionTemplate.protectionLevel = "SOFTWARE";
        }),
    },
    {
        name: "ENCRYPT_DECRYPT key labelled signer",
        invariant: "I8",
        expectedPolicy: "signer-key-asymmetric-sign",
        offender: R.signerKey,
        also: [{ policy: "signer-key-algorithm", offender: R.signerKey, why: "a symmetric key's algorithm (GOOGLE_SYMMETRIC_ENCRYPTION) is not an allowed signing algorithm (I8)" }],
        mutate: edit("signerKey", (a) => {
            a.purpose = "ENCRYPT_DECRYPT";
            a.versionTemplate = { algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION", protectionLevel: "HSM" };
        }),
    },
    {
        name: "signer key algorithm outside the allow-list (RSA 2048)",
        invariant: "I8",
        expectedPolicy: "signer-key-algorithm",
        offender: R.signerKey,
        mutate: edit("signerKey", (a) => {
            a.versionTemplate.algorithm = "RSA_SIGN_PKCS1_2048_SHA256";
        }),
    },
    {
        name: "signer key not protected from deletion",
        invariant: "I8",
        expectedPolicy: "signer-key-deletion-protected",
        offender: R.signerKey,
        mutate: options("signerKey", (o) => {
            o.protect = false;
        }),
    },
    {
        name: "signer key ring not protected from deletion",
        invariant: "I8",
        expectedPolicy: "signer-key-ring-deletion-protected",
        offender: R.signerRing,
        mutate: options("signerRing", (o) => {
            o.protect = false;
        }),
    },

    {
        name: "import-only signer key (material generated outside the HSM)",
        invariant: "I8",
        expectedPolicy: "signer-key-hsm",
        offender: R.signerKey,
        mutate: edit("signerKey", (a) => {
            a.importOnly = true;
        }),
    },

    // ---------------------------------------------------------------- I9 single signer
    {
        name: "runner SA granted roles/cloudkms.signer at project level in the signer project",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "vm-runner-project-signer",
        also: [allowList("vm-runner-project-signer"), { policy: "runners-cannot-reach-enclave", offender: "vm-runner-project-signer", why: "a runner identity holds a role over the signer project (I10)" }],
        mutate: add((h) => {
            new gcp.projects.IAMMember("vm-runner-project-signer", { project: SIGNER_PROJECT, role: "roles/cloudkms.signer", member: h.vm.sa.member });
        }),
    },
    {
        name: "GKE pool runner SA granted roles/cloudkms.signer on the signer key",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "k8s-runner-key-signer",
        also: [allowList("k8s-runner-key-signer"), { policy: "runners-cannot-reach-enclave", offender: "k8s-runner-key-signer", why: "a runner identity holds a role on the signer key (I10)" }],
        mutate: add((h) => {
            new gcp.kms.CryptoKeyIAMMember("k8s-runner-key-signer", { cryptoKeyId: h.key.id, role: "roles/cloudkms.signer", member: h.k8s.sa.member });
        }),
    },
    {
        name: "runner SA granted token creator on the signer SA (impersonation)",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "vm-runner-impersonates-signer",
        also: [allowList("vm-runner-impersonates-signer"), { policy: "runners-cannot-reach-enclave", offender: "vm-runner-impersonates-signer", why: "a runner identity holds a role on the signer SA (I10)" }],
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("vm-runner-impersonates-signer", {
                serviceAccountId: h.signer.sa.name, role: "roles/iam.serviceAccountTokenCreator", member: h.vm.sa.member,
            });
        }),
    },
    {
        name: "custom role holding cloudkms.cryptoKeyVersions.useToSign granted to the control plane",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "control-plane-custom-signer",
        mutate: add((h) => {
            const role = new gcp.projects.IAMCustomRole("key-user-role", {
                project: SIGNER_PROJECT, roleId: "provenanceKeyUser", title: "Provenance key user",
                permissions: ["cloudkms.cryptoKeyVersions.useToSign", "cloudkms.cryptoKeyVersions.viewPublicKey"],
            });
            new gcp.kms.CryptoKeyIAMMember("control-plane-custom-signer", { cryptoKeyId: h.key.id, role: role.name, member: h.controlPlaneSa.member });
        }),
    },
    {
        name: "a human group granted roles/cloudkms.signerVerifier on the key ring",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "release-team-ring-signer",
        // A group's membership is outside the stack: it may contain every runner.
        also: [{ policy: "runner-least-privilege", offender: "release-team-ring-signer", why: "the group may contain every runner, and the grant carries the sign capability" }],
        mutate: add((h) => {
            new gcp.kms.KeyRingIAMMember("release-team-ring-signer", { keyRingId: h.ring.id, role: "roles/cloudkms.signerVerifier", member: "group:release-team@acme.example" });
        }),
    },

    {
        name: "runner SA granted roles/cloudkms.signerVerifier on the signer project (IAMBinding)",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "vm-runner-project-binding",
        also: [allowList("vm-runner-project-binding"), { policy: "runners-cannot-reach-enclave", offender: "vm-runner-project-binding", why: "a runner identity holds a role over the signer project (I10)" }],
        mutate: add((h) => {
            new gcp.projects.IAMBinding("vm-runner-project-binding", { project: SIGNER_PROJECT, role: "roles/cloudkms.signerVerifier", members: [h.vm.sa.member] });
        }),
    },
    {
        name: "runner SA granted roles/cloudkms.signer at folder level",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "vm-runner-folder-signer",
        also: [allowList("vm-runner-folder-signer"), { policy: "runners-cannot-reach-enclave", offender: "vm-runner-folder-signer", why: "a folder grant covers the signer project (I10)" }],
        mutate: add((h) => {
            new gcp.folder.IAMMember("vm-runner-folder-signer", { folder: "folders/123456789012", role: "roles/cloudkms.signer", member: h.vm.sa.member });
        }),
    },
    {
        name: "runner SA granted roles/iam.serviceAccountUser on the signer project (acts as the signer SA)",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "vm-runner-acts-as-signer",
        also: [allowList("vm-runner-acts-as-signer"), { policy: "runners-cannot-reach-enclave", offender: "vm-runner-acts-as-signer", why: "a runner identity holds a role over the signer project (I10)" }],
        mutate: add((h) => {
            new gcp.projects.IAMMember("vm-runner-acts-as-signer", { project: SIGNER_PROJECT, role: "roles/iam.serviceAccountUser", member: h.vm.sa.member });
        }),
    },
    {
        name: "control plane granted roles/cloudkms.admin on the key (can grant itself signing)",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "control-plane-key-admin",
        also: [{ policy: "signer-key-versions-controlled", offender: "control-plane-key-admin", why: "cloudkms.admin can also create signer key versions outside the rotation path" }],
        mutate: add((h) => {
            new gcp.kms.CryptoKeyIAMMember("control-plane-key-admin", { cryptoKeyId: h.key.id, role: "roles/cloudkms.admin", member: h.controlPlaneSa.member });
        }),
    },
    {
        name: "service-account key for the signer SA",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "signer-sa-key",
        also: [{ policy: "no-service-account-keys", offender: "signer-sa-key", why: "any service-account key is a standing credential (I7)" }],
        mutate: add((h) => {
            new gcp.serviceaccount.Key("signer-sa-key", { serviceAccountId: h.signer.sa.name });
        }),
    },
    {
        name: "runner pods' Workload Identity principal granted workloadIdentityUser on the signer SA",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "runner-ksa-acts-as-signer",
        also: [allowList("runner-ksa-acts-as-signer"), {
            policy: "runners-cannot-reach-enclave",
            offender: "runner-ksa-acts-as-signer",
            why: "the principal is the runner pods' Workload Identity, a runner identity, and it holds a role on the signer SA (I10); the signer SA it can act as becomes a runner identity too",
        }],
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("runner-ksa-acts-as-signer", { serviceAccountId: h.signer.sa.name, role: "roles/iam.workloadIdentityUser", member: KSA });
        }),
    },
    {
        name: "runner namespace's Workload Identity principalSet granted roles/cloudkms.signer on the key",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "runner-namespace-signs",
        also: [allowList("runner-namespace-signs"), { policy: "runners-cannot-reach-enclave", offender: "runner-namespace-signs", why: "every pod of runner namespace runners, a runner identity, holds a role on the signer key (I10)" }],
        mutate: add((h) => {
            new gcp.kms.CryptoKeyIAMMember("runner-namespace-signs", {
                cryptoKeyId: h.key.id, role: "roles/cloudkms.signer",
                member: `principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/${WORKER_PROJECT}.svc.id.goog/namespace/runners`,
            });
        }),
    },

    // ---------------------------------------------------------------- I10 enclave isolation
    {
        name: "signer Cloud Run ingress ALL",
        invariant: "I10",
        expectedPolicy: "signer-service-internal-ingress",
        offender: R.signerService,
        mutate: edit("signerService", (a) => {
            a.ingress = "INGRESS_TRAFFIC_ALL";
        }),
    },
    {
        name: "allUsers invoker on the signer service",
        invariant: "I10",
        expectedPolicy: "cloud-run-no-public-invoker",
        offender: "signer-public-invoker",
        also: [{ policy: "signer-invoked-by-generator-only", offender: "signer-public-invoker", why: "the grantee can now invoke the signer besides the generator" }, allowList("signer-public-invoker")],
        mutate: add((h) => {
            new gcp.cloudrunv2.ServiceIamMember("signer-public-invoker", {
                project: SIGNER_PROJECT, location: "europe-west1", name: h.service.name, role: "roles/run.invoker", member: "allUsers",
            });
        }),
    },
    {
        name: "signer service with the invoker IAM check disabled",
        invariant: "I10",
        expectedPolicy: "signer-service-no-public-invoker",
        offender: R.signerService,
        mutate: edit("signerService", (a) => {
            a.invokerIamDisabled = true;
        }),
    },
    {
        name: "runner SA granted run.invoker on the signer service",
        invariant: "I10",
        expectedPolicy: "runners-cannot-reach-enclave",
        offender: "vm-runner-invokes-signer",
        also: [{ policy: "signer-invoked-by-generator-only", offender: "vm-runner-invokes-signer", why: "the grantee can now invoke the signer besides the generator" }, allowList("vm-runner-invokes-signer")],
        mutate: add((h) => {
            new gcp.cloudrunv2.ServiceIamMember("vm-runner-invokes-signer", {
                project: SIGNER_PROJECT, location: "europe-west1", name: h.service.name, role: "roles/run.invoker", member: h.vm.sa.member,
            });
        }),
    },

    {
        name: "allAuthenticatedUsers reader on the provenance bucket",
        invariant: "I10",
        expectedPolicy: "no-public-iam",
        offender: "provenance-public-reader",
        also: [allowList("provenance-public-reader")],
        mutate: add((h) => {
            new gcp.storage.BucketIAMMember("provenance-public-reader", { bucket: h.provenance.name, role: "roles/storage.objectViewer", member: "allAuthenticatedUsers" });
        }),
    },
    {
        name: "public READER ACL on the provenance bucket",
        invariant: "I10",
        expectedPolicy: "no-public-iam",
        offender: "provenance-public-acl",
        also: [allowList("provenance-public-acl")],
        mutate: add((h) => {
            new gcp.storage.BucketAccessControl("provenance-public-acl", { bucket: h.provenance.name, role: "READER", entity: "allUsers" });
        }),
    },
    {
        name: "runner SA granted token creator on the control-plane SA (invokes the signer as the control plane)",
        invariant: "I10",
        expectedPolicy: "runners-cannot-reach-enclave",
        // The rule reports the control plane's grants (now a runner identity's), not the impersonation grant.
        offender: R.signerInvokers,
        also: [{ policy: "signer-invoked-by-generator-only", offender: "signer-invokers", why: "the grantee can now invoke the signer besides the generator" }, { policy: "platform-identity-impersonation", offender: "vm-runner-impersonates-control-plane", why: "the runner can act as the platform identity that invokes the signer" }, allowList("vm-runner-impersonates-control-plane"), 
            { policy: "provenance-by-control-plane", offender: "vm-intake-reader", why: "the control plane, now a runner identity, reads the intake bucket (I11)" },
            { policy: "pool-intake-separation", offender: "k8s-intake-reader", why: "the control plane, now a runner identity of pool linux-vm, reads the other pool's intake bucket (I5)" },
        ],
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("vm-runner-impersonates-control-plane", {
                serviceAccountId: h.controlPlaneSa.name, role: "roles/iam.serviceAccountTokenCreator", member: h.vm.sa.member,
            });
        }),
    },
    {
        name: "GKE runner node pool runs as the signer SA",
        invariant: "I10",
        expectedPolicy: "runners-cannot-reach-enclave",
        offender: R.signerSa,
        also: [allowList("provenance-writer"), { policy: "role-labels-required", offender: R.signerService, why: "the signer-labelled service now runs as a runner identity (label laundering)" }],
        mutate: edit("k8sNodePool", (a, core) => {
            a.nodeConfig.serviceAccount = core.signer.sa.email;
        }),
    },
    {
        // Runner pods act as the runner namespace's Kubernetes SA through Workload Identity: that principal
        // is a runner identity (graph.ts), so its invoker grant on the signer service breaks I10.
        name: "runner pods' Workload Identity principal granted run.invoker on the signer service",
        invariant: "I10",
        expectedPolicy: "runners-cannot-reach-enclave",
        offender: "runner-ksa-invokes-signer",
        mentions: "runner identity serviceAccount:acme-workers.svc.id.goog[runners/runner] (pool containers) holds roles/run.invoker",
        also: [{ policy: "signer-invoked-by-generator-only", offender: "runner-ksa-invokes-signer", why: "the grantee can now invoke the signer besides the generator" }, allowList("runner-ksa-invokes-signer")],
        mutate: add((h) => {
            new gcp.cloudrunv2.ServiceIamMember("runner-ksa-invokes-signer", {
                project: SIGNER_PROJECT, location: "europe-west1", name: h.service.name, role: "roles/run.invoker", member: KSA,
            });
        }),
    },

    // ---------------------------------------------------------------- I5 pool separation
    {
        name: "VPC peering between the two pool networks",
        invariant: "I5",
        expectedPolicy: "pool-network-separation",
        offender: "vm-to-k8s-peering",
        mutate: add((h) => {
            new gcp.compute.NetworkPeering("vm-to-k8s-peering", { network: h.vm.network.selfLink, peerNetwork: h.k8s.network.selfLink });
        }),
    },
    {
        name: "firewall rule admitting a pool range into the signer network",
        invariant: "I5",
        expectedPolicy: "pool-network-separation",
        offender: "signer-allow-from-vm-pool",
        mutate: add((h) => {
            new gcp.compute.Firewall("signer-allow-from-vm-pool", {
                project: SIGNER_PROJECT, network: h.signer.network.id, direction: "INGRESS", priority: 1000,
                sourceRanges: [POOLS.vm.cidr], allows: [{ protocol: "tcp", ports: ["443"] }],
            });
        }),
    },
    {
        name: "firewall rule letting one pool's runners egress to the other pool's range",
        invariant: "I5",
        expectedPolicy: "pool-network-separation",
        offender: "vm-egress-to-k8s-pool",
        mutate: add((h) => {
            new gcp.compute.Firewall("vm-egress-to-k8s-pool", {
                project: WORKER_PROJECT, network: h.vm.network.id, direction: "EGRESS", priority: 1000,
                destinationRanges: [POOLS.k8s.cidr], allows: [{ protocol: "tcp", ports: ["22"] }],
            });
        }),
    },
    {
        name: "shared VPC host in the worker project",
        invariant: "I5",
        expectedPolicy: "pool-network-separation",
        offender: "worker-shared-vpc-host",
        mutate: add(() => {
            new gcp.compute.SharedVPCHostProject("worker-shared-vpc-host", { project: WORKER_PROJECT });
        }),
    },
    {
        name: "runner SA granted objectCreator on another pool's intake bucket",
        invariant: "I5",
        expectedPolicy: "pool-intake-separation",
        offender: "vm-runner-on-k8s-intake",
        also: [allowList("vm-runner-on-k8s-intake")],
        mutate: add((h) => {
            new gcp.storage.BucketIAMMember("vm-runner-on-k8s-intake", { bucket: h.intake.k8s.name, role: "roles/storage.objectCreator", member: h.vm.sa.member });
        }),
    },
    {
        name: "runner template attached to the other pool's network",
        invariant: "I5",
        expectedPolicy: "runner-network-attachment",
        // The rule reports the clash on whichever runner of the network registers later (registration
        // order is not fixed), and names both runners in the message.
        offender: [R.vmTemplate, R.k8sCluster, R.k8sNodePool],
        mentions: R.vmTemplate,
        mutate: edit("vmTemplate", (a, core) => {
            a.networkInterfaces = [{ network: core.k8s.network.id, subnetwork: core.k8s.subnet.id }];
        }),
    },

    {
        name: "runner template attached to the signer network",
        invariant: "I5",
        expectedPolicy: "runner-network-attachment",
        offender: R.vmTemplate,
        mutate: edit("vmTemplate", (a, core) => {
            a.networkInterfaces = [{ network: core.signer.network.id, subnetwork: core.signer.subnet.id }];
        }),
    },
    {
        name: "one pool's runner SA may act as the other pool's runner SA",
        invariant: "I5",
        expectedPolicy: "pool-intake-separation",
        // The rule reports the SA that now serves two pools (and its intake grant), not the grant itself.
        offender: R.k8sSa,
        also: [allowList("k8s-runner-workload-identity")],
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("vm-runner-acts-as-k8s-runner", { serviceAccountId: h.k8s.sa.name, role: "roles/iam.serviceAccountUser", member: h.vm.sa.member });
        }),
    },

    // ---------------------------------------------------------------- I11 provenance by control plane
    {
        name: "runner SA granted objectViewer on its own intake bucket",
        invariant: "I11",
        expectedPolicy: "provenance-by-control-plane",
        offender: "vm-runner-reads-intake",
        also: [allowList("vm-runner-reads-intake")],
        mutate: add((h) => {
            new gcp.storage.BucketIAMMember("vm-runner-reads-intake", { bucket: h.intake.vm.name, role: "roles/storage.objectViewer", member: h.vm.sa.member });
        }),
    },
    {
        name: "control plane granted objectCreator on the provenance bucket",
        invariant: "I11",
        expectedPolicy: "provenance-by-control-plane",
        offender: "control-plane-writes-provenance",
        mutate: add((h) => {
            new gcp.storage.BucketIAMMember("control-plane-writes-provenance", { bucket: h.provenance.name, role: "roles/storage.objectCreator", member: h.controlPlaneSa.member });
        }),
    },

    {
        name: "runner SA granted roles/storage.objectAdmin on the worker project (every intake bucket)",
        invariant: "I11",
        expectedPolicy: "provenance-by-control-plane",
        offender: "vm-runner-storage-admin",
        also: [allowList("vm-runner-storage-admin"), { policy: "pool-intake-separation", offender: "vm-runner-storage-admin", why: "the project grant also covers the other pool's intake bucket (I5)" }],
        mutate: add((h) => {
            new gcp.projects.IAMMember("vm-runner-storage-admin", { project: WORKER_PROJECT, role: "roles/storage.objectAdmin", member: h.vm.sa.member });
        }),
    },

    // ---------------------------------------------------------------- I4 egress allow-list
    {
        name: "runner egress allow to 0.0.0.0/0",
        invariant: "I4",
        expectedPolicy: "runner-egress-default-deny",
        offender: "vm-allow-egress-world",
        also: [{ ...WORLD_SPREADS, offender: "vm-allow-egress-world" }],
        mutate: add((h) => {
            new gcp.compute.Firewall("vm-allow-egress-world", {
                project: WORKER_PROJECT, network: h.vm.network.id, direction: "EGRESS", priority: 1000,
                destinationRanges: ["0.0.0.0/0"], allows: [{ protocol: "tcp", ports: ["443"] }],
            });
        }),
    },
    {
        name: "runner egress allow to 0.0.0.0/1 and 128.0.0.0/1 (all of IPv4 without writing 0.0.0.0/0)",
        invariant: "I4",
        expectedPolicy: "runner-egress-default-deny",
        offender: "vm-allow-egress-halves",
        mentions: "together cover every IPv4 address",
        also: [{ ...WORLD_SPREADS, offender: "vm-allow-egress-halves" }],
        mutate: add((h) => {
            new gcp.compute.Firewall("vm-allow-egress-halves", {
                project: WORKER_PROJECT, network: h.vm.network.id, direction: "EGRESS", priority: 1000,
                destinationRanges: ["0.0.0.0/1", "128.0.0.0/1"], allows: [{ protocol: "tcp", ports: ["443"] }],
            });
        }),
    },
    {
        name: "hierarchical (folder) firewall policy allowing egress to 0.0.0.0/0, evaluated before every VPC rule",
        invariant: "I4",
        expectedPolicy: "runner-egress-default-deny",
        offender: "folder-allow-world",
        mentions: "folder-allow-world in runner network",
        also: [{ ...WORLD_SPREADS, offender: "folder-allow-world" }],
        mutate: add(() => {
            const policy = new gcp.compute.FirewallPolicy("folder-egress-policy", { parent: "folders/123456789012", shortName: "fleet-egress" });
            new gcp.compute.FirewallPolicyRule("folder-allow-world", {
                firewallPolicy: policy.name, priority: 100, direction: "EGRESS", action: "allow",
                match: { destIpRanges: ["0.0.0.0/0"], layer4Configs: [{ ipProtocol: "tcp", ports: ["443"] }] },
            });
            new gcp.compute.FirewallPolicyAssociation("folder-egress-policy-assoc", { firewallPolicy: policy.id, attachmentTarget: "folders/123456789012" });
        }),
    },
    {
        name: "pool network without the deny-all egress rule",
        invariant: "I4",
        expectedPolicy: "runner-egress-default-deny",
        offender: R.vmNetwork,
        mutate: omit("vmEgressDeny"),
    },

    {
        name: "runner egress allow to the private.googleapis.com VIP",
        invariant: "I4",
        expectedPolicy: "runner-egress-default-deny",
        offender: "vm-allow-private-vip",
        mutate: add((h) => {
            new gcp.compute.Firewall("vm-allow-private-vip", {
                project: WORKER_PROJECT, network: h.vm.network.id, direction: "EGRESS", priority: 900,
                destinationRanges: ["199.36.153.8/30"], allows: [{ protocol: "tcp", ports: ["443"] }],
            });
        }),
    },
    {
        name: "googleapis.com zone record pointing at private.googleapis.com",
        invariant: "I4",
        expectedPolicy: "runner-egress-default-deny",
        offender: "vm-googleapis-storage-private",
        mutate: add((h) => {
            new gcp.dns.RecordSet("vm-googleapis-storage-private", {
                project: WORKER_PROJECT, managedZone: h.vm.zone.name, name: "storage.googleapis.com.", type: "CNAME", ttl: 300, rrdatas: ["private.googleapis.com."],
            });
        }),
    },
    {
        name: "network firewall policy rule allowing egress to 0.0.0.0/0, evaluated before the VPC rules",
        invariant: "I4",
        expectedPolicy: "runner-egress-default-deny",
        offender: "vm-policy-allow-world",
        also: [{ ...WORLD_SPREADS, offender: "vm-policy-allow-world" }],
        mutate: (m) => {
            firewallPolicyFirst(m);
            add((h) => {
                const policy = new gcp.compute.NetworkFirewallPolicy("vm-egress-policy", { project: WORKER_PROJECT });
                new gcp.compute.NetworkFirewallPolicyRule("vm-policy-allow-world", {
                    project: WORKER_PROJECT, firewallPolicy: policy.name, priority: 100, direction: "EGRESS", action: "allow",
                    match: { destIpRanges: ["0.0.0.0/0"], layer4Configs: [{ ipProtocol: "tcp", ports: ["443"] }] },
                });
                new gcp.compute.NetworkFirewallPolicyAssociation("vm-egress-policy-assoc", { project: WORKER_PROJECT, firewallPolicy: policy.name, attachmentTarget: h.vm.network.id });
            })(m);
        },
    },
    {
        // The same allow-all egress written as a NetworkFirewallPolicyWithRules (rules inline): the
        // association names the policy, which graph.ts indexes like a NetworkFirewallPolicy.
        name: "network firewall policy WITH RULES allowing egress to 0.0.0.0/0, evaluated before the VPC rules",
        invariant: "I4",
        expectedPolicy: "runner-egress-default-deny",
        offender: "vm-egress-policy-with-rules",
        mentions: "vm-egress-policy-with-rules rule #0",
        also: [{ ...WORLD_SPREADS, offender: "vm-egress-policy-with-rules" }],
        mutate: worldEgressPolicyWithRules,
    },
    {
        name: "preview: network firewall policy WITH RULES allowing egress to 0.0.0.0/0 (attached network id unknown)",
        invariant: "I4",
        expectedPolicy: "runner-egress-default-deny",
        offender: "vm-egress-policy-with-rules",
        mentions: "vm-egress-policy-with-rules rule #0",
        preview: true,
        also: [{ ...WORLD_SPREADS, offender: "vm-egress-policy-with-rules" }],
        mutate: worldEgressPolicyWithRules,
    },

    // ---------------------------------------------------------------- I12 audit trail
    {
        name: "no data-access audit config for Cloud KMS",
        invariant: "I12",
        expectedPolicy: "kms-audit-logging",
        offender: R.signerKey,
        mutate: omit("kmsAudit"),
    },
    {
        name: "pool subnet without flow logs",
        invariant: "I12",
        expectedPolicy: "subnet-flow-logs",
        offender: R.vmSubnet,
        mutate: omit("vmFlowLogs"),
    },

    {
        name: "Cloud NAT on a pool network without logging",
        invariant: "I12",
        expectedPolicy: "nat-logging",
        offender: "vm-nat",
        mutate: add((h) => {
            const router = new gcp.compute.Router("vm-router", { project: WORKER_PROJECT, region: "europe-west1", network: h.vm.network.id });
            new gcp.compute.RouterNat("vm-nat", {
                project: WORKER_PROJECT, region: "europe-west1", router: router.name,
                natIpAllocateOption: "AUTO_ONLY", sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES",
            });
        }),
    },

    // ---------------------------------------------------------------- classification (fail closed)
    {
        name: "unlabelled runner instance template",
        invariant: "I5",
        expectedPolicy: "role-labels-required",
        offender: R.vmTemplate,
        also: [allowList("vm-intake-creator"), {
            policy: "pool-intake-separation",
            offender: R.vmIntakeCreator,
            why: "without a pool label the template's SA is a runner of no known pool, so its grant on the pool's intake bucket cannot be proven its own",
        }],
        mutate: edit("vmTemplate", (a) => {
            delete a.labels;
        }),
    },
    {
        name: "runner pod without the pool label",
        invariant: "I5",
        expectedPolicy: "role-labels-required",
        offender: R.k8sPod,
        mutate: edit("k8sPod", (a) => {
            a.metadata.labels = { "build-fleet-role": "runner" };
        }),
    },

    // ---------------------------------------------------------------- preview: identities unknown
    // The runner SA's email (and member) are unknown in a first preview; the grant's member depends on
    // the SA, so the stack rules must decide from propertyDependencies, at level mandatory.
    {
        name: "preview: runner SA (member unknown) granted roles/cloudkms.signer on the key",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "vm-runner-key-signer",
        preview: true,
        also: [allowList("vm-runner-key-signer"), { policy: "runners-cannot-reach-enclave", offender: "vm-runner-key-signer", why: "a runner identity holds a role on the signer key (I10)" }],
        mutate: add((h) => {
            new gcp.kms.CryptoKeyIAMMember("vm-runner-key-signer", { cryptoKeyId: h.key.id, role: "roles/cloudkms.signer", member: h.vm.sa.member });
        }),
    },
    {
        name: "preview: runner SA (interpolated unknown email) granted roles/cloudkms.signer at project level",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "vm-runner-project-signer",
        preview: true,
        also: [allowList("vm-runner-project-signer"), { policy: "runners-cannot-reach-enclave", offender: "vm-runner-project-signer", why: "a runner identity holds a role over the signer project (I10)" }],
        mutate: add((h) => {
            new gcp.projects.IAMMember("vm-runner-project-signer", {
                project: SIGNER_PROJECT, role: "roles/cloudkms.signer", member: pulumi.interpolate`serviceAccount:${h.vm.sa.email}`,
            });
        }),
    },
    {
        name: "preview: runner SA granted token creator on the signer SA (both unknown)",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "vm-runner-impersonates-signer",
        preview: true,
        also: [allowList("provenance-writer"), { policy: "runners-cannot-reach-enclave", offender: "vm-runner-impersonates-signer", why: "a runner identity holds a role on the signer SA (I10)" }],
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("vm-runner-impersonates-signer", {
                serviceAccountId: h.signer.sa.name, role: "roles/iam.serviceAccountTokenCreator", member: h.vm.sa.member,
            });
        }),
    },
    {
        name: "preview: runner SA granted on another pool's intake bucket (bucket and member unknown)",
        invariant: "I5",
        expectedPolicy: "pool-intake-separation",
        offender: "vm-runner-on-k8s-intake",
        preview: true,
        also: [allowList("vm-runner-on-k8s-intake")],
        mutate: add((h) => {
            new gcp.storage.BucketIAMMember("vm-runner-on-k8s-intake", { bucket: h.intake.k8s.name, role: "roles/storage.objectCreator", member: h.vm.sa.member });
        }),
    },
    {
        name: "preview: runner SA granted objectViewer on its own intake bucket",
        invariant: "I11",
        expectedPolicy: "provenance-by-control-plane",
        offender: "vm-runner-reads-intake",
        preview: true,
        also: [allowList("vm-runner-reads-intake")],
        mutate: add((h) => {
            new gcp.storage.BucketIAMMember("vm-runner-reads-intake", { bucket: h.intake.vm.name, role: "roles/storage.objectViewer", member: h.vm.sa.member });
        }),
    },
    {
        name: "preview: runner SA granted run.invoker on the signer service",
        invariant: "I10",
        expectedPolicy: "runners-cannot-reach-enclave",
        offender: "vm-runner-invokes-signer",
        preview: true,
        also: [{ policy: "signer-invoked-by-generator-only", offender: "vm-runner-invokes-signer", why: "the grantee can now invoke the signer besides the generator" }, allowList("vm-runner-invokes-signer")],
        mutate: add((h) => {
            new gcp.cloudrunv2.ServiceIamMember("vm-runner-invokes-signer", {
                project: SIGNER_PROJECT, location: "europe-west1", name: h.service.name, role: "roles/run.invoker", member: h.vm.sa.member,
            });
        }),
    },
    {
        name: "preview: VPC peering between the pool networks (self links unknown)",
        invariant: "I5",
        expectedPolicy: "pool-network-separation",
        offender: "vm-to-k8s-peering",
        preview: true,
        mutate: add((h) => {
            new gcp.compute.NetworkPeering("vm-to-k8s-peering", { network: h.vm.network.selfLink, peerNetwork: h.k8s.network.selfLink });
        }),
    },
    {
        name: "preview: custom role (name unknown) holding useToSign granted to the control plane",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "control-plane-custom-signer",
        preview: true,
        mutate: add((h) => {
            const role = new gcp.projects.IAMCustomRole("key-user-role", {
                project: SIGNER_PROJECT, roleId: "provenanceKeyUser", title: "Provenance key user",
                permissions: ["cloudkms.cryptoKeyVersions.useToSign"],
            });
            new gcp.kms.CryptoKeyIAMMember("control-plane-custom-signer", { cryptoKeyId: h.key.id, role: role.name, member: h.controlPlaneSa.member });
        }),
    },
    {
        name: "preview: runner SA granted roles/cloudkms.signer at folder level",
        invariant: "I9",
        expectedPolicy: "single-signer",
        offender: "vm-runner-folder-signer",
        preview: true,
        also: [allowList("vm-runner-folder-signer"), { policy: "runners-cannot-reach-enclave", offender: "vm-runner-folder-signer", why: "a folder grant covers the signer project (I10)" }],
        mutate: add((h) => {
            new gcp.folder.IAMMember("vm-runner-folder-signer", { folder: "folders/123456789012", role: "roles/cloudkms.signer", member: h.vm.sa.member });
        }),
    },
    {
        name: "preview: runner template (network ids unknown) attached to the other pool's network",
        invariant: "I5",
        expectedPolicy: "runner-network-attachment",
        offender: [R.vmTemplate, R.k8sCluster, R.k8sNodePool],
        mentions: R.vmTemplate,
        preview: true,
        mutate: edit("vmTemplate", (a, core) => {
            a.networkInterfaces = [{ network: core.k8s.network.id, subnetwork: core.k8s.subnet.id }];
        }),
    },
    {
        name: "preview: GKE runner node pool runs as the signer SA (email unknown)",
        invariant: "I10",
        expectedPolicy: "runners-cannot-reach-enclave",
        offender: R.signerSa,
        preview: true,
        also: [allowList("provenance-writer"), { policy: "role-labels-required", offender: R.signerService, why: "the signer-labelled service now runs as a runner identity (label laundering)" }],
        mutate: edit("k8sNodePool", (a, core) => {
            a.nodeConfig.serviceAccount = core.signer.sa.email;
        }),
    },
    {
        name: "preview: no data-access audit config for Cloud KMS",
        invariant: "I12",
        expectedPolicy: "kms-audit-logging",
        offender: R.signerKey,
        preview: true,
        mutate: omit("kmsAudit"),
    },
];
