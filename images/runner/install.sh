#!/bin/bash
# Provisions the gce runner image (run as root by Packer: runner.pkr.hcl). What the image must hold and
# why: docs/runner-image.md. The runner download is refused unless its sha256 is RUNNER_SHA256.
# INSTALL_ROOT (default empty) prefixes every path written, for tests.
set -euo pipefail

: "${RUNNER_VERSION:?RUNNER_VERSION is required, e.g. 2.330.0}"
: "${RUNNER_SHA256:?RUNNER_SHA256 is required: the sha256 of actions-runner-linux-x64-<version>.tar.gz}"
readonly ROOT="${INSTALL_ROOT:-}"
# Where the startup script expects them (components/runnerPool/startupScript.ts).
readonly RUNNER_DIR=/opt/actions-runner
readonly RUNNER_USER=runner

if ! [[ "$RUNNER_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "RUNNER_VERSION '$RUNNER_VERSION' is not a release version such as 2.330.0" >&2
    exit 1
fi
if ! [[ "$RUNNER_SHA256" =~ ^[0-9a-f]{64}$ ]]; then
    echo "RUNNER_SHA256 '$RUNNER_SHA256' is not 64 lower-case hex characters" >&2
    exit 1
fi

# 1. The runner release, verified before anything is unpacked.
tarball="actions-runner-linux-x64-${RUNNER_VERSION}.tar.gz"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
curl -fsSL --retry 5 -o "$work/$tarball" "https://github.com/actions/runner/releases/download/v${RUNNER_VERSION}/${tarball}"
if ! (cd "$work" && echo "${RUNNER_SHA256}  ${tarball}" | sha256sum -c --quiet -); then
    echo "the downloaded ${tarball} does not have sha256 ${RUNNER_SHA256}: refusing to install it" >&2
    exit 1
fi

# 2. Tools: the startup script's (curl, python3, iptables/ip6tables, runuser and logger from util-linux and
#    bsdutils) and the jobs' (git, jq for the upload step). No Docker, no container runtime.
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends ca-certificates curl git jq python3 iptables util-linux bsdutils

# 3. The unprivileged runner user: in no privileged group, no sudo rule (the startup script refuses otherwise).
if ! id -u "$RUNNER_USER" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash --user-group "$RUNNER_USER"
fi
for group in sudo wheel docker adm root lxd libvirt; do
    gpasswd -d "$RUNNER_USER" "$group" >/dev/null 2>&1 || true
done

# 4. Unpack, install the runner's own dependencies, hand the directory to the runner user. Never configured:
#    the startup script writes .runner/.credentials from the one-time JIT config at boot.
mkdir -p "$ROOT$RUNNER_DIR"
tar -xzf "$work/$tarball" -C "$ROOT$RUNNER_DIR"
"$ROOT$RUNNER_DIR/bin/installdependencies.sh"
rm -f "$ROOT$RUNNER_DIR/.runner" "$ROOT$RUNNER_DIR/.credentials" "$ROOT$RUNNER_DIR/.credentials_rsaparams"
chown -R "$RUNNER_USER:$RUNNER_USER" "$ROOT$RUNNER_DIR"
echo "$RUNNER_VERSION" > "$ROOT$RUNNER_DIR/.hardened-build-fleet-runner-version"

# 5. Nothing of the build left behind: package lists, the build user's authorized keys.
apt-get clean
rm -rf "$ROOT/var/lib/apt/lists/"*
rm -f "$ROOT"/home/*/.ssh/authorized_keys
echo "installed actions/runner ${RUNNER_VERSION} (sha256 ${RUNNER_SHA256}) in ${RUNNER_DIR} for ${RUNNER_USER}"
