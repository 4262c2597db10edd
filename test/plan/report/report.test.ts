import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { evaluatePolicies, ProgramRun, runProgram, Violation } from "../../../plan/engine";
import { Progress } from "../../../plan/progress";
import { describePolicy, NONE, violationDetail } from "../../../plan/report/policyInfo";
import { buildPlanResult } from "../../../plan/report/result";
import { resultFile, sarifLevel } from "../../../plan/report/sarif";
import { buildTopology } from "../../../plan/report/topology";
import { zoneResources } from "../../../plan/report/zones";

// Stand-ins with the fleet's component type tokens: zones come from the nearest fleet component.
class Fake extends pulumi.ComponentResource {
    constructor(kind: string, name: string, opts?: pulumi.ComponentResourceOptions) {
        super(`hardened-build-fleet:index:${kind}`, name, {}, opts);
    }
}

const flagPeering: ResourceValidationPolicy = {
    name: "no-peering",
    description: "No peering between pools.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(gcp.compute.NetworkPeering, (_p, _a, report) => report("pools peered")),
};
const flagKmsOnProject: ResourceValidationPolicy = {
    name: "single-signer",
    description: "Only the signer signs.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(gcp.projects.IAMMember, (m, _a, report) => {
        if (m.role === "roles/cloudkms.signer") {
            report("runner can sign through project IAM");
        }
    }),
};

describe("plan reports: zones and topology", () => {
    let run: ProgramRun;
    let violations: Violation[];
    before(async () => {
        run = await runProgram(() => {
            const poolA = new Fake("RunnerPool", "fleet-pool-a");
            const saA = new gcp.serviceaccount.Account("a-sa", { accountId: "a-runner" }, { parent: poolA });
            const netA = new gcp.compute.Network("a-net", { autoCreateSubnetworks: false }, { parent: poolA });
            // The pool's name comes from a labelled child, not from the component name.
            new gcp.storage.Bucket("a-cache", { location: "EU", labels: { "build-fleet-role": "runner", "build-fleet-pool": "alpha" } }, { parent: poolA });
            const poolB = new Fake("RunnerPool", "fleet-pool-b");
            const netB = new gcp.compute.Network("b-net", { autoCreateSubnetworks: false }, { parent: poolB });
            new gcp.compute.NetworkPeering("a-to-b", { network: netA.selfLink, peerNetwork: netB.selfLink });
            const cp = new Fake("ControlPlane", "fleet-cp");
            const cpSa = new gcp.serviceaccount.Account("cp-sa", { accountId: "control-plane" }, { parent: cp });
            // Impersonation: the control plane may mint tokens for pool A's identity (drawn, not violating).
            new gcp.serviceaccount.IAMMember("cp-impersonates-a", { serviceAccountId: saA.name, role: "roles/iam.serviceAccountTokenCreator", member: cpSa.member });
            // Project-level grants: drawn only when they violate a policy.
            new gcp.projects.IAMMember("a-logs", { project: "worker", role: "roles/logging.logWriter", member: saA.member });
            new gcp.projects.IAMMember("a-sign", { project: "worker", role: "roles/cloudkms.signer", member: saA.member });
            // A literal member that is not a fleet identity: no edge.
            new gcp.projects.IAMMember("humans", { project: "worker", role: "roles/viewer", member: "group:devs@example.com" });
        }, { config: { "gcp:project": "worker" } });
        violations = (await evaluatePolicies(run, [flagPeering, flagKmsOnProject])).violations;
    });

    it("classifies by labels, then by the nearest fleet component", () => {
        const zoning = zoneResources(run);
        assert.deepStrictEqual(zoning.zones.map((z) => z.id), ["pool:alpha", "pool:fleet-pool-b", "control-plane"]);
        const zoneOf = (name: string) => zoning.zoneOf(run.resources.find((r) => r.name === name)!.urn)?.id;
        assert.strictEqual(zoneOf("a-sa"), "pool:alpha");
        assert.strictEqual(zoneOf("b-net"), "pool:fleet-pool-b");
        assert.strictEqual(zoneOf("cp-sa"), "control-plane");
        assert.strictEqual(zoneOf("a-to-b"), undefined);
    });

    it("draws peering and impersonation edges, project grants only when violating, red where violated", () => {
        const t = buildTopology(run, violations);
        const edges = t.edges.map((e) => `${e.from} -${e.label}-> ${e.to}${e.violated ? " RED" : ""}`);
        assert.deepStrictEqual(edges.sort(), [
            "net_a_net -peering-> net_b_net RED",
            "sa_a_sa -cloudkms.signer-> project_worker RED",
            "sa_cp_sa -iam.serviceAccountTokenCreator-> sa_a_sa",
        ]);
        const peering = t.edges.find((e) => e.kind === "peering")!;
        assert.deepStrictEqual(peering.policies, ["no-peering"]);
        assert.strictEqual(t.nodes.find((n) => n.id === "project_worker")!.zone, undefined);
    });

    it("draws IAM policy resources (policyData) as grants too, red when violating", async () => {
        const policyRun = await runProgram(() => {
            const poolA = new Fake("RunnerPool", "fleet-pool-a");
            const saA = new gcp.serviceaccount.Account("a-sa", { accountId: "a-runner" }, { parent: poolA });
            const signer = new Fake("SignerEnclave", "fleet-signer");
            const key = new gcp.kms.CryptoKey("key", { keyRing: "projects/s/locations/eu/keyRings/r", purpose: "ASYMMETRIC_SIGN" }, { parent: signer });
            new gcp.kms.CryptoKeyIAMPolicy("key-policy", {
                cryptoKeyId: key.id,
                policyData: pulumi.interpolate`{"bindings":[{"role":"roles/cloudkms.signer","members":["${saA.member}"]}]}`,
            });
        }, { config: { "gcp:project": "worker" } });
        const flagPolicy: ResourceValidationPolicy = {
            name: "single-signer",
            description: "Only the signer signs.",
            enforcementLevel: "mandatory",
            validateResource: validateResourceOfType(gcp.kms.CryptoKeyIAMPolicy, (_p, _a, report) => report("runner in the key policy")),
        };
        const t = buildTopology(policyRun, (await evaluatePolicies(policyRun, [flagPolicy])).violations);
        assert.deepStrictEqual(t.edges.map((e) => `${e.from} -${e.label}-> ${e.to}${e.violated ? " RED" : ""}`), ["sa_a_sa -IAM policy-> key_key RED"]);
    });

    it("summarises resources per component and per pool", () => {
        const result = buildPlanResult(run, { violations, notApplicable: [] }, [flagPeering, flagKmsOnProject]);
        assert.deepStrictEqual(result.summary.byComponent.map((c) => [c.type, c.name, c.resources]), [
            ["RunnerPool", "fleet-pool-a", 3], ["RunnerPool", "fleet-pool-b", 1], ["ControlPlane", "fleet-cp", 1],
        ]);
        assert.deepStrictEqual(result.summary.byPool, [{ pool: "alpha", resources: 3 }, { pool: "fleet-pool-b", resources: 1 }]);
        assert.strictEqual(result.summary.unzoned, 5);
    });
});

describe("plan reports: organization-policy guardrails in the zone of the project they pin", () => {
    it("the signer's, one pool's, or the worker project's shared by the pools; never outside every zone", async () => {
        const run = await runProgram(() => {
            const signer = new Fake("SignerEnclave", "fleet-signer");
            new gcp.kms.KeyRing("ring", { project: "acme-signer", location: "europe-west1" }, { parent: signer });
            for (const pool of ["a", "b"]) {
                const p = new Fake("RunnerPool", `fleet-pool-${pool}`);
                new gcp.compute.Network(`${pool}-net`, { project: "acme-workers", autoCreateSubnetworks: false }, { parent: p });
            }
            const solo = new Fake("RunnerPool", "fleet-pool-solo");
            new gcp.compute.Network("solo-net", { project: "acme-solo", autoCreateSubnetworks: false }, { parent: solo });
            for (const project of ["acme-signer", "acme-workers", "acme-solo", "acme-unknown"]) {
                const guardrails = new Fake("OrgGuardrails", `guardrails-${project}`);
                new gcp.orgpolicy.Policy(`${project}-sa-keys`, { name: `projects/${project}/policies/iam.disableServiceAccountKeyCreation`, parent: `projects/${project}`, spec: { rules: [{ enforce: "TRUE" }] } }, { parent: guardrails });
            }
        });
        const zoning = zoneResources(run);
        const zoneOf = (name: string) => zoning.zoneOf(run.resources.find((r) => r.name === name)!.urn);
        assert.strictEqual(zoneOf("acme-signer-sa-keys")?.id, "signer");
        assert.strictEqual(zoneOf("acme-workers-sa-keys")?.label, "worker project (every pool)");
        assert.strictEqual(zoneOf("acme-solo-sa-keys")?.id, "pool:fleet-pool-solo");
        assert.strictEqual(zoneOf("acme-unknown-sa-keys"), undefined, "a project no zone holds stays outside");
        assert.deepStrictEqual(zoning.zones.map((z) => z.id), ["pool:fleet-pool-a", "pool:fleet-pool-b", "pool:fleet-pool-solo", "workers", "signer"]);
    });
});

describe("plan reports: helpers", () => {
    it("maps enforcement levels to SARIF levels", () => {
        assert.deepStrictEqual(["mandatory", "advisory", "remediate", "disabled"].map((l) => sarifLevel(l as any)), ["error", "warning", "error", "none"]);
    });

    it("points SARIF results at the first program or config file inside the repository", () => {
        const base = { programFile: "/repo/node_modules/hardened-build-fleet/index.ts", configFile: "/repo/stacks/Pulumi.prod.yaml" } as any;
        assert.strictEqual(resultFile(base, "/repo"), "stacks/Pulumi.prod.yaml");
        assert.strictEqual(resultFile({ ...base, programFile: "/repo/infra/index.ts" }, "/repo"), "infra/index.ts");
        assert.strictEqual(resultFile({ programFile: "/elsewhere/index.ts" } as any, "/repo"), "index.ts");
    });

    it("describes policies with or without the pack's metadata", () => {
        const p = describePolicy({ name: "x", description: "X.", enforcementLevel: "mandatory", meta: { invariants: ["I8", "I9"], fix: "Use HSM." } } as any);
        assert.strictEqual(p.invariantText, "I8 HSM signing key; I9 single signer");
        assert.match(p.slsaClause, /^Build L3 Provenance unforgeable: signing key in a secure key manager; /);
        const bare = describePolicy({ name: "y", description: "Y.", validateStack: () => undefined } as any);
        assert.deepStrictEqual([bare.invariantText, bare.slsaClause, bare.fix], [NONE, NONE, NONE]);
        assert.strictEqual(violationDetail("X.\nthe detail", "X."), "the detail");
        assert.strictEqual(violationDetail("other text", "X."), "other text");
    });

    it("writes progress only to a terminal, and clears it", () => {
        const out: string[] = [];
        new Progress({ isTTY: false, write: (s) => out.push(s) }).update("x", true);
        assert.strictEqual(out.length, 0);
        const p = new Progress({ isTTY: true, write: (s) => out.push(s) }, true, 1000);
        p.update("a");
        p.update("b"); // throttled
        p.update("c", true);
        p.done();
        assert.deepStrictEqual(out, ["\r\x1b[2Ka", "\r\x1b[2Kc", "\r\x1b[2K"]);
    });
});
