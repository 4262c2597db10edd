import * as assert from "assert";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { JIT_CONFIG_PATH } from "../../../../services/controlPlane/broker/app";
import { POD_REGISTRATION_PATH, PodRegistrationResponse } from "../../../../services/controlPlane/broker/pod";
import { EnvReader } from "../../../../services/controlPlane/config";
import { DEFAULT_POD_AUDIENCE } from "../../../../services/controlPlane/broker/config";
import { MAX_POD_TOKEN_LIFETIME_SECONDS } from "../../../../services/lib/podToken";
import { BROKER_TOKEN_AUDIENCE, BROKER_TOKEN_EXPIRATION_SECONDS } from "../../../../components/runnerPool/podTemplate";
import { isPodPool, readPools } from "../../../../services/controlPlane/pools";
import { simPool } from "../../../../services/sim/fixtures";
import { startSimFleet, SimFleet, SIM_AUDIENCE } from "../../../../services/sim/fleet";
import { API_SERVER_AUDIENCE, POD_ATTACKS, podRegister } from "../../../../services/sim/podAttacks";

const codeOf = (a: { body?: any }) => (typeof a.body === "string" ? JSON.parse(a.body) : a.body)?.error?.code;

describe("registration broker: runner pods of GKE pools", function () {
    this.timeout(60_000);
    let fleet: SimFleet;
    let dir: string;
    before(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "hbf-broker-pod-"));
        fleet = await startSimFleet({ pools: 1, gkePools: 2, dir, quiet: true });
    });
    after(async () => {
        await fleet.close();
        rmSync(dir, { recursive: true, force: true });
    });
    const gke = () => fleet.pools.filter(isPodPool);

    it("grants a running ARC pod its own location once, with the runner ARC registered, confirmed through the API", async () => {
        const [pool] = gke();
        const pod = await fleet.cluster!.startRunnerPod(pool, fleet.arcGithub());
        const res = await podRegister(fleet, await fleet.cluster!.projectedToken(pod, { audience: SIM_AUDIENCE.broker }), pool.name);
        assert.strictEqual(res.status, 201, JSON.stringify(res.body));
        const grant = res.body as PodRegistrationResponse;
        assert.strictEqual(grant.upload.prefix, `${pool.name}/${pod.uid}/`);
        assert.strictEqual(grant.upload.bucket, pool.intakeBucket);
        assert.deepStrictEqual(grant.pod, { namespace: pool.kubernetes!.namespace, name: pod.name, uid: pod.uid });
        const er = fleet.cluster!.runners.get(pod.ephemeralRunner)!;
        assert.deepStrictEqual(grant.runner, { id: er.runnerId, name: er.runnerName });
        const reg = (await fleet.records.registration(pod.uid))!;
        assert.strictEqual(reg.backend, "gke");
        assert.strictEqual(reg.runnerName, er.runnerName);
        assert.deepStrictEqual(reg.bootImage, { uri: "ghcr.io/actions/actions-runner:2.330.0", digest: { sha256: pod.imageDigest } });
        assert.strictEqual((await fleet.records.runner(er.runnerName))!.instanceId, pod.uid);
    });

    for (const attack of POD_ATTACKS) {
        it(`refuses ${attack.name} (${attack.status} ${attack.code}), and lets it through with that protection switched off`, async () => {
            const on = await attack.run(fleet, true);
            assert.strictEqual(on.status, attack.status, JSON.stringify(on.body));
            assert.strictEqual(codeOf(on), attack.code, JSON.stringify(on.body));
            const off = await attack.run(fleet, false);
            assert.ok(off.status === 201 || off.status === 204, `${attack.name} with its protection off: ${off.status} ${JSON.stringify(off.body)}`);
        });
    }

    it("answers malformed and misdirected requests with a 4xx code and stores nothing", async () => {
        const [pool] = gke();
        const gcePool = fleet.pools.find((p) => !isPodPool(p))!;
        const pod = await fleet.cluster!.startRunnerPod(pool, fleet.arcGithub());
        const good = await fleet.cluster!.projectedToken(pod, { audience: SIM_AUDIENCE.broker });
        const inject = async (url: string, body: string, token?: string) => {
            const res = await fleet.broker.app.inject({ method: "POST", url, payload: body, headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) } });
            return { status: res.statusCode, code: JSON.parse(res.body).error?.code };
        };
        const cases: [string, string, string | undefined, number, string][] = [
            [POD_REGISTRATION_PATH, JSON.stringify({ pool: pool.name }), undefined, 401, "missing-token"],
            [POD_REGISTRATION_PATH, JSON.stringify({ pool: "nope" }), good, 400, "unknown-pool"],
            [POD_REGISTRATION_PATH, JSON.stringify([1]), good, 400, "unknown-pool"],
            [POD_REGISTRATION_PATH, "{", good, 400, "bad-request"],
            [POD_REGISTRATION_PATH, JSON.stringify({ pool: gcePool.name }), good, 400, "not-a-pod-pool"],
            [JIT_CONFIG_PATH, JSON.stringify({ pool: pool.name }), good, 400, "pod-pool"],
            [POD_REGISTRATION_PATH, JSON.stringify({ pool: pool.name }), "a.b.c", 401, "token-malformed"],
            [POD_REGISTRATION_PATH, JSON.stringify({ pool: pool.name }), await fleet.cluster!.projectedToken(pod, { audience: SIM_AUDIENCE.broker, unbound: true }), 401, "token-not-pod-bound"],
            [POD_REGISTRATION_PATH, JSON.stringify({ pool: pool.name }), await fleet.cluster!.projectedToken(pod, { audience: [SIM_AUDIENCE.broker, API_SERVER_AUDIENCE] }), 401, "token-wrong-audience"],
            [POD_REGISTRATION_PATH, JSON.stringify({ pool: pool.name }), await fleet.cluster!.projectedToken(pod, { audience: SIM_AUDIENCE.broker, namespace: "default" }), 403, "wrong-namespace"],
            [POD_REGISTRATION_PATH, JSON.stringify({ pool: pool.name }), await fleet.cluster!.projectedToken(pod, { audience: SIM_AUDIENCE.broker, serviceAccount: "default" }), 403, "wrong-service-account"],
        ];
        for (const [url, body, token, status, code] of cases) {
            assert.deepStrictEqual(await inject(url, body, token), { status, code }, `${url} ${body}`);
        }
        assert.strictEqual(await fleet.records.registration(pod.uid), undefined, "nothing stored for the refused pod");
        // The same pod with its proper token still registers: the refusals above left no claim behind.
        assert.strictEqual((await podRegister(fleet, good, pool.name)).status, 201);
    });

    it("refuses a pod that is not controlled by an EphemeralRunner of the pool's scale set", async () => {
        const [pool, other] = gke();
        const pod = await fleet.cluster!.startRunnerPod(pool, fleet.arcGithub());
        // The EphemeralRunner now carries the other pool's scale-set label.
        fleet.cluster!.runners.get(pod.ephemeralRunner)!.scaleSet = other.kubernetes!.scaleSet;
        const res = await podRegister(fleet, await fleet.cluster!.projectedToken(pod, { audience: SIM_AUDIENCE.broker }), pool.name);
        assert.deepStrictEqual([res.status, codeOf(res)], [403, "not-in-scale-set"]);
        fleet.cluster!.runners.get(pod.ephemeralRunner)!.scaleSet = pool.kubernetes!.scaleSet;
        pod.phase = "Succeeded";
        const done = await podRegister(fleet, await fleet.cluster!.projectedToken(pod, { audience: SIM_AUDIENCE.broker }), pool.name);
        assert.deepStrictEqual([done.status, codeOf(done)], [403, "pod-not-running"]);
    });
});

describe("GKE pool configuration", () => {
    it("requires the cluster settings of a gke pool, and no MIG or service-account email, naming every problem at once", () => {
        const reader = new EnvReader({
            POOLS: JSON.stringify([
                { ...simPool("gke-a"), mig: undefined, serviceAccount: undefined, backend: "gke", kubernetes: { issuer: "http://example.com", apiServer: "https://1.2.3.4", namespace: "Runners", serviceAccount: "r", scaleSet: "s" } },
                { ...simPool("gke-b"), backend: "k8s" },
            ]),
        });
        readPools(reader, "POOLS", ["name", "labels", "mig", "serviceAccount", "intakeBucket"]);
        assert.deepStrictEqual(reader.problems.map((p) => p.split(":")[0]), ["POOLS[0].kubernetes.issuer", "POOLS[0].kubernetes.namespace", "POOLS[1].backend"]);
        assert.match(reader.problems[1], /"Runners" is not valid; set the pool's runner namespace/);
    });

    it("refuses two pools sharing a runner namespace in one cluster", () => {
        const k8s = { issuer: "https://container.googleapis.com/v1/projects/p/locations/l/clusters/c", apiServer: "https://10.0.0.2", namespace: "runners", serviceAccount: "runner", scaleSet: "s" };
        const reader = new EnvReader({ POOLS: JSON.stringify([{ ...simPool("gke-a"), backend: "gke", kubernetes: k8s }, { ...simPool("gke-b"), backend: "gke", kubernetes: { ...k8s, scaleSet: "t" } }]) });
        readPools(reader, "POOLS", ["name", "labels"]);
        assert.strictEqual(reader.problems.length, 1);
        assert.match(reader.problems[0], /^POOLS\[1\]\.kubernetes\.namespace: "runners" is already the namespace of pool "gke-a"/);
    });
});

describe("one broker token audience and lifetime across the pod template, the broker and the pack", () => {
    it("the broker's default pod audience and maximum token lifetime are the pod template's", () => {
        assert.strictEqual(DEFAULT_POD_AUDIENCE, BROKER_TOKEN_AUDIENCE);
        assert.strictEqual(MAX_POD_TOKEN_LIFETIME_SECONDS, BROKER_TOKEN_EXPIRATION_SECONDS);
    });
});
