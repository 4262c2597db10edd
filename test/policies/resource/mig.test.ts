/**
 * runner-mig-stateless (I1) over raw managed instance groups and per-instance configs.
 */
import * as gcp from "@pulumi/gcp";
import { Checked, check, assertFired, assertMessage } from "../../helpers/resourcePolicy";

function program() {
    const tmpl = "projects/fleet-proj/global/instanceTemplates/runner";
    const base = { baseInstanceName: "runner", zone: "europe-west1-b", versions: [{ instanceTemplate: tmpl }] };
    new gcp.compute.InstanceGroupManager("mig-good", base);
    new gcp.compute.InstanceGroupManager("mig-stateful-disk", { ...base, statefulDisks: [{ deviceName: "cache", deleteRule: "NEVER" }] });
    new gcp.compute.InstanceGroupManager("mig-stateful-ip", { ...base, statefulInternalIps: [{ interfaceName: "nic0" }] });
    const rbase = { baseInstanceName: "runner", region: "europe-west1", versions: [{ instanceTemplate: tmpl }] };
    new gcp.compute.RegionInstanceGroupManager("rmig-good", rbase);
    new gcp.compute.RegionInstanceGroupManager("rmig-stateful-ext-ip", { ...rbase, statefulExternalIps: [{ interfaceName: "nic0" }] });
    // Labelled control-plane through allInstancesConfig: exempt.
    new gcp.compute.InstanceGroupManager("mig-control-plane", {
        ...base,
        allInstancesConfig: { labels: { "build-fleet-role": "control-plane" } },
        statefulDisks: [{ deviceName: "data" }],
    });
    const mig = new gcp.compute.InstanceGroupManager("mig-for-pic", base);
    new gcp.compute.PerInstanceConfig("pic", {
        zone: "europe-west1-b",
        instanceGroupManager: mig.name,
        name: "runner-1",
        preservedState: { metadata: { keep: "yes" } },
    });
    new gcp.compute.RegionPerInstanceConfig("rpic", { region: "europe-west1", regionInstanceGroupManager: "rmig", name: "runner-2" });
}

describe("resource rules: managed instance groups", function () {
    this.timeout(60000);
    let c: Checked;
    let p: Checked;
    before(async () => {
        c = await check(program);
        p = await check(program, { preview: true });
    });
    it("a stateless MIG passes", () => {
        assertFired(c, "mig-good", []);
        assertFired(c, "rmig-good", []);
        assertFired(c, "mig-for-pic", []);
    });
    it("stateful disks / IPs fire runner-mig-stateless", () => {
        assertFired(c, "mig-stateful-disk", ["runner-mig-stateless"]);
        assertMessage(c, "mig-stateful-disk", "runner-mig-stateless", "statefulDisks");
        assertFired(c, "mig-stateful-ip", ["runner-mig-stateless"]);
        assertFired(c, "rmig-stateful-ext-ip", ["runner-mig-stateless"]);
    });
    it("a MIG labelled control-plane is exempt", () => assertFired(c, "mig-control-plane", []));
    it("every per-instance config fires", () => {
        assertFired(c, "pic", ["runner-mig-stateless"]);
        assertMessage(c, "pic", "runner-mig-stateless", "PerInstanceConfig preserves per-instance state");
        assertFired(c, "rpic", ["runner-mig-stateless"]);
    });
    it("preview: an unknown MIG name does not change the verdicts", () => {
        assertFired(p, "pic", ["runner-mig-stateless"]);
        assertFired(p, "mig-good", []);
        assertFired(p, "mig-stateful-disk", ["runner-mig-stateless"]);
    });
});
