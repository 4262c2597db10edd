/**
 * The GCE runner startup script, as a pure function (unit-tested in test/components/runnerPool/gce.test.ts).
 *
 * Just-in-time registration (I7): the script holds no token or secret. As root it asks the metadata
 * server for a Google-signed identity token of the VM's own service account (audience = the
 * registration broker, `format=full` so the token names the instance, zone and project), POSTs it to
 * the broker, and receives a one-time GitHub JIT runner config plus the job's upload credential.
 *
 * The job must not be able to act as the VM (it could otherwise mint more broker tokens, i.e. more
 * JIT configs for runners outside the fleet):
 * - before anything is fetched, an owner-matched firewall rule lets only root reach the metadata
 *   server (169.254.169.254, `metadata.google.internal`); forwarded (container) traffic to it is
 *   dropped too. The runner user must not be able to become root: the script refuses to start when it
 *   is in sudo/wheel/docker/adm groups or holds any sudo rule;
 * - the JIT config never appears on a command line (`/proc/<pid>/cmdline`) or in the job's
 *   environment: the script unpacks it itself into the runner's own config files, exactly as
 *   `run.sh --jitconfig` would (the JIT config is a base64 JSON map of `.runner`, `.credentials` and
 *   `.credentials_rsaparams` contents, written to the runner root; actions/runner `Runner.cs`), then
 *   starts `run.sh` without arguments and with a scrubbed environment. The bearer token goes to curl
 *   through a header file, not argv;
 * - everything the bootstrap fetched lives in a root-only tmpfs directory that is deleted before the
 *   job starts. The upload credential is the only thing handed to the job (a runner-readable file whose
 *   path is in the runner's `.env`).
 * The runner exits after one job; the script then powers the VM off and the managed instance group
 * recreates it from the template with a fresh boot disk (I1). A VM that boots on a disk that already
 * ran a job (e.g. after a host-error restart) refuses to run another and powers off.
 */

/** Inputs of the startup script. All values end up in instance metadata, so none may be secret. */
import { isGcpName } from "../config/names";
import { rootlessEngineScript } from "./rootlessEngine";

export interface StartupScriptOptions {
    /** Pool name, sent to the broker so it can check the token's service account belongs to this pool. */
    pool: string;
    /** https URL of the registration broker; also the identity-token audience. */
    registrationBrokerUrl: string;
    /** Path on the broker the token is POSTed to. Default "/v1/jit-config" (the broker's registration endpoint). */
    brokerPath?: string;
    /** Directory of the pre-installed GitHub Actions runner in the pool image. Default "/opt/actions-runner". */
    runnerDir?: string;
    /** Unprivileged local user the runner (and so the job) runs as. Default "runner". */
    runnerUser?: string;
    /** Seconds to wait before powering off after a failed registration, to slow retry loops. Default 30. */
    failureBackoffSeconds?: number;
    /** Rootless Docker for the runner user (rootlessEngine.ts). Default false: no container engine. */
    containers?: boolean;
}

export const DEFAULT_BROKER_PATH = "/v1/jit-config";
/** Fields of the broker's JSON answer the script reads: the GitHub `encoded_jit_config` and the job's upload credential. */
export const BROKER_RESPONSE_FIELDS = { jitConfig: "jitConfig", upload: "upload" } as const;
/** Metadata server address (`metadata.google.internal`): only root may reach it once the bootstrap has run. */
export const METADATA_SERVER_IP = "169.254.169.254";
/** The metadata server's IPv6 address on IPv6-enabled VMs. */
export const METADATA_SERVER_IPV6 = "fd20:ce::254";
/** Where the job finds its upload credential (named in the runner's `.env`). */
export const UPLOAD_CREDENTIAL_PATH = "/run/build-fleet-job/upload.json";
/** Environment variable (set through the runner's `.env`) naming the upload credential file. */
export const UPLOAD_CREDENTIAL_ENV = "BUILD_FLEET_UPLOAD_CREDENTIALS";
export const DEFAULT_RUNNER_DIR = "/opt/actions-runner";
export const DEFAULT_RUNNER_USER = "runner";

/** Metadata-server endpoint for the VM's identity token (the default service account is the pool SA). */
export const IDENTITY_ENDPOINT =
    "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/identity";

const SAFE_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const SAFE_PATH = /^\/[A-Za-z0-9._/-]*$/;

/** Single-quotes a value for bash; the validators below already exclude quotes, this is defence in depth. */
function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'"'"'`)}'`;
}

/** Problems with the options, one message per problem (empty when valid). */
export function startupScriptProblems(opts: StartupScriptOptions): string[] {
    const problems: string[] = [];
    let url: URL | undefined;
    try {
        url = new URL(opts.registrationBrokerUrl);
    } catch {
        problems.push(`registrationBrokerUrl ${JSON.stringify(opts.registrationBrokerUrl)} is not a URL; use the https URL of the registration broker`);
    }
    if (url !== undefined) {
        if (url.protocol !== "https:") {
            problems.push(`registrationBrokerUrl ${JSON.stringify(opts.registrationBrokerUrl)} must use https; the identity token must not cross the network in clear text`);
        }
        if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
            problems.push(`registrationBrokerUrl ${JSON.stringify(opts.registrationBrokerUrl)} must not carry credentials, a query or a fragment (it lands in instance metadata, I7); use a plain https origin and path`);
        }
    }
    if (!isGcpName(opts.pool)) {
        problems.push(`pool ${JSON.stringify(opts.pool)} is not a valid pool name; use lower-case letters, digits and hyphens`);
    }
    const runnerDir = opts.runnerDir ?? DEFAULT_RUNNER_DIR;
    if (!SAFE_PATH.test(runnerDir) || runnerDir.includes("..")) {
        problems.push(`runnerDir ${JSON.stringify(runnerDir)} must be an absolute path of letters, digits, '.', '_', '-' and '/'`);
    }
    const brokerPath = opts.brokerPath ?? DEFAULT_BROKER_PATH;
    if (!SAFE_PATH.test(brokerPath) || brokerPath.includes("..")) {
        problems.push(`brokerPath ${JSON.stringify(brokerPath)} must be an absolute URL path of letters, digits, '.', '_', '-' and '/'`);
    }
    const runnerUser = opts.runnerUser ?? DEFAULT_RUNNER_USER;
    if (!SAFE_USER.test(runnerUser) || runnerUser === "root") {
        problems.push(`runnerUser ${JSON.stringify(runnerUser)} must be an unprivileged POSIX user name (not root)`);
    }
    const backoff = opts.failureBackoffSeconds ?? 30;
    if (!Number.isInteger(backoff) || backoff < 0 || backoff > 3600) {
        problems.push(`failureBackoffSeconds ${backoff} must be an integer between 0 and 3600`);
    }
    return problems;
}

/** The iptables rules that keep every non-root process, and forwarded container traffic, off the metadata server. */
export function metadataBlockRules(): string[] {
    return [
        `iptables -w -I OUTPUT 1 -d ${METADATA_SERVER_IP}/32 -m owner ! --uid-owner 0 -j REJECT --reject-with icmp-port-unreachable`,
        `iptables -w -I FORWARD 1 -d ${METADATA_SERVER_IP}/32 -j DROP`,
        `ip6tables -w -I OUTPUT 1 -d ${METADATA_SERVER_IPV6}/128 -m owner ! --uid-owner 0 -j REJECT`,
        `ip6tables -w -I FORWARD 1 -d ${METADATA_SERVER_IPV6}/128 -j DROP`,
    ];
}

/** Renders the bash startup script. Throws listing every problem when the options are invalid. */
export function renderStartupScript(opts: StartupScriptOptions): string {
    const problems = startupScriptProblems(opts);
    if (problems.length > 0) {
        throw new Error(`Invalid runner startup script options:\n- ${problems.join("\n- ")}`);
    }
    const broker = opts.registrationBrokerUrl.replace(/\/+$/, "");
    const brokerPath = opts.brokerPath ?? DEFAULT_BROKER_PATH;
    const runnerDir = opts.runnerDir ?? DEFAULT_RUNNER_DIR;
    const runnerUser = opts.runnerUser ?? DEFAULT_RUNNER_USER;
    const backoff = opts.failureBackoffSeconds ?? 30;

    return `#!/bin/bash
# hardened-build-fleet runner bootstrap (components/runnerPool/startupScript.ts).
# One job per VM (I1); no token or secret in metadata (I7): registration is just-in-time, and the
# job cannot act as the VM afterwards (no metadata server, no JIT config in argv or env).
set -euo pipefail
umask 077

readonly POOL=${shellQuote(opts.pool)}
readonly BROKER_AUDIENCE=${shellQuote(broker)}
readonly BROKER_ENDPOINT=${shellQuote(`${broker}${brokerPath}`)}
readonly RUNNER_DIR=${shellQuote(runnerDir)}
readonly RUNNER_USER=${shellQuote(runnerUser)}
readonly USED_MARKER=/var/lib/build-fleet/job-started
readonly BOOT_DIR=/run/build-fleet-bootstrap
readonly JOB_DIR=${shellQuote(UPLOAD_CREDENTIAL_PATH.replace(/\/[^/]+$/, ""))}

log() { logger -t build-fleet-runner -- "$*"; echo "build-fleet-runner: $*" >&2; }

finish() {
    local status=$?
    rm -rf "$BOOT_DIR"
    if [ "$status" -ne 0 ]; then
        log "bootstrap or job failed (exit $status); backing off ${backoff}s before power-off"
        sleep ${backoff}
    fi
    log "powering off; the managed instance group recreates this VM from the template with a fresh disk"
    sync
    systemctl poweroff --no-block || poweroff
}
trap finish EXIT

# I3: nothing listens for remote logins on a runner, even if the image ships an SSH server.
systemctl disable --now ssh.service sshd.service 2>/dev/null || true

# I1: a disk that already started a job never starts another (e.g. after a host-error restart).
if [ -e "$USED_MARKER" ]; then
    log "this disk already ran a job; refusing to reuse it"
    exit 1
fi
mkdir -p "$(dirname "$USED_MARKER")"

# The job runs as RUNNER_USER; it must not be able to become root (root can reach the metadata server).
if [ "$(id -u "$RUNNER_USER")" -eq 0 ] || id -nG "$RUNNER_USER" | tr ' ' '\\n' | grep -qxE 'sudo|wheel|docker|adm|root|lxd|libvirt'; then
    log "runner user $RUNNER_USER is root or in a privileged group; fix the pool image"
    exit 1
fi
if sudo -n -l -U "$RUNNER_USER" 2>/dev/null | grep -q 'may run'; then
    log "runner user $RUNNER_USER holds sudo rules; fix the pool image"
    exit 1
fi

# Only root may reach the metadata server from now on (owner match), and no container either.
${metadataBlockRules().join("\n")}
if runuser -u "$RUNNER_USER" -- curl -s -m 3 -o /dev/null -H 'Metadata-Flavor: Google' 'http://${METADATA_SERVER_IP}/computeMetadata/v1/' ; then
    log "the runner user can still reach the metadata server; refusing to register"
    exit 1
fi
${opts.containers === true ? rootlessEngineScript(METADATA_SERVER_IP) : ""}
# Root-only scratch space on tmpfs; deleted before the job starts.
rm -rf "$BOOT_DIR" && mkdir -m 700 "$BOOT_DIR"

# 1. Google-signed identity token of this VM's service account, bound to the broker audience.
curl -sS --fail --retry 5 --retry-connrefused -H 'Metadata-Flavor: Google' \\
    --get --data-urlencode "audience=$BROKER_AUDIENCE" --data-urlencode 'format=full' \\
    -o "$BOOT_DIR/token" '${IDENTITY_ENDPOINT}'
# The bearer token reaches curl through a header file, never through argv.
{ printf 'Authorization: Bearer '; cat "$BOOT_DIR/token"; printf '\\n'; } > "$BOOT_DIR/auth-header"

# 2. Exchange it for a one-time JIT runner config and the job's upload credential.
curl -sS --fail --retry 5 --retry-all-errors --max-time 60 -X POST \\
    -H @"$BOOT_DIR/auth-header" -H 'Content-Type: application/json' \\
    --data "{\\"pool\\":\\"$POOL\\"}" -o "$BOOT_DIR/registration.json" "$BROKER_ENDPOINT"
rm -f "$BOOT_DIR/token" "$BOOT_DIR/auth-header"

# 3. Unpack the JIT config into the runner's own config files (what run.sh --jitconfig would do), so it
#    never appears on a command line or in the job's environment; hand over only the upload credential.
rm -rf "$JOB_DIR" && mkdir -m 755 "$JOB_DIR"
python3 - "$BOOT_DIR/registration.json" "$RUNNER_DIR" "$RUNNER_USER" "$JOB_DIR" <<'PY'
import base64, json, os, pwd, re, sys
registration_path, runner_dir, runner_user, job_dir = sys.argv[1:5]
with open(registration_path) as f:
    registration = json.load(f)
encoded = registration.get("${BROKER_RESPONSE_FIELDS.jitConfig}")
upload = registration.get("${BROKER_RESPONSE_FIELDS.upload}")
if not isinstance(encoded, str) or not encoded or not isinstance(upload, dict):
    sys.exit("registration answer lacks ${BROKER_RESPONSE_FIELDS.jitConfig} or ${BROKER_RESPONSE_FIELDS.upload}")
files = json.loads(base64.b64decode(encoded))
user = pwd.getpwnam(runner_user)
for name, content in files.items():
    # Only the runner's own dot-files, never a path elsewhere.
    if not re.fullmatch(r"\\.[A-Za-z0-9_]+", name):
        sys.exit("unexpected JIT config entry")
    target = os.path.join(runner_dir, name)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(base64.b64decode(content))
    os.chown(target, user.pw_uid, user.pw_gid)
credential = os.path.join(job_dir, "${UPLOAD_CREDENTIAL_PATH.split("/").pop()}")
fd = os.open(credential, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o400)
with os.fdopen(fd, "w") as out:
    json.dump(upload, out)
os.chown(credential, user.pw_uid, user.pw_gid)
with open(os.path.join(runner_dir, ".env"), "a") as env:
    env.write("${UPLOAD_CREDENTIAL_ENV}=" + credential + "\\n")
PY
rm -rf "$BOOT_DIR"

# 4. Run exactly one job as the unprivileged runner user, with a scrubbed environment and no arguments.
touch "$USED_MARKER"
cd "$RUNNER_DIR"
log "starting ephemeral runner for pool $POOL"
runuser -u "$RUNNER_USER" -- env -i HOME="$(getent passwd "$RUNNER_USER" | cut -d: -f6)" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 ./run.sh
`;
}
