/**
 * One pass over a stack's resources that every stack rule shares.
 *
 * Builds lookups (by URN, type, id/self link/name, service-account email), resolves IAM grants to
 * principals and targets, and classifies the fleet through labels and the graph: runner identities
 * and networks, pools, runner namespaces, signer keys/identity/network, intake and provenance
 * buckets. Runner identities are the SAs runner compute runs as, the Workload Identity principals
 * runner pods act as (their namespace's KSAs, the namespace's or cluster's principal sets), and
 * whatever those can impersonate. Classification never uses resource names.
 *
 * Unknown values (preview) are decided from `propertyDependencies`: an IAM member whose `member`
 * depends on a service account is a grant to that account even before its email exists. What
 * stays undecidable is kept explicit (unresolved principals, unknown targets) so rules can say so.
 *
 * Cost: every step is linear in resources + grant members. The index is cached per resources array;
 * the CrossGuard analyzer hands each stack policy a fresh array, so under it each rule builds its own
 * index (nine linear builds per evaluation, a few ms each at 3,400 resources).
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { FleetRole, poolOf, roleOf } from "../labels";
import { get, UNDECIDED_PREFIX, unknown, UNKNOWN_VALUE, unwrap } from "../props";
import { HELM_TYPES, isPodHoldingType, podNamespaceOf, podNamespaceProp, podTemplateSites } from "../resource/podTemplates";
import { Cidr, parseCidr } from "./cidr";
import { Capability, isCustomRoleName, permissionsHave, predefinedHas } from "./roles";

/** Resource type tokens (checked against `__pulumiType` in @pulumi/gcp 9.37). */
export const T = {
    serviceAccount: "gcp:serviceaccount/account:Account",
    serviceAccountKey: "gcp:serviceaccount/key:Key",
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
    instanceTemplate: "gcp:compute/instanceTemplate:InstanceTemplate",
    regionInstanceTemplate: "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate",
    cluster: "gcp:container/cluster:Cluster",
    nodePool: "gcp:container/nodePool:NodePool",
    runService: "gcp:cloudrunv2/service:Service",
    runServiceV1: "gcp:cloudrun/service:Service",
    connector: "gcp:vpcaccess/connector:Connector",
    cryptoKey: "gcp:kms/cryptoKey:CryptoKey",
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
    k8sNamespace: "kubernetes:core/v1:Namespace",
    k8sServiceAccount: "kubernetes:core/v1:ServiceAccount",
} as const;

/** Kubernetes kinds that run pods themselves (pod-holding kinds other than Helm releases, whose labels live in values). */
export function isK8sWorkload(type: string): boolean {
    return isPodHoldingType(type) && !HELM_TYPES.includes(type);
}

export type GrantScope = "key" | "keyRing" | "project" | "folder" | "org" | "serviceAccount" | "runService" | "bucket";
type GrantForm = "member" | "binding" | "policy";

interface IamType {
    scope: GrantScope;
    /** The property naming the target. */
    target: string;
    form: GrantForm;
}

function iamFamily(prefix: string, names: [string, string, string], scope: GrantScope, target: string): Record<string, IamType> {
    const forms: GrantForm[] = ["member", "binding", "policy"];
    const out: Record<string, IamType> = {};
    names.forEach((n, i) => {
        out[`${prefix}${n}`] = { scope, target, form: forms[i] };
    });
    return out;
}

/** Every IAM resource type the rules resolve, with its scope and target property. */
export const IAM_TYPES: Record<string, IamType> = {
    ...iamFamily("gcp:kms/", ["cryptoKeyIAMMember:CryptoKeyIAMMember", "cryptoKeyIAMBinding:CryptoKeyIAMBinding", "cryptoKeyIAMPolicy:CryptoKeyIAMPolicy"], "key", "cryptoKeyId"),
    ...iamFamily("gcp:kms/", ["keyRingIAMMember:KeyRingIAMMember", "keyRingIAMBinding:KeyRingIAMBinding", "keyRingIAMPolicy:KeyRingIAMPolicy"], "keyRing", "keyRingId"),
    ...iamFamily("gcp:projects/", ["iAMMember:IAMMember", "iAMBinding:IAMBinding", "iAMPolicy:IAMPolicy"], "project", "project"),
    ...iamFamily("gcp:folder/", ["iAMMember:IAMMember", "iAMBinding:IAMBinding", "iAMPolicy:IAMPolicy"], "folder", "folder"),
    ...iamFamily("gcp:organizations/", ["iAMMember:IAMMember", "iAMBinding:IAMBinding", "iAMPolicy:IAMPolicy"], "org", "orgId"),
    ...iamFamily("gcp:serviceaccount/", ["iAMMember:IAMMember", "iAMBinding:IAMBinding", "iAMPolicy:IAMPolicy"], "serviceAccount", "serviceAccountId"),
    ...iamFamily("gcp:cloudrunv2/", ["serviceIamMember:ServiceIamMember", "serviceIamBinding:ServiceIamBinding", "serviceIamPolicy:ServiceIamPolicy"], "runService", "name"),
    ...iamFamily("gcp:cloudrun/", ["iamMember:IamMember", "iamBinding:IamBinding", "iamPolicy:IamPolicy"], "runService", "service"),
    ...iamFamily("gcp:storage/", ["bucketIAMMember:BucketIAMMember", "bucketIAMBinding:BucketIAMBinding", "bucketIAMPolicy:BucketIAMPolicy"], "bucket", "bucket"),
};

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

export type ComputeKind = "instance" | "template" | "nodePool" | "cluster" | "runService";

/** A resource that runs code: where it attaches and as whom it runs. */
export interface ComputeNode {
    res: PolicyResource;
    kind: ComputeKind;
    role?: FleetRole;
    pool?: string;
    /** Runner-labelled, or an unlabelled VM/template/node pool/cluster (fail closed). */
    isRunner: boolean;
    networks: PolicyResource[];
    subnets: PolicyResource[];
    /** Literal network/subnetwork references not defined in this stack (e.g. "default"). */
    externalNetworks: string[];
    /** True when a network reference is unknown during preview and depends on no network. */
    networkUnknown: boolean;
    identities: Principal[];
    /** True when the service account is unknown during preview and depends on no account. */
    identityUnknown: boolean;
}

export interface RunnerIdentity {
    principal: Principal;
    pools: Set<string>;
    /** Why this is a runner identity (first reason found). */
    via: string;
    /** True when a runner resource runs as it; false when only reachable by impersonation. */
    direct: boolean;
}

/** A Kubernetes namespace runner pods run in (their Workload Identity principals are runner identities). */
export interface RunnerNamespace {
    name: string;
    pools: Set<string>;
    /** Why it is a runner namespace (first reason found). */
    via: string;
}

/**
 * What a Workload Identity principal of a GKE workload pool (`<project>.svc.id.goog`) stands for:
 * the pods of one namespace, of one cluster, or of every cluster of the project.
 */
type WorkloadScope = { project: string } & ({ namespace: string } | { cluster: string } | { all: true });

const WI_POOL = String.raw`principal(?:Set)?://iam\.googleapis\.com/projects/[^/]+/locations/global/workloadIdentityPools/([^/]+)\.svc\.id\.goog`;
const WI_KSA = /^serviceAccount:([^[\]]+)\.svc\.id\.goog\[([^/\]]+)\/([^\]]+)\]$/i;
const WI_SUBJECT = new RegExp(`^${WI_POOL}/subject/ns/([^/]+)/sa/([^/]+)$`, "i");
const WI_NAMESPACE = new RegExp(`^${WI_POOL}/namespace/([^/]+)$`, "i");
const WI_CLUSTER = new RegExp(`^${WI_POOL}/kubernetes\\.cluster/(.+)$`, "i");
const WI_ALL = new RegExp(`^${WI_POOL}/\\*$`, "i");

/**
 * The Kubernetes workloads a Workload Identity principal stands for: `serviceAccount:<p>.svc.id.goog[<ns>/<ksa>]`,
 * `principal://.../workloadIdentityPools/<p>.svc.id.goog/subject/ns/<ns>/sa/<ksa>`, `principalSet://.../namespace/<ns>`,
 * `principalSet://.../kubernetes.cluster/<cluster URL>` and `principalSet://.../<p>.svc.id.goog/*`.
 */
export function workloadIdentityScope(member: string): WorkloadScope | undefined {
    const m = member.trim();
    let x = WI_KSA.exec(m);
    if (x) {
        return { project: x[1], namespace: x[2] };
    }
    if ((x = WI_SUBJECT.exec(m)) || (x = WI_NAMESPACE.exec(m))) {
        return { project: x[1], namespace: x[2] };
    }
    if ((x = WI_CLUSTER.exec(m))) {
        return { project: x[1], cluster: x[2] };
    }
    if ((x = WI_ALL.exec(m))) {
        return { project: x[1], all: true };
    }
    return undefined;
}

export interface PoolNetwork {
    network: PolicyResource;
    pools: Set<string>;
    /** The runner resources attached. */
    attached: PolicyResource[];
}

// ---------------------------------------------------------------------------------------------
// small helpers

const BASIC_ROLES: ReadonlySet<string> = new Set(["roles/owner", "roles/editor", "roles/viewer"]);

const str = (v: unknown): string | undefined => (typeof v === "string" && !unknown(v) ? v : undefined);

/** Strips scheme/host/API version: self links and ids compare as `projects/...` paths. */
export function normRef(ref: string): string {
    let s = ref.trim();
    const i = s.indexOf("projects/");
    if (i > 0 && /^(https?:)?\/\//.test(s)) {
        s = s.slice(i);
    } else if (/^(https?:)?\/\//.test(s)) {
        s = s.replace(/^(https?:)?\/\/[^/]+\//, "");
    }
    return s.replace(/\/+$/, "");
}

/** An id → resources index, with a name-only fallback for bare names. */
class Lookup {
    private readonly full = new Map<string, PolicyResource[]>();
    private readonly short = new Map<string, PolicyResource[]>();

    add(r: PolicyResource, full: (string | undefined)[], short: (string | undefined)[]): void {
        for (const k of full) {
            if (k) {
                push(this.full, normRef(k), r);
            }
        }
        for (const k of short) {
            if (k) {
                push(this.short, k, r);
            }
        }
    }

    find(ref: string): PolicyResource[] {
        const n = normRef(ref);
        const hit = this.full.get(n);
        if (hit) {
            return hit;
        }
        return n.includes("/") ? [] : this.short.get(n) ?? [];
    }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
    const arr = m.get(k);
    if (arr) {
        if (!arr.includes(v)) {
            arr.push(v);
        }
    } else {
        m.set(k, [v]);
    }
}

function uniq<V>(vs: V[]): V[] {
    return [...new Set(vs)];
}

/** Resources of `types` among the property dependencies of `prop`. */
export function depsOf(r: PolicyResource, prop: string, types: readonly string[]): PolicyResource[] {
    const deps = r.propertyDependencies?.[prop] ?? [];
    return deps.filter((d) => d && types.includes(d.type));
}

/** A reference that is either a literal (resolved through `lookup`) or unknown (resolved through dependencies). */
interface Resolved {
    found: PolicyResource[];
    /** A known literal that matches nothing in this stack. */
    external?: string;
    /** Unknown and no dependency of the right type. */
    unknown: boolean;
}

function resolveRef(r: PolicyResource, prop: string, value: unknown, types: readonly string[], find: (ref: string) => PolicyResource[]): Resolved {
    if (unknown(value)) {
        const found = depsOf(r, prop, types);
        return { found, unknown: found.length === 0 };
    }
    if (typeof value === "string" && value !== "") {
        const found = find(value);
        return found.length > 0 ? { found, unknown: false } : { found, external: value, unknown: false };
    }
    return { found: [], unknown: false };
}

// ---------------------------------------------------------------------------------------------

export class FleetGraph {
    readonly resources: PolicyResource[];
    readonly byUrn = new Map<string, PolicyResource>();
    readonly byType = new Map<string, PolicyResource[]>();

    private readonly networks = new Lookup();
    private readonly subnets = new Lookup();
    private readonly clusters = new Lookup();
    private readonly rings = new Lookup();
    private readonly keys = new Lookup();
    private readonly buckets = new Lookup();
    private readonly services = new Lookup();
    private readonly connectors = new Lookup();
    private readonly customRoles = new Lookup();
    private readonly zones = new Lookup();
    private readonly firewallPolicies = new Lookup();
    private readonly regionFirewallPolicies = new Lookup();
    private readonly hierFirewallPolicies = new Lookup();
    private readonly saByEmail = new Map<string, PolicyResource>();
    private readonly saByUniqueId = new Map<string, PolicyResource>();
    private readonly projectsById = new Map<string, PolicyResource>();
    private readonly principals = new Map<string, Principal>();

    readonly compute: ComputeNode[] = [];
    readonly computeByUrn = new Map<string, ComputeNode>();
    readonly grants: Grant[] = [];
    readonly grantsByTarget = new Map<string, Grant[]>();
    readonly projectGrants = new Map<string, Grant[]>();
    /** Project-scope grants whose project is unknown during preview. */
    readonly projectGrantsUnknown: Grant[] = [];
    /** Folder and organization grants: the hierarchy is not visible, so they apply everywhere. */
    readonly hierarchyGrants: Grant[] = [];
    /** Key, key ring, SA, service or bucket grants whose target is unknown and unresolvable. */
    readonly unknownTargetGrants: Grant[] = [];
    /** Service-account keys by the account's URN; keys for accounts outside the stack under their literal. */
    readonly saKeys = new Map<string, PolicyResource[]>();
    readonly saKeysUnknown: PolicyResource[] = [];
    readonly saByProject = new Map<string, PolicyResource[]>();

    readonly subnetsByNetwork = new Map<string, PolicyResource[]>();
    private readonly subnetNetworkCache = new Map<string, PolicyResource[]>();

    readonly runnerIdentities = new Map<string, RunnerIdentity>();
    /** Kubernetes namespaces runner pods run in, by name. */
    readonly runnerNamespaces = new Map<string, RunnerNamespace>();
    /** Namespace resources that are runner namespaces (also when their name is unknown during a preview). */
    private readonly runnerNamespaceUrns = new Set<string>();
    /** Workload Identity principals resolved from Kubernetes dependencies (preview), with their namespace. */
    private readonly workloadPrincipals = new Map<string, { nsName?: string; nsUrn?: string }>();
    readonly runnerNetworks = new Map<string, PoolNetwork>();
    readonly signerKeys: PolicyResource[] = [];
    readonly signerIdentities = new Map<string, Principal>();
    /** Where the signer identity came from. */
    signerIdentitySource: "service" | "binding" | "none" = "none";
    readonly signerNodes: ComputeNode[] = [];
    readonly signerNetworks = new Map<string, PolicyResource>();
    readonly controlPlaneNetworks = new Map<string, PolicyResource>();
    readonly signerProjects = new Set<string>();
    signerProjectUnknown = false;
    readonly provenanceBuckets: PolicyResource[] = [];
    /** Intake buckets (control-plane labelled, with a pool label) by URN → pool. */
    readonly intakeBuckets = new Map<string, string>();

    constructor(resources: PolicyResource[]) {
        this.resources = resources;
        for (const r of resources) {
            this.byUrn.set(r.urn, r);
            push(this.byType, r.type, r);
            this.indexResource(r);
        }
        for (const r of this.of(T.subnetwork)) {
            for (const n of this.networksOfSubnet(r)) {
                push(this.subnetsByNetwork, n.urn, r);
            }
        }
        this.indexRunnerNamespaces();
        for (const r of resources) {
            this.indexCompute(r);
        }
        for (const r of resources) {
            const iam = IAM_TYPES[r.type];
            if (iam) {
                this.indexGrants(r, iam);
            } else if (r.type === T.serviceAccountKey) {
                this.indexSaKey(r);
            }
        }
        this.classify();
    }

    /** Resources of one type (empty when none). */
    of(type: string): PolicyResource[] {
        return this.byType.get(type) ?? [];
    }

    /** Raw props (the analyzer proxy unwrapped). */
    props(r: PolicyResource): Record<string, any> {
        return unwrap(r.props) ?? {};
    }

    /** The resource's project: its `project` output, else its provider's; UNKNOWN_VALUE when unknown. */
    projectOf(r: PolicyResource): string | typeof UNKNOWN_VALUE | undefined {
        const p = get(r.props, "project");
        if (unknown(p)) {
            return UNKNOWN_VALUE;
        }
        if (typeof p === "string" && p !== "") {
            return p;
        }
        const fromProvider = r.provider ? get(r.provider.props, "project") : undefined;
        return typeof fromProvider === "string" && fromProvider !== "" ? fromProvider : undefined;
    }

    // -----------------------------------------------------------------------------------------
    // pass 1: lookups

    private indexResource(r: PolicyResource): void {
        const name = str(get(r.props, "name"));
        const project = str(this.projectOf(r));
        const selfLink = str(get(r.props, "selfLink"));
        const id = str(get(r.props, "id"));
        switch (r.type) {
            case T.network:
                this.networks.add(r, [selfLink, id, project && name ? `projects/${project}/global/networks/${name}` : undefined], [name]);
                break;
            case T.subnetwork: {
                const region = str(get(r.props, "region"));
                this.subnets.add(r, [selfLink, id, project && region && name ? `projects/${project}/regions/${region}/subnetworks/${name}` : undefined], [name]);
                break;
            }
            case T.cluster: {
                const loc = str(get(r.props, "location"));
                this.clusters.add(r, [id, selfLink, project && loc && name ? `projects/${project}/locations/${loc}/clusters/${name}` : undefined], [name]);
                break;
            }
            case T.keyRing:
                this.rings.add(r, [id, this.ringPath(r)], [name]);
                break;
            case T.cryptoKey:
                this.keys.add(r, [id, this.keyPath(r)], []);
                break;
            case T.bucket:
                this.buckets.add(r, [id, selfLink, name ? `b/${name}` : undefined], [name]);
                break;
            case T.runService:
            case T.runServiceV1: {
                const loc = str(get(r.props, "location"));
                this.services.add(r, [id, project && loc && name ? `projects/${project}/locations/${loc}/services/${name}` : undefined,
                    project && loc && name ? `locations/${loc}/namespaces/${project}/services/${name}` : undefined], [name]);
                break;
            }
            case T.connector: {
                const region = str(get(r.props, "region"));
                this.connectors.add(r, [id, selfLink, project && region && name ? `projects/${project}/locations/${region}/connectors/${name}` : undefined], [name]);
                break;
            }
            case T.projectCustomRole:
            case T.orgCustomRole: {
                const roleId = str(get(r.props, "roleId"));
                const parent = r.type === T.projectCustomRole
                    ? project && `projects/${project}`
                    : str(get(r.props, "orgId")) && `organizations/${str(get(r.props, "orgId"))}`;
                this.customRoles.add(r, [name, id, parent && roleId ? `${parent}/roles/${roleId}` : undefined], []);
                break;
            }
            case T.managedZone:
                this.zones.add(r, [id, project && name ? `projects/${project}/managedZones/${name}` : undefined], [name]);
                break;
            case T.firewallPolicy:
            case T.firewallPolicyWithRules:
                // I4: a policy with inline rules is associated exactly like one with separate rule resources.
                this.firewallPolicies.add(r, [id, selfLink, str(get(r.props, "selfLinkWithId")),
                    project && name ? `projects/${project}/global/firewallPolicies/${name}` : undefined], [name]);
                break;
            case T.regionFirewallPolicy:
            case T.regionFirewallPolicyWithRules: {
                const region = str(get(r.props, "region"));
                this.regionFirewallPolicies.add(r, [id, selfLink, str(get(r.props, "selfLinkWithId")),
                    project && region && name ? `projects/${project}/regions/${region}/firewallPolicies/${name}` : undefined], [name]);
                break;
            }
            case T.hierFirewallPolicy:
            case T.hierFirewallPolicyWithRules: {
                // The policy's name is its numeric id; associations and rules use `locations/global/firewallPolicies/<id>` or the id.
                const pid = str(get(r.props, "firewallPolicyId")) ?? str(get(r.props, "policyId")) ?? name;
                this.hierFirewallPolicies.add(r, [id, selfLink, str(get(r.props, "selfLinkWithId")), pid ? `locations/global/firewallPolicies/${pid}` : undefined], [name, pid]);
                break;
            }
            case T.project: {
                const pid = str(get(r.props, "projectId"));
                if (pid) {
                    this.projectsById.set(pid, r);
                }
                break;
            }
            case T.serviceAccount: {
                for (const email of [str(get(r.props, "email")), this.derivedEmail(r)]) {
                    if (email) {
                        this.saByEmail.set(email.toLowerCase(), r);
                    }
                }
                const uid = str(get(r.props, "uniqueId"));
                if (uid) {
                    this.saByUniqueId.set(uid, r);
                }
                if (project) {
                    push(this.saByProject, project, r);
                }
                break;
            }
        }
    }

    private ringPath(r: PolicyResource): string | undefined {
        const project = str(this.projectOf(r));
        const loc = str(get(r.props, "location"));
        const name = str(get(r.props, "name"));
        return project && loc && name ? `projects/${project}/locations/${loc}/keyRings/${name}` : undefined;
    }

    private keyPath(r: PolicyResource): string | undefined {
        const ring = str(get(r.props, "keyRing")) ?? (this.ringOfKey(r).ring ? this.ringPath(this.ringOfKey(r).ring!) : undefined);
        const name = str(get(r.props, "name"));
        return ring && name ? `${normRef(ring)}/cryptoKeys/${name}` : undefined;
    }

    /** `<accountId>@<project>.iam.gserviceaccount.com`, known in preview before the email output is. */
    derivedEmail(sa: PolicyResource): string | undefined {
        const accountId = str(get(sa.props, "accountId"));
        const project = str(this.projectOf(sa));
        return accountId && project ? `${accountId}@${project}.iam.gserviceaccount.com` : undefined;
    }

    /** A service account of this stack from an email, `projects/<p>/serviceAccounts/<email>` or unique id. */
    findSa(ref: string): PolicyResource | undefined {
        const n = normRef(ref).toLowerCase();
        const i = n.indexOf("serviceaccounts/");
        const key = i >= 0 ? n.slice(i + "serviceaccounts/".length) : n.replace(/^serviceaccount:/, "");
        return this.saByEmail.get(key) ?? this.saByUniqueId.get(key);
    }

    findNetworks(ref: string): PolicyResource[] {
        return this.networks.find(ref);
    }

    findSubnets(ref: string): PolicyResource[] {
        return this.subnets.find(ref);
    }

    findZones(ref: string): PolicyResource[] {
        return this.zones.find(ref);
    }

    /** Global network firewall policies (with separate or inline rules) by id, self link or name. */
    findFirewallPolicies(ref: string): PolicyResource[] {
        return this.firewallPolicies.find(ref);
    }

    /** Regional network firewall policies by id, self link or name. */
    findRegionFirewallPolicies(ref: string): PolicyResource[] {
        return this.regionFirewallPolicies.find(ref);
    }

    /** Hierarchical (organization / folder) firewall policies by id, self link or numeric name. */
    findHierFirewallPolicies(ref: string): PolicyResource[] {
        return this.hierFirewallPolicies.find(ref);
    }

    /** The key ring of a crypto key: by its `keyRing` literal or its dependency. */
    ringOfKey(key: PolicyResource): { ring?: PolicyResource; literal?: string } {
        const lit = get(key.props, "keyRing");
        const res = resolveRef(key, "keyRing", lit, [T.keyRing], (ref) => this.rings.find(ref));
        return { ring: res.found[0], literal: str(lit) };
    }

    /** The project a crypto key lives in (key ring project, or parsed from the key ring id). */
    keyProject(key: PolicyResource): string | typeof UNKNOWN_VALUE {
        const { ring, literal } = this.ringOfKey(key);
        if (ring) {
            const p = this.projectOf(ring);
            if (typeof p === "string") {
                return p;
            }
        }
        const m = literal ? /(?:^|\/)projects\/([^/]+)\//.exec(normRef(literal)) : null;
        return m ? m[1] : UNKNOWN_VALUE;
    }

    /** The networks a subnetwork belongs to. */
    networksOfSubnet(subnet: PolicyResource): PolicyResource[] {
        const cached = this.subnetNetworkCache.get(subnet.urn);
        if (cached) {
            return cached;
        }
        const res = resolveRef(subnet, "network", get(subnet.props, "network"), [T.network], (ref) => this.networks.find(ref));
        this.subnetNetworkCache.set(subnet.urn, res.found);
        return res.found;
    }

    /** Address ranges of a network: its subnets' primary and secondary ranges. */
    rangesOfNetwork(network: PolicyResource): Cidr[] {
        const out: Cidr[] = [];
        for (const s of this.subnetsByNetwork.get(network.urn) ?? []) {
            out.push(...this.rangesOfSubnet(s));
        }
        return out;
    }

    rangesOfSubnet(s: PolicyResource): Cidr[] {
        const out: Cidr[] = [];
        const primary = parseCidr(get(s.props, "ipCidrRange"));
        if (primary) {
            out.push(primary);
        }
        const secondary = get(s.props, "secondaryIpRanges");
        if (Array.isArray(secondary)) {
            for (const r of secondary) {
                const c = parseCidr(r?.ipCidrRange);
                if (c) {
                    out.push(c);
                }
            }
        }
        return out;
    }

    // -----------------------------------------------------------------------------------------
    // principals

    principalOfSa(sa: PolicyResource): Principal {
        let p = this.principals.get(sa.urn);
        if (!p) {
            const email = str(get(sa.props, "email")) ?? this.derivedEmail(sa);
            p = { id: sa.urn, label: email ? `serviceAccount:${email}` : `service account ${sa.name}`, sa };
            this.principals.set(sa.urn, p);
        }
        return p;
    }

    /** A principal from an IAM member string. */
    principalOfMember(member: string): Principal {
        const m = /^serviceAccount:(.+)$/i.exec(member.trim());
        if (m) {
            const email = m[1].toLowerCase();
            const sa = this.saByEmail.get(email);
            if (sa) {
                return this.principalOfSa(sa);
            }
            return this.literalPrincipal(`serviceAccount:${email}`);
        }
        const u = /^(user|group):(.+)$/i.exec(member.trim());
        return this.literalPrincipal(u ? `${u[1].toLowerCase()}:${u[2].toLowerCase()}` : member.trim());
    }

    private literalPrincipal(id: string): Principal {
        let p = this.principals.get(id);
        if (!p) {
            p = { id, label: id };
            this.principals.set(id, p);
        }
        return p;
    }

    private unresolvedPrincipal(r: PolicyResource, prop: string): Principal {
        const id = `?${r.urn}#${prop}`;
        let p = this.principals.get(id);
        if (!p) {
            p = { id, label: `the ${prop} of ${r.name}`, unresolved: true };
            this.principals.set(id, p);
        }
        return p;
    }

    /**
     * Principals from dependencies of `prop`: service accounts; else the Workload Identity principals
     * of Kubernetes service accounts or namespaces it depends on; else one unresolved principal.
     */
    private principalsFromDeps(r: PolicyResource, prop: string): Principal[] {
        const sas = depsOf(r, prop, [T.serviceAccount]);
        if (sas.length > 0) {
            return sas.map((sa) => this.principalOfSa(sa));
        }
        const wi = this.workloadPrincipalsFromDeps(r, prop);
        return wi.length > 0 ? wi : [this.unresolvedPrincipal(r, prop)];
    }

    /**
     * A member unknown during a preview that depends on a Kubernetes service account (or namespace)
     * is that account's (namespace's) Workload Identity principal.
     */
    private workloadPrincipalsFromDeps(r: PolicyResource, prop: string): Principal[] {
        const out: Principal[] = [];
        const nsOf = (d: PolicyResource): { nsName?: string; nsUrn?: string } => {
            if (d.type === T.k8sNamespace) {
                return { nsName: str(get(d.props, "metadata", "name")), nsUrn: d.urn };
            }
            const ns = get(d.props, "metadata", "namespace");
            if (typeof ns === "string" && !unknown(ns)) {
                return { nsName: ns };
            }
            const nsRes = depsOf(d, "metadata", [T.k8sNamespace])[0];
            return nsRes ? { nsName: str(get(nsRes.props, "metadata", "name")), nsUrn: nsRes.urn } : {};
        };
        for (const d of depsOf(r, prop, [T.k8sServiceAccount, T.k8sNamespace])) {
            const ns = nsOf(d);
            const ksa = d.type === T.k8sServiceAccount ? str(get(d.props, "metadata", "name")) ?? d.name : "*";
            const nsText = ns.nsName ?? (ns.nsUrn ? this.byUrn.get(ns.nsUrn)?.name : undefined) ?? "(unknown namespace)";
            const id = `wi:${ns.nsUrn ?? ns.nsName ?? d.urn}/${ksa}`;
            let p = this.principals.get(id);
            if (!p) {
                p = { id, label: `the Workload Identity principal of Kubernetes service account ${nsText}/${ksa}` };
                this.principals.set(id, p);
                this.workloadPrincipals.set(id, ns);
            }
            out.push(p);
        }
        return uniq(out);
    }

    /** Members of `member` (string) or `members` (array) → principals. */
    private principalsOfMembers(r: PolicyResource, prop: string, value: unknown): Principal[] {
        if (unknown(value)) {
            return this.principalsFromDeps(r, prop);
        }
        const values = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
        const out: Principal[] = [];
        let needDeps = false;
        for (const v of values) {
            if (unknown(v)) {
                needDeps = true;
            } else if (typeof v === "string" && v !== "") {
                out.push(this.principalOfMember(v));
            }
        }
        if (needDeps) {
            out.push(...this.principalsFromDeps(r, prop));
        }
        return uniq(out);
    }

    /** The identity a compute resource runs as, from a service-account email (literal or dependency). */
    private identitiesOf(r: PolicyResource, prop: string, value: unknown): { ids: Principal[]; unknown: boolean } {
        if (unknown(value)) {
            const sas = depsOf(r, prop, [T.serviceAccount]);
            return { ids: sas.map((sa) => this.principalOfSa(sa)), unknown: sas.length === 0 };
        }
        if (typeof value === "string" && value !== "") {
            const sa = this.findSa(value);
            if (sa) {
                return { ids: [this.principalOfSa(sa)], unknown: false };
            }
            return { ids: [this.literalPrincipal(value === "default" ? "serviceAccount:default" : `serviceAccount:${value.toLowerCase()}`)], unknown: false };
        }
        return { ids: [], unknown: false };
    }

    // -----------------------------------------------------------------------------------------
    // runner namespaces (Kubernetes)

    private addRunnerNamespace(name: string, pool: string | undefined, via: string): void {
        let ns = this.runnerNamespaces.get(name);
        if (!ns) {
            ns = { name, pools: new Set(), via };
            this.runnerNamespaces.set(name, ns);
        }
        if (pool) {
            ns.pools.add(pool);
        }
    }

    /**
     * Runner namespaces: Namespaces labelled runner (by `metadata.name`), and the namespaces of
     * runner pods (runner-labelled or gVisor workloads, ARC runner sets, gha-runner-scale-set releases).
     */
    private indexRunnerNamespaces(): void {
        for (const r of this.of(T.k8sNamespace)) {
            const props = this.props(r);
            if (roleOf(r.type, props) !== "runner") {
                continue;
            }
            this.runnerNamespaceUrns.add(r.urn);
            const name = str(get(props, "metadata", "name"));
            if (name) {
                this.addRunnerNamespace(name, poolOf(r.type, props), `Namespace ${r.name} is labelled runner`);
            }
        }
        for (const r of this.resources) {
            if (!isPodHoldingType(r.type)) {
                continue;
            }
            const props = this.props(r);
            const sites = podTemplateSites(r.type, props).filter((site) => site.runner);
            if (sites.length === 0) {
                continue;
            }
            const pool = sites.find((site) => site.pool !== undefined)?.pool ?? poolOf(r.type, props);
            const via = `runner pods of ${r.type.split(":").pop()} ${r.name} run there`;
            const ns = podNamespaceOf(r.type, props);
            if (unknown(ns)) {
                for (const d of depsOf(r, podNamespaceProp(r.type), [T.k8sNamespace])) {
                    this.runnerNamespaceUrns.add(d.urn);
                    const name = str(get(d.props, "metadata", "name"));
                    if (name) {
                        this.addRunnerNamespace(name, pool, via);
                    }
                }
            } else {
                // Without a namespace the pods land in the provider's default namespace.
                const providerNs = r.provider ? str(get(r.provider.props, "namespace")) : undefined;
                this.addRunnerNamespace(typeof ns === "string" && ns !== "" ? ns : providerNs ?? "default", pool, via);
            }
        }
    }

    /**
     * Runner identities among Workload Identity principals: the pods of a runner namespace, of a
     * runner cluster, or of every cluster in a project with runner pods act as them.
     */
    private classifyWorkloadPrincipals(): void {
        const runnerClusters = this.compute.filter((n) => n.isRunner && (n.kind === "cluster" || n.kind === "nodePool"));
        for (const p of [...this.principals.values()]) {
            if (p.sa || p.unresolved) {
                continue;
            }
            const hit = this.workloadPrincipalRunner(p, runnerClusters);
            if (hit) {
                this.addRunnerIdentity(p, undefined, hit.via, true);
                const ri = this.runnerIdentities.get(p.id);
                for (const pool of hit.pools) {
                    ri?.pools.add(pool);
                }
            }
        }
    }

    private workloadPrincipalRunner(p: Principal, runnerClusters: ComputeNode[]): { via: string; pools: Set<string> } | undefined {
        const fromDeps = this.workloadPrincipals.get(p.id);
        if (fromDeps) {
            const ns = fromDeps.nsName !== undefined ? this.runnerNamespaces.get(fromDeps.nsName) : undefined;
            if (ns) {
                return { via: `it is the Workload Identity of runner namespace ${ns.name} (${ns.via})`, pools: ns.pools };
            }
            if (fromDeps.nsUrn !== undefined && this.runnerNamespaceUrns.has(fromDeps.nsUrn)) {
                return { via: "it is the Workload Identity of a runner namespace", pools: new Set() };
            }
            return undefined;
        }
        const scope = workloadIdentityScope(p.id);
        if (!scope) {
            return undefined;
        }
        if ("namespace" in scope) {
            const ns = this.runnerNamespaces.get(scope.namespace);
            return ns ? { via: `runner pods in namespace ${ns.name} act as it through Workload Identity (${ns.via})`, pools: ns.pools } : undefined;
        }
        if ("cluster" in scope) {
            const nodes = this.clusters.find(scope.cluster).map((c) => this.computeByUrn.get(c.urn)).filter((n): n is ComputeNode => n !== undefined && n.isRunner);
            if (nodes.length === 0) {
                return undefined;
            }
            return { via: `every pod of runner cluster ${nodes[0].res.name} acts as it through Workload Identity`, pools: new Set(nodes.map((n) => n.pool).filter((x): x is string => x !== undefined)) };
        }
        // The whole workload pool of a project: every cluster there, so any runner pod of the project.
        const inProject = runnerClusters.filter((n) => this.projectOf(n.res) === scope.project);
        if (inProject.length === 0 && this.runnerNamespaces.size === 0) {
            return undefined;
        }
        const pools = new Set<string>();
        for (const n of inProject) {
            if (n.pool) {
                pools.add(n.pool);
            }
        }
        for (const ns of this.runnerNamespaces.values()) {
            ns.pools.forEach((x) => pools.add(x));
        }
        return { via: `every Kubernetes workload of project ${scope.project} acts as it through Workload Identity, runner pods included`, pools };
    }

    // -----------------------------------------------------------------------------------------
    // pass 2: compute

    private indexCompute(r: PolicyResource): void {
        let kind: ComputeKind | undefined;
        switch (r.type) {
            case T.instance:
            case T.instanceFromTemplate:
                kind = "instance";
                break;
            case T.instanceTemplate:
            case T.regionInstanceTemplate:
                kind = "template";
                break;
            case T.nodePool:
                kind = "nodePool";
                break;
            case T.cluster:
                kind = "cluster";
                break;
            case T.runService:
            case T.runServiceV1:
                kind = "runService";
                break;
            default:
                return;
        }
        this.computeNode(r, kind);
    }

    private computeNode(r: PolicyResource, kind: ComputeKind): ComputeNode {
        const existing = this.computeByUrn.get(r.urn);
        if (existing) {
            return existing;
        }
        const props = this.props(r);
        const role = roleOf(r.type, props);
        const node: ComputeNode = {
            res: r,
            kind,
            role,
            pool: poolOf(r.type, props),
            isRunner: kind !== "runService" && (role === "runner" || role === undefined),
            networks: [],
            subnets: [],
            externalNetworks: [],
            networkUnknown: false,
            identities: [],
            identityUnknown: false,
        };
        this.computeByUrn.set(r.urn, node);
        this.compute.push(node);

        const addNet = (prop: string, value: unknown) => {
            const res = resolveRef(r, prop, value, [T.network], (ref) => this.networks.find(ref));
            if (unknown(value)) {
                // Dependencies of a whole block: networks and subnetworks both count.
                node.networks.push(...res.found);
                const subs = depsOf(r, prop, [T.subnetwork]);
                node.subnets.push(...subs);
                for (const s of subs) {
                    node.networks.push(...this.networksOfSubnet(s));
                }
                node.networkUnknown ||= res.found.length === 0 && subs.length === 0;
                return;
            }
            node.networks.push(...res.found);
            if (res.external) {
                node.externalNetworks.push(res.external);
            }
        };
        const addSubnet = (prop: string, value: unknown) => {
            const res = resolveRef(r, prop, value, [T.subnetwork], (ref) => this.subnets.find(ref));
            if (unknown(value)) {
                node.subnets.push(...res.found);
                const nets = depsOf(r, prop, [T.network]);
                node.networks.push(...nets);
                node.networkUnknown ||= res.found.length === 0 && nets.length === 0;
            } else if (res.external) {
                node.externalNetworks.push(res.external);
            } else {
                node.subnets.push(...res.found);
            }
            for (const s of res.found) {
                node.networks.push(...this.networksOfSubnet(s));
            }
        };
        const addIdentity = (prop: string, value: unknown) => {
            const res = this.identitiesOf(r, prop, value);
            node.identities.push(...res.ids);
            node.identityUnknown ||= res.unknown;
        };

        switch (kind) {
            case "instance":
            case "template": {
                const nics = get(props, "networkInterfaces");
                if (unknown(nics)) {
                    addNet("networkInterfaces", nics);
                } else if (Array.isArray(nics)) {
                    for (const nic of nics) {
                        const net = get(nic, "network");
                        const sub = get(nic, "subnetwork");
                        if (unknown(net) || unknown(sub) || unknown(nic)) {
                            addNet("networkInterfaces", UNKNOWN_VALUE);
                        }
                        if (!unknown(net) && net !== undefined) {
                            addNet("networkInterfaces", net);
                        }
                        if (!unknown(sub) && sub !== undefined) {
                            addSubnet("networkInterfaces", sub);
                        }
                    }
                }
                const sa = get(props, "serviceAccount");
                addIdentity("serviceAccount", unknown(sa) ? sa : get(sa, "email"));
                break;
            }
            case "cluster": {
                const net = get(props, "network");
                addNet("network", net === undefined ? "default" : net);
                const sub = get(props, "subnetwork");
                if (sub !== undefined) {
                    addSubnet("subnetwork", sub);
                }
                const nc = get(props, "nodeConfig");
                addIdentity("nodeConfig", unknown(nc) ? nc : get(nc, "serviceAccount"));
                const ap = get(props, "clusterAutoscaling");
                addIdentity("clusterAutoscaling", unknown(ap) ? ap : get(ap, "autoProvisioningDefaults", "serviceAccount"));
                const pools = get(props, "nodePools");
                if (unknown(pools)) {
                    addIdentity("nodePools", pools);
                } else if (Array.isArray(pools)) {
                    for (const p of pools) {
                        addIdentity("nodePools", get(p, "nodeConfig", "serviceAccount"));
                    }
                }
                // Pod ranges given as literal CIDRs belong to the cluster's network.
                break;
            }
            case "nodePool": {
                const clusterRef = get(props, "cluster");
                const res = resolveRef(r, "cluster", clusterRef, [T.cluster], (ref) => this.clusters.find(ref));
                for (const c of res.found) {
                    const cn = this.computeNode(c, "cluster");
                    node.networks.push(...cn.networks);
                    node.subnets.push(...cn.subnets);
                    node.externalNetworks.push(...cn.externalNetworks);
                    node.networkUnknown ||= cn.networkUnknown;
                }
                if (res.external) {
                    node.externalNetworks.push(`cluster ${res.external}`);
                }
                node.networkUnknown ||= res.unknown;
                const nc = get(props, "nodeConfig");
                addIdentity("nodeConfig", unknown(nc) ? nc : get(nc, "serviceAccount"));
                break;
            }
            case "runService": {
                const tpl = get(props, "template");
                if (unknown(tpl)) {
                    addIdentity("template", tpl);
                    this.runServiceTemplateDeps(r, node);
                    break;
                }
                if (r.type === T.runServiceV1) {
                    addIdentity("template", get(tpl, "spec", "serviceAccountName"));
                    break;
                }
                addIdentity("template", get(tpl, "serviceAccount"));
                const vpc = get(tpl, "vpcAccess");
                if (unknown(vpc)) {
                    this.runServiceTemplateDeps(r, node);
                    break;
                }
                const nics = get(vpc, "networkInterfaces");
                if (unknown(nics)) {
                    this.runServiceTemplateDeps(r, node);
                } else if (Array.isArray(nics)) {
                    for (const nic of nics) {
                        const net = get(nic, "network");
                        const sub = get(nic, "subnetwork");
                        if (unknown(net) || unknown(sub)) {
                            this.runServiceTemplateDeps(r, node);
                        }
                        if (!unknown(net) && net !== undefined) {
                            addNet("template", net);
                        }
                        if (!unknown(sub) && sub !== undefined) {
                            addSubnet("template", sub);
                        }
                    }
                }
                const connector = get(vpc, "connector");
                if (unknown(connector)) {
                    this.runServiceTemplateDeps(r, node);
                } else if (typeof connector === "string" && connector !== "") {
                    for (const c of this.connectors.find(connector)) {
                        this.addConnectorNetworks(c, node);
                    }
                }
                break;
            }
        }
        node.networks = uniq(node.networks);
        node.subnets = uniq(node.subnets);
        node.identities = uniq(node.identities);
        return node;
    }

    /** Cloud Run `template` dependencies: networks, subnetworks and connectors it references. */
    private runServiceTemplateDeps(r: PolicyResource, node: ComputeNode): void {
        node.networks.push(...depsOf(r, "template", [T.network]));
        for (const s of depsOf(r, "template", [T.subnetwork])) {
            node.subnets.push(s);
            node.networks.push(...this.networksOfSubnet(s));
        }
        for (const c of depsOf(r, "template", [T.connector])) {
            this.addConnectorNetworks(c, node);
        }
    }

    private addConnectorNetworks(c: PolicyResource, node: ComputeNode): void {
        const net = get(c.props, "network");
        node.networks.push(...resolveRef(c, "network", net, [T.network], (ref) => this.networks.find(ref)).found);
        const subnet = get(c.props, "subnet");
        const subName = unknown(subnet) ? subnet : get(subnet, "name");
        for (const s of resolveRef(c, "subnet", subName, [T.subnetwork], (ref) => this.subnets.find(ref)).found) {
            node.subnets.push(s);
            node.networks.push(...this.networksOfSubnet(s));
        }
    }

    // -----------------------------------------------------------------------------------------
    // pass 3: grants

    private indexGrants(r: PolicyResource, iam: IamType): void {
        const props = this.props(r);
        // Target.
        let target: PolicyResource | undefined;
        let targetId: string | undefined;
        let targetUnknown = false;
        const tv = get(props, iam.target);
        const resolve = (types: readonly string[], find: (ref: string) => PolicyResource[]) => {
            const res = resolveRef(r, iam.target, tv, types, find);
            target = res.found[0];
            targetId = res.external;
            targetUnknown = res.unknown;
        };
        switch (iam.scope) {
            case "key":
                resolve([T.cryptoKey], (ref) => this.keys.find(ref));
                break;
            case "keyRing":
                resolve([T.keyRing], (ref) => this.rings.find(ref));
                break;
            case "serviceAccount":
                resolve([T.serviceAccount], (ref) => {
                    const sa = this.findSa(ref);
                    return sa ? [sa] : [];
                });
                break;
            case "runService":
                resolve([T.runService, T.runServiceV1], (ref) => this.services.find(ref));
                break;
            case "bucket":
                resolve([T.bucket], (ref) => this.buckets.find(ref.replace(/^gs:\/\//, "")));
                break;
            case "project": {
                if (unknown(tv)) {
                    const p = depsOf(r, iam.target, [T.project])[0];
                    const pid = p ? str(get(p.props, "projectId")) : undefined;
                    targetId = pid;
                    targetUnknown = pid === undefined;
                } else {
                    targetId = str(tv) ?? str(this.projectOf(r));
                    targetUnknown = targetId === undefined;
                }
                break;
            }
            case "folder":
            case "org":
                targetId = str(tv) ?? "?";
                break;
        }

        const conditional = (c: unknown) => c !== undefined && c !== null && !(typeof c === "object" && Object.keys(c as object).length === 0);
        const make = (role: unknown, members: Principal[], cond: boolean, roleDepsProp: string): Grant => {
            let customRole: PolicyResource | undefined;
            if (unknown(role)) {
                customRole = depsOf(r, roleDepsProp, [T.projectCustomRole, T.orgCustomRole])[0];
            } else if (typeof role === "string" && isCustomRoleName(role)) {
                customRole = this.customRoles.find(role)[0];
            }
            return {
                res: r,
                scope: iam.scope,
                target,
                targetId,
                targetUnknown,
                role: unknown(role) ? UNKNOWN_VALUE : String(role ?? ""),
                customRole,
                members,
                conditional: cond,
            };
        };

        const grants: Grant[] = [];
        if (iam.form === "member") {
            grants.push(make(get(props, "role"), this.principalsOfMembers(r, "member", get(props, "member")), conditional(get(props, "condition")), "role"));
        } else if (iam.form === "binding") {
            grants.push(make(get(props, "role"), this.principalsOfMembers(r, "members", get(props, "members")), conditional(get(props, "condition")), "role"));
        } else {
            const data = get(props, "policyData");
            let parsed: any;
            if (typeof data === "string" && !unknown(data)) {
                try {
                    parsed = JSON.parse(data);
                } catch {
                    parsed = undefined;
                }
            }
            if (parsed && typeof parsed === "object") {
                for (const b of Array.isArray(parsed.bindings) ? parsed.bindings : []) {
                    const members = Array.isArray(b?.members) ? b.members.filter((m: unknown) => typeof m === "string").map((m: string) => this.principalOfMember(m)) : [];
                    grants.push(make(typeof b?.role === "string" ? b.role : UNKNOWN_VALUE, members, conditional(b?.condition), "policyData"));
                }
            } else if (unknown(data)) {
                // Unknown during preview: the roles are unknown; members from dependencies.
                grants.push(make(UNKNOWN_VALUE, this.principalsFromDeps(r, "policyData"), false, "policyData"));
            }
            // A known policyData that is not JSON is rejected by the provider: it grants nothing.
        }

        for (const g of grants) {
            this.grants.push(g);
            if (g.target) {
                push(this.grantsByTarget, g.target.urn, g);
            } else if (g.scope === "project") {
                if (g.targetId !== undefined) {
                    push(this.projectGrants, g.targetId, g);
                } else {
                    this.projectGrantsUnknown.push(g);
                }
            } else if (g.scope === "folder" || g.scope === "org") {
                this.hierarchyGrants.push(g);
            } else if (g.targetUnknown) {
                this.unknownTargetGrants.push(g);
            }
        }
    }

    private indexSaKey(r: PolicyResource): void {
        const v = get(r.props, "serviceAccountId");
        const res = resolveRef(r, "serviceAccountId", v, [T.serviceAccount], (ref) => {
            const sa = this.findSa(ref);
            return sa ? [sa] : [];
        });
        for (const sa of res.found) {
            push(this.saKeys, sa.urn, r);
        }
        if (res.unknown) {
            this.saKeysUnknown.push(r);
        }
    }

    /** Whether a grant's role carries `cap`. */
    can(g: Grant, cap: Capability): Can {
        if (g.customRole) {
            const perms = get(g.customRole.props, "permissions");
            if (unknown(perms) || !Array.isArray(perms)) {
                return "unknown";
            }
            return permissionsHave(perms, cap) ? "yes" : "no";
        }
        if (g.role === UNKNOWN_VALUE) {
            return "unknown";
        }
        if (isCustomRoleName(g.role)) {
            return "unchecked";
        }
        return predefinedHas(g.role, cap) ? "yes" : "no";
    }

    /** Whether a grant's role touches Cloud Storage at all (any storage.* permission, or a basic role). */
    touchesStorage(g: Grant): boolean | "unknown" {
        if (g.customRole) {
            const perms = get(g.customRole.props, "permissions");
            if (unknown(perms) || !Array.isArray(perms)) {
                return "unknown";
            }
            return perms.some((x) => typeof x === "string" && x.startsWith("storage."));
        }
        if (g.role === UNKNOWN_VALUE) {
            return "unknown";
        }
        return g.role.startsWith("roles/storage.") || BASIC_ROLES.has(g.role) || (isCustomRoleName(g.role) ? "unknown" : false);
    }

    /** The role as text for messages. */
    roleText(g: Grant): string {
        if (g.role !== UNKNOWN_VALUE) {
            return g.role;
        }
        if (g.customRole) {
            return str(get(g.customRole.props, "name")) ?? `custom role ${g.customRole.name}`;
        }
        return "an unknown role";
    }

    /** Where a grant applies, for messages: `on project p`, `on key ring r`, ... */
    whereText(g: Grant): string {
        const t = g.target ? g.target.name : g.targetId ?? "an unknown target";
        switch (g.scope) {
            case "key":
                return `on crypto key ${t}`;
            case "keyRing":
                return `on key ring ${t}`;
            case "project":
                return `on project ${g.targetId ?? "(unknown)"}`;
            case "folder":
                return `on folder ${t}`;
            case "org":
                return `on organization ${t}`;
            case "serviceAccount":
                return `on service account ${g.target ? this.principalOfSa(g.target).label.replace(/^serviceAccount:/, "") : t}`;
            case "runService":
                return `on Cloud Run service ${t}`;
            case "bucket":
                return `on bucket ${g.target ? str(get(g.target.props, "name")) ?? t : t}`;
        }
    }

    /** `<principal> via <role> <where> (<resource>)`, the path text rules report. */
    pathText(p: Principal, g: Grant): string {
        return `${p.label} via ${this.roleText(g)} ${this.whereText(g)}${g.conditional ? " (conditional binding, still counted)" : ""} [${g.res.type.split(":").pop()} ${g.res.name}]`;
    }

    /** Grants that apply to a project: its project-scope grants plus folder/org grants. */
    grantsInProject(project: string | typeof UNKNOWN_VALUE): { grants: Grant[]; maybe: Grant[] } {
        if (project === UNKNOWN_VALUE) {
            const all: Grant[] = [];
            for (const gs of this.projectGrants.values()) {
                all.push(...gs);
            }
            return { grants: [...this.hierarchyGrants], maybe: [...all, ...this.projectGrantsUnknown] };
        }
        return { grants: [...(this.projectGrants.get(project) ?? []), ...this.hierarchyGrants], maybe: [...this.projectGrantsUnknown] };
    }

    // -----------------------------------------------------------------------------------------
    // pass 4: classification

    private classify(): void {
        // Runner identities and networks from runner (and unlabelled) compute.
        for (const node of this.compute) {
            if (node.isRunner) {
                for (const p of node.identities) {
                    this.addRunnerIdentity(p, node.pool, `${node.res.name} runs as it`, true);
                }
                for (const n of node.networks) {
                    let pn = this.runnerNetworks.get(n.urn);
                    if (!pn) {
                        pn = { network: n, pools: new Set(), attached: [] };
                        this.runnerNetworks.set(n.urn, pn);
                    }
                    if (node.pool) {
                        pn.pools.add(node.pool);
                    }
                    pn.attached.push(node.res);
                }
            } else if (node.role === "signer") {
                this.signerNodes.push(node);
                for (const n of node.networks) {
                    this.signerNetworks.set(n.urn, n);
                }
            } else if (node.role === "control-plane") {
                for (const n of node.networks) {
                    this.controlPlaneNetworks.set(n.urn, n);
                }
            }
        }
        // Runner pods act as the Workload Identity principals of their namespace (I10: they must not reach the signer either).
        this.classifyWorkloadPrincipals();
        this.closeRunnerIdentities();

        // Signer keys, identity, projects.
        for (const k of this.of(T.cryptoKey)) {
            const props = this.props(k);
            if (get(props, "purpose") === "ASYMMETRIC_SIGN" || roleOf(k.type, props) === "signer") {
                this.signerKeys.push(k);
            }
        }
        for (const node of this.signerNodes) {
            for (const p of node.identities) {
                this.signerIdentities.set(p.id, p);
            }
        }
        if (this.signerIdentities.size > 0) {
            this.signerIdentitySource = "service";
        } else {
            // No signer service: the members of the authoritative signing binding on the key.
            for (const k of this.signerKeys) {
                for (const g of this.grantsByTarget.get(k.urn) ?? []) {
                    if (g.res.type !== "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember" && this.can(g, "sign") === "yes") {
                        for (const p of g.members) {
                            if (!p.unresolved) {
                                this.signerIdentities.set(p.id, p);
                            }
                        }
                    }
                }
            }
            if (this.signerIdentities.size > 0) {
                this.signerIdentitySource = "binding";
            }
        }
        const addProject = (p: string | typeof UNKNOWN_VALUE | undefined) => {
            if (typeof p === "string") {
                this.signerProjects.add(p);
            } else if (p === UNKNOWN_VALUE) {
                this.signerProjectUnknown = true;
            }
        };
        for (const k of this.signerKeys) {
            addProject(this.keyProject(k));
        }
        for (const p of this.signerIdentities.values()) {
            if (p.sa) {
                addProject(this.projectOf(p.sa));
            }
        }
        for (const node of this.signerNodes) {
            addProject(this.projectOf(node.res));
        }

        // Buckets.
        for (const b of this.of(T.bucket)) {
            const props = this.props(b);
            const role = roleOf(b.type, props);
            const pool = poolOf(b.type, props);
            if (role === "signer") {
                this.provenanceBuckets.push(b);
            } else if (role === "control-plane" && pool !== undefined) {
                this.intakeBuckets.set(b.urn, pool);
            }
        }
    }

    private addRunnerIdentity(p: Principal, pool: string | undefined, via: string, direct: boolean): boolean {
        if (p.unresolved) {
            return false;
        }
        let ri = this.runnerIdentities.get(p.id);
        const isNew = !ri;
        if (!ri) {
            ri = { principal: p, pools: new Set(), via, direct };
            this.runnerIdentities.set(p.id, ri);
        }
        if (pool) {
            ri.pools.add(pool);
        }
        return isNew;
    }

    /** Whatever a runner identity can impersonate is a runner identity too (breadth-first, linear in grants). */
    private closeRunnerIdentities(): void {
        const edges = new Map<string, { targets: PolicyResource[]; g: Grant }[]>();
        for (const g of this.grants) {
            if (this.can(g, "impersonate") !== "yes") {
                continue;
            }
            let targets: PolicyResource[];
            if (g.scope === "serviceAccount") {
                targets = g.target ? [g.target] : [];
            } else if (g.scope === "project") {
                targets = g.targetId ? this.saByProject.get(g.targetId) ?? [] : [];
            } else if (g.scope === "folder" || g.scope === "org") {
                targets = this.of(T.serviceAccount);
            } else {
                continue;
            }
            if (targets.length === 0) {
                continue;
            }
            for (const m of g.members) {
                push(edges, m.id, { targets, g });
            }
        }
        if (edges.size === 0) {
            return;
        }
        const queue = [...this.runnerIdentities.keys()];
        for (let i = 0; i < queue.length; i++) {
            const from = this.runnerIdentities.get(queue[i])!;
            for (const { targets, g } of edges.get(queue[i]) ?? []) {
                for (const t of targets) {
                    const p = this.principalOfSa(t);
                    if (p.id === from.principal.id) {
                        continue;
                    }
                    const isNew = this.addRunnerIdentity(p, undefined, `runner identity ${from.principal.label} can impersonate it via ${this.roleText(g)} [${g.res.name}]`, false);
                    const ri = this.runnerIdentities.get(p.id)!;
                    for (const pool of from.pools) {
                        ri.pools.add(pool);
                    }
                    if (isNew) {
                        queue.push(p.id);
                    }
                }
            }
        }
    }

    /** True when `p` is a runner identity. */
    isRunner(p: Principal): boolean {
        return this.runnerIdentities.has(p.id);
    }

    /** The runner pool(s) a network serves (from runner attachments). */
    poolsOfNetwork(n: PolicyResource): Set<string> {
        return this.runnerNetworks.get(n.urn)?.pools ?? new Set();
    }

    /** Networks of the fleet: runner, signer and control-plane networks. */
    fleetNetworks(): Map<string, { network: PolicyResource; zone: string }> {
        const out = new Map<string, { network: PolicyResource; zone: string }>();
        for (const [urn, pn] of this.runnerNetworks) {
            out.set(urn, { network: pn.network, zone: pn.pools.size > 0 ? `runner network of pool ${[...pn.pools].join(", ")}` : "runner network" });
        }
        for (const [urn, n] of this.controlPlaneNetworks) {
            if (!out.has(urn)) {
                out.set(urn, { network: n, zone: "control-plane network" });
            }
        }
        for (const [urn, n] of this.signerNetworks) {
            out.set(urn, { network: n, zone: "signer network" });
        }
        return out;
    }

    /** The networks a firewall-like resource's `prop` references. */
    networksOfRef(r: PolicyResource, prop: string, value: unknown): Resolved {
        return resolveRef(r, prop, value, [T.network], (ref) => this.networks.find(ref));
    }

    /** Description of a network for messages. */
    networkLabel(n: PolicyResource): string {
        return str(get(n.props, "name")) ?? n.name;
    }
}

// ---------------------------------------------------------------------------------------------

const cache = new WeakMap<object, FleetGraph>();

/**
 * The index of one `args.resources` array, built once and shared by every caller passing that same
 * array (a pack composing these rules; tests). The analyzer builds a new array per stack policy.
 */
export function fleetGraph(resources: PolicyResource[]): FleetGraph {
    let g = cache.get(resources);
    if (!g) {
        g = new FleetGraph(resources);
        cache.set(resources, g);
    }
    return g;
}

/** Prefix for findings a rule cannot decide because values are unknown during preview. */
export const UNDECIDED = UNDECIDED_PREFIX;
