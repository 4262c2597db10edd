/**
 * Provider-aware computed outputs for the mocked GCP, Kubernetes and random providers.
 *
 * Ids, self links, emails and names follow the formats the real providers return, so references
 * between resources resolve to the strings they would in a real deployment (a binding's member is
 * the same string as the service account's `member`). Values are derived from a hash of the URN,
 * so runs are deterministic. In preview mode only values a provider knows at check time (inputs,
 * auto-names, project and region defaults) stay known; everything else is UNKNOWN, as in
 * `pulumi preview`.
 */
import { createHash } from "crypto";
import { UNKNOWN } from "./types";

export interface ModelContext {
    urn: string;
    type: string;
    /** The logical resource name (Pulumi name). */
    name: string;
    /** Plain inputs (secrets unwrapped, unknowns as UNKNOWN). */
    inputs: Record<string, any>;
    /** Default project and region: provider inputs first, then stack config, then mock defaults. */
    project: string;
    region: string;
    preview: boolean;
}

export interface ModelResult {
    id: string;
    /** Values the provider fills at check time (known in preview), merged over inputs. */
    defaults: Record<string, any>;
    /** Values only known after create (UNKNOWN in preview). */
    computed: Record<string, any>;
}

/** Deterministic lowercase hex of `len` characters derived from `seed`. */
export function hex(seed: string, len: number): string {
    let out = "";
    let i = 0;
    while (out.length < len) {
        out += createHash("sha256").update(`${seed}#${i++}`).digest("hex");
    }
    return out.slice(0, len);
}

/** Deterministic decimal digits. */
function digits(seed: string, len: number): string {
    return BigInt("0x" + hex(seed, 24)).toString().padStart(len, "1").slice(0, len).replace(/^0/, "1");
}

const COMPUTE = "https://www.googleapis.com/compute/v1/";

/** The name a provider auto-assigns: the logical name plus a random suffix (Pulumi autonaming). */
function autoName(ctx: ModelContext, sep = "-", len = 7): string {
    return `${ctx.name}${sep}${hex(ctx.urn, len)}`;
}

function known<T>(v: T): boolean {
    return v !== undefined && v !== null && v !== UNKNOWN;
}

/** Last path segment of a self link or id, or the value itself. */
export function lastSegment(v: unknown): string {
    return typeof v === "string" ? v.split("/").pop() ?? v : String(v);
}

type Model = (ctx: ModelContext) => ModelResult;

function globalCompute(collection: string, autoname = true): Model {
    return (ctx) => {
        const name = ctx.inputs.name ?? (autoname ? autoName(ctx) : ctx.name);
        const project = ctx.inputs.project ?? ctx.project;
        const id = `projects/${project}/global/${collection}/${name}`;
        return { id, defaults: { name, project }, computed: { selfLink: COMPUTE + id } };
    };
}

function regionalCompute(collection: string): Model {
    return (ctx) => {
        const name = ctx.inputs.name ?? autoName(ctx);
        const project = ctx.inputs.project ?? ctx.project;
        const region = ctx.inputs.region ?? ctx.region;
        const id = `projects/${project}/regions/${region}/${collection}/${name}`;
        return { id, defaults: { name, project, region }, computed: { selfLink: COMPUTE + id } };
    };
}

function iam(ctx: ModelContext): ModelResult {
    const i = ctx.inputs;
    const target = [i.cryptoKeyId, i.keyRingId, i.serviceAccountId, i.bucket, i.name, i.project, i.folder, i.orgId, i.service]
        .find((v) => typeof v === "string") ?? ctx.name;
    const id = [target, i.role, i.member].filter((v) => typeof v === "string").join("/");
    return { id, defaults: {}, computed: { etag: `BwY${hex(ctx.urn, 9)}=` } };
}

const MODELS: Record<string, Model> = {
    "gcp:compute/network:Network": globalCompute("networks"),
    "gcp:compute/firewall:Firewall": globalCompute("firewalls"),
    "gcp:compute/route:Route": globalCompute("routes"),
    "gcp:compute/instanceTemplate:InstanceTemplate": (ctx) => {
        const name = ctx.inputs.name ?? (ctx.inputs.namePrefix ? `${ctx.inputs.namePrefix}${digits(ctx.urn, 26)}` : autoName(ctx));
        const project = ctx.inputs.project ?? ctx.project;
        const id = `projects/${project}/global/instanceTemplates/${name}`;
        return {
            id,
            defaults: { name, project },
            computed: { selfLink: COMPUTE + id, selfLinkUnique: `${COMPUTE}${id}?uniqueId=${digits(ctx.urn, 19)}` },
        };
    },
    "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate": regionalCompute("instanceTemplates"),
    "gcp:compute/networkFirewallPolicy:NetworkFirewallPolicy": (ctx) => {
        const r = globalCompute("firewallPolicies")(ctx);
        return { ...r, computed: { ...r.computed, networkFirewallPolicyId: digits(ctx.urn, 19), ruleTupleCount: 0 } };
    },
    "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule": (ctx) => ({
        id: `projects/${ctx.inputs.project ?? ctx.project}/global/firewallPolicies/${lastSegment(ctx.inputs.firewallPolicy)}/rules/${ctx.inputs.priority}`,
        defaults: { project: ctx.inputs.project ?? ctx.project },
        computed: { kind: "compute#firewallPolicyRule", ruleTupleCount: 2 },
    }),
    "gcp:compute/networkFirewallPolicyAssociation:NetworkFirewallPolicyAssociation": (ctx) => ({
        id: `projects/${ctx.inputs.project ?? ctx.project}/global/firewallPolicies/${lastSegment(ctx.inputs.firewallPolicy)}/associations/${ctx.inputs.name ?? ctx.name}`,
        defaults: { project: ctx.inputs.project ?? ctx.project, name: ctx.inputs.name ?? ctx.name },
        computed: { shortName: ctx.inputs.name ?? ctx.name },
    }),
    "gcp:compute/networkPeering:NetworkPeering": (ctx) => ({
        id: `${lastSegment(ctx.inputs.network)}/${ctx.inputs.name ?? ctx.name}`,
        defaults: { name: ctx.inputs.name ?? ctx.name },
        computed: { state: "ACTIVE", stateDetails: "[2026-01-01T00:00:00.000-00:00]: Connected." },
    }),
    "gcp:compute/subnetwork:Subnetwork": (ctx) => {
        const r = regionalCompute("subnetworks")(ctx);
        const cidr = String(ctx.inputs.ipCidrRange ?? "10.0.0.0/24");
        const gateway = cidr.replace(/\.\d+\/\d+$/, ".1");
        return { ...r, computed: { ...r.computed, gatewayAddress: gateway, creationTimestamp: "2026-01-01T00:00:00.000-00:00", subnetworkId: Number(digits(ctx.urn, 15)) } };
    },
    "gcp:compute/router:Router": regionalCompute("routers"),
    "gcp:compute/routerNat:RouterNat": (ctx) => {
        const name = ctx.inputs.name ?? autoName(ctx);
        const project = ctx.inputs.project ?? ctx.project;
        const region = ctx.inputs.region ?? ctx.region;
        return { id: `${project}/${region}/${lastSegment(ctx.inputs.router)}/${name}`, defaults: { name, project, region }, computed: {} };
    },
    "gcp:compute/address:Address": (ctx) => {
        const r = regionalCompute("addresses")(ctx);
        return { ...r, computed: { ...r.computed, address: `34.${parseInt(hex(ctx.urn, 2), 16)}.${parseInt(hex(ctx.urn + "b", 2), 16)}.10` } };
    },
    "gcp:compute/instance:Instance": (ctx) => {
        const name = ctx.inputs.name ?? autoName(ctx);
        const project = ctx.inputs.project ?? ctx.project;
        const zone = ctx.inputs.zone ?? `${ctx.region}-a`;
        const id = `projects/${project}/zones/${zone}/instances/${name}`;
        return { id, defaults: { name, project, zone }, computed: { selfLink: COMPUTE + id, instanceId: digits(ctx.urn, 19), cpuPlatform: "Intel Broadwell" } };
    },
    "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager": (ctx) => {
        const r = regionalCompute("instanceGroupManagers")(ctx);
        const group = r.id.replace("/instanceGroupManagers/", "/instanceGroups/");
        return { ...r, computed: { ...r.computed, instanceGroup: COMPUTE + group, fingerprint: hex(ctx.urn, 12) } };
    },
    "gcp:compute/instanceGroupManager:InstanceGroupManager": (ctx) => {
        const name = ctx.inputs.name ?? autoName(ctx);
        const project = ctx.inputs.project ?? ctx.project;
        const zone = ctx.inputs.zone ?? `${ctx.region}-a`;
        const id = `projects/${project}/zones/${zone}/instanceGroupManagers/${name}`;
        return { id, defaults: { name, project, zone }, computed: { selfLink: COMPUTE + id, instanceGroup: COMPUTE + id.replace("instanceGroupManagers", "instanceGroups") } };
    },
    "gcp:compute/regionAutoscaler:RegionAutoscaler": regionalCompute("autoscalers"),
    "gcp:dns/managedZone:ManagedZone": (ctx) => {
        const name = ctx.inputs.name ?? autoName(ctx);
        const project = ctx.inputs.project ?? ctx.project;
        return {
            id: `projects/${project}/managedZones/${name}`,
            defaults: { name, project },
            computed: { managedZoneId: Number(digits(ctx.urn, 15)), nameServers: ["ns-gcp-private.googledomains.com."], creationTime: "2026-01-01T00:00:00.000Z" },
        };
    },
    "gcp:dns/recordSet:RecordSet": (ctx) => {
        const project = ctx.inputs.project ?? ctx.project;
        return { id: `projects/${project}/managedZones/${ctx.inputs.managedZone}/rrsets/${ctx.inputs.name}/${ctx.inputs.type}`, defaults: { project }, computed: {} };
    },
    "gcp:serviceaccount/account:Account": (ctx) => {
        const project = ctx.inputs.project ?? ctx.project;
        const email = `${ctx.inputs.accountId}@${project}.iam.gserviceaccount.com`;
        const id = `projects/${project}/serviceAccounts/${email}`;
        return { id, defaults: { project }, computed: { email, member: `serviceAccount:${email}`, name: id, uniqueId: digits(ctx.urn, 21) } };
    },
    "gcp:serviceaccount/key:Key": (ctx) => ({
        id: `${ctx.inputs.serviceAccountId}/keys/${hex(ctx.urn, 40)}`,
        defaults: {},
        // A placeholder, never a usable credential: the bytes are not a key.
        computed: { name: `${ctx.inputs.serviceAccountId}/keys/${hex(ctx.urn, 40)}`, privateKey: "cGxhY2Vob2xkZXI=", publicKey: "cGxhY2Vob2xkZXI=" },
    }),
    "gcp:kms/keyRing:KeyRing": (ctx) => {
        const project = ctx.inputs.project ?? ctx.project;
        const name = ctx.inputs.name ?? autoName(ctx);
        return { id: `projects/${project}/locations/${ctx.inputs.location}/keyRings/${name}`, defaults: { project, name }, computed: {} };
    },
    "gcp:kms/cryptoKey:CryptoKey": (ctx) => {
        const name = ctx.inputs.name ?? autoName(ctx);
        const id = `${ctx.inputs.keyRing}/cryptoKeys/${name}`;
        return {
            id,
            defaults: { name, purpose: ctx.inputs.purpose ?? "ENCRYPT_DECRYPT" },
            computed: { primaries: ctx.inputs.purpose === "ENCRYPT_DECRYPT" || ctx.inputs.purpose === undefined ? [{ name: `${id}/cryptoKeyVersions/1`, state: "ENABLED" }] : [] },
        };
    },
    "gcp:storage/bucket:Bucket": (ctx) => {
        const name = ctx.inputs.name ?? autoName(ctx);
        return {
            id: name,
            defaults: { name, project: ctx.inputs.project ?? ctx.project },
            computed: { url: `gs://${name}`, selfLink: `https://www.googleapis.com/storage/v1/b/${name}`, projectNumber: Number(digits(ctx.project, 12)) },
        };
    },
    "gcp:cloudrunv2/service:Service": (ctx) => {
        const project = ctx.inputs.project ?? ctx.project;
        const location = ctx.inputs.location ?? ctx.region;
        const name = ctx.inputs.name ?? autoName(ctx);
        return {
            id: `projects/${project}/locations/${location}/services/${name}`,
            defaults: { name, project, location },
            computed: { uri: `https://${name}-${hex(ctx.urn, 10)}-${location.replace(/[^a-z]/g, "").slice(0, 2)}.a.run.app`, uid: hex(ctx.urn + "uid", 32), etag: hex(ctx.urn, 16) },
        };
    },
    "gcp:container/cluster:Cluster": (ctx) => {
        const project = ctx.inputs.project ?? ctx.project;
        const location = ctx.inputs.location ?? ctx.region;
        const name = ctx.inputs.name ?? autoName(ctx);
        const id = `projects/${project}/locations/${location}/clusters/${name}`;
        // A self-describing placeholder, not a certificate: tests never dial the endpoint.
        const ca = Buffer.from(`-----BEGIN CERTIFICATE-----\nMOCK-CA-${hex(ctx.urn, 32)}\n-----END CERTIFICATE-----\n`).toString("base64");
        return {
            id,
            defaults: { name, project, location },
            computed: {
                endpoint: `172.16.${parseInt(hex(ctx.urn, 2), 16)}.2`,
                masterAuth: { ...(ctx.inputs.masterAuth ?? {}), clusterCaCertificate: ca },
                selfLink: `https://container.googleapis.com/v1/${id}`,
                masterVersion: "1.33.5-gke.1000000",
                labelFingerprint: hex(ctx.urn, 8),
            },
        };
    },
    "gcp:container/nodePool:NodePool": (ctx) => {
        const project = ctx.inputs.project ?? ctx.project;
        const location = ctx.inputs.location ?? ctx.region;
        const name = ctx.inputs.name ?? (ctx.inputs.namePrefix ? `${ctx.inputs.namePrefix}${hex(ctx.urn, 8)}` : autoName(ctx));
        return {
            id: `projects/${project}/locations/${location}/clusters/${lastSegment(ctx.inputs.cluster)}/nodePools/${name}`,
            defaults: { name, project, location },
            computed: { instanceGroupUrls: [], version: "1.33.5-gke.1000000" },
        };
    },
    "gcp:projects/iAMCustomRole:IAMCustomRole": (ctx) => {
        const project = ctx.inputs.project ?? ctx.project;
        const id = `projects/${project}/roles/${ctx.inputs.roleId}`;
        return { id, defaults: { project }, computed: { name: id, deleted: false } };
    },
    "gcp:organizations/iAMCustomRole:IAMCustomRole": (ctx) => {
        const id = `organizations/${ctx.inputs.orgId}/roles/${ctx.inputs.roleId}`;
        return { id, defaults: {}, computed: { name: id, deleted: false } };
    },
    "gcp:kms/cryptoKeyVersion:CryptoKeyVersion": (ctx) => {
        // KMS numbers versions itself (1 is created with the key); a plausible later number, stable per URN.
        const name = `${ctx.inputs.cryptoKey}/cryptoKeyVersions/${2 + (parseInt(hex(ctx.urn, 4), 16) % 998)}`;
        return {
            id: name,
            defaults: { state: ctx.inputs.state ?? "ENABLED" },
            computed: { name, algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "HSM", generateTime: "2026-01-01T00:00:00.000000Z" },
        };
    },
    "gcp:artifactregistry/repository:Repository": (ctx) => {
        const project = ctx.inputs.project ?? ctx.project;
        const location = ctx.inputs.location ?? ctx.region;
        const id = `projects/${project}/locations/${location}/repositories/${ctx.inputs.repositoryId}`;
        return { id, defaults: { project, location }, computed: { name: ctx.inputs.repositoryId, createTime: "2026-01-01T00:00:00Z" } };
    },
    // The build itself never runs offline: the digest is derived from the tags (which carry the source hash).
    "docker-build:index:Image": (ctx) => {
        const digest = `sha256:${hex(`${ctx.urn}|${JSON.stringify(ctx.inputs.tags ?? [])}`, 64)}`;
        const tag = Array.isArray(ctx.inputs.tags) && typeof ctx.inputs.tags[0] === "string" ? ctx.inputs.tags[0] : ctx.name;
        return { id: digest, defaults: {}, computed: { digest, ref: `${tag}@${digest}`, contextHash: hex(`${ctx.urn}|ctx`, 64) } };
    },
    "gcp:pubsub/topic:Topic": (ctx) => {
        const project = ctx.inputs.project ?? ctx.project;
        const name = ctx.inputs.name ?? autoName(ctx);
        return { id: `projects/${project}/topics/${name}`, defaults: { name, project }, computed: {} };
    },
    "gcp:pubsub/subscription:Subscription": (ctx) => {
        const project = ctx.inputs.project ?? ctx.project;
        const name = ctx.inputs.name ?? autoName(ctx);
        return { id: `projects/${project}/subscriptions/${name}`, defaults: { name, project }, computed: {} };
    },
    "gcp:storage/notification:Notification": (ctx) => {
        const n = String(1 + (parseInt(hex(ctx.urn, 4), 16) % 999));
        return {
            id: `${ctx.inputs.bucket}/notificationConfigs/${n}`,
            defaults: {},
            computed: { notificationId: n, selfLink: `https://www.googleapis.com/storage/v1/b/${ctx.inputs.bucket}/notificationConfigs/${n}` },
        };
    },
    "random:index/randomId:RandomId": (ctx) => {
        const bytes = Number(ctx.inputs.byteLength ?? 8);
        const h = hex(ctx.urn, bytes * 2);
        const buf = Buffer.from(h, "hex");
        const prefix = ctx.inputs.prefix ?? "";
        return {
            id: buf.toString("base64url"),
            defaults: {},
            computed: { hex: prefix + h, b64Url: prefix + buf.toString("base64url"), b64Std: prefix + buf.toString("base64"), dec: prefix + BigInt("0x" + h).toString() },
        };
    },
    "random:index/randomString:RandomString": (ctx) => {
        const len = Number(ctx.inputs.length ?? 16);
        const value = hex(ctx.urn, len);
        return { id: value, defaults: {}, computed: { result: value } };
    },
    "random:index/randomPet:RandomPet": (ctx) => {
        const value = `${ctx.inputs.prefix ? ctx.inputs.prefix + "-" : ""}mock-${hex(ctx.urn, 6)}`;
        return { id: value, defaults: {}, computed: {} };
    },
};

const IAM_TYPE = /IAM(Member|Binding|Policy|AuditConfig)|Iam(Member|Binding|Policy)/;

/** Kubernetes resources: metadata.name auto-named, namespaced kinds default to "default". */
function kubernetes(ctx: ModelContext): ModelResult {
    const meta = { ...(ctx.inputs.metadata ?? {}) };
    const clusterScoped = /:(Namespace|ClusterRole|ClusterRoleBinding|CustomResourceDefinition|StorageClass|RuntimeClass|PriorityClass|Node|PersistentVolume)$/.test(ctx.type);
    if (ctx.type === "kubernetes:helm.sh/v3:Release") {
        const name = ctx.inputs.name ?? autoName(ctx, "-", 8);
        const namespace = ctx.inputs.namespace ?? "default";
        return {
            id: `${namespace}/${name}`,
            defaults: { name, namespace },
            computed: { status: { name, namespace, chart: lastSegment(ctx.inputs.chart), version: ctx.inputs.version, status: "deployed", revision: 1 } },
        };
    }
    if (!known(meta.name)) {
        meta.name = meta.name ?? autoName(ctx, "-", 8);
    }
    if (!clusterScoped && meta.namespace === undefined) {
        meta.namespace = "default";
    }
    const id = clusterScoped ? String(meta.name) : `${meta.namespace}/${meta.name}`;
    return { id, defaults: { metadata: meta }, computed: {} };
}

/** Computes a resource's id and outputs as its provider would. */
export function modelResource(ctx: ModelContext): { id: string; defaults: Record<string, any>; state: Record<string, any> } {
    let result: ModelResult;
    const model = MODELS[ctx.type];
    if (model) {
        result = model(ctx);
    } else if (ctx.type.startsWith("gcp:") && IAM_TYPE.test(ctx.type)) {
        result = iam(ctx);
    } else if (ctx.type.startsWith("kubernetes:")) {
        result = kubernetes(ctx);
    } else if (ctx.type.startsWith("pulumi:providers:")) {
        result = { id: hex(ctx.urn, 8) + "-" + hex(ctx.urn + "p", 4) + "-4000-8000-" + hex(ctx.urn + "q", 12), defaults: {}, computed: {} };
    } else {
        const name = ctx.inputs.name ?? autoName(ctx);
        result = { id: String(name), defaults: ctx.type.startsWith("gcp:") ? { name } : {}, computed: {} };
    }
    const state: Record<string, any> = { ...ctx.inputs, ...result.defaults };
    for (const [k, v] of Object.entries(result.computed)) {
        // Inputs the user set win over computed defaults (e.g. an explicit `name`).
        if (state[k] === undefined) {
            state[k] = ctx.preview ? UNKNOWN : v;
        }
    }
    return { id: ctx.preview ? UNKNOWN : result.id, defaults: result.defaults, state };
}
