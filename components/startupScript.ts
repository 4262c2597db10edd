/**
 * The GCE runner startup script, as a pure function (unit-tested in test/runnerPool.gce.test.ts).
 *
 * Just-in-time registration (I7): the script holds no token or secret. It asks the metadata server
 * for a Google-signed identity token of the VM's own service account (audience = the registration
 * broker, `format=full` so the token names the instance, zone and project), POSTs it to the broker,
 * and receives a one-time GitHub JIT runner config that registers an ephemeral runner for a single
 * job. The runner exits after that job; the script then powers the VM off and the managed instance
 * group recreates it from the template with a fresh boot disk (I1). A VM that boots on a disk that
 * already ran a job (e.g. after a host-error restart) refuses to run another and powers off.
 */

/** Inputs of the startup script. All values end up in instance metadata, so none may be secret. */
import { isGcpName } from "./config/names";

export interface StartupScriptOptions {
    /** Pool name, sent to the broker so it can check the token's service account belongs to this pool. */
    pool: string;
    /** https URL of the registration broker; also the identity-token audience. */
    registrationBrokerUrl: string;
    /** Path on the broker the token is POSTed to. Default "/v1/jit-config". */
    brokerPath?: string;
    /** Directory of the pre-installed GitHub Actions runner in the pool image. Default "/opt/actions-runner". */
    runnerDir?: string;
    /** Unprivileged local user the runner (and so the job) runs as. Default "runner". */
    runnerUser?: string;
    /** Seconds to wait before powering off after a failed registration, to slow retry loops. Default 30. */
    failureBackoffSeconds?: number;
}

export const DEFAULT_BROKER_PATH = "/v1/jit-config";
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
# hardened-build-fleet runner bootstrap (components/startupScript.ts).
# One job per VM (I1); no token or secret in metadata (I7): registration is just-in-time.
set -euo pipefail

readonly POOL=${shellQuote(opts.pool)}
readonly BROKER_AUDIENCE=${shellQuote(broker)}
readonly BROKER_ENDPOINT=${shellQuote(`${broker}${brokerPath}`)}
readonly RUNNER_DIR=${shellQuote(runnerDir)}
readonly RUNNER_USER=${shellQuote(runnerUser)}
readonly USED_MARKER=/var/lib/build-fleet/job-started

log() { logger -t build-fleet-runner -- "$*"; echo "build-fleet-runner: $*" >&2; }

finish() {
    local status=$?
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

# 1. Google-signed identity token of this VM's service account, bound to the broker audience.
TOKEN="$(curl -sS --fail --retry 5 --retry-connrefused -H 'Metadata-Flavor: Google' \\
    --get --data-urlencode "audience=$BROKER_AUDIENCE" --data-urlencode 'format=full' \\
    '${IDENTITY_ENDPOINT}')"

# 2. Exchange it for a one-time JIT runner config (valid for one registration of one ephemeral runner).
JIT_CONFIG="$(curl -sS --fail --retry 5 --retry-all-errors --max-time 60 -X POST \\
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
    --data "{\\"pool\\":\\"$POOL\\"}" "$BROKER_ENDPOINT")"
unset TOKEN
if [ -z "$JIT_CONFIG" ]; then
    log "registration broker returned an empty JIT config"
    exit 1
fi

# 3. Run exactly one job as the unprivileged runner user, then fall through to power-off.
touch "$USED_MARKER"
cd "$RUNNER_DIR"
log "starting ephemeral runner for pool $POOL"
runuser -u "$RUNNER_USER" -- ./run.sh --jitconfig "$JIT_CONFIG"
`;
}
