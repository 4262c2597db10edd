/**
 * Kubernetes runner namespace and workload rules (I1, I6, I7) over raw @pulumi/kubernetes resources:
 * Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob, the ARC AutoscalingRunnerSet custom resource
 * and Helm releases of gha-runner-scale-set.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import { Checked, check, expectFired, expectMessage } from "./harness";

type PodSpec = k8s.types.input.core.v1.PodSpec;
const RUNNER_LABELS = { "build-fleet-role": "runner", "build-fleet-pool": "a" };
const IMAGE = "ghcr.io/actions/actions-runner:2.328.0";

/** A runner pod spec that passes every rule. */
function goodSpec(): PodSpec {
    return {
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, runAsUser: 1001, seccompProfile: { type: "RuntimeDefault" } },
        containers: [{
            name: "runner",
            image: IMAGE,
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
            volumeMounts: [{ name: "work", mountPath: "/home/runner/_work" }],
        }],
        volumes: [{ name: "work", emptyDir: {} }],
    };
}

const withContainer = (s: PodSpec, sc: k8s.types.input.core.v1.SecurityContext, extra: Partial<k8s.types.input.core.v1.Container> = {}): PodSpec => ({
    ...s,
    containers: [{ name: "runner", image: IMAGE, securityContext: sc, ...extra }],
});
const goodSc = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };

type Case = { name: string; expect: string[]; spec: (g: PodSpec) => PodSpec };
const POD_CASES: Case[] = [
    { name: "good", expect: [], spec: (g) => g },
    { name: "container-level-only", expect: [], spec: (g) => withContainer({ ...g, securityContext: undefined }, { ...goodSc, runAsNonRoot: true, seccompProfile: { type: "Localhost", localhostProfile: "runner.json" } }) },
    { name: "privileged", expect: ["k8s-runner-pod-security"], spec: (g) => withContainer(g, { ...goodSc, privileged: true }) },
    { name: "escalation", expect: ["k8s-runner-pod-security"], spec: (g) => withContainer(g, { capabilities: { drop: ["ALL"] } }) },
    { name: "root", expect: ["k8s-runner-pod-security"], spec: (g) => ({ ...g, securityContext: { runAsUser: 0, seccompProfile: { type: "RuntimeDefault" } } }) },
    { name: "container-overrides-nonroot", expect: ["k8s-runner-pod-security"], spec: (g) => withContainer(g, { ...goodSc, runAsNonRoot: false }) },
    { name: "no-drop-all", expect: ["k8s-runner-pod-security"], spec: (g) => withContainer(g, { allowPrivilegeEscalation: false, capabilities: { drop: ["NET_RAW"] } }) },
    { name: "add-sys-admin", expect: ["k8s-runner-pod-security"], spec: (g) => withContainer(g, { ...goodSc, capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] } }) },
    { name: "add-net-bind", expect: [], spec: (g) => withContainer(g, { ...goodSc, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } }) },
    { name: "unconfined", expect: ["k8s-runner-pod-security"], spec: (g) => withContainer(g, { ...goodSc, seccompProfile: { type: "Unconfined" } }) },
    { name: "no-seccomp", expect: ["k8s-runner-pod-security"], spec: (g) => ({ ...g, securityContext: { runAsNonRoot: true } }) },
    {
        name: "bad-init-container",
        expect: ["k8s-runner-pod-security"],
        spec: (g) => ({ ...g, initContainers: [{ name: "setup", image: IMAGE, securityContext: { privileged: true, allowPrivilegeEscalation: true } }] }),
    },
    { name: "host-network", expect: ["k8s-runner-no-host-access"], spec: (g) => ({ ...g, hostNetwork: true }) },
    { name: "host-pid-ipc", expect: ["k8s-runner-no-host-access"], spec: (g) => ({ ...g, hostPID: true, hostIPC: true }) },
    { name: "host-path", expect: ["k8s-runner-no-host-access"], spec: (g) => ({ ...g, volumes: [{ name: "work", hostPath: { path: "/var/run/docker.sock" } }] }) },
    { name: "host-port", expect: ["k8s-runner-no-host-access"], spec: (g) => withContainer(g, goodSc, { ports: [{ containerPort: 8080, hostPort: 8080 }] }) },
    { name: "pvc", expect: ["k8s-runner-no-persistent-volumes"], spec: (g) => ({ ...g, volumes: [{ name: "work", persistentVolumeClaim: { claimName: "cache" } }] }) },
    {
        name: "ephemeral-claim",
        expect: ["k8s-runner-no-persistent-volumes"],
        spec: (g) => ({ ...g, volumes: [{ name: "work", ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } } } } }] }),
    },
    { name: "token", expect: ["k8s-runner-no-sa-token"], spec: (g) => ({ ...g, automountServiceAccountToken: undefined }) },
    { name: "token-true", expect: ["k8s-runner-no-sa-token"], spec: (g) => ({ ...g, automountServiceAccountToken: true }) },
];

const meta = (name: string, labels: Record<string, string> = RUNNER_LABELS) => ({ name, namespace: "runners", labels });

function program(preview: boolean) {
    return () => {
        const ns = new k8s.core.v1.Namespace("ns-runner", { metadata: { name: "runners", labels: { ...RUNNER_LABELS, "pod-security.kubernetes.io/enforce": "restricted" } } });
        new k8s.core.v1.Namespace("ns-baseline", { metadata: { name: "runners-b", labels: { ...RUNNER_LABELS, "pod-security.kubernetes.io/enforce": "baseline" } } });
        new k8s.core.v1.Namespace("ns-unset", { metadata: { name: "runners-c", labels: RUNNER_LABELS } });
        new k8s.core.v1.Namespace("ns-other", { metadata: { name: "tools" } });

        for (const c of POD_CASES) {
            new k8s.core.v1.Pod(`pod-${c.name}`, { metadata: meta(`pod-${c.name}`), spec: c.spec(goodSpec()) });
        }
        const tmpl = (spec: PodSpec, labels: Record<string, string> = RUNNER_LABELS) => ({ metadata: { labels }, spec });
        const selector = { matchLabels: RUNNER_LABELS };
        // Workload kinds: the pod template is found and checked; classification by template labels.
        new k8s.apps.v1.Deployment("deploy-good", { metadata: meta("d1", {}), spec: { selector, template: tmpl(goodSpec()) } });
        new k8s.apps.v1.Deployment("deploy-priv", { metadata: meta("d2", {}), spec: { selector, template: tmpl(withContainer(goodSpec(), { ...goodSc, privileged: true })) } });
        new k8s.apps.v1.Deployment("deploy-not-runner", { metadata: meta("d3", { app: "tools" }), spec: { selector: { matchLabels: { app: "tools" } }, template: tmpl({ containers: [{ name: "x", image: "busybox" }] }, { app: "tools" }) } });
        new k8s.apps.v1.Deployment("deploy-gvisor", {
            metadata: meta("d4", {}),
            spec: { selector: { matchLabels: { app: "g" } }, template: tmpl({ runtimeClassName: "gvisor", containers: [{ name: "x", image: "busybox" }] }, { app: "g" }) },
        });
        new k8s.apps.v1.StatefulSet("sts-claims", {
            metadata: meta("s1"),
            spec: {
                serviceName: "s1",
                selector,
                template: tmpl(goodSpec()),
                volumeClaimTemplates: [{ metadata: { name: "cache" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } } }],
            },
        });
        new k8s.apps.v1.DaemonSet("ds-host", { metadata: meta("ds1"), spec: { selector, template: tmpl({ ...goodSpec(), hostPID: true }) } });
        new k8s.batch.v1.Job("job-token", { metadata: meta("j1"), spec: { template: tmpl({ ...goodSpec(), automountServiceAccountToken: undefined, restartPolicy: "Never" }) } });
        new k8s.batch.v1.CronJob("cron-pvc", {
            metadata: meta("cj1"),
            spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template: tmpl({ ...goodSpec(), restartPolicy: "Never", volumes: [{ name: "work", persistentVolumeClaim: { claimName: "c" } }] }) } } },
        });
        new k8s.batch.v1.CronJob("cron-good", {
            metadata: meta("cj2"),
            spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template: tmpl({ ...goodSpec(), restartPolicy: "Never" }) } } },
        });
        // ARC custom resource.
        new k8s.apiextensions.CustomResource("ars-bad", {
            apiVersion: "actions.github.com/v1alpha1",
            kind: "AutoscalingRunnerSet",
            metadata: meta("ars1"),
            spec: { githubConfigUrl: "https://github.com/example", githubConfigSecret: "gh", template: { spec: { containers: [{ name: "runner", image: IMAGE }] } } },
        });
        new k8s.apiextensions.CustomResource("ars-good", {
            apiVersion: "actions.github.com/v1alpha1",
            kind: "AutoscalingRunnerSet",
            metadata: meta("ars2"),
            spec: { githubConfigUrl: "https://github.com/example", githubConfigSecret: "gh", template: { spec: goodSpec() } },
        });
        // Helm: a gha-runner-scale-set release is always a runner workload.
        const chart = "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set";
        const secret = new k8s.core.v1.Secret("gh-secret", { metadata: { namespace: ns.metadata.name }, stringData: { github_token: "placeholder" } });
        new k8s.helm.v3.Release("helm-good", {
            chart,
            version: "0.12.1",
            namespace: ns.metadata.name,
            values: { githubConfigUrl: "https://github.com/example", githubConfigSecret: secret.metadata.name, template: { spec: goodSpec() } },
        });
        new k8s.helm.v3.Release("helm-default-pod", { chart, version: "0.12.1", namespace: "runners", values: { githubConfigUrl: "https://github.com/example" } });
        new k8s.helm.v3.Release("helm-dind", { chart, namespace: "runners", values: { containerMode: { type: "dind" }, template: { spec: goodSpec() } } });
        new k8s.helm.v3.Release("helm-k8s-mode", { chart, namespace: "runners", values: { containerMode: { type: "kubernetes" }, template: { spec: goodSpec() } } });
        new k8s.helm.v3.Release("helm-host-path", { chart: "gha-runner-scale-set", repositoryOpts: { repo: "https://example.com/charts" }, namespace: "runners", values: { template: { spec: { ...goodSpec(), volumes: [{ name: "d", hostPath: { path: "/var/run" } }] } } } });
        new k8s.helm.v3.Release("helm-controller", { chart: "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set-controller", namespace: "arc-system" });
        // Another chart with a labelled runner template in its values.
        new k8s.helm.v3.Release("helm-other-runner", { chart: "my-runners", namespace: "runners", values: { template: { metadata: { labels: RUNNER_LABELS }, spec: { ...goodSpec(), hostNetwork: true } } } });
        if (preview) {
            // Values computed from a resource not yet created (a GCP SA email is unknown in preview):
            // unknown names, namespaces and annotations do not matter; an unknown deciding field does.
            const gsa = new gcp.serviceaccount.Account("runner-gsa", { accountId: "runner-a" });
            const computed = <T>(v: T) => gsa.email.apply(() => v);
            new k8s.core.v1.Pod("pod-unknown-ns", {
                metadata: { namespace: computed("runners"), labels: RUNNER_LABELS, annotations: { "iam.gke.io/gcp-service-account": gsa.email } },
                spec: { ...goodSpec(), serviceAccountName: computed("runner") },
            });
            new k8s.core.v1.Pod("pod-computed-sc", {
                metadata: { namespace: "runners", labels: RUNNER_LABELS },
                spec: { ...goodSpec(), automountServiceAccountToken: computed(false) },
            });
        }
    };
}

describe("resource rules: Kubernetes runner namespaces and workloads", function () {
    this.timeout(120000);
    let c: Checked;
    let p: Checked;
    before(async () => {
        c = await check(program(false));
        p = await check(program(true), { preview: true });
    });

    it("k8s-runner-namespace-restricted", () => {
        expectFired(c, "ns-runner", []);
        expectFired(c, "ns-baseline", ["k8s-runner-namespace-restricted"]);
        expectMessage(c, "ns-baseline", "k8s-runner-namespace-restricted", "\"baseline\"");
        expectFired(c, "ns-unset", ["k8s-runner-namespace-restricted"]);
        expectFired(c, "ns-other", []);
    });

    for (const tc of POD_CASES) {
        it(`pod ${tc.name}: ${tc.expect.length === 0 ? "passes" : tc.expect.join(", ")}`, () => expectFired(c, `pod-${tc.name}`, tc.expect));
    }

    it("container settings override pod settings, and every container is named", () => {
        expectMessage(c, "pod-container-overrides-nonroot", "k8s-runner-pod-security", "containers[0] \"runner\": runAsNonRoot is not true");
        expectMessage(c, "pod-bad-init-container", "k8s-runner-pod-security", "initContainers[0] \"setup\" is privileged");
        expectMessage(c, "pod-host-port", "k8s-runner-no-host-access", "hostPort is 8080");
    });

    it("workload kinds: Deployment, StatefulSet, DaemonSet, Job, CronJob", () => {
        expectFired(c, "deploy-good", []);
        expectFired(c, "deploy-priv", ["k8s-runner-pod-security"]);
        expectMessage(c, "deploy-priv", "k8s-runner-pod-security", "spec.template.spec");
        expectFired(c, "deploy-not-runner", []);
        expectFired(c, "deploy-gvisor", ["k8s-runner-no-sa-token", "k8s-runner-pod-security"]);
        expectFired(c, "sts-claims", ["k8s-runner-no-persistent-volumes"]);
        expectMessage(c, "sts-claims", "k8s-runner-no-persistent-volumes", "volumeClaimTemplates");
        expectFired(c, "ds-host", ["k8s-runner-no-host-access"]);
        expectFired(c, "job-token", ["k8s-runner-no-sa-token"]);
        expectFired(c, "cron-pvc", ["k8s-runner-no-persistent-volumes"]);
        expectMessage(c, "cron-pvc", "k8s-runner-no-persistent-volumes", "spec.jobTemplate.spec.template.spec");
        expectFired(c, "cron-good", []);
    });

    it("ARC AutoscalingRunnerSet custom resources", () => {
        expectFired(c, "ars-good", []);
        expectFired(c, "ars-bad", ["k8s-runner-no-sa-token", "k8s-runner-pod-security"]);
    });

    it("Helm releases of gha-runner-scale-set are runner workloads (fail closed)", () => {
        expectFired(c, "helm-good", []);
        expectFired(c, "helm-default-pod", ["k8s-runner-no-sa-token", "k8s-runner-pod-security"]);
        expectMessage(c, "helm-default-pod", "k8s-runner-pod-security", "chart's default runner pod");
        expectFired(c, "helm-dind", ["k8s-runner-pod-security"]);
        expectMessage(c, "helm-dind", "k8s-runner-pod-security", "dind");
        expectFired(c, "helm-k8s-mode", ["k8s-runner-no-persistent-volumes"]);
        expectFired(c, "helm-host-path", ["k8s-runner-no-host-access"]);
        expectFired(c, "helm-controller", []);
        expectFired(c, "helm-other-runner", ["k8s-runner-no-host-access"]);
    });

    describe("preview", () => {
        it("unknown namespaces and secret names produce no findings", () => {
            expectFired(p, "pod-unknown-ns", []);
            assert.deepStrictEqual(p.undecided("pod-unknown-ns"), []);
            expectFired(p, "helm-good", []);
            assert.deepStrictEqual(p.undecided("helm-good"), []);
        });
        it("literal violations still fire", () => {
            for (const tc of POD_CASES) {
                expectFired(p, `pod-${tc.name}`, tc.expect);
            }
            expectFired(p, "helm-dind", ["k8s-runner-pod-security"]);
            expectFired(p, "ns-runner", []);
            expectFired(p, "ns-baseline", ["k8s-runner-namespace-restricted"]);
        });
        it("an unknown automountServiceAccountToken is an advisory 'cannot decide'", () => {
            assert.deepStrictEqual(p.undecided("pod-computed-sc"), ["k8s-runner-no-sa-token"]);
            assert.ok(p.on("pod-computed-sc").every((v) => v.enforcementLevel === "advisory"));
        });
    });
});
