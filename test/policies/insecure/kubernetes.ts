/**
 * Kubernetes variants of the raw baseline (baseline.ts), as the API server would see them: each
 * insecure variant changes one thing and names the exact rule, its level and the offending resource;
 * each secure-but-unusual variant must draw no finding at all. Run by kubernetes.test.ts.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BROKER_TOKEN_AUDIENCE, BROKER_TOKEN_EXPIRATION_SECONDS } from "../../../components/runnerPool/podTemplate";
import { Handles, Mutations, WORKER_PROJECT } from "../../helpers/insecureBaseline";

export interface K8sCase {
    name: string;
    /** The exact rule that must fire. */
    policy: string;
    /** "mandatory" for a decided violation; "advisory" where the pack truly cannot know. */
    level?: "mandatory" | "advisory";
    /** Logical name(s) of the resource the finding must name; `Kind::name` when several kinds share the name. */
    offender: string | string[];
    /** Text the finding's message must contain. */
    mentions?: string;
    /** Other rules the same change necessarily breaks (with the resource they must name). */
    also?: { policy: string; offender: string | string[] }[];
    /** Advisories the change must also draw (what the pack cannot see), with the resource they must name. */
    alsoAdvisory?: { policy: string; offender: string; mentions: string }[];
    mutate: (m: Mutations) => void;
    preview?: boolean;
}

export interface SecureCase {
    name: string;
    mutate: (m: Mutations) => void;
    preview?: boolean;
}

const RUNNERS = "runners";
const LABELS = { "build-fleet-role": "runner", "build-fleet-pool": "containers" };
const KSA = "runner";

/** The baseline's hardened runner pod spec, for new runner objects. */
export function hardenedSpec(): Record<string, any> & { containers: (Record<string, any> & { name: string })[] } {
    return {
        runtimeClassName: "gvisor",
        serviceAccountName: KSA,
        automountServiceAccountToken: false,
        activeDeadlineSeconds: 3600,
        restartPolicy: "Never",
        nodeSelector: { "build-fleet-role": "runner" },
        tolerations: [{ key: "build-fleet-role", operator: "Equal", value: "runner", effect: "NoSchedule" }],
        securityContext: { runAsNonRoot: true, runAsUser: 1001, seccompProfile: { type: "RuntimeDefault" } },
        containers: [{
            name: "runner",
            image: "ghcr.io/actions/actions-runner:2.321.0",
            command: ["/home/runner/run.sh"],
            securityContext: { allowPrivilegeEscalation: false, privileged: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
        }],
        volumes: [{ name: "work", emptyDir: {} }],
    };
}

function add(f: (h: Handles, opts: pulumi.CustomResourceOptions) => void): (m: Mutations) => void {
    return (m) => {
        m.after.push((h) => f(h, { provider: h.k8sProvider }));
    };
}

/** The projected token runnerPodTemplate gives a runner pod: the only one k8s-runner-no-sa-token allows. */
function brokerTokenVolume(name: string): Record<string, any> {
    return { name, projected: { sources: [{ serviceAccountToken: { path: "token", audience: BROKER_TOKEN_AUDIENCE, expirationSeconds: BROKER_TOKEN_EXPIRATION_SECONDS } }] } };
}

function editPod(f: (spec: Record<string, any>, args: Record<string, any>) => void): (m: Mutations) => void {
    return (m) => {
        m.args.k8sPod = (a) => f(a.spec, a);
    };
}

function generic(name: string, apiVersion: string, kind: string, body: Record<string, any>, h: Handles, opts: pulumi.CustomResourceOptions): void {
    new k8s.apiextensions.CustomResource(name, { apiVersion, kind, ...body }, opts);
    void h;
}

const runnerCr = (name: string) => ({ metadata: { name, namespace: RUNNERS, labels: LABELS } });

/** A Role/ClusterRole binding of `subjects` to a role reference. */
function binding(name: string, kind: "RoleBinding" | "ClusterRoleBinding", roleRef: { kind: string; name: string }, subjects: k8s.types.input.rbac.v1.Subject[], opts: pulumi.CustomResourceOptions): void {
    const args = { metadata: { name, ...(kind === "RoleBinding" ? { namespace: RUNNERS } : {}) }, roleRef: { apiGroup: "rbac.authorization.k8s.io", ...roleRef }, subjects };
    if (kind === "RoleBinding") {
        new k8s.rbac.v1.RoleBinding(name, args, opts);
    } else {
        new k8s.rbac.v1.ClusterRoleBinding(name, args, opts);
    }
}
const RUNNER_KSA = { kind: "ServiceAccount", name: KSA, namespace: RUNNERS };

const PRIVILEGED_POD_YAML = `
apiVersion: v1
kind: Pod
metadata:
  name: debug
  namespace: runners
  labels: { build-fleet-role: runner, build-fleet-pool: containers }
spec:
  runtimeClassName: gvisor
  automountServiceAccountToken: false
  activeDeadlineSeconds: 600
  securityContext: { runAsNonRoot: true, runAsUser: 1001, seccompProfile: { type: RuntimeDefault } }
  containers:
    - name: runner
      image: ghcr.io/actions/actions-runner:2.321.0
      securityContext: { privileged: true, allowPrivilegeEscalation: false, capabilities: { drop: [ALL] } }
`;

/** An admission webhook configuration with one webhook on pod creation, served as `clientConfig` says. */
function podWebhook(kind: "Mutating" | "Validating", name: string, clientConfig: Record<string, unknown>, opts: pulumi.CustomResourceOptions): void {
    const args = {
        metadata: { name },
        webhooks: [{
            name: `${name}.acme.example`, admissionReviewVersions: ["v1"], sideEffects: "None", clientConfig,
            rules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"] }],
        }],
    };
    if (kind === "Mutating") {
        new k8s.admissionregistration.v1.MutatingWebhookConfiguration(name, args, opts);
    } else {
        new k8s.admissionregistration.v1.ValidatingWebhookConfiguration(name, args, opts);
    }
}

export const K8S_CASES: K8sCase[] = [
    // ------------------------------------------------------------ admission webhooks (I5)
    {
        name: "a mutating admission webhook served from the runner namespace (a build rewrites every new pod)",
        policy: "k8s-admission-webhooks",
        offender: "pod-injector",
        mentions: 'served from runner namespace "runners"',
        mutate: add((_h, o) => podWebhook("Mutating", "pod-injector", { service: { name: "injector", namespace: RUNNERS, path: "/mutate" } }, o)),
    },
    {
        name: "a validating admission webhook served from the runner namespace (a build sees every new pod)",
        policy: "k8s-admission-webhooks",
        offender: "pod-watcher",
        mutate: add((_h, o) => podWebhook("Validating", "pod-watcher", { service: { name: "watcher", namespace: RUNNERS, path: "/validate" } }, o)),
    },
    {
        name: "a mutating admission webhook that calls a URL outside the cluster",
        policy: "k8s-admission-webhooks",
        offender: "url-injector",
        mentions: "https://hooks.example/mutate",
        mutate: add((_h, o) => podWebhook("Mutating", "url-injector", { url: "https://hooks.example/mutate" }, o)),
    },
    // ------------------------------------------------------------ ARC runner kinds (current and legacy)
    {
        name: "EphemeralRunnerSet with a privileged runner container (unlabelled)",
        policy: "k8s-runner-pod-security",
        offender: "ers-privileged",
        mutate: add((h, o) => {
            const spec = hardenedSpec();
            spec.containers[0].securityContext.privileged = true;
            generic("ers-privileged", "actions.github.com/v1alpha1", "EphemeralRunnerSet", { ...runnerCr("ers"), spec: { replicas: 1, ephemeralRunnerSpec: { spec } } }, h, o);
        }),
    },
    {
        name: "EphemeralRunner with a hostPath volume",
        policy: "k8s-runner-no-host-access",
        offender: "er-hostpath",
        mutate: add((h, o) => {
            const spec = hardenedSpec();
            spec.volumes = [{ name: "docker", hostPath: { path: "/var/run/docker.sock" } }];
            generic("er-hostpath", "actions.github.com/v1alpha1", "EphemeralRunner", { ...runnerCr("er"), spec: { githubConfigUrl: "https://github.com/acme", spec } }, h, o);
        }),
    },
    {
        name: "legacy RunnerDeployment with the default privileged docker sidecar",
        policy: "k8s-runner-pod-security",
        offender: "legacy-rd",
        mentions: "dockerEnabled",
        mutate: add((h, o) => {
            generic("legacy-rd", "actions.summerwind.dev/v1alpha1", "RunnerDeployment", { ...runnerCr("rd"), spec: { template: { spec: { ...hardenedSpec(), repository: "acme/app" } } } }, h, o);
        }),
    },
    {
        name: "legacy RunnerSet that is not ephemeral",
        policy: "k8s-runner-bounded-lifetime",
        offender: "legacy-rs",
        mutate: add((h, o) => {
            generic("legacy-rs", "actions.summerwind.dev/v1alpha1", "RunnerSet", {
                ...runnerCr("rs"), spec: { ephemeral: false, dockerEnabled: false, selector: { matchLabels: { app: "rs" } }, template: { metadata: { labels: { app: "rs" } }, spec: hardenedSpec() } },
            }, h, o);
        }),
    },
    {
        name: "legacy Runner labelled control-plane that mounts a token (the kind, not the label, decides)",
        policy: "k8s-runner-no-sa-token",
        offender: "legacy-runner",
        also: [{ policy: "role-labels-required", offender: "legacy-runner" }],
        mutate: add((h, o) => {
            generic("legacy-runner", "actions.summerwind.dev/v1alpha1", "Runner", {
                metadata: { name: "r", namespace: RUNNERS, labels: { "build-fleet-role": "control-plane" } },
                spec: { ...hardenedSpec(), dockerEnabled: false, automountServiceAccountToken: true, repository: "acme/app" },
            }, h, o);
        }),
    },
    // ------------------------------------------------------------ projected token, sandbox placement
    {
        name: "runner pod with a projected serviceAccountToken volume",
        policy: "k8s-runner-no-sa-token",
        offender: "k8s-runner-pod",
        mentions: "projected",
        mutate: editPod((s) => {
            s.volumes.push({ name: "kube-api", projected: { sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 3600 } }] } });
        }),
    },
    ...([
        ["with the default audience (the API server's)", { path: "t", expirationSeconds: 600 }, "has no audience, so the API server accepts it"],
        ["for the API server's audience", { path: "t", audience: "https://kubernetes.default.svc", expirationSeconds: 600 }, "is for audience \"https://kubernetes.default.svc\""],
        ["for the broker, living an hour", { path: "t", audience: BROKER_TOKEN_AUDIENCE, expirationSeconds: 3600 }, "lives 3600 seconds, above 600"],
        ["for the broker, without expirationSeconds", { path: "t", audience: BROKER_TOKEN_AUDIENCE }, "sets no expirationSeconds"],
    ] as const).map(([what, token, mentions]): K8sCase => ({
        name: `runner pod with a projected token ${what}`,
        policy: "k8s-runner-no-sa-token",
        offender: "k8s-runner-pod",
        mentions,
        mutate: editPod((s) => {
            s.volumes.push({ name: "extra-token", projected: { sources: [{ serviceAccountToken: token }] } });
        }),
    })),
    {
        name: "runner pod with two broker tokens",
        policy: "k8s-runner-no-sa-token",
        offender: "k8s-runner-pod",
        mentions: "a runner pod gets exactly one",
        mutate: editPod((s) => {
            s.volumes.push(brokerTokenVolume("one"), brokerTokenVolume("two"));
        }),
    },
    {
        name: "runner pod with the broker token and automountServiceAccountToken true",
        policy: "k8s-runner-no-sa-token",
        offender: "k8s-runner-pod",
        mentions: "automountServiceAccountToken is true",
        mutate: editPod((s) => {
            s.automountServiceAccountToken = true;
            s.volumes.push(brokerTokenVolume("one"));
        }),
    },
    { name: "runner pod on the runc runtime class", policy: "k8s-runner-sandboxed", offender: "k8s-runner-pod", mentions: "runtimeClassName", mutate: editPod((s) => {
        s.runtimeClassName = "runc";
    }) },
    { name: "runner pod tolerating every taint", policy: "k8s-runner-sandboxed", offender: "k8s-runner-pod", mentions: "tolerates every taint", mutate: editPod((s) => {
        s.tolerations.push({ operator: "Exists" });
    }) },
    { name: "runner pod tolerating the GKE system-pool taint", policy: "k8s-runner-sandboxed", offender: "k8s-runner-pod", mutate: editPod((s) => {
        s.tolerations.push({ key: "components.gke.io/gke-managed-components", operator: "Exists" });
    }) },
    { name: "runner pod selecting the system node class", policy: "k8s-runner-sandboxed", offender: "k8s-runner-pod", mutate: editPod((s) => {
        s.nodeSelector["build-fleet-node-class"] = "system";
    }) },
    { name: "runner pod with node affinity away from the sandbox", policy: "k8s-runner-sandboxed", offender: "k8s-runner-pod", mutate: editPod((s) => {
        s.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "sandbox.gke.io/runtime", operator: "DoesNotExist" }] }] } } };
    }) },
    { name: "runner pod pinned to a node by nodeName", policy: "k8s-runner-sandboxed", offender: "k8s-runner-pod", mutate: editPod((s) => {
        s.nodeName = "gke-system-node-1";
    }) },
    // ------------------------------------------------------------ runner namespaces decide, not labels
    {
        name: "Deployment labelled control-plane in the runner namespace",
        policy: "k8s-runner-namespace-workloads",
        offender: "cp-deploy-in-runners",
        also: [{ policy: "role-labels-required", offender: "cp-deploy-in-runners" }],
        mutate: add((_h, o) => {
            new k8s.apps.v1.Deployment("cp-deploy-in-runners", {
                metadata: { name: "helper", namespace: RUNNERS, labels: { "build-fleet-role": "control-plane" } },
                spec: { selector: { matchLabels: { app: "helper" } }, template: { metadata: { labels: { app: "helper" } }, spec: { containers: [{ name: "helper", image: "nginx" }] } } },
            }, o);
        }),
    },
    {
        name: "unlabelled Job without gVisor in the runner namespace",
        policy: "k8s-runner-namespace-workloads",
        offender: "job-in-runners",
        mentions: "runtimeClassName",
        also: [{ policy: "role-labels-required", offender: "job-in-runners" }],
        mutate: add((_h, o) => {
            const spec = hardenedSpec();
            delete spec.runtimeClassName;
            new k8s.batch.v1.Job("job-in-runners", { metadata: { name: "cache-warm", namespace: RUNNERS }, spec: { template: { spec } } }, o);
        }),
    },
    {
        name: "an unlabelled namespace that holds a runner pod and does not enforce Pod Security restricted",
        policy: "k8s-runner-namespace-workloads",
        offender: "ci-ns",
        mentions: "restricted",
        also: [{ policy: "role-labels-required", offender: "ci-ns" }],
        mutate: add((_h, o) => {
            new k8s.core.v1.Namespace("ci-ns", { metadata: { name: "ci", labels: { "pod-security.kubernetes.io/enforce": "baseline" } } }, o);
            new k8s.networking.v1.NetworkPolicy("ci-deny", { metadata: { name: "deny", namespace: "ci", labels: LABELS }, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } }, o);
            new k8s.core.v1.Pod("ci-runner", { metadata: { name: "ci-runner", namespace: "ci", labels: LABELS }, spec: hardenedSpec() }, o);
        }),
    },
    {
        name: "a chart the pack cannot render, in the runner namespace",
        policy: "k8s-runner-namespace-workloads",
        offender: "redis-in-runners",
        mentions: "cannot be proven (fail closed)",
        mutate: add((_h, o) => {
            new k8s.helm.v3.Release("redis-in-runners", { chart: "oci://registry-1.docker.io/bitnamicharts/redis", namespace: RUNNERS, values: {} }, o);
        }),
    },
    {
        name: "the ARC controller installed next to the runner pods",
        policy: "k8s-runner-namespace-workloads",
        offender: "controller-in-runners",
        mutate: add((_h, o) => {
            new k8s.helm.v3.Release("controller-in-runners", { chart: "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set-controller", namespace: RUNNERS }, o);
        }),
    },
    // ------------------------------------------------------------ *Patch resources
    {
        name: "PodPatch making the runner pod privileged",
        policy: "k8s-runner-patches",
        offender: "runner-pod-patch",
        mentions: "privileged",
        mutate: add((_h, o) => {
            new k8s.core.v1.PodPatch("runner-pod-patch", { metadata: { name: "runner-0", namespace: RUNNERS }, spec: { containers: [{ name: "runner", securityContext: { privileged: true } }] } }, o);
        }),
    },
    {
        name: "DeploymentPatch of an out-of-stack Deployment in the runner namespace adding hostNetwork",
        policy: "k8s-runner-patches",
        offender: "deploy-patch",
        mentions: "hostNetwork",
        alsoAdvisory: [{ policy: "k8s-runner-patches", offender: "deploy-patch", mentions: "the rest of the pod is unproven" }],
        mutate: add((_h, o) => {
            new k8s.apps.v1.DeploymentPatch("deploy-patch", { metadata: { name: "runner-helper", namespace: RUNNERS }, spec: { template: { spec: { hostNetwork: true } } } }, o);
        }),
    },
    {
        name: "NamespacePatch lowering Pod Security of the runner namespace",
        policy: "k8s-runner-patches",
        offender: "ns-pss-patch",
        mutate: add((_h, o) => {
            new k8s.core.v1.NamespacePatch("ns-pss-patch", { metadata: { name: RUNNERS, labels: { "pod-security.kubernetes.io/enforce": "privileged" } } }, o);
        }),
    },
    {
        name: "NamespacePatch relabelling the runner namespace control-plane",
        policy: "k8s-runner-patches",
        offender: "ns-role-patch",
        mutate: add((_h, o) => {
            new k8s.core.v1.NamespacePatch("ns-role-patch", { metadata: { name: RUNNERS, labels: { "build-fleet-role": "control-plane" } } }, o);
        }),
    },
    {
        name: "NetworkPolicyPatch opening the runner namespace to all ingress",
        policy: "k8s-runner-network-policy",
        offender: "np-patch",
        mutate: add((_h, o) => {
            new k8s.networking.v1.NetworkPolicyPatch("np-patch", { metadata: { name: "default-deny", namespace: RUNNERS }, spec: { ingress: [{}] } }, o);
        }),
    },
    {
        name: "ServiceAccountPatch in the runner namespace (no rule can judge it)",
        policy: "k8s-runner-patches",
        level: "advisory",
        offender: "ksa-patch",
        mutate: add((_h, o) => {
            new k8s.core.v1.ServiceAccountPatch("ksa-patch", { metadata: { name: KSA, namespace: RUNNERS, annotations: { "iam.gke.io/gcp-service-account": `deployer@${WORKER_PROJECT}.iam.gserviceaccount.com` } } }, o);
        }),
    },
    // ------------------------------------------------------------ NetworkPolicies (I4, I5)
    { name: "runner namespace without a default-deny NetworkPolicy", policy: "k8s-runner-network-policy", offender: "k8s-runner-ns", mentions: "Ingress and Egress", mutate: (m) => {
        m.omit.add("k8sDefaultDeny");
    } },
    {
        name: "runner namespace whose only default deny is ingress",
        policy: "k8s-runner-network-policy",
        offender: "k8s-runner-ns",
        mentions: "for Egress",
        mutate: (m) => {
            m.omit.add("k8sDefaultDeny");
            add((_h, o) => {
                new k8s.networking.v1.NetworkPolicy("ingress-only", { metadata: { name: "deny-ingress", namespace: RUNNERS }, spec: { podSelector: {}, policyTypes: ["Ingress"] } }, o);
            })(m);
        },
    },
    {
        name: "allow-all egress NetworkPolicy in the runner namespace",
        policy: "k8s-runner-network-policy",
        offender: "allow-all-egress",
        mutate: add((_h, o) => {
            new k8s.networking.v1.NetworkPolicy("allow-all-egress", { metadata: { name: "allow-all", namespace: RUNNERS }, spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{}] } }, o);
        }),
    },
    {
        name: "ingress from every namespace into runner pods",
        policy: "k8s-runner-network-policy",
        offender: "ingress-all-ns",
        mutate: add((_h, o) => {
            new k8s.networking.v1.NetworkPolicy("ingress-all-ns", { metadata: { name: "from-cluster", namespace: RUNNERS }, spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] } }, o);
        }),
    },
    {
        name: "egress to 0.0.0.0/0 that keeps the private ranges (other pools' pods)",
        policy: "k8s-runner-network-policy",
        offender: "egress-world",
        mentions: "10.0.0.0/8",
        mutate: add((_h, o) => {
            new k8s.networking.v1.NetworkPolicy("egress-world", { metadata: { name: "egress-world", namespace: RUNNERS }, spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ port: 443, protocol: "TCP" }] }] } }, o);
        }),
    },
    {
        name: "runner pods allowed to reach each other (podSelector {} peer)",
        policy: "k8s-runner-network-policy",
        offender: "build-to-build",
        mutate: add((_h, o) => {
            new k8s.networking.v1.NetworkPolicy("build-to-build", { metadata: { name: "same-ns", namespace: RUNNERS }, spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ podSelector: {} }] }] } }, o);
        }),
    },
    {
        name: "ingress allowed into runner pods from the control-plane range",
        policy: "k8s-runner-network-policy",
        offender: "ingress-from-cp",
        mentions: "serve nothing",
        mutate: add((_h, o) => {
            new k8s.networking.v1.NetworkPolicy("ingress-from-cp", { metadata: { name: "from-cp", namespace: RUNNERS, labels: LABELS }, spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.50.0.0/16" } }], ports: [{ port: 8080 }] }] } }, o);
        }),
    },
    {
        name: "a NodePort Service exposing the runner namespace",
        policy: "k8s-runner-network-policy",
        offender: "runner-nodeport",
        mutate: add((_h, o) => {
            new k8s.core.v1.Service("runner-nodeport", { metadata: { name: "debug", namespace: RUNNERS, labels: LABELS }, spec: { type: "NodePort", selector: { "build-fleet-role": "runner" }, ports: [{ port: 22 }] } }, o);
        }),
    },
    {
        name: "a Tekton TaskRun in the runner namespace (its pods are invisible)",
        policy: "k8s-runner-namespace-workloads",
        level: "advisory",
        offender: "taskrun",
        // Its kind has no row in the classification table: one more advisory, naming it.
        alsoAdvisory: [{ policy: "unclassified-resource-types", offender: "taskrun", mentions: "has no row" }],
        mutate: add((h, o) => {
            generic("taskrun", "tekton.dev/v1", "TaskRun", { metadata: { name: "tr", namespace: RUNNERS, labels: LABELS }, spec: { taskRef: { name: "build" } } }, h, o);
        }),
    },
    // ------------------------------------------------------------ RBAC (I7)
    { name: "runner KSA bound to the built-in edit ClusterRole", policy: "k8s-runner-rbac", offender: "ksa-edit", mentions: "edit", mutate: add((_h, o) => {
        binding("ksa-edit", "RoleBinding", { kind: "ClusterRole", name: "edit" }, [RUNNER_KSA], o);
    }) },
    {
        name: "system:authenticated may read secrets cluster-wide",
        policy: "k8s-runner-rbac",
        offender: "authn-secrets",
        mutate: add((_h, o) => {
            new k8s.rbac.v1.ClusterRole("secret-reader", { metadata: { name: "secret-reader" }, rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }] }, o);
            binding("authn-secrets", "ClusterRoleBinding", { kind: "ClusterRole", name: "secret-reader" }, [{ kind: "Group", name: "system:authenticated", apiGroup: "rbac.authorization.k8s.io" }], o);
        }),
    },
    {
        name: "the runner namespace's service-account group may exec into pods",
        policy: "k8s-runner-rbac",
        offender: "sa-group-exec",
        mutate: add((_h, o) => {
            new k8s.rbac.v1.Role("exec-role", { metadata: { name: "exec", namespace: RUNNERS }, rules: [{ apiGroups: [""], resources: ["pods/exec", "pods"], verbs: ["get", "create"] }] }, o);
            binding("sa-group-exec", "RoleBinding", { kind: "Role", name: "exec" }, [{ kind: "Group", name: "system:serviceaccounts:runners", apiGroup: "rbac.authorization.k8s.io" }], o);
        }),
    },
    {
        name: "an aggregated ClusterRole that picks up nodes/proxy, bound to the runner KSA",
        policy: "k8s-runner-rbac",
        offender: "ksa-aggregated",
        mentions: "nodes/proxy",
        mutate: add((_h, o) => {
            new k8s.rbac.v1.ClusterRole("agg-parent", { metadata: { name: "runner-tools" }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "acme.dev/aggregate-to-runner-tools": "true" } }] }, rules: [] }, o);
            new k8s.rbac.v1.ClusterRole("agg-child", { metadata: { name: "node-metrics", labels: { "acme.dev/aggregate-to-runner-tools": "true" } }, rules: [{ apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"] }] }, o);
            binding("ksa-aggregated", "RoleBinding", { kind: "ClusterRole", name: "runner-tools" }, [RUNNER_KSA], o);
        }),
    },
    {
        name: "runner KSA may mint service-account tokens",
        policy: "k8s-runner-rbac",
        offender: "ksa-token",
        mutate: add((_h, o) => {
            new k8s.rbac.v1.Role("token-role", { metadata: { name: "token-minter", namespace: RUNNERS }, rules: [{ apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] }] }, o);
            binding("ksa-token", "RoleBinding", { kind: "Role", name: "token-minter" }, [RUNNER_KSA], o);
        }),
    },
    {
        name: "every service account may impersonate",
        policy: "k8s-runner-rbac",
        offender: "all-sa-impersonate",
        mutate: add((_h, o) => {
            new k8s.rbac.v1.ClusterRole("impersonator", { metadata: { name: "impersonator" }, rules: [{ apiGroups: [""], resources: ["users", "serviceaccounts"], verbs: ["impersonate"] }] }, o);
            binding("all-sa-impersonate", "ClusterRoleBinding", { kind: "ClusterRole", name: "impersonator" }, [{ kind: "Group", name: "system:serviceaccounts", apiGroup: "rbac.authorization.k8s.io" }], o);
        }),
    },
    {
        name: "a ClusterRole aggregated into the built-in edit role grants nodes; edit bound to the runner KSA",
        policy: "k8s-runner-rbac",
        offender: "ksa-edit-nodes",
        mutate: add((_h, o) => {
            new k8s.rbac.v1.ClusterRole("into-view", { metadata: { name: "nodes-into-view", labels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" } }, rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list"] }] }, o);
            binding("ksa-edit-nodes", "RoleBinding", { kind: "ClusterRole", name: "view" }, [RUNNER_KSA], o);
        }),
    },
    // ------------------------------------------------------------ credentials (I7)
    {
        name: "a .dockerconfigjson Secret in the runner namespace",
        policy: "k8s-runner-credentials",
        offender: "registry-auth",
        mutate: add((_h, o) => {
            new k8s.core.v1.Secret("registry-auth", {
                metadata: { name: "registry-auth", namespace: RUNNERS }, type: "kubernetes.io/dockerconfigjson",
                stringData: { ".dockerconfigjson": JSON.stringify({ auths: { "europe-docker.pkg.dev": { auth: Buffer.from("oauth2accesstoken:placeholder-not-a-token").toString("base64") } } }) },
            }, o);
        }),
    },
    {
        name: "the GitHub App secret in the runner namespace",
        policy: "k8s-runner-credentials",
        offender: "github-app",
        mentions: "github_app_private_key",
        mutate: add((_h, o) => {
            new k8s.core.v1.Secret("github-app", { metadata: { name: "arc-github-app", namespace: RUNNERS }, stringData: { github_app_id: "12345", github_app_installation_id: "678", github_app_private_key: "placeholder" } }, o);
        }),
    },
    {
        name: "a ConfigMap carrying an .npmrc token in the runner namespace",
        policy: "k8s-runner-credentials",
        offender: "npmrc-cm",
        mentions: ".npmrc",
        mutate: add((_h, o) => {
            new k8s.core.v1.ConfigMap("npmrc-cm", { metadata: { name: "npmrc", namespace: RUNNERS }, data: { ".npmrc": "//npm.pkg.github.com/:_authToken=placeholder-literal-token-1234" } }, o);
        }),
    },
    {
        name: "runner startup script writing an .npmrc with a literal token",
        policy: "k8s-runner-no-secrets-in-env",
        offender: "k8s-runner-pod",
        mentions: ".npmrc",
        mutate: editPod((s) => {
            s.containers[0].command = ["/bin/sh", "-c", "echo '//registry.npmjs.org/:_authToken=placeholder-literal-token-1234' > ~/.npmrc && /home/runner/run.sh"];
        }),
    },
    { name: "runner pod with imagePullSecrets", policy: "k8s-runner-no-secrets-in-env", offender: "k8s-runner-pod", mentions: "imagePullSecrets", mutate: editPod((s) => {
        s.imagePullSecrets = [{ name: "registry-push" }];
    }) },
    {
        name: "gha-runner-scale-set with inline GitHub credentials",
        policy: "k8s-runner-no-secrets-in-env",
        offender: "gha-inline-secret",
        mentions: "githubConfigSecret",
        mutate: add((_h, o) => {
            new k8s.helm.v3.Release("gha-inline-secret", {
                chart: "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set", namespace: RUNNERS,
                values: { githubConfigUrl: "https://github.com/acme", githubConfigSecret: { github_token: "placeholder" }, template: { spec: hardenedSpec() } },
            }, o);
        }),
    },
    {
        name: "gha-runner-scale-set with proxy credentials (ARC hands them to every runner)",
        policy: "k8s-runner-no-secrets-in-env",
        offender: "gha-proxy-creds",
        mentions: "proxy",
        mutate: add((_h, o) => {
            new k8s.helm.v3.Release("gha-proxy-creds", {
                chart: "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set", namespace: RUNNERS,
                values: { githubConfigUrl: "https://github.com/acme", githubConfigSecret: "gha", proxy: { https: { url: "http://proxy.internal:3128", credentialSecretRef: "proxy-auth" } }, template: { spec: hardenedSpec() } },
            }, o);
        }),
    },
    // ------------------------------------------------------------ manifests expanded offline
    {
        name: "yaml/v2 ConfigGroup with an inline privileged runner pod",
        policy: "k8s-runner-pod-security",
        offender: "cg:runners/debug",
        mutate: add((_h, o) => {
            new k8s.yaml.v2.ConfigGroup("cg", { yaml: PRIVILEGED_POD_YAML }, o);
        }),
    },
    {
        name: "yaml/v2 ConfigFile whose file (relative to the working directory) holds a privileged runner pod",
        policy: "k8s-runner-pod-security",
        offender: "cf:runners/file-runner",
        mutate: add((_h, o) => {
            new k8s.yaml.v2.ConfigFile("cf", { file: "test/fixtures/kubernetes/privileged-runner.yaml" }, o);
        }),
    },
    {
        name: "yaml (v1) ConfigGroup binding the runner KSA to cluster-admin",
        policy: "k8s-runner-rbac",
        offender: "runners/rbac",
        mutate: add((_h, o) => {
            new k8s.yaml.ConfigGroup("v1", {
                yaml: "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: { name: rbac, namespace: runners }\nroleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }\nsubjects: [{ kind: ServiceAccount, name: runner, namespace: runners }]\n",
            }, o);
        }),
    },
    {
        name: "yaml/v2 ConfigGroup from a remote URL (cannot be expanded offline)",
        policy: "k8s-manifests-visible",
        level: "advisory",
        offender: "remote-cg",
        mentions: "https://example.com/runner.yaml",
        mutate: add((_h, o) => {
            new k8s.yaml.v2.ConfigGroup("remote-cg", { files: ["https://example.com/runner.yaml"] }, o);
        }),
    },
    {
        name: "helm v4 Chart of gha-runner-scale-set whose runner template uses hostNetwork",
        policy: "k8s-runner-no-host-access",
        offender: ["gha-v4", "gha-v4:runners/gha-v4"],
        mutate: add((_h, o) => {
            new k8s.helm.v4.Chart("gha-v4", {
                chart: "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set", namespace: RUNNERS,
                values: { githubConfigUrl: "https://github.com/acme", githubConfigSecret: "gha-secret", labels: LABELS, template: { metadata: { labels: LABELS }, spec: { ...hardenedSpec(), hostNetwork: true } } },
            }, o);
        }),
    },
    {
        name: "helm v3 Chart of gha-runner-scale-set in kubernetes mode: the rendered Role gives the runner's own service account secrets and pods/exec",
        policy: "k8s-runner-rbac",
        offender: "RoleBinding::runners/gha-kube-gha-rs-kube-mode",
        also: [{ policy: "k8s-runner-no-persistent-volumes", offender: "runners/gha-kube" }],
        mutate: add((_h, o) => {
            const spec = hardenedSpec();
            delete spec.serviceAccountName;
            new k8s.helm.v3.Chart("gha-kube", {
                chart: "gha-runner-scale-set", fetchOpts: { repo: "oci://ghcr.io/actions/actions-runner-controller-charts" }, namespace: RUNNERS,
                values: { githubConfigSecret: "gha", containerMode: { type: "kubernetes" }, labels: LABELS, template: { metadata: { labels: LABELS }, spec } },
            }, o);
        }),
    },
    {
        name: "helm v3 Chart the engine cannot render",
        policy: "k8s-manifests-visible",
        level: "advisory",
        offender: "tools-chart",
        mutate: add((_h, o) => {
            new k8s.helm.v3.Chart("tools-chart", { chart: "node-tools", fetchOpts: { repo: "https://charts.example.com" }, namespace: RUNNERS }, o);
        }),
    },
    {
        name: "a Kustomize v2 Directory (not built offline)",
        policy: "k8s-manifests-visible",
        level: "advisory",
        offender: "kustomize-runners",
        mutate: add((_h, o) => {
            new k8s.kustomize.v2.Directory("kustomize-runners", { directory: "deploy/runners" }, o);
        }),
    },
    // ------------------------------------------------------------ preview: the offending value is an Output
    {
        name: "preview: RoleBinding whose subject namespace is the runner namespace's Output",
        policy: "k8s-runner-rbac",
        offender: "ksa-admin-preview",
        preview: true,
        mutate: add((h, o) => {
            new k8s.rbac.v1.RoleBinding("ksa-admin-preview", {
                metadata: { name: "admin", namespace: h.k8sNamespace.metadata.name },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
                subjects: [{ kind: "ServiceAccount", name: KSA, namespace: h.k8sNamespace.metadata.name }],
            }, o);
        }),
    },
    {
        name: "preview: a docker auth Secret placed by the namespace's Output",
        policy: "k8s-runner-credentials",
        offender: "registry-auth-preview",
        preview: true,
        mutate: add((h, o) => {
            new k8s.core.v1.Secret("registry-auth-preview", { metadata: { name: "pull", namespace: h.k8sNamespace.metadata.name }, type: "kubernetes.io/dockerconfigjson", stringData: { ".dockerconfigjson": "{}" } }, o);
        }),
    },
    {
        name: "preview: PodPatch of the runner pod, its name an Output",
        policy: "k8s-runner-patches",
        offender: "pod-patch-preview",
        preview: true,
        mutate: add((h, o) => {
            new k8s.core.v1.PodPatch("pod-patch-preview", { metadata: { name: h.k8sPod.metadata.name, namespace: h.k8sNamespace.metadata.name }, spec: { hostPID: true } }, o);
        }),
    },
    {
        name: "preview: allow-all ingress policy in the namespace's Output",
        policy: "k8s-runner-network-policy",
        offender: "allow-ingress-preview",
        preview: true,
        mutate: add((h, o) => {
            new k8s.networking.v1.NetworkPolicy("allow-ingress-preview", { metadata: { name: "allow-in", namespace: h.k8sNamespace.metadata.name }, spec: { podSelector: {}, ingress: [{}] } }, o);
        }),
    },
    {
        name: "preview: runner pod with the broker's audience, its expirationSeconds an Output",
        policy: "k8s-runner-no-sa-token",
        offender: "k8s-runner-pod",
        preview: true,
        mentions: "expirationSeconds that is unknown until the update",
        mutate: (m) => {
            m.args.k8sPod = (a, core) => {
                a.spec.volumes.push({ name: "t", projected: { sources: [{ serviceAccountToken: { path: "t", audience: BROKER_TOKEN_AUDIENCE, expirationSeconds: core.k8s.sa.email.apply(() => 600) } }] } });
            };
        },
    },
    {
        name: "preview: runner pod mounting a projected token, the audience an Output",
        policy: "k8s-runner-no-sa-token",
        offender: "k8s-runner-pod",
        preview: true,
        mutate: (m) => {
            m.args.k8sPod = (a, core) => {
                a.spec.volumes.push({ name: "t", projected: { sources: [{ serviceAccountToken: { path: "t", audience: core.k8s.sa.email } }] } });
            };
        },
    },
];

export const K8S_SECURE_CASES: SecureCase[] = [
    {
        name: "a runner pod with the one broker token (the broker's audience alone, 600 s)",
        mutate: editPod((s) => {
            s.volumes.push(brokerTokenVolume("broker-token"));
        }),
    },
    {
        name: "preview: a runner pod with the one broker token",
        preview: true,
        mutate: editPod((s) => {
            s.volumes.push(brokerTokenVolume("broker-token"));
        }),
    },
    {
        name: "a mutating admission webhook served from a platform namespace",
        mutate: add((_h, o) => podWebhook("Mutating", "platform-defaults", { service: { name: "defaults", namespace: "policy-system", path: "/mutate" } }, o)),
    },
    {
        name: "default deny split over two policies, egress to the internet that excepts the private ranges, DNS anywhere",
        mutate: (m) => {
            m.omit.add("k8sDefaultDeny");
            add((_h, o) => {
                new k8s.networking.v1.NetworkPolicy("deny-in", { metadata: { name: "deny-in", namespace: RUNNERS }, spec: { podSelector: {}, policyTypes: ["Ingress"] } }, o);
                new k8s.networking.v1.NetworkPolicy("deny-out", { metadata: { name: "deny-out", namespace: RUNNERS }, spec: { podSelector: {}, policyTypes: ["Egress"] } }, o);
                new k8s.networking.v1.NetworkPolicy("egress-allow", {
                    metadata: { name: "egress", namespace: RUNNERS },
                    spec: {
                        podSelector: {}, policyTypes: ["Egress"],
                        egress: [
                            { ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }] },
                            { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"] } }], ports: [{ port: 443, protocol: "TCP" }] },
                        ],
                    },
                }, o);
            })(m);
        },
    },
    {
        name: "a platform namespace whose own service account reads its own secrets",
        mutate: add((_h, o) => {
            new k8s.core.v1.Namespace("platform-ns", { metadata: { name: "platform", labels: { "build-fleet-role": "control-plane" } } }, o);
            new k8s.rbac.v1.Role("platform-secrets", { metadata: { name: "secrets", namespace: "platform" }, rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }] }, o);
            new k8s.rbac.v1.RoleBinding("platform-secrets-binding", {
                metadata: { name: "secrets", namespace: "platform" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "secrets" },
                subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: "platform" }],
            }, o);
            new k8s.core.v1.Secret("platform-pull", { metadata: { name: "pull", namespace: "platform" }, type: "kubernetes.io/dockerconfigjson", stringData: { ".dockerconfigjson": "{}" } }, o);
        }),
    },
    {
        name: "a hardened EphemeralRunnerSet tolerating the sandbox and node-condition taints",
        mutate: add((h, o) => {
            const spec = hardenedSpec();
            spec.tolerations.push({ key: "sandbox.gke.io/runtime", operator: "Equal", value: "gvisor", effect: "NoSchedule" }, { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
            generic("ers-hardened", "actions.github.com/v1alpha1", "EphemeralRunnerSet", { ...runnerCr("ers"), spec: { ephemeralRunnerSpec: { metadata: { labels: LABELS }, spec } } }, h, o);
        }),
    },
    {
        name: "a second runner namespace, its hardened pod and its default deny, all from inline yaml/v2",
        mutate: add((_h, o) => {
            new k8s.yaml.v2.ConfigGroup("more-runners", {
                objs: [
                    { apiVersion: "v1", kind: "Namespace", metadata: { name: "runners-b", labels: { ...LABELS, "pod-security.kubernetes.io/enforce": "restricted" } } },
                    { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "default-deny", namespace: "runners-b" }, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
                    { apiVersion: "v1", kind: "Pod", metadata: { name: "runner-b", namespace: "runners-b", labels: LABELS }, spec: hardenedSpec() },
                ],
            }, o);
        }),
    },
    {
        name: "a PodPatch that only annotates the runner pod",
        mutate: add((_h, o) => {
            new k8s.core.v1.PodPatch("annotate-runner", { metadata: { name: "runner-0", namespace: RUNNERS, annotations: { "acme.dev/owner": "platform" } } }, o);
        }),
    },
    {
        name: "an .npmrc ConfigMap that reads its token from the environment",
        mutate: add((_h, o) => {
            new k8s.core.v1.ConfigMap("npmrc-env", { metadata: { name: "npmrc", namespace: RUNNERS }, data: { ".npmrc": "//npm.pkg.github.com/:_authToken=${NODE_AUTH_TOKEN}\n@acme:registry=https://npm.pkg.github.com" } }, o);
        }),
    },
    {
        name: "preview: a hardened Job in the runner namespace whose namespace is an Output",
        preview: true,
        mutate: add((h, o) => {
            new k8s.batch.v1.Job("job-preview", { metadata: { name: "warm", namespace: h.k8sNamespace.metadata.name, labels: LABELS }, spec: { activeDeadlineSeconds: 600, template: { spec: hardenedSpec() } } }, o);
        }),
    },
];
