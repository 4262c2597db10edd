/**
 * The skeleton of the type classification table (policies/model/typeClasses.ts): a suggested class
 * for every installed type, from its service and name. Rows are then reviewed by hand in the table;
 * this only proposes. Run `npx ts-node --transpile-only test/helpers/typeSkeleton.ts` after a provider
 * upgrade: it prints the rows the table lacks, ready to review and paste.
 */
import { TYPE_CLASSES } from "../../policies/model/typeClasses";
import { TypeClass } from "../../policies/model/typeTable";
import { installedTypes } from "./typeUniverse";

const GCP_RULES: [RegExp, TypeClass][] = [
    // Grants and delegations first: an IAM resource of any service is a grant, whatever else the service does.
    [/(Iam|IAM)(Member|Binding|Policy)$|AccessControl$|ACL$|CustomRole$|:Key$|HmacKey$|:ApiKey$|Entitlement$|GroupMembership$|WorkloadIdentityPool|OauthClient|DenyPolicy$|PrincipalAccessBoundary|AccessBinding|FolderIamAuditConfig|:Subscription$|RoleBinding|IntegrationsAuthConfig|ManagedFolder$|:Folder$/, "grants"],
    [/AuditConfig$|^gcp:logging\/|FlowLog|^gcp:observability\//, "logs"],
    [/^gcp:(kms|secretmanager|certificateauthority|parametermanager|privateca)\//, "secrets"],
    [/^gcp:(organizations|folder|projects|resourcemanager|orgpolicy|accesscontextmanager|assuredworkloads|billing|serviceusage|essentialcontacts|tags|cloudquota)\//, "hierarchy"],
    [/^gcp:(artifactregistry|containeranalysis|binaryauthorization|sourcerepo|securesourcemanager|cloudbuildv2|developerconnect|deploymentmanager|configdeployment|runtimeconfig)\/|:(Image|MachineImage|Snapshot)$|FeatureMembership$/, "supply"],
    [/:(Instance|InstanceFromTemplate|InstanceFromMachineImage|InstanceTemplate|RegionInstanceTemplate|InstanceGroupManager|RegionInstanceGroupManager|PerInstanceConfig|RegionPerInstanceConfig|InstanceGroup|Cluster|NodePool|WorkerPool|Job|Service|Function|Environment|Trigger|Workflow|Batch|Task|Runtime|Schedule|NotebookExecution|RuntimeTemplate|StandardAppVersion|FlexibleAppVersion|WorkflowTemplate|SessionTemplate|Pipeline|Automation|Target|Queue|Connection|AppConnector|Backend|AiReasoningEngine|AiEndpoint|Vm|Node|QueuedResource|WorkstationConfig|Workstation|DataTransferConfig|Repository|OsPolicyAssignment|PatchDeployment|GuestPolicies|Integration|AuthConfig|Routine|AttachedCluster|AwsCluster|AwsNodePool|AzureCluster|AzureNodePool|VmwareCluster|VmwareNodePool|BareMetalCluster|BareMetalNodePool|BareMetalAdminCluster|VmwareAdminCluster)$/, "runs"],
    [/^gcp:(compute|networkconnectivity|networksecurity|networkservices|servicenetworking|vpcaccess|dns|networkmanagement|edgenetwork|cloudids|iap|beyondcorp|servicedirectory|apigateway|endpoints|certificatemanager)\//, "network"],
    [/^gcp:(storage|bigquery|bigtable|spanner|sql|firestore|alloydb|redis|memorystore|memcache|filestore|netapp|pubsub|healthcare|datastream|dataplex|datacatalog|biglake|managedkafka|parallelstore|lustre|backupdisasterrecovery|gkebackup|bigqueryanalyticshub|bigquerydatapolicy|oracledatabase|databasemigrationservice|vectorsearch)\//, "data"],
];

/** Kubernetes groups (and core kinds) by class. */
const K8S_RULES: [RegExp, TypeClass][] = [
    [/^kubernetes:rbac\.authorization\.k8s\.io\/|^kubernetes:certificates\.k8s\.io\/|^kubernetes:core\/v1:ServiceAccount|^kubernetes:authentication/, "grants"],
    [/^kubernetes:(apps|batch|extensions)\/[^:]+:(Deployment|DaemonSet|StatefulSet|ReplicaSet|Job|CronJob|ScheduledJob)(Patch)?$|^kubernetes:core\/v1:(Pod|PodTemplate|ReplicationController)(Patch)?$|^kubernetes:(helm|yaml|kustomize)/, "runs"],
    [/^kubernetes:(admissionregistration\.k8s\.io|node\.k8s\.io|scheduling\.k8s\.io|apiextensions\.k8s\.io|apiregistration\.k8s\.io|resource\.k8s\.io|settings\.k8s\.io|auditregistration\.k8s\.io|policy)\/|^kubernetes:core\/v1:(Node|LimitRange|ResourceQuota)/, "hostConfig"],
    [/^kubernetes:(networking\.k8s\.io|discovery\.k8s\.io)\/|^kubernetes:core\/v1:(Service|Endpoints)(Patch|List)?$/, "network"],
    [/^kubernetes:core\/v1:Secret/, "secrets"],
    [/^kubernetes:core\/v1:Namespace/, "hierarchy"],
    [/^kubernetes:(storage\.k8s\.io|storagemigration\.k8s\.io)\/|^kubernetes:core\/v1:(ConfigMap|PersistentVolume|PersistentVolumeClaim)/, "data"],
    [/^kubernetes:(events\.k8s\.io)\/|^kubernetes:core\/v1:Event/, "logs"],
];

/** A suggested class for one type token. */
export function suggestClass(type: string): TypeClass {
    if (type.startsWith("pulumi:providers:")) {
        return "inert";
    }
    // List kinds are read-only client types; they never create anything.
    if (/^kubernetes:.*List$/.test(type) && !/^kubernetes:meta/.test(type)) {
        return "inert";
    }
    for (const [re, cls] of type.startsWith("kubernetes:") ? K8S_RULES : GCP_RULES) {
        if (re.test(type)) {
            return cls;
        }
    }
    return "inert";
}

if (require.main === module) {
    const missing = installedTypes().filter((t) => TYPE_CLASSES[t] === undefined);
    for (const t of missing) {
        process.stdout.write(`    "${t}": "${suggestClass(t)}",\n`);
    }
    process.stderr.write(`${missing.length} types without a row\n`);
}
