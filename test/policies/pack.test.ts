/**
 * The pack entry point as the Pulumi CLI runs it: `policies/index.ts` in its own process, serving
 * the analyzer gRPC protocol on loopback. The test speaks that protocol like the CLI would.
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import { policies } from "../../policies/rules";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const analyzerrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const analyzerproto = require("@pulumi/pulumi/proto/analyzer_pb");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const emptyproto = require("google-protobuf/google/protobuf/empty_pb");

const PACK_DIR = path.join(__dirname, "..", "..", "policies");

function unary(client: any, method: string, req: unknown): Promise<any> {
    return new Promise((resolve, reject) => client[method](req, (err: unknown, resp: unknown) => (err ? reject(err) : resolve(resp))));
}

describe("policy pack entry point (policies/index.ts under the analyzer protocol)", function () {
    this.timeout(120000);
    let child: ChildProcess;
    let client: any;

    before(async () => {
        // As `pulumi preview --policy-pack policies` does: run the pack with ts-node, cwd = the pack directory.
        child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "index.ts"], { cwd: PACK_DIR, stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        child.stderr!.on("data", (d) => (stderr += d));
        const port = await new Promise<string>((resolve, reject) => {
            child.stdout!.once("data", (d) => resolve(String(d).trim()));
            child.once("exit", (code) => reject(new Error(`pack exited with ${code}: ${stderr}`)));
        });
        assert.match(port, /^\d+$/, "the pack prints its port like every analyzer plugin");
        client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        child?.kill();
    });

    it("announces every rule of the pack with its description and config schema", async () => {
        const info = await unary(client, "getAnalyzerInfo", new emptyproto.Empty());
        assert.strictEqual(info.getName(), "hardened-build-fleet");
        const announced = info.getPoliciesList().map((p: any) => p.getName());
        assert.deepStrictEqual(announced, policies.map((p) => p.name));
        const lifetime = info.getPoliciesList().find((p: any) => p.getName() === "runner-vm-bounded-lifetime");
        assert.ok(lifetime.getConfigschema(), "configurable rules expose their schema to the CLI");
    });

    it("analyzes a resource the way the CLI asks it to", async () => {
        const req = new analyzerproto.AnalyzeRequest();
        req.setType("gcp:serviceaccount/key:Key");
        req.setName("leaked");
        req.setUrn("urn:pulumi:dev::p::gcp:serviceaccount/key:Key::leaked");
        req.setProperties(structproto.Struct.fromJavaScript({ serviceAccountId: "runner@p.iam.gserviceaccount.com" }));
        req.setOptions(new analyzerproto.AnalyzerResourceOptions());
        const resp = await unary(client, "analyze", req);
        const names = resp.getDiagnosticsList().map((d: any) => d.getPolicyname());
        assert.deepStrictEqual(names, ["no-service-account-keys"]);
    });
});
