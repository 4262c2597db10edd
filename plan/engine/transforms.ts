/**
 * Runtime `transforms` offline, as the engine applies them. A program's transforms (the `transforms`
 * resource option, `pulumi.runtime.registerResourceTransform`) are callbacks the engine calls before
 * it registers a resource: first the resource's own, then each ancestor's (a component's transforms
 * apply to its children), then the stack's in the order registered; each sees the props the previous
 * one returned. Without this, the mock monitor would record each resource untransformed, and a
 * transform that opens the signer's ingress would pass.
 *
 * The SDK reaches its callbacks through `store.callbacks`; this stands in for the gRPC callback
 * server with an in-process registry the monitor calls.
 */
import { randomUUID } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { callbackProto, runtimeRpc } from "./sdk";
import { UNKNOWN } from "./types";

type Transform = (args: pulumi.ResourceTransformArgs) => Promise<pulumi.ResourceTransformResult | undefined> | pulumi.ResourceTransformResult | undefined;
type InvokeTransform = (args: { token: string; args: Record<string, unknown>; opts: Record<string, unknown> }) => Promise<{ args: Record<string, unknown>; opts: unknown } | undefined> | { args: Record<string, unknown>; opts: unknown } | undefined;

/** The parts of a registration a transform may change, in the monitor's terms. */
export interface Registration {
    type: string;
    name: string;
    custom: boolean;
    parent: string;
    /** Wire-form properties (as a RegisterResourceRequest's Struct gives them). */
    props: Record<string, unknown>;
    protect?: boolean;
    retainOnDelete?: boolean;
    ignoreChanges?: string[];
    provider?: string;
}

/** The value of a provider's urn or id (resolved by the time a transform returns it). */
function valueOf(o: pulumi.Output<string>): Promise<string> {
    return new Promise((resolve) => o.apply((v) => resolve(v)));
}

export class OfflineCallbacks {
    private readonly transforms = new Map<string, Transform>();
    private readonly invokeTransforms = new Map<string, InvokeTransform>();
    private readonly stackTransforms: string[] = [];
    private readonly stackInvokeTransforms: string[] = [];
    /** Each registered resource's own transform tokens, for its children. */
    private readonly byUrn = new Map<string, { parent: string; tokens: string[] }>();

    private callback(): InstanceType<typeof callbackProto.Callback> {
        const cb = new callbackProto.Callback();
        cb.setToken(randomUUID());
        cb.setTarget("offline");
        return cb;
    }

    async registerTransform(t: Transform): Promise<unknown> {
        const cb = this.callback();
        this.transforms.set(cb.getToken(), t);
        return cb;
    }

    registerStackTransform(t: Transform): void {
        const cb = this.callback();
        this.transforms.set(cb.getToken(), t);
        this.stackTransforms.push(cb.getToken());
    }

    registerStackInvokeTransform(t: InvokeTransform): void {
        const cb = this.callback();
        this.invokeTransforms.set(cb.getToken(), t);
        this.stackInvokeTransforms.push(cb.getToken());
    }

    async registerStateMigration(): Promise<unknown> {
        return this.callback();
    }

    async registerResourceHook(): Promise<unknown> {
        return this.callback();
    }

    async registerErrorHook(): Promise<unknown> {
        return this.callback();
    }

    async awaitStackRegistrations(): Promise<void> {
        return undefined;
    }

    shutdown(): void {
        return undefined;
    }

    /** Remembers a registered resource's own transforms (its children get them too). */
    recordResource(urn: string, parent: string, tokens: string[]): void {
        this.byUrn.set(urn, { parent, tokens });
    }

    /** Applies the transforms that reach a registration: its own, its ancestors', the stack's. */
    async apply(reg: Registration, own: string[]): Promise<Registration> {
        const chain = [...own];
        for (let p = reg.parent, depth = 0; p && depth < 1000; depth++) {
            const rec = this.byUrn.get(p);
            if (!rec) {
                break;
            }
            chain.push(...rec.tokens);
            p = rec.parent;
        }
        chain.push(...this.stackTransforms);
        let cur = reg;
        for (const token of chain) {
            const t = this.transforms.get(token);
            if (!t) {
                continue;
            }
            const opts: pulumi.CustomResourceOptions = {
                parent: cur.parent ? new pulumi.DependencyResource(cur.parent) : undefined,
                protect: cur.protect, retainOnDelete: cur.retainOnDelete, ignoreChanges: cur.ignoreChanges,
            };
            let result: pulumi.ResourceTransformResult | undefined;
            try {
                result = await t({ custom: cur.custom, type: cur.type, name: cur.name, props: runtimeRpc.deserializeProperties({ toJavaScript: () => cur.props } as never, true), opts });
            } catch (err) {
                throw new Error(`transform failed: ${err instanceof Error ? err.message : String(err)}`);
            }
            if (result === undefined) {
                continue;
            }
            const props = await runtimeRpc.serializeProperties("props", result.props, { keepOutputValues: false });
            const o = (result.opts ?? {}) as pulumi.CustomResourceOptions;
            cur = {
                ...cur,
                props,
                protect: o.protect ?? cur.protect,
                retainOnDelete: o.retainOnDelete ?? cur.retainOnDelete,
                ignoreChanges: o.ignoreChanges ?? cur.ignoreChanges,
                provider: o.provider ? `${await valueOf(o.provider.urn)}::${(await valueOf(o.provider.id)) || UNKNOWN}` : cur.provider,
            };
        }
        return cur;
    }

    /** Applies the stack's invoke transforms to an invoke's arguments. */
    async applyInvoke(token: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
        let cur = args;
        for (const t of this.stackInvokeTransforms) {
            const fn = this.invokeTransforms.get(t);
            const result = fn ? await fn({ token, args: cur, opts: {} }) : undefined;
            if (result !== undefined) {
                cur = result.args;
            }
        }
        return cur;
    }
}
