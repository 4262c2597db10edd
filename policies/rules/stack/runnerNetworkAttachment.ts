/**
 * runner-network-attachment (I5): each runner VM, template, node pool or cluster attaches only to
 * its own pool's network: runners of different pools never share a network or subnetwork, and no
 * runner attaches to the signer network.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { FleetStackPolicy } from "../../meta";
import { UNDECIDED } from "../../model";
import { stackRule } from "../../framework/stackRule";

export const runnerNetworkAttachment: FleetStackPolicy = stackRule({
    name: "runner-network-attachment",
    description:
        "[I5] Each runner (VM, instance template, node pool, cluster) attaches only to its own pool's network: runners of " +
        "different pools share no network or subnetwork, and no runner attaches to the signer network.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "runners of different pools share no network or subnetwork; no runner sits on the signer network",
        invariants: ["I5"],
        fix: "Give every pool its own IsolatedNetwork and attach the pool's runners to that network's subnet only; never to the signer's.",
    },
    check: (g, report) => {
        const firstPool = new Map<string, { pool: string; res: PolicyResource }>();
        const claim = (net: PolicyResource, what: string, pool: string, res: PolicyResource) => {
            const prev = firstPool.get(net.urn);
            if (!prev) {
                firstPool.set(net.urn, { pool, res });
            } else if (prev.pool !== pool) {
                report(`runner ${res.name} (pool ${pool}) and runner ${prev.res.name} (pool ${prev.pool}) share ${what} ${g.networkLabel(net)}; each pool needs its own network`, res.urn);
            }
        };
        for (const n of g.compute) {
            if (!n.isRunner) {
                continue;
            }
            if (n.networkUnknown) {
                report(`${UNDECIDED} runner ${n.res.name} attaches to a network unknown until apply that depends on no network in this stack`, n.res.urn);
            }
            for (const net of n.networks) {
                if (g.signerNetworks.has(net.urn)) {
                    report(`runner ${n.res.name} attaches to the signer network ${g.networkLabel(net)}`, n.res.urn);
                }
                if (n.pool !== undefined) {
                    claim(net, "network", n.pool, n.res);
                }
            }
            if (n.pool !== undefined) {
                for (const s of n.subnets) {
                    claim(s, "subnetwork", n.pool, n.res);
                }
            }
        }
    },
});
