/**
 * What the component analyzer cannot say about the facade, added to the schema it derives:
 * - counts, ids, sizes and durations are `integer` (TypeScript has one `number`); the only fractions are
 *   listed in FRACTIONS;
 * - every object and enum type carries the JSDoc of its TypeScript declaration as its description (the
 *   analyzer keeps property and resource docs, not the docs of the declarations themselves).
 * The facade's sources stay the one place both are written.
 */
import * as fs from "fs";
import * as path from "path";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";

/** Number properties that are fractions, not integers. */
export const FRACTIONS: ReadonlySet<string> = new Set(["flowLogSampling"]);

/** The JSDoc of every exported declaration (interface, type, const, class) of the `.ts` files in `dir`, by name. */
export function declarationDocs(dir: string): Record<string, string> {
    const docs: Record<string, string> = {};
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))) {
        const source = fs.readFileSync(path.join(dir, file), "utf8");
        for (const m of source.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*export (?:declare )?(?:interface|type|const|class|enum) (\w+)/g)) {
            docs[m[2]] ??= m[1].split("\n").map((l) => l.replace(/^\s*\* ?/, "").trim()).filter((l) => l !== "").join(" ");
        }
    }
    return docs;
}

type Spec = Record<string, any>;

function refineProperty(name: string, spec: Spec): void {
    if (spec.type === "number" && !FRACTIONS.has(name)) {
        spec.type = "integer";
    }
    for (const nested of [spec.items, spec.additionalProperties]) {
        if (nested !== undefined && typeof nested === "object") {
            refineProperty(name, nested);
        }
    }
}

function refineProperties(properties: Record<string, Spec> | undefined): void {
    for (const [name, spec] of Object.entries(properties ?? {})) {
        refineProperty(name, spec);
    }
}

/** The schema with integers and type descriptions (see the header); `docs` maps declaration names to their JSDoc. */
export function refineSchema(schema: Spec, docs: Record<string, string>): Spec {
    for (const resource of Object.values<Spec>(schema.resources ?? {})) {
        refineProperties(resource.inputProperties);
        refineProperties(resource.properties);
    }
    for (const [token, type] of Object.entries<Spec>(schema.types ?? {})) {
        refineProperties(type.properties);
        const name = token.slice(token.lastIndexOf(":") + 1);
        if (type.description === undefined && docs[name] !== undefined) {
            type.description = docs[name];
        }
    }
    return schema;
}

/** The analyzer's ComponentProvider, serving the refined schema. */
export class RefinedComponentProvider extends ComponentProvider {
    private refined?: Promise<string>;

    override getSchema(): Promise<string> {
        this.refined ??= super.getSchema().then((schema) => JSON.stringify(refineSchema(JSON.parse(schema), declarationDocs(this.options.dirname ?? __dirname))));
        return this.refined;
    }
}
