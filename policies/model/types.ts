/**
 * The stack model's vocabulary: resource type tokens, the IAM resource families it resolves and the
 * shapes every module and rule shares (principals, grants, compute nodes, runner identities).
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { FleetRole } from "./labels";
import { UNKNOWN_VALUE } from "./props";
import { HELM_TYPES, isPodHoldingType } from "../recognisers/podTemplates";

/** Resource type tokens (checked against `__pulumiType` in @pulumi/gcp 9.37). */
export const T = {
    serviceAccount: "gcp:serviceaccount/account:Account",
    serviceAccountKey: "gcp:serviceaccount/key:Key",
    hmacKey: "gcp:storage/hmacKey:HmacKey",
    network: "gcp:compute/network:Network",
    subnetwork: "gcp:compute/subnetwork:Subnetwork",
    firewall: "gcp:compute/firewall:Firewall",
    peering: "gcp:compute/networkPeering:NetworkPeering",
    sharedVpcHost: "gcp:compute/sharedVPCHostProject:SharedVPCHostProject",
    sharedVpcService: "gcp:compute/sharedVPCServiceProject:SharedVPCServiceProject",
    firewallPolicy: "gcp:compute/networkFirewallPolicy:NetworkFirewallPolicy",
    firewallPolicyRule: "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule",
    firewallPolicyAssociation: "gcp:compute/networkFirewallPolicyAssociation:NetworkFirewallPolicyAssociation",
    firewallPolicyWithRules: "gcp:compute/networkFirewallPolicyWithRules:NetworkFirewallPolicyWithRules",
    regionFirewallPolicy: "gcp:compute/regionNetworkFirewallPolicy:RegionNetworkFirewallPolicy",
    regionFirewallPolicyRule: "gcp:compute/regionNetworkFirewallPolicyRule:RegionNetworkFirewallPolicyRule",
    regionFirewallPolicyAssociation: "gcp:compute/regionNetworkFirewallPolicyAssociation:RegionNetworkFirewallPolicyAssociation",
    regionFirewallPolicyWithRules: "gcp:compute/regionNetworkFirewallPolicyWithRules:RegionNetworkFirewallPolicyWithRules",
    /** Hierarchical (organization / folder) firewall policies: evaluated before any VPC rule of the networks below. */
    hierFirewallPolicy: "gcp:compute/firewallPolicy:FirewallPolicy",
    hierFirewallPolicyRule: "gcp:compute/firewallPolicyRule:FirewallPolicyRule",
    hierFirewallPolicyAssociation: "gcp:compute/firewallPolicyAssociation:FirewallPolicyAssociation",
    hierFirewallPolicyWithRules: "gcp:compute/firewallPolicyWithRules:FirewallPolicyWithRules",
    instance: "gcp:compute/instance:Instance",
    instanceFromTemplate: "gcp:compute/instanceFromTemplate:InstanceFromTemplate",
    instanceFromMachineImage: "gcp:compute/instanceFromMachineImage:InstanceFromMachineImage",
    instanceTemplate: "gcp:compute/instanceTemplate:InstanceTemplate",
    regionInstanceTemplate: "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate",
    cluster: "gcp:container/cluster:Cluster",
    nodePool: "gcp:container/nodePool:NodePool",
    runService: "gcp:cloudrunv2/service:Service",
    runServiceV1: "gcp:cloudrun/service:Service",
    runJob: "gcp:cloudrunv2/job:Job",
    runWorkerPool: "gcp:cloudrunv2/workerPool:WorkerPool",
    connector: "gcp:vpcaccess/connector:Connector",
    cryptoKey: "gcp:kms/cryptoKey:CryptoKey",
    cryptoKeyVersion: "gcp:kms/cryptoKeyVersion:CryptoKeyVersion",
    importJob: "gcp:kms/keyRingImportJob:KeyRingImportJob",
    keyRing: "gcp:kms/keyRing:KeyRing",
    bucket: "gcp:storage/bucket:Bucket",
    managedZone: "gcp:dns/managedZone:ManagedZone",
    recordSet: "gcp:dns/recordSet:RecordSet",
    project: "gcp:organizations/project:Project",
    projectCustomRole: "gcp:projects/iAMCustomRole:IAMCustomRole",
    orgCustomRole: "gcp:organizations/iAMCustomRole:IAMCustomRole",
    projectAuditConfig: "gcp:projects/iAMAuditConfig:IAMAuditConfig",
    folderAuditConfig: "gcp:folder/iamAuditConfig:IamAuditConfig",
    orgAuditConfig: "gcp:organizations/iamAuditConfig:IamAuditConfig",
    projectIamPolicy: "gcp:projects/iAMPolicy:IAMPolicy",
    groupMembership: "gcp:cloudidentity/groupMembership:GroupMembership",
    group: "gcp:cloudidentity/group:Group",
    arRepository: "gcp:artifactregistry/repository:Repository",
    secret: "gcp:secretmanager/secret:Secret",
    topic: "gcp:pubsub/topic:Topic",
    subscription: "gcp:pubsub/subscription:Subscription",
    k8sNamespace: "kubernetes:core/v1:Namespace",
    k8sServiceAccount: "kubernetes:core/v1:ServiceAccount",
} as const;

/** Kubernetes kinds that run pods themselves (pod-holding kinds other than Helm releases, whose labels live in values). */
export function isK8sWorkload(type: string): boolean {
    return isPodHoldingType(type) && !HELM_TYPES.includes(type);
}

/**
 * Where a grant applies. The named scopes are the ones rules reason about specially; `resource` is
 * any other IAM-bearing resource (secrets, topics, repositories, managed folders, ...), and `acl` a
 * storage ACL entry.
 */
export type GrantScope = "key" | "keyRing" | "project" | "folder" | "org" | "serviceAccount" | "runService" | "bucket" | "resource" | "acl";
export type GrantForm = "member" | "binding" | "policy";

/** An IAM principal: a service account of this stack (id = its URN) or a literal member string. */
export interface Principal {
    id: string;
    /** Human-readable, e.g. `serviceAccount:runner-a@proj.iam.gserviceaccount.com`. */
    label: string;
    /** The service account resource, when the principal is one of this stack. */
    sa?: PolicyResource;
    /** True when the member is unknown during preview and depends on no service account. */
    unresolved?: boolean;
}

/** One role binding: a resource grants `role` to `members` on a target. */
export interface Grant {
    res: PolicyResource;
    scope: GrantScope;
    /** The target resource when it is in this stack. */
    target?: PolicyResource;
    /** The literal target (project id, folder, org id, or an id not defined in this stack). */
    targetId?: string;
    /** True when the target is unknown during preview and cannot be resolved from dependencies. */
    targetUnknown: boolean;
    /** The role string, or UNKNOWN_VALUE during preview. */
    role: string | typeof UNKNOWN_VALUE;
    /** The custom role resource behind `role`, if any. */
    customRole?: PolicyResource;
    members: Principal[];
    /** Bindings with IAM conditions are still counted (fail closed); messages say so. */
    conditional: boolean;
}

/** yes/no, `unknown` (preview: role or permissions unknown), `unchecked` (custom role outside the stack). */
export type Can = "yes" | "no" | "unknown" | "unchecked";

/**
 * What kind of compute a node is. `vm` covers every Compute Engine shape (instances, templates,
 * machine images, per-instance configs); `service` Cloud Run services, jobs and worker pools;
 * `managed` the managed platforms that run user code under a service account (Cloud Build,
 * Functions, Composer, Dataflow, Notebooks/Workbench, Batch, App Engine, Dataproc, ...).
 */
export type ComputeKind = "instance" | "template" | "nodePool" | "cluster" | "runService" | "managed";

/** A resource that runs code: where it attaches and as whom it runs. */
export interface ComputeNode {
    res: PolicyResource;
    kind: ComputeKind;
    role?: FleetRole;
    pool?: string;
    /** Runner-labelled, unlabelled (fail closed), or proven by the graph to run tenant code. */
    isRunner: boolean;
    /** Why a non-runner label was overridden, when it was. */
    overridden?: string;
    networks: PolicyResource[];
    subnets: PolicyResource[];
    /** Literal network/subnetwork references not defined in this stack (e.g. "default"). */
    externalNetworks: string[];
    /** True when a network reference is unknown during preview and depends on no network. */
    networkUnknown: boolean;
    identities: Principal[];
    /** True when the service account is unknown during preview and depends on no account. */
    identityUnknown: boolean;
    /** What the model cannot see about this node (an out-of-stack template or machine image): fail closed. */
    opaque?: string;
}

export interface RunnerIdentity {
    principal: Principal;
    pools: Set<string>;
    /** Why this is a runner identity (first reason found). */
    via: string;
    /** True when a runner resource runs as it; false when only reachable by impersonation or membership. */
    direct: boolean;
}

/** A Kubernetes namespace runner pods run in (their Workload Identity principals are runner identities). */
export interface RunnerNamespace {
    name: string;
    pools: Set<string>;
    /** Why it is a runner namespace (first reason found). */
    via: string;
}

export interface PoolNetwork {
    network: PolicyResource;
    pools: Set<string>;
    /** The runner resources attached. */
    attached: PolicyResource[];
}
