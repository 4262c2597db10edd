/**
 * runner-mig-stateless (I1) over raw managed instance groups and per-instance configs.
 */
import * as gcp from "@pulumi/gcp";
import { Checked, check, expectFired, expectMessage } from "./harness";

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
        expectFired(c, "mig-good", []);
        expectFired(c, "rmig-good", []);
        expectFired(c, "mig-for-pic", []);
    });
    it("stateful disks / IPs fire runner-mig-stateless", () => {
        expectFired(c, "mig-stateful-disk", ["runner-mig-stateless"]);
        expectMessage(c, "mig-stateful-disk", "runner-mig-stateless", "statefulDisks");
        expectFired(c, "mig-stateful-ip", ["runner-mig-stateless"]);
        expectFired(c, "rmig-stateful-ext-ip", ["runner-mig-stateless"]);
    });
    it("a MIG labelled control-plane is exempt", () => expectFired(c, "mig-control-plane", []));
    it("every per-instance config fires", () => {
        expectFired(c, "pic", ["runner-mig-stateless"]);
        expectMessage(c, "pic", "runner-mig-stateless", "PerInstanceConfig preserves per-instance state");
        expectFired(c, "rpic", ["runner-mig-stateless"]);
    });
    it("preview: an unknown MIG name does not change the verdicts", () => {
        expectFired(p, "pic", ["runner-mig-stateless"]);
        expectFired(p, "mig-good", []);
        expectFired(p, "mig-stateful-disk", ["runner-mig-stateless"]);
    });
});
