/**
 * The hardened runner pod template (I1, I2, I6), as a pure function. Used for the ARC scale-set chart
 * values by the GKE backend, validated as a Pod against the upstream Kubernetes schema in tests, and
 * reusable by policies that want the reference shape.
 *
 * One pod runs one job and is then discarded by the controller; everything it writes lives in
 * emptyDir volumes that die with it (no hostPath, no PVC). The pod runs in the gVisor sandbox as a
 * non-root user without privilege escalation, capabilities or a Kubernetes API token (its one projected
 * token is for the registration broker's audience alone), and cannot outlive `activeDeadlineSeconds`.
 */
import { POOL_LABEL, ROLE_LABEL, roleLabels } from "../labels";

/** Taint on runner nodes (and the toleration runner pods carry), so only runner pods land there. */
export const RUNNER_TAINT = { key: ROLE_LABEL, value: "runner", effect: "NoSchedule" } as const;
/** Label distinguishing the runner node pool from the system node pool of a pool's cluster. */
export const NODE_CLASS_LABEL = "build-fleet-node-class";
/** GKE's taint for nodes reserved to GKE-managed system components; the system node pool carries it. */
export const SYSTEM_TAINT = { key: "components.gke.io/gke-managed-components", value: "true", effect: "NoSchedule" } as const;
/** RuntimeClass GKE Sandbox installs for gVisor node pools. */
export const GVISOR_RUNTIME_CLASS = "gvisor";
/**
 * The one Kubernetes token a runner pod carries: a projected service-account token for the registration
 * broker's audience alone (the API server refuses it), living 600 s (Kubernetes' minimum), which the pod
 * presents once to get its job-bound upload grant. The broker and k8s-runner-no-sa-token use the same values.
 */
export const BROKER_TOKEN_AUDIENCE = "build-fleet-broker";
export const BROKER_TOKEN_EXPIRATION_SECONDS = 600;
/** Where the runner container reads the broker token (the kubelet rotates the file). */
export const BROKER_TOKEN_DIR = "/var/run/secrets/hardened-build-fleet";
export const BROKER_TOKEN_FILE = "broker-token";

/** uid/gid of the `runner` user in the official actions-runner image. */
export const RUNNER_UID = 1001;
/**
 * uid/gid of distroless `nonroot`, the user of the ARC controller and listener image. The image names
 * it `USER nonroot:nonroot` (not numeric), so `runAsNonRoot` needs an explicit numeric `runAsUser`.
 */
export const ARC_NONROOT_UID = 65532;

/** Per-runner compute budget; requests equal limits so every runner is Guaranteed QoS. */
export interface RunnerResources {
    /** CPU in millicores. */
    cpuMillicores: number;
    /** Memory in MiB. */
    memoryMiB: number;
    /** Ephemeral storage (writable layer plus emptyDirs) in GiB. */
    ephemeralStorageGiB: number;
}

export const DEFAULT_RUNNER_RESOURCES: RunnerResources = { cpuMillicores: 2000, memoryMiB: 4096, ephemeralStorageGiB: 20 };

/** Kubernetes quantities for `RunnerResources`, multiplied by `count` (for quotas). */
export function resourceQuantities(r: RunnerResources, count = 1): Record<string, string> {
    return {
        cpu: `${r.cpuMillicores * count}m`,
        memory: `${r.memoryMiB * count}Mi`,
        "ephemeral-storage": `${r.ephemeralStorageGiB * count}Gi`,
    };
}

export interface RunnerPodTemplateOptions {
    /** Pool name (labels and node selector). */
    pool: string;
    /** Runner container image. */
    image: string;
    /** Kubernetes service account (no API token mounted; bound to the pool GSA via Workload Identity). */
    serviceAccountName: string;
    /** Audience of the projected broker token. Default BROKER_TOKEN_AUDIENCE (the broker's BROKER_POD_AUDIENCE). */
    brokerAudience?: string;
    /** I2: hard upper bound on the pod's lifetime, in seconds. */
    activeDeadlineSeconds: number;
    /** Compute budget. Default DEFAULT_RUNNER_RESOURCES. */
    resources?: RunnerResources;
    /**
     * Read-only root filesystem for the runner container. Default false: the runner writes its
     * registration and diagnostics under /home/runner and jobs install tool caches there. The writable
     * layer still dies with the pod (I1); set true for images that keep all writes in /home/runner/_work.
     */
    readOnlyRootFilesystem?: boolean;
}

/** Container securityContext satisfying Pod Security `restricted` (I6). */
export function restrictedContainerSecurityContext(readOnlyRootFilesystem: boolean, runAsUser?: number): Record<string, any> {
    return {
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem,
        runAsNonRoot: true,
        ...(runAsUser !== undefined ? { runAsUser } : {}),
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/** The hardened runner pod template `{ metadata, spec }` for the ARC `template` value. */
export function runnerPodTemplate(opts: RunnerPodTemplateOptions): { metadata: Record<string, any>; spec: Record<string, any> } {
    const resources = opts.resources ?? DEFAULT_RUNNER_RESOURCES;
    const quantities = resourceQuantities(resources);
    return {
        metadata: { labels: roleLabels("runner", opts.pool) },
        spec: {
            // I6: every runner pod in the gVisor sandbox.
            runtimeClassName: GVISOR_RUNTIME_CLASS,
            serviceAccountName: opts.serviceAccountName,
            // I7: no Kubernetes API token in the build; the only token is the broker's (below).
            automountServiceAccountToken: false,
            // I2: the kubelet kills the pod at the deadline whatever the job does.
            activeDeadlineSeconds: opts.activeDeadlineSeconds,
            restartPolicy: "Never",
            enableServiceLinks: false,
            // I3/I6: no host namespaces.
            hostNetwork: false,
            hostPID: false,
            hostIPC: false,
            nodeSelector: { [ROLE_LABEL]: "runner", [POOL_LABEL]: opts.pool, [NODE_CLASS_LABEL]: "runner" },
            tolerations: [{ key: RUNNER_TAINT.key, operator: "Equal", value: RUNNER_TAINT.value, effect: RUNNER_TAINT.effect }],
            securityContext: {
                runAsNonRoot: true,
                runAsUser: RUNNER_UID,
                runAsGroup: RUNNER_UID,
                fsGroup: RUNNER_UID,
                seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [{
                name: "runner",
                image: opts.image,
                command: ["/home/runner/run.sh"],
                securityContext: restrictedContainerSecurityContext(opts.readOnlyRootFilesystem ?? false),
                resources: { requests: quantities, limits: quantities },
                volumeMounts: [
                    { name: "work", mountPath: "/home/runner/_work" },
                    { name: "tmp", mountPath: "/tmp" },
                    { name: "broker-token", mountPath: BROKER_TOKEN_DIR, readOnly: true },
                ],
            }],
            // I1: scratch space only, gone with the pod.
            volumes: [
                { name: "work", emptyDir: { sizeLimit: `${resources.ephemeralStorageGiB}Gi` } },
                { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
                // The pod's proof of identity to the broker: bound to this pod, useless against the API server.
                { name: "broker-token", projected: { sources: [{ serviceAccountToken: { audience: opts.brokerAudience ?? BROKER_TOKEN_AUDIENCE, expirationSeconds: BROKER_TOKEN_EXPIRATION_SECONDS, path: BROKER_TOKEN_FILE } }] } },
            ],
        },
    };
}

export interface ListenerPodTemplateOptions {
    /** Pool name (labels). */
    pool: string;
}

/**
 * The ARC listener pod customisation (`listenerTemplate` value): the controller creates one listener per
 * scale set in its own namespace, which is Pod Security `restricted` too, so the listener must comply.
 * It runs on the system node pool (tolerating GKE's system taint), never on runner nodes.
 */
export function listenerPodTemplate(opts: ListenerPodTemplateOptions): { metadata: Record<string, any>; spec: Record<string, any> } {
    return {
        metadata: { labels: roleLabels("runner", opts.pool) },
        spec: {
            // automountServiceAccountToken left to ARC: the listener needs its API token and runs no build code.
            nodeSelector: { [NODE_CLASS_LABEL]: "system" },
            tolerations: [{ key: SYSTEM_TAINT.key, operator: "Equal", value: SYSTEM_TAINT.value, effect: SYSTEM_TAINT.effect }],
            securityContext: {
                runAsNonRoot: true,
                runAsUser: ARC_NONROOT_UID,
                runAsGroup: ARC_NONROOT_UID,
                seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [{
                name: "listener",
                securityContext: restrictedContainerSecurityContext(true),
            }],
        },
    };
}
