/**
 * runner-metadata-overrides (I3, I5, I7): metadata reaches runner VMs from outside their template too:
 * project-wide metadata (ProjectMetadata, ProjectMetadataItem) of a project with runner VMs, and a
 * runner MIG's all-instances config. None of these may add SSH keys, turn the serial port on or
 * project SSH keys back on, add startup/shutdown scripts a runner does not override, carry
 * credential-named keys, or relabel runner VMs.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { ROLE_LABEL } from "../../model/labels";
import { get, unknown } from "../../model/props";
import { FleetStackPolicy } from "../../meta";
import { FleetGraph, resolveRef, str, T, UNDECIDED } from "../../model";
import { Report, stackRule } from "../../framework/stackRule";

const SCRIPT = /^(startup-script|shutdown-script|windows-startup-script|windows-shutdown-script|sysprep-specialize-script)/i;
const SECRET = /token|secret|password|passwd|credential|private[-_]?key|api[-_]?key|jit[-_]?config/i;

/** Why a metadata entry must not reach runners, or undefined when it may. */
function badEntry(key: string, value: unknown, runnerMeta: Record<string, unknown>[]): string | undefined {
    const k = key.toLowerCase();
    const v = typeof value === "string" ? value.trim().toLowerCase() : value;
    if (k === "ssh-keys" || k === "sshkeys") {
        return "adds SSH keys (I3)";
    }
    if (k === "serial-port-enable" && (v === true || v === "true" || v === "1")) {
        return "turns the serial port on (I3)";
    }
    if (k === "block-project-ssh-keys" && (v === false || v === "false" || v === "0")) {
        return "turns project-wide SSH keys back on (I3)";
    }
    if (SCRIPT.test(k) && runnerMeta.some((m) => !Object.keys(m).some((x) => x.toLowerCase() === k))) {
        return "runs a script on runner VMs whose template does not override it";
    }
    if (SECRET.test(k)) {
        return "puts a credential-named value where every build can read it (I7)";
    }
    return undefined;
}

export const runnerMetadataOverrides: FleetStackPolicy = stackRule({
    name: "runner-metadata-overrides",
    description:
        "[I3, I5, I7] Project-wide metadata of a runner project and a runner MIG's all-instances config add no SSH keys, serial port, scripts, " +
        "credential-named keys or role labels to runner VMs.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "project-wide metadata (`ProjectMetadata`, `ProjectMetadataItem`) of a project with runner VMs and a runner MIG's `allInstancesConfig` add no `ssh-keys`, serial port, `block-project-ssh-keys: false`, startup/shutdown scripts a runner template does not override, credential-named keys, or a non-runner role label",
        invariants: ["I3", "I5", "I7"],
        fix: "Remove the entry: runner VMs take their metadata from their hardened template only.",
    },
    check: (g, report) => {
        const runnerVms = g.compute.filter((n) => n.isRunner && (n.kind === "instance" || n.kind === "template"));
        if (runnerVms.length === 0) {
            return;
        }
        const runnerMeta = runnerVms.map((n) => {
            const m = get(n.res.props, "metadata");
            const out: Record<string, unknown> = m && typeof m === "object" ? { ...m } : {};
            if (get(n.res.props, "metadataStartupScript") !== undefined) {
                out["startup-script"] = true;
            }
            return out;
        });
        const projects = new Set(runnerVms.map((n) => g.projectOf(n.res)).filter((p): p is string => typeof p === "string"));
        const judge = (r: PolicyResource, entries: [string, unknown][], where: string) => {
            for (const [k, v] of entries) {
                const why = badEntry(k, v, runnerMeta);
                if (why) {
                    report(`${where} ${r.name} sets metadata ${k}: it ${why}`, r.urn);
                }
            }
        };
        const inRunnerProject = (r: PolicyResource, what: string): boolean => {
            const p = g.projectOf(r);
            if (typeof p !== "string") {
                report(`${UNDECIDED} ${what} ${r.name} is for a project unknown until apply; it may be a runner project`, r.urn);
                return false;
            }
            return projects.has(p);
        };
        for (const r of g.of("gcp:compute/projectMetadata:ProjectMetadata")) {
            const m = get(r.props, "metadata");
            if (inRunnerProject(r, "project metadata") && m && typeof m === "object" && !unknown(m)) {
                judge(r, Object.entries(m), "project-wide metadata");
            }
        }
        for (const r of g.of("gcp:compute/projectMetadataItem:ProjectMetadataItem")) {
            const k = str(get(r.props, "key"));
            if (k && inRunnerProject(r, "project metadata item")) {
                judge(r, [[k, get(r.props, "value")]], "project-wide metadata item");
            }
        }
        migOverrides(g, report, runnerMeta);
    },
});

function migOverrides(g: FleetGraph, report: Report, runnerMeta: Record<string, unknown>[]): void {
    for (const type of ["gcp:compute/instanceGroupManager:InstanceGroupManager", "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager"]) {
        for (const r of g.of(type)) {
            const project = str(g.projectOf(r));
            const versions = get(r.props, "versions");
            const runner = (Array.isArray(versions) ? versions : []).some((v) => {
                const res = resolveRef(r, "versions", get(v, "instanceTemplate"), [T.instanceTemplate, T.regionInstanceTemplate], (ref) => g.findTemplates(ref, project));
                return res.unknown || res.found.some((t) => g.computeByUrn.get(t.urn)?.isRunner);
            }) || unknown(versions);
            if (!runner) {
                continue;
            }
            const cfg = get(r.props, "allInstancesConfig");
            const meta = get(cfg, "metadata");
            if (meta && typeof meta === "object" && !unknown(meta)) {
                for (const [k, v] of Object.entries(meta)) {
                    const why = badEntry(k, v, runnerMeta);
                    if (why) {
                        report(`runner MIG ${r.name} all-instances config sets metadata ${k}: it ${why}`, r.urn);
                    }
                }
            }
            const role = get(cfg, "labels", ROLE_LABEL);
            if (typeof role === "string" && role !== "runner") {
                report(`runner MIG ${r.name} all-instances config relabels its VMs ${ROLE_LABEL}=${role}; a label never makes a runner anything else`, r.urn);
            }
        }
    }
}
