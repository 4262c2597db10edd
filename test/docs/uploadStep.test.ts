/**
 * The workflow authors' copy-paste upload step (docs/workflow-authors.md) works as written: run with bash,
 * curl and jq against the fake Cloud Storage endpoint, with a real broker-signed upload grant, it creates
 * the job's objects under its own prefix; run again, it fails (uploads are create-only) instead of passing.
 */
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import { generateKeyPairSync } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { keySigner, signUploadPolicy } from "../../services/controlPlane/uploadPolicy";
import { DirectoryStore } from "../../services/lib/objectStore";
import { FakeGcs } from "../../services/sim/fakeGcs";
import { UPLOAD_CREDENTIAL_ENV } from "../../components/runnerPool/startupScript";

const ROOT = path.join(__dirname, "..", "..");

/** Runs a bash script asynchronously (the fake endpoint answers from this process's event loop). */
function bash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn("bash", ["-c", script], { cwd, env });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (status) => resolve({ status, stderr }));
    });
}

/** The `run` script of the YAML step in the page's "Uploading artifacts" section. */
function uploadStep(): string {
    const page = fs.readFileSync(path.join(ROOT, "docs", "workflow-authors.md"), "utf8");
    const section = page.slice(page.indexOf("\n## Uploading artifacts"));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(yaml, "no YAML step in the Uploading artifacts section");
    const steps = parse(yaml) as { name: string; shell?: string; run: string }[];
    assert.strictEqual(steps.length, 1);
    assert.strictEqual(steps[0].shell, "bash");
    return steps[0].run;
}

describe("docs: the workflow authors' upload step", function () {
    this.timeout(60_000);
    const broker = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const email = "broker@acme-build-control.iam.gserviceaccount.com";
    let dir: string;
    let store: DirectoryStore;
    let gcs: FakeGcs;

    before(async function () {
        if (spawnSync("sh", ["-c", "command -v curl && command -v jq"]).status !== 0) {
            this.skip();
        }
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hbf-upload-step-"));
        store = new DirectoryStore(path.join(dir, "bucket"));
        gcs = new FakeGcs({ buckets: { "intake-linux": store }, signers: { [email]: broker.publicKey } });
        await gcs.listen();
    });
    after(async () => {
        await gcs?.close();
        if (dir) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("uploads each file under the job's prefix with the credential file the runner gets, and fails on a second run", async () => {
        const grant = await signUploadPolicy({
            signer: keySigner(email, broker.privateKey),
            endpoint: gcs.url,
            bucket: "intake-linux",
            prefix: "linux/4711/",
            expiresAt: new Date(Date.now() + 600_000),
            maxBytes: 1 << 20,
            now: new Date(),
        });
        const workspace = path.join(dir, "workspace");
        fs.mkdirSync(path.join(workspace, "dist"), { recursive: true });
        fs.writeFileSync(path.join(workspace, "dist", "app.tgz"), "the artifact");
        fs.writeFileSync(path.join(workspace, "dist", "app.cdx.json"), '{"bomFormat":"CycloneDX"}');
        const credential = path.join(dir, "upload.json");
        fs.writeFileSync(credential, JSON.stringify(grant));
        const run = () => bash(uploadStep(), workspace, { PATH: process.env.PATH, [UPLOAD_CREDENTIAL_ENV]: credential });

        const first = await run();
        assert.strictEqual(first.status, 0, first.stderr);
        assert.strictEqual((await store.read("linux/4711/app.tgz"))?.toString(), "the artifact");
        assert.strictEqual((await store.read("linux/4711/app.cdx.json"))?.toString(), '{"bomFormat":"CycloneDX"}');

        const second = await run();
        assert.notStrictEqual(second.status, 0, "a second upload of the same name must fail the step");
        assert.match(second.stderr, /403/);
    });
});
