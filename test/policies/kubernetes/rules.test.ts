/**
 * Unit tests of the Kubernetes rules added for "Kubernetes as the API server sees it": a passing and
 * a violating case per rule (exact policy name and resource), and the pure helpers behind them
 * (offline manifest expansion, patch overlay, NetworkPolicy and RBAC readings, credential files).
 */
import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import { evaluatePolicies, runProgram, Violation } from "../../../plan/engine";
import { decodeYaml, expandRemoteComponent, renderGhaChart, typeToken } from "../../../plan/engine/k8sExpand";
import { kubernetesStackPolicies } from "../../../policies/rules/kubernetes";
import { allowAllFindings } from "../../../policies/rules/kubernetes/networkPolicy";
import { dangerousRules } from "../../../policies/rules/kubernetes/rbac";
import { overlay } from "../../../policies/rules/kubernetes/workloads";
import { credentialInText } from "../../../policies/recognisers/kubernetesCredentials";
import { assertFired, assertMessage, check, Checked } from "../../helpers/resourcePolicy";

const LABELS = { "build-fleet-role": "runner", "build-fleet-pool": "a" };

function spec(extra: Record<string, any> = {}): Record<string, any> & { containers: (Record<string, any> & { name: string })[] } {
    return {
        runtimeClassName: "gvisor",
        automountServiceAccountToken: false,
        activeDeadlineSeconds: 3600,
        securityContext: { runAsNonRoot: true, runAsUser: 1001, seccompProfile: { type: "RuntimeDefault" } },
        containers: [{ name: "runner", image: "ghcr.io/actions/actions-runner:2.321.0", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }],
        ...extra,
    };
}

const pod = (name: string, s: ReturnType<typeof spec>, labels: Record<string, string> = LABELS) =>
    new k8s.core.v1.Pod(name, { metadata: { name, namespace: "runners", labels }, spec: s });

describe("Kubernetes rules: the API server's view", function () {
    this.timeout(60_000);

    describe("per-resource rules", () => {
        let c: Checked;
        before(async () => {
            c = await check(() => {
                pod("sandboxed-ok", spec({
                    tolerations: [
                        { key: "build-fleet-role", operator: "Equal", value: "runner", effect: "NoSchedule" },
                        { key: "sandbox.gke.io/runtime", operator: "Equal", value: "gvisor", effect: "NoSchedule" },
                        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
                    ],
                    nodeSelector: { "build-fleet-role": "runner", "build-fleet-node-class": "runner" },
                    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "build-fleet-node-class", operator: "In", values: ["runner"] }] }] } } },
                }));
                pod("no-runtime-class", spec({ runtimeClassName: undefined }), LABELS);
                pod("role-toleration-any", spec({ tolerations: [{ key: "build-fleet-role", operator: "Exists" }] }));
                pod("affinity-not-in", spec({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "build-fleet-role", operator: "NotIn", values: ["runner"] }] }] } } } }));
                pod("projected-ok", spec({ volumes: [{ name: "info", projected: { sources: [{ downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } }, { configMap: { name: "ca" } }] } }] }));
                pod("projected-token", spec({ volumes: [{ name: "t", projected: { sources: [{ serviceAccountToken: { path: "token", audience: "vault" } }] } }] }));
                pod("git-credentials-arg", spec({ containers: [{ ...spec().containers[0], args: ["git clone https://bot:placeholder-secret-1234@github.com/acme/app"] }] }));
                const cr = (name: string, apiVersion: string, kind: string, body: Record<string, any>) =>
                    new k8s.apiextensions.CustomResource(name, { apiVersion, kind, metadata: { name, namespace: "runners", labels: LABELS }, ...body });
                cr("ers-ok", "actions.github.com/v1alpha1", "EphemeralRunnerSet", { spec: { ephemeralRunnerSpec: { spec: spec() } } });
                cr("er-token", "actions.github.com/v1alpha1", "EphemeralRunner", { spec: { spec: spec({ automountServiceAccountToken: true }) } });
                cr("rd-ok", "actions.summerwind.dev/v1alpha1", "RunnerDeployment", { spec: { template: { spec: spec({ dockerEnabled: false, ephemeral: true }) } } });
                cr("rd-dind-in-runner", "actions.summerwind.dev/v1alpha1", "RunnerDeployment", { spec: { template: { spec: spec({ dockerdWithinRunnerContainer: true }) } } });
                cr("hra", "actions.summerwind.dev/v1alpha1", "HorizontalRunnerAutoscaler", { spec: { scaleTargetRef: { name: "rd-ok" } } });
            });
        });

        it("k8s-runner-sandboxed: the runner and sandbox taints, node conditions and runner node affinity pass", () => assertFired(c, "sandboxed-ok", []));
        it("k8s-runner-sandboxed: no runtime class, a role toleration of any value, affinity away from runner nodes", () => {
            assertFired(c, "no-runtime-class", ["k8s-runner-sandboxed"]);
            assertFired(c, "role-toleration-any", ["k8s-runner-sandboxed"]);
            assertMessage(c, "role-toleration-any", "k8s-runner-sandboxed", "tolerates \"build-fleet-role\" (any value)");
            assertFired(c, "affinity-not-in", ["k8s-runner-sandboxed"]);
        });
        it("k8s-runner-no-sa-token: projected downwardAPI/configMap pass; a projected token does not", () => {
            assertFired(c, "projected-ok", []);
            assertFired(c, "projected-token", ["k8s-runner-no-sa-token"]);
            assertMessage(c, "projected-token", "k8s-runner-no-sa-token", "audience \"vault\"");
        });
        it("k8s-runner-no-secrets-in-env: a git credential URL in args", () => {
            assertFired(c, "git-credentials-arg", ["k8s-runner-no-secrets-in-env"]);
            assertMessage(c, "git-credentials-arg", "k8s-runner-no-secrets-in-env", "git credential URL");
        });
        it("ARC kinds are runner pods: hardened ones pass, a token in an EphemeralRunner fails", () => {
            assertFired(c, "ers-ok", []);
            assertFired(c, "er-token", ["k8s-runner-no-sa-token"]);
            assertFired(c, "rd-ok", []);
            assertFired(c, "rd-dind-in-runner", ["k8s-runner-pod-security"]);
            assertMessage(c, "rd-dind-in-runner", "k8s-runner-pod-security", "dockerdWithinRunnerContainer");
            assertFired(c, "hra", []);
        });
    });

    describe("stack rules", () => {
        let findings: Violation[];
        let urn: (name: string) => string;
        const on = (name: string, policy: string) => findings.filter((v) => v.urn === urn(name) && v.policy === policy);
        before(async () => {
            const run = await runProgram(() => {
                new k8s.core.v1.Namespace("runner-ns", { metadata: { name: "runners", labels: LABELS } });
                new k8s.core.v1.Namespace("controller-ns", { metadata: { name: "arc-system", labels: LABELS } });
                new k8s.networking.v1.NetworkPolicy("ctl-deny-in", { metadata: { name: "deny", namespace: "arc-system" }, spec: { podSelector: {}, policyTypes: ["Ingress"] } });
                new k8s.helm.v3.Release("controller", { chart: "gha-runner-scale-set-controller", namespace: "arc-system" });
                new k8s.core.v1.Namespace("other-ns", { metadata: { name: "tools", labels: { "build-fleet-role": "control-plane" } } });
                new k8s.rbac.v1.RoleBinding("view-ok", { metadata: { name: "v", namespace: "runners" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" }, subjects: [{ kind: "ServiceAccount", name: "runner", namespace: "runners" }] });
                new k8s.rbac.v1.RoleBinding("unknown-role", { metadata: { name: "u", namespace: "runners" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "vendor-role" }, subjects: [{ kind: "ServiceAccount", name: "runner", namespace: "runners" }] });
                new k8s.rbac.v1.ClusterRoleBinding("anon-admin", { metadata: { name: "anon" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" }, subjects: [{ kind: "User", name: "system:anonymous" }] });
                new k8s.core.v1.ConfigMap("token-cm", { metadata: { name: "t", namespace: "runners" }, data: { GH: `ghp_${"a".repeat(36)}` } });
                new k8s.core.v1.ConfigMap("tools-cm", { metadata: { name: "t", namespace: "tools" }, data: { GH: `ghp_${"a".repeat(36)}` } });
                new k8s.core.v1.Secret("controller-github", { metadata: { name: "gh", namespace: "arc-system" }, stringData: { github_app_id: "1", github_app_private_key: "placeholder" } });
                new k8s.core.v1.NamespacePatch("tools-patch", { metadata: { name: "tools", labels: { "pod-security.kubernetes.io/enforce": "privileged" } } });
                new k8s.yaml.v2.ConfigGroup("empty-cg", { objs: [] });
            }, { config: { "gcp:project": "p" } });
            findings = (await evaluatePolicies(run, kubernetesStackPolicies)).violations;
            urn = (name) => run.resources.find((r) => r.name === name)!.urn;
        });

        it("k8s-runner-network-policy: a runner namespace without default deny fails; the controller's namespace needs ingress isolation only", () => {
            assert.strictEqual(on("runner-ns", "k8s-runner-network-policy").length, 1);
            assert.deepStrictEqual(on("controller-ns", "k8s-runner-network-policy"), []);
        });
        it("k8s-runner-rbac: view passes, an undefined role is an advisory, cluster-admin for system:anonymous fails", () => {
            assert.deepStrictEqual(on("view-ok", "k8s-runner-rbac"), []);
            assert.deepStrictEqual(on("unknown-role", "k8s-runner-rbac").map((v) => v.enforcementLevel), ["advisory"]);
            assert.deepStrictEqual(on("anon-admin", "k8s-runner-rbac").map((v) => v.enforcementLevel), ["mandatory"]);
        });
        it("k8s-runner-credentials: a token ConfigMap in the runner namespace fails, the same in a platform namespace passes", () => {
            assert.strictEqual(on("token-cm", "k8s-runner-credentials").length, 1);
            assert.deepStrictEqual(on("tools-cm", "k8s-runner-credentials"), []);
        });
        it("k8s-runner-credentials: the GitHub App secret in the ARC controller's own namespace passes", () => {
            assert.deepStrictEqual(on("controller-github", "k8s-runner-credentials"), []);
        });
        it("k8s-runner-patches: a NamespacePatch of a non-runner namespace passes", () => assert.deepStrictEqual(on("tools-patch", "k8s-runner-patches"), []));
        it("k8s-manifests-visible: a ConfigGroup with no objects is an advisory", () => {
            assert.deepStrictEqual(on("empty-cg", "k8s-manifests-visible").map((v) => v.enforcementLevel), ["advisory"]);
        });
        it("k8s-runner-namespace-workloads: the ARC controller alone in its namespace passes", () => assert.deepStrictEqual(on("controller", "k8s-runner-namespace-workloads"), []));
    });

    describe("offline expansion (plan/engine/k8sExpand.ts)", () => {
        const cm = (name: string, namespace?: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, ...(namespace ? { namespace } : {}) } });
        it("names children <prefix>:<namespace>/<name> with the provider's type tokens, and expands lists", () => {
            const e = expandRemoteComponent("kubernetes:yaml/v2:ConfigGroup", "cg", {
                objs: [cm("a", "ns"), { apiVersion: "v1", kind: "List", items: [cm("b"), { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "ns" } }] }],
            }, process.cwd());
            assert.deepStrictEqual(e.children.map((c) => `${c.type} ${c.name}`), [
                "kubernetes:core/v1:ConfigMap cg:ns/a", "kubernetes:core/v1:ConfigMap cg:b", "kubernetes:apps/v1:Deployment cg:ns/d",
            ]);
            assert.deepStrictEqual(e.gaps, []);
        });
        it("uses resourcePrefix, and no prefix when it is empty", () => {
            assert.strictEqual(expandRemoteComponent("kubernetes:yaml/v2:ConfigGroup", "cg", { objs: [cm("a")], resourcePrefix: "p" }, ".").children[0].name, "p:a");
            assert.strictEqual(expandRemoteComponent("kubernetes:yaml/v2:ConfigGroup", "cg", { objs: [cm("a")], resourcePrefix: "" }, ".").children[0].name, "a");
        });
        it("reads files relative to the working directory and globs; reports URLs, unmatched globs and missing files", () => {
            const ok = expandRemoteComponent("kubernetes:yaml/v2:ConfigGroup", "g", { files: ["test/fixtures/kubernetes/*.yaml"] }, process.cwd());
            assert.deepStrictEqual(ok.children.map((c) => c.name), ["g:runners/file-runner"]);
            const bad = expandRemoteComponent("kubernetes:yaml/v2:ConfigGroup", "g", { files: ["https://example.com/x.yaml", "nothing/*.yaml", "missing.yaml"] }, process.cwd());
            assert.strictEqual(bad.children.length, 0);
            assert.strictEqual(bad.gaps.length, 3);
            assert.match(bad.gaps.join("\n"), /remote manifest https:\/\/example.com\/x.yaml[\s\S]*glob nothing\/\*.yaml matches no file[\s\S]*missing.yaml does not exist/);
        });
        it("decodes multi-document YAML and the core group", () => {
            assert.strictEqual(decodeYaml("a: 1\n---\n---\nb: 2\n").length, 2);
            assert.strictEqual(typeToken("v1", "Pod"), "kubernetes:core/v1:Pod");
            assert.strictEqual(typeToken("rbac.authorization.k8s.io/v1", "Role"), "kubernetes:rbac.authorization.k8s.io/v1:Role");
        });
        it("renders gha-runner-scale-set (dind adds a privileged container, inline credentials a Secret) and nothing else", () => {
            const objs = renderGhaChart("gha-runner-scale-set", "rel", "runners", { containerMode: { type: "dind" }, githubConfigSecret: { github_token: "x" } })!;
            assert.deepStrictEqual(objs.map((o) => o.kind), ["Secret", "AutoscalingRunnerSet"]);
            assert.strictEqual(objs[1].spec.template.spec.initContainers[0].securityContext.privileged, true);
            assert.strictEqual(renderGhaChart("gha-runner-scale-set-controller", "rel", "arc", {}), undefined);
            const gap = expandRemoteComponent("kubernetes:helm.sh/v4:Chart", "c", { chart: "bitnami/redis" }, ".");
            assert.match(gap.gaps[0], /cannot be rendered offline/);
        });
    });

    describe("helpers", () => {
        it("overlay merges maps and named lists, replaces other lists", () => {
            assert.deepStrictEqual(overlay({ a: 1, c: [{ name: "x", v: 1 }, { name: "y" }], t: [1] }, { b: 2, c: [{ name: "x", v: 2 }], t: [2] }),
                { a: 1, b: 2, c: [{ name: "x", v: 2 }, { name: "y" }], t: [2] });
        });
        it("allowAllFindings: DNS anywhere and a /0 that excepts the private ranges pass; an empty rule fails", () => {
            assert.deepStrictEqual(allowAllFindings({ egress: [{ ports: [{ port: 53 }] }, { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] } }] }] }), []);
            assert.strictEqual(allowAllFindings({ ingress: [{}] }).length, 1);
        });
        it("dangerousRules: read-only configmaps pass; secrets, pod creation and escalate fail", () => {
            assert.deepStrictEqual(dangerousRules([{ resources: ["configmaps"], verbs: ["get"] }]), []);
            assert.strictEqual(dangerousRules([{ resources: ["secrets"], verbs: ["list"] }, { resources: ["pods"], verbs: ["create"] }, { resources: ["roles"], verbs: ["escalate"] }]).length, 3);
        });
        it("credentialInText: literal .npmrc tokens and docker auths; environment references pass", () => {
            assert.match(credentialInText("//r/:_authToken=abcdef123456")!, /npm/);
            assert.match(credentialInText(JSON.stringify({ auths: { r: { auth: "dXNlcjpwYXNz" } } }))!, /Docker/);
            assert.strictEqual(credentialInText("//r/:_authToken=${NPM_TOKEN}"), undefined);
        });
    });
});
