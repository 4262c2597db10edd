/**
 * cloud-run-no-public-invoker (I10): public Cloud Run invokers are refused, except on the control plane's
 * HMAC-authenticated webhook receiver, recognised from the stack (label, digest-pinned image, webhook entry).
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import { evaluateFleet, assertFinding, findings, FleetHandles, REGION, WORKER_PROJECT } from "../../helpers/stackPolicy";

const P = "cloud-run-no-public-invoker";
const CONTROL = { "build-fleet-role": "control-plane" };
const PINNED = "europe-docker.pkg.dev/cp-proj/images/services@sha256:" + "b".repeat(64);
/** The services image built outside this stack, declared to the pack. */
const TRUSTED = { policyConfig: { [P]: { webhookImages: [PINNED] } } };

/** A control-plane Cloud Run service, by default the webhook receiver, and its public invoker. */
function webhook(_f: FleetHandles, overrides: Partial<gcp.cloudrunv2.ServiceArgs> = {}, container: Record<string, unknown> = {}, member = "allUsers", role = "roles/run.invoker"): void {
    // Its own identity, as the control plane's services have: an unlabelled variant must not turn the
    // generator's identity into a runner's.
    const sa = new gcp.serviceaccount.Account("cp-webhook-sa", { project: WORKER_PROJECT, accountId: "cp-webhook" });
    const svc = new gcp.cloudrunv2.Service("cp-webhook", {
        project: WORKER_PROJECT, location: REGION, name: "cp-webhook", labels: CONTROL, ingress: "INGRESS_TRAFFIC_ALL", deletionProtection: false,
        template: { serviceAccount: sa.email, labels: CONTROL, containers: [{ image: PINNED, envs: [{ name: "SERVICE", value: "webhook" }], ...container }] },
        ...overrides,
    });
    new gcp.cloudrunv2.ServiceIamBinding("cp-webhook-invokers", { project: WORKER_PROJECT, location: REGION, name: svc.name, role, members: [member] });
}

describe("stack rule cloud-run-no-public-invoker (I10)", function () {
    this.timeout(60_000);

    for (const preview of [false, true]) {
        it(`lets the control plane's webhook receiver be public (${preview ? "preview" : "normal"} mode)`, async () => {
            const ev = await evaluateFleet((f) => webhook(f), { preview, ...TRUSTED });
            assert.deepStrictEqual(ev.violations.filter((v) => v.policy === P), [], findings(ev));
        });
    }

    it("flags allUsers on the signer service", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.cloudrunv2.ServiceIamMember("signer-public", { project: f.signer.service.project, location: REGION, name: f.signer.service.name, role: "roles/run.invoker", member: "allUsers" });
        });
        assertFinding(ev, P, /allUsers -> roles\/run\.invoker on signer-service: anyone could invoke it, and the service is not labelled build-fleet-role=control-plane/, { alsoAllowed: ["runners-cannot-reach-enclave", "signer-invoked-by-generator-only"] });
        assert.ok(ev.violations.some((v) => v.policy === P && v.urn?.endsWith("::signer-public")));
    });

    const refusals: [string, (f: FleetHandles) => void, RegExp, string[]?][] = [
        ["a webhook receiver on an image neither built by the stack nor declared",
            (f) => webhook(f, {}, { image: "europe-docker.pkg.dev/elsewhere/images/anything@sha256:" + "c".repeat(64) }), /neither built by this stack .* nor listed in the pack config's webhookImages/],
        ["a public service running another entry", (f) => webhook(f, {}, { envs: [{ name: "SERVICE", value: "broker" }] }), /does not run the services image's "webhook" entry/],
        // Every control-plane workload's image is digest-pinned: signer-service-pinned-image says so too.
        ["a webhook receiver on a mutable tag", (f) => webhook(f, {}, { image: "europe-docker.pkg.dev/cp-proj/images/services:latest" }), /is not pinned by digest/, ["signer-service-pinned-image"]],
        ["a webhook receiver whose arguments pick another entry", (f) => webhook(f, {}, { args: ["broker"] }), /overrides the command or arguments/],
        ["a webhook receiver without the control-plane label", (f) => webhook(f, { labels: {} }), /not labelled build-fleet-role=control-plane/, ["role-labels-required"]],
        ["allAuthenticatedUsers as run.admin on the webhook receiver", (f) => webhook(f, {}, {}, "allAuthenticatedUsers", "roles/run.admin"), /more than roles\/run\.invoker/],
    ];
    for (const [what, variant, why, also] of refusals) {
        it(`flags ${what}`, async () => {
            const ev = await evaluateFleet(variant, TRUSTED);
            assertFinding(ev, P, why, { alsoAllowed: ["no-public-iam", ...(also ?? [])] });
            assert.ok(ev.violations.some((v) => v.policy === P && v.urn?.endsWith("::cp-webhook-invokers")), findings(ev));
        });
    }

    it("judges every IAM form: a v1 IamMember and a v2 IAM policy document granting allUsers on the signer", async () => {
        const ev = await evaluateFleet((f) => {
            new gcp.cloudrun.IamMember("signer-public-v1", { project: f.signer.service.project, location: REGION, service: f.signer.service.name, role: "roles/run.invoker", member: "allUsers" });
            new gcp.cloudrunv2.ServiceIamPolicy("signer-public-policy", {
                project: f.signer.service.project, location: REGION, name: f.signer.service.name,
                policyData: JSON.stringify({ bindings: [{ role: "roles/run.invoker", members: ["allUsers"] }] }),
            });
        });
        for (const res of ["signer-public-v1", "signer-public-policy"]) {
            assert.ok(ev.violations.some((v) => v.policy === P && v.enforcementLevel === "mandatory" && v.urn?.endsWith(`::${res}`)), `${res}:\n${findings(ev)}`);
        }
    });

    it("flags a public grant on a service the stack does not define (fail closed)", async () => {
        const ev = await evaluateFleet(() => {
            new gcp.cloudrunv2.ServiceIamMember("outside-public", { project: WORKER_PROJECT, location: REGION, name: "somewhere-else", role: "roles/run.invoker", member: "allUsers" });
        });
        assertFinding(ev, P, /on a service this stack does not define/);
    });
});
