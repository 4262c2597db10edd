/**
 * Schema check: every Kubernetes object a GKE RunnerPool emits, and every pod template inside its Helm
 * values (wrapped as a Pod), validates against the upstream Kubernetes OpenAPI schemas
 * (kubernetes-models). A negative test proves the validator rejects malformed objects.
 *
 * Note: the upstream schemas do not forbid unknown fields, so a misspelt optional field passes the
 * schema; the GKE test pins the exact shape of the hardening fields instead.
 */
import * as assert from "assert";
import { importEsm } from "../../helpers/esm";
import { ProgramRun, runProgram } from "../../../plan/engine";
import type { PoolConfig } from "../../../components/config";
import { defaultDenyPolicySpec, runnerEgressPolicySpec } from "../../../components/runnerPool/scaleSet";
import { listenerPodTemplate, runnerPodTemplate } from "../../../components/runnerPool/podTemplate";
import { RunnerPool, RunnerPoolArgs } from "../../../components/runnerPool";

const pool: PoolConfig = {
    name: "pool-s",
    backend: "gke",
    machineType: "e2-standard-8",
    minRunners: 1,
    maxRunners: 5,
    spot: false,
    cidr: "10.40.0.0/22",
    egressAllowList: { cidrs: ["140.82.112.0/20"], fqdns: ["github.com"] },
    maxBuildDurationSeconds: 3600,
    image: "ghcr.io/actions/actions-runner:2.329.0",
    confidentialCompute: false,
    podCidr: "10.64.0.0/14",
    serviceCidr: "10.44.0.0/20",
    masterCidr: "172.16.0.0/28",
};

function gkeArgs(overrides: Partial<PoolConfig> = {}, extra: Partial<RunnerPoolArgs> = {}): RunnerPoolArgs {
    return {
        pool: { ...pool, ...overrides },
        project: "worker-proj",
        region: "europe-west1",
        github: { configUrl: "https://github.com/example-org" },
        ...extra,
    };
}

function buildGke(args: RunnerPoolArgs = gkeArgs()): Promise<ProgramRun> {
    return runProgram(() => {
        new RunnerPool("pool-s", args);
    });
}

type Validator = (obj: Record<string, any>) => void;
type ModelClass = new (data: Record<string, any>) => { validate(): void };

/** kubernetes-models 5 is ESM-only: its classes are loaded once, before the tests run. */
const models: Record<string, ModelClass> = {};
before(async () => {
    const core = await importEsm("kubernetes-models/v1");
    const networking = await importEsm("kubernetes-models/networking.k8s.io/v1");
    for (const kind of ["Namespace", "ResourceQuota", "LimitRange", "ServiceAccount", "Pod"]) {
        models[kind] = core[kind];
    }
    models.NetworkPolicy = networking.NetworkPolicy;
});

function check(kind: string, obj: Record<string, any>): void {
    new models[kind](obj).validate();
}

/** One validator per Kubernetes resource type the component may emit. */
const VALIDATORS: Record<string, Validator> = {
    "kubernetes:core/v1:Namespace": (o) => check("Namespace", o),
    "kubernetes:core/v1:ResourceQuota": (o) => check("ResourceQuota", o),
    "kubernetes:core/v1:LimitRange": (o) => check("LimitRange", o),
    "kubernetes:core/v1:ServiceAccount": (o) => check("ServiceAccount", o),
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": (o) => check("NetworkPolicy", o),
};

/** A pod template `{ metadata, spec }` as a Pod object. */
function asPod(name: string, template: { metadata?: Record<string, any>; spec: Record<string, any> }): Record<string, any> {
    return { apiVersion: "v1", kind: "Pod", metadata: { name, ...(template.metadata ?? {}) }, spec: template.spec };
}

function validatePod(obj: Record<string, any>): void {
    check("Pod", obj);
}

/** Every pod spec inside a release's values, wrapped as a Pod: runner template, listener template, controller pod. */
function podsInValues(release: string, values: Record<string, any>): [string, Record<string, any>][] {
    const pods: [string, Record<string, any>][] = [];
    if (values.template !== undefined) {
        pods.push([`${release}.values.template`, asPod("runner", values.template)]);
    }
    if (values.listenerTemplate !== undefined) {
        pods.push([`${release}.values.listenerTemplate`, asPod("listener", values.listenerTemplate)]);
    }
    if (values.podSecurityContext !== undefined || values.securityContext !== undefined) {
        pods.push([`${release}.values (controller pod)`, asPod("controller", {
            spec: {
                securityContext: values.podSecurityContext,
                nodeSelector: values.nodeSelector,
                tolerations: values.tolerations,
                containers: [{ name: "manager", securityContext: values.securityContext }],
            },
        })]);
    }
    return pods;
}

describe("Kubernetes schema check (kubernetes-models)", function () {
    this.timeout(60000);

    const runs: [string, () => Promise<ProgramRun>][] = [
        ["default GKE pool", () => buildGke()],
        ["GKE pool with GKE-allocated ranges, no FQDNs, custom namespace", () => buildGke(gkeArgs(
            { podCidr: undefined, serviceCidr: undefined, egressAllowList: { cidrs: [], fqdns: [] } },
            { gke: { runnerNamespace: "builds", readOnlyRootFilesystem: true } },
        ))],
    ];

    for (const [label, build] of runs) {
        describe(label, () => {
            let run: ProgramRun;
            before(async () => {
                run = await build();
            });

            it("validates every emitted Kubernetes object against its upstream schema", () => {
                const objects = run.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:helm.sh/v3:Release");
                assert.ok(objects.length >= 8, `only ${objects.length} Kubernetes objects captured`);
                for (const r of objects) {
                    const validate = VALIDATORS[r.type];
                    assert.ok(validate, `no schema validator for ${r.type} (${r.name}): add one`);
                    assert.strictEqual(typeof r.inputs.apiVersion, "string", `${r.name} has no apiVersion`);
                    assert.strictEqual(typeof r.inputs.kind, "string", `${r.name} has no kind`);
                    assert.doesNotThrow(() => validate(r.inputs), `${r.type} ${r.name} fails its schema`);
                }
            });

            it("validates every pod template inside the Helm values, wrapped as a Pod", () => {
                const releases = run.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
                assert.strictEqual(releases.length, 2);
                const pods = releases.flatMap((r) => podsInValues(r.name, r.inputs.values));
                assert.strictEqual(pods.length, 3, pods.map(([p]) => p).join(", "));
                for (const [path, pod] of pods) {
                    assert.doesNotThrow(() => validatePod(pod), `${path} fails the Pod schema`);
                }
            });
        });
    }

    it("validates the pure builders for other option shapes", () => {
        for (const readOnlyRootFilesystem of [true, false]) {
            validatePod(asPod("runner", runnerPodTemplate({
                pool: "p", image: "ghcr.io/actions/actions-runner:2.329.0", serviceAccountName: "p-runner", activeDeadlineSeconds: 60, readOnlyRootFilesystem,
                resources: { cpuMillicores: 500, memoryMiB: 1024, ephemeralStorageGiB: 5 },
            })));
        }
        validatePod(asPod("listener", listenerPodTemplate({ pool: "p" })));
        for (const spec of [defaultDenyPolicySpec(), runnerEgressPolicySpec({ cidrs: ["10.1.0.0/16"], fqdns: ["github.com"] })]) {
            check("NetworkPolicy", { metadata: { name: "x", namespace: "n" }, spec });
        }
    });

    describe("negative: the validator catches malformed objects", () => {
        const template = runnerPodTemplate({ pool: "p", image: "img", serviceAccountName: "sa", activeDeadlineSeconds: 60 });

        it("rejects a pod whose activeDeadlineSeconds is a string", () => {
            const bad = asPod("runner", { ...template, spec: { ...template.spec, activeDeadlineSeconds: "60" } });
            assert.throws(() => validatePod(bad), /activeDeadlineSeconds must be integer/);
        });

        it("rejects a container without a name and a non-boolean runAsNonRoot", () => {
            const container = { ...template.spec.containers[0], securityContext: { runAsNonRoot: "true" } } as Record<string, any>;
            delete container.name;
            const bad = asPod("runner", { ...template, spec: { ...template.spec, containers: [container] } });
            assert.throws(() => validatePod(bad), /name|runAsNonRoot/);
        });

        it("rejects a NetworkPolicy whose policyTypes is not a list", () => {
            const bad = { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "x" }, spec: { podSelector: {}, policyTypes: "Egress" } };
            assert.throws(() => VALIDATORS["kubernetes:networking.k8s.io/v1:NetworkPolicy"](bad), /policyTypes must be array/);
        });

        it("rejects a Namespace with non-string labels and a ServiceAccount with a non-boolean automount flag", () => {
            assert.throws(() => VALIDATORS["kubernetes:core/v1:Namespace"]({ apiVersion: "v1", kind: "Namespace", metadata: { name: "x", labels: { a: 1 } } }));
            assert.throws(() => VALIDATORS["kubernetes:core/v1:ServiceAccount"]({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "x" }, automountServiceAccountToken: "false" }));
        });
    });
});
