/**
 * The plugin as the Pulumi Node.js language host runs it for `pulumi package add`: `@pulumi/pulumi`'s
 * run-plugin on the plugin directory (TypeScript compiled and type-checked by ts-node, entry from
 * provider/package.json), serving the resource-provider protocol on loopback. The test asks for the
 * schema over that protocol, as the CLI does before it generates an SDK.
 */
import { REPO_ROOT } from "../helpers/paths";
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const providerrpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const providerproto = require("@pulumi/pulumi/proto/provider_pb");

const PLUGIN_DIR = path.join(REPO_ROOT, "provider");
const RUN_PLUGIN = require.resolve("@pulumi/pulumi/cmd/run-plugin");

function unary(client: any, method: string, req: unknown): Promise<any> {
    return new Promise((resolve, reject) => client[method](req, (err: unknown, resp: unknown) => (err ? reject(err) : resolve(resp))));
}

describe("component provider plugin (provider/ under the Node.js language host's run-plugin)", function () {
    this.timeout(180_000);
    let child: ChildProcess;
    let client: any;

    before(async () => {
        assert.match(fs.readFileSync(path.join(PLUGIN_DIR, "PulumiPlugin.yaml"), "utf8"), /^runtime: nodejs$/m);
        // As the language host's RunPlugin does: run-plugin with the plugin directory as the program.
        child = spawn(process.execPath, [RUN_PLUGIN, PLUGIN_DIR], { cwd: PLUGIN_DIR, stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        child.stderr!.on("data", (d) => (stderr += d));
        const port = await new Promise<string>((resolve, reject) => {
            child.stdout!.once("data", (d) => resolve(String(d).trim()));
            child.once("exit", (code) => reject(new Error(`the plugin exited with ${code}: ${stderr}`)));
        });
        assert.match(port, /^\d+$/, "the plugin prints its port like every provider plugin");
        client = new providerrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        child?.kill();
    });

    it("serves the refined package schema with the eight components", async () => {
        const resp = await unary(client, "getSchema", new providerproto.GetSchemaRequest());
        const schema = JSON.parse(resp.getSchema()) as { name: string; resources: Record<string, { isComponent: boolean }>; types: Record<string, any> };
        assert.strictEqual(schema.name, "hardened-build-fleet");
        assert.deepStrictEqual(Object.keys(schema.resources).sort(), [
            "ControlPlane", "FleetPerimeter", "HardenedBuildFleet", "IsolatedNetwork", "OrgGuardrails", "RunnerPool", "ServiceImage", "SignerEnclave",
        ].map((c) => `hardened-build-fleet:index:${c}`));
        assert.ok(Object.values(schema.resources).every((r) => r.isComponent));
        // The plugin serves what refine.ts makes of the analyzer's schema, as getSchema() does in-process.
        assert.strictEqual(schema.types["hardened-build-fleet:index:Pool"].properties.maxRunners.type, "integer");
        assert.match(schema.types["hardened-build-fleet:index:Pool"].description, /One runner pool/);
    });
});
