/**
 * Totality of the classification table: every type the installed providers export has a row, every
 * row names an installed type and a known class, and the model reads its compute kinds and grant
 * types from the table (not from lists of its own).
 */
import * as assert from "assert";
import { TYPE_CLASSES } from "../../../policies/model/typeClasses";
import { classOf, TYPE_CLASS_NAMES, UNREAD_TYPES } from "../../../policies/model/typeTable";
import { computeSpecOf, CORE_KINDS, MANAGED_KINDS, REACHED_VIA_TEMPLATE } from "../../../policies/model/computeKinds";
import { iamTypeOf } from "../../../policies/model/grants";
import { DELEGATION_KINDS } from "../../../policies/model/delegations";
import { installedTypes, providerVersion } from "../../helpers/typeUniverse";

describe("type classification table (fail closed over the providers' type universe)", () => {
    const installed = installedTypes();

    it("has a row for every resource type of the installed @pulumi/gcp and @pulumi/kubernetes", () => {
        assert.ok(installed.length > 1500, `only ${installed.length} types found: is the enumeration broken?`);
        const missing = installed.filter((t) => TYPE_CLASSES[t] === undefined);
        assert.deepStrictEqual(missing, [],
            `${missing.length} installed types have no row (gcp ${providerVersion("gcp")}, kubernetes ${providerVersion("kubernetes")}): ` +
            "run `npx ts-node --transpile-only test/helpers/typeSkeleton.ts`, review the proposed rows and add them to policies/model/typeClasses.ts");
    });

    it("has no row for a type the installed providers do not export, and every row names a known class", () => {
        const have = new Set(installed);
        assert.deepStrictEqual(Object.keys(TYPE_CLASSES).filter((t) => !have.has(t)), []);
        assert.deepStrictEqual(Object.entries(TYPE_CLASSES).filter(([, c]) => !TYPE_CLASS_NAMES.includes(c)), []);
    });

    it("knows the pack's own and the engine's types, and nothing else outside the table", () => {
        assert.strictEqual(classOf("hardened-build-fleet:index:RunnerPool"), "inert");
        assert.strictEqual(classOf("pulumi:pulumi:Stack"), "inert");
        assert.strictEqual(classOf("gcp:futureservice/thing:Thing"), undefined);
        assert.strictEqual(classOf("kubernetes:keda.sh/v1alpha1:ScaledJob"), undefined);
        // Dynamic providers can do anything: unclassified, judged by what their inputs reference.
        assert.strictEqual(classOf("pulumi-nodejs:dynamic:Resource"), undefined);
    });

    it("every compute kind the model reads is a runs row, and every GCP runs row is read as compute", () => {
        for (const t of [...Object.keys(CORE_KINDS), ...Object.keys(MANAGED_KINDS)]) {
            assert.strictEqual(TYPE_CLASSES[t], "runs", `${t} is read as compute but classified ${TYPE_CLASSES[t]}`);
        }
        const unread = Object.keys(TYPE_CLASSES).filter((t) => t.startsWith("gcp:") && TYPE_CLASSES[t] === "runs" && !REACHED_VIA_TEMPLATE.has(t) && computeSpecOf(t, {}) === undefined);
        assert.deepStrictEqual(unread, []);
        assert.strictEqual(computeSpecOf("gcp:monitoring/dashboard:Dashboard", {}), undefined);
    });

    it("rows no rule reads yet are installed grants, hostConfig or supply rows", () => {
        for (const t of UNREAD_TYPES) {
            assert.ok(["grants", "hostConfig", "supply"].includes(TYPE_CLASSES[t]), `${t}: ${TYPE_CLASSES[t]}`);
        }
    });

    it("every token delegation the model reads is a grants row", () => {
        for (const t of Object.keys(DELEGATION_KINDS)) {
            assert.strictEqual(TYPE_CLASSES[t], "grants", t);
        }
    });

    it("every IAM type the model reads as a grant is a grants row", () => {
        const iam = installed.filter((t) => iamTypeOf(t) !== undefined);
        assert.ok(iam.length > 300, `only ${iam.length} IAM types`);
        assert.deepStrictEqual(iam.filter((t) => TYPE_CLASSES[t] !== "grants"), []);
    });

    it("reads identities and networks of a runs row without a reviewed spec from any field naming them", () => {
        const how = computeSpecOf("gcp:tpu/v2Vm:V2Vm", {
            serviceAccount: { email: "signer@p.iam.gserviceaccount.com", scopes: ["cloud-platform"] },
            networkConfigs: [{ network: "projects/p/global/networks/n", subnetwork: "projects/p/regions/r/subnetworks/s" }],
        });
        assert.ok(how && "spec" in how);
        assert.deepStrictEqual(how.spec.identities, [["serviceAccount", "email"]]);
        assert.deepStrictEqual(how.spec.networks, [["networkConfigs", "*", "network"]]);
        assert.deepStrictEqual(how.spec.subnets, [["networkConfigs", "*", "subnetwork"]]);
    });
});
