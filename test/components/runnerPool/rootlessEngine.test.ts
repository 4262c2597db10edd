import * as assert from "assert";
import { spawnSync } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { FleetConfigError, parseFleetConfig } from "../../../components/config";
import { GKE_CONTAINERS_REFUSAL } from "../../../components/config/pool";
import { ROOTLESS_ENGINE_PACKAGES, rootlessEngineScript } from "../../../components/runnerPool/rootlessEngine";
import { IDENTITY_ENDPOINT, metadataBlockRules, renderStartupScript } from "../../../components/runnerPool/startupScript";

const BROKER = "https://jit-broker-abc123-ew.a.run.app";

describe("GCE pools with containers: true (rootless Docker for the runner user)", () => {
    const plain = renderStartupScript({ pool: "pool-a", registrationBrokerUrl: BROKER });
    const script = renderStartupScript({ pool: "pool-a", registrationBrokerUrl: BROKER, containers: true });
    const at = (needle: string, s = script) => {
        const i = s.indexOf(needle);
        assert.ok(i >= 0, `script lacks ${needle}`);
        return i;
    };

    it("installs nothing and starts no engine unless the pool opts in", () => {
        assert.doesNotMatch(plain, /dockerd|docker\.io|rootlesskit/);
        assert.match(script, /dockerd-rootless\.sh/);
    });

    it("pins every engine package by version and SHA-256 and refuses to install on a mismatch", () => {
        for (const p of ROOTLESS_ENGINE_PACKAGES) {
            assert.match(p.sha256, /^[a-f0-9]{64}$/);
            assert.ok(script.includes(`${p.name}=${p.version} ${p.sha256}\n`), `pin of ${p.name}`);
        }
        assert.match(script, /sha256sum --check --strict --quiet \|\| \{ log "checksum mismatch for \$deb: refusing to install the container engine"; exit 1; \}/);
        assert.match(script, /apt-get download -qq "\$pin"/);
        assert.match(script, /apt-get install -y -qq --no-install-recommends \.\/\*\.deb/);
    });

    it("the pinned checksums are the Debian archive's (checked against apt's signed index where apt knows the packages)", function () {
        const r = spawnSync("apt-cache", ["show", ...ROOTLESS_ENGINE_PACKAGES.map((p) => `${p.name}=${p.version}`)], { encoding: "utf8" });
        if (r.error !== undefined || r.status !== 0) {
            this.skip(); // no Debian bookworm package lists on this machine
        }
        const archive = r.stdout.split(/\n\n+/).map((stanza) => ({
            name: /^Package: (.+)$/m.exec(stanza)?.[1],
            version: /^Version: (.+)$/m.exec(stanza)?.[1],
            sha256: /^SHA256: ([a-f0-9]{64})$/m.exec(stanza)?.[1],
        }));
        for (const p of ROOTLESS_ENGINE_PACKAGES) {
            const sums = archive.filter((a) => a.name === p.name && a.version === p.version).map((a) => a.sha256);
            assert.ok(sums.includes(p.sha256), `${p.name} ${p.version}: archive has ${sums.join(", ")}, pinned ${p.sha256}`);
        }
    });

    it("never runs the rootful daemon: no service starts during install, docker/containerd are masked, the runner stays out of the docker group", () => {
        assert.ok(at("exit 101") < at("apt-get install -y -qq"), "policy-rc.d blocks service starts during the install");
        assert.match(script, /systemctl mask docker\.service docker\.socket containerd\.service/);
        assert.match(script, /grep -qxE 'sudo\|wheel\|docker\|adm\|root\|lxd\|libvirt'/);
        assert.match(script, /runuser -u "\$RUNNER_USER" -- env -i .*\n.*\n.*\n\s+setsid \/usr\/share\/docker\.io\/contrib\/dockerd-rootless\.sh/);
    });

    it("keeps the metadata block for container traffic: engine after the block, slirp4netns without host loopback, a check from the engine's network namespace before registering", () => {
        const blockEnd = Math.max(...metadataBlockRules().map((r) => at(r)));
        const engine = at("dockerd-rootless.sh");
        const token = at(`'${IDENTITY_ENDPOINT}'`);
        assert.ok(blockEnd < engine && engine < token, "block -> engine -> identity token");
        assert.match(script, /DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns/);
        assert.match(script, /DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK=true/);
        const check = at("nsenter -U --preserve-credentials -n -t");
        assert.ok(engine < check && check < token);
        assert.match(script, /curl -s -m 3 -o \/dev\/null -H 'Metadata-Flavor: Google' 'http:\/\/169\.254\.169\.254\/computeMetadata\/v1\/' ; then\n\s+log "containers can reach the metadata server; refusing to register"\n\s+exit 1/);
        // The owner-match rule that covers slirp4netns (it runs as the runner user) is still the first OUTPUT rule.
        assert.match(script, /iptables -w -I OUTPUT 1 -d 169\.254\.169\.254\/32 -m owner ! --uid-owner 0 -j REJECT/);
    });

    it("hands the job the rootless socket through the runner's .env", () => {
        assert.match(script, /DOCKER_HOST=unix:\/\/%s\/docker\.sock\\nXDG_RUNTIME_DIR=%s\\n/);
        assert.ok(at("DOCKER_HOST=unix://") < at("./run.sh"));
    });

    describe("the install, run with stand-in package tools (no VM here)", () => {
        /**
         * Runs the engine's install under bash with `set -euo pipefail` (as the bootstrap runs it) and stand-ins
         * on PATH: dpkg-query knows no package, `apt-get download` writes a .deb that is not the archive's,
         * `apt-get install` records that it ran and stops the script. sha256sum is the real one.
         */
        const runInstall = (engine: string) => {
            const dir = mkdtempSync(path.join(tmpdir(), "hbf-engine-"));
            try {
                const bin = path.join(dir, "bin");
                mkdirSync(bin);
                const stub = (name: string, body: string) => writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
                stub("dpkg-query", "exit 1");
                stub("apt-get", `case "$1" in
  update) exit 0 ;;
  download) pin="\${@: -1}"; echo "not the archive's bytes" > "\${pin%%=*}_1_amd64.deb" ;;
  install) echo ran > "${dir}/installed"; exit 42 ;;
esac`);
                const script = `set -euo pipefail\nlog() { echo "log: $*" >&2; }\nRUNNER_USER=runner\n${engine.replace("/var/cache/build-fleet-engine", path.join(dir, "engine"))}`;
                const r = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { PATH: `${bin}:${process.env.PATH}` }, timeout: 20_000 });
                return { status: r.status, stderr: r.stderr, installed: existsSync(path.join(dir, "installed")) };
            } finally {
                rmSync(dir, { recursive: true, force: true });
            }
        };
        const engine = rootlessEngineScript("169.254.169.254");

        it("refuses to install a package whose .deb does not match its pinned SHA-256: nothing is installed", () => {
            const r = runInstall(engine);
            assert.strictEqual(r.status, 1, r.stderr);
            assert.match(r.stderr, /log: checksum mismatch for docker\.io_1_amd64\.deb: refusing to install the container engine/);
            assert.strictEqual(r.installed, false);
        });

        it("without the checksum line the same tampered packages would be installed (what the pin prevents)", () => {
            const unchecked = engine.replace(/^.*sha256sum --check.*$/m, "");
            assert.notStrictEqual(unchecked, engine);
            const r = runInstall(unchecked);
            assert.strictEqual(r.installed, true, r.stderr);
        });
    });

    it("is valid bash", () => {
        const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stderr);
    });
});

describe("pool config: containers", () => {
    const fleet = (pool: Record<string, unknown>) => ({
        region: "europe-west1",
        workerProject: "acme-build-workers",
        signerProject: "acme-build-signer",
        github: { configUrl: "https://github.com/acme" },
        registrationBrokerUrl: "https://broker.build.acme.example",
        pools: [{ name: "p", cidr: "10.10.0.0/24", ...pool }],
        signer: { serviceImage: `europe-docker.pkg.dev/acme-build-signer/signer/signer@sha256:${"a".repeat(64)}`, cidr: "10.200.0.0/26" },
        controlPlane: {
            githubApp: { appId: 123456, installationId: 7890123, privateKeySecret: "projects/acme-build-signer/secrets/github-app-key" },
            webhookSecret: "projects/acme-build-signer/secrets/github-webhook-secret",
        },
    });
    const GCE = { backend: "gce", image: "projects/acme-images/global/images/family/runner" };
    const issuesOf = (pool: Record<string, unknown>) => {
        try {
            parseFleetConfig(fleet(pool));
        } catch (err) {
            assert.ok(err instanceof FleetConfigError, String(err));
            return err.issues;
        }
        return assert.fail("the config was accepted");
    };

    it("is a typed per-pool opt-in on gce pools", () => {
        assert.strictEqual(parseFleetConfig(fleet({ ...GCE, containers: true })).pools[0].containers, true);
        assert.strictEqual(parseFleetConfig(fleet(GCE)).pools[0].containers, undefined);
    });

    it("is a config error on gke pools that says why and where to build instead", () => {
        const issues = issuesOf({ backend: "gke", image: "ghcr.io/actions/actions-runner:2.321.0", containers: true });
        assert.strictEqual(issues.length, 1);
        assert.strictEqual(issues[0].path, "pools[0].containers");
        assert.strictEqual(issues[0].value, true);
        assert.strictEqual(issues[0].message, GKE_CONTAINERS_REFUSAL);
        assert.match(issues[0].message, /gVisor with Pod Security restricted/);
        assert.match(issues[0].fix, /build images on a gce pool with containers: true/);
    });

    it("refuses a non-boolean value naming the field", () => {
        const issues = issuesOf({ ...GCE, containers: "yes" });
        assert.deepStrictEqual(issues.map((i) => [i.path, i.value]), [["pools[0].containers", "yes"]]);
    });
});
