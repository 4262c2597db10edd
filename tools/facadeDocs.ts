/**
 * The provider facade (provider/*.ts) re-declares the components' argument types as plain interfaces,
 * because the schema analyzer reads interfaces from that directory only. Their descriptions are not
 * written twice: this module copies each field's description from the component's own `Args` (the
 * source), and `test/provider/facadeDocs.test.ts` fails when a facade field's description differs.
 *
 *   npm run schema:docs    rewrite the facade's descriptions from the components'
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

/** [facade file, facade interface, component file, component interface]. */
export const FACADE_PAIRS: readonly (readonly [string, string, string, string])[] = [
    ["provider/types.ts", "FleetConfig", "components/config/input.ts", "FleetConfigInput"],
    ["provider/types.ts", "Signer", "components/config/input.ts", "SignerInput"],
    ["provider/types.ts", "SignerTimestampAuthority", "components/config/input.ts", "TimestampAuthorityInput"],
    ["provider/types.ts", "SignerTransparencyLog", "components/config/input.ts", "TransparencyLogInput"],
    ["provider/types.ts", "SignerPrivateTransparencyLog", "components/config/input.ts", "PrivateTransparencyLogInput"],
    ["provider/types.ts", "Github", "components/config/input.ts", "GithubInput"],
    ["provider/types.ts", "ControlPlaneSettings", "components/config/input.ts", "ControlPlaneInput"],
    ["provider/types.ts", "EgressAllowList", "components/config/input.ts", "EgressAllowListInput"],
    ["provider/types.ts", "GceOptions", "components/runnerPool/gce.ts", "GceBackendOptions"],
    ["provider/types.ts", "GkeOptions", "components/runnerPool/gke.ts", "GkeBackendOptions"],
    ["provider/fleet.ts", "HardenedBuildFleetArgs", "components/fleet/index.ts", "HardenedBuildFleetArgs"],
    ["provider/runnerPool.ts", "RunnerPoolArgs", "components/runnerPool/index.ts", "RunnerPoolArgs"],
    ["provider/signerEnclave.ts", "SignerEnclaveArgs", "components/signerEnclave/index.ts", "SignerEnclaveArgs"],
    ["provider/controlPlane.ts", "ControlPlaneArgs", "components/controlPlane/args.ts", "ControlPlaneArgs"],
    ["provider/isolatedNetwork.ts", "IsolatedNetworkArgs", "components/isolatedNetwork/index.ts", "IsolatedNetworkArgs"],
    ["provider/fleetPerimeter.ts", "FleetPerimeterArgs", "components/fleetPerimeter/index.ts", "FleetPerimeterArgs"],
    ["provider/orgGuardrails.ts", "OrgGuardrailsArgs", "components/orgGuardrails/index.ts", "OrgGuardrailsArgs"],
    ["provider/serviceImage.ts", "ServiceImageArgs", "components/serviceImage/index.ts", "ServiceImageArgs"],
];

interface FieldDoc {
    text: string;
    /** Where the JSDoc block sits in the file (absent: the field has none). */
    span?: { start: number; end: number };
    /** Indentation of the field's line. */
    indent: string;
}

function fieldDocs(source: string, fileName: string, iface: string): Map<string, FieldDoc> {
    const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
    const out = new Map<string, FieldDoc>();
    const visit = (node: ts.Node): void => {
        if (ts.isInterfaceDeclaration(node) && node.name.text === iface) {
            for (const member of node.members) {
                if (!ts.isPropertySignature(member) || !ts.isIdentifier(member.name)) {
                    continue;
                }
                const jsDocs = (member as { jsDoc?: ts.JSDoc[] }).jsDoc ?? [];
                const text = jsDocs.map((d) => ts.getTextOfJSDocComment(d.comment) ?? "").join(" ").replace(/\s+/g, " ").trim();
                const first = jsDocs[0];
                const last = jsDocs[jsDocs.length - 1];
                const lineStart = source.lastIndexOf("\n", member.getStart(sf)) + 1;
                const indent = /^\s*/.exec(source.slice(lineStart))![0];
                out.set(member.name.text, { text, indent, span: first && last ? { start: first.getStart(sf), end: last.getEnd() } : undefined });
            }
        }
        ts.forEachChild(node, visit);
    };
    visit(sf);
    return out;
}

export interface DocDrift {
    field: string;
    facade: string;
    component: string;
}

const read = (root: string, file: string) => fs.readFileSync(path.join(root, file), "utf8");

/** Every facade field whose description is not its component field's. Fields only one side has are the key check's business. */
export function facadeDocDrift(root: string): DocDrift[] {
    const drift: DocDrift[] = [];
    for (const [facadeFile, facadeIface, componentFile, componentIface] of FACADE_PAIRS) {
        const facade = fieldDocs(read(root, facadeFile), facadeFile, facadeIface);
        const component = fieldDocs(read(root, componentFile), componentFile, componentIface);
        for (const [name, doc] of facade) {
            const source = component.get(name);
            if (source !== undefined && source.text !== doc.text) {
                drift.push({ field: `${facadeFile}: ${facadeIface}.${name}`, facade: doc.text, component: source.text });
            }
        }
    }
    return drift;
}

/** Rewrites every drifted facade description from the component's; returns how many fields changed. */
export function syncFacadeDocs(root: string): number {
    let changed = 0;
    const files = new Set(FACADE_PAIRS.map((p) => p[0]));
    for (const file of files) {
        let source = read(root, file);
        const edits: { start: number; end: number; text: string }[] = [];
        for (const [facadeFile, facadeIface, componentFile, componentIface] of FACADE_PAIRS.filter((p) => p[0] === file)) {
            const facade = fieldDocs(source, facadeFile, facadeIface);
            const component = fieldDocs(read(root, componentFile), componentFile, componentIface);
            for (const [name, doc] of facade) {
                const src = component.get(name);
                if (src === undefined || src.text === doc.text || src.text === "") {
                    continue;
                }
                const comment = `/** ${src.text.replace(/\*\//g, "*\\/")} */`;
                if (doc.span !== undefined) {
                    edits.push({ start: doc.span.start, end: doc.span.end, text: comment });
                } else {
                    const at = source.indexOf(`${doc.indent}${name}`, 0);
                    edits.push({ start: at + doc.indent.length, end: at + doc.indent.length, text: `${comment}\n${doc.indent}` });
                }
                changed++;
            }
        }
        for (const e of edits.sort((a, b) => b.start - a.start)) {
            source = source.slice(0, e.start) + e.text + source.slice(e.end);
        }
        fs.writeFileSync(path.join(root, file), source);
    }
    return changed;
}

if (require.main === module) {
    const root = path.resolve(__dirname, "..");
    console.log(`facade descriptions rewritten from the components: ${syncFacadeDocs(root)}`);
}
