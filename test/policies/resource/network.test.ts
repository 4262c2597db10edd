/**
 * firewall-no-world-ingress (I3), subnet-flow-logs and nat-logging (I12) over raw network resources.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import { Checked, check, assertFired, assertMessage } from "../../helpers/resourcePolicy";

function program(preview: boolean) {
    return () => {
        const net = new gcp.compute.Network("vpc", { autoCreateSubnetworks: false });
        const allow = [{ protocol: "tcp", ports: ["22"] }];
        new gcp.compute.Firewall("fw-deny-all", { network: net.id, direction: "INGRESS", denies: [{ protocol: "all" }], sourceRanges: ["0.0.0.0/0"], priority: 65534 });
        new gcp.compute.Firewall("fw-world", { network: net.id, allows: allow, sourceRanges: ["0.0.0.0/0"] });
        new gcp.compute.Firewall("fw-world-v6", { network: net.id, direction: "INGRESS", allows: allow, sourceRanges: ["10.0.0.0/8", "::/0"] });
        new gcp.compute.Firewall("fw-no-source", { network: net.id, allows: allow, targetTags: ["runner"] });
        new gcp.compute.Firewall("fw-iap", { network: net.id, allows: allow, sourceRanges: ["35.235.240.0/20"] });
        new gcp.compute.Firewall("fw-tags", { network: net.id, allows: allow, sourceTags: ["control-plane"] });
        new gcp.compute.Firewall("fw-egress-world", { network: net.id, direction: "EGRESS", allows: [{ protocol: "tcp", ports: ["443"] }], destinationRanges: ["0.0.0.0/0"] });
        new gcp.compute.Firewall("fw-disabled", { network: net.id, allows: allow, sourceRanges: ["0.0.0.0/0"], disabled: true });
        const fp = new gcp.compute.NetworkFirewallPolicy("fp", {});
        new gcp.compute.NetworkFirewallPolicyRule("fpr-world", {
            firewallPolicy: fp.name, priority: 1000, direction: "INGRESS", action: "allow",
            match: { srcIpRanges: ["0.0.0.0/0"], layer4Configs: [{ ipProtocol: "tcp", ports: ["443"] }] },
        });
        new gcp.compute.NetworkFirewallPolicyRule("fpr-deny", {
            firewallPolicy: fp.name, priority: 2000, direction: "INGRESS", action: "deny",
            match: { srcIpRanges: ["0.0.0.0/0"], layer4Configs: [{ ipProtocol: "all" }] },
        });
        new gcp.compute.FirewallPolicyRule("hfpr-world", {
            firewallPolicy: "organizations/123/firewallPolicies/1", priority: 1000, direction: "INGRESS", action: "allow",
            match: { srcIpRanges: ["::/0"], layer4Configs: [{ ipProtocol: "tcp" }] },
        });

        new gcp.compute.Subnetwork("sub-good", {
            network: net.id, region: "europe-west1", ipCidrRange: "10.10.0.0/24",
            logConfig: { aggregationInterval: "INTERVAL_5_SEC", flowSampling: 1, metadata: "INCLUDE_ALL_METADATA" },
        });
        new gcp.compute.Subnetwork("sub-no-logs", { network: net.id, region: "europe-west1", ipCidrRange: "10.11.0.0/24" });
        new gcp.compute.Subnetwork("sub-zero-sampling", { network: net.id, region: "europe-west1", ipCidrRange: "10.12.0.0/24", logConfig: { flowSampling: 0 } });
        new gcp.compute.Subnetwork("sub-proxy", { network: net.id, region: "europe-west1", ipCidrRange: "10.13.0.0/24", purpose: "REGIONAL_MANAGED_PROXY", role: "ACTIVE" });

        const router = new gcp.compute.Router("router", { network: net.id, region: "europe-west1" });
        const nat = { router: router.name, region: "europe-west1", natIpAllocateOption: "AUTO_ONLY", sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES" };
        new gcp.compute.RouterNat("nat-good", { ...nat, logConfig: { enable: true, filter: "ALL" } });
        new gcp.compute.RouterNat("nat-no-log", nat);
        new gcp.compute.RouterNat("nat-log-off", { ...nat, logConfig: { enable: false, filter: "ALL" } });
        new gcp.compute.RouterNat("nat-errors-only", { ...nat, logConfig: { enable: true, filter: "ERRORS_ONLY" } });
        if (preview) {
            // A computed range (another resource's output) is not the literal world range.
            const sub = new gcp.compute.Subnetwork("sub-other", { network: net.id, region: "europe-west1", ipCidrRange: "10.14.0.0/24" });
            new gcp.compute.Firewall("fw-computed-range", { network: net.id, allows: allow, sourceRanges: [sub.gatewayAddress.apply((g) => `${g}/32`)] });
        }
    };
}

describe("resource rules: firewall, flow logs, NAT logging", function () {
    this.timeout(60000);
    let c: Checked;
    let p: Checked;
    before(async () => {
        c = await check(program(false));
        p = await check(program(true), { preview: true });
    });

    it("firewall-no-world-ingress: VPC firewall rules", () => {
        assertFired(c, "fw-world", ["firewall-no-world-ingress"]);
        assertMessage(c, "fw-world", "firewall-no-world-ingress", "0.0.0.0/0");
        assertFired(c, "fw-world-v6", ["firewall-no-world-ingress"]);
        assertMessage(c, "fw-world-v6", "firewall-no-world-ingress", "::/0");
        assertFired(c, "fw-no-source", ["firewall-no-world-ingress"]);
        for (const ok of ["fw-deny-all", "fw-iap", "fw-tags", "fw-egress-world", "fw-disabled"]) {
            assertFired(c, ok, []);
        }
    });
    it("firewall-no-world-ingress: firewall policy rules", () => {
        assertFired(c, "fpr-world", ["firewall-no-world-ingress"]);
        assertFired(c, "hfpr-world", ["firewall-no-world-ingress"]);
        assertFired(c, "fpr-deny", []);
    });
    it("subnet-flow-logs", () => {
        assertFired(c, "sub-good", []);
        assertFired(c, "sub-no-logs", ["subnet-flow-logs"]);
        assertFired(c, "sub-zero-sampling", ["subnet-flow-logs"]);
        assertFired(c, "sub-proxy", []);
    });
    it("nat-logging", () => {
        assertFired(c, "nat-good", []);
        assertFired(c, "nat-no-log", ["nat-logging"]);
        assertFired(c, "nat-log-off", ["nat-logging"]);
        assertFired(c, "nat-errors-only", ["nat-logging"]);
    });
    it("preview: unknown network ids and computed ranges produce no findings", () => {
        assertFired(p, "fw-computed-range", []);
        assert.deepStrictEqual(p.undecided("fw-computed-range"), []);
        assertFired(p, "fw-world", ["firewall-no-world-ingress"]);
        assertFired(p, "sub-good", []);
        assertFired(p, "nat-good", []);
        assert.deepStrictEqual(p.undecided("nat-good"), []);
    });
});
