/**
 * A resource monitor for Pulumi's runtime mocks that records the full resource graph.
 *
 * The stock MockMonitor drops parent, dependencies, property dependencies, provider and resource
 * options, and builds URNs from the immediate parent only. This one reads them from each
 * registration request, builds URNs the way the engine does (full parent type chain, stack type
 * omitted) and answers with provider-aware outputs from the provider model.
 */
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import { modelInvoke } from "./dataSources";
import { expandRemoteComponent, V2_MANIFEST_TYPES } from "./k8sExpand";
import { modelResource } from "./computedOutputs";
import { CapturedInvoke, CapturedResource, providerUrnOf, STACK_TYPE, UNKNOWN } from "./types";

const STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference";
import { stripUndefined, toAnalyzerWire, toPlain } from "./wire";
import { OfflineCallbacks } from "./transforms";

import { MockMonitor, providerProto as provproto, resourceProto as resproto } from "./sdk";


export interface GraphMonitorOptions {
    project: string;
    stack: string;
    preview: boolean;
    /** Stack config, for provider defaults (gcp:project, gcp:region). */
    config: Record<string, string>;
    /** Called after each registration (progress reporting). */
    onRegister?: (count: number) => void;
    /** The program's transform callbacks (transforms.ts); absent: resources are recorded as sent. */
    callbacks?: OfflineCallbacks;
    /** Outputs of referenced stacks by stack name; a reference not listed has unknown outputs, as in a first preview. */
    stackReferences?: Record<string, Record<string, unknown>>;
}

type Callback = (err: any, resp?: any) => void;

export class GraphMonitor extends MockMonitor {
    readonly captured: CapturedResource[] = [];
    readonly byUrn = new Map<string, CapturedResource>();
    readonly byId = new Map<string, CapturedResource>();
    readonly invokes: CapturedInvoke[] = [];
    /** Qualified type chain per URN, to build child URNs as the engine does. */
    private readonly qualifiedTypes = new Map<string, string>();

    constructor(private readonly opts: GraphMonitorOptions) {
        super({
            newResource: () => {
                throw new Error("GraphMonitor answers registrations itself");
            },
            call: () => {
                throw new Error("GraphMonitor answers invokes itself");
            },
        });
    }

    private urnFor(parent: string, type: string, name: string): { urn: string; qualified: string } {
        const parentQualified = parent ? this.qualifiedTypes.get(parent) : undefined;
        const qualified = parentQualified && parentQualified !== STACK_TYPE ? `${parentQualified}$${type}` : type;
        return { urn: `urn:pulumi:${this.opts.stack}::${this.opts.project}::${qualified}::${name}`, qualified };
    }

    /**
     * Alias URNs as the engine resolves them: plain URNs, and alias specs (sent when the monitor supports
     * them), whose unset fields mean "as the resource": name, type, stack, project, parent.
     */
    private aliasUrns(req: any, parent: string, type: string, name: string): string[] {
        const urns: string[] = [...(req.getAliasurnsList?.() ?? [])];
        for (const alias of req.getAliasesList?.() ?? []) {
            if (alias.getUrn?.()) {
                urns.push(alias.getUrn());
                continue;
            }
            const spec = alias.getSpec?.();
            if (!spec) {
                continue;
            }
            const aliasParent: string = spec.getNoparent?.() ? "" : spec.getParenturn?.() || parent;
            // The qualified type of a parent URN is its third `::` field.
            const parentQualified = aliasParent ? aliasParent.split("::")[2] : undefined;
            const aliasType: string = spec.getType?.() || type;
            const qualified = parentQualified && parentQualified !== STACK_TYPE ? `${parentQualified}$${aliasType}` : aliasType;
            urns.push(`urn:pulumi:${spec.getStack?.() || this.opts.stack}::${spec.getProject?.() || this.opts.project}::${qualified}::${spec.getName?.() || name}`);
        }
        return urns;
    }

    /** Provider defaults: an explicit provider's inputs, then stack config, then mock values. */
    private providerDefaults(type: string, providerRef: string): { project: string; region: string } {
        const providerUrn = providerUrnOf(providerRef);
        const providerInputs = providerUrn ? this.byUrn.get(providerUrn)?.inputs ?? {} : {};
        const pkg = type.split(":")[0];
        return {
            project: providerInputs.project ?? this.opts.config[`${pkg}:project`] ?? this.opts.config["gcp:project"] ?? "mock-project",
            region: providerInputs.region ?? this.opts.config[`${pkg}:region`] ?? this.opts.config["gcp:region"] ?? "us-central1",
        };
    }

    private record(req: any, custom: boolean, importId: string): CapturedResource {
        const type: string = req.getType();
        const name: string = req.getName();
        const parent: string = req.getParent();
        const { urn, qualified } = this.urnFor(parent, type, name);
        this.qualifiedTypes.set(urn, qualified);

        const rawInputs = (req.getObject?.() ?? req.getProperties?.())?.toJavaScript() ?? {};
        let wireInputs: Record<string, any> = toAnalyzerWire(rawInputs);
        let inputs: Record<string, any> = toPlain(rawInputs);
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap?.()?.forEach((v: any, k: string) => {
            propertyDependencies[k] = v.getUrnsList();
        });
        const providerRef: string = req.getProvider?.() ?? "";

        let id = "";
        let outputs: Record<string, any> = {};
        if (custom) {
            const defaults = this.providerDefaults(type, providerRef);
            const model = modelResource({ urn, type, name, inputs, preview: this.opts.preview, ...defaults });
            id = importId || model.id;
            outputs = model.state;
            // Analyzers see checked inputs: the provider's defaults (auto-names, project) filled in.
            for (const [k, v] of Object.entries(model.defaults)) {
                if (inputs[k] === undefined || k === "metadata") {
                    wireInputs = { ...wireInputs, [k]: v };
                    inputs = { ...inputs, [k]: v };
                }
            }
        }

        const res: CapturedResource = {
            urn,
            type,
            name,
            custom,
            id,
            inputs,
            outputs,
            wireInputs,
            wireOutputs: custom ? wireOutputsFor(wireInputs, outputs, inputs) : {},
            parent: parent || undefined,
            dependencies: req.getDependenciesList?.() ?? [],
            propertyDependencies,
            provider: providerRef || undefined,
            protect: req.getProtect?.() === true,
            retainOnDelete: req.getRetainondelete?.() === true,
            deleteBeforeReplace: req.getDeletebeforereplace?.() === true,
            ignoreChanges: req.getIgnorechangesList?.() ?? [],
            additionalSecretOutputs: req.getAdditionalsecretoutputsList?.() ?? [],
            aliases: this.aliasUrns(req, parent, type, name),
        };
        this.captured.push(res);
        this.byUrn.set(urn, res);
        if (id && id !== UNKNOWN) {
            this.byId.set(id, res);
        }
        this.opts.onRegister?.(this.captured.length);
        return res;
    }

    /** The request as the engine would register it: with the transforms that reach it applied. */
    private async transformed(req: any): Promise<{ req: any; own: string[] }> {
        const cbs = this.opts.callbacks;
        const own: string[] = (req.getTransformsList?.() ?? []).map((cb: any) => cb.getToken());
        if (!cbs) {
            return { req, own };
        }
        const reg = await cbs.apply({
            type: req.getType(), name: req.getName(), custom: req.getCustom(), parent: req.getParent(),
            props: (req.getObject?.() ?? req.getProperties?.())?.toJavaScript() ?? {},
            protect: req.getProtect?.(), retainOnDelete: req.getRetainondelete?.(), ignoreChanges: req.getIgnorechangesList?.(), provider: req.getProvider?.(),
        }, own);
        // A view of the request with the transformed fields; every other getter reads the original.
        const view = Object.create(req);
        view.getObject = () => ({ toJavaScript: () => reg.props });
        view.getProtect = () => reg.protect === true;
        view.getRetainondelete = () => reg.retainOnDelete === true;
        view.getIgnorechangesList = () => reg.ignoreChanges ?? [];
        view.getProvider = () => reg.provider ?? "";
        return { req: view, own };
    }

    async registerResource(request: any, callback: Callback): Promise<void> {
        try {
            const { req, own } = await this.transformed(request);
            const res = this.record(req, req.getCustom(), req.getImportid?.() ?? "");
            this.opts.callbacks?.recordResource(res.urn, req.getParent(), own);
            if (!res.custom && V2_MANIFEST_TYPES.includes(res.type)) {
                this.expandManifests(res, req.getProvider?.() || req.getProvidersMap?.()?.get("kubernetes") || "");
            }
            callback(null, registerResponse(res));
        } catch (err) {
            callback(err);
        }
    }

    /**
     * Registers the objects a provider-side manifest component (yaml/v2, helm v4) would register, as its
     * children; what cannot be expanded goes to the component's `unexpanded` output (k8sExpand.ts).
     */
    private expandManifests(component: CapturedResource, providerRef: string): void {
        const { children, gaps } = expandRemoteComponent(component.type, component.name, component.inputs, process.cwd());
        const urns = children.map((c) => this.record({
            getType: () => c.type,
            getName: () => c.name,
            getParent: () => component.urn,
            getObject: () => ({ toJavaScript: () => c.inputs }),
            getProvider: () => providerRef,
        }, true, "").urn);
        // Where the unrendered objects would go, so the runner-namespace rules can refuse them there.
        const ns = (component.inputs as Record<string, unknown> | undefined)?.namespace;
        const where = gaps.length > 0 && ns !== undefined ? { unexpandedNamespace: ns } : {};
        component.outputs = { ...component.outputs, resources: urns, unexpanded: gaps, ...where };
        component.wireOutputs = { ...component.wireOutputs, resources: urns, unexpanded: gaps, ...where };
    }

    async readResource(req: any, callback: Callback): Promise<void> {
        try {
            const res = this.record(req, true, req.getId?.() ?? "");
            if (res.type === STACK_REFERENCE_TYPE) {
                this.answerStackReference(res);
            }
            const resp = new resproto.ReadResourceResponse();
            resp.setUrn(res.urn);
            resp.setProperties(structproto.Struct.fromJavaScript(stripUndefined(res.wireOutputs)));
            callback(null, resp);
        } catch (err) {
            callback(err);
        }
    }

    /**
     * A StackReference reads the referenced stack's outputs: from what the user passed
     * (`--stack-reference <name>=<outputs.json>`), else unknown, as in a first preview.
     */
    private answerStackReference(res: CapturedResource): void {
        const name = res.id;
        const given = this.opts.stackReferences?.[name];
        const state = { name, outputs: given ?? UNKNOWN, secretOutputNames: [] as string[] };
        res.outputs = state;
        res.wireOutputs = toAnalyzerWire(state);
    }

    registerResourceOutputs(req: any, callback: Callback): void {
        try {
            const res = this.byUrn.get(req.getUrn());
            if (res) {
                const raw = req.getOutputs()?.toJavaScript() ?? {};
                res.wireOutputs = toAnalyzerWire(raw);
                res.outputs = toPlain(raw);
            }
            callback(null, {});
        } catch (err) {
            callback(err);
        }
    }

    async invoke(req: any, callback: Callback): Promise<void> {
        try {
            const token: string = req.getTok();
            const args = toPlain(req.getArgs()?.toJavaScript() ?? {});
            let result: Record<string, any>;
            const transformedArgs = this.opts.callbacks ? await this.opts.callbacks.applyInvoke(token, args) : args;
            if (token === "pulumi:pulumi:getResource") {
                const res = this.byUrn.get(args.urn);
                if (!res) {
                    throw new Error(`unknown resource ${args.urn}`);
                }
                result = { urn: res.urn, id: res.id, state: res.wireOutputs };
            } else {
                this.invokes.push({ token, args: transformedArgs });
                const defaults = this.providerDefaults(token, req.getProvider?.() ?? "");
                result = modelInvoke({ token, args: transformedArgs, byId: this.byId, ...defaults });
            }
            const resp = new provproto.InvokeResponse();
            resp.setReturn(structproto.Struct.fromJavaScript(stripUndefined(result)));
            callback(null, resp);
        } catch (err) {
            callback(err);
        }
    }
}

/**
 * A RegisterResourceResponse as the runtime reads it: resource.js calls exactly these getters, and
 * builds the same duck-typed shape itself when it has no monitor. The outputs reach the runtime's
 * deserializer as the plain object a protobuf Struct would give back, without a Struct built for
 * every resource only to be read back at once (about a tenth of a 100-pool run's CPU). An empty id
 * tells the runtime the id is unknown (preview); result 0 is SUCCESS.
 */
function registerResponse(res: CapturedResource): unknown {
    const object = stripUndefined(res.wireOutputs);
    const id = res.id === UNKNOWN ? "" : res.id;
    return {
        getUrn: () => res.urn,
        getId: () => id,
        getObject: () => ({ toJavaScript: () => object }),
        getPropertydependenciesMap: () => undefined,
        getResult: () => 0,
        getUnknown: () => false,
    };
}

/**
 * Outputs in wire form: inputs keep their wire encoding (secrets stay secret), values the provider
 * added are plain. Secret inputs stay secret in the outputs, as providers return them.
 */
function wireOutputsFor(wireInputs: Record<string, any>, outputs: Record<string, any>, inputs: Record<string, any>): Record<string, any> {
    const out: Record<string, any> = {};
    for (const [k, v] of Object.entries(outputs)) {
        out[k] = k in wireInputs && v === inputs[k] ? wireInputs[k] : v;
    }
    return out;
}
