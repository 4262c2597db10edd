/**
 * signer-perimeter (I10), runner-perimeter (I4) and perimeter-well-formed (I10) on the secure raw fleet (fixture.ts, which carries an
 * enforced enclave and worker perimeters and the guardrails) and one-change variants. Each case asserts the exact
 * policy, level and URN, and that nothing else fired.
 */
import * as assert from "assert";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { evaluatePolicies, runProgram } from "../../../plan/engine";
import { stackPolicies } from "../../../policies/rules/stack";
import { ACCESS_POLICY, fixtureProjectNumber, perimeterPackConfig } from "../../helpers/perimeterFixture";
import { SIGNER_PROJECT, WORKER_PROJECT } from "../../helpers/stackPolicy";
import { assertOnly, evaluateVariant as evaluate, list, urnOf } from "../../helpers/perimeterHarness";

const SIGNER_PERIMETER = "signer-perimeter";
const WELL_FORMED = "perimeter-well-formed";
const SIGNER_MEMBER = `projects/${fixtureProjectNumber(SIGNER_PROJECT)}`;
/** Pack config that knows only the worker project's number (the signer's is the subject of the test). */
const RUNNER_NUMBERS = { "runner-perimeter": perimeterPackConfig(SIGNER_PROJECT, WORKER_PROJECT)["runner-perimeter"] };

/** A raw perimeter around the signer project, `status` or `spec` as given. */
function rawPerimeter(name: string, args: Partial<gcp.accesscontextmanager.ServicePerimeterArgs>, opts: pulumi.CustomResourceOptions = {}) {
    return new gcp.accesscontextmanager.ServicePerimeter(name, {
        parent: ACCESS_POLICY, name: `${ACCESS_POLICY}/servicePerimeters/${name.replace(/-/g, "_")}`, title: name, ...args,
    }, opts);
}

describe("stack rules signer-perimeter, runner-perimeter and perimeter-well-formed (I4, I10)", function () {
    this.timeout(120000);

    for (const preview of [false, true]) {
        it(`pass on the secure fleet with its enforced enclave perimeter (${preview ? "preview" : "normal"} mode)`, async () => {
            const r = await evaluate(() => undefined, { preview });
            assert.deepStrictEqual(r.ev.violations.map((v) => v.policy), [], list(r.ev));
        });
    }

    it("signer-perimeter: no perimeter at all is a mandatory violation on the signer key", async () => {
        const r = await evaluate(() => undefined, { omit: { hardening: { enclave: true } } });
        assertOnly(r, SIGNER_PERIMETER, "signer-key", "mandatory", /signer project signer-proj is in no enforced perimeter restricting cloudkms\.googleapis\.com/);
    });

    it("signer-perimeter: a perimeter in dry run only is an advisory on that perimeter", async () => {
        const r = await evaluate(() => {
            rawPerimeter("dry-enclave", { useExplicitDryRunSpec: true, spec: { resources: [SIGNER_MEMBER], restrictedServices: ["cloudkms.googleapis.com"] } });
        }, { omit: { hardening: { enclave: true } } });
        assertOnly(r, SIGNER_PERIMETER, "dry-enclave", "advisory", /protects signer project signer-proj in dry run only/);
    });

    it("signer-perimeter: a dry-run perimeter the pack cannot match (number unknown) is still an advisory on it", async () => {
        const r = await evaluate(() => {
            rawPerimeter("dry-enclave", { useExplicitDryRunSpec: true, spec: { resources: [SIGNER_MEMBER], restrictedServices: ["cloudkms.googleapis.com"] } });
        }, { omit: { hardening: { enclave: true } }, policyConfig: RUNNER_NUMBERS });
        assertOnly(r, SIGNER_PERIMETER, "dry-enclave", "advisory", /perimeter dry-enclave restricts cloudkms\.googleapis\.com in dry run only, for numbered projects the pack cannot match to signer project signer-proj/);
    });

    it("signer-perimeter: an enforced perimeter holding the signer but not restricting Cloud KMS is a violation on it", async () => {
        const r = await evaluate(() => {
            rawPerimeter("storage-only", { status: { resources: [SIGNER_MEMBER], restrictedServices: ["storage.googleapis.com"] } });
        }, { omit: { hardening: { enclave: true } } });
        assertOnly(r, SIGNER_PERIMETER, "storage-only", "mandatory", /contains signer project signer-proj but does not restrict cloudkms\.googleapis\.com/);
    });

    it("signer-perimeter: a perimeter around other projects does not count", async () => {
        const r = await evaluate(() => {
            rawPerimeter("elsewhere", { status: { resources: ["projects/999999999999"], restrictedServices: ["cloudkms.googleapis.com"] } });
        }, { omit: { hardening: { enclave: true } } });
        assertOnly(r, SIGNER_PERIMETER, "signer-key", "mandatory", /is in no enforced perimeter/);
    });

    it("signer-perimeter: a bridge is not a perimeter, and a bridge holding the signer project opens it to the other members", async () => {
        const r = await evaluate(() => {
            rawPerimeter("bridge", { perimeterType: "PERIMETER_TYPE_BRIDGE", status: { resources: [SIGNER_MEMBER, "projects/999999999999"] } });
        }, { omit: { hardening: { enclave: true } } });
        const found = r.ev.violations.map((v) => [v.policy, v.enforcementLevel, v.urn]);
        assert.deepStrictEqual(found.sort(), [
            [SIGNER_PERIMETER, "mandatory", urnOf(r.run, "bridge")],
            [SIGNER_PERIMETER, "mandatory", urnOf(r.run, "signer-key")],
        ].sort(), list(r.ev));
        assert.match(r.ev.violations.find((v) => v.urn === urnOf(r.run, "bridge"))!.message, /puts signer project .* in a bridge with projects\/999999999999/);
        assert.match(r.ev.violations.find((v) => v.urn === urnOf(r.run, "signer-key"))!.message, /is in no enforced perimeter/);
    });

    it("signer-perimeter: a bridge listing projects by number the pack cannot match is an advisory", async () => {
        const r = await evaluate(() => {
            rawPerimeter("numbered-bridge", { perimeterType: "PERIMETER_TYPE_BRIDGE", status: { resources: ["projects/888888888888", "projects/999999999999"] } });
        }, { policyConfig: { "signer-perimeter": { projectNumbers: {} } } });
        const hits = r.ev.violations.filter((v) => v.urn === urnOf(r.run, "numbered-bridge"));
        assert.deepStrictEqual(hits.map((v) => [v.policy, v.enforcementLevel]), [[SIGNER_PERIMETER, "advisory"]], list(r.ev));
        assert.match(hits[0].message, /set projectNumbers/);
    });

    it("signer-perimeter: an ingress rule admitting any identity to Cloud KMS is a violation on the perimeter", async () => {
        const r = await evaluate(() => {
            rawPerimeter("open-enclave", {
                status: {
                    resources: [SIGNER_MEMBER], restrictedServices: ["cloudkms.googleapis.com"],
                    ingressPolicies: [{ title: "anyone", ingressFrom: { identityType: "ANY_IDENTITY", sources: [{ accessLevel: "*" }] }, ingressTo: { resources: ["*"], operations: [{ serviceName: "cloudkms.googleapis.com" }] } }],
                },
            });
        }, { omit: { hardening: { enclave: true } } });
        assertOnly(r, SIGNER_PERIMETER, "open-enclave", "mandatory", /ingress rule\(s\) anyone admitting any identity to Cloud KMS/);
    });

    describe("signer-perimeter: an ingress rule admitting any identity to Cloud Run", () => {
        const CP_MEMBER = `projects/${fixtureProjectNumber("control-proj")}`;
        const enclave = (target: string, restricted = ["cloudkms.googleapis.com", "run.googleapis.com"]) => rawPerimeter("run-enclave", {
            status: {
                resources: [SIGNER_MEMBER, CP_MEMBER], restrictedServices: restricted,
                ingressPolicies: [{
                    title: "webhook deliveries",
                    ingressFrom: { identityType: "ANY_IDENTITY", sources: [{ accessLevel: "*" }] },
                    ingressTo: { resources: [target], operations: [{ serviceName: "run.googleapis.com", methodSelectors: [{ method: "*" }] }] },
                }],
            },
        });

        it("to the signer project, in a perimeter restricting Cloud Run: a violation on the perimeter (the signer's internal ingress admits it)", async () => {
            const r = await evaluate(() => {
                enclave(SIGNER_MEMBER);
            }, { omit: { hardening: { enclave: true } } });
            assertOnly(r, SIGNER_PERIMETER, "run-enclave", "mandatory", /ingress rule\(s\) webhook deliveries admitting any identity to its Cloud Run: the signer's internal ingress admits what the perimeter admits/);
        });

        it("to every member (\"*\"): the same violation", async () => {
            const r = await evaluate(() => {
                enclave("*");
            }, { omit: { hardening: { enclave: true } } });
            assertOnly(r, SIGNER_PERIMETER, "run-enclave", "mandatory", /webhook deliveries admitting any identity to its Cloud Run/);
        });

        it("to the control-plane project only, or in a perimeter not restricting Cloud Run: passes", async () => {
            for (const variant of [() => enclave(CP_MEMBER), () => enclave(SIGNER_MEMBER, ["cloudkms.googleapis.com"])]) {
                const r = await evaluate(() => {
                    variant();
                }, { omit: { hardening: { enclave: true } } });
                assert.deepStrictEqual(r.ev.violations.map((v) => v.policy), [], list(r.ev));
            }
        });
    });

    it("signer-perimeter: without the signer's number the pack cannot match an enforced perimeter: advisory, never a pass", async () => {
        const r = await evaluate(() => undefined, { policyConfig: RUNNER_NUMBERS });
        assertOnly(r, SIGNER_PERIMETER, "enclave-perimeter", "advisory", /cannot match signer project signer-proj .*projectNumbers/);
    });

    it("signer-perimeter: declared external in pack config passes without a perimeter in the stack", async () => {
        const r = await evaluate(() => undefined, { omit: { hardening: { enclave: true } }, policyConfig: { ...RUNNER_NUMBERS, [SIGNER_PERIMETER]: { externalPerimeter: true } } });
        assert.deepStrictEqual(r.ev.violations.map((v) => v.policy), [], list(r.ev));
    });

    for (const preview of [false, true]) {
        it(`signer-perimeter: a Project resource's number proves membership, without pack config (${preview ? "preview" : "normal"} mode)`, async () => {
            const r = await evaluate(() => {
                const project = new gcp.organizations.Project("signer-project", { projectId: SIGNER_PROJECT, name: SIGNER_PROJECT });
                rawPerimeter("by-project", { status: { resources: [pulumiMember(project)], restrictedServices: ["cloudkms.googleapis.com"] } });
            }, { omit: { hardening: { enclave: true } }, policyConfig: RUNNER_NUMBERS, preview });
            assert.deepStrictEqual(r.ev.violations.map((v) => v.policy), [], list(r.ev));
        });
    }

    it("a signer key whose project cannot be told is an advisory for both perimeter and guardrails, never a pass", async () => {
        const run = await runProgram(() => {
            new gcp.kms.CryptoKey("loose-key", { keyRing: "some-ring", purpose: "ASYMMETRIC_SIGN" });
        }, { config: {} });
        const ev = await evaluatePolicies(run, stackPolicies);
        const urn = urnOf(run, "loose-key");
        const mine = ev.violations.filter((v) => [SIGNER_PERIMETER, "org-guardrails"].includes(v.policy));
        assert.deepStrictEqual(mine.map((v) => `${v.policy}/${v.enforcementLevel}/${v.urn === urn}`).sort(), [`org-guardrails/advisory/true`, `${SIGNER_PERIMETER}/advisory/true`], list(ev));
        assert.ok(mine.every((v) => /cannot tell the project of (signer key )?loose-key/.test(v.message)), list(ev));
    });

    it("signer-perimeter: reads the perimeters of an authoritative ServicePerimeters resource (enforced passes, dry run is an advisory on it)", async () => {
        const entry = (mode: "status" | "spec") => ({
            name: `${ACCESS_POLICY}/servicePerimeters/enclave_all`, title: "enclave all",
            ...(mode === "spec" ? { useExplicitDryRunSpec: true } : {}),
            [mode]: { resources: [SIGNER_MEMBER], restrictedServices: ["cloudkms.googleapis.com"] },
        });
        const enforced = await evaluate(() => {
            new gcp.accesscontextmanager.ServicePerimeters("all-perimeters", { parent: ACCESS_POLICY, servicePerimeters: [entry("status")] });
        }, { omit: { hardening: { enclave: true } } });
        assert.deepStrictEqual(enforced.ev.violations.map((v) => v.policy), [], list(enforced.ev));
        const dry = await evaluate(() => {
            new gcp.accesscontextmanager.ServicePerimeters("all-perimeters", { parent: ACCESS_POLICY, servicePerimeters: [entry("spec")] });
        }, { omit: { hardening: { enclave: true } } });
        assertOnly(dry, SIGNER_PERIMETER, "all-perimeters", "advisory", /perimeter all-perimeters\[enclave all\] protects signer project signer-proj in dry run only/);
    });

    describe("runner-perimeter (I4)", () => {
        const RUNNER = "runner-perimeter";
        const WORKER_MEMBER = `projects/${fixtureProjectNumber(WORKER_PROJECT)}`;
        const omitWorkers = { omit: { hardening: { workers: true } } };
        const workers = (name: string, status: Record<string, unknown>, dryRun = false) => rawPerimeter(name, dryRun
            ? { useExplicitDryRunSpec: true, spec: { resources: [WORKER_MEMBER], ...status } }
            : { status: { resources: [WORKER_MEMBER], ...status } });
        const restricted = { restrictedServices: ["storage.googleapis.com", "logging.googleapis.com"] };
        const vpc = (enableRestriction: boolean, allowedServices: string[] = []) => ({ vpcAccessibleServices: { enableRestriction, allowedServices } });

        it("no worker perimeter: a mandatory violation on the first runner resource", async () => {
            const r = await evaluate(() => undefined, omitWorkers);
            assertOnly(r, RUNNER, "pool-a-template", "mandatory", /runner project worker-proj is in no enforced perimeter restricting storage\.googleapis\.com: builds can reach any project's buckets/);
        });

        it("a project running builds through a kind beyond VMs and GKE (an unlabelled Cloud Run job) is a runner project too", async () => {
            const r = await evaluate(() => {
                new gcp.cloudrunv2.Job("batch-builds", {
                    project: "jobs-proj", location: "europe-west1",
                    template: { template: { containers: [{ image: "ghcr.io/acme/builder@sha256:" + "a".repeat(64) }] } },
                });
            });
            // The worker perimeter cannot be proven to hold it, and its project lacks the runner guardrails.
            const perimeter = r.ev.violations.filter((v) => v.policy === RUNNER);
            assert.deepStrictEqual(perimeter.map((v) => [v.urn, v.enforcementLevel]), [[urnOf(r.run, "worker-perimeter"), "advisory"]], list(r.ev));
            assert.match(perimeter[0].message, /cannot match runner project jobs-proj to the projects\/<number> members of enforced perimeter worker-perimeter/);
            const guardrails = r.ev.violations.filter((v) => v.policy === "org-guardrails");
            assert.deepStrictEqual(guardrails.map((v) => [v.urn, v.enforcementLevel]), [[urnOf(r.run, "batch-builds"), "mandatory"]], list(r.ev));
            assert.match(guardrails[0].message, /runner project jobs-proj lacks the organization-policy guardrails/);
        });

        it("a worker perimeter in dry run only: an advisory on it", async () => {
            const r = await evaluate(() => {
                workers("dry-workers", { ...restricted, ...vpc(true, ["RESTRICTED-SERVICES"]) }, true);
            }, omitWorkers);
            assertOnly(r, RUNNER, "dry-workers", "advisory", /protects runner project worker-proj in dry run only/);
        });

        it("VPC-accessible services not restricted: runner networks may call every API; a violation on the perimeter", async () => {
            const r = await evaluate(() => {
                workers("open-vpc", { ...restricted, ...vpc(false) });
            }, omitWorkers);
            assertOnly(r, RUNNER, "open-vpc", "mandatory", /does not restrict its VPC-accessible services/);
        });

        it("a VPC-accessible service the perimeter does not restrict: a violation naming it", async () => {
            const r = await evaluate(() => {
                workers("leaky-vpc", { ...restricted, ...vpc(true, ["storage.googleapis.com", "bigquery.googleapis.com"]) });
            }, omitWorkers);
            assertOnly(r, RUNNER, "leaky-vpc", "mandatory", /lets runner networks call bigquery\.googleapis\.com, which it does not restrict/);
        });

        it("an egress rule for any identity to Cloud Storage: a violation on the perimeter", async () => {
            const r = await evaluate(() => {
                workers("egress-anywhere", {
                    ...restricted, ...vpc(true, ["storage.googleapis.com"]),
                    egressPolicies: [{ title: "anything", egressFrom: { identityType: "ANY_IDENTITY" }, egressTo: { resources: ["*"], operations: [{ serviceName: "storage.googleapis.com" }] } }],
                });
            }, omitWorkers);
            assertOnly(r, RUNNER, "egress-anywhere", "mandatory", /egress rule\(s\) anything letting any identity reach Cloud Storage outside it/);
        });

        it("declared external in pack config: passes", async () => {
            const r = await evaluate(() => undefined, { ...omitWorkers, policyConfig: { ...perimeterPackConfig(SIGNER_PROJECT, WORKER_PROJECT), [RUNNER]: { externalPerimeter: true } } });
            assert.deepStrictEqual(r.ev.violations.map((v) => v.policy), [], list(r.ev));
        });
    });

    it("perimeter-well-formed: a member named by project id is a violation on the perimeter", async () => {
        const r = await evaluate(() => {
            rawPerimeter("by-id", { status: { resources: [`projects/${SIGNER_PROJECT}`], restrictedServices: ["cloudkms.googleapis.com"] } });
        }, { omit: { hardening: { enclave: true } } });
        const hits = r.ev.violations.filter((v) => v.policy === WELL_FORMED);
        assert.strictEqual(hits.length, 1, list(r.ev));
        assert.strictEqual(hits[0].urn, urnOf(r.run, "by-id"));
        assert.strictEqual(hits[0].enforcementLevel, "mandatory");
        assert.match(hits[0].message, /members "projects\/signer-proj" of perimeter by-id are not projects\/<number>/);
        // The id form would be rejected by the API, but the intent is clear: signer-perimeter does not pile on.
        assert.deepStrictEqual(r.ev.violations.filter((v) => v.policy !== WELL_FORMED), [], list(r.ev));
    });

    it("perimeter-well-formed: duplicate ingress titles are a violation on the perimeter", async () => {
        const rule = { title: "cp", ingressFrom: { identities: ["serviceAccount:cp@worker-proj.iam.gserviceaccount.com"] }, ingressTo: { resources: ["*"], operations: [{ serviceName: "run.googleapis.com" }] } };
        const r = await evaluate(() => {
            rawPerimeter("dup", { status: { resources: [SIGNER_MEMBER], restrictedServices: ["cloudkms.googleapis.com"], ingressPolicies: [rule, rule] } });
        }, { omit: { hardening: { enclave: true } } });
        assertOnly(r, WELL_FORMED, "dup", "mandatory", /status ingress rule title "cp" is used twice in perimeter dup/);
    });

    it("perimeter-well-formed: members both inline and by ServicePerimeterResource fight: violation on the perimeter", async () => {
        const r = await evaluate(() => {
            const p = rawPerimeter("two-places", { status: { resources: [SIGNER_MEMBER], restrictedServices: ["cloudkms.googleapis.com"] } });
            new gcp.accesscontextmanager.ServicePerimeterResource("extra-member", { perimeterName: p.name, resource: "projects/888888888888" });
        }, { omit: { hardening: { enclave: true } } });
        assertOnly(r, WELL_FORMED, "two-places", "mandatory", /status members of perimeter two-places are declared by extra-member and inline: the two rewrite each other/);
    });

    it("perimeter-well-formed: ServicePerimeterResource alone, with the inline list ignored, is fine and proves membership", async () => {
        const r = await evaluate(() => {
            const p = rawPerimeter("external-members", { status: { restrictedServices: ["cloudkms.googleapis.com"] } }, { ignoreChanges: ["status.resources"] });
            new gcp.accesscontextmanager.ServicePerimeterResource("signer-member", { perimeterName: p.name, resource: SIGNER_MEMBER });
        }, { omit: { hardening: { enclave: true } } });
        assert.deepStrictEqual(r.ev.violations.map((v) => v.policy), [], list(r.ev));
    });

    it("perimeter-well-formed: ServicePerimeterResource without ignoreChanges on the perimeter is a violation", async () => {
        const r = await evaluate(() => {
            const p = rawPerimeter("no-ignore", { status: { restrictedServices: ["cloudkms.googleapis.com"] } });
            new gcp.accesscontextmanager.ServicePerimeterResource("signer-member", { perimeterName: p.name, resource: SIGNER_MEMBER });
        }, { omit: { hardening: { enclave: true } } });
        assertOnly(r, WELL_FORMED, "no-ignore", "mandatory", /declared by signer-member while the perimeter does not ignore changes to status\.resources/);
    });
});

/** `projects/<number>` from a Project resource (a property dependency the pack follows). */
function pulumiMember(project: gcp.organizations.Project) {
    return project.number.apply((n) => `projects/${n ?? "0"}`);
}
