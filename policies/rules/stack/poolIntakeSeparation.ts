/**
 * pool-intake-separation (I5, I11): a runner identity holds roles only on its own pool's intake
 * bucket, never on another pool's (bucket or project-level storage grants), and no service
 * account serves runners of two pools.
 */
import { get } from "../../model/props";
import { FleetStackPolicy } from "../../meta";
import { Grant, UNDECIDED } from "../../model";
import { listText, stackRule } from "../../framework/stackRule";

export const poolIntakeSeparation: FleetStackPolicy = stackRule({
    name: "pool-intake-separation",
    description:
        "[I5, I11] No runner identity holds any role on another pool's intake bucket (bucket IAM, or storage roles over the " +
        "bucket's project), and every pool has its own runner service account.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "no runner SA holds a role on another pool's intake bucket (bucket IAM or project-level storage roles); one SA per pool",
        invariants: ["I5", "I11"],
        fix: "Grant each pool's runner SA roles/storage.objectCreator on its own pool's intake bucket only, and give every pool its own runner SA.",
    },
    check: (g, report) => {
        // One SA per pool.
        for (const ri of g.runnerIdentities.values()) {
            if (ri.pools.size > 1) {
                report(`runner identity ${ri.principal.label} serves pools ${listText([...ri.pools].sort())}; each pool needs its own service account`, ri.principal.sa?.urn);
            }
        }
        if (g.intakeBuckets.size === 0) {
            return;
        }

        const check = (gr: Grant, bucketName: string, pool: string) => {
            for (const p of gr.members) {
                if (p.unresolved) {
                    report(`${UNDECIDED} ${p.label} is unknown until apply and depends on no service account; it may be another pool's runner on intake bucket ${bucketName} of pool ${pool}`, gr.res.urn);
                    continue;
                }
                const ri = g.runnerIdentities.get(p.id);
                if (!ri || (ri.pools.has(pool) && ri.pools.size === 1)) {
                    continue;
                }
                const whose = ri.pools.size > 0 ? `of pool ${listText([...ri.pools].sort())}` : "with no pool label";
                report(`runner identity ${p.label} (${whose}) holds ${g.roleText(gr)} on intake bucket ${bucketName} of pool ${pool} [${gr.res.name}]`, gr.res.urn);
            }
        };

        const projects = new Map<string, { name: string; pool: string }[]>();
        for (const [urn, pool] of g.intakeBuckets) {
            const bucket = g.byUrn.get(urn)!;
            const name = String(get(bucket.props, "name") ?? bucket.name);
            for (const gr of g.grantsByTarget.get(urn) ?? []) {
                check(gr, name, pool);
            }
            const pr = g.projectOf(bucket);
            if (typeof pr === "string") {
                const arr = projects.get(pr) ?? [];
                arr.push({ name, pool });
                projects.set(pr, arr);
            }
        }
        // Storage roles at project / folder / org scope reach every intake bucket there.
        for (const [pr, buckets] of projects) {
            for (const gr of g.grantsInProject(pr).grants) {
                const t = g.touchesStorage(gr);
                if (t === false) {
                    continue;
                }
                for (const p of gr.members) {
                    const ri = g.runnerIdentities.get(p.id);
                    if (!ri) {
                        continue;
                    }
                    // The first intake bucket in the project that is not this runner's own.
                    const foreign = buckets.find((b) => !(ri.pools.has(b.pool) && ri.pools.size === 1));
                    if (!foreign) {
                        continue;
                    }
                    if (t === "unknown") {
                        report(`${UNDECIDED} runner identity ${p.label} holds ${g.roleText(gr)} ${g.whereText(gr)}, which may cover intake bucket ${foreign.name} of pool ${foreign.pool}`, gr.res.urn);
                    } else {
                        const whose = ri.pools.size > 0 ? `of pool ${listText([...ri.pools].sort())}` : "with no pool label";
                        report(`runner identity ${p.label} (${whose}) holds ${g.roleText(gr)} ${g.whereText(gr)}, which covers intake bucket ${foreign.name} of pool ${foreign.pool} [${gr.res.name}]`, gr.res.urn);
                    }
                }
            }
        }
        for (const gr of g.unknownTargetGrants) {
            if (gr.scope !== "bucket") {
                continue;
            }
            for (const p of gr.members) {
                if (g.runnerIdentities.has(p.id)) {
                    report(`${UNDECIDED} runner identity ${p.label} holds ${g.roleText(gr)} on a bucket unknown until apply; it may be another pool's intake bucket`, gr.res.urn);
                }
            }
        }
    },
});
