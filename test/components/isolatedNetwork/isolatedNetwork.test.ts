/**
 * IsolatedNetwork: the captured graph proves I3 (no inbound), I4 (egress allow-list, restricted VIP),
 * I5 (own VPC, no peering) and I12 (flow logs, NAT logging) for every argument shape.
 */
import * as assert from "assert";
import { ProgramRun, runProgram, UNKNOWN } from "../../../plan/engine";
import { IsolatedNetwork, IsolatedNetworkArgs } from "../../../components/isolatedNetwork";
import { ancestorsOf, byType, component, descendantsOf, findKey, one, stackOf } from "../../helpers/graph";

const T = {
    component: "hardened-build-fleet:index:IsolatedNetwork",
    network: "gcp:compute/network:Network",
    subnet: "gcp:compute/subnetwork:Subnetwork",
    firewall: "gcp:compute/firewall:Firewall",
    route: "gcp:compute/route:Route",
    zone: "gcp:dns/managedZone:ManagedZone",
    record: "gcp:dns/recordSet:RecordSet",
    router: "gcp:compute/router:Router",
    nat: "gcp:compute/routerNat:RouterNat",
    policy: "gcp:compute/networkFirewallPolicy:NetworkFirewallPolicy",
    rule: "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule",
    assoc: "gcp:compute/networkFirewallPolicyAssociation:NetworkFirewallPolicyAssociation",
};
const VIP = "199.36.153.4/30";

const base: IsolatedNetworkArgs = { project: "worker-proj", region: "europe-west1", cidr: "10.10.0.0/24", role: "runner", pool: "pool-a" };

async function build(args: Partial<IsolatedNetworkArgs> = {}, name = "pool-a-net", preview = false): Promise<ProgramRun> {
    return runProgram(() => {
        const net = new IsolatedNetwork(name, { ...base, ...args });
        return { networkId: net.networkId, networkSelfLink: net.networkSelfLink, subnetId: net.subnetId, subnetSelfLink: net.subnetSelfLink, cidr: net.cidr };
    }, { preview });
}

function firewall(run: ProgramRun, suffix: string) {
    return one(run, T.firewall, `pool-a-net-${suffix}`);
}

describe("IsolatedNetwork", function () {
    this.timeout(60000);

    describe("without an egress allow-list", () => {
        let run: ProgramRun;
        before(async () => {
            run = await build();
        });

        it("creates a VPC with no auto subnets, no default routes, REGIONAL routing, policy before classic rules", () => {
            const net = one(run, T.network);
            assert.strictEqual(net.inputs.autoCreateSubnetworks, false);
            assert.strictEqual(net.inputs.deleteDefaultRoutesOnCreate, true);
            assert.strictEqual(net.inputs.routingMode, "REGIONAL");
            assert.strictEqual(net.inputs.networkFirewallPolicyEnforcementOrder, "BEFORE_CLASSIC_FIREWALL");
            assert.strictEqual(net.inputs.project, "worker-proj");
        });

        it("creates one subnet with Private Google Access and flow logs at 0.5 in the VPC", () => {
            const net = one(run, T.network);
            const subnet = one(run, T.subnet);
            assert.strictEqual(subnet.inputs.ipCidrRange, "10.10.0.0/24");
            assert.strictEqual(subnet.inputs.region, "europe-west1");
            assert.strictEqual(subnet.inputs.privateIpGoogleAccess, true);
            assert.strictEqual(subnet.inputs.network, net.id);
            assert.deepStrictEqual(subnet.propertyDependencies.network, [net.urn]);
            assert.deepStrictEqual(subnet.inputs.logConfig, { aggregationInterval: "INTERVAL_5_SEC", flowSampling: 0.5, metadata: "INCLUDE_ALL_METADATA" });
            assert.strictEqual(subnet.inputs.secondaryIpRanges, undefined);
        });

        it("denies all ingress and all egress at priority 65534", () => {
            const ingress = firewall(run, "deny-ingress");
            assert.strictEqual(ingress.inputs.direction, "INGRESS");
            assert.strictEqual(ingress.inputs.priority, 65534);
            assert.deepStrictEqual(ingress.inputs.sourceRanges, ["0.0.0.0/0"]);
            assert.deepStrictEqual(ingress.inputs.denies, [{ protocol: "all" }]);
            assert.strictEqual(ingress.inputs.allows, undefined);
            const egress = firewall(run, "deny-egress");
            assert.strictEqual(egress.inputs.direction, "EGRESS");
            assert.strictEqual(egress.inputs.priority, 65534);
            assert.deepStrictEqual(egress.inputs.destinationRanges, ["0.0.0.0/0"]);
            assert.deepStrictEqual(egress.inputs.denies, [{ protocol: "all" }]);
            assert.strictEqual(egress.inputs.allows, undefined);
            for (const fw of [ingress, egress]) {
                assert.deepStrictEqual(fw.inputs.logConfig, { metadata: "INCLUDE_ALL_METADATA" });
            }
        });

        it("allows egress only to the restricted VIP on tcp:443, and no ingress at all", () => {
            const vip = firewall(run, "allow-vip");
            assert.strictEqual(vip.inputs.direction, "EGRESS");
            assert.strictEqual(vip.inputs.priority, 1000);
            assert.deepStrictEqual(vip.inputs.destinationRanges, [VIP]);
            assert.deepStrictEqual(vip.inputs.allows, [{ protocol: "tcp", ports: ["443"] }]);
            const firewalls = byType(run, T.firewall);
            assert.deepStrictEqual(firewalls.map((f) => f.name).sort(), ["pool-a-net-allow-vip", "pool-a-net-deny-egress", "pool-a-net-deny-ingress"]);
            const allows = firewalls.filter((f) => f.inputs.allows !== undefined);
            assert.ok(allows.every((f) => f.inputs.direction === "EGRESS"), "no ingress allow rule");
            const net = one(run, T.network);
            assert.ok(firewalls.every((f) => f.inputs.network === net.id && f.inputs.project === "worker-proj"));
        });

        it("routes only the restricted VIP (no 0.0.0.0/0 route)", () => {
            const routes = byType(run, T.route);
            assert.strictEqual(routes.length, 1);
            assert.strictEqual(routes[0].inputs.destRange, VIP);
            assert.strictEqual(routes[0].inputs.nextHopGateway, "default-internet-gateway");
            assert.strictEqual(routes[0].inputs.network, one(run, T.network).id);
        });

        it("resolves googleapis.com to restricted.googleapis.com in a private zone bound to this network only", () => {
            const zone = one(run, T.zone);
            const net = one(run, T.network);
            assert.strictEqual(zone.inputs.dnsName, "googleapis.com.");
            assert.strictEqual(zone.inputs.visibility, "private");
            assert.deepStrictEqual(zone.inputs.privateVisibilityConfig, { networks: [{ networkUrl: net.id }] });
            assert.deepStrictEqual(zone.inputs.labels, { "build-fleet-role": "runner", "build-fleet-pool": "pool-a" });
            assert.strictEqual(zone.inputs.peeringConfig, undefined);
            assert.strictEqual(zone.inputs.forwardingConfig, undefined);
            const records = byType(run, T.record);
            assert.strictEqual(records.length, 2);
            assert.ok(records.every((r) => r.inputs.managedZone === zone.outputs.name));
            const cname = records.find((r) => r.inputs.type === "CNAME");
            assert.deepStrictEqual([cname?.inputs.name, cname?.inputs.rrdatas], ["*.googleapis.com.", ["restricted.googleapis.com."]]);
            const a = records.find((r) => r.inputs.type === "A");
            assert.deepStrictEqual([a?.inputs.name, a?.inputs.rrdatas], ["restricted.googleapis.com.", ["199.36.153.4", "199.36.153.5", "199.36.153.6", "199.36.153.7"]]);
        });

        it("creates no Router, NAT or firewall policy", () => {
            for (const t of [T.router, T.nat, T.policy, T.rule, T.assoc]) {
                assert.deepStrictEqual(byType(run, t), [], t);
            }
        });

        it("creates no peering and no access configs anywhere", () => {
            assert.deepStrictEqual(run.resources.filter((r) => /peering/i.test(r.type)), []);
            assert.deepStrictEqual(findKey(run, "accessConfigs"), []);
            assert.deepStrictEqual(findKey(run, "peeringConfig"), []);
        });

        it("exports the network, subnet, self links and CIDR", () => {
            const net = one(run, T.network);
            const subnet = one(run, T.subnet);
            assert.deepStrictEqual(run.outputs, {
                networkId: net.id,
                networkSelfLink: net.outputs.selfLink,
                subnetId: subnet.id,
                subnetSelfLink: subnet.outputs.selfLink,
                cidr: "10.10.0.0/24",
            });
            assert.match(run.outputs.networkSelfLink, /^https:\/\/www\.googleapis\.com\/compute\/v1\/projects\/worker-proj\/global\/networks\//);
        });

        it("parents every child on the component and derives every child name from it", () => {
            const comp = component(run, T.component, "pool-a-net");
            assert.strictEqual(comp.parent, stackOf(run).urn);
            const others = run.resources.filter((r) => r !== comp && r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"));
            assert.ok(others.length >= 8);
            for (const r of others) {
                assert.strictEqual(r.parent, comp.urn, `${r.name} parent`);
                assert.ok(ancestorsOf(run, r).includes(comp.urn));
                assert.ok(r.name === "pool-a-net" || r.name.startsWith("pool-a-net-"), `${r.name} derives from the component name`);
            }
            assert.strictEqual(descendantsOf(run, comp).length, others.length);
        });
    });

    describe("with an egress allow-list", () => {
        let run: ProgramRun;
        const allow = { cidrs: ["140.82.112.0/20", "185.199.108.0/22"], fqdns: ["github.com", "registry.npmjs.org"] };
        before(async () => {
            run = await build({ egressAllowList: allow });
        });

        it("creates a Cloud Router and a Cloud NAT logging ALL, for this subnet only", () => {
            const net = one(run, T.network);
            const subnet = one(run, T.subnet);
            const router = one(run, T.router);
            const nat = one(run, T.nat);
            assert.strictEqual(router.inputs.network, net.id);
            assert.strictEqual(router.inputs.region, "europe-west1");
            assert.strictEqual(nat.inputs.router, router.outputs.name);
            assert.deepStrictEqual(nat.inputs.logConfig, { enable: true, filter: "ALL" });
            assert.strictEqual(nat.inputs.sourceSubnetworkIpRangesToNat, "LIST_OF_SUBNETWORKS");
            assert.deepStrictEqual(nat.inputs.subnetworks, [{ name: subnet.id, sourceIpRangesToNats: ["ALL_IP_RANGES"] }]);
            assert.strictEqual(nat.inputs.natIpAllocateOption, "AUTO_ONLY");
        });

        it("allows tcp:443 egress to the listed CIDRs, above the deny-all", () => {
            const fw = firewall(run, "allow-egress");
            assert.strictEqual(fw.inputs.direction, "EGRESS");
            assert.strictEqual(fw.inputs.priority, 1000);
            assert.deepStrictEqual(fw.inputs.destinationRanges, allow.cidrs);
            assert.deepStrictEqual(fw.inputs.allows, [{ protocol: "tcp", ports: ["443"] }]);
            assert.ok(fw.inputs.priority < firewall(run, "deny-egress").inputs.priority);
        });

        it("allows the FQDNs through a network firewall policy rule with destFqdns, associated with this network", () => {
            const net = one(run, T.network);
            const policy = one(run, T.policy);
            const rule = one(run, T.rule);
            const assoc = one(run, T.assoc);
            assert.strictEqual(rule.inputs.firewallPolicy, policy.outputs.name);
            assert.strictEqual(rule.inputs.action, "allow");
            assert.strictEqual(rule.inputs.direction, "EGRESS");
            assert.strictEqual(rule.inputs.enableLogging, true);
            assert.deepStrictEqual(rule.inputs.match.destFqdns, allow.fqdns);
            assert.deepStrictEqual(rule.inputs.match.layer4Configs, [{ ipProtocol: "tcp", ports: ["443"] }]);
            assert.strictEqual(rule.inputs.match.srcIpRanges, undefined);
            assert.strictEqual(assoc.inputs.attachmentTarget, net.id);
            assert.strictEqual(assoc.inputs.firewallPolicy, policy.id);
        });

        it("adds the 0.0.0.0/0 route the NAT needs", () => {
            const routes = byType(run, T.route).map((r) => r.inputs.destRange).sort();
            assert.deepStrictEqual(routes, ["0.0.0.0/0", VIP]);
        });

        it("still denies all ingress and creates no peering or access configs", () => {
            assert.strictEqual(firewall(run, "deny-ingress").inputs.priority, 65534);
            assert.ok(byType(run, T.firewall).filter((f) => f.inputs.direction === "INGRESS").every((f) => f.inputs.allows === undefined));
            assert.deepStrictEqual(run.resources.filter((r) => /peering/i.test(r.type)), []);
            assert.deepStrictEqual(findKey(run, "accessConfigs"), []);
        });

        it("parents every child on the component", () => {
            const comp = component(run, T.component, "pool-a-net");
            const customs = run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
            assert.ok(customs.every((r) => r.parent === comp.urn && (r.name === "pool-a-net" || r.name.startsWith("pool-a-net-"))));
        });

        it("names the VPC after the component (no `-net-net-`), aliased to its old name so live networks stay", () => {
            const comp = component(run, T.component, "pool-a-net");
            const vpc = run.resources.find((r) => r.type === "gcp:compute/network:Network")!;
            assert.strictEqual(vpc.name, "pool-a-net");
            assert.deepStrictEqual(vpc.aliases, [comp.urn.replace(/hardened-build-fleet:index:IsolatedNetwork::pool-a-net$/, "hardened-build-fleet:index:IsolatedNetwork$gcp:compute/network:Network::pool-a-net-net")]);
            assert.match(vpc.outputs.name, /^pool-a-net-[0-9a-f]{7}$/);
        });
    });

    it("with CIDRs only: NAT and a CIDR rule, no firewall policy", async () => {
        const run = await build({ egressAllowList: { cidrs: ["140.82.112.0/20"] } });
        one(run, T.nat);
        one(run, T.router);
        firewall(run, "allow-egress");
        assert.deepStrictEqual([...byType(run, T.policy), ...byType(run, T.rule), ...byType(run, T.assoc)], []);
    });

    it("with FQDNs only: NAT and the policy rule, no CIDR rule", async () => {
        const run = await build({ egressAllowList: { fqdns: ["github.com"] } });
        one(run, T.nat);
        assert.deepStrictEqual(one(run, T.rule).inputs.match.destFqdns, ["github.com"]);
        assert.deepStrictEqual(byType(run, T.firewall).filter((f) => f.name.endsWith("allow-egress")), []);
    });

    it("treats an empty allow-list as no egress at all", async () => {
        const run = await build({ egressAllowList: { cidrs: [], fqdns: [] } });
        assert.deepStrictEqual([...byType(run, T.router), ...byType(run, T.nat), ...byType(run, T.policy)], []);
        assert.deepStrictEqual(byType(run, T.route).map((r) => r.inputs.destRange), [VIP]);
    });

    it("passes secondary ranges, custom sampling and the role without a pool", async () => {
        const run = await build({
            role: "control-plane", pool: undefined, flowLogSampling: 1,
            secondaryRanges: [{ rangeName: "pods", ipCidrRange: "10.20.0.0/16" }, { rangeName: "services", ipCidrRange: "10.30.0.0/20" }],
        });
        const subnet = one(run, T.subnet);
        assert.strictEqual(subnet.inputs.logConfig.flowSampling, 1);
        assert.deepStrictEqual(subnet.inputs.secondaryIpRanges, [
            { rangeName: "pods", ipCidrRange: "10.20.0.0/16" },
            { rangeName: "services", ipCidrRange: "10.30.0.0/20" },
        ]);
        assert.deepStrictEqual(one(run, T.zone).inputs.labels, { "build-fleet-role": "control-plane" });
    });

    it("adds restricted-VIP zones for extra Google domains", async () => {
        const run = await build({ restrictedGoogleDomains: ["pkg.dev"] });
        const zones = byType(run, T.zone);
        assert.deepStrictEqual(zones.map((z) => z.inputs.dnsName).sort(), ["googleapis.com.", "pkg.dev."]);
        const pkg = zones.find((z) => z.inputs.dnsName === "pkg.dev.")!;
        assert.strictEqual(pkg.inputs.visibility, "private");
        assert.deepStrictEqual(pkg.inputs.privateVisibilityConfig, { networks: [{ networkUrl: one(run, T.network).id }] });
        const records = byType(run, T.record).filter((r) => r.inputs.managedZone === pkg.outputs.name);
        assert.deepStrictEqual(records.map((r) => [r.inputs.type, r.inputs.name, r.inputs.rrdatas]).sort(), [
            ["A", "pkg.dev.", ["199.36.153.4", "199.36.153.5", "199.36.153.6", "199.36.153.7"]],
            ["CNAME", "*.pkg.dev.", ["pkg.dev."]],
        ]);
    });

    it("constructs in preview mode, with ids unknown", async () => {
        const run = await build({ egressAllowList: { fqdns: ["github.com"] } }, "pool-a-net", true);
        assert.strictEqual(run.preview, true);
        const net = one(run, T.network);
        assert.strictEqual(net.id, UNKNOWN);
        assert.strictEqual(one(run, T.subnet).inputs.network, UNKNOWN);
        assert.deepStrictEqual(one(run, T.subnet).propertyDependencies.network, [net.urn]);
        assert.strictEqual(one(run, T.zone).inputs.privateVisibilityConfig.networks[0].networkUrl, UNKNOWN);
        one(run, T.nat);
        assert.deepStrictEqual(one(run, T.rule).inputs.match.destFqdns, ["github.com"]);
        assert.strictEqual(byType(run, T.firewall).length, 3);
    });

    describe("invalid arguments", () => {
        async function failing(args: Partial<IsolatedNetworkArgs>, name = "pool-a-net"): Promise<{ run: ProgramRun; message: string }> {
            const run = await runProgram(() => {
                new IsolatedNetwork(name, { ...base, ...args } as IsolatedNetworkArgs);
            }, { allowError: true });
            assert.ok(run.error instanceof Error, "the program fails");
            // Nothing registered: only the stack.
            assert.deepStrictEqual(run.resources.map((r) => r.type), ["pulumi:pulumi:Stack"]);
            return { run, message: (run.error as Error).message };
        }

        it("rejects a bad CIDR naming the field and value", async () => {
            const { message } = await failing({ cidr: "10.10.0.0/33" });
            assert.match(message, /IsolatedNetwork "pool-a-net"/);
            assert.match(message, /cidr: "10\.10\.0\.0\/33" is not an IPv4 CIDR/);
        });

        it("rejects host bits, too-small prefixes and reserved blocks with the fix", async () => {
            assert.match((await failing({ cidr: "10.10.0.5/24" })).message, /cidr: "10\.10\.0\.5\/24" is not a network address \(host bits are set\); use 10\.10\.0\.0\/24/);
            assert.match((await failing({ cidr: "10.10.0.0/30" })).message, /between \/8 and \/29/);
            assert.match((await failing({ cidr: "199.36.153.0/24" })).message, /restricted\.googleapis\.com VIP/);
        });

        it("rejects flowLogSampling outside 0..1", async () => {
            assert.match((await failing({ flowLogSampling: 1.5 })).message, /flowLogSampling: 1\.5 is out of range; use a number between 0 and 1/);
            assert.match((await failing({ flowLogSampling: -0.1 })).message, /flowLogSampling: -0\.1/);
        });

        it("rejects allow-lists that do not parse or open everything", async () => {
            const { message } = await failing({ egressAllowList: { cidrs: ["0.0.0.0/0", "github"], fqdns: ["*.github.com", "bad_host"] } });
            assert.match(message, /egressAllowList\.cidrs\[0\]: "0\.0\.0\.0\/0" would allow egress to the whole internet/);
            assert.match(message, /egressAllowList\.cidrs\[1\]: "github" is not an IPv4 CIDR/);
            assert.match(message, /egressAllowList\.fqdns\[0\]: "\*\.github\.com" is a wildcard, and firewall FQDN objects match exact host names only/);
            assert.match(message, /egressAllowList\.fqdns\[1\]: "bad_host" is not fully qualified/);
        });

        it("rejects secondary ranges that overlap the primary range or repeat a name", async () => {
            const { message } = await failing({ secondaryRanges: [{ rangeName: "pods", ipCidrRange: "10.10.0.0/16" }, { rangeName: "pods", ipCidrRange: "10.40.0.0/16" }] });
            assert.match(message, /secondaryRanges\[0\]\.ipCidrRange: "10\.10\.0\.0\/16" overlaps the primary range "10\.10\.0\.0\/24"/);
            assert.match(message, /secondaryRanges\[1\]\.rangeName: "pods" is used twice/);
        });

        it("rejects a bad role, pool and component name, reporting every problem at once", async () => {
            const { message } = await failing({ role: "tenant" as never, pool: "Pool A", cidr: "nope", flowLogSampling: 7 }, "Bad_Name");
            for (const field of ["name:", "role:", "pool:", "cidr:", "flowLogSampling:"]) {
                assert.ok(message.includes(field), `${field} reported in:\n${message}`);
            }
        });
    });
});
