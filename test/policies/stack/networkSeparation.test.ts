import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import { evaluateFleet, assertFinding, findings, REGION, SIGNER_PROJECT, WORKER_PROJECT } from "../../helpers/stackPolicy";

const INGRESS = "runner-network-no-ingress";
const SEP = "pool-network-separation";
const ATTACH = "runner-network-attachment";
const EGRESS = "runner-egress-default-deny";

function runnerTemplate(name: string, pool: string, nic: gcp.types.input.compute.InstanceTemplateNetworkInterface, email: gcp.serviceaccount.Account["email"]) {
    return new gcp.compute.InstanceTemplate(name, {
        project: WORKER_PROJECT,
        machineType: "e2-small",
        labels: { "build-fleet-role": "runner", "build-fleet-pool": pool },
        disks: [{ boot: true, autoDelete: true, sourceImage: "projects/cos-cloud/global/images/family/cos-stable" }],
        networkInterfaces: [nic],
        serviceAccount: { email, scopes: ["https://www.googleapis.com/auth/cloud-platform"] },
    });
}

describe("stack rule pool-network-separation (I5)", () => {
    it("flags a peering between two pool VPCs", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.compute.NetworkPeering("a-to-b", { network: f.pools.a.network.selfLink, peerNetwork: f.pools.b.network.selfLink });
        });
        assertFinding(ev, SEP, /VPC peering a-to-b connects runner network of pool a pool-a-net.* with runner network of pool b pool-b-net/);
    });

    it("preview: flags a peering between a pool VPC and the signer VPC from property dependencies", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.compute.NetworkPeering("a-to-signer", { network: f.pools.a.network.id, peerNetwork: f.signer.network.id });
        }, { preview: true });
        assertFinding(ev, SEP, /VPC peering a-to-signer connects runner network of pool a .* with signer network/);
    });

    it("flags a firewall rule from a pool range to the signer range", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.compute.Firewall("a-to-signer", {
                project: WORKER_PROJECT, network: f.pools.a.network.id, direction: "EGRESS", priority: 900,
                destinationRanges: ["10.30.0.0/28"], allows: [{ protocol: "tcp", ports: ["443"] }],
            });
        });
        assertFinding(ev, SEP, /firewall a-to-signer in pool a network .* allows egress to 10\.30\.0\.0\/28, which overlaps signer range 10\.30\.0\.0\/26/);
    });

    it("flags ingress into the signer network from a pool range (CIDR overlap, not string match)", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.compute.Firewall("signer-from-pools", {
                project: SIGNER_PROJECT, network: f.signer.network.id, direction: "INGRESS", priority: 900,
                sourceRanges: ["10.0.0.0/8"], allows: [{ protocol: "tcp", ports: ["8080"] }],
            });
        });
        assertFinding(ev, SEP, /firewall signer-from-pools in signer network .* allows ingress from 10\.0\.0\.0\/8, which overlaps pool [ab] range/);
    });

    it("flags ingress into a pool from another pool's range, in preview too", async () => {
        for (const preview of [false, true]) {
            const ev = await evaluateFleet((f) => {
                new gcp.compute.Firewall("b-from-a", {
                    project: WORKER_PROJECT, network: f.pools.b.network.id, direction: "INGRESS", priority: 900,
                    sourceRanges: ["10.10.0.128/25"], allows: [{ protocol: "all" }],
                });
            }, { preview });
            assertFinding(ev, SEP, /firewall b-from-a in pool b network .* allows ingress from 10\.10\.0\.128\/25, which overlaps pool a range 10\.10\.0\.0\/24/, { alsoAllowed: [INGRESS] });
        }
    });

    it("opens no path between zones with a rule confined to the pool's own range (only the no-ingress rule, I3, fires)", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.compute.Firewall("a-internal", {
                project: WORKER_PROJECT, network: f.pools.a.network.id, direction: "INGRESS", priority: 900,
                sourceRanges: ["10.10.0.0/24"], allows: [{ protocol: "tcp", ports: ["22"] }],
            });
        });
        assertFinding(ev, INGRESS, /firewall a-internal allows ingress into runner network .*\(pool a\)/);
    });

    it("flags a network firewall policy rule allowing egress from a pool to another pool", async () => {
        const ev = await evaluateFleet((f) => {
            const pol = new gcp.compute.NetworkFirewallPolicy("a-policy", { project: WORKER_PROJECT });
            new gcp.compute.NetworkFirewallPolicyRule("a-policy-to-b", {
                project: WORKER_PROJECT, firewallPolicy: pol.name, action: "allow", direction: "EGRESS", priority: 100,
                match: { destIpRanges: ["10.20.0.0/24"], layer4Configs: [{ ipProtocol: "all" }] },
            });
            new gcp.compute.NetworkFirewallPolicyAssociation("a-policy-assoc", { project: WORKER_PROJECT, attachmentTarget: f.pools.a.network.id, firewallPolicy: pol.id });
        });
        assertFinding(ev, SEP, /firewall a-policy-to-b in pool a network .* allows egress to 10\.20\.0\.0\/24, which overlaps pool b range/);
    });

    it("flags shared VPC between the worker and signer projects", async () => {
        const ev = await evaluateFleet(() => {
            new gcp.compute.SharedVPCServiceProject("share", { hostProject: WORKER_PROJECT, serviceProject: SIGNER_PROJECT });
        });
        assertFinding(ev, SEP, /shared VPC attaches fleet project signer-proj to fleet host project worker-proj/);
    });
});

describe("stack rule runner-network-attachment (I5)", () => {
    it("flags a pool b runner on pool a's subnet", async () => {
        const ev = await evaluateFleet((f) => {
            runnerTemplate("b-on-a", "b", { subnetwork: f.pools.a.subnet.id }, f.pools.b.sa.email);
        });
        assertFinding(ev, ATTACH, /runner (b-on-a \(pool b\) and runner pool-a-template \(pool a\)|pool-a-template \(pool a\) and runner b-on-a \(pool b\)) share subnetwork/);
    });

    it("flags a runner on the signer network", async () => {
        const ev = await evaluateFleet((f) => {
            runnerTemplate("a-on-signer", "a", { network: f.signer.network.id, subnetwork: f.signer.subnet.id }, f.pools.a.sa.email);
        }, { preview: true });
        // The signer network is now also a runner network: the signer's own deny rules and zone keep I4 quiet.
        assertFinding(ev, ATTACH, /runner a-on-signer attaches to the signer network signer-net/);
    });
});

describe("stack rule runner-egress-default-deny (I4)", () => {
    it("flags a runner network without the deny-all egress rule", async () => {
        const ev = await evaluateFleet(undefined, { omit: { egressDeny: ["pool-a"] } });
        assertFinding(ev, EGRESS, /runner network pool-a-net.* \(pool a\) has no EGRESS deny rule for 0\.0\.0\.0\/0/);
    });

    it("flags an egress allow to 0.0.0.0/0", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.compute.Firewall("b-open-egress", {
                project: WORKER_PROJECT, network: f.pools.b.network.id, direction: "EGRESS", priority: 900,
                destinationRanges: ["0.0.0.0/0"], allows: [{ protocol: "tcp", ports: ["443"] }],
            });
        }, { preview: true });
        assertFinding(ev, EGRESS, /egress allow rule b-open-egress in runner network pool-b-net.* allows 0\.0\.0\.0\/0/, { alsoAllowed: [SEP] });
    });

    it("flags egress to the private (not restricted) Google APIs VIP and a DNS record pointing there", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.compute.Firewall("a-private-vip", {
                project: WORKER_PROJECT, network: f.pools.a.network.id, direction: "EGRESS", priority: 900,
                destinationRanges: ["199.36.153.8/30"], allows: [{ protocol: "tcp", ports: ["443"] }],
            });
        });
        assertFinding(ev, EGRESS, /a-private-vip .* allows 199\.36\.153\.8\/30 \(private\.googleapis\.com\)/);
    });

    it("flags a runner network without a private googleapis.com zone", async () => {
        const ev = await evaluateFleet(undefined, { omit: { dnsZone: ["pool-b"] }, preview: true });
        assertFinding(ev, EGRESS, /runner network pool-b-net.* has no private DNS zone for googleapis\.com\./);
    });

    it("flags an egress allow split into ranges that together cover 0.0.0.0/0, in one rule or across rules", async () => {
        const one = await evaluateFleet((f) => {
            new gcp.compute.Firewall("a-split-world", {
                project: WORKER_PROJECT, network: f.pools.a.network.id, direction: "EGRESS", priority: 900,
                destinationRanges: ["0.0.0.0/1", "128.0.0.0/1"], allows: [{ protocol: "tcp", ports: ["443"] }],
            });
        });
        assertFinding(one, EGRESS, /egress allow rule a-split-world in runner network pool-a-net.* allows 0\.0\.0\.0\/1, 128\.0\.0\.0\/1, which together cover every IPv4 address/, { alsoAllowed: [SEP] });
        const two = await evaluateFleet((f) => {
            for (const [name, range] of [["a-low-half", "0.0.0.0/1"], ["a-high-half", "128.0.0.0/1"]]) {
                new gcp.compute.Firewall(name, {
                    project: WORKER_PROJECT, network: f.pools.a.network.id, direction: "EGRESS", priority: 900,
                    destinationRanges: [range], allows: [{ protocol: "tcp", ports: ["443"] }],
                });
            }
        });
        assertFinding(two, EGRESS, /egress allow rules (a-low-half, a-high-half|a-high-half, a-low-half) in runner network pool-a-net.* together allow every IPv4 address/, { alsoAllowed: [SEP] });
        // An allow-list that does not add up to everything passes.
        const list = await evaluateFleet((f) => {
            new gcp.compute.Firewall("a-allow-list", {
                project: WORKER_PROJECT, network: f.pools.a.network.id, direction: "EGRESS", priority: 900,
                destinationRanges: ["140.82.112.0/20", "185.199.108.0/22"], allows: [{ protocol: "tcp", ports: ["443"] }],
            });
        });
        assert.deepStrictEqual(list.violations, [], findings(list));
    });

    describe("firewall policies in every form", () => {
        const worldEgress = { priority: 100, direction: "EGRESS", action: "allow", match: { destIpRanges: ["0.0.0.0/0"], layer4Configs: [{ ipProtocol: "tcp", ports: ["443"] }] } };

        it("flags a global network firewall policy WITH RULES (inline) allowing egress to 0.0.0.0/0, normal and preview", async () => {
            for (const preview of [false, true]) {
                const ev = await evaluateFleet((f) => {
                    const pol = new gcp.compute.NetworkFirewallPolicyWithRules("b-inline", { project: WORKER_PROJECT, rules: [worldEgress] });
                    new gcp.compute.NetworkFirewallPolicyAssociation("b-inline-assoc", { project: WORKER_PROJECT, firewallPolicy: pol.name, attachmentTarget: f.pools.b.network.id });
                }, { preview });
                assertFinding(ev, EGRESS, /egress allow rule b-inline rule #0 in runner network pool-b-net.* allows 0\.0\.0\.0\/0/, { alsoAllowed: [SEP] });
            }
        });

        it("flags an inline policy rule opening a path between two pools", async () => {
            const ev = await evaluateFleet((f) => {
                const pol = new gcp.compute.NetworkFirewallPolicyWithRules("a-inline", {
                    project: WORKER_PROJECT,
                    rules: [{ priority: 100, direction: "INGRESS", action: "allow", match: { srcIpRanges: ["10.20.0.0/24"], layer4Configs: [{ ipProtocol: "all" }] } }],
                });
                new gcp.compute.NetworkFirewallPolicyAssociation("a-inline-assoc", { project: WORKER_PROJECT, firewallPolicy: pol.id, attachmentTarget: f.pools.a.network.selfLink });
            });
            assertFinding(ev, SEP, /firewall a-inline rule #0 in pool a network .* allows ingress from 10\.20\.0\.0\/24, which overlaps pool b range/, { alsoAllowed: [INGRESS] });
        });

        it("flags a regional network firewall policy rule and a regional policy with inline rules", async () => {
            const rule = await evaluateFleet((f) => {
                const pol = new gcp.compute.RegionNetworkFirewallPolicy("a-regional", { project: WORKER_PROJECT, region: REGION });
                new gcp.compute.RegionNetworkFirewallPolicyRule("a-regional-world", { project: WORKER_PROJECT, region: REGION, firewallPolicy: pol.name, ...worldEgress });
                new gcp.compute.RegionNetworkFirewallPolicyAssociation("a-regional-assoc", { project: WORKER_PROJECT, region: REGION, firewallPolicy: pol.name, attachmentTarget: f.pools.a.network.id });
            });
            assertFinding(rule, EGRESS, /egress allow rule a-regional-world in runner network pool-a-net.* allows 0\.0\.0\.0\/0/, { alsoAllowed: [SEP] });
            const inline = await evaluateFleet((f) => {
                const pol = new gcp.compute.RegionNetworkFirewallPolicyWithRules("a-regional-inline", { project: WORKER_PROJECT, region: REGION, rules: [worldEgress] });
                new gcp.compute.RegionNetworkFirewallPolicyAssociation("a-regional-inline-assoc", { project: WORKER_PROJECT, region: REGION, firewallPolicy: pol.name, attachmentTarget: f.pools.a.network.id });
            }, { preview: true });
            assertFinding(inline, EGRESS, /egress allow rule a-regional-inline rule #0 in runner network pool-a-net.* allows 0\.0\.0\.0\/0/, { alsoAllowed: [SEP] });
        });

        it("flags a hierarchical (folder) firewall policy: it applies before every VPC rule of every network below", async () => {
            const ev = await evaluateFleet(() => {
                const pol = new gcp.compute.FirewallPolicy("folder-policy", { parent: "folders/123456789012", shortName: "fleet-egress" });
                new gcp.compute.FirewallPolicyRule("folder-world", { firewallPolicy: pol.name, ...worldEgress });
                new gcp.compute.FirewallPolicyAssociation("folder-assoc", { firewallPolicy: pol.id, attachmentTarget: "folders/123456789012" });
            });
            assertFinding(ev, EGRESS, /egress allow rule folder-world in runner network pool-a-net.* allows 0\.0\.0\.0\/0/, { alsoAllowed: [SEP] });
            assertFinding(ev, EGRESS, /egress allow rule folder-world in runner network pool-b-net.* allows 0\.0\.0\.0\/0/, { alsoAllowed: [SEP] });
        });

        it("hierarchical rules: targetResources confine them; goto_next delegates", async () => {
            const targeted = await evaluateFleet((f) => {
                const pol = new gcp.compute.FirewallPolicyWithRules("org-policy", {
                    parent: "organizations/1234567890", shortName: "fleet",
                    rules: [{ ...worldEgress, targetResources: [f.pools.b.network.selfLink] }],
                });
                new gcp.compute.FirewallPolicyAssociation("org-assoc", { firewallPolicy: pol.id, attachmentTarget: "organizations/1234567890" });
            });
            assertFinding(targeted, EGRESS, /egress allow rule org-policy rule #0 in runner network pool-b-net/, { alsoAllowed: [SEP] });
            assert.ok(!targeted.violations.some((v) => v.policy === EGRESS && /pool-a-net/.test(v.message)), findings(targeted));
            const delegated = await evaluateFleet(() => {
                const pol = new gcp.compute.FirewallPolicy("folder-policy", { parent: "folders/123456789012", shortName: "fleet-egress" });
                new gcp.compute.FirewallPolicyRule("folder-next", { firewallPolicy: pol.name, ...worldEgress, action: "goto_next" });
                new gcp.compute.FirewallPolicyAssociation("folder-assoc", { firewallPolicy: pol.id, attachmentTarget: "folders/123456789012" });
            });
            assert.deepStrictEqual(delegated.violations, [], findings(delegated));
        });
    });

    it("flags a runner on a network the stack does not define", async () => {
        const ev = await evaluateFleet((f) => {
            runnerTemplate("a-on-default", "a", { network: "default" }, f.pools.a.sa.email);
        });
        assertFinding(ev, EGRESS, /runner a-on-default attaches to default, which this stack does not define/);
    });
});
