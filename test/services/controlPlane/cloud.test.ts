import * as assert from "assert";
import { AuthorizedRequester, ComputeMigMembership, ComputeMigScaler, DEMAND_METRIC, MonitoringDemandPublisher } from "../../../services/controlPlane/cloud";
import { simPool } from "../../../services/sim/fixtures";

describe("cloud implementations (Compute REST, Cloud Monitoring) with injected transports", () => {
    const pool = simPool("pool-a");
    const instance = { project: "sim-workers", zone: "europe-west1-b", instanceName: "pool-a-mig-x1", instanceId: "123" };
    const base = "https://compute.googleapis.com/compute/v1/projects/sim-workers/regions/europe-west1/instanceGroupManagers/pool-a-mig";

    function transport(pages: any[]): AuthorizedRequester & { calls: any[] } {
        const calls: any[] = [];
        return {
            calls,
            request: async (opts) => {
                calls.push(opts);
                return { data: pages[calls.length - 1] ?? {} } as any;
            },
        };
    }
    const managed = (name: string, id: string, zone = "europe-west1-b") => ({ instance: `https://www.googleapis.com/compute/v1/projects/sim-workers/zones/${zone}/instances/${name}`, id });

    it("finds a member on a later page of listManagedInstances, matching zone, name and id", async () => {
        const t = transport([{ managedInstances: [managed("other", "1")], nextPageToken: "p2" }, { managedInstances: [managed("pool-a-mig-x1", "123")] }]);
        assert.strictEqual(await new ComputeMigMembership(t).isMember(pool, instance), true);
        assert.deepStrictEqual(t.calls.map((c) => [c.url, c.method, c.params.pageToken]), [[`${base}/listManagedInstances`, "POST", undefined], [`${base}/listManagedInstances`, "POST", "p2"]]);
    });

    it("refuses a same-named instance with another id or in another zone", async () => {
        for (const m of [managed("pool-a-mig-x1", "999"), managed("pool-a-mig-x1", "123", "europe-west1-c")]) {
            assert.strictEqual(await new ComputeMigMembership(transport([{ managedInstances: [m] }])).isMember(pool, instance), false);
        }
        assert.strictEqual(await new ComputeMigMembership(transport([{}])).isMember(pool, instance), false);
    });

    it("scales in through deleteInstances on the pool's MIG", async () => {
        const t = transport([{}]);
        await new ComputeMigScaler(t).deleteInstance(pool, instance);
        assert.deepStrictEqual(t.calls, [{ url: `${base}/deleteInstances`, method: "POST", data: { instances: ["zones/europe-west1-b/instances/pool-a-mig-x1"], skipInstancesOnValidationError: true } }]);
    });

    it("publishes one GAUGE point per pool labelled with the pool", async () => {
        const requests: any[] = [];
        const publisher = new MonitoringDemandPublisher("workers-proj", { createTimeSeries: async (r) => requests.push(r) });
        await publisher.publish([]);
        assert.strictEqual(requests.length, 0);
        await publisher.publish([{ pool: "pool-a", value: 3, at: new Date("2026-01-01T00:00:10Z") }]);
        assert.deepStrictEqual(requests, [{
            name: "projects/workers-proj",
            timeSeries: [{
                metric: { type: DEMAND_METRIC, labels: { pool: "pool-a" } },
                resource: { type: "global", labels: { project_id: "workers-proj" } },
                metricKind: "GAUGE",
                valueType: "INT64",
                points: [{ interval: { endTime: { seconds: 1767225610 } }, value: { int64Value: 3 } }],
            }],
        }]);
    });
});
