/**
 * The offline engine runs what `pulumi up` runs: runtime transforms applied in the engine's order
 * (own, ancestors', stack's), and StackReference outputs from the user or unknown.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { byName } from "../../helpers/graph";
import { runProgram, UNKNOWN } from "../../../plan/engine";
import { checkCaught, evaluateVariant } from "../../helpers/insecureHarness";
import { Mutations } from "../../helpers/insecureBaseline";

const OPEN_INGRESS: pulumi.ResourceTransform = (a) =>
    a.type === "gcp:cloudrunv2/service:Service" ? { props: { ...a.props, ingress: "INGRESS_TRAFFIC_ALL" }, opts: a.opts } : undefined;

class Wrapper extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("test:index:Wrapper", name, {}, opts);
        new gcp.storage.Bucket(`${name}-bucket`, { location: "EU", labels: { order: "own" } }, {
            parent: this,
            transforms: [(a) => ({ props: { ...a.props, labels: { ...a.props.labels, order: `${a.props.labels.order}>own2` } }, opts: a.opts })],
        });
        this.registerOutputs({});
    }
}

describe("engine: runtime transforms offline", () => {
    it("applies a resource's own transforms, then its ancestors', then the stack's, each on the previous result", async () => {
        const run = await runProgram(() => {
            pulumi.runtime.registerResourceTransform((a) => a.type === "gcp:storage/bucket:Bucket"
                ? { props: { ...a.props, labels: { ...a.props.labels, order: `${a.props.labels.order}>stack` } }, opts: a.opts } : undefined);
            new Wrapper("w", { transforms: [(a) => a.type === "gcp:storage/bucket:Bucket"
                ? { props: { ...a.props, labels: { ...a.props.labels, order: `${a.props.labels.order}>parent` } }, opts: a.opts } : undefined] });
        }, { config: { "gcp:project": "p" } });
        assert.strictEqual(byName(run, "w-bucket").inputs.labels.order, "own>own2>parent>stack");
    });

    it("applies stack transforms only to resources registered after them", async () => {
        const run = await runProgram(async () => {
            // Registration is asynchronous: as under the engine, a resource is "before" once its registration completed.
            await new Promise<void>((resolve) => new gcp.storage.Bucket("before", { location: "EU" }).urn.apply(() => resolve()));
            pulumi.runtime.registerResourceTransform((a) => ({ props: { ...a.props, location: "US" }, opts: a.opts }));
            new gcp.storage.Bucket("after", { location: "EU" });
        }, { config: { "gcp:project": "p" } });
        assert.strictEqual(byName(run, "before").inputs.location, "EU");
        assert.strictEqual(byName(run, "after").inputs.location, "US");
    });

    it("a transform that opens the signer's ingress is caught (and would pass if recorded untransformed)", async () => {
        const viaTransform = (m: Mutations) => {
            m.opts.signerService = (o) => {
                o.transforms = [OPEN_INGRESS];
            };
        };
        for (const preview of [false, true]) {
            await checkCaught({ policy: "signer-service-internal-ingress", offender: "signer-service", mutate: viaTransform }, preview);
        }
        // The same program with the transform's effect ignored (what the engine recorded before) is clean.
        const r = await evaluateVariant(undefined, false);
        assert.deepStrictEqual(r.ev.violations.filter((v) => v.policy === "signer-service-internal-ingress"), []);
    });

    it("a stack transform registered by the program reaches the baseline's signer service", async () => {
        await checkCaught({
            policy: "signer-service-internal-ingress", offender: "signer-service",
            mutate: (m) => {
                m.args.signerKey = () => pulumi.runtime.registerResourceTransform(OPEN_INGRESS);
            },
        }, false);
    });
});

describe("engine: StackReference offline", () => {
    const program = () => {
        const net = new pulumi.StackReference("acme/network/prod");
        new gcp.storage.Bucket("b", { location: net.getOutput("region").apply((r) => String(r ?? "EU")) });
        return { region: net.getOutput("region") };
    };

    it("reads the outputs the user passes for the referenced stack", async () => {
        const run = await runProgram(program, { config: { "gcp:project": "p" }, stackReferences: { "acme/network/prod": { region: "europe-west4" } } });
        assert.strictEqual(byName(run, "b").inputs.location, "europe-west4");
        assert.strictEqual(run.outputs.region, "europe-west4");
    });

    it("without them the outputs are unknown, as in a first preview, and nothing crashes", async () => {
        const run = await runProgram(program, { config: { "gcp:project": "p" }, preview: true });
        assert.strictEqual(byName(run, "b").inputs.location, UNKNOWN);
        assert.strictEqual(run.error, undefined);
    });
});
