import * as assert from "assert";
import * as path from "path";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { createComponentProvider } from "../../provider/index";
import { FRACTIONS, refineSchema } from "../../provider/refine";

/** The Pulumi Package Metaschema (pulumi/pulumi pkg/codegen/schema/pulumi.json; see the NOTICE next to it). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const METASCHEMA = require(path.join(__dirname, "..", "fixtures", "pulumi-package-schema", "pulumi.json"));

type Spec = Record<string, any>;

/** Every property spec of the schema (resource inputs and outputs, object types), with where it is. */
function properties(schema: Spec): [string, string, Spec][] {
    const out: [string, string, Spec][] = [];
    for (const [token, r] of Object.entries<Spec>(schema.resources)) {
        for (const [side, props] of [["in", r.inputProperties], ["out", r.properties]] as const) {
            Object.entries<Spec>(props ?? {}).forEach(([name, spec]) => out.push([`${token} ${side}`, name, spec]));
        }
    }
    for (const [token, t] of Object.entries<Spec>(schema.types)) {
        Object.entries<Spec>(t.properties ?? {}).forEach(([name, spec]) => out.push([token, name, spec]));
    }
    return out;
}

describe("component provider: the schema against the Pulumi package metaschema", function () {
    this.timeout(120_000);
    let schema: Spec;
    before(async () => {
        schema = JSON.parse(await createComponentProvider().getSchema());
    });

    it("is a valid Pulumi package schema", () => {
        const ajv = new Ajv2020({ allErrors: true, strict: false });
        addFormats(ajv);
        const validate = ajv.compile(METASCHEMA);
        assert.strictEqual(validate(schema), true, JSON.stringify(validate.errors, null, 1));
        // The metaschema is not vacuous: a type token without a module, or an unknown primitive, fails it.
        assert.strictEqual(validate({ ...schema, resources: { "no-module": schema.resources[Object.keys(schema.resources)[0]] } }), false);
        const anyToken = Object.keys(schema.types).find((t) => schema.types[t].type === "object")!;
        const broken = structuredClone(schema);
        Object.values<Spec>(broken.types[anyToken].properties)[0].type = "float";
        assert.strictEqual(validate(broken), false, "an unknown primitive type fails the metaschema");
    });

    it("describes every resource, type and property", () => {
        for (const [token, r] of [...Object.entries<Spec>(schema.resources), ...Object.entries<Spec>(schema.types)]) {
            assert.ok(typeof r.description === "string" && r.description.length > 10, `${token} has no description`);
        }
        for (const [where, name, spec] of properties(schema)) {
            assert.ok(typeof spec.description === "string" && spec.description.length > 5, `${where}.${name} has no description`);
        }
    });

    it("types counts, ids, sizes and durations as integer; only the listed fractions stay number", () => {
        const numbers = properties(schema).filter(([, , spec]) => spec.type === "number" || spec.items?.type === "number");
        assert.deepStrictEqual([...new Set(numbers.map(([, name]) => name))], [...FRACTIONS]);
        const integers = new Set(properties(schema).filter(([, , s]) => s.type === "integer").map(([, name]) => name));
        for (const name of ["minRunners", "maxRunners", "appId", "installationId", "runnerGroupId", "maxRunDurationSeconds", "intakeRetentionDays", "bootDiskSizeGb"]) {
            assert.ok(integers.has(name), `${name} is an integer`);
        }
    });

    it("refineSchema changes numbers and missing type descriptions only", () => {
        const before = { resources: { "p:index:R": { inputProperties: { n: { type: "number" }, flowLogSampling: { type: "number" }, xs: { type: "array", items: { type: "number" } } } } }, types: { "p:index:T": { type: "object", properties: {} }, "p:index:U": { type: "object", description: "kept" } } };
        const after = refineSchema(structuredClone(before), { T: "The T.", U: "not used" });
        assert.deepStrictEqual(after.resources["p:index:R"].inputProperties, { n: { type: "integer" }, flowLogSampling: { type: "number" }, xs: { type: "array", items: { type: "integer" } } });
        assert.strictEqual(after.types["p:index:T"].description, "The T.");
        assert.strictEqual(after.types["p:index:U"].description, "kept");
    });
});
