/**
 * Classes, not cases: one-change variants of the raw baseline that reach the platform through a type
 * or principal form no list names - a compute kind read only through the classification table, a
 * type from a newer provider, a dynamic provider, a custom resource that embeds runner pods.
 * classes.test.ts runs each in normal and preview mode.
 */
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Handles, Mutations, WORKER_PROJECT } from "../../helpers/insecureBaseline";
import { CaughtVariant } from "../../helpers/insecureHarness";

export interface ClassVariant extends CaughtVariant {
    name: string;
    /** The class of attack, as docs/policies.md names it. */
    cls: string;
}

const add = (f: (h: Handles) => void) => (m: Mutations): void => {
    m.after.push(f);
};

/** A resource of any type token: a newer provider's, a dynamic provider's, another package's. */
class Foreign extends pulumi.CustomResource {
    constructor(type: string, name: string, props: pulumi.Inputs) {
        super(type, name, props);
    }
}

const UNCLASSIFIED = "unclassified-resource-types";
const ENCLAVE = "runners-cannot-reach-enclave";
const LPV = "runner-least-privilege";
const LABELS = "role-labels-required";

/** A ScaledJob-like custom resource whose pods are the runner's, in the runner namespace. */
const podCr = (h: Handles, name: string, apiVersion: string, kind: string, spec: Record<string, unknown>, namespace: pulumi.Input<string> = h.k8sNamespace.metadata.name) =>
    new k8s.apiextensions.CustomResource(name, { apiVersion, kind, metadata: { namespace }, spec }, { provider: h.k8sProvider });

export const CLASS_VARIANTS: ClassVariant[] = [
    { name: "a TPU VM (a runs row with no reviewed spec) runs as the signer SA", cls: "compute kinds read from the table", policy: ENCLAVE, offender: "signer-sa",
        also: [{ policy: LPV }, { policy: LABELS }],
        mutate: add((h) => {
            new gcp.tpu.V2Vm("tpu-runner", {
                project: WORKER_PROJECT, zone: "europe-west4-a", name: "tpu", acceleratorType: "v2-8", runtimeVersion: "tpu-vm-tf-2.13.0",
                serviceAccount: { email: h.signer.sa.email, scopes: ["cloud-platform"] }, networkConfig: { network: h.vm.network.id, subnetwork: h.vm.subnet.id },
            });
        }) },
    { name: "a Dataplex task runs as the signer SA", cls: "compute kinds read from the table", policy: ENCLAVE, offender: "signer-sa",
        also: [{ policy: LPV }, { policy: LABELS }],
        mutate: add((h) => {
            new gcp.dataplex.Task("dataplex-task", {
                project: WORKER_PROJECT, location: "europe-west1", lake: "lake", taskId: "t",
                triggerSpec: { type: "ON_DEMAND" }, executionSpec: { serviceAccount: h.signer.sa.email },
                spark: { pythonScriptFile: "gs://tenant/script.py" },
            });
        }) },
    { name: "a type from a newer provider takes the signer key", cls: "unclassified types", policy: UNCLASSIFIED, offender: "future-key-user", mentions: "signer key signer-key",
        mutate: add((h) => {
            new Foreign("gcp:futurekms/keyUser:KeyUser", "future-key-user", { cryptoKey: h.key.id, member: h.vm.sa.member });
        }) },
    { name: "a dynamic-provider resource names the signer SA", cls: "unclassified types", policy: UNCLASSIFIED, offender: "dyn-token", mentions: "signer identity",
        mutate: add((h) => {
            new Foreign("pulumi-nodejs:dynamic:Resource", "dyn-token", { target: h.signer.sa.email, lifetime: "3600s" });
        }) },
    { name: "a type from a newer provider writes into the provenance bucket", cls: "unclassified types", policy: UNCLASSIFIED, offender: "future-export", mentions: "provenance bucket",
        mutate: add((h) => {
            new Foreign("gcp:futureexport/sink:Sink", "future-export", { destination: pulumi.interpolate`gs://${h.provenance.name}/x` });
        }) },
    { name: "a type from a newer provider attaches to the signer network", cls: "unclassified types", policy: UNCLASSIFIED, offender: "future-attach", mentions: "signer network",
        mutate: add((h) => {
            new Foreign("gcp:futurenet/attachment:Attachment", "future-attach", { network: h.signer.network.selfLink, peer: h.vm.network.selfLink });
        }) },
    { name: "a KEDA ScaledJob embeds a pod template in the runner namespace", cls: "custom resources with pod templates", policy: UNCLASSIFIED, offender: "scaled-job",
        also: [{ policy: "k8s-runner-namespace-workloads" }],
        mutate: add((h) => {
            podCr(h, "scaled-job", "keda.sh/v1alpha1", "ScaledJob", { jobTargetRef: { template: { spec: { containers: [{ name: "build", image: "busybox", securityContext: { privileged: true } }] } } } });
        }) },
    { name: "a Tekton TaskRun runs steps in the runner namespace", cls: "custom resources with pod templates", policy: UNCLASSIFIED, offender: "task-run",
        also: [{ policy: "k8s-runner-namespace-workloads" }],
        mutate: add((h) => {
            podCr(h, "task-run", "tekton.dev/v1", "TaskRun", { taskSpec: { steps: [{ name: "build", image: "busybox", script: "make" }] } });
        }) },
];

/** Unclassified resources that touch nothing of the platform: an advisory only, never a pass and never a violation. */
export const CLASS_ADVISORIES: { name: string; offender: string; mutate: (m: Mutations) => void }[] = [
    { name: "a widget of an unknown provider with no platform reference", offender: "widget",
        mutate: add(() => {
            new Foreign("acme:thing/widget:Widget", "widget", { size: 3 });
        }) },
    { name: "a ScaledJob outside every runner namespace", offender: "tools-scaled-job",
        mutate: add((h) => {
            podCr(h, "tools-scaled-job", "keda.sh/v1alpha1", "ScaledJob", { jobTargetRef: { template: { spec: { containers: [{ name: "x", image: "busybox" }] } } } }, "tools");
        }) },
];
