/**
 * Credentials kept in runner namespaces (I7): a runner pod can mount any Secret or ConfigMap of its own
 * namespace, and anything that reaches the namespace's objects reaches them. So no runner namespace
 * holds Docker registry auth (`.dockerconfigjson`), GitHub App or PAT credentials (the ARC secret
 * belongs in the controller's namespace), long-lived service-account token Secrets, or ConfigMaps
 * whose data carries a credential (`.npmrc` tokens, Docker auths, git credential URLs, token shapes).
 */
import { get, unknown } from "../../model/props";
import { FleetStackPolicy } from "../../meta";
import { CREDENTIAL_FILE_NAME, credentialInText, decodeSecretValue } from "../../recognisers/kubernetesCredentials";
import { nsKey, runnerNamespaceOf, UNKNOWN_NAME } from "../../model/kubernetes";
import { k8sStackRule } from "../../framework/kubernetesRule";

/** Keys of the ARC / actions-runner-controller GitHub credential Secret. */
const GITHUB_KEYS = /^(github_app_private_key|github_app_id|github_app_installation_id|github_token)$/;
const DOCKER_TYPES = new Set(["kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg"]);

function entries(v: unknown): [string, unknown][] {
    return v !== null && typeof v === "object" && !Array.isArray(v) ? Object.entries(v as Record<string, unknown>) : [];
}

export const k8sRunnerCredentials: FleetStackPolicy = k8sStackRule({
    name: "k8s-runner-credentials",
    description:
        "[I7] Runner namespaces hold no credentials: no .dockerconfigjson or service-account-token Secrets, no GitHub App or PAT Secret, " +
        "no Secret or ConfigMap (or patch) whose data is a credential file (.npmrc, Docker auths, git credentials) or a token.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "runner namespaces hold no `.dockerconfigjson`/`.dockercfg` or service-account-token Secret, no GitHub App or PAT Secret (`github_app_private_key`, `github_token`, ...; allowed only in the ARC controller's own namespace when it holds no runners), and no Secret or ConfigMap (or patch) whose data is a credential file (`.npmrc` token, Docker auths, git credential URL, `.pypirc`) or a token shape",
        invariants: ["I7"],
        fix:
            "Keep registry and GitHub credentials out of runner namespaces (the ARC GitHub secret in the controller's namespace, images pulled " +
            "with the node's identity, packages fetched with Workload Identity); never put a credential in a ConfigMap.",
    },
    check: (m, report) => {
        for (const o of m.objects) {
            if (o.group !== "core" || (o.kind !== "Secret" && o.kind !== "ConfigMap")) {
                continue;
            }
            if (o.namespace === UNKNOWN_NAME) {
                report.advisory(`cannot decide during preview: the namespace of ${o.kind} ${o.name} is unknown, so it may put a credential in a runner namespace.`, o.urn);
                continue;
            }
            const why = runnerNamespaceOf(m, o);
            if (why === undefined) {
                continue;
            }
            const where = `${o.kind}${o.patch ? "Patch" : ""} ${o.name} in runner namespace "${o.namespace}" (${why})`;
            const out: string[] = [];
            if (o.kind === "Secret") {
                const type = get(o.props, "type");
                if (typeof type === "string" && DOCKER_TYPES.has(type)) {
                    out.push(`is a Docker registry auth Secret (${type})`);
                }
                if (type === "kubernetes.io/service-account-token") {
                    out.push("is a long-lived service-account token Secret");
                }
            }
            const data = [
                ...entries(get(o.props, "data")).map(([k, v]) => [k, o.kind === "Secret" ? decodeSecretValue(v) : v] as [string, unknown]),
                ...entries(get(o.props, "stringData")),
                ...(o.kind === "ConfigMap" ? entries(get(o.props, "binaryData")).map(([k, v]) => [k, decodeSecretValue(v)] as [string, unknown]) : []),
            ];
            if (unknown(get(o.props, "data")) || unknown(get(o.props, "stringData"))) {
                report.advisory(`cannot decide during preview: the data of ${where} is unknown.`, o.urn);
            }
            // The ARC controller's own namespace (holding no runner workload) is where the GitHub secret belongs.
            const key = nsKey(o.cluster, o.namespace!);
            const controllerOnly = m.controllerNamespaces.has(key) && !m.workloadNamespaces.has(key);
            const githubKeys = data.map(([k]) => k).filter((k) => GITHUB_KEYS.test(k));
            if (githubKeys.length > 0 && !controllerOnly) {
                out.push(`holds GitHub credentials (${githubKeys.join(", ")}): the GitHub App secret belongs in the ARC controller's namespace`);
            }
            for (const [k, v] of data) {
                if (unknown(v)) {
                    continue;
                }
                const kind = GITHUB_KEYS.test(k) ? undefined : credentialInText(v);
                if (kind !== undefined) {
                    out.push(`key ${JSON.stringify(k)} holds ${kind}`);
                } else if (o.kind === "Secret" && CREDENTIAL_FILE_NAME.test(k)) {
                    out.push(`key ${JSON.stringify(k)} is a credential file`);
                }
            }
            if (out.length > 0) {
                report.violation(`${where} ${[...new Set(out)].join("; ")}.`, o.urn);
            }
        }
    },
});
