import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import { ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { evaluatePolicies, PolicyConfigError, runProgram } from "../../../plan/engine";

// Small policies exercising the analyzer semantics; the real pack is tested elsewhere.
const noExternalIp: ResourceValidationPolicy = {
    name: "no-external-ip",
    description: "No external IPs.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(gcp.compute.InstanceTemplate, (t, _args, report) => {
        if ((t.networkInterfaces ?? []).some((n) => (n.accessConfigs ?? []).length > 0)) {
            report("has an access config");
        }
    }),
};

const maxDisks: ResourceValidationPolicy = {
    name: "max-disks",
    description: "Disk count bound.",
    enforcementLevel: "advisory",
    configSchema: { properties: { max: { type: "integer", minimum: 1, default: 1 } } },
    validateResource: validateResourceOfType(gcp.compute.InstanceTemplate, (t, args, report) => {
        const { max } = args.getConfig<{ max: number }>();
        if (t.disks.length > max) {
            report(`${t.disks.length} disks > ${max}`);
        }
    }),
};

const memberIsKnown: StackValidationPolicy = {
    name: "member-read",
    description: "Reads a member that may be unknown.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        for (const r of args.resources) {
            if (r.type === "gcp:projects/iAMMember:IAMMember" && !String(r.props.member).startsWith("serviceAccount:")) {
                report("not a service account", r.urn);
            }
            if (r.type === "gcp:projects/iAMMember:IAMMember") {
                // Stack policies see the graph: the member's property dependency is the SA resource.
                const dep = r.propertyDependencies.member?.[0];
                if (!dep || dep.type !== "gcp:serviceaccount/account:Account" || r.parent?.type !== "pulumi:pulumi:Stack") {
                    report("graph not linked", r.urn);
                }
            }
        }
    },
};

const tagged: StackValidationPolicy = {
    name: "needs-tag",
    description: "Needs the owner stack tag.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        if (!args.stackTags.get("owner")) {
            report("no owner tag");
        }
    },
};

const program = () => {
    new gcp.compute.InstanceTemplate("tpl", {
        machineType: "e2-small",
        disks: [{ boot: true, sourceImage: "debian-12" }, { sourceImage: "data" }],
        networkInterfaces: [{ network: "default", accessConfigs: [{}] }],
    });
    const sa = new gcp.serviceaccount.Account("sa", { accountId: "runner" });
    new gcp.projects.IAMMember("grant", { project: "p", role: "roles/viewer", member: sa.member });
};

describe("engine: evaluatePolicies (CrossGuard analyzer semantics)", () => {
    it("reports violations with policy, level, the analyzer's message and the resource URN", async () => {
        const run = await runProgram(program);
        const { violations } = await evaluatePolicies(run, [noExternalIp, maxDisks, memberIsKnown]);
        const tpl = run.resources.find((r) => r.name === "tpl")!;
        assert.deepStrictEqual(violations.map((v) => [v.policy, v.enforcementLevel, v.urn]).sort(), [
            ["max-disks", "advisory", tpl.urn],
            ["no-external-ip", "mandatory", tpl.urn],
        ]);
        assert.strictEqual(violations.find((v) => v.policy === "no-external-ip")!.message, "No external IPs.\nhas an access config");
        assert.match(violations.find((v) => v.policy === "max-disks")!.message, /2 disks > 1/);
    });

    it("applies per-policy and `all` enforcement overrides, and disables policies", async () => {
        const run = await runProgram(program);
        let ev = await evaluatePolicies(run, [noExternalIp, maxDisks], { policyConfig: { all: "advisory", "max-disks": { enforcementLevel: "mandatory", max: 3 } } });
        assert.deepStrictEqual(ev.violations.map((v) => [v.policy, v.enforcementLevel]), [["no-external-ip", "advisory"]]);
        ev = await evaluatePolicies(run, [noExternalIp, maxDisks], { policyConfig: { "no-external-ip": "disabled" } });
        assert.deepStrictEqual(ev.violations.map((v) => v.policy), ["max-disks"]);
    });

    it("validates pack config against each policy's schema; unknown policies are warnings, as in the Pulumi CLI", async () => {
        const run = await runProgram(program);
        await assert.rejects(evaluatePolicies(run, [maxDisks], { policyConfig: { "max-disks": { max: 0 }, "max-disk": "mandatory", all: "loud" } }), (e: unknown) => {
            assert.ok(e instanceof PolicyConfigError);
            assert.match(e.message, /max-disks\.max: must be >= 1/);
            assert.match(e.message, /all: enforcement level "loud"/);
            assert.doesNotMatch(e.message, /max-disk:/);
            assert.deepStrictEqual(e.warnings, ['max-disk: no policy of that name in the pack (did you mean "max-disks"?); its settings are ignored']);
            return true;
        });
        const ev = await evaluatePolicies(run, [maxDisks], { policyConfig: { "max-disk": "mandatory", "max-disks": { mx: 3 } } });
        assert.deepStrictEqual(ev.warnings, [
            'max-disk: no policy of that name in the pack (did you mean "max-disks"?); its settings are ignored',
            'max-disks.mx: not a property of this policy (did you mean "max"? it takes max); ignored',
        ]);
    });

    it("gives stack policies outputs linked by parent and property dependencies", async () => {
        const run = await runProgram(program);
        const ev = await evaluatePolicies(run, [memberIsKnown]);
        assert.deepStrictEqual(ev.violations, []);
    });

    it("gives stack policies only the property dependencies that name resources, as the Pulumi engine sends them", async () => {
        const run = await runProgram(program);
        const grant = run.resources.find((r) => r.name === "grant")!;
        assert.deepStrictEqual(Object.keys(grant.propertyDependencies).sort(), ["member", "project", "role"], "the runtime records every input");
        const seen: Record<string, string[]> = {};
        const keys: StackValidationPolicy = {
            name: "keys",
            description: "Records property-dependency keys.",
            enforcementLevel: "advisory",
            validateStack: (args) => {
                for (const r of args.resources) {
                    seen[r.name] = Object.keys(r.propertyDependencies);
                }
            },
        };
        await evaluatePolicies(run, [keys, tagged]);
        assert.deepStrictEqual(seen.grant, ["member"]);
        assert.deepStrictEqual(seen.sa, []);
    });

    it("turns a read of an unknown value during preview into an advisory, as the analyzer does", async () => {
        const run = await runProgram(program, { preview: true });
        const ev = await evaluatePolicies(run, [memberIsKnown]);
        assert.strictEqual(ev.violations.length, 1);
        assert.strictEqual(ev.violations[0].policy, "member-read");
        assert.strictEqual(ev.violations[0].enforcementLevel, "advisory");
        assert.match(ev.violations[0].message, /can't run policy 'member-read' .* during preview: string value at \.member can't be known during preview/);
    });

    it("reports type-filtered policies as not applicable to other types", async () => {
        const run = await runProgram(program);
        const ev = await evaluatePolicies(run, [noExternalIp]);
        const sa = run.resources.find((r) => r.name === "sa")!;
        assert.ok(ev.notApplicable.some((n) => n.policy === "no-external-ip" && n.urn === sa.urn && /only applies to resources of type 'gcp:compute\/instanceTemplate:InstanceTemplate'/.test(n.reason)));
    });

    it("passes stack tags to policies", async () => {
        const run = await runProgram(program);
        assert.strictEqual((await evaluatePolicies(run, [tagged])).violations.length, 1);
        assert.strictEqual((await evaluatePolicies(run, [tagged], { stackTags: { owner: "platform" } })).violations.length, 0);
    });
});
