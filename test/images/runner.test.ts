/**
 * The runner image recipe (images/runner/): the Packer template and install.sh agree with the startup
 * script (runner directory, user, tools) and with the docs on the pinned runner release, the template
 * validates with Packer when it is installed, and install.sh refuses a download whose sha256 is not the
 * pinned one (run in a sandbox with stand-ins for the network and the package manager).
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEFAULT_RUNNER_DIR, DEFAULT_RUNNER_USER, renderStartupScript } from "../../components/runnerPool/startupScript";

const ROOT = path.join(__dirname, "..", "..");
const IMAGE = path.join(ROOT, "images", "runner");
const TEMPLATE = fs.readFileSync(path.join(IMAGE, "runner.pkr.hcl"), "utf8");
const INSTALL = fs.readFileSync(path.join(IMAGE, "install.sh"), "utf8");

/** The default of a Packer variable. */
function variableDefault(name: string): string {
    const m = new RegExp(`variable "${name}" \\{[^}]*?default\\s*=\\s*"([^"]*)"`, "s").exec(TEMPLATE);
    assert.ok(m, `runner.pkr.hcl: variable ${name} has no default`);
    return m[1];
}

/** Commands the startup script runs, and the Debian/Ubuntu package install.sh must install for each. */
const STARTUP_TOOLS: Record<string, string> = {
    curl: "curl",
    python3: "python3",
    iptables: "iptables",
    ip6tables: "iptables",
    runuser: "util-linux",
    logger: "bsdutils",
};

function onPath(command: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
}

describe("images/runner: the gce runner image recipe", function () {
    this.timeout(60_000);
    const version = variableDefault("runner_version");
    const sha256 = variableDefault("runner_sha256");

    it("pins one runner release by version and sha256, and the docs name the same pair", () => {
        assert.match(version, /^\d+\.\d+\.\d+$/);
        assert.match(sha256, /^[0-9a-f]{64}$/);
        const doc = fs.readFileSync(path.join(ROOT, "docs", "runner-image.md"), "utf8");
        assert.ok(doc.includes(`\`${version}\``) && doc.includes(sha256), "docs/runner-image.md must name the pinned version and its sha256");
        assert.match(TEMPLATE, /"RUNNER_VERSION=\$\{var\.runner_version\}"/);
        assert.match(TEMPLATE, /"RUNNER_SHA256=\$\{var\.runner_sha256\}"/);
    });

    it("installs the runner where the startup script runs it, for the user it runs it as", () => {
        assert.match(INSTALL, new RegExp(`^readonly RUNNER_DIR=${DEFAULT_RUNNER_DIR}$`, "m"));
        assert.match(INSTALL, new RegExp(`^readonly RUNNER_USER=${DEFAULT_RUNNER_USER}$`, "m"));
    });

    it("installs a package for every tool the startup script uses, and jq for the upload step", () => {
        const script = renderStartupScript({ pool: "p", registrationBrokerUrl: "https://broker.example" });
        const packages = /apt-get install -y --no-install-recommends ([^\n]+)/.exec(INSTALL)?.[1].split(/\s+/) ?? [];
        for (const [command, pkg] of Object.entries({ ...STARTUP_TOOLS, jq: "jq" })) {
            if (command !== "jq") {
                assert.match(script, new RegExp(`(^|[\\s(])${command} `, "m"), `the startup script no longer runs ${command}: update STARTUP_TOOLS`);
            }
            assert.ok(packages.includes(pkg), `install.sh does not install ${pkg} (for ${command})`);
        }
        assert.ok(!packages.some((p) => /docker|containerd|podman/.test(p)), "no container runtime in the image");
    });

    it("the template validates with Packer (when installed) and needs the project id", function () {
        if (!onPath("packer")) {
            this.skip();
        }
        const ok = spawnSync("packer", ["validate", "-var", "project_id=acme-build-images", IMAGE], { encoding: "utf8" });
        assert.strictEqual(ok.status, 0, ok.stdout + ok.stderr);
        const missing = spawnSync("packer", ["validate", IMAGE], { encoding: "utf8" });
        assert.notStrictEqual(missing.status, 0);
        assert.match(missing.stdout + missing.stderr, /project_id/);
    });

    describe("install.sh in a sandbox", () => {
        let dir: string;
        let tarball: Buffer;

        /** Runs install.sh with stand-ins on PATH; `calls` lists every stand-in invocation. */
        function install(pinned: string): { status: number | null; stderr: string; calls: string[]; root: string } {
            const bin = path.join(dir, "bin");
            const root = fs.mkdtempSync(path.join(dir, "root-"));
            const log = path.join(dir, `calls-${path.basename(root)}`);
            fs.mkdirSync(bin, { recursive: true });
            const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/bash\necho "${name} $*" >> "${log}"\n${body}\n`, { mode: 0o755 });
            // curl -fsSL --retry 5 -o <file> <url>: serves the prepared tarball.
            stub("curl", `while [ $# -gt 0 ]; do if [ "$1" = -o ]; then cp "${path.join(dir, "runner.tar.gz")}" "$2"; shift; fi; shift; done`);
            for (const name of ["apt-get", "useradd", "gpasswd", "chown"]) {
                stub(name, "exit 0");
            }
            stub("id", "exit 1");
            const r = spawnSync("bash", [path.join(IMAGE, "install.sh")], {
                encoding: "utf8",
                env: { PATH: `${bin}:${process.env.PATH}`, INSTALL_ROOT: root, RUNNER_VERSION: version, RUNNER_SHA256: pinned },
            });
            const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
            return { status: r.status, stderr: r.stderr, calls, root };
        }

        before(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "hbf-runner-image-"));
            // A stand-in release: run.sh and an installdependencies.sh that leaves a mark.
            const src = path.join(dir, "release");
            fs.mkdirSync(path.join(src, "bin"), { recursive: true });
            fs.writeFileSync(path.join(src, "run.sh"), "#!/bin/bash\n", { mode: 0o755 });
            fs.writeFileSync(path.join(src, "bin", "installdependencies.sh"), `#!/bin/bash\ntouch "$(dirname "$0")/../deps-installed"\n`, { mode: 0o755 });
            assert.strictEqual(spawnSync("tar", ["-czf", path.join(dir, "runner.tar.gz"), "-C", src, "."]).status, 0);
            tarball = fs.readFileSync(path.join(dir, "runner.tar.gz"));
        });
        after(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("refuses a download whose sha256 is not the pinned one, before installing anything", () => {
            const wrong = crypto.createHash("sha256").update("something else").digest("hex");
            const r = install(wrong);
            assert.strictEqual(r.status, 1, r.stderr);
            assert.match(r.stderr, /does not have sha256 [0-9a-f]{64}: refusing to install it/);
            assert.ok(!fs.existsSync(path.join(r.root, DEFAULT_RUNNER_DIR, "run.sh")), "nothing unpacked");
            assert.deepStrictEqual(r.calls.map((c) => c.split(" ")[0]), ["curl"], "only the download ran");
        });

        it("installs a download with the pinned sha256 (the same script, only the digest differs)", () => {
            const r = install(crypto.createHash("sha256").update(tarball).digest("hex"));
            assert.strictEqual(r.status, 0, r.stderr);
            const dirOf = path.join(r.root, DEFAULT_RUNNER_DIR);
            assert.ok(fs.existsSync(path.join(dirOf, "run.sh")) && fs.existsSync(path.join(dirOf, "deps-installed")));
            assert.strictEqual(fs.readFileSync(path.join(dirOf, ".hardened-build-fleet-runner-version"), "utf8").trim(), version);
            assert.ok(r.calls.includes(`useradd --create-home --shell /bin/bash --user-group ${DEFAULT_RUNNER_USER}`), r.calls.join("\n"));
            assert.ok(r.calls.includes(`chown -R ${DEFAULT_RUNNER_USER}:${DEFAULT_RUNNER_USER} ${dirOf}`), r.calls.join("\n"));
            assert.ok(r.calls.some((c) => c.startsWith(`curl -fsSL --retry 5 -o `) && c.endsWith(`https://github.com/actions/runner/releases/download/v${version}/actions-runner-linux-x64-${version}.tar.gz`)));
        });

        it("refuses a malformed version or digest before downloading", () => {
            for (const [v, s] of [["latest", "a".repeat(64)], [version, "ABC"]]) {
                const r = spawnSync("bash", [path.join(IMAGE, "install.sh")], { encoding: "utf8", env: { PATH: process.env.PATH, RUNNER_VERSION: v, RUNNER_SHA256: s } });
                assert.strictEqual(r.status, 1);
                assert.match(r.stderr, /is not (a release version|64 lower-case hex)/);
            }
        });
    });
});
