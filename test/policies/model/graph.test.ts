/**
 * The shared index on hand-built PolicyResource graphs (literal references, as after `pulumi up`):
 * caching, literal id/self-link/name matching, and no throw on malformed input. (Cost is measured
 * by `npm run bench`, not timed here.)
 */
import * as assert from "assert";
import { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { fleetGraph } from "../../../policies/model";
import { stackPolicies } from "../../../policies/rules/stack";
import { overlaps, parseCidr } from "../../../policies/model/cidr";
import { FIXTURE_GUARDRAILS } from "../../helpers/perimeterFixture";

const COMPUTE = "https://www.googleapis.com/compute/v1/";

function res(type: string, name: string, props: Record<string, any>): PolicyResource {
    return {
        type, name, props, urn: `urn:pulumi:s::p::${type}::${name}`,
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        dependencies: [], propertyDependencies: {},
        isType: () => false, asType: () => undefined,
    } as unknown as PolicyResource;
}

/** A fleet of `pools` pools with literal references in every form GCP accepts. */
function syntheticFleet(pools: number): PolicyResource[] {
    const out: PolicyResource[] = [];
    const wp = "worker-proj";
    const sp = "signer-proj";
    for (let i = 0; i < pools; i++) {
        const pool = `p${i}`;
        const netId = `projects/${wp}/global/networks/${pool}-net`;
        const subId = `projects/${wp}/regions/r1/subnetworks/${pool}-sub`;
        const email = `runner-${pool}@${wp}.iam.gserviceaccount.com`;
        const cidr = `10.${Math.floor(i / 256)}.${i % 256}.0/24`;
        out.push(res("gcp:compute/network:Network", `${pool}-net`, { name: `${pool}-net`, project: wp, selfLink: COMPUTE + netId }));
        out.push(res("gcp:compute/subnetwork:Subnetwork", `${pool}-sub`, { name: `${pool}-sub`, project: wp, region: "r1", network: COMPUTE + netId, ipCidrRange: cidr, selfLink: COMPUTE + subId }));
        out.push(res("gcp:compute/firewall:Firewall", `${pool}-deny-egress`, { project: wp, network: `${pool}-net`, direction: "EGRESS", destinationRanges: ["0.0.0.0/0"], denies: [{ protocol: "all" }] }));
        out.push(res("gcp:compute/firewall:Firewall", `${pool}-vip`, { project: wp, network: netId, direction: "EGRESS", destinationRanges: ["199.36.153.4/30"], allows: [{ protocol: "tcp", ports: ["443"] }] }));
        out.push(res("gcp:dns/managedZone:ManagedZone", `${pool}-zone`, { name: `${pool}-zone`, project: wp, dnsName: "googleapis.com.", visibility: "private", privateVisibilityConfig: { networks: [{ networkUrl: COMPUTE + netId }] } }));
        out.push(res("gcp:serviceaccount/account:Account", `${pool}-sa`, { accountId: `runner-${pool}`, project: wp, email, member: `serviceAccount:${email}`, name: `projects/${wp}/serviceAccounts/${email}` }));
        out.push(res("gcp:projects/iAMMember:IAMMember", `${pool}-log`, { project: wp, role: "roles/logging.logWriter", member: `serviceAccount:${email}` }));
        out.push(res("gcp:compute/instanceTemplate:InstanceTemplate", `${pool}-tpl`, {
            project: wp, labels: { "build-fleet-role": "runner", "build-fleet-pool": pool },
            networkInterfaces: [{ subnetwork: COMPUTE + subId }], serviceAccount: { email, scopes: [] },
        }));
        out.push(res("gcp:storage/bucket:Bucket", `${pool}-intake`, { name: `${pool}-intake`, project: wp, labels: { "build-fleet-role": "control-plane", "build-fleet-pool": pool } }));
        out.push(res("gcp:storage/bucketIAMMember:BucketIAMMember", `${pool}-creator`, { bucket: `b/${pool}-intake`, role: "roles/storage.objectCreator", member: `serviceAccount:${email}` }));
    }
    const ringId = `projects/${sp}/locations/r1/keyRings/ring`;
    const signer = `signer@${sp}.iam.gserviceaccount.com`;
    out.push(res("gcp:compute/network:Network", "signer-net", { name: "signer-net", project: sp }));
    out.push(res("gcp:compute/subnetwork:Subnetwork", "signer-sub", { name: "signer-sub", project: sp, region: "r1", network: `projects/${sp}/global/networks/signer-net`, ipCidrRange: "172.16.0.0/26" }));
    const ring = res("gcp:kms/keyRing:KeyRing", "ring", { name: "ring", project: sp, location: "r1" });
    (ring.opts as { protect: boolean }).protect = true;
    out.push(ring);
    out.push(res("gcp:kms/cryptoKey:CryptoKey", "key", { name: "key", keyRing: ringId, purpose: "ASYMMETRIC_SIGN" }));
    out.push(res("gcp:serviceaccount/account:Account", "signer-sa", { accountId: "signer", project: sp, email: signer }));
    out.push(res("gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding", "key-signer", { cryptoKeyId: `${ringId}/cryptoKeys/key`, role: "roles/cloudkms.signer", members: [`serviceAccount:${signer}`] }));
    out.push(res("gcp:cloudrunv2/service:Service", "signer-svc", {
        name: "signer-svc", project: sp, location: "r1", labels: { "build-fleet-role": "signer" },
        template: { serviceAccount: signer, vpcAccess: { networkInterfaces: [{ network: "signer-net", subnetwork: "signer-sub" }] }, containers: [{ image: `eu-docker.pkg.dev/${sp}/s/signer@sha256:${"0".repeat(64)}` }] },
    }));
    out.push(res("gcp:storage/bucket:Bucket", "prov", { name: "prov", project: sp, labels: { "build-fleet-role": "signer" }, retentionPolicy: { retentionPeriod: "31536000", isLocked: true } }));
    out.push(res("gcp:storage/bucketIAMBinding:BucketIAMBinding", "prov-writer", { bucket: "prov", role: "roles/storage.objectCreator", members: [`serviceAccount:${signer}`] }));
    out.push(res("gcp:projects/iAMAuditConfig:IAMAuditConfig", "audit", { project: sp, service: "cloudkms.googleapis.com", auditLogConfigs: [{ logType: "DATA_READ" }, { logType: "DATA_WRITE" }] }));
    // Organization-level hardening: the signer project (by number) in an enforced KMS perimeter, and the guardrails.
    out.push(res("gcp:organizations/project:Project", "signer-project", { projectId: sp, number: "222000222" }));
    out.push(res("gcp:accesscontextmanager/servicePerimeter:ServicePerimeter", "enclave", { name: "accessPolicies/1/servicePerimeters/enclave", status: { resources: ["projects/222000222"], restrictedServices: ["cloudkms.googleapis.com"] } }));
    out.push(res("gcp:organizations/project:Project", "worker-project", { projectId: wp, number: "333000333" }));
    out.push(res("gcp:accesscontextmanager/servicePerimeter:ServicePerimeter", "workers", { name: "accessPolicies/1/servicePerimeters/workers", status: {
        resources: ["projects/333000333"], restrictedServices: ["storage.googleapis.com"], vpcAccessibleServices: { enableRestriction: true, allowedServices: ["RESTRICTED-SERVICES"] },
    } }));
    for (const [constraint, g] of Object.entries(FIXTURE_GUARDRAILS)) {
        for (const p of g.zone === "all" ? [wp, sp] : [g.zone === "runner" ? wp : sp]) {
            out.push(res("gcp:orgpolicy/policy:Policy", `${p}-${constraint}`, { parent: `projects/${p}`, name: `projects/${p}/policies/${constraint}`, spec: g.spec }));
        }
    }
    return out;
}

function evaluate(resources: PolicyResource[]): string[] {
    const found: string[] = [];
    for (const p of stackPolicies) {
        const args = { resources, stackTags: new Map(), getConfig: () => ({}), notApplicable: () => { throw new Error("n/a"); } } as unknown as StackValidationArgs;
        p.validateStack(args, ((m: any, urn?: string) => found.push(`[${p.name}] ${typeof m === "string" ? m : m.message} ${urn ?? ""}`)) as any);
    }
    return found;
}

describe("stack graph index", () => {
    it("builds once per resources array and shares it", () => {
        const r = syntheticFleet(2);
        assert.strictEqual(fleetGraph(r), fleetGraph(r));
        assert.notStrictEqual(fleetGraph(r), fleetGraph([...r]));
    });

    it("classifies a fleet from literal ids, self links and bare names", () => {
        const g = fleetGraph(syntheticFleet(3));
        assert.deepStrictEqual([...g.runnerIdentities.values()].map((r) => `${r.principal.label}:${[...r.pools]}`).sort(), [
            "serviceAccount:runner-p0@worker-proj.iam.gserviceaccount.com:p0",
            "serviceAccount:runner-p1@worker-proj.iam.gserviceaccount.com:p1",
            "serviceAccount:runner-p2@worker-proj.iam.gserviceaccount.com:p2",
        ]);
        assert.deepStrictEqual([...g.runnerNetworks.values()].map((n) => n.network.name).sort(), ["p0-net", "p1-net", "p2-net"]);
        assert.deepStrictEqual([...g.signerIdentities.values()].map((p) => p.label), ["serviceAccount:signer@signer-proj.iam.gserviceaccount.com"]);
        assert.deepStrictEqual([...g.signerNetworks.values()].map((n) => n.name), ["signer-net"]);
        assert.deepStrictEqual([...g.signerProjects], ["signer-proj"]);
        assert.strictEqual(g.intakeBuckets.size, 3);
        // Bucket IAM state names the bucket `b/<name>`; it still resolves.
        assert.ok(g.grants.filter((gr) => gr.scope === "bucket").every((gr) => gr.target !== undefined));
    });

    it("reports nothing on the secure synthetic fleet", () => {
        assert.deepStrictEqual(evaluate(syntheticFleet(4)), []);
    });

    it("catches a literal cross-pool grant and a peering given as bare names", () => {
        const r = syntheticFleet(2);
        r.push(res("gcp:storage/bucketIAMMember:BucketIAMMember", "x", { bucket: "p1-intake", role: "roles/storage.objectCreator", member: "serviceAccount:runner-p0@worker-proj.iam.gserviceaccount.com" }));
        r.push(res("gcp:compute/networkPeering:NetworkPeering", "peer", { network: "p0-net", peerNetwork: `${COMPUTE}projects/worker-proj/global/networks/p1-net` }));
        const found = evaluate(r);
        assert.ok(found.some((f) => f.startsWith("[pool-intake-separation]") && f.includes("p1-intake")), found.join("\n"));
        assert.ok(found.some((f) => f.startsWith("[pool-network-separation]") && f.includes("peer")), found.join("\n"));
    });

    it("never throws on malformed props", () => {
        const r = syntheticFleet(1);
        r.push(res("gcp:compute/instanceTemplate:InstanceTemplate", "weird", { networkInterfaces: "nope", serviceAccount: 42, labels: null }));
        r.push(res("gcp:projects/iAMPolicy:IAMPolicy", "bad-json", { project: "signer-proj", policyData: "{not json" }));
        r.push(res("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "no-role", { cryptoKeyId: null, member: {} }));
        r.push(res("gcp:compute/firewall:Firewall", "fw", { network: ["x"], sourceRanges: "10.0.0.0/8", allows: [null] }));
        assert.doesNotThrow(() => evaluate(r));
    });

    it("compares ranges by overlap", () => {
        assert.ok(overlaps(parseCidr("10.0.0.0/8")!, parseCidr("10.1.2.0/24")!));
        assert.ok(!overlaps(parseCidr("10.10.0.0/24")!, parseCidr("10.20.0.0/24")!));
        assert.ok(!overlaps(parseCidr("10.0.0.0/8")!, parseCidr("::/0")!));
    });
});
