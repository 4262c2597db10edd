/**
 * cloud-run-no-public-invoker (I10): no Cloud Run service is invokable by allUsers or
 * allAuthenticatedUsers, with one exception the graph can prove: the control plane's `workflow_job`
 * webhook receiver. GitHub cannot present a Google identity, so that service must be public; it
 * authenticates every delivery by its HMAC signature instead. The exception holds only when the public
 * grant's target is, in this stack, a control-plane Cloud Run v2 service with one container whose image
 * is pinned by digest, built by this stack (or named in pack config `webhookImages`), and which runs the
 * `webhook` entry of the services image (`SERVICE=webhook`, no command or other args), and the grant is `roles/run.invoker` alone. Anything else public, a grant
 * whose target the pack cannot find, or a target it cannot read is a violation (an advisory only while
 * a preview leaves the deciding value unknown).
 */
import { PolicyResource, StackValidationArgs } from "@pulumi/policy/policy";
import { FleetStackPolicy } from "../../meta";
import { roleOf } from "../../model/labels";
import { get, unknown, UNKNOWN_VALUE } from "../../model/props";
import { CLOUD_RUN_V2_SERVICE, DIGEST_PINNED } from "../resource/signerService";
import { FleetGraph, isPublicMember, UNDECIDED } from "../../model";
import { Report, stackRule } from "../../framework/stackRule";

/** The entry of the services image that serves GitHub's webhook deliveries. */
export const WEBHOOK_ENTRY = "webhook";
const INVOKER_ROLE = "roles/run.invoker";
const DOCKER_BUILD_IMAGE = "docker-build:index:Image";

/** Why `service` is not the provable webhook receiver; undefined when it is; "unknown" while a preview hides it. */
export function notWebhookReceiver(service: PolicyResource, trustedImages: readonly string[] = []): string | "unknown" | undefined {
    if (service.type !== CLOUD_RUN_V2_SERVICE) {
        return `it is a ${service.type}, not a Cloud Run v2 service of the control plane`;
    }
    if (roleOf(service.type, service.props) !== "control-plane") {
        return "the service is not labelled build-fleet-role=control-plane";
    }
    const containers = get(service.props, "template", "containers");
    if (unknown(containers)) {
        return "unknown";
    }
    if (!Array.isArray(containers) || containers.length !== 1) {
        return "the service must run exactly one container (the services image)";
    }
    const [c] = containers;
    const image = get(c, "image");
    const envs = get(c, "envs");
    if (unknown(envs) || unknown(get(c, "args")) || unknown(get(c, "commands"))) {
        return "unknown";
    }
    // The env var alone proves nothing: the image must be the services image this stack builds (deployed by
    // the digest its build reports) or one the pack config names, so no other public container can claim the exemption.
    const built = (service.propertyDependencies?.template ?? []).some((d) => d.type === DOCKER_BUILD_IMAGE);
    if (unknown(image)) {
        if (!built) {
            return "unknown";
        }
    } else if (typeof image !== "string" || !DIGEST_PINNED.test(image)) {
        return `its image ${JSON.stringify(image)} is not pinned by digest (@sha256:<64 hex>)`;
    } else if (!built && !trustedImages.includes(image)) {
        return `its image ${image} is neither built by this stack (a docker-build Image) nor listed in the pack config's webhookImages`;
    }
    const serviceEnv = Array.isArray(envs) ? envs.filter((e) => get(e, "name") === "SERVICE") : [];
    if (serviceEnv.some((e) => unknown(get(e, "value")))) {
        return "unknown";
    }
    if (serviceEnv.length !== 1 || get(serviceEnv[0], "value") !== WEBHOOK_ENTRY) {
        return `it does not run the services image's "${WEBHOOK_ENTRY}" entry (env SERVICE=${WEBHOOK_ENTRY})`;
    }
    const args = get(c, "args");
    const commands = get(c, "commands");
    if ((commands !== undefined && !(Array.isArray(commands) && commands.length === 0))
        || (args !== undefined && !(Array.isArray(args) && (args.length === 0 || (args.length === 1 && args[0] === WEBHOOK_ENTRY))))) {
        return "its container overrides the command or arguments, so the entry it runs is not the webhook receiver's";
    }
    return undefined;
}

/** Public grants on Cloud Run, as the model resolved them: target, role and members, whatever the IAM form. */
function check(g: FleetGraph, report: Report, args: StackValidationArgs): void {
    const trusted = args.getConfig<{ webhookImages?: string[] }>().webhookImages ?? [];
    for (const gr of g.grants.filter((x) => x.scope === "runService")) {
        const publicMembers = gr.members.filter((m) => isPublicMember(m.id) && !/^domain:/i.test(m.id));
        if (publicMembers.length === 0) {
            continue;
        }
        const grants = publicMembers.map((m) => `${m.id} -> ${gr.role === UNKNOWN_VALUE ? "(unknown role)" : gr.role}`).join(", ");
        if (gr.targetUnknown) {
            report(`${UNDECIDED} ${grants} on a Cloud Run service whose name is unknown until apply`, gr.res.urn);
            continue;
        }
        if (gr.target === undefined) {
            report(`Cloud Run service IAM grants ${grants} on a service this stack does not define (${gr.targetId ?? "?"}): anyone could invoke it, and nothing proves it authenticates its callers.`, gr.res.urn);
            continue;
        }
        if (gr.role === UNKNOWN_VALUE) {
            report(`${UNDECIDED} ${grants} on ${gr.target.name}: the role is unknown until apply`, gr.res.urn);
            continue;
        }
        const why = gr.role !== INVOKER_ROLE ? `the public grant is ${gr.role}, more than ${INVOKER_ROLE}` : notWebhookReceiver(gr.target, trusted);
        if (why === "unknown") {
            report(`${UNDECIDED} ${grants} on ${gr.target.name}, whose container is unknown until apply`, gr.res.urn);
        } else if (why !== undefined) {
            report(`Cloud Run service IAM grants ${grants} on ${gr.target.name}: anyone could invoke it, and ${why}. Only the control plane's HMAC-authenticated webhook receiver may be public.`, gr.res.urn);
        }
    }
}

export const cloudRunNoPublicInvoker: FleetStackPolicy = stackRule({
    name: "cloud-run-no-public-invoker",
    description:
        "[I10] No Cloud Run service is invokable by allUsers/allAuthenticatedUsers, except the control plane's webhook receiver " +
        "(a control-plane service running the digest-pinned services image's webhook entry, which authenticates GitHub by HMAC).",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            webhookImages: {
                type: "array",
                items: { type: "string", pattern: "@sha256:[0-9a-f]{64}$" },
                default: [],
                description: "Digest-pinned services images built outside this stack that may run the public webhook receiver.",
            },
        },
    },
    meta: {
        checks: "no Cloud Run service is invokable by allUsers/allAuthenticatedUsers, except the control plane's webhook receiver proven from the stack: the grant's target service is labelled control-plane, runs one container of a digest-pinned image that this stack builds (a `docker-build` Image) or that pack config `webhookImages` names, with `SERVICE=webhook` and no command/argument override, and the public role is `roles/run.invoker` alone. A grant on a service the stack does not define fails closed",
        invariants: ["I10"],
        fix:
            "Grant roles/run.invoker to named identities only (the signer: the provenance generator). A public service must be the " +
            "control plane's webhook receiver: label it build-fleet-role=control-plane, run the digest-pinned services image with SERVICE=webhook.",
    },
    check,
});
