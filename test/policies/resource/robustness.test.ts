/**
 * Rules never throw: every per-resource rule is fed malformed and unknown-laden props for every
 * type it handles, and must neither throw nor fall back to its "could not evaluate" guard.
 */
import * as assert from "assert";
import { ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import { resourcePolicies } from "../../../policies/rules/resource";
import { UNKNOWN } from "../../../plan/engine";

const TYPES = [
    "gcp:compute/instance:Instance", "gcp:compute/instanceTemplate:InstanceTemplate", "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate",
    "gcp:compute/instanceFromTemplate:InstanceFromTemplate", "gcp:compute/instanceGroupManager:InstanceGroupManager",
    "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager", "gcp:compute/perInstanceConfig:PerInstanceConfig",
    "gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool", "kubernetes:core/v1:Namespace", "kubernetes:core/v1:Pod",
    "kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:batch/v1:CronJob", "kubernetes:helm.sh/v3:Release",
    "kubernetes:helm.sh/v4:Chart", "kubernetes:actions.github.com/v1alpha1:AutoscalingRunnerSet", "gcp:serviceaccount/key:Key",
    "gcp:kms/cryptoKey:CryptoKey", "gcp:kms/keyRing:KeyRing", "gcp:cloudrunv2/service:Service", "gcp:cloudrun/service:Service",
    "gcp:cloudrunv2/serviceIamPolicy:ServiceIamPolicy", "gcp:projects/iAMBinding:IAMBinding", "gcp:projects/iAMPolicy:IAMPolicy",
    "gcp:storage/bucketACL:BucketACL", "gcp:storage/bucketAccessControl:BucketAccessControl", "gcp:compute/firewall:Firewall",
    "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule", "gcp:compute/firewallPolicyWithRules:FirewallPolicyWithRules",
    "gcp:compute/subnetwork:Subnetwork", "gcp:compute/routerNat:RouterNat",
];

const KEYS = [
    "networkInterfaces", "disks", "metadata", "scheduling", "serviceAccount", "shieldedInstanceConfig", "canIpForward", "bootDisk",
    "attachedDisks", "scratchDisks", "statefulDisks", "statefulInternalIps", "allInstancesConfig", "nodeConfig", "nodePools",
    "privateClusterConfig", "workloadIdentityConfig", "networkPolicy", "masterAuth", "enableAutopilot", "removeDefaultNodePool", "spec",
    "values", "chart", "template", "purpose", "versionTemplate", "labels", "importOnly", "deletionPolicy", "ingress", "invokerIamDisabled",
    "member", "members", "policyData", "role", "entity", "roleEntities", "predefinedAcl", "sourceRanges", "sourceTags", "allows",
    "direction", "disabled", "action", "match", "rules", "logConfig", "purpose", "resourceLabels",
];

const deep = (leaf: unknown): unknown => ({
    template: { metadata: { labels: leaf }, spec: { containers: [leaf, { securityContext: leaf, ports: [leaf, { hostPort: leaf }] }], volumes: [leaf, { hostPath: leaf }], securityContext: leaf } },
    jobTemplate: { spec: { template: { spec: leaf } } },
    containers: [leaf],
    containerMode: { type: leaf },
    maxRunDuration: { seconds: leaf },
    labels: { "build-fleet-role": leaf },
    clientCertificateConfig: leaf,
    sandboxConfig: leaf,
    taints: [leaf],
    srcIpRanges: [leaf],
    enable: leaf,
    algorithm: leaf,
});

const LEAVES: unknown[] = [UNKNOWN, "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", null, 42, "x", true, [], [UNKNOWN], [42, null, "x"], {}];

function variants(): Record<string, any>[] {
    const out: Record<string, any>[] = [{}];
    for (const leaf of LEAVES) {
        out.push(Object.fromEntries(KEYS.map((k) => [k, leaf])));
        out.push(Object.fromEntries(KEYS.map((k) => [k, deep(leaf)])));
        out.push(Object.fromEntries(KEYS.map((k) => [k, [deep(leaf), leaf]])));
    }
    return out;
}

function args(type: string, props: Record<string, any>): ResourceValidationArgs {
    return {
        type, props, urn: `urn:pulumi:test::p::${type}::r`, name: "r",
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        stackTags: new Map(),
        isType: () => false, asType: () => undefined, getConfig: <T>() => ({}) as T,
        notApplicable: () => { throw new Error("notApplicable"); },
    };
}

describe("resource rules: never throw", () => {
    it("malformed and unknown-laden props are handled without the fallback guard", async () => {
        let calls = 0;
        for (const p of resourcePolicies) {
            const fns: ResourceValidation[] = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource!];
            for (const type of TYPES) {
                for (const props of variants()) {
                    for (const fn of fns) {
                        const messages: string[] = [];
                        await fn(args(type, props), (m: any) => messages.push(typeof m === "string" ? m : m.message));
                        calls++;
                        const guard = messages.find((m) => m.startsWith("policy could not evaluate"));
                        assert.strictEqual(guard, undefined, `${p.name} on ${type} with ${JSON.stringify(props).slice(0, 300)}: ${guard}`);
                    }
                }
            }
        }
        assert.ok(calls > 1000);
    });
});
