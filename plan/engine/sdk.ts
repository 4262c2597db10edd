/**
 * Every use of Pulumi SDK internals (modules and functions outside the packages' public typings),
 * in one place. The offline engine needs them to run a program under mocks with the real runtime
 * and to call the real CrossGuard analyzer; the pack needs the analyzer's unknown-value proxy
 * protocol (policies/model/props.ts, which must not depend on this engine, names the same two
 * properties). `test/plan/engine/sdk.test.ts` pins the SDK versions these were checked against and
 * checks each internal still has the shape used here, so an upgrade fails loudly, not silently.
 */
/* eslint-disable @typescript-eslint/no-require-imports */

/** The SDK versions the internals below were read from. */
export const SDK_VERSIONS = { "@pulumi/pulumi": "3.276.0", "@pulumi/policy": "1.21.0" } as const;

/** @pulumi/policy's analyzer server: `makeAnalyzeRpcFun` / `makeAnalyzeStackRpcFun` (the gRPC handlers the CLI calls). */
export const policyServer: {
    makeAnalyzeRpcFun: (...args: unknown[]) => (call: unknown, callback: (err: unknown, resp: unknown) => void) => unknown;
    makeAnalyzeStackRpcFun: (...args: unknown[]) => (call: unknown, callback: (err: unknown, resp: unknown) => void) => unknown;
} = require("@pulumi/policy/server");

/** The runtime's mock monitor base class (public module, extended to record the graph). */
export { MockMonitor } from "@pulumi/pulumi/runtime/mocks";

/** Protobuf message classes for monitor responses. */
export const providerProto = require("@pulumi/pulumi/proto/provider_pb");
export const resourceProto = require("@pulumi/pulumi/proto/resource_pb");

/** @internal runtime settings: `setMockOptions(monitor, project, stack, preview)`, `waitForRPCs()`. */
export const runtimeSettings: {
    setMockOptions: (monitor: unknown, project: string, stack: string, preview: boolean) => void;
    waitForRPCs: () => Promise<void>;
} = require("@pulumi/pulumi/runtime/settings");

/** @internal runtime state: `getStore()` holds the monitor feature flags set for a run. */
export const runtimeState: { getStore: () => Record<string, any> } = require("@pulumi/pulumi/runtime/state");

/** The analyzer proxy's own property names (@pulumi/policy proxy.js) that answer "is proxied" and "the raw target". */
export const POLICY_PROXY = { isSpecialProxy: "__isSpecialProxy", getSpecialProxyTarget: "__getSpecialProxyTarget" } as const;

/**
 * @pulumi/policy's deserializer. The analyzer handlers call `deserializeProperties` through this
 * module's exports object at call time, once per policy (and per validation) for every resource;
 * plan/engine/sharedProps.ts hooks that export to hand every policy one shared, write-guarded copy.
 */
export const policyDeserialize: {
    deserializeProperties: (struct: { toJavaScript(): Record<string, unknown> }, proxySecrets: boolean) => Record<string, unknown>;
} = require("@pulumi/policy/deserialize");

/**
 * The runtime's Resource class: its static `callsites()` captures a full stack (it lifts
 * `Error.stackTraceLimit` itself) for every resource's source position, which the mock monitor never reads.
 */
export const resourceClass: { callsites: () => unknown[] } = require("@pulumi/pulumi/resource").Resource;

/**
 * The runtime's promise bookkeeping: `debuggablePromise(p, ctx)` tags every output promise with a
 * captured stack and a context string and tracks it for a leak report when `pulumi up` exits;
 * about 40% of a program run here, and meaningless without the engine.
 */
export const runtimeDebuggable: { debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T> } = require("@pulumi/pulumi/runtime/debuggable");

/** Callback protobuf (`Callback`: token + target), what a resource request lists its transforms as. */
export const callbackProto: { Callback: new () => { setToken(t: string): void; setTarget(t: string): void; getToken(): string } } = require("@pulumi/pulumi/proto/callback_pb");

/** The runtime's property (de)serialisation, as the engine's transform callbacks use it. */
export const runtimeRpc: {
    serializeProperties: (label: string, props: unknown, opts?: unknown) => Promise<Record<string, unknown>>;
    deserializeProperties: (struct: unknown, keepUnknowns?: boolean) => Record<string, unknown>;
} = require("@pulumi/pulumi/runtime/rpc");
