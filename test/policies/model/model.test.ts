/**
 * The stack model (policies/model): one node per resource whatever the spelling, every
 * compute kind known to the pinned @pulumi/gcp, frozen once built, shared within one evaluation.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { PolicyResource } from "@pulumi/policy";
import { CORE_KINDS, fleetGraph, FleetGraph, MANAGED_KINDS } from "../../../policies/model";
import { beginStackEvaluation } from "../../../policies/contract/share";

function res(type: string, name: string, props: Record<string, any>): PolicyResource {
    return {
        type, name, props, urn: `urn:pulumi:s::p::${type}::${name}`, opts: { protect: true },
        dependencies: [], propertyDependencies: {}, isType: () => false, asType: () => undefined,
    } as unknown as PolicyResource;
}

const RUNNER_EMAIL = "runner@worker.iam.gserviceaccount.com";
const runner = [
    res("gcp:serviceaccount/account:Account", "runner-sa", { accountId: "runner", project: "worker", email: RUNNER_EMAIL }),
    res("gcp:compute/instanceTemplate:InstanceTemplate", "tpl", { project: "worker", labels: { "build-fleet-role": "runner", "build-fleet-pool": "a" }, serviceAccount: { email: RUNNER_EMAIL } }),
];

describe("stack model", () => {
    it("resolves every spelling of a key, ring, project (by number) and service account to one node", () => {
        const key = res("gcp:kms/cryptoKey:CryptoKey", "key", { name: "k", keyRing: "signer/eu/ring", purpose: "ASYMMETRIC_SIGN" });
        const ring = res("gcp:kms/keyRing:KeyRing", "ring", { name: "ring", project: "signer", location: "eu" });
        const project = res("gcp:organizations/project:Project", "signer-project", { projectId: "signer", number: "998877" });
        const grant = (name: string, type: string, props: Record<string, any>) => res(type, name, { role: "roles/viewer", member: `serviceAccount:${RUNNER_EMAIL}`, ...props });
        const grants = [
            grant("by-short", "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", { cryptoKeyId: "signer/eu/ring/k" }),
            grant("by-full", "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", { cryptoKeyId: "projects/signer/locations/eu/keyRings/ring/cryptoKeys/k" }),
            grant("by-number", "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", { cryptoKeyId: "projects/998877/locations/eu/keyRings/ring/cryptoKeys/k" }),
            grant("by-link", "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", { cryptoKeyId: "//cloudkms.googleapis.com/projects/signer/locations/eu/keyRings/ring/cryptoKeys/k" }),
            grant("ring-short", "gcp:kms/keyRingIAMMember:KeyRingIAMMember", { keyRingId: "signer/eu/ring" }),
            grant("project-number", "gcp:projects/iAMMember:IAMMember", { project: "998877" }),
            grant("project-prefixed", "gcp:projects/iAMMember:IAMMember", { project: "projects/signer" }),
            grant("sa-dash", "gcp:serviceaccount/iAMMember:IAMMember", { serviceAccountId: `projects/-/serviceAccounts/${RUNNER_EMAIL}` }),
        ];
        const g = new FleetGraph([...runner, key, ring, project, ...grants]);
        const target = (name: string) => g.grants.find((x) => x.res.name === name)!;
        for (const n of ["by-short", "by-full", "by-number", "by-link"]) {
            assert.strictEqual(target(n).target, key, n);
        }
        assert.strictEqual(target("ring-short").target, ring);
        assert.strictEqual(g.keyProject(key), "signer");
        assert.strictEqual(target("project-number").targetId, "signer");
        assert.strictEqual(target("project-prefixed").targetId, "signer");
        assert.strictEqual(target("sa-dash").target, runner[0]);
        assert.ok(g.isRunner(target("by-short").members[0]));
    });

    it("is frozen once built", () => {
        const g = new FleetGraph(runner);
        assert.ok(Object.isFrozen(g) && Object.isFrozen(g.compute) && Object.isFrozen(g.compute[0]) && Object.isFrozen(g.grants));
        assert.throws(() => (g.compute as unknown[]).push({}));
    });

    it("knows every compute kind as a resource type of the installed @pulumi/gcp", () => {
        const root = path.dirname(require.resolve("@pulumi/gcp/package.json"));
        for (const type of [...Object.keys(CORE_KINDS), ...Object.keys(MANAGED_KINDS)]) {
            const [, mod, cls] = /^gcp:([^/]+)\/([^:]+):/.exec(type)!;
            const file = path.join(root, mod, `${cls}.js`);
            assert.ok(fs.existsSync(file) && fs.readFileSync(file, "utf8").includes(`'${type}'`), `${type} is not a resource of the installed @pulumi/gcp`);
        }
    });

    it("classifies an unlabelled Cloud Run job as a runner and an out-of-stack template as opaque", () => {
        const g = new FleetGraph([
            ...runner,
            res("gcp:cloudrunv2/job:Job", "job", { project: "worker", template: { template: { serviceAccount: "tools@worker.iam.gserviceaccount.com" } } }),
            res("gcp:compute/instanceFromTemplate:InstanceFromTemplate", "vm", { project: "worker", sourceInstanceTemplate: "projects/worker/global/instanceTemplates/legacy" }),
        ]);
        const job = g.computeByUrn.get(g.resources[2].urn)!;
        assert.strictEqual(job.isRunner, true);
        assert.ok(g.runnerIdentities.has("serviceAccount:tools@worker.iam.gserviceaccount.com"));
        assert.match(g.computeByUrn.get(g.resources[3].urn)!.opaque ?? "", /not in this stack/);
    });

    it("shares one model among the stack policies of one evaluation scope only", () => {
        const a = [...runner];
        const b = [...runner];
        assert.notStrictEqual(fleetGraph(a), fleetGraph(b), "outside a scope each array gets its own model");
        const scope = beginStackEvaluation();
        try {
            const c = [...runner];
            const d = [...runner];
            assert.strictEqual(fleetGraph(c), fleetGraph(d));
            assert.notStrictEqual(fleetGraph([runner[0]]), fleetGraph(c), "a different stack is never served a stale model");
        } finally {
            scope.end();
        }
    });
});
