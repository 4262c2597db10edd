/**
 * Kubernetes runner namespace and workload rules (I1, I2, I6, I7) over raw @pulumi/kubernetes resources:
 * Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob, the ARC AutoscalingRunnerSet custom resource
 * and Helm releases of gha-runner-scale-set.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import { Checked, check, evaluate, assertFired, assertMessage } from "../../helpers/resourcePolicy";
import { throwaway } from "../../helpers/throwaway";

type PodSpec = k8s.types.input.core.v1.PodSpec;
const RUNNER_LABELS = { "build-fleet-role": "runner", "build-fleet-pool": "a" };
const IMAGE = "ghcr.io/actions/actions-runner:2.328.0";
const LIFETIME = "k8s-runner-bounded-lifetime";
const SECRETS = "k8s-runner-no-secrets-in-env";

/** A runner pod spec that passes every rule. */
function goodSpec(): PodSpec {
    return {
        runtimeClassName: "gvisor",
        automountServiceAccountToken: false,
        activeDeadlineSeconds: 3600,
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
    // I2: activeDeadlineSeconds > 0 and <= maxBuildDurationSeconds (default 86400).
    { name: "no-deadline", expect: [LIFETIME], spec: (g) => ({ ...g, activeDeadlineSeconds: undefined }) },
    { name: "deadline-at-bound", expect: [], spec: (g) => ({ ...g, activeDeadlineSeconds: 86400 }) },
    { name: "deadline-too-long", expect: [LIFETIME], spec: (g) => ({ ...g, activeDeadlineSeconds: 172800 }) },
    { name: "deadline-zero", expect: [LIFETIME], spec: (g) => ({ ...g, activeDeadlineSeconds: 0 }) },
    // I7: no Kubernetes secrets and no literal credentials in the runner pod.
    {
        name: "env-plain",
        expect: [],
        spec: (g) => withEnv(g, {
            env: [
                { name: "RUNNER_WORKDIR", value: "/home/runner/_work" },
                { name: "TOKEN_AUDIENCE_URL", value: "" },
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "FEATURE", valueFrom: { configMapKeyRef: { name: "runner-config", key: "feature" } } },
            ],
            envFrom: [{ configMapRef: { name: "runner-config" } }],
        }),
    },
    { name: "env-secret-name", expect: [SECRETS], spec: (g) => withEnv(g, { env: [{ name: "NPM_TOKEN", value: "placeholder-not-a-token" }] }) },
    { name: "env-api-key-name", expect: [SECRETS], spec: (g) => withEnv(g, { env: [{ name: "maps_api_key", value: "placeholder" }] }) },
    { name: "env-github-token-shape", expect: [SECRETS], spec: (g) => withEnv(g, { env: [{ name: "FOO", value: throwaway.githubToken("ghs") }] }) },
    { name: "env-github-pat-shape", expect: [SECRETS], spec: (g) => withEnv(g, { env: [{ name: "FOO", value: throwaway.githubPat() }] }) },
    { name: "env-aws-shape", expect: [SECRETS], spec: (g) => withEnv(g, { env: [{ name: "FOO", value: throwaway.awsAccessKeyId() }] }) },
    { name: "env-slack-shape", expect: [SECRETS], spec: (g) => withEnv(g, { env: [{ name: "FOO", value: throwaway.slackToken() }] }) },
    { name: "env-secret-key-ref", expect: [SECRETS], spec: (g) => withEnv(g, { env: [{ name: "DB", valueFrom: { secretKeyRef: { name: "db", key: "url" } } }] }) },
    { name: "env-from-secret", expect: [SECRETS], spec: (g) => withEnv(g, { envFrom: [{ secretRef: { name: "ci-secrets" } }] }) },
    { name: "args-pem", expect: [SECRETS], spec: (g) => withEnv(g, { args: ["--key", throwaway.pemPrivateKey()] }) },
    {
        name: "init-container-google-key",
        expect: [SECRETS],
        spec: (g) => ({ ...g, initContainers: [{ name: "setup", image: IMAGE, securityContext: goodSc, env: [{ name: "FOO", value: throwaway.googleApiKey() }] }] }),
    },
    { name: "secret-volume", expect: [SECRETS], spec: (g) => ({ ...g, volumes: [...(g.volumes as any[]), { name: "creds", secret: { secretName: "github-app" } }] }) },
    {
        name: "projected-secret",
        expect: [SECRETS],
        spec: (g) => ({ ...g, volumes: [...(g.volumes as any[]), { name: "creds", projected: { sources: [{ configMap: { name: "ca" } }, { secret: { name: "github-app" } }] } }] }),
    },
    { name: "projected-configmap", expect: [], spec: (g) => ({ ...g, volumes: [...(g.volumes as any[]), { name: "ca", projected: { sources: [{ configMap: { name: "ca" } }] } }] }) },
    {
        name: "csi-secrets-store",
        // Secrets in the pod, and a CSI volume is no pod-local source (only emptyDir, configMap, secret, projected, downwardAPI, image are).
        expect: [SECRETS, "k8s-runner-no-persistent-volumes"],
        spec: (g) => ({ ...g, volumes: [...(g.volumes as any[]), { name: "creds", csi: { driver: "secrets-store-gke.csi.k8s.io", readOnly: true, volumeAttributes: { secretProviderClass: "gh" } } }] }),
    },
];

/** The good spec with the runner container's env, envFrom or args set. */
function withEnv(g: PodSpec, extra: Partial<k8s.types.input.core.v1.Container>): PodSpec {
    return { ...g, containers: [{ ...(g.containers as k8s.types.input.core.v1.Container[])[0], ...extra }] };
}

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
        // I2 for Jobs: the pod's deadline or the Job's (the Job controller then terminates its pods).
        const noDeadline = (): PodSpec => ({ ...goodSpec(), activeDeadlineSeconds: undefined, restartPolicy: "Never" });
        new k8s.batch.v1.Job("job-job-deadline", { metadata: meta("j2"), spec: { activeDeadlineSeconds: 3600, template: tmpl(noDeadline()) } });
        new k8s.batch.v1.Job("job-no-deadline", { metadata: meta("j3"), spec: { template: tmpl(noDeadline()) } });
        new k8s.batch.v1.Job("job-long-job-short-pod", { metadata: meta("j4"), spec: { activeDeadlineSeconds: 172800, template: tmpl({ ...goodSpec(), restartPolicy: "Never" }) } });
        new k8s.batch.v1.Job("job-both-too-long", { metadata: meta("j5"), spec: { activeDeadlineSeconds: 172800, template: tmpl({ ...noDeadline(), activeDeadlineSeconds: 100000 }) } });
        new k8s.batch.v1.CronJob("cron-job-deadline", {
            metadata: meta("cj3"),
            spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { activeDeadlineSeconds: 3600, template: tmpl(noDeadline()) } } },
        });
        new k8s.batch.v1.CronJob("cron-no-deadline", {
            metadata: meta("cj4"),
            spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template: tmpl(noDeadline()) } } },
        });
        // A non-runner workload needs no deadline and may read secrets.
        new k8s.apps.v1.Deployment("deploy-tools-secret", {
            metadata: meta("d5", { app: "tools" }),
            spec: {
                selector: { matchLabels: { app: "tools" } },
                template: tmpl({ containers: [{ name: "x", image: "busybox", envFrom: [{ secretRef: { name: "tools" } }] }] }, { app: "tools" }),
            },
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
        // The listener (listenerTemplate) is ARC's, not a runner pod; the runner template is what counts.
        new k8s.helm.v3.Release("helm-listener-secret", {
            chart,
            namespace: "runners",
            values: {
                githubConfigSecret: "gh-app",
                listenerTemplate: { spec: { containers: [{ name: "listener", env: [{ name: "HTTPS_PROXY_PASSWORD", valueFrom: { secretKeyRef: { name: "proxy", key: "password" } } }] }] } },
                template: { spec: goodSpec() },
            },
        });
        new k8s.helm.v3.Release("helm-runner-secret", {
            chart,
            namespace: "runners",
            values: { template: { spec: withEnv(goodSpec(), { env: [{ name: "GH_TOKEN", valueFrom: { secretKeyRef: { name: "gh", key: "token" } } }] }) } },
        });
        new k8s.helm.v3.Release("helm-no-deadline", { chart, namespace: "runners", values: { template: { spec: { ...goodSpec(), activeDeadlineSeconds: undefined } } } });
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
            new k8s.core.v1.Pod("pod-computed-deadline", {
                metadata: { namespace: "runners", labels: RUNNER_LABELS },
                spec: { ...goodSpec(), activeDeadlineSeconds: computed(3600) },
            });
            // A computed value under a neutral name may hold anything; under a credential name it is a credential.
            new k8s.core.v1.Pod("pod-computed-env", {
                metadata: { namespace: "runners", labels: RUNNER_LABELS },
                spec: withEnv(goodSpec(), { env: [{ name: "SA_EMAIL", value: gsa.email }] }),
            });
            new k8s.core.v1.Pod("pod-computed-secret-env", {
                metadata: { namespace: "runners", labels: RUNNER_LABELS },
                spec: withEnv(goodSpec(), { env: [{ name: "REGISTRY_PASSWORD", value: gsa.email }] }),
            });
            // A Job's deadline known while the pod's is computed: the known one decides when it is within the bound.
            new k8s.batch.v1.Job("job-computed-pod-deadline", {
                metadata: meta("j6"),
                spec: { activeDeadlineSeconds: 3600, template: tmpl({ ...goodSpec(), restartPolicy: "Never", activeDeadlineSeconds: computed(7200) }) },
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
        assertFired(c, "ns-runner", []);
        assertFired(c, "ns-baseline", ["k8s-runner-namespace-restricted"]);
        assertMessage(c, "ns-baseline", "k8s-runner-namespace-restricted", "\"baseline\"");
        assertFired(c, "ns-unset", ["k8s-runner-namespace-restricted"]);
        assertFired(c, "ns-other", []);
    });

    for (const tc of POD_CASES) {
        it(`pod ${tc.name}: ${tc.expect.length === 0 ? "passes" : tc.expect.join(", ")}`, () => assertFired(c, `pod-${tc.name}`, tc.expect));
    }

    it("container settings override pod settings, and every container is named", () => {
        assertMessage(c, "pod-container-overrides-nonroot", "k8s-runner-pod-security", "containers[0] \"runner\": runAsNonRoot is not true");
        assertMessage(c, "pod-bad-init-container", "k8s-runner-pod-security", "initContainers[0] \"setup\" is privileged");
        assertMessage(c, "pod-host-port", "k8s-runner-no-host-access", "hostPort is 8080");
    });

    it("workload kinds: Deployment, StatefulSet, DaemonSet, Job, CronJob", () => {
        // Long-running controllers cannot bound a runner pod's lifetime (I2): the API server rejects
        // activeDeadlineSeconds in their pod templates, so even an otherwise hardened one fails it.
        assertFired(c, "deploy-good", [LIFETIME]);
        assertMessage(c, "deploy-good", LIFETIME, "a Deployment keeps its pods running");
        assertFired(c, "deploy-priv", [LIFETIME, "k8s-runner-pod-security"]);
        assertMessage(c, "deploy-priv", "k8s-runner-pod-security", "spec.template.spec");
        assertFired(c, "deploy-not-runner", []);
        assertFired(c, "deploy-gvisor", [LIFETIME, "k8s-runner-no-sa-token", "k8s-runner-pod-security"]);
        assertFired(c, "sts-claims", [LIFETIME, "k8s-runner-no-persistent-volumes"]);
        assertMessage(c, "sts-claims", "k8s-runner-no-persistent-volumes", "volumeClaimTemplates");
        assertMessage(c, "sts-claims", LIFETIME, "a StatefulSet keeps its pods running");
        assertFired(c, "ds-host", [LIFETIME, "k8s-runner-no-host-access"]);
        assertFired(c, "job-token", ["k8s-runner-no-sa-token"]);
        assertFired(c, "cron-pvc", ["k8s-runner-no-persistent-volumes"]);
        assertMessage(c, "cron-pvc", "k8s-runner-no-persistent-volumes", "spec.jobTemplate.spec.template.spec");
        assertFired(c, "cron-good", []);
    });

    it("ARC AutoscalingRunnerSet custom resources", () => {
        assertFired(c, "ars-good", []);
        assertFired(c, "ars-bad", [LIFETIME, "k8s-runner-no-sa-token", "k8s-runner-pod-security", "k8s-runner-sandboxed"]);
    });

    it("k8s-runner-bounded-lifetime: pod deadline, Job deadline, CronJob deadline", () => {
        assertMessage(c, "pod-no-deadline", LIFETIME, "activeDeadlineSeconds is not set; a runner pod must be stopped after at most 86400 seconds");
        assertMessage(c, "pod-deadline-too-long", LIFETIME, "activeDeadlineSeconds is 172800 seconds, above the configured bound of 86400 seconds");
        assertMessage(c, "pod-deadline-zero", LIFETIME, "activeDeadlineSeconds is 0; it must be a positive number of seconds");
        assertFired(c, "job-job-deadline", []);
        assertFired(c, "job-no-deadline", [LIFETIME]);
        assertMessage(c, "job-no-deadline", LIFETIME, "activeDeadlineSeconds or spec.activeDeadlineSeconds is not set");
        // The shorter of the two deadlines bounds the pod.
        assertFired(c, "job-long-job-short-pod", []);
        assertFired(c, "job-both-too-long", [LIFETIME]);
        assertMessage(c, "job-both-too-long", LIFETIME, "activeDeadlineSeconds is 100000 seconds");
        assertFired(c, "cron-job-deadline", []);
        assertFired(c, "cron-no-deadline", [LIFETIME]);
        assertMessage(c, "cron-no-deadline", LIFETIME, "spec.jobTemplate.spec.activeDeadlineSeconds is not set");
    });

    it("k8s-runner-bounded-lifetime: maxBuildDurationSeconds (pack config) sets the bound", async () => {
        const strict = await evaluate(c.run, { policyConfig: { [LIFETIME]: { maxBuildDurationSeconds: 1800 } } });
        assertFired(strict, "pod-good", [LIFETIME]);
        assertMessage(strict, "pod-good", LIFETIME, "activeDeadlineSeconds is 3600 seconds, above the configured bound of 1800 seconds (maxBuildDurationSeconds)");
        assertFired(strict, "job-job-deadline", [LIFETIME]);
        const lax = await evaluate(c.run, { policyConfig: { [LIFETIME]: { maxBuildDurationSeconds: 200000 } } });
        assertFired(lax, "pod-deadline-too-long", []);
        // The VM rule's bound is its own setting.
        const vmOnly = await evaluate(c.run, { policyConfig: { "runner-vm-bounded-lifetime": { maxBuildDurationSeconds: 1800 } } });
        assertFired(vmOnly, "pod-good", []);
    });

    it("k8s-runner-no-secrets-in-env: secret references, secret volumes and literal credentials, named without the value", () => {
        assertMessage(c, "pod-env-secret-name", SECRETS, "containers[0] \"runner\".env[0] NPM_TOKEN passes a credential as a literal value");
        assertMessage(c, "pod-env-github-token-shape", SECRETS, "env[0] FOO holds a GitHub token");
        assertMessage(c, "pod-env-github-pat-shape", SECRETS, "github_pat_");
        assertMessage(c, "pod-env-aws-shape", SECRETS, "an AWS access key id");
        assertMessage(c, "pod-env-slack-shape", SECRETS, "a Slack token");
        assertMessage(c, "pod-env-secret-key-ref", SECRETS, "env[0] DB reads Secret \"db\" (valueFrom.secretKeyRef)");
        assertMessage(c, "pod-env-from-secret", SECRETS, "envFrom[0] imports Secret \"ci-secrets\"");
        assertMessage(c, "pod-args-pem", SECRETS, "args holds a PEM private key");
        assertMessage(c, "pod-init-container-google-key", SECRETS, "initContainers[0] \"setup\".env[0] FOO holds a Google API key");
        assertMessage(c, "pod-secret-volume", SECRETS, "volumes[1] \"creds\" mounts Secret \"github-app\"");
        assertMessage(c, "pod-projected-secret", SECRETS, "volumes[1] \"creds\".projected.sources[1] projects Secret \"github-app\"");
        assertMessage(c, "pod-csi-secrets-store", SECRETS, "secrets-store-gke.csi.k8s.io");
        // Never the value itself.
        for (const v of c.ev.violations.filter((x) => x.policy === SECRETS)) {
            assert.doesNotMatch(v.message, /placeholder|gh[pousr]_[A-Za-z0-9]{30}|AKIA[0-9A-Z]{16}|xoxb-\d/);
        }
        assertFired(c, "deploy-tools-secret", []);
    });

    it("Helm releases of gha-runner-scale-set are runner workloads (fail closed)", () => {
        assertFired(c, "helm-good", []);
        assertFired(c, "helm-default-pod", [LIFETIME, "k8s-runner-no-sa-token", "k8s-runner-pod-security", "k8s-runner-sandboxed"]);
        assertFired(c, "helm-no-deadline", [LIFETIME]);
        assertMessage(c, "helm-no-deadline", LIFETIME, "runner pod at values.template.spec: activeDeadlineSeconds is not set");
        // ARC's listener is not a runner pod; the runner template is.
        assertFired(c, "helm-listener-secret", []);
        assertFired(c, "helm-runner-secret", [SECRETS]);
        assertMessage(c, "helm-default-pod", "k8s-runner-pod-security", "chart's default runner pod");
        assertFired(c, "helm-dind", ["k8s-runner-pod-security"]);
        assertMessage(c, "helm-dind", "k8s-runner-pod-security", "dind");
        assertFired(c, "helm-k8s-mode", ["k8s-runner-no-persistent-volumes", "k8s-runner-no-sa-token"]);
        assertMessage(c, "helm-k8s-mode", "k8s-runner-no-sa-token", "pods/exec and secrets");
        assertFired(c, "helm-host-path", ["k8s-runner-no-host-access"]);
        assertFired(c, "helm-controller", []);
        assertFired(c, "helm-other-runner", ["k8s-runner-no-host-access"]);
    });

    describe("preview", () => {
        it("unknown namespaces and secret names produce no findings", () => {
            assertFired(p, "pod-unknown-ns", []);
            assert.deepStrictEqual(p.undecided("pod-unknown-ns"), []);
            assertFired(p, "helm-good", []);
            assert.deepStrictEqual(p.undecided("helm-good"), []);
        });
        it("literal violations still fire", () => {
            for (const tc of POD_CASES) {
                assertFired(p, `pod-${tc.name}`, tc.expect);
            }
            assertFired(p, "helm-dind", ["k8s-runner-pod-security"]);
            assertFired(p, "ns-runner", []);
            assertFired(p, "ns-baseline", ["k8s-runner-namespace-restricted"]);
        });
        it("an unknown automountServiceAccountToken is an advisory 'cannot decide'", () => {
            assert.deepStrictEqual(p.undecided("pod-computed-sc"), ["k8s-runner-no-sa-token"]);
            assert.ok(p.on("pod-computed-sc").every((v) => v.enforcementLevel === "advisory"));
        });
        it("an unknown activeDeadlineSeconds is an advisory 'cannot decide', unless a known Job deadline is within the bound", () => {
            assertFired(p, "pod-computed-deadline", []);
            assert.deepStrictEqual(p.undecided("pod-computed-deadline"), [LIFETIME]);
            const v = p.on("pod-computed-deadline").find((x) => x.policy === LIFETIME)!;
            assert.strictEqual(v.enforcementLevel, "advisory");
            assert.match(v.message, /^cannot decide during preview: spec: activeDeadlineSeconds is unknown/);
            assertFired(p, "job-computed-pod-deadline", []);
            assert.deepStrictEqual(p.undecided("job-computed-pod-deadline"), []);
        });
        it("an unknown env value is undecided under a neutral name and a violation under a credential name", () => {
            assertFired(p, "pod-computed-env", []);
            assert.deepStrictEqual(p.undecided("pod-computed-env"), [SECRETS]);
            assertFired(p, "pod-computed-secret-env", [SECRETS]);
            assertMessage(p, "pod-computed-secret-env", SECRETS, "REGISTRY_PASSWORD passes a credential");
        });
    });
});
