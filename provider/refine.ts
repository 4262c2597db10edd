/**
 * What the component analyzer cannot say about the facade, added to the schema it derives:
 * - counts, ids, sizes and durations are `integer` (TypeScript has one `number`); the only fractions are
 *   listed in FRACTIONS;
 * - every object and enum type carries the JSDoc of its TypeScript declaration as its description (the
 *   analyzer keeps property and resource docs, not the docs of the declarations themselves);
 * - an output whose JSDoc is `@deprecated <message>` carries that message as its `deprecationMessage` (the
 *   analyzer drops JSDoc tags), so the SDKs mark the old name of a renamed output.
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

/** Per facade class, the outputs declared `@deprecated` and their messages, from the `.ts` files in `dir`. */
export function deprecatedOutputs(dir: string): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))) {
        const source = fs.readFileSync(path.join(dir, file), "utf8");
        for (const cls of source.matchAll(/export class (\w+)[^{]*\{([\s\S]*?)\n\}/g)) {
            for (const m of cls[2].matchAll(/\/\*\*\s*@deprecated\s+((?:(?!\*\/)[\s\S])*)\*\/\s*public readonly (\w+)/g)) {
                (out[cls[1]] ??= {})[m[2]] = m[1].replace(/\s*\n\s*\*?\s*/g, " ").trim();
            }
        }
    }
    return out;
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

/**
 * The schema with integers, type descriptions and deprecations (see the header); `docs` maps declaration names to
 * their JSDoc, `deprecated` facade class names to their deprecated outputs.
 */
export function refineSchema(schema: Spec, docs: Record<string, string>, deprecated: Record<string, Record<string, string>> = {}): Spec {
    for (const [token, resource] of Object.entries<Spec>(schema.resources ?? {})) {
        refineProperties(resource.inputProperties);
        refineProperties(resource.properties);
        for (const [prop, message] of Object.entries(deprecated[token.slice(token.lastIndexOf(":") + 1)] ?? {})) {
            if (resource.properties?.[prop] !== undefined) {
                resource.properties[prop].deprecationMessage = message;
                resource.properties[prop].description ??= message;
            }
        }
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
        const dir = this.options.dirname ?? __dirname;
        this.refined ??= super.getSchema().then((schema) => JSON.stringify(refineSchema(JSON.parse(schema), declarationDocs(dir), deprecatedOutputs(dir))));
        return this.refined;
    }
}
