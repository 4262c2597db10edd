/**
 * The SDK internals the engine and the pack rely on (plan/engine/sdk.ts) are pinned to the SDK
 * versions they were read from: an upgrade makes this test fail, and each internal is checked for
 * the shape the engine uses, so a changed internal is found here rather than as a silent pass.
 */
import * as assert from "assert";
import * as sdk from "../../../plan/engine/sdk";
import { isUnknown, unwrap } from "../../../policies/model/props";
import { runProgram } from "../../../plan/engine";

function installed(pkg: string): string {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(`${pkg}/package.json`).version.replace(/^v/, "");
}

describe("SDK internals (plan/engine/sdk.ts), pinned to the SDK version", () => {
    for (const [pkg, version] of Object.entries(sdk.SDK_VERSIONS)) {
        it(`${pkg} is the version the internals were read from (${version})`, () => {
            assert.strictEqual(installed(pkg), version, `${pkg} ${installed(pkg)} is installed; re-check every internal in plan/engine/sdk.ts, then update SDK_VERSIONS`);
        });
    }

    it("the analyzer server exposes the two RPC handler factories", () => {
        assert.strictEqual(typeof sdk.policyServer.makeAnalyzeRpcFun, "function");
        assert.strictEqual(typeof sdk.policyServer.makeAnalyzeStackRpcFun, "function");
    });

    it("the runtime exposes setMockOptions, waitForRPCs and the state store", () => {
        assert.strictEqual(typeof sdk.runtimeSettings.setMockOptions, "function");
        assert.strictEqual(typeof sdk.runtimeSettings.waitForRPCs, "function");
        const store = sdk.runtimeState.getStore();
        assert.ok(store && typeof store === "object");
        assert.ok("supportsSecrets" in store, "the state store no longer carries the monitor feature flags");
    });

    it("the protobuf response classes the mock monitor builds exist", () => {
        const setters: [unknown, string[]][] = [
            [sdk.resourceProto.RegisterResourceResponse, ["setUrn", "setId", "setObject"]],
            [sdk.resourceProto.ReadResourceResponse, ["setUrn", "setProperties"]],
            [sdk.providerProto.InvokeResponse, ["setReturn"]],
        ];
        for (const [cls, methods] of setters) {
            assert.strictEqual(typeof cls, "function");
            const msg = new (cls as new () => Record<string, unknown>)();
            for (const m of methods) {
                assert.strictEqual(typeof msg[m], "function", `${m} is gone`);
            }
        }
        assert.strictEqual(typeof sdk.MockMonitor, "function");
    });

    it("the runtime reads a register response through the getters the monitor's plain response answers", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const source = require("fs").readFileSync(require.resolve("@pulumi/pulumi/runtime/resource"), "utf8") as string;
        const register = source.slice(source.indexOf("function registerResource("), source.indexOf("exports.registerResource = registerResource"));
        const read = [...new Set(register.match(/resp\.get[A-Za-z]+/g))].sort();
        assert.deepStrictEqual(read, ["resp.getId", "resp.getObject", "resp.getPropertydependenciesMap", "resp.getResult", "resp.getUnknown", "resp.getUrn"]);
        // ...and reads the outputs object only through toJavaScript().
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const rpc = require("fs").readFileSync(require.resolve("@pulumi/pulumi/runtime/rpc"), "utf8") as string;
        assert.match(rpc, /function deserializeProperties\(outputsStruct, keepUnknowns\) \{\s+const props = \{\};\s+const outputs = outputsStruct\.toJavaScript\(\);/);
    });

    it("the analyzer's unknown-value proxy answers the property names the pack reads", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const proxy = require("@pulumi/policy/proxy");
        const target = { a: "04da6b54-80e4-46f7-96ec-b56ff0331ba9", b: { c: 1 } };
        const wrapped = proxy.unknownCheckingProxy(target);
        assert.strictEqual(wrapped[sdk.POLICY_PROXY.isSpecialProxy], true);
        assert.strictEqual(wrapped[sdk.POLICY_PROXY.getSpecialProxyTarget], target);
        assert.strictEqual(unwrap(wrapped), target, "policies/model/props.ts must unwrap the proxy with the same names");
        assert.ok(isUnknown(unwrap(wrapped).a));
        assert.throws(() => wrapped.a, "reading an unknown through the proxy throws (the analyzer's preview advisory)");
    });

    it("the analyzer reads properties through its deserializer module's export, which the engine's sharing replaces", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const server = require("fs").readFileSync(require.resolve("@pulumi/policy/server"), "utf8") as string;
        assert.match(server, /deserialize_1\.deserializeProperties\(/, "the handlers no longer call the deserializer through its module");
        assert.strictEqual(typeof sdk.policyDeserialize.deserializeProperties, "function");
        // The shared stack pass hands the stack handler a list whose for-of is empty and whose some() sees every type.
        assert.match(server, /const hasResourcesOfType = resources\.some\(/);
        assert.match(server, /for \(const r of resources\) \{/);
    });

    it("the runtime's per-resource callsites and per-promise bookkeeping are replaceable, and a run restores them", async () => {
        assert.strictEqual(typeof sdk.resourceClass.callsites, "function");
        assert.strictEqual(typeof sdk.runtimeDebuggable.debuggablePromise, "function");
        const before = { callsites: sdk.resourceClass.callsites, debuggable: sdk.runtimeDebuggable.debuggablePromise };
        let during: unknown[] = [];
        await runProgram(() => {
            during = [sdk.resourceClass.callsites, sdk.runtimeDebuggable.debuggablePromise];
        });
        assert.notStrictEqual(during[0], before.callsites, "source positions are still captured during a run");
        assert.notStrictEqual(during[1], before.debuggable, "promises are still tagged during a run");
        assert.strictEqual(sdk.resourceClass.callsites, before.callsites);
        assert.strictEqual(sdk.runtimeDebuggable.debuggablePromise, before.debuggable);
        await runProgram(() => {
            during = [sdk.resourceClass.callsites];
        }, { stackTraces: true });
        assert.strictEqual(during[0], before.callsites, "with stack traces on, the runtime keeps its own");
    });
});
