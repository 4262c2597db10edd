/**
 * A minimal secure fleet built from RAW @pulumi/gcp resources (not the package's components), for
 * the stack rule tests: two pools (network, subnet, deny rules, googleapis DNS zone, SA, labelled
 * instance template, intake bucket + objectCreator grant), a control-plane SA, and a signer
 * enclave in its own project (key ring, ASYMMETRIC_SIGN HSM key, signer SA, authoritative key
 * binding, signer Cloud Run service, provenance bucket, KMS audit config).
 *
 * Every stack rule must report nothing on it, in normal and in preview mode. Variants add or
 * change one thing through the returned handles.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import { evaluatePolicies, Evaluation, runProgram, Violation } from "../../plan/engine";
import { stackPolicies } from "../../policies/rules/stack";
import { addPerimeterAndGuardrails, HardeningOptions, perimeterPackConfig } from "./perimeterFixture";

export const WORKER_PROJECT = "worker-proj";
export const SIGNER_PROJECT = "signer-proj";
export const REGION = "europe-west1";
const RESTRICTED_VIP_ADDRESSES = ["199.36.153.4", "199.36.153.5", "199.36.153.6", "199.36.153.7"];

export interface PoolHandles {
    name: string;
    cidr: string;
    network: gcp.compute.Network;
    subnet: gcp.compute.Subnetwork;
    sa: gcp.serviceaccount.Account;
    template: gcp.compute.InstanceTemplate;
    intake: gcp.storage.Bucket;
    intakeGrant: gcp.storage.BucketIAMMember;
}

export interface FleetHandles {
    pools: Record<string, PoolHandles>;
    controlPlaneSa: gcp.serviceaccount.Account;
    signer: {
        network: gcp.compute.Network;
        subnet: gcp.compute.Subnetwork;
        ring: gcp.kms.KeyRing;
        key: gcp.kms.CryptoKey;
        sa: gcp.serviceaccount.Account;
        keyBinding: gcp.kms.CryptoKeyIAMBinding;
        service: gcp.cloudrunv2.Service;
        provenance: gcp.storage.Bucket;
    };
}

export interface FleetOptions {
    /** Skip parts of the fixture to build violating variants. */
    omit?: {
        auditConfig?: boolean;
        egressDeny?: string[];
        dnsZone?: string[];
        templateLabels?: string[];
        signerBinding?: boolean;
        /** Parts of the perimeter and guardrails (test/helpers/perimeterFixture.ts). */
        hardening?: HardeningOptions["omit"];
    };
}

function labels(role: string, pool?: string): Record<string, string> {
    return pool ? { "build-fleet-role": role, "build-fleet-pool": pool } : { "build-fleet-role": role };
}

/** An isolated network: VPC, subnet, deny-all both ways, HTTPS to the restricted VIP, googleapis.com zone. */
function network(name: string, project: string, cidr: string, role: string, pool: string | undefined, opts: FleetOptions) {
    const net = new gcp.compute.Network(`${name}-net`, { project, autoCreateSubnetworks: false });
    const subnet = new gcp.compute.Subnetwork(`${name}-subnet`, { project, region: REGION, network: net.id, ipCidrRange: cidr, privateIpGoogleAccess: true });
    new gcp.compute.Firewall(`${name}-deny-ingress`, {
        project, network: net.id, direction: "INGRESS", priority: 65534, sourceRanges: ["0.0.0.0/0"], denies: [{ protocol: "all" }],
    });
    if (!opts.omit?.egressDeny?.includes(name)) {
        new gcp.compute.Firewall(`${name}-deny-egress`, {
            project, network: net.id, direction: "EGRESS", priority: 65534, destinationRanges: ["0.0.0.0/0"], denies: [{ protocol: "all" }],
        });
    }
    new gcp.compute.Firewall(`${name}-allow-vip`, {
        project, network: net.id, direction: "EGRESS", priority: 1000, destinationRanges: ["199.36.153.4/30"], allows: [{ protocol: "tcp", ports: ["443"] }],
    });
    if (!opts.omit?.dnsZone?.includes(name)) {
        const zone = new gcp.dns.ManagedZone(`${name}-googleapis`, {
            project, dnsName: "googleapis.com.", visibility: "private",
            privateVisibilityConfig: { networks: [{ networkUrl: net.id }] }, labels: labels(role, pool),
        });
        new gcp.dns.RecordSet(`${name}-googleapis-cname`, {
            project, managedZone: zone.name, name: "*.googleapis.com.", type: "CNAME", ttl: 300, rrdatas: ["restricted.googleapis.com."],
        });
        new gcp.dns.RecordSet(`${name}-googleapis-a`, {
            project, managedZone: zone.name, name: "restricted.googleapis.com.", type: "A", ttl: 300, rrdatas: RESTRICTED_VIP_ADDRESSES,
        });
    }
    return { net, subnet };
}

/** Registers the secure fleet and returns handles for variants. */
export function secureFleet(opts: FleetOptions = {}): FleetHandles {
    const controlPlaneSa = new gcp.serviceaccount.Account("control-plane-sa", { project: WORKER_PROJECT, accountId: "fleet-control" });

    const pools: Record<string, PoolHandles> = {};
    for (const [name, cidr] of [["a", "10.10.0.0/24"], ["b", "10.20.0.0/24"]] as const) {
        const { net, subnet } = network(`pool-${name}`, WORKER_PROJECT, cidr, "runner", name, opts);
        const sa = new gcp.serviceaccount.Account(`pool-${name}-sa`, { project: WORKER_PROJECT, accountId: `runner-${name}` });
        new gcp.projects.IAMMember(`pool-${name}-logwriter`, { project: WORKER_PROJECT, role: "roles/logging.logWriter", member: sa.member });
        const template = new gcp.compute.InstanceTemplate(`pool-${name}-template`, {
            project: WORKER_PROJECT,
            machineType: "e2-standard-4",
            labels: opts.omit?.templateLabels?.includes(name) ? undefined : labels("runner", name),
            disks: [{ boot: true, autoDelete: true, sourceImage: "projects/cos-cloud/global/images/family/cos-stable" }],
            networkInterfaces: [{ network: net.id, subnetwork: subnet.id }],
            serviceAccount: { email: sa.email, scopes: ["https://www.googleapis.com/auth/cloud-platform"] },
            shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
        });
        const intake = new gcp.storage.Bucket(`pool-${name}-intake`, {
            project: WORKER_PROJECT, location: REGION, uniformBucketLevelAccess: true, labels: labels("control-plane", name),
        });
        const intakeGrant = new gcp.storage.BucketIAMMember(`pool-${name}-intake-creator`, {
            bucket: intake.name, role: "roles/storage.objectCreator", member: sa.member,
        });
        new gcp.storage.BucketIAMMember(`pool-${name}-intake-reader`, {
            bucket: intake.name, role: "roles/storage.objectViewer", member: controlPlaneSa.member,
        });
        pools[name] = { name, cidr, network: net, subnet, sa, template, intake, intakeGrant };
    }

    const { net, subnet } = network("signer", SIGNER_PROJECT, "10.30.0.0/26", "signer", undefined, opts);
    const ring = new gcp.kms.KeyRing("signer-ring", { project: SIGNER_PROJECT, location: REGION, name: "provenance-ring" }, { protect: true });
    const key = new gcp.kms.CryptoKey("signer-key", {
        keyRing: ring.id,
        purpose: "ASYMMETRIC_SIGN",
        versionTemplate: { algorithm: "EC_SIGN_P256_SHA256", protectionLevel: "HSM" },
        labels: labels("signer"),
    }, { protect: true });
    const sa = new gcp.serviceaccount.Account("signer-sa", { project: SIGNER_PROJECT, accountId: "provenance-signer" });
    const keyBinding = opts.omit?.signerBinding
        ? (undefined as unknown as gcp.kms.CryptoKeyIAMBinding)
        : new gcp.kms.CryptoKeyIAMBinding("signer-key-signer", { cryptoKeyId: key.id, role: "roles/cloudkms.signer", members: [sa.member] });
    // A production fleet: the provenance retention is locked (signer-evidence-locked).
    const provenance = new gcp.storage.Bucket("signer-provenance", {
        project: SIGNER_PROJECT, location: REGION, uniformBucketLevelAccess: true, labels: labels("signer"),
        retentionPolicy: { retentionPeriod: "31536000", isLocked: true },
    });
    new gcp.storage.BucketIAMBinding("signer-provenance-writer", { bucket: provenance.name, role: "roles/storage.objectCreator", members: [sa.member] });
    new gcp.storage.BucketIAMBinding("signer-provenance-reader", { bucket: provenance.name, role: "roles/storage.objectViewer", members: [controlPlaneSa.member] });
    const service = new gcp.cloudrunv2.Service("signer-service", {
        project: SIGNER_PROJECT,
        location: REGION,
        name: "provenance-signer",
        ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY",
        labels: labels("signer"),
        template: {
            serviceAccount: sa.email,
            vpcAccess: { networkInterfaces: [{ network: net.id, subnetwork: subnet.id }], egress: "ALL_TRAFFIC" },
            containers: [{ image: "europe-docker.pkg.dev/signer-proj/signer/signer@sha256:" + "0".repeat(64) }],
        },
    });
    new gcp.cloudrunv2.ServiceIamBinding("signer-invokers", {
        project: SIGNER_PROJECT, location: REGION, name: service.name, role: "roles/run.invoker", members: [controlPlaneSa.member],
    });
    if (!opts.omit?.auditConfig) {
        new gcp.projects.IAMAuditConfig("signer-kms-audit", {
            project: SIGNER_PROJECT,
            service: "cloudkms.googleapis.com",
            auditLogConfigs: [{ logType: "ADMIN_READ" }, { logType: "DATA_READ" }, { logType: "DATA_WRITE" }],
        });
    }
    addPerimeterAndGuardrails({ workerProject: WORKER_PROJECT, signerProject: SIGNER_PROJECT, controlPlaneMember: controlPlaneSa.member, omit: opts.omit?.hardening });

    return { pools, controlPlaneSa, signer: { network: net, subnet, ring, key, sa, keyBinding, service, provenance } };
}

export interface RunFleetOptions extends FleetOptions {
    preview?: boolean;
    policyConfig?: Record<string, unknown>;
}

/** Runs the secure fleet plus `variant` and evaluates the stack rules. */
export async function evaluateFleet(variant: (f: FleetHandles) => void = () => undefined, opts: RunFleetOptions = {}): Promise<Evaluation> {
    const run = await runProgram(async () => {
        variant(secureFleet(opts));
    }, {
        config: { "gcp:project": WORKER_PROJECT, "gcp:region": REGION },
        preview: opts.preview ?? false,
    });
    return evaluatePolicies(run, stackPolicies, { policyConfig: { ...perimeterPackConfig(SIGNER_PROJECT, WORKER_PROJECT), ...opts.policyConfig } });
}

/** Violations as one readable string, for assertion messages. */
export function findings(ev: Evaluation): string {
    return ev.violations.map((v) => `  [${v.policy}/${v.enforcementLevel}] ${findingText(v)}`).join("\n") || "  (none)";
}

export interface ExpectOptions {
    /** The matching finding is an undecidable-in-preview one. Default false. */
    undecided?: boolean;
    /** Other policies allowed to fire too (the variant also breaks their invariant). Default none. */
    alsoAllowed?: string[];
}

/** The finding text without the policy description the analyzer puts on the first line. */
export function findingText(v: Violation): string {
    const i = v.message.indexOf("\n");
    return i >= 0 ? v.message.slice(i + 1) : v.message;
}

/**
 * Asserts that `policy` reported a finding matching `pattern` (mandatory, or advisory when
 * undecidable), and that nothing else fired besides `alsoAllowed`.
 */
export function assertFinding(ev: Evaluation, policy: string, pattern: RegExp, opts: ExpectOptions = {}): void {
    const hit = ev.violations.find((v) => v.policy === policy && pattern.test(findingText(v)));
    if (!hit) {
        assert.fail(`expected a ${policy} finding matching ${pattern}, got:\n${findings(ev)}`);
    }
    const undecided = findingText(hit).startsWith("cannot decide during preview:");
    if (undecided !== (opts.undecided ?? false)) {
        assert.fail(`expected the ${policy} finding to be ${opts.undecided ? "" : "not "}undecidable, got: ${hit.message}`);
    }
    const level = undecided ? "advisory" : "mandatory";
    if (hit.enforcementLevel !== level) {
        assert.fail(`expected the ${policy} finding at level ${level}, got ${hit.enforcementLevel}: ${hit.message}`);
    }
    const allowed = new Set([policy, ...(opts.alsoAllowed ?? [])]);
    // A grant to a runner also breaks the runner allow-list: tolerated on the resources `policy` named, nowhere else
    // (so a false positive of runner-least-privilege elsewhere in the variant still fails the test).
    const named = new Set(ev.violations.filter((v) => v.policy === policy).map((v) => v.urn));
    const coFiring = (v: Violation) => v.policy === "runner-least-privilege" && named.has(v.urn);
    const stray = ev.violations.filter((v) => (!allowed.has(v.policy) && !coFiring(v)) || findingText(v).startsWith("cannot decide: "));
    if (stray.length > 0) {
        assert.fail(`unexpected findings besides ${[...allowed].join(", ")}:\n${findings({ violations: stray, notApplicable: [] })}`);
    }
}
