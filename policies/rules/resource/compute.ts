/**
 * Compute Engine VMs and instance templates (I1, I2, I3, I6, I7).
 *
 * Hardening rules (external IP, shielded, SSH, serial port, IP forwarding, default SA) apply to
 * every VM and template in the stack, whatever its role label. The runner-only rules (ephemeral
 * disks, bounded lifetime) apply to VMs labelled `build-fleet-role=runner` and to unlabelled ones
 * (fail closed); only an explicit `signer` / `control-plane` label exempts a VM from them.
 *
 * `InstanceFromTemplate` inherits every field it does not set from its source template (checked
 * on its own when it is in the stack), so for it only the fields it overrides are checked.
 */
import { ReportViolation } from "@pulumi/policy/policy";
import { FleetResourcePolicy } from "../../meta";
import { get, list, unknown } from "../../model/props";
import { boolish, DEFAULT_MAX_BUILD_SECONDS, forTypes, isExplicitlyNonRunner, mapAt, maxBuildDurationSchema, numberish, undecided } from "../../recognisers/common";
import { hasValue, isSecretName } from "../../recognisers/credentials";
import { credentialInText } from "../../recognisers/kubernetesCredentials";

export const INSTANCE = "gcp:compute/instance:Instance";
export const INSTANCE_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate";
export const REGION_INSTANCE_TEMPLATE = "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate";
export const INSTANCE_FROM_TEMPLATE = "gcp:compute/instanceFromTemplate:InstanceFromTemplate";
export const VM_TYPES: readonly string[] = [INSTANCE, INSTANCE_TEMPLATE, REGION_INSTANCE_TEMPLATE, INSTANCE_FROM_TEMPLATE];

/** Default Compute Engine service account: `<project-number>-compute@developer.gserviceaccount.com`. */
const DEFAULT_COMPUTE_SA = /-compute@developer\.gserviceaccount\.com$/i;

/** True when the field at `key` is to be checked: always, except absent fields of an InstanceFromTemplate (inherited). */
function checks(type: string, props: Record<string, any>, key: string): boolean {
    return type !== INSTANCE_FROM_TEMPLATE || get(props, key) !== undefined;
}

/** True when a service-account email is (or stands for) the default compute SA. */
export function isDefaultComputeSa(email: unknown): boolean {
    return typeof email === "string" && (email.trim() === "" || email.trim().toLowerCase() === "default" || DEFAULT_COMPUTE_SA.test(email.trim()));
}

export const runnerVmNoExternalIp: FleetResourcePolicy = {
    name: "runner-vm-no-external-ip",
    description: "[I3] Runner VMs have no external IP: no IPv4 accessConfigs or IPv6 ipv6AccessConfigs on any network interface.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "no `accessConfigs`/`ipv6AccessConfigs` on VM/template NICs",
        invariants: ["I3"],
        fix: "Remove `accessConfigs` and `ipv6AccessConfigs` from every network interface; runners reach the allow-listed egress through Cloud NAT.",
    },
    validateResource: forTypes(VM_TYPES, (props, args, report) => {
        if (!checks(args.type, props, "networkInterfaces")) {
            return;
        }
        const nics = list(props, "networkInterfaces");
        if (unknown(nics)) {
            undecided(report, "networkInterfaces is unknown, so an external IP cannot be ruled out.");
            return;
        }
        nics.forEach((_nic, i) => {
            for (const field of ["accessConfigs", "ipv6AccessConfigs"] as const) {
                const configs = list(nics, i, field);
                if (unknown(configs)) {
                    undecided(report, `networkInterfaces[${i}].${field} is unknown, so an external IP cannot be ruled out.`);
                } else if (configs.length > 0) {
                    const family = field === "accessConfigs" ? "IPv4" : "IPv6";
                    report(`networkInterfaces[${i}].${field} gives the VM an external ${family} address (open to remote influence); remove it and egress through Cloud NAT.`);
                }
            }
        });
    }),
};

export const runnerVmShielded: FleetResourcePolicy = {
    name: "runner-vm-shielded",
    description: "[I6] VMs run as Shielded VMs: secure boot, vTPM and integrity monitoring all on.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "secure boot, vTPM, integrity monitoring all on (missing block = off)",
        invariants: ["I6"],
        fix: "Set `shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true }` on a Shielded-VM-capable image.",
    },
    validateResource: forTypes(VM_TYPES, (props, args, report) => {
        if (!checks(args.type, props, "shieldedInstanceConfig")) {
            return;
        }
        const block = get(props, "shieldedInstanceConfig");
        if (unknown(block)) {
            undecided(report, "shieldedInstanceConfig is unknown.");
            return;
        }
        if (block === undefined || block === null) {
            // Provider default without the block: secure boot off.
            report("shieldedInstanceConfig is absent, so secure boot is off (provider default); set enableSecureBoot, enableVtpm and enableIntegrityMonitoring to true.");
            return;
        }
        const off: string[] = [];
        // Secure boot defaults to false; vTPM and integrity monitoring default to true.
        const fields: [string, boolean][] = [["enableSecureBoot", false], ["enableVtpm", true], ["enableIntegrityMonitoring", true]];
        for (const [field, dflt] of fields) {
            const v = boolish(get(block, field));
            if (v === "unknown") {
                undecided(report, `shieldedInstanceConfig.${field} is unknown.`);
            } else if ((v ?? dflt) !== true) {
                off.push(v === undefined ? `${field} (defaults to false)` : field);
            }
        }
        if (off.length > 0) {
            report(`Shielded VM is incomplete: ${off.join(", ")} not true.`);
        }
    }),
};

export const runnerVmEphemeralDisks: FleetResourcePolicy = {
    name: "runner-vm-ephemeral-disks",
    description: "[I1] Runner VMs have exactly one boot disk, created fresh and auto-deleted, and no extra, attached or scratch disks.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "runner has exactly one fresh boot disk, auto-deleted; no attached, scratch or existing-source disks",
        invariants: ["I1"],
        fix: "Give the runner exactly one boot disk created from an image with `autoDelete: true` (the default), and no other disks, so nothing persists between builds.",
    },
    validateResource: forTypes(VM_TYPES, (props, args, report) => {
        if (isExplicitlyNonRunner(args.type, props)) {
            return;
        }
        if (args.type === INSTANCE || args.type === INSTANCE_FROM_TEMPLATE) {
            checkInstanceDisks(props, args.type === INSTANCE_FROM_TEMPLATE, report);
        } else {
            checkTemplateDisks(props, report);
        }
    }),
};

function checkTemplateDisks(props: Record<string, any>, report: ReportViolation): void {
    const disks = list(props, "disks");
    if (unknown(disks)) {
        undecided(report, "disks is unknown, so extra or persistent disks cannot be ruled out.");
        return;
    }
    if (disks.length !== 1) {
        report(`the template has ${disks.length} disks; a runner has exactly one (the auto-deleted boot disk) so nothing persists between builds.`);
    }
    disks.forEach((_d, i) => {
        const boot = boolish(get(disks, i, "boot"));
        const autoDelete = boolish(get(disks, i, "autoDelete"));
        const source = get(disks, i, "source");
        if (disks.length === 1 && boot === false) {
            report(`disks[0].boot is false; the only disk must be the boot disk.`);
        }
        if (autoDelete === false) {
            report(`disks[${i}].autoDelete is false, so the disk outlives the VM (persistence between builds).`);
        } else if (autoDelete === "unknown") {
            undecided(report, `disks[${i}].autoDelete is unknown.`);
        }
        if (source !== undefined && source !== null && source !== "") {
            report(`disks[${i}].source attaches an existing disk; runner disks must be created fresh from an image.`);
        }
    });
}

function checkInstanceDisks(props: Record<string, any>, overridesOnly: boolean, report: ReportViolation): void {
    const boot = get(props, "bootDisk");
    if (unknown(boot)) {
        undecided(report, "bootDisk is unknown.");
    } else if (boot !== undefined || !overridesOnly) {
        const autoDelete = boolish(get(boot, "autoDelete"));
        if (autoDelete === false) {
            report("bootDisk.autoDelete is false, so the boot disk outlives the VM (persistence between builds).");
        } else if (autoDelete === "unknown") {
            undecided(report, "bootDisk.autoDelete is unknown.");
        }
        const source = get(boot, "source");
        if (typeof source === "string" && source !== "") {
            report("bootDisk.source attaches an existing disk; a runner boot disk must be created fresh from an image (initializeParams).");
        }
    }
    for (const field of ["attachedDisks", "scratchDisks"]) {
        const disks = list(props, field);
        if (unknown(disks)) {
            undecided(report, `${field} is unknown, so extra disks cannot be ruled out.`);
        } else if (disks.length > 0) {
            report(`${field} has ${disks.length} disk(s); a runner has only its auto-deleted boot disk.`);
        }
    }
}

export const runnerVmBoundedLifetime: FleetResourcePolicy = {
    name: "runner-vm-bounded-lifetime",
    description: "[I2] Runner VMs have scheduling.maxRunDuration within the configured bound and instanceTerminationAction DELETE.",
    enforcementLevel: "mandatory",
    configSchema: maxBuildDurationSchema("scheduling.maxRunDuration.seconds of runner VMs"),
    meta: {
        checks: "`maxRunDuration` > 0 and ≤ `maxBuildDurationSeconds` (pack config, default 86400); termination action `DELETE`",
        invariants: ["I2"],
        fix: "Set `scheduling: { maxRunDuration: { seconds: <= maxBuildDurationSeconds }, instanceTerminationAction: \"DELETE\" }` so a runner is deleted when its time is up.",
    },
    validateResource: forTypes(VM_TYPES, (props, args, report) => {
        if (isExplicitlyNonRunner(args.type, props) || !checks(args.type, props, "scheduling")) {
            return;
        }
        const bound = args.getConfig<{ maxBuildDurationSeconds?: number }>().maxBuildDurationSeconds ?? DEFAULT_MAX_BUILD_SECONDS;
        const scheduling = get(props, "scheduling");
        if (unknown(scheduling)) {
            undecided(report, "scheduling is unknown, so the VM lifetime bound cannot be checked.");
            return;
        }
        const maxRun = get(scheduling, "maxRunDuration");
        const seconds = numberish(get(maxRun, "seconds"));
        if (unknown(maxRun) || seconds === "unknown") {
            undecided(report, "scheduling.maxRunDuration is unknown.");
        } else if (maxRun === undefined || maxRun === null || seconds === undefined || seconds <= 0) {
            report(`scheduling.maxRunDuration is not set; a runner VM must be limited to at most ${bound} seconds.`);
        } else if (seconds > bound) {
            report(`scheduling.maxRunDuration is ${seconds} seconds, above the configured bound of ${bound} seconds (maxBuildDurationSeconds).`);
        }
        const action = get(scheduling, "instanceTerminationAction");
        if (unknown(action)) {
            undecided(report, "scheduling.instanceTerminationAction is unknown.");
        } else if (typeof action !== "string" || action.toUpperCase() !== "DELETE") {
            report(`scheduling.instanceTerminationAction is ${action === undefined ? "not set" : JSON.stringify(action)}; it must be "DELETE" so the VM and its disk are deleted at the end of its lifetime.`);
        }
    }),
};

/** True for the literal values GCE accepts as "true" in `block-project-ssh-keys`. */
function isTrueLiteral(v: unknown): boolean {
    return v === true || (typeof v === "string" && v.trim().toLowerCase() === "true");
}

export const runnerVmNoSsh: FleetResourcePolicy = {
    name: "runner-vm-no-ssh",
    description: "[I3] VMs block project-wide SSH keys and carry no ssh-keys/sshKeys metadata.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "`block-project-ssh-keys` true; no `ssh-keys`/`sshKeys`",
        invariants: ["I3"],
        fix: "Set metadata `block-project-ssh-keys: \"TRUE\"` and remove any `ssh-keys` / `sshKeys` metadata.",
    },
    validateResource: forTypes(VM_TYPES, (props, args, report) => {
        if (!checks(args.type, props, "metadata")) {
            return;
        }
        const metadata = mapAt(props, "metadata");
        if (metadata === "unknown") {
            undecided(report, "metadata is unknown, so SSH access cannot be ruled out.");
            return;
        }
        const md = metadata ?? {};
        for (const key of ["ssh-keys", "sshKeys"]) {
            if (key in md && md[key] !== undefined && md[key] !== null) {
                report(`metadata["${key}"] installs SSH keys on the VM (an open service for remote influence); remove it.`);
            }
        }
        const block = md["block-project-ssh-keys"];
        if (unknown(block)) {
            undecided(report, "metadata[\"block-project-ssh-keys\"] is unknown.");
        } else if (!isTrueLiteral(block)) {
            report(`metadata["block-project-ssh-keys"] is ${block === undefined ? "not set" : JSON.stringify(block)}; set it to "TRUE" so project-wide SSH keys cannot log in.`);
        }
    }),
};

export const runnerVmSerialPortOff: FleetResourcePolicy = {
    name: "runner-vm-serial-port-off",
    description: "[I3] VMs keep the interactive serial console off (metadata serial-port-enable absent or false).",
    enforcementLevel: "mandatory",
    meta: {
        checks: "`serial-port-enable` absent or false",
        invariants: ["I3"],
        fix: "Remove metadata `serial-port-enable` or set it to \"FALSE\".",
    },
    validateResource: forTypes(VM_TYPES, (props, args, report) => {
        if (!checks(args.type, props, "metadata")) {
            return;
        }
        const metadata = mapAt(props, "metadata");
        if (metadata === "unknown") {
            undecided(report, "metadata is unknown, so the serial console setting cannot be checked.");
            return;
        }
        const v = boolish(metadata?.["serial-port-enable"]);
        if (v === "unknown") {
            undecided(report, "metadata[\"serial-port-enable\"] is unknown.");
        } else if (v === true) {
            report(`metadata["serial-port-enable"] is ${JSON.stringify(metadata?.["serial-port-enable"])}: the interactive serial console is on; remove it or set "FALSE".`);
        }
    }),
};

export const runnerVmNotDefaultSa: FleetResourcePolicy = {
    name: "runner-vm-not-default-sa",
    description: "[I7] VMs do not run as the default Compute Engine service account.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "SA email not `default`/`*-compute@developer.gserviceaccount.com`",
        invariants: ["I7"],
        fix: "Set `serviceAccount.email` to the pool's dedicated, least-privilege service account (never `default` or `<number>-compute@developer.gserviceaccount.com`).",
    },
    validateResource: forTypes(VM_TYPES, (props, _args, report) => {
        // Without a serviceAccount block the provider attaches no service account at all (no
        // credentials on the VM), which satisfies I7; the block without `email` means the default SA.
        const sa = get(props, "serviceAccount");
        if (unknown(sa)) {
            undecided(report, "serviceAccount is unknown.");
            return;
        }
        if (sa === undefined || sa === null) {
            return;
        }
        const email = get(sa, "email");
        if (unknown(email)) {
            // A computed email comes from a service account resource, never the literal default.
            return;
        }
        if (email === undefined || email === null || isDefaultComputeSa(email)) {
            report(`serviceAccount.email is ${email === undefined || email === null ? "not set (the provider then uses the default compute service account)" : JSON.stringify(email)}; a VM must run as its own least-privilege service account.`);
        }
    }),
};

export const runnerVmNoIpForwarding: FleetResourcePolicy = {
    name: "runner-vm-no-ip-forwarding",
    description: "[I3] VMs do not forward IP packets (canIpForward not true).",
    enforcementLevel: "mandatory",
    meta: {
        checks: "`canIpForward` not true",
        invariants: ["I3"],
        fix: "Remove `canIpForward` or set it to false.",
    },
    validateResource: forTypes(VM_TYPES, (props, _args, report) => {
        const v = boolish(get(props, "canIpForward"));
        if (v === "unknown") {
            undecided(report, "canIpForward is unknown.");
        } else if (v === true) {
            report("canIpForward is true: the VM can route traffic for other hosts; set it to false.");
        }
    }),
};

export const runnerVmNoSecretsInMetadata: FleetResourcePolicy = {
    name: "runner-vm-no-secrets-in-metadata",
    description:
        "[I7] VM metadata (including the startup script) holds no credentials: no key named like a token, secret, password, " +
        "credential, private key, API key or JIT config, no value shaped like a GitHub, Google, AWS or Slack token or a PEM private key, " +
        "and no credential file a script writes (.npmrc token, Docker auths, git credential URL, .pypirc password).",
    enforcementLevel: "mandatory",
    meta: {
        checks: "every VM/template: no metadata key named like a token, secret, password, credential, private key, API key or JIT config; no metadata value or startup script (`metadataStartupScript` too) holding a GitHub token (`ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/`github_pat_`), PEM private key, Google API key (`AIza`), AWS key id (`AKIA`) or Slack token (`xox[abp]-`), or a credential file a script writes (a literal `.npmrc` `_authToken`, Docker `auths`, a git credential URL, a `.pypirc` password). CrossGuard unwraps Pulumi secrets before policies see them, so secret-ness is invisible: the key name and the value's shape decide",
        invariants: ["I7"],
        fix:
            "Remove the credential from metadata and the startup script: every process on the VM (the build included) and anyone who can " +
            "read the instance can read it. Register runners just in time (the VM's identity token buys a one-time JIT config) and " +
            "fetch what a job needs through the control plane.",
    },
    // CrossGuard unwraps Pulumi secrets before policies see them, so a value marked secret looks like any
    // other string: the rule decides from the key name and the value's shape, never from secret-ness.
    // Every VM and template is checked, whatever its role: metadata is readable by all code on the VM.
    validateResource: forTypes(VM_TYPES, (props, args, report) => {
        if (checks(args.type, props, "metadata")) {
            const metadata = mapAt(props, "metadata");
            if (metadata === "unknown") {
                undecided(report, "metadata is unknown, so credentials in it cannot be ruled out.");
            } else {
                for (const [key, value] of Object.entries(metadata ?? {})) {
                    checkMetadataValue(`metadata["${key}"]`, key, value, report);
                }
            }
        }
        if (checks(args.type, props, "metadataStartupScript")) {
            checkMetadataValue("metadataStartupScript", undefined, get(props, "metadataStartupScript"), report);
        }
    }),
};

/** Reports a metadata entry stored under a credential-like key or holding a credential-shaped value. */
function checkMetadataValue(where: string, key: string | undefined, value: unknown, report: ReportViolation): void {
    if (isSecretName(key) && (unknown(value) || hasValue(value))) {
        report(`${where}: the key names a credential; metadata is readable by every process on the VM (the build included), so no secret may be stored there.`);
        return;
    }
    if (unknown(value)) {
        undecided(report, `${where} is unknown, so a credential in it cannot be ruled out.`);
        return;
    }
    // Token shapes, and credential files a script writes (.npmrc tokens, Docker auths, git credential URLs).
    const kind = credentialInText(value);
    if (kind !== undefined) {
        report(`${where} contains ${kind}; metadata is readable by every process on the VM (the build included), so no secret may be stored there.`);
    }
}

export const computePolicies: FleetResourcePolicy[] = [
    runnerVmNoExternalIp,
    runnerVmShielded,
    runnerVmEphemeralDisks,
    runnerVmBoundedLifetime,
    runnerVmNoSsh,
    runnerVmSerialPortOff,
    runnerVmNotDefaultSa,
    runnerVmNoIpForwarding,
    runnerVmNoSecretsInMetadata,
];
