/**
 * Rootless Docker for the runner user of a GCE pool that sets `containers: true`: `docker build`,
 * `container:` jobs and `services:` containers run under the unprivileged runner user's own daemon
 * (Debian's docker.io with `dockerd-rootless.sh`, RootlessKit and slirp4netns), never under root.
 *
 * Why this keeps the bootstrap's guarantees:
 * - no root: the daemon and every container run in a user namespace of the runner user; "root" in a
 *   container is the runner's uid on the host. The rootful daemon the package ships is stopped and
 *   masked, and the runner is still refused if it is in the `docker` group;
 * - no metadata server: slirp4netns sends container traffic from the runner user's own process, so the
 *   bootstrap's owner-match rule (only uid 0 reaches 169.254.169.254) applies to containers too; the
 *   host loopback is not reachable from containers (RootlessKit's --disable-host-loopback). The
 *   bootstrap checks this from inside the engine's network namespace before registering;
 * - egress allow-list: container traffic leaves as the VM's own traffic, through the same VPC firewall
 *   and Cloud NAT; base images come only from allow-listed registries (or a pull-through mirror).
 *
 * The engine is pinned: each package's version and the SHA-256 of its .deb in the Debian archive
 * (bookworm, amd64). The script downloads exactly those versions, checks the checksums, and installs
 * them; apt checks every dependency against the archive's signed index. A pool image that already has
 * the pinned versions installed skips the download (and needs no archive on the allow-list).
 */

export interface PinnedPackage {
    name: string;
    version: string;
    /** SHA-256 of the .deb as published in the Debian archive's signed Packages index. */
    sha256: string;
}

/** The rootless engine and what it runs with; Debian 12 (bookworm) amd64. */
export const ROOTLESS_ENGINE_PACKAGES: readonly PinnedPackage[] = [
    { name: "docker.io", version: "20.10.24+dfsg1-1+deb12u1+b6", sha256: "daf8ff8f7aa53e8533d38e386fcc2a11e8f3891210776fb78a84b98feb4eea0e" },
    { name: "rootlesskit", version: "1.1.0-1+b4", sha256: "1d2990b887a97ede969bd63c5b99bfde17b20d238c2ec28f3cb5082a9dcbcb2c" },
    { name: "slirp4netns", version: "1.2.0-1", sha256: "8b198af7a718c78f3dda2dd37017a3505962338716da553469ec45516b7154d5" },
    { name: "uidmap", version: "1:4.13+dfsg1-1+deb12u2", sha256: "45c7dc6f2cc457bd37dff087ddf77b50e2c801d32ba65af574eb43834d33ac46" },
    // Exports a built image as the OCI layout the control plane publishes (docker 20.10 saves Docker archives).
    { name: "skopeo", version: "1.9.3+ds1-1+b10", sha256: "5c1978f6a95577b143be772bbe50c247a28132a5cc961c74d4d2a6f2b1ab4f3d" },
];

/** Where the runner's rootless daemon listens (`DOCKER_HOST` in the runner's `.env`), relative to its runtime dir. */
export const ROOTLESS_DOCKER_SOCKET = "docker.sock";

/**
 * The bash that installs and starts the engine; runs as root after the metadata block is in place and
 * before registration. Uses RUNNER_USER and log() from the bootstrap.
 */
export function rootlessEngineScript(metadataIp: string): string {
    const pins = ROOTLESS_ENGINE_PACKAGES.map((p) => `${p.name}=${p.version} ${p.sha256}`).join("\n");
    return `
# Rootless container engine for the runner user (containers: true; components/runnerPool/rootlessEngine.ts).
readonly ENGINE_DIR=/var/cache/build-fleet-engine
ENGINE_PINS=$(cat <<'PINS'
${pins}
PINS
)
need_install=0
while read -r pin sum; do
    pkg="\${pin%%=*}"; ver="\${pin#*=}"
    if [ "$(dpkg-query -W -f='\${Version}' "$pkg" 2>/dev/null || true)" != "$ver" ]; then need_install=1; fi
done <<< "$ENGINE_PINS"
if [ "$need_install" -eq 1 ]; then
    rm -rf "$ENGINE_DIR" && mkdir -m 700 "$ENGINE_DIR" && cd "$ENGINE_DIR"
    apt-get update -qq
    while read -r pin sum; do
        apt-get download -qq "$pin"
        deb=$(ls -1 "\${pin%%=*}"_*.deb)
        echo "$sum  $deb" | sha256sum --check --strict --quiet || { log "checksum mismatch for $deb: refusing to install the container engine"; exit 1; }
    done <<< "$ENGINE_PINS"
    # No service starts during the install: the rootful daemon must never run.
    printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ./*.deb
    rm -f /usr/sbin/policy-rc.d
    cd / && rm -rf "$ENGINE_DIR"
fi
systemctl disable --now docker.service docker.socket containerd.service 2>/dev/null || true
systemctl mask docker.service docker.socket containerd.service 2>/dev/null || true
rm -f /var/run/docker.sock /run/containerd/containerd.sock

# The runner's own user namespace: 65536 subordinate ids, and a runtime directory only it can use.
runner_uid=$(id -u "$RUNNER_USER")
grep -q "^$RUNNER_USER:" /etc/subuid || usermod --add-subuids 100000-165535 --add-subgids 100000-165535 "$RUNNER_USER"
readonly RUNNER_RUNTIME_DIR="/run/user/$runner_uid"
mkdir -p "$RUNNER_RUNTIME_DIR" && chown "$RUNNER_USER:" "$RUNNER_RUNTIME_DIR" && chmod 700 "$RUNNER_RUNTIME_DIR"
runuser -u "$RUNNER_USER" -- env -i HOME="$(getent passwd "$RUNNER_USER" | cut -d: -f6)" PATH=/usr/sbin:/usr/bin:/bin \\
    XDG_RUNTIME_DIR="$RUNNER_RUNTIME_DIR" DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns \\
    DOCKERD_ROOTLESS_ROOTLESSKIT_DISABLE_HOST_LOOPBACK=true \\
    setsid /usr/share/docker.io/contrib/dockerd-rootless.sh >/var/log/build-fleet-engine.log 2>&1 < /dev/null &
for _ in $(seq 60); do [ -S "$RUNNER_RUNTIME_DIR/${ROOTLESS_DOCKER_SOCKET}" ] && break; sleep 1; done
[ -S "$RUNNER_RUNTIME_DIR/${ROOTLESS_DOCKER_SOCKET}" ] || { log "the rootless engine did not start"; exit 1; }
# Container traffic leaves through the engine's network namespace: it must not reach the metadata server.
if runuser -u "$RUNNER_USER" -- nsenter -U --preserve-credentials -n -t "$(cat "$RUNNER_RUNTIME_DIR/docker.pid")" \\
    curl -s -m 3 -o /dev/null -H 'Metadata-Flavor: Google' 'http://${metadataIp}/computeMetadata/v1/' ; then
    log "containers can reach the metadata server; refusing to register"
    exit 1
fi
printf 'DOCKER_HOST=unix://%s/${ROOTLESS_DOCKER_SOCKET}\\nXDG_RUNTIME_DIR=%s\\n' "$RUNNER_RUNTIME_DIR" "$RUNNER_RUNTIME_DIR" >> "$RUNNER_DIR/.env"
`;
}
