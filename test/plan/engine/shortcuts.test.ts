/**
 * The engine's evaluation shortcuts (plan/engine/sharedProps.ts, evaluate.ts): one copy of each
 * resource's properties and one linked stack array for every policy, and validations skipped for
 * types they declare they ignore. Each test compares with `shortcuts: false`, the analyzer's own
 * per-policy work as under the Pulumi CLI: same findings, same not-applicable entries, same order.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy/policy";
import { Evaluation, evaluatePolicies, ProgramRun, runProgram } from "../../../plan/engine";
import { policies as pack } from "../../../policies/rules";
import { APPLIES_TO, appliesTo } from "../../../policies/contract/appliesTo";
import { allOf, forTypes } from "../../../policies/recognisers/common";
import { buildBaseline, noMutations, SIGNER_PROJECT, STACK_CONFIG, WORKER_PROJECT } from "../../helpers/insecureBaseline";
import { perimeterPackConfig } from "../../helpers/perimeterFixture";

type Policy = ResourceValidationPolicy | StackValidationPolicy;

/** An advisory resource policy whose description is `description`. */
const onResource = (name: string, description: string, validateResource: ResourceValidationPolicy["validateResource"]): ResourceValidationPolicy =>
    ({ name, description, enforcementLevel: "advisory", validateResource });
/** An advisory stack policy whose description is `description`. */
const onStack = (name: string, description: string, validateStack: StackValidationPolicy["validateStack"]): StackValidationPolicy =>
    ({ name, description, enforcementLevel: "advisory", validateStack });

const program = () => {
    const sa = new gcp.serviceaccount.Account("sa", { accountId: "runner" });
    new gcp.projects.IAMMember("grant", { project: "p", role: "roles/viewer", member: sa.member });
    new gcp.compute.Network("net", { autoCreateSubnetworks: false, description: "secret: x" });
    new gcp.compute.Subnetwork("sub", { network: "net", ipCidrRange: "10.0.0.0/24", region: "europe-west1", secondaryIpRanges: [{ rangeName: "pods", ipCidrRange: "10.1.0.0/16" }] });
};

async function both(run: ProgramRun, policies: Policy[], opts: Parameters<typeof evaluatePolicies>[2] = {}): Promise<{ fast: Evaluation; exact: Evaluation }> {
    const fast = await evaluatePolicies(run, policies, opts);
    const exact = await evaluatePolicies(run, policies, { ...opts, shortcuts: false });
    assert.strictEqual(exact.shortcuts, "off");
    const { shortcuts: _f, ...f } = fast;
    const { shortcuts: _e, ...e } = exact;
    assert.deepStrictEqual(f, e, "the shortcuts changed what the analyzer reports");
    return { fast, exact };
}

/** A resource policy that reads `description` and reports it; run after a writer, it shows whether the write leaked. */
const readsDescription = onResource("reads-description", "Reports the network description it sees.", (args, report) => {
    if (args.type === "gcp:compute/network:Network") {
        report(`description=${String(args.props.description)}`);
    }
});

function writer(name: string, write: (props: any) => void): ResourceValidationPolicy {
    return {
        name,
        description: "Writes to its props.",
        enforcementLevel: "advisory",
        validateResource: (args) => {
            if (args.type === "gcp:compute/network:Network") {
                try {
                    write(args.props);
                } catch {
                    // A policy that swallows its own failure must not hide the write either.
                }
            }
        },
    };
}

describe("engine: evaluation shortcuts give the analyzer's own result", () => {
    it("the full pack over the raw baseline fleet: same findings and not-applicable entries, shared copies never written", async () => {
        for (const preview of [false, true]) {
            const run = await runProgram(() => buildBaseline(noMutations()), { config: STACK_CONFIG, preview });
            const { fast } = await both(run, pack as Policy[], { policyConfig: perimeterPackConfig(SIGNER_PROJECT, WORKER_PROJECT) });
            assert.strictEqual(fast.shortcuts, "shared", "a rule of this pack wrote to the props or stack array it was given");
            assert.ok(fast.notApplicable.length > 0);
        }
    });

    for (const [what, write] of [
        ["assigns a property", (p: any) => (p.description = "changed")],
        ["deletes a property", (p: any) => delete p.description],
        ["freezes its props", (p: any) => Object.freeze(p)],
        ["adds a nested object", (p: any) => ((p.labels ??= {}).x = "y")],
    ] as const) {
        it(`a policy that ${what} makes the engine evaluate again with private copies`, async () => {
            const run = await runProgram(program);
            const { fast } = await both(run, [writer("writer", write), readsDescription]);
            assert.strictEqual(fast.shortcuts, "repeated");
            assert.deepStrictEqual(fast.violations.map((v) => v.message), ["Reports the network description it sees.\ndescription=secret: x"]);
        });
    }

    it("a nested write to a subnetwork's secondary ranges is caught too", async () => {
        const run = await runProgram(program);
        const nested = onResource("nested", "Renames a secondary range.", (args) => {
            if (args.type === "gcp:compute/subnetwork:Subnetwork") {
                args.props.secondaryIpRanges[0].rangeName = "renamed";
            }
        });
        const reader = onStack("reader", "Reports the range name.", (args, report) => {
            const sub = args.resources.find((r) => r.type === "gcp:compute/subnetwork:Subnetwork")!;
            report(`range=${sub.props.secondaryIpRanges[0].rangeName}`);
        });
        const { fast } = await both(run, [nested, reader]);
        assert.strictEqual(fast.shortcuts, "repeated");
        assert.match(fast.violations[0].message, /range=pods$/);
    });

    it("a stack policy that sorts the resources array in place does not reorder what the next one sees", async () => {
        const run = await runProgram(program);
        const sorter = onStack("sorter", "Sorts in place.", (args) => void args.resources.reverse());
        const first = onStack("first", "Names the first resource.", (args, report) => report(`first=${args.resources[0].type}`));
        const { fast } = await both(run, [sorter, first]);
        assert.strictEqual(fast.shortcuts, "repeated");
        assert.match(fast.violations[0].message, /first=pulumi:pulumi:Stack$/);
    });

    it("a stack policy that only reads shares the array, and a typed stack policy keeps the analyzer's not-applicable answer", async () => {
        const run = await runProgram(program);
        const count = onStack("count", "Counts resources.", (args, report) => report(`n=${args.resources.length} deps=${args.resources.filter((r) => r.dependencies.length > 0).length}`));
        const typed = (type: string): StackValidationPolicy => ({
            name: `typed-${type.split(":").pop()}`,
            description: "Typed.",
            enforcementLevel: "advisory",
            validateStack: Object.assign((args: any, report: any) => report(`saw ${args.resources.length}`), { __pulumiType: type }),
        });
        const { fast } = await both(run, [count, typed("gcp:compute/network:Network"), typed("gcp:storage/bucket:Bucket")]);
        assert.strictEqual(fast.shortcuts, "shared");
        assert.deepStrictEqual(fast.violations.map((v) => v.message.split("\n")[1]), [`n=${run.resources.length} deps=1`, `saw ${run.resources.length}`]);
        assert.ok(fast.notApplicable.some((n) => n.policy === "typed-Bucket" && /only applies to resources of type 'gcp:storage\/bucket:Bucket'/.test(n.reason)));
    });

    it("a policy that writes to its resource options changes neither the captured run nor the next evaluation", async () => {
        const run = await runProgram(program);
        const before = run.resources.map((r) => [...r.aliases]);
        const pusher = onResource("pusher", "Adds an alias.", (args) => void args.opts.aliases.push("urn:pulumi:x::y::z::w"));
        const { fast, exact } = await both(run, [pusher]);
        assert.strictEqual(fast.shortcuts, "shared", "the option lists are the request's, shared by the policies of one call as under the CLI");
        assert.deepStrictEqual(exact.violations, []);
        assert.deepStrictEqual(run.resources.map((r) => r.aliases), before, "the captured run was changed");
    });

    it("properties holding assets are copied per policy, as the analyzer does, so a write to them needs no second pass", async () => {
        const run = await runProgram(() => {
            new gcp.storage.BucketObject("obj", { bucket: "b", source: new pulumi.asset.StringAsset("hello") });
        });
        const onObject = (name: string, body: (props: any, report: (m: string) => void) => void): ResourceValidationPolicy => ({
            name,
            description: name,
            enforcementLevel: "advisory",
            validateResource: (args, report) => {
                if (args.type === "gcp:storage/bucketObject:BucketObject") {
                    body(args.props, report);
                }
            },
        });
        const { fast } = await both(run, [onObject("renames", (p) => (p.bucket = "other")), onObject("reads", (p, report) => report(`bucket=${p.bucket} asset=${pulumi.asset.StringAsset.isInstance(p.source)}`))]);
        assert.strictEqual(fast.shortcuts, "shared");
        assert.deepStrictEqual(fast.violations.map((v) => v.message), ["reads\nbucket=b asset=true"]);
    });
});

describe("engine: validations that declare the types they apply to", () => {
    it("forTypes declares its type predicate, allOf the union of its parts, a plain function nothing", () => {
        const vm = forTypes(["gcp:compute/instance:Instance", "gcp:compute/instanceTemplate:InstanceTemplate"], () => undefined);
        const fw = forTypes(["gcp:compute/firewall:Firewall"], () => undefined);
        assert.strictEqual(appliesTo(vm)!("gcp:compute/instance:Instance"), true);
        assert.strictEqual(appliesTo(vm)!("gcp:compute/firewall:Firewall"), false);
        const both = appliesTo(allOf(vm, fw))!;
        assert.deepStrictEqual(["gcp:compute/firewall:Firewall", "gcp:compute/instance:Instance", "gcp:storage/bucket:Bucket"].map(both), [true, true, false]);
        assert.strictEqual(appliesTo(allOf(vm, () => undefined)), undefined, "one undeclared part makes the whole undeclared");
        assert.strictEqual(appliesTo(() => undefined), undefined);
        // Not enumerable: serializing or listing a validation's properties does not show the marker.
        assert.strictEqual(Object.getOwnPropertyDescriptor(vm, APPLIES_TO)?.enumerable, false, "the marker is not enumerable");
    });

    it("the engine skips a declared validation for other types and still calls an undeclared one for every resource", async () => {
        const run = await runProgram(program);
        const seen = { declared: [] as string[], undeclared: [] as string[] };
        const declared = onResource("declared", "Declared.", forTypes(["gcp:compute/network:Network", "gcp:compute/subnetwork:Subnetwork"], (_props, args) => void seen.declared.push(args.type)));
        const undeclared = onResource("undeclared", "Undeclared.", (args) => void seen.undeclared.push(args.type));
        await evaluatePolicies(run, [declared, undeclared]);
        const analyzed = run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").length;
        assert.deepStrictEqual(seen.declared.sort(), ["gcp:compute/network:Network", "gcp:compute/subnetwork:Subnetwork"]);
        assert.strictEqual(seen.undeclared.length, analyzed);
        seen.declared = [];
        await evaluatePolicies(run, [declared, undeclared], { shortcuts: false });
        assert.deepStrictEqual(seen.declared.sort(), ["gcp:compute/network:Network", "gcp:compute/subnetwork:Subnetwork"], "without shortcuts it is called for all and returns at once for the others");
    });
});
