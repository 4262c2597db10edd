/**
 * The adversarial suite: one-change variants of the raw baseline (baseline.ts), each written the way
 * an attacker of the design (or a hurried platform engineer) would, with raw @pulumi/gcp. Each breaks
 * one invariant through a path the pack must see: a grant outside the runner allow-list in any IAM
 * form, ACL or credential; a way to act as, invoke or re-key the platform; a reference spelled
 * differently; a compute kind that runs code under an identity; a firewall or network join as GCP
 * evaluates it; an image or audit-trail breaker; a data source the offline engine must model.
 *
 * `SECURE` lists sound but unusual designs that must draw no finding at all.
 */
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { InvariantId } from "../../../policies/meta";
import { Handles, Mutations, POOLS, REGION, SIGNER_PROJECT, WORKER_PROJECT } from "../../helpers/insecureBaseline";

export interface Variant {
    name: string;
    invariant: InvariantId;
    /** The rule that must catch it, at level mandatory, naming `offender`. */
    policy: string;
    /** Logical name(s) of the resource the finding must name. */
    offender: string | string[];
    /** Other rules the same change necessarily breaks (they may fire, and must name their offender when given). */
    also?: { policy: string; offender?: string }[];
    mutate: (m: Mutations) => void;
    /** Also run as a first preview: the offending value is an Output, unknown until apply. */
    preview?: boolean;
    policyConfig?: Record<string, unknown>;
}

export interface SecureVariant {
    name: string;
    mutate: (m: Mutations) => void;
    /** Why a preview can only advise here (a value truly unknown until apply): then only advisories may appear. */
    previewAdvisory?: string;
    policyConfig?: Record<string, unknown>;
}

const add = (f: (h: Handles) => void) => (m: Mutations): void => {
    m.after.push(f);
};

const CP = { "build-fleet-role": "control-plane" };
const RUNNER_VM = { "build-fleet-role": "runner", "build-fleet-pool": POOLS.vm.pool };
const DIGEST = `@sha256:${"1".repeat(64)}`;
const VM_SA_EMAIL = `runner-${POOLS.vm.pool}@${WORKER_PROJECT}.iam.gserviceaccount.com`;
const SIGNER_SA_EMAIL = `provenance-signer@${SIGNER_PROJECT}.iam.gserviceaccount.com`;
const CP_SA_EMAIL = `fleet-control-plane@${WORKER_PROJECT}.iam.gserviceaccount.com`;
const KEY_PATH = `projects/${SIGNER_PROJECT}/locations/${REGION}/keyRings/provenance/cryptoKeys/provenance-signing`;
const GITHUB_SET = "principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/attribute.repository/acme/app";
const KSA = `serviceAccount:${WORKER_PROJECT}.svc.id.goog[runners/runner]`;

/** Control-plane inputs a build must not reach: the webhook secret, the notification topic and subscription, the records bucket. */
function controlPlaneInputs() {
    const secret = new gcp.secretmanager.Secret("webhook-secret", { project: WORKER_PROJECT, secretId: "github-webhook", replication: { auto: {} }, labels: CP });
    const topic = new gcp.pubsub.Topic("intake-notifications", { project: WORKER_PROJECT, labels: CP });
    const subscription = new gcp.pubsub.Subscription("generator-subscription", { project: WORKER_PROJECT, topic: topic.name, labels: CP });
    const records = new gcp.storage.Bucket("job-records", {
        project: WORKER_PROJECT, location: REGION, uniformBucketLevelAccess: true, publicAccessPrevention: "enforced", labels: CP,
    });
    return { secret, topic, subscription, records };
}

/** A control-plane Cloud Run service (the registration broker) with its own identity. */
function broker(h: Handles) {
    const sa = new gcp.serviceaccount.Account("broker-sa", { project: WORKER_PROJECT, accountId: "fleet-broker" });
    const service = new gcp.cloudrunv2.Service("broker-service", {
        project: WORKER_PROJECT, location: REGION, name: "jit-broker", ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY", labels: CP, deletionProtection: false,
        template: { serviceAccount: sa.email, containers: [{ image: `${REGION}-docker.pkg.dev/${WORKER_PROJECT}/fleet/broker${DIGEST}` }] },
    });
    void h;
    return { sa, service };
}

/** The runner image repository (declared by its runner label). */
function runnerRepo() {
    return new gcp.artifactregistry.Repository("runner-images", { project: WORKER_PROJECT, location: REGION, repositoryId: "runner-images", format: "DOCKER", labels: RUNNER_VM });
}

/** A runner (vm pool) grant of `role` at project `project`. */
const projectGrant = (name: string, project: string, role: string) => add((h) => {
    new gcp.projects.IAMMember(name, { project, role, member: h.vm.sa.member });
});

/** Evaluate the `vm` network's firewall policy before its VPC rules. */
function policyFirst(m: Mutations): void {
    m.network = (zone, args) => {
        if (zone === "vm") {
            args.networkFirewallPolicyEnforcementOrder = "BEFORE_CLASSIC_FIREWALL";
        }
    };
}

/** A global network firewall policy with one rule, associated with the `vm` network. */
const vmPolicyRule = (name: string, rule: Record<string, any>) => (m: Mutations): void => {
    policyFirst(m);
    add((h) => {
        const policy = new gcp.compute.NetworkFirewallPolicy(`${name}-policy`, { project: WORKER_PROJECT });
        new gcp.compute.NetworkFirewallPolicyRule(name, { project: WORKER_PROJECT, firewallPolicy: policy.name, priority: 100, ...rule } as unknown as gcp.compute.NetworkFirewallPolicyRuleArgs);
        new gcp.compute.NetworkFirewallPolicyAssociation(`${name}-assoc`, { project: WORKER_PROJECT, firewallPolicy: policy.name, attachmentTarget: h.vm.network.id });
    })(m);
};

/** An unlabelled compute resource of another kind running as the signer SA. */
/** `labellable`: the kind takes labels, so role-labels-required names it; else it names the signer service now running as a runner identity. */
const runsAsSigner = (name: string, resource: string, labellable: boolean, f: (email: pulumi.Output<string>) => void): Variant => ({
    name: `unlabelled ${name} runs as the signer SA (an unlabelled workload is a runner)`,
    invariant: "I10",
    policy: "runners-cannot-reach-enclave",
    offender: "signer-sa",
    // The signer SA is now a runner identity holding the signing grants; and the workload lacks its role label.
    also: [{ policy: LPV, offender: "signer-key-signer" }, { policy: "role-labels-required", offender: labellable ? resource : "signer-service" }],
    mutate: add((h) => f(h.signer.sa.email)),
    preview: true,
});

const LPV = "runner-least-privilege";

export const VARIANTS: Variant[] = [
    // ------------------------------------------------ runner allow-list: control-plane inputs and secrets (I7, I10, I11)
    { name: "runner SA reads the GitHub webhook secret (SecretIamMember)", invariant: "I7", policy: LPV, offender: "runner-webhook-secret", preview: true,
        mutate: add((h) => {
            const { secret } = controlPlaneInputs();
            new gcp.secretmanager.SecretIamMember("runner-webhook-secret", { project: WORKER_PROJECT, secretId: secret.secretId, role: "roles/secretmanager.secretAccessor", member: h.vm.sa.member });
        }) },
    { name: "runner SA in a binding on the GitHub App secret (SecretIamBinding)", invariant: "I7", policy: LPV, offender: "runner-app-secret", preview: true,
        mutate: add((h) => {
            const app = new gcp.secretmanager.Secret("github-app-key", { project: WORKER_PROJECT, secretId: "github-app-key", replication: { auto: {} }, labels: CP });
            new gcp.secretmanager.SecretIamBinding("runner-app-secret", { project: WORKER_PROJECT, secretId: app.secretId, role: "roles/secretmanager.secretAccessor", members: [h.vm.sa.member] });
        }) },
    { name: "runner SA publishes to the generator's notification topic", invariant: "I11", policy: LPV, offender: "runner-publishes", preview: true,
        mutate: add((h) => {
            const { topic } = controlPlaneInputs();
            new gcp.pubsub.TopicIAMMember("runner-publishes", { project: WORKER_PROJECT, topic: topic.name, role: "roles/pubsub.publisher", member: h.vm.sa.member });
        }) },
    { name: "runner SA consumes the generator's subscription", invariant: "I11", policy: LPV, offender: "runner-subscribes", preview: true,
        mutate: add((h) => {
            const { subscription } = controlPlaneInputs();
            new gcp.pubsub.SubscriptionIAMMember("runner-subscribes", { project: WORKER_PROJECT, subscription: subscription.name, role: "roles/pubsub.subscriber", member: h.vm.sa.member });
        }) },
    { name: "runner SA reads the job records bucket", invariant: "I11", policy: LPV, offender: "runner-reads-records", preview: true,
        mutate: add((h) => {
            const { records } = controlPlaneInputs();
            new gcp.storage.BucketIAMMember("runner-reads-records", { bucket: records.name, role: "roles/storage.objectViewer", member: h.vm.sa.member });
        }) },
    { name: "runner SA invokes the provenance generator (a control-plane service that can invoke the signer)", invariant: "I10", policy: LPV, offender: "runner-invokes-generator", preview: true,
        mutate: add((h) => {
            const generator = new gcp.cloudrunv2.Service("generator-service", {
                project: WORKER_PROJECT, location: REGION, name: "provenance-generator", ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY", labels: CP, deletionProtection: false,
                template: { serviceAccount: h.controlPlaneSa.email, containers: [{ image: `${REGION}-docker.pkg.dev/${WORKER_PROJECT}/fleet/generator${DIGEST}` }] },
            });
            new gcp.cloudrunv2.ServiceIamMember("runner-invokes-generator", { project: WORKER_PROJECT, location: REGION, name: generator.name, role: "roles/run.invoker", member: h.vm.sa.member });
        }) },
    { name: "runner SA invokes the registration broker once pack config turns that off", invariant: "I10", policy: LPV, offender: "runner-invokes-broker", preview: true,
        policyConfig: { "runner-least-privilege": { runnerInvokesRegistration: false } },
        mutate: add((h) => {
            const b = broker(h);
            new gcp.cloudrunv2.ServiceIamMember("runner-invokes-broker", { project: WORKER_PROJECT, location: REGION, name: b.service.name, role: "roles/run.invoker", member: h.vm.sa.member });
        }) },
    { name: "runner pods' Workload Identity principal reads the webhook secret", invariant: "I7", policy: LPV, offender: "ksa-webhook-secret",
        mutate: add(() => {
            const { secret } = controlPlaneInputs();
            new gcp.secretmanager.SecretIamMember("ksa-webhook-secret", { project: WORKER_PROJECT, secretId: secret.secretId, role: "roles/secretmanager.secretAccessor", member: KSA });
        }) },
    { name: "runner namespace principalSet publishes to the notification topic", invariant: "I11", policy: LPV, offender: "ns-publishes",
        mutate: add(() => {
            const { topic } = controlPlaneInputs();
            new gcp.pubsub.TopicIAMMember("ns-publishes", {
                project: WORKER_PROJECT, topic: topic.name, role: "roles/pubsub.publisher",
                member: `principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/${WORKER_PROJECT}.svc.id.goog/namespace/runners`,
            });
        }) },
    { name: "allAuthenticatedUsers (which contains every runner) publishes to the notification topic", invariant: "I11", policy: LPV, offender: "anyone-publishes",
        also: [{ policy: "no-public-iam", offender: "anyone-publishes" }],
        mutate: add(() => {
            const { topic } = controlPlaneInputs();
            new gcp.pubsub.TopicIAMMember("anyone-publishes", { project: WORKER_PROJECT, topic: topic.name, role: "roles/pubsub.publisher", member: "allAuthenticatedUsers" });
        }) },
    // ------------------------------------------------ runner allow-list: images (cache poisoning)
    { name: "runner SA can write the runner image repository", invariant: "I7", policy: LPV, offender: "runner-pushes-images", preview: true,
        also: [{ policy: "registry-write-publishing-identity-only", offender: "runner-pushes-images" }],
        mutate: add((h) => {
            const repo = runnerRepo();
            new gcp.artifactregistry.RepositoryIamMember("runner-pushes-images", { project: WORKER_PROJECT, location: REGION, repository: repo.name, role: "roles/artifactregistry.writer", member: h.vm.sa.member });
        }) },
    { name: "runner SA reads an image repository nobody declared for runners", invariant: "I7", policy: LPV, offender: "runner-reads-other-repo", preview: true,
        // The control-plane repository the variant adds has mutable tags: a second, true finding.
        also: [{ policy: "release-registry-immutable-tags", offender: "platform-images" }],
        mutate: add((h) => {
            const repo = new gcp.artifactregistry.Repository("platform-images", { project: WORKER_PROJECT, location: REGION, repositoryId: "platform-images", format: "DOCKER", labels: CP });
            new gcp.artifactregistry.RepositoryIamMember("runner-reads-other-repo", { project: WORKER_PROJECT, location: REGION, repository: repo.name, role: "roles/artifactregistry.reader", member: h.vm.sa.member });
        }) },
    { name: "runner SA can write the project's image families (compute.storageAdmin)", invariant: "I7", policy: LPV, offender: "runner-image-admin", preview: true,
        mutate: projectGrant("runner-image-admin", WORKER_PROJECT, "roles/compute.storageAdmin") },
    { name: "runner SA granted admin on the runner boot image (ImageIamMember)", invariant: "I7", policy: LPV, offender: "runner-owns-image", preview: true,
        mutate: add((h) => {
            new gcp.compute.ImageIamMember("runner-owns-image", { project: "acme-images", image: "gha-runner", role: "roles/compute.admin", member: h.vm.sa.member });
        }) },
    // ------------------------------------------------ runner allow-list: any role, any scope
    { name: "runner SA holds roles/viewer on its own project", invariant: "I7", policy: LPV, offender: "runner-viewer", preview: true,
        also: [{ policy: "pool-intake-separation", offender: "runner-viewer" }, { policy: "provenance-by-control-plane", offender: "runner-viewer" }],
        mutate: projectGrant("runner-viewer", WORKER_PROJECT, "roles/viewer") },
    { name: "runner SA writes logs into the signer project", invariant: "I10", policy: LPV, offender: "runner-logs-signer", preview: true,
        also: [{ policy: "runners-cannot-reach-enclave", offender: "runner-logs-signer" }],
        mutate: projectGrant("runner-logs-signer", SIGNER_PROJECT, "roles/logging.logWriter") },
    { name: "runner SA can deploy Cloud Run services (run.developer)", invariant: "I7", policy: LPV, offender: "runner-run-developer", preview: true,
        mutate: projectGrant("runner-run-developer", WORKER_PROJECT, "roles/run.developer") },
    { name: "runner SA can start builds under other identities (cloudbuild.builds.editor)", invariant: "I7", policy: LPV, offender: "runner-builds", preview: true,
        mutate: projectGrant("runner-builds", WORKER_PROJECT, "roles/cloudbuild.builds.editor") },
    { name: "runner SA holds a role at folder scope", invariant: "I7", policy: LPV, offender: "runner-folder-browser", preview: true,
        also: [{ policy: "runners-cannot-reach-enclave", offender: "runner-folder-browser" }],
        mutate: add((h) => {
            new gcp.folder.IAMMember("runner-folder-browser", { folder: "folders/4242", role: "roles/browser", member: h.vm.sa.member });
        }) },
    { name: "runner SA holds a role at organization scope", invariant: "I7", policy: LPV, offender: "runner-org-reviewer", preview: true,
        also: [{ policy: "runners-cannot-reach-enclave", offender: "runner-org-reviewer" }],
        mutate: add((h) => {
            new gcp.organizations.IAMMember("runner-org-reviewer", { orgId: "1234567890", role: "roles/iam.securityReviewer", member: h.vm.sa.member });
        }) },
    { name: "runner SA holds an in-stack custom role that reads objects", invariant: "I7", policy: LPV, offender: "runner-custom-read", preview: true,
        also: [{ policy: "pool-intake-separation", offender: "runner-custom-read" }, { policy: "provenance-by-control-plane", offender: "runner-custom-read" }],
        mutate: add((h) => {
            const role = new gcp.projects.IAMCustomRole("object-reader", { project: WORKER_PROJECT, roleId: "objectReader", title: "reader", permissions: ["storage.objects.get"] });
            new gcp.projects.IAMMember("runner-custom-read", { project: WORKER_PROJECT, role: role.name, member: h.vm.sa.member });
        }) },
    { name: "runner SA holds a conditional binding (conditions do not shrink the set)", invariant: "I7", policy: LPV, offender: "runner-conditional", preview: true,
        also: [{ policy: "pool-intake-separation", offender: "runner-conditional" }, { policy: "provenance-by-control-plane", offender: "runner-conditional" }],
        mutate: add((h) => {
            new gcp.projects.IAMMember("runner-conditional", {
                project: WORKER_PROJECT, role: "roles/storage.objectViewer", member: h.vm.sa.member,
                condition: { title: "records only", expression: "resource.name.startsWith(\"projects/_/buckets/records\")" },
            });
        }) },
    // Normal mode only: during a preview the data source's result is unknown and carries no dependencies (an advisory there).
    { name: "runner SA granted through a project IAMPolicy built with the getIAMPolicy data source", invariant: "I7", policy: LPV, offender: "tools-policy",
        mutate: add((h) => {
            const doc = gcp.organizations.getIAMPolicyOutput({ bindings: [{ role: "roles/compute.admin", members: [h.vm.sa.member] }] });
            new gcp.projects.IAMPolicy("tools-policy", { project: "acme-tools", policyData: doc.policyData });
        }) },
    { name: "runner SA in a literal policyData on the notification topic (TopicIAMPolicy)", invariant: "I11", policy: LPV, offender: "topic-policy",
        mutate: add(() => {
            const { topic } = controlPlaneInputs();
            new gcp.pubsub.TopicIAMPolicy("topic-policy", {
                project: WORKER_PROJECT, topic: topic.name,
                policyData: JSON.stringify({ bindings: [{ role: "roles/pubsub.publisher", members: [`serviceAccount:${VM_SA_EMAIL}`] }] }),
            });
        }) },
    { name: "runner SA member spelled in upper case", invariant: "I7", policy: LPV, offender: "runner-shouting",
        mutate: add(() => {
            new gcp.projects.IAMMember("runner-shouting", { project: WORKER_PROJECT, role: "roles/pubsub.viewer", member: `serviceAccount:${VM_SA_EMAIL.toUpperCase()}` });
        }) },
    { name: "runner SA can act as a tools SA (the tools SA's grants become runner grants)", invariant: "I7", policy: LPV, offender: "tools-editor", preview: true,
        also: [{ policy: LPV, offender: "runner-acts-as-tools" }, { policy: "registry-write-publishing-identity-only", offender: "tools-editor" }],
        mutate: add((h) => {
            const tools = new gcp.serviceaccount.Account("tools-sa", { project: WORKER_PROJECT, accountId: "tools" });
            new gcp.projects.IAMMember("tools-editor", { project: "acme-tools", role: "roles/editor", member: tools.member });
            new gcp.serviceaccount.IAMMember("runner-acts-as-tools", { serviceAccountId: tools.name, role: "roles/iam.serviceAccountTokenCreator", member: h.vm.sa.member });
        }) },
    { name: "a group the runner SA is a member of reads the webhook secret", invariant: "I7", policy: LPV, offender: "group-webhook-secret", preview: true,
        mutate: add((h) => {
            const { secret } = controlPlaneInputs();
            const group = new gcp.cloudidentity.Group("builders", { parent: "customers/C0123", groupKey: { id: "builders@acme.example" }, labels: { "cloudidentity.googleapis.com/groups.discussion_forum": "" } });
            new gcp.cloudidentity.GroupMembership("runner-in-builders", { group: group.id, preferredMemberKey: { id: h.vm.sa.email }, roles: [{ name: "MEMBER" }] });
            new gcp.secretmanager.SecretIamMember("group-webhook-secret", { project: WORKER_PROJECT, secretId: secret.secretId, role: "roles/secretmanager.secretAccessor", member: "group:builders@acme.example" });
        }) },
    // ------------------------------------------------ runner allow-list: ACLs, managed folders, credentials
    { name: "storage bucket ACL makes the runner SA a writer of the records bucket", invariant: "I11", policy: LPV, offender: "records-acl", preview: true,
        mutate: add((h) => {
            const { records } = controlPlaneInputs();
            new gcp.storage.BucketACL("records-acl", { bucket: records.name, roleEntities: [pulumi.interpolate`WRITER:user-${h.vm.sa.email}`] });
        }) },
    { name: "default object ACL makes the runner SA owner of new provenance objects", invariant: "I11", policy: LPV, offender: "provenance-default-acl", preview: true,
        also: [{ policy: "runners-cannot-reach-enclave", offender: "provenance-default-acl" }, { policy: "provenance-by-control-plane" }],
        mutate: add((h) => {
            new gcp.storage.DefaultObjectACL("provenance-default-acl", { bucket: h.provenance.name, roleEntities: [pulumi.interpolate`OWNER:user-${h.vm.sa.email}`] });
        }) },
    { name: "object access control gives the runner SA an object of the records bucket", invariant: "I11", policy: LPV, offender: "records-object-acl", preview: true,
        mutate: add((h) => {
            const { records } = controlPlaneInputs();
            new gcp.storage.ObjectAccessControl("records-object-acl", { bucket: records.name, object: "jobs/1.json", role: "READER", entity: pulumi.interpolate`user-${h.vm.sa.email}` });
        }) },
    { name: "managed folder IAM gives the runner SA objectAdmin in the records bucket", invariant: "I11", policy: LPV, offender: "runner-managed-folder", preview: true,
        mutate: add((h) => {
            const { records } = controlPlaneInputs();
            new gcp.storage.ManagedFolderIamMember("runner-managed-folder", { bucket: records.name, managedFolder: "jobs/", role: "roles/storage.objectAdmin", member: h.vm.sa.member });
        }) },
    { name: "HMAC key for the runner SA (a standing credential)", invariant: "I7", policy: LPV, offender: "runner-hmac", preview: true,
        mutate: add((h) => {
            new gcp.storage.HmacKey("runner-hmac", { project: WORKER_PROJECT, serviceAccountEmail: h.vm.sa.email });
        }) },
    { name: "runners keep the intake grant after the deployment moved to job-scoped tokens", invariant: "I11", policy: LPV, offender: ["vm-intake-creator", "k8s-intake-creator"], preview: true,
        policyConfig: { "runner-least-privilege": { runnerIntakeCreate: false } },
        mutate: () => undefined },

    // ------------------------------------------------ platform identities: acting as them (I10)
    { name: "GitHub OIDC principalSet may act as the control plane (workloadIdentityUser)", invariant: "I10", policy: "platform-identity-impersonation", offender: "github-acts-as-cp", also: [{ policy: "runner-least-privilege", offender: "github-acts-as-cp" }],
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("github-acts-as-cp", { serviceAccountId: h.controlPlaneSa.name, role: "roles/iam.workloadIdentityUser", member: GITHUB_SET });
        }) },
    { name: "a user may mint tokens for the control plane", invariant: "I10", policy: "platform-identity-impersonation", offender: "user-tokens-cp",
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("user-tokens-cp", { serviceAccountId: h.controlPlaneSa.name, role: "roles/iam.serviceAccountTokenCreator", member: "user:dev@acme.example" });
        }) },
    { name: "a group may mint OpenID tokens for the control plane", invariant: "I10", policy: "platform-identity-impersonation", offender: "group-oidc-cp", also: [{ policy: "runner-least-privilege", offender: "group-oidc-cp" }],
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("group-oidc-cp", { serviceAccountId: h.controlPlaneSa.name, role: "roles/iam.serviceAccountOpenIdTokenCreator", member: "group:devs@acme.example" });
        }) },
    { name: "serviceAccountUser on the worker project lets a user act as the control plane", invariant: "I10", policy: "platform-identity-impersonation", offender: "project-sa-user",
        mutate: add(() => {
            new gcp.projects.IAMMember("project-sa-user", { project: WORKER_PROJECT, role: "roles/iam.serviceAccountUser", member: "user:ops@acme.example" });
        }) },
    { name: "in-stack custom role with getAccessToken on the control plane", invariant: "I10", policy: "platform-identity-impersonation", offender: "custom-token-cp",
        mutate: add((h) => {
            const role = new gcp.projects.IAMCustomRole("token-getter", { project: WORKER_PROJECT, roleId: "tokenGetter", title: "tokens", permissions: ["iam.serviceAccounts.getAccessToken"] });
            new gcp.serviceaccount.IAMMember("custom-token-cp", { serviceAccountId: h.controlPlaneSa.name, role: role.name, member: "user:dev@acme.example" });
        }) },
    { name: "a custom role defined outside the stack on the control plane (fail closed)", invariant: "I10", policy: "platform-identity-impersonation", offender: "foreign-role-cp", also: [{ policy: "runner-least-privilege", offender: "foreign-role-cp" }],
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("foreign-role-cp", { serviceAccountId: h.controlPlaneSa.name, role: "organizations/1234567890/roles/helper", member: "group:devs@acme.example" });
        }) },
    { name: "a GKE workload pool principal of a non-runner namespace may act as the control plane", invariant: "I10", policy: "platform-identity-impersonation", offender: "tools-ksa-cp",
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("tools-ksa-cp", { serviceAccountId: h.controlPlaneSa.name, role: "roles/iam.workloadIdentityUser", member: `serviceAccount:${WORKER_PROJECT}.svc.id.goog[tools/deployer]` });
        }) },
    { name: "a Private Service Connect endpoint in a runner network consumes a service attachment published from the signer network", invariant: "I5", policy: "pool-network-separation", offender: ["runner-psc-to-signer", "signer-attachment"], preview: true,
        mutate: add((h) => {
            const natSubnet = new gcp.compute.Subnetwork("signer-psc-nat", { project: SIGNER_PROJECT, region: REGION, network: h.signer.network.id, ipCidrRange: "10.201.0.0/28", purpose: "PRIVATE_SERVICE_CONNECT" });
            const ilb = new gcp.compute.ForwardingRule("signer-ilb", {
                project: SIGNER_PROJECT, region: REGION, network: h.signer.network.id, subnetwork: h.signer.subnet.id, loadBalancingScheme: "INTERNAL", allPorts: true,
                backendService: `projects/${SIGNER_PROJECT}/regions/${REGION}/backendServices/signer-backend`,
            });
            const attachment = new gcp.compute.ServiceAttachment("signer-attachment", {
                project: SIGNER_PROJECT, region: REGION, connectionPreference: "ACCEPT_AUTOMATIC", natSubnets: [natSubnet.id], targetService: ilb.id, enableProxyProtocol: false,
            });
            const address = new gcp.compute.Address("runner-psc-address", { project: WORKER_PROJECT, region: REGION, subnetwork: h.vm.subnet.id, addressType: "INTERNAL" });
            new gcp.compute.ForwardingRule("runner-psc-to-signer", { project: WORKER_PROJECT, region: REGION, network: h.vm.network.id, ipAddress: address.id, target: attachment.id, loadBalancingScheme: "" });
        }) },
    // ------------------------------------------------ token delegations and code under platform identities (I9, I10)
    { name: "a Pub/Sub push subscription makes Google mint the control plane's OIDC tokens for an outside endpoint", invariant: "I10", policy: "platform-identity-impersonation", offender: "push-as-cp", preview: true,
        mutate: add((h) => {
            const topic = new gcp.pubsub.Topic("any-topic", { project: WORKER_PROJECT, labels: CP });
            new gcp.pubsub.Subscription("push-as-cp", {
                project: WORKER_PROJECT, topic: topic.name, labels: CP,
                pushConfig: { pushEndpoint: "https://collector.example/push", oidcToken: { serviceAccountEmail: h.controlPlaneSa.email, audience: "https://signer.example" } },
            });
        }) },
    { name: "a Cloud Scheduler job mints the control plane's OIDC tokens for an outside URL", invariant: "I10", policy: "platform-identity-impersonation", offender: "cron-as-cp", preview: true,
        mutate: add((h) => {
            new gcp.cloudscheduler.Job("cron-as-cp", {
                project: WORKER_PROJECT, region: REGION, schedule: "*/5 * * * *",
                httpTarget: { uri: "https://collector.example/cron", oidcToken: { serviceAccountEmail: h.controlPlaneSa.email, audience: "https://signer.example" } },
            });
        }) },
    { name: "an Eventarc trigger delivers events to an outside HTTP endpoint with the control plane's identity", invariant: "I10", policy: "platform-identity-impersonation", offender: "events-as-cp", preview: true,
        mutate: add((h) => {
            new gcp.eventarc.Trigger("events-as-cp", {
                project: WORKER_PROJECT, location: REGION, serviceAccount: h.controlPlaneSa.email, labels: CP,
                matchingCriterias: [{ attribute: "type", value: "google.cloud.pubsub.topic.v1.messagePublished" }],
                destination: { httpEndpoint: { uri: "https://collector.example/events" } },
            });
        }) },
    { name: "a Cloud Tasks queue mints OAuth tokens of the signer's service account for its HTTP target", invariant: "I9", policy: "single-signer", offender: "tasks-as-signer", preview: true,
        mutate: add((h) => {
            new gcp.cloudtasks.Queue("tasks-as-signer", {
                project: SIGNER_PROJECT, location: REGION,
                httpTarget: { uriOverride: { host: "collector.example" }, oauthToken: { serviceAccountEmail: h.signer.sa.email } },
            });
        }) },
    { name: "a signer-labelled Workflow runs as the signer's service account (a second signer that signs whatever it is given)", invariant: "I9", policy: "single-signer", offender: "wf-signer", preview: true,
        mutate: add((h) => {
            new gcp.workflows.Workflow("wf-signer", {
                project: SIGNER_PROJECT, region: REGION, serviceAccount: h.signer.sa.email, labels: { "build-fleet-role": "signer" },
                sourceContents: "main:\n  steps:\n  - sign: {call: http.post, args: {url: https://cloudkms.googleapis.com/v1/x:asymmetricSign, auth: {type: OAuth2}}}",
            });
        }) },
    { name: "a NamespacePatch labels a namespace runner, and a KSA there holds a storage role (its Workload Identity principal is a runner identity)", invariant: "I7", policy: LPV, offender: "tools-ksa-storage",
        also: [
            { policy: "pool-intake-separation", offender: "tools-ksa-storage" },
            { policy: "provenance-by-control-plane", offender: "tools-ksa-storage" },
            { policy: "k8s-runner-network-policy", offender: "tools-runner-label" },
        ],
        mutate: add((h) => {
            new k8s.core.v1.NamespacePatch("tools-runner-label", { metadata: { name: "tools", labels: { "build-fleet-role": "runner", "build-fleet-pool": POOLS.k8s.pool } } }, { provider: h.k8sProvider });
            new gcp.projects.IAMMember("tools-ksa-storage", { project: WORKER_PROJECT, role: "roles/storage.objectViewer", member: `serviceAccount:${WORKER_PROJECT}.svc.id.goog[tools/deployer]` });
        }) },
    { name: "HMAC key for the control plane's service account", invariant: "I10", policy: "platform-identity-impersonation", offender: "cp-hmac", preview: true,
        mutate: add((h) => {
            new gcp.storage.HmacKey("cp-hmac", { project: WORKER_PROJECT, serviceAccountEmail: h.controlPlaneSa.email });
        }) },
    { name: "HMAC key for the signer's service account (writes provenance as the signer)", invariant: "I9", policy: "single-signer", offender: "signer-hmac", preview: true,
        mutate: add((h) => {
            new gcp.storage.HmacKey("signer-hmac", { project: SIGNER_PROJECT, serviceAccountEmail: h.signer.sa.email });
        }) },
    // ------------------------------------------------ the signer service: only the generator invokes it (I10)
    { name: "the broker may invoke the signer too (two invokers)", invariant: "I10", policy: "signer-invoked-by-generator-only", offender: ["broker-invokes-signer", "signer-invokers"], preview: true,
        mutate: add((h) => {
            const b = broker(h);
            new gcp.cloudrunv2.ServiceIamMember("broker-invokes-signer", { project: SIGNER_PROJECT, location: REGION, name: h.service.name, role: "roles/run.invoker", member: b.sa.member });
        }) },
    { name: "run.developer on the signer project (holds run.routes.invoke)", invariant: "I10", policy: "signer-invoked-by-generator-only", offender: "signer-project-developer",
        mutate: add(() => {
            new gcp.projects.IAMMember("signer-project-developer", { project: SIGNER_PROJECT, role: "roles/run.developer", member: "user:dev@acme.example" });
        }) },
    { name: "run.admin on the signer service (can grant itself invoke)", invariant: "I10", policy: "signer-invoked-by-generator-only", offender: "signer-service-admin",
        mutate: add((h) => {
            new gcp.cloudrunv2.ServiceIamMember("signer-service-admin", { project: SIGNER_PROJECT, location: REGION, name: h.service.name, role: "roles/run.admin", member: "user:ops@acme.example" });
        }) },
    { name: "in-stack custom role holding run.routes.invoke on the signer service", invariant: "I10", policy: "signer-invoked-by-generator-only", offender: "custom-invoker", also: [{ policy: "runner-least-privilege", offender: "custom-invoker" }],
        mutate: add((h) => {
            const role = new gcp.projects.IAMCustomRole("router", { project: SIGNER_PROJECT, roleId: "router", title: "router", permissions: ["run.routes.invoke"] });
            new gcp.cloudrunv2.ServiceIamMember("custom-invoker", { project: SIGNER_PROJECT, location: REGION, name: h.service.name, role: role.name, member: "group:devs@acme.example" });
        }) },
    { name: "a Cloud Run role this pack does not list yet (fail closed: roles/run.servicesInvoker)", invariant: "I10", policy: "signer-invoked-by-generator-only", offender: "unknown-run-role",
        mutate: add((h) => {
            new gcp.cloudrunv2.ServiceIamMember("unknown-run-role", { project: SIGNER_PROJECT, location: REGION, name: h.service.name, role: "roles/run.servicesInvoker", member: "user:dev@acme.example" });
        }) },
    // ------------------------------------------------ the signer key: no versions outside the rotation path (I9)
    { name: "import job on the signer key ring", invariant: "I9", policy: "signer-key-versions-controlled", offender: "signer-import-job", preview: true,
        mutate: add((h) => {
            new gcp.kms.KeyRingImportJob("signer-import-job", { keyRing: h.ring.id, importJobId: "import", importMethod: "RSA_OAEP_3072_SHA1_AES_256", protectionLevel: "HSM" });
        }) },
    { name: "cloudkms.importer on the signer key ring", invariant: "I9", policy: "signer-key-versions-controlled", offender: "ring-importer",
        mutate: add((h) => {
            new gcp.kms.KeyRingIAMMember("ring-importer", { keyRingId: h.ring.id, role: "roles/cloudkms.importer", member: "user:ops@acme.example" });
        }) },
    { name: "in-stack custom role with cryptoKeyVersions.create on the signer key", invariant: "I9", policy: "signer-key-versions-controlled", offender: "custom-version-creator", also: [{ policy: "runner-least-privilege", offender: "custom-version-creator" }],
        mutate: add((h) => {
            const role = new gcp.projects.IAMCustomRole("versioner", { project: SIGNER_PROJECT, roleId: "versioner", title: "versions", permissions: ["cloudkms.cryptoKeyVersions.create"] });
            new gcp.kms.CryptoKeyIAMMember("custom-version-creator", { cryptoKeyId: h.key.id, role: role.name, member: "group:devs@acme.example" });
        }) },
    // ------------------------------------------------ the signer runs a digest-pinned image (I10)
    { name: "signer service runs a tagged image", invariant: "I10", policy: "signer-service-pinned-image", offender: "signer-service",
        mutate: (m) => {
            m.args.signerService = (a) => {
                a.template.containers[0].image = `${REGION}-docker.pkg.dev/${SIGNER_PROJECT}/signer/provenance-signer:1.4.2`;
            };
        } },
    { name: "signer service image with a truncated digest", invariant: "I10", policy: "signer-service-pinned-image", offender: "signer-service",
        mutate: (m) => {
            m.args.signerService = (a) => {
                a.template.containers[0].image = `${REGION}-docker.pkg.dev/${SIGNER_PROJECT}/signer/provenance-signer@sha256:abc123`;
            };
        } },

    // ------------------------------------------------ one identity per resource, whatever the spelling (I9, I10)
    { name: "runner grant on the signer key by its short id {project}/{location}/{ring}/{key}", invariant: "I9", policy: "single-signer", offender: "short-key-signer",
        also: [{ policy: "runners-cannot-reach-enclave", offender: "short-key-signer" }, { policy: LPV, offender: "short-key-signer" }],
        mutate: add(() => {
            new gcp.kms.CryptoKeyIAMMember("short-key-signer", { cryptoKeyId: `${SIGNER_PROJECT}/${REGION}/provenance/provenance-signing`, role: "roles/cloudkms.signer", member: `serviceAccount:${VM_SA_EMAIL}` });
        }) },
    { name: "runner grant on the signer key by its full resource name", invariant: "I9", policy: "single-signer", offender: "full-key-signer",
        also: [{ policy: "runners-cannot-reach-enclave" }, { policy: LPV }],
        mutate: add(() => {
            new gcp.kms.CryptoKeyIAMMember("full-key-signer", { cryptoKeyId: KEY_PATH, role: "roles/cloudkms.signer", member: `serviceAccount:${VM_SA_EMAIL}` });
        }) },
    { name: "runner grant on the signer key by its //cloudkms.googleapis.com self link", invariant: "I9", policy: "single-signer", offender: "link-key-signer",
        also: [{ policy: "runners-cannot-reach-enclave" }, { policy: LPV }],
        mutate: add(() => {
            new gcp.kms.CryptoKeyIAMMember("link-key-signer", { cryptoKeyId: `//cloudkms.googleapis.com/${KEY_PATH}`, role: "roles/cloudkms.signer", member: `serviceAccount:${VM_SA_EMAIL}` });
        }) },
    { name: "runner grant on the signer key ring by its short id {project}/{location}/{ring}", invariant: "I9", policy: "single-signer", offender: "short-ring-signer",
        also: [{ policy: "runners-cannot-reach-enclave" }, { policy: LPV }],
        mutate: add(() => {
            new gcp.kms.KeyRingIAMMember("short-ring-signer", { keyRingId: `${SIGNER_PROJECT}/${REGION}/provenance`, role: "roles/cloudkms.signerVerifier", member: `serviceAccount:${VM_SA_EMAIL}` });
        }) },
    { name: "runner grant on the signer project spelled projects/<id>", invariant: "I9", policy: "single-signer", offender: "prefixed-project-signer",
        also: [{ policy: "runners-cannot-reach-enclave" }, { policy: LPV }],
        mutate: add(() => {
            new gcp.projects.IAMMember("prefixed-project-signer", { project: `projects/${SIGNER_PROJECT}`, role: "roles/cloudkms.signer", member: `serviceAccount:${VM_SA_EMAIL}` });
        }) },
    { name: "runner invoker on the signer service by its full resource name", invariant: "I10", policy: "runners-cannot-reach-enclave", offender: "full-name-invoker",
        also: [{ policy: "signer-invoked-by-generator-only" }, { policy: LPV }],
        mutate: add(() => {
            new gcp.cloudrunv2.ServiceIamMember("full-name-invoker", {
                name: `projects/${SIGNER_PROJECT}/locations/${REGION}/services/provenance-signer`, role: "roles/run.invoker", member: `serviceAccount:${VM_SA_EMAIL}`,
            });
        }) },
    { name: "runner invoker on the signer service through the Cloud Run v1 IAM resource (bare name + project)", invariant: "I10", policy: "runners-cannot-reach-enclave", offender: "v1-invoker",
        also: [{ policy: "signer-invoked-by-generator-only" }, { policy: LPV }],
        mutate: add(() => {
            new gcp.cloudrun.IamMember("v1-invoker", { project: SIGNER_PROJECT, location: REGION, service: "provenance-signer", role: "roles/run.invoker", member: `serviceAccount:${VM_SA_EMAIL}` });
        }) },
    { name: "runner token creator on the signer SA by projects/<p>/serviceAccounts/<email>", invariant: "I9", policy: "single-signer", offender: "path-signer-tokens",
        also: [{ policy: "runners-cannot-reach-enclave" }, { policy: LPV }],
        mutate: add(() => {
            new gcp.serviceaccount.IAMMember("path-signer-tokens", {
                serviceAccountId: `projects/${SIGNER_PROJECT}/serviceAccounts/${SIGNER_SA_EMAIL}`, role: "roles/iam.serviceAccountTokenCreator", member: `serviceAccount:${VM_SA_EMAIL}`,
            });
        }) },
    { name: "runner token creator on the signer SA by projects/-/serviceAccounts/<email>", invariant: "I9", policy: "single-signer", offender: "dash-signer-tokens",
        also: [{ policy: "runners-cannot-reach-enclave" }, { policy: LPV }],
        mutate: add(() => {
            new gcp.serviceaccount.IAMMember("dash-signer-tokens", {
                serviceAccountId: `projects/-/serviceAccounts/${SIGNER_SA_EMAIL}`, role: "roles/iam.serviceAccountTokenCreator", member: `serviceAccount:${VM_SA_EMAIL}`,
            });
        }) },
    { name: "runner reader on the provenance bucket spelled gs://<name>", invariant: "I10", policy: "runners-cannot-reach-enclave", offender: "gs-provenance-reader",
        also: [{ policy: LPV }],
        mutate: add((h) => {
            new gcp.storage.BucketIAMMember("gs-provenance-reader", { bucket: pulumi.interpolate`gs://${h.provenance.name}`, role: "roles/storage.objectViewer", member: `serviceAccount:${VM_SA_EMAIL}` });
        }) },
    { name: "control plane granted cloudkms.admin on the signer key by its short id", invariant: "I9", policy: "signer-key-versions-controlled", offender: "short-key-admin",
        also: [{ policy: "single-signer", offender: "short-key-admin" }],
        mutate: add(() => {
            new gcp.kms.CryptoKeyIAMMember("short-key-admin", { cryptoKeyId: `${SIGNER_PROJECT}/${REGION}/provenance/provenance-signing`, role: "roles/cloudkms.admin", member: `serviceAccount:${CP_SA_EMAIL}` });
        }) },

    // ------------------------------------------------ every compute kind that runs code is classified (I10, I5)
    runsAsSigner("Cloud Run job", "cr-job", true, (email) => {
        new gcp.cloudrunv2.Job("cr-job", { project: WORKER_PROJECT, location: REGION, deletionProtection: false, template: { template: { serviceAccount: email, containers: [{ image: `ghcr.io/acme/tool${DIGEST}` }] } } });
    }),
    runsAsSigner("Cloud Run worker pool", "cr-worker-pool", true, (email) => {
        new gcp.cloudrunv2.WorkerPool("cr-worker-pool", { project: WORKER_PROJECT, location: REGION, deletionProtection: false, template: { serviceAccount: email, containers: [{ image: `ghcr.io/acme/tool${DIGEST}` }] } });
    }),
    runsAsSigner("Cloud Build trigger", "cb-trigger", false, (email) => {
        new gcp.cloudbuild.Trigger("cb-trigger", {
            project: WORKER_PROJECT, location: REGION, serviceAccount: pulumi.interpolate`projects/${SIGNER_PROJECT}/serviceAccounts/${email}`,
            github: { owner: "acme", name: "app", push: { branch: ".*" } }, filename: "cloudbuild.yaml",
        });
    }),
    runsAsSigner("Cloud Function (1st gen)", "fn-v1", true, (email) => {
        new gcp.cloudfunctions.Function("fn-v1", { project: WORKER_PROJECT, region: REGION, runtime: "nodejs22", entryPoint: "main", sourceArchiveBucket: "src", sourceArchiveObject: "fn.zip", triggerHttp: true, serviceAccountEmail: email });
    }),
    runsAsSigner("Cloud Function (2nd gen)", "fn-v2", true, (email) => {
        new gcp.cloudfunctionsv2.Function("fn-v2", {
            project: WORKER_PROJECT, location: REGION,
            buildConfig: { runtime: "nodejs22", entryPoint: "main", source: { storageSource: { bucket: "src", object: "fn.zip" } } },
            serviceConfig: { serviceAccountEmail: email },
        });
    }),
    runsAsSigner("Composer environment", "composer", true, (email) => {
        new gcp.composer.Environment("composer", { project: WORKER_PROJECT, region: REGION, config: { nodeConfig: { serviceAccount: email } } });
    }),
    runsAsSigner("Dataflow job", "dataflow", true, (email) => {
        new gcp.dataflow.Job("dataflow", { project: WORKER_PROJECT, region: REGION, templateGcsPath: "gs://dataflow-templates/latest/Word_Count", tempGcsLocation: "gs://tmp/df", serviceAccountEmail: email });
    }),
    runsAsSigner("Workbench instance", "workbench", true, (email) => {
        new gcp.workbench.Instance("workbench", { project: WORKER_PROJECT, location: `${REGION}-b`, gceSetup: { machineType: "e2-standard-4", serviceAccounts: [{ email }] } });
    }),
    runsAsSigner("App Engine standard version", "gae", false, (email) => {
        new gcp.appengine.StandardAppVersion("gae", {
            project: WORKER_PROJECT, service: "default", versionId: "v1", runtime: "nodejs22", serviceAccount: email,
            deployment: { zip: { sourceUrl: "https://storage.googleapis.com/src/app.zip" } }, entrypoint: { shell: "node index.js" },
        });
    }),
    runsAsSigner("Dataproc cluster", "dataproc", true, (email) => {
        new gcp.dataproc.Cluster("dataproc", { project: WORKER_PROJECT, region: REGION, clusterConfig: { gceClusterConfig: { serviceAccount: email } } });
    }),
    runsAsSigner("Cloud Run service", "bare-service", true, (email) => {
        new gcp.cloudrunv2.Service("bare-service", {
            project: WORKER_PROJECT, location: REGION, ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY", deletionProtection: false,
            template: { serviceAccount: email, containers: [{ image: `ghcr.io/acme/tool${DIGEST}` }] },
        });
    }),
    { name: "VM from an instance template outside the stack (its identity cannot be seen)", invariant: "I5", policy: "role-labels-required", offender: "vm-from-foreign-template",
        mutate: add(() => {
            new gcp.compute.InstanceFromTemplate("vm-from-foreign-template", {
                project: WORKER_PROJECT, zone: `${REGION}-b`, labels: RUNNER_VM,
                sourceInstanceTemplate: `projects/${WORKER_PROJECT}/global/instanceTemplates/legacy-runner`,
            });
        }) },
    { name: "VM from a machine image (its identity cannot be seen)", invariant: "I5", policy: "role-labels-required", offender: "vm-from-machine-image",
        mutate: add(() => {
            new gcp.compute.InstanceFromMachineImage("vm-from-machine-image", {
                project: WORKER_PROJECT, zone: `${REGION}-b`, labels: RUNNER_VM,
                sourceMachineImage: `projects/${WORKER_PROJECT}/global/machineImages/runner-golden`,
            });
        }) },
    { name: "GKE cluster labelled control-plane hosting the runner node pool (a label never overrides the graph)", invariant: "I5", policy: "role-labels-required", offender: "k8s-cluster",
        mutate: (m) => {
            m.args.k8sCluster = (a) => {
                a.resourceLabels = { "build-fleet-role": "control-plane" };
                a.nodeConfig.resourceLabels = { "build-fleet-role": "control-plane" };
            };
        } },
    { name: "GKE runner cluster with a public control-plane endpoint", invariant: "I6", policy: "gke-cluster-hardened", offender: "k8s-cluster",
        mutate: (m) => {
            m.args.k8sCluster = (a) => {
                a.privateClusterConfig.enablePrivateEndpoint = false;
            };
        } },
    { name: "project-wide startup script in the runner project", invariant: "I7", policy: "runner-metadata-overrides", offender: "project-startup",
        mutate: add(() => {
            new gcp.compute.ProjectMetadataItem("project-startup", { project: WORKER_PROJECT, key: "startup-script", value: "curl -s https://tools.acme.example/bootstrap | sh" });
        }) },
    { name: "project-wide SSH keys in the runner project (ProjectMetadata)", invariant: "I3", policy: "runner-metadata-overrides", offender: "project-metadata",
        mutate: add(() => {
            new gcp.compute.ProjectMetadata("project-metadata", { project: WORKER_PROJECT, metadata: { "ssh-keys": "ops:ssh-ed25519 AAAAPLACEHOLDERNOTAKEY ops" } });
        }) },
    { name: "runner MIG all-instances config turns the serial port on", invariant: "I3", policy: "runner-metadata-overrides", offender: "vm-mig",
        mutate: (m) => {
            m.args.vmMig = (a) => {
                a.allInstancesConfig = { metadata: { "serial-port-enable": "TRUE" } };
            };
        } },
    { name: "runner MIG all-instances config relabels its VMs control-plane", invariant: "I5", policy: "runner-metadata-overrides", offender: "vm-mig",
        mutate: (m) => {
            m.args.vmMig = (a) => {
                a.allInstancesConfig = { labels: { "build-fleet-role": "control-plane" } };
            };
        } },

    // ------------------------------------------------ firewalls as GCP evaluates them (I3, I4)
    { name: "egress rule with apply_security_profile_group to 0.0.0.0/0 (it allows)", invariant: "I4", policy: "runner-egress-default-deny", offender: "inspect-egress",
        also: [{ policy: "pool-network-separation" }],
        mutate: vmPolicyRule("inspect-egress", { action: "apply_security_profile_group", securityProfileGroup: "organizations/1/locations/global/securityProfileGroups/g", direction: "EGRESS", match: { destIpRanges: ["0.0.0.0/0"], layer4Configs: [{ ipProtocol: "tcp" }] } }) },
    { name: "egress allow to destNetworkScope INTERNET", invariant: "I4", policy: "runner-egress-default-deny", offender: "internet-scope",
        also: [{ policy: "pool-network-separation" }],
        mutate: vmPolicyRule("internet-scope", { action: "allow", direction: "EGRESS", match: { destNetworkScope: "INTERNET", layer4Configs: [{ ipProtocol: "tcp", ports: ["443"] }] } }) },
    { name: "egress allow to an address group (contents unknown: the internet)", invariant: "I4", policy: "runner-egress-default-deny", offender: "address-group",
        also: [{ policy: "pool-network-separation" }],
        mutate: vmPolicyRule("address-group", { action: "allow", direction: "EGRESS", match: { destAddressGroups: ["projects/acme-workers/locations/global/addressGroups/partners"], layer4Configs: [{ ipProtocol: "tcp" }] } }) },
    { name: "egress allow to region codes", invariant: "I4", policy: "runner-egress-default-deny", offender: "region-codes",
        also: [{ policy: "pool-network-separation" }],
        mutate: vmPolicyRule("region-codes", { action: "allow", direction: "EGRESS", match: { destRegionCodes: ["US", "DE"], layer4Configs: [{ ipProtocol: "tcp" }] } }) },
    { name: "egress allow to a threat-intelligence list", invariant: "I4", policy: "runner-egress-default-deny", offender: "threat-intel",
        also: [{ policy: "pool-network-separation" }],
        mutate: vmPolicyRule("threat-intel", { action: "allow", direction: "EGRESS", match: { destThreatIntelligences: ["iplist-public-clouds"], layer4Configs: [{ ipProtocol: "tcp" }] } }) },
    { name: "the egress deny-all narrowed to a tag no runner carries", invariant: "I4", policy: "runner-egress-default-deny", offender: "vm-net",
        mutate: (m) => {
            m.omit.add("vmEgressDeny");
            add((h) => {
                new gcp.compute.Firewall("vm-deny-egress-tagged", {
                    project: WORKER_PROJECT, network: h.vm.network.id, direction: "EGRESS", priority: 65534, targetTags: ["legacy"],
                    destinationRanges: ["0.0.0.0/0"], denies: [{ protocol: "all" }],
                });
            })(m);
        } },
    { name: "ingress allow from the pool's own range (any ingress into a runner network)", invariant: "I3", policy: "runner-network-no-ingress", offender: "vm-self-ingress",
        mutate: add((h) => {
            new gcp.compute.Firewall("vm-self-ingress", { project: WORKER_PROJECT, network: h.vm.network.id, direction: "INGRESS", priority: 900, sourceRanges: [POOLS.vm.cidr], allows: [{ protocol: "tcp", ports: ["22"] }] });
        }) },
    { name: "ingress allow by source tags", invariant: "I3", policy: "runner-network-no-ingress", offender: "vm-tag-ingress",
        mutate: add((h) => {
            new gcp.compute.Firewall("vm-tag-ingress", { project: WORKER_PROJECT, network: h.vm.network.id, direction: "INGRESS", priority: 900, sourceTags: ["bastion"], allows: [{ protocol: "tcp", ports: ["22"] }] });
        }) },
    { name: "ingress allow targeted at the runner SA", invariant: "I3", policy: "runner-network-no-ingress", offender: "vm-sa-ingress", preview: true,
        mutate: add((h) => {
            new gcp.compute.Firewall("vm-sa-ingress", {
                project: WORKER_PROJECT, network: h.vm.network.id, direction: "INGRESS", priority: 900, sourceRanges: ["10.99.0.0/24"],
                targetServiceAccounts: [h.vm.sa.email], allows: [{ protocol: "tcp", ports: ["8080"] }],
            });
        }) },
    { name: "ingress allow from region codes in a firewall policy", invariant: "I3", policy: "runner-network-no-ingress", offender: "region-ingress",
        also: [{ policy: "pool-network-separation" }],
        mutate: vmPolicyRule("region-ingress", { action: "allow", direction: "INGRESS", match: { srcRegionCodes: ["US"], layer4Configs: [{ ipProtocol: "tcp", ports: ["22"] }] } }) },
    // ------------------------------------------------ every path that joins networks (I4, I5)
    { name: "HA VPN gateway on a runner network", invariant: "I5", policy: "pool-network-separation", offender: "vm-vpn",
        mutate: add((h) => {
            new gcp.compute.HaVpnGateway("vm-vpn", { project: WORKER_PROJECT, region: REGION, network: h.vm.network.id });
        }) },
    { name: "Network Connectivity Center spoke linking a runner VPC", invariant: "I5", policy: "pool-network-separation", offender: "k8s-spoke",
        mutate: add((h) => {
            new gcp.networkconnectivity.Spoke("k8s-spoke", { project: WORKER_PROJECT, location: "global", hub: "projects/acme-net/locations/global/hubs/corp", linkedVpcNetwork: { uri: h.k8s.network.selfLink } });
        }) },
    { name: "Interconnect attachment on the signer network's router", invariant: "I5", policy: "pool-network-separation", offender: "signer-interconnect",
        mutate: add((h) => {
            const router = new gcp.compute.Router("signer-router", { project: SIGNER_PROJECT, region: REGION, network: h.signer.network.id, bgp: { asn: 64514 } });
            new gcp.compute.InterconnectAttachment("signer-interconnect", { project: SIGNER_PROJECT, region: REGION, router: router.id, type: "PARTNER", edgeAvailabilityDomain: "AVAILABILITY_DOMAIN_1" });
        }) },
    { name: "router appliance BGP peer on a runner network", invariant: "I5", policy: "pool-network-separation", offender: "vm-appliance-peer",
        mutate: add((h) => {
            const router = new gcp.compute.Router("vm-router", { project: WORKER_PROJECT, region: REGION, network: h.vm.network.id, bgp: { asn: 64515 } });
            new gcp.compute.RouterPeer("vm-appliance-peer", {
                project: WORKER_PROJECT, region: REGION, router: router.name, peerAsn: 65001, interface: "appliance-if",
                routerApplianceInstance: `projects/${WORKER_PROJECT}/zones/${REGION}-b/instances/nva`,
            });
        }) },
    { name: "Private Service Connect endpoint to all-apis on a runner network", invariant: "I4", policy: "runner-egress-default-deny", offender: "vm-psc-all-apis",
        mutate: add((h) => {
            new gcp.compute.GlobalForwardingRule("vm-psc-all-apis", { project: WORKER_PROJECT, target: "all-apis", network: h.vm.network.id, ipAddress: "10.10.0.250", loadBalancingScheme: "" });
        }) },

    // ------------------------------------------------ the audit trail (I12)
    { name: "KMS audit config exempts a member", invariant: "I12", policy: "kms-audit-logging", offender: "signer-kms-audit-exempt",
        mutate: add(() => {
            new gcp.projects.IAMAuditConfig("signer-kms-audit-exempt", {
                project: SIGNER_PROJECT, service: "cloudkms.googleapis.com",
                auditLogConfigs: [{ logType: "DATA_READ", exemptedMembers: ["user:ops@acme.example"] }, { logType: "DATA_WRITE" }],
            });
        }) },
    { name: "all-services audit config at folder level exempts the control plane", invariant: "I12", policy: "kms-audit-logging", offender: "folder-audit-exempt",
        mutate: add(() => {
            new gcp.folder.IamAuditConfig("folder-audit-exempt", { folder: "folders/4242", service: "allServices", auditLogConfigs: [{ logType: "DATA_WRITE", exemptedMembers: [`serviceAccount:${CP_SA_EMAIL}`] }] });
        }) },
    { name: "log exclusion in the signer project drops Cloud KMS entries", invariant: "I12", policy: "kms-audit-logging", offender: "signer-exclude-kms",
        mutate: add(() => {
            new gcp.logging.ProjectExclusion("signer-exclude-kms", { project: SIGNER_PROJECT, filter: "protoPayload.serviceName=\"cloudkms.googleapis.com\"" });
        }) },
    { name: "organization log exclusion with a filter that may match anything", invariant: "I12", policy: "kms-audit-logging", offender: "org-exclusion",
        mutate: add(() => {
            new gcp.logging.OrganizationExclusion("org-exclusion", { orgId: "1234567890", filter: "severity<ERROR" });
        }) },
    { name: "sink in the signer project excludes data-access logs", invariant: "I12", policy: "kms-audit-logging", offender: "signer-sink",
        mutate: add(() => {
            new gcp.logging.ProjectSink("signer-sink", {
                project: SIGNER_PROJECT, destination: "storage.googleapis.com/acme-audit", uniqueWriterIdentity: true,
                exclusions: [{ name: "no-data-access", filter: "logName:\"cloudaudit.googleapis.com%2Fdata_access\"" }],
            });
        }) },
    { name: "flow-log filter on a runner subnet drops every flow", invariant: "I12", policy: "subnet-flow-logs", offender: "vm-subnet-2",
        mutate: add((h) => {
            new gcp.compute.Subnetwork("vm-subnet-2", {
                project: WORKER_PROJECT, region: REGION, network: h.vm.network.id, ipCidrRange: "10.10.1.0/24", privateIpGoogleAccess: true,
                logConfig: { aggregationInterval: "INTERVAL_5_SEC", flowSampling: 1, metadata: "INCLUDE_ALL_METADATA", filterExpr: "false" },
            });
        }) },
];

/** Sound designs that look unusual: none may draw a finding (normal and preview). */
export const SECURE: SecureVariant[] = [
    { name: "a push subscription and a scheduler job minting tokens for their own dedicated identity, and an archive subscription writing as the control plane (it hands out no token)",
        mutate: add((h) => {
            const sa = new gcp.serviceaccount.Account("notifier-sa", { project: WORKER_PROJECT, accountId: "notifier" });
            const topic = new gcp.pubsub.Topic("notify-topic", { project: WORKER_PROJECT, labels: CP });
            new gcp.pubsub.Subscription("notify-push", {
                project: WORKER_PROJECT, topic: topic.name, labels: CP,
                pushConfig: { pushEndpoint: "https://hooks.example/notify", oidcToken: { serviceAccountEmail: sa.email } },
            });
            new gcp.pubsub.Subscription("notify-pull", { project: WORKER_PROJECT, topic: topic.name, labels: CP });
            new gcp.pubsub.Subscription("notify-archive", {
                project: WORKER_PROJECT, topic: topic.name, labels: CP,
                cloudStorageConfig: { bucket: "acme-notify-archive", serviceAccountEmail: h.controlPlaneSa.email },
            });
            new gcp.cloudscheduler.Job("nightly-ping", { project: WORKER_PROJECT, region: REGION, schedule: "0 3 * * *", httpTarget: { uri: "https://hooks.example/nightly" } });
        }) },
    { name: "a second signer-labelled service that cannot sign (publishes the keyring)",
        mutate: add((h) => {
            const sa = new gcp.serviceaccount.Account("keyring-publisher-sa", { project: SIGNER_PROJECT, accountId: "keyring-publisher" });
            new gcp.cloudrunv2.Service("keyring-publisher", {
                project: SIGNER_PROJECT, location: REGION, name: "keyring", ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY", labels: { "build-fleet-role": "signer" }, deletionProtection: false,
                template: { serviceAccount: sa.email, containers: [{ image: `${REGION}-docker.pkg.dev/${SIGNER_PROJECT}/signer/keyring${DIGEST}` }] },
            });
            void h;
        }) },
    { name: "a CMEK key ring (not the signer's) without deletion protection",
        mutate: add((h) => {
            const ring = new gcp.kms.KeyRing("cmek-ring", { project: WORKER_PROJECT, location: REGION, name: "cmek" });
            const key = new gcp.kms.CryptoKey("cmek-key", { keyRing: ring.id, purpose: "ENCRYPT_DECRYPT", labels: CP });
            new gcp.kms.CryptoKeyIAMMember("cmek-user", { cryptoKeyId: key.id, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member: h.controlPlaneSa.member });
        }) },
    { name: "an egress allow to 0.0.0.0/0 aimed at a non-runner proxy SA",
        mutate: add((h) => {
            new gcp.compute.Firewall("proxy-egress", {
                project: WORKER_PROJECT, network: h.vm.network.id, direction: "EGRESS", priority: 900, destinationRanges: ["0.0.0.0/0"],
                targetServiceAccounts: [h.controlPlaneSa.email], allows: [{ protocol: "tcp", ports: ["443"] }],
            });
        }) },
    { name: "an ingress allow from health checkers aimed at a non-runner SA",
        mutate: add((h) => {
            new gcp.compute.Firewall("proxy-health", {
                project: WORKER_PROJECT, network: h.vm.network.id, direction: "INGRESS", priority: 900, sourceRanges: ["35.191.0.0/16", "130.211.0.0/22"],
                targetServiceAccounts: [h.controlPlaneSa.email], allows: [{ protocol: "tcp", ports: ["8080"] }],
            });
        }) },
    { name: "runners read their declared (runner-labelled) image repository",
        mutate: add((h) => {
            const repo = runnerRepo();
            new gcp.artifactregistry.RepositoryIamMember("runner-pulls", { project: WORKER_PROJECT, location: REGION, repository: repo.name, role: "roles/artifactregistry.reader", member: h.vm.sa.member });
        }) },
    { name: "runners read an image repository declared in pack config, named by its full id",
        policyConfig: { "runner-least-privilege": { runnerImageRepositories: ["projects/acme-images/locations/europe-west1/repositories/runners"] } },
        mutate: add((h) => {
            new gcp.artifactregistry.RepositoryIamMember("runner-pulls-external", {
                repository: "projects/acme-images/locations/europe-west1/repositories/runners", role: "roles/artifactregistry.reader", member: h.vm.sa.member,
            });
        }) },
    { name: "pack config extends the runner allow-list (trace agent)",
        policyConfig: { "runner-least-privilege": { runnerAllowedGrants: [{ role: "roles/cloudtrace.agent", scope: "project" }] } },
        mutate: projectGrant("runner-traces", WORKER_PROJECT, "roles/cloudtrace.agent") },
    { name: "runner log writing granted through an IAMBinding spelled projects/<id>",
        mutate: add((h) => {
            new gcp.projects.IAMBinding("runner-logs-binding", { project: `projects/${WORKER_PROJECT}`, role: "roles/logging.logWriter", members: [h.vm.sa.member, h.k8s.sa.member] });
        }) },
    { name: "the generator's invoker grant written twice (still one invoker)",
        mutate: add((h) => {
            new gcp.cloudrunv2.ServiceIamMember("generator-invoker-again", { project: SIGNER_PROJECT, location: REGION, name: h.service.name, role: "roles/run.invoker", member: h.controlPlaneSa.member });
        }) },
    { name: "runners invoke the registration broker (a control-plane service that cannot reach the signer)",
        mutate: add((h) => {
            const b = broker(h);
            new gcp.cloudrunv2.ServiceIamMember("runners-call-broker", { project: WORKER_PROJECT, location: REGION, name: b.service.name, role: "roles/run.invoker", member: h.vm.sa.member });
        }) },
    { name: "runners may invoke the registration broker when pack config says so (service scope, by name)",
        policyConfig: { "runner-least-privilege": { runnerInvokesRegistration: false, runnerAllowedGrants: [{ role: "roles/run.invoker", scope: "service", targets: ["jit-broker"] }] } },
        mutate: add((h) => {
            const b = broker(h);
            new gcp.cloudrunv2.ServiceIamMember("runners-register", { project: WORKER_PROJECT, location: REGION, name: b.service.name, role: "roles/run.invoker", member: h.vm.sa.member });
        }) },
    { name: "a control-plane service (the broker) with its own SA and no grants to anyone else",
        mutate: add((h) => {
            broker(h);
        }) },
    { name: "the runner KSA bound to its own pool SA through the principal:// subject form",
        mutate: add((h) => {
            new gcp.serviceaccount.IAMMember("k8s-runner-wi-subject", {
                serviceAccountId: h.k8s.sa.name, role: "roles/iam.workloadIdentityUser",
                member: `principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/${WORKER_PROJECT}.svc.id.goog/subject/ns/runners/sa/runner`,
            });
        }) },
    { name: "an extra organization-wide audit config logging every service's data access",
        mutate: add(() => {
            new gcp.organizations.IamAuditConfig("org-audit-all", {
                orgId: "1234567890", service: "allServices", auditLogConfigs: [{ logType: "ADMIN_READ" }, { logType: "DATA_READ" }, { logType: "DATA_WRITE" }],
            });
        }) },
    { name: "a flow-log filter that keeps every flow (\"true\")",
        mutate: add((h) => {
            new gcp.compute.Subnetwork("vm-subnet-true", {
                project: WORKER_PROJECT, region: REGION, network: h.vm.network.id, ipCidrRange: "10.10.2.0/24", privateIpGoogleAccess: true,
                logConfig: { aggregationInterval: "INTERVAL_5_SEC", flowSampling: 1, metadata: "INCLUDE_ALL_METADATA", filterExpr: "true" },
            });
        }) },
    { name: "a log exclusion in the worker project for debug logs of one resource type",
        mutate: add(() => {
            new gcp.logging.ProjectExclusion("worker-debug", { project: WORKER_PROJECT, filter: "resource.type=\"gce_instance\" AND severity<=DEBUG" });
        }) },
    { name: "a runner MIG all-instances config with harmless metadata and the runner label",
        mutate: (m) => {
            m.args.vmMig = (a) => {
                a.allInstancesConfig = { metadata: { "enable-oslogin": "TRUE" }, labels: RUNNER_VM };
            };
        } },
    { name: "an egress allow to named FQDNs through a firewall policy",
        mutate: vmPolicyRule("fqdn-egress", { action: "allow", direction: "EGRESS", match: { destFqdns: ["github.com", "api.github.com"], layer4Configs: [{ ipProtocol: "tcp", ports: ["443"] }] } }) },
    { name: "a project IAMPolicy from getIAMPolicy granting the runners only log writing",
        previewAdvisory: "the data source's result is unknown during a preview and carries no dependencies",
        mutate: add((h) => {
            const doc = gcp.organizations.getIAMPolicyOutput({ bindings: [{ role: "roles/logging.logWriter", members: [h.vm.sa.member, h.k8s.sa.member] }] });
            new gcp.projects.IAMPolicy("worker-policy", { project: WORKER_PROJECT, policyData: doc.policyData });
        }) },
];
