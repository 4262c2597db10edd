/**
 * The stack config model (components/config/index.ts): one test per validation rule, asserting the
 * field path, the value and the fix in the reported message; defaults; several problems reported
 * together; readFleetConfig under the offline engine (warnings, nothing registered when invalid);
 * and the example stack and Pulumi.yaml schema kept in step with the validator.
 */
import { REPO_ROOT } from "../../helpers/paths";
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { generateKeyPairSync } from "crypto";
import { runProgram } from "../../../plan/engine";
import { pemBlocks, throwawayTsaChain } from "../../helpers/tsaChain";
import {
    CONFIG_NAMESPACE, ConfigIssue, FLEET_CONFIG_KEYS, FLEET_CONFIG_SCHEMA, FleetConfig, FleetConfigError, formatIssue,
    parseFleetConfig, readFleetConfig, validateFleetConfig,
} from "../../../components/config";

const ROOT = REPO_ROOT;
const NS = `${CONFIG_NAMESPACE}:`;

type Raw = Record<string, any>;

const TSA_IMAGE = `europe-docker.pkg.dev/acme-build-signer/ghcr/sigstore/timestamp-server@sha256:${"b".repeat(64)}`;
/** A throwaway TSA chain (made before the tests: certificates of a key generated now). */
let TSA_CHAIN = "";
before(async () => {
    TSA_CHAIN = await throwawayTsaChain();
});

/** A small valid config: one gce pool, one gke pool, signer in its own project. */
function validRaw(): Raw {
    return {
        region: "europe-west1",
        workerProject: "acme-build-workers",
        signerProject: "acme-build-signer",
        github: { configUrl: "https://github.com/acme" },
        registrationBrokerUrl: "https://broker.build.acme.example",
        pools: [
            {
                name: "builds",
                backend: "gce",
                cidr: "10.10.0.0/24",
                image: "projects/acme-images/global/images/family/runner",
                egressAllowList: { fqdns: ["github.com", "results-receiver.actions.githubusercontent.com"], cidrs: ["203.0.113.0/28"] },
            },
            { name: "containers", backend: "gke", cidr: "10.12.0.0/22", image: "ghcr.io/actions/actions-runner:2.321.0" },
        ],
        signer: {
            serviceImage: `europe-docker.pkg.dev/acme-build-signer/signer/signer@sha256:${"a".repeat(64)}`, cidr: "10.200.0.0/26",
            timestampAuthority: { image: TSA_IMAGE, certificateChainPem: TSA_CHAIN },
        },
        controlPlane: {
            githubApp: { appId: 123456, installationId: 7890123, privateKeySecret: "projects/acme-build-signer/secrets/github-app-key" },
            webhookSecret: "projects/acme-build-signer/secrets/github-webhook-secret",
        },
    };
}

function configError(raw: Raw): FleetConfigError {
    try {
        parseFleetConfig(raw);
    } catch (err) {
        assert.ok(err instanceof FleetConfigError, `expected FleetConfigError, got ${String(err)}`);
        return err;
    }
    return assert.fail("expected the config to be rejected");
}

interface Expected {
    value: unknown;
    message: RegExp;
    fix: RegExp;
    /** Other issues tolerated besides this one (default: none). */
    others?: number;
}

/**
 * Applies `mutate` to a valid config and asserts it is rejected with exactly one issue at `field`
 * whose value, message and fix match, and whose line in the error message names all three.
 */
function assertRejected(mutate: (raw: Raw) => void, field: string, expected: Expected): ConfigIssue {
    const raw = validRaw();
    mutate(raw);
    const err = configError(raw);
    assert.strictEqual(err.issues.length, 1 + (expected.others ?? 0), err.message);
    const issue = err.issues.find((i) => i.path === field);
    assert.ok(issue, `no issue at ${field}:\n${err.message}`);
    assert.deepStrictEqual(issue.value, expected.value);
    assert.match(issue.message, expected.message);
    assert.match(issue.fix, expected.fix);
    const line = err.message.split("\n").find((l) => l.startsWith(`${NS}${field} `));
    assert.ok(line, `no line for ${field} in:\n${err.message}`);
    assert.strictEqual(line, formatIssue(issue));
    if (expected.value !== undefined) {
        // Long values (a PEM chain) are shown truncated to 120 characters.
        const shown = JSON.stringify(expected.value);
        assert.ok(line.includes(`= ${shown.length > 120 ? `${shown.slice(0, 117)}...` : shown}:`), line);
    }
    assert.match(line, /\. Fix: .+\.$/);
    return issue;
}

function valid(raw: Raw): FleetConfig {
    const result = validateFleetConfig(raw);
    assert.deepStrictEqual(result.issues.map(formatIssue), []);
    assert.ok(result.config);
    return result.config;
}

/** The pool validator's runner-hosts warning (tested in runnerHosts.test.ts), left out where another warning is under test. */
const RUNNER_HOSTS_WARNING = /egressAllowList\.fqdns = .*: pool "[^"]+" (does not allow|allow-lists no FQDNs)/;

describe("config: normalisation", () => {
    it("applies every default to a minimal valid config", () => {
        const config = valid(validRaw());
        assert.deepStrictEqual(config, {
            region: "europe-west1",
            workerProject: "acme-build-workers",
            signerProject: "acme-build-signer",
            allowSharedSignerProject: false,
            enableApis: true,
            github: { configUrl: "https://github.com/acme", scaleSetSecretName: "arc-github-app" },
            registrationBrokerUrl: "https://broker.build.acme.example",
            pools: [
                {
                    name: "builds", backend: "gce", machineType: "e2-standard-4", minRunners: 0, maxRunners: 10, spot: false,
                    cidr: "10.10.0.0/24",
                    egressAllowList: { cidrs: ["203.0.113.0/28"], fqdns: ["github.com", "results-receiver.actions.githubusercontent.com"] },
                    maxBuildDurationSeconds: 3 * 3600, image: "projects/acme-images/global/images/family/runner",
                    confidentialCompute: false, masterCidr: "172.16.0.0/28", labels: ["self-hosted", "linux", "x64", "builds"],
                },
                {
                    name: "containers", backend: "gke", machineType: "e2-standard-4", minRunners: 0, maxRunners: 10, spot: false,
                    cidr: "10.12.0.0/22", egressAllowList: { cidrs: [], fqdns: [] }, maxBuildDurationSeconds: 3 * 3600,
                    image: "ghcr.io/actions/actions-runner:2.321.0", confidentialCompute: false, masterCidr: "172.16.0.0/28", labels: ["containers"],
                },
            ],
            signer: {
                keyAlgorithm: "EC_SIGN_P256_SHA256", protectionLevel: "HSM", allowSoftwareKeyForDevelopment: false,
                serviceImage: `europe-docker.pkg.dev/acme-build-signer/signer/signer@sha256:${"a".repeat(64)}`, cidr: "10.200.0.0/26",
                verifiers: [], provenanceRetentionDays: 365, lockProvenanceRetention: false, auditLogRetentionDays: 400, lockAuditLog: false,
                keyVersions: [{ id: "1", state: "active", validFrom: "1970-01-01T00:00:00Z" }],
                timestampAuthority: { image: TSA_IMAGE, certificateChainPem: TSA_CHAIN },
            },
            controlPlane: {
                intakeRetentionDays: 7,
                project: "acme-build-signer",
                githubApp: { appId: 123456, installationId: 7890123, privateKeySecret: "projects/acme-build-signer/secrets/github-app-key" },
                webhookSecret: "projects/acme-build-signer/secrets/github-webhook-secret",
                runnerGroupId: 1,
                brokerIngress: "all",
                cidr: "10.201.0.0/26",
            },
            guardrails: { enabled: true, constraints: {}, allowedPolicyMemberDomains: [], resourceLocations: [] },
        });
    });

    it("parses every duration form into seconds", () => {
        const forms: [unknown, number][] = [["90m", 5400], ["2h", 7200], ["1h30m", 5400], ["3600s", 3600], [1800, 1800], ["24h", 86400]];
        for (const [form, seconds] of forms) {
            const raw = validRaw();
            raw.pools[0].maxBuildDuration = form;
            assert.strictEqual(valid(raw).pools[0].maxBuildDurationSeconds, seconds, String(form));
        }
    });

    it("keeps gke-only ranges and lower-cases FQDNs", () => {
        const raw = validRaw();
        Object.assign(raw.pools[1], { podCidr: "10.64.0.0/16", serviceCidr: "10.65.0.0/20", masterCidr: "172.16.0.16/28" });
        raw.pools[0].egressAllowList.fqdns = ["GitHub.com", "github.com"];
        const config = valid(raw);
        assert.deepStrictEqual(
            [config.pools[1].podCidr, config.pools[1].serviceCidr, config.pools[1].masterCidr],
            ["10.64.0.0/16", "10.65.0.0/20", "172.16.0.16/28"],
        );
        assert.deepStrictEqual(config.pools[0].egressAllowList.fqdns, ["github.com"]);
        assert.ok(!("podCidr" in config.pools[0]));
    });

    it("lets two gke pools share the default control-plane range (their VPCs never meet)", () => {
        const raw = validRaw();
        raw.pools.push({ name: "containers-b", backend: "gke", cidr: "10.13.0.0/22", image: "ghcr.io/actions/actions-runner:2.321.0" });
        assert.strictEqual(valid(raw).pools.length, 3);
    });

    it("needs no registrationBrokerUrl when every pool is gke", () => {
        const raw = validRaw();
        raw.pools.shift();
        delete raw.registrationBrokerUrl;
        assert.strictEqual(valid(raw).registrationBrokerUrl, undefined);
    });
});

describe("config: pool names", () => {
    it("rejects a name that is not a valid GCP resource name, suggesting a valid one", () => {
        assertRejected((r) => (r.pools[0].name = "Linux_Pool"), "pools[0].name", {
            value: "Linux_Pool", message: /not a valid pool name.*lower-case/, fix: /"linux-pool"/,
        });
    });

    it("rejects a name longer than 20 characters", () => {
        assertRejected((r) => (r.pools[0].name = "linux-amd64-release-builds"), "pools[0].name", {
            value: "linux-amd64-release-builds", message: /at most 20 characters/, fix: /"linux-amd64-release"/,
        });
    });

    it("rejects duplicate pool names at the second occurrence", () => {
        assertRejected((r) => (r.pools[1].name = "builds"), "pools[1].name", {
            value: "builds", message: /duplicates pools\[0\]\.name/, fix: /unique name, e\.g\. "builds-2"/,
        });
    });
});

describe("config: overlapping CIDRs", () => {
    it("rejects pool-pool overlap and names a free range", () => {
        assertRejected((r) => (r.pools[1].cidr = "10.10.0.0/22"), "pools[1].cidr", {
            value: "10.10.0.0/22", message: /overlaps pools\[0\]\.cidr = 10\.10\.0\.0\/24 \(pool "builds"\)/, fix: /e\.g\. 10\.10\.4\.0\/22/,
        });
    });

    it("rejects pool-signer overlap", () => {
        assertRejected((r) => (r.signer.cidr = "10.10.0.0/26"), "signer.cidr", {
            value: "10.10.0.0/26", message: /overlaps pools\[0\]\.cidr = 10\.10\.0\.0\/24/, fix: /e\.g\. 10\.10\.1\.0\/26/,
        });
    });

    it("rejects a podCidr overlapping another pool's subnet", () => {
        assertRejected((r) => Object.assign(r.pools[1], { podCidr: "10.0.0.0/8", serviceCidr: "10.65.0.0/20" }), "pools[1].podCidr", {
            value: "10.0.0.0/8", message: /overlaps pools\[0\]\.cidr = 10\.10\.0\.0\/24 .* and pools\[1\]\.cidr/, fix: /overlaps no other pool or signer range/,
        });
    });

    it("rejects a serviceCidr overlapping the signer subnet", () => {
        assertRejected((r) => Object.assign(r.pools[1], { podCidr: "10.64.0.0/16", serviceCidr: "10.200.0.0/20" }), "signer.cidr", {
            value: "10.200.0.0/26", message: /overlaps pools\[1\]\.serviceCidr = 10\.200\.0\.0\/20/, fix: /disjoint range/,
        });
    });

    it("rejects a masterCidr overlapping its own pool's ranges", () => {
        assertRejected((r) => Object.assign(r.pools[1], { cidr: "172.16.0.0/22" }), "pools[1].masterCidr", {
            value: "172.16.0.0/28", message: /overlaps pools\[1\]\.cidr = 172\.16\.0\.0\/22 .* in the same VPC/, fix: /use 172\.16\.4\.0\/28/,
        });
    });

    it("rejects a masterCidr that is not an RFC 1918 /28", () => {
        assertRejected((r) => (r.pools[1].masterCidr = "172.16.0.0/24"), "pools[1].masterCidr", {
            value: "172.16.0.0/24", message: /RFC 1918 \/28/, fix: /172\.16\.0\.0\/28/,
        });
    });

    it("rejects an egress allow-list CIDR that covers another pool (a path between zones)", () => {
        assertRejected((r) => r.pools[0].egressAllowList.cidrs.push("10.12.0.0/16"), "pools[0].egressAllowList.cidrs[1]", {
            value: "10.12.0.0/16", message: /covers pools\[1\]\.cidr = 10\.12\.0\.0\/22 .*\(I5, I10\)/, fix: /remove it/,
        });
    });

    it("rejects a subnet shadowing the restricted Google APIs VIP", () => {
        assertRejected((r) => (r.pools[0].cidr = "199.36.153.0/24"), "pools[0].cidr", {
            value: "199.36.153.0/24", message: /restricted\.googleapis\.com VIP 199\.36\.153\.4\/30/, fix: /10\.0\.0\.0\/24/,
        });
    });
});

describe("config: runner counts", () => {
    it("rejects minRunners > maxRunners", () => {
        assertRejected((r) => Object.assign(r.pools[0], { minRunners: 5, maxRunners: 3 }), "pools[0].minRunners", {
            value: 5, message: /greater than maxRunners \(3\)/, fix: /at most 3, or raise maxRunners to at least 5/,
        });
    });

    it("rejects a non-integer runner count", () => {
        assertRejected((r) => (r.pools[0].minRunners = 1.5), "pools[0].minRunners", {
            value: 1.5, message: /expected an integer >= 0, got number/, fix: /minRunners: 0/,
        });
    });

    it("rejects a negative runner count", () => {
        assertRejected((r) => (r.pools[0].minRunners = -1), "pools[0].minRunners", {
            value: -1, message: /must be an integer >= 0/, fix: /minRunners: 0/,
        });
    });

    it("rejects maxRunners of zero", () => {
        assertRejected((r) => (r.pools[0].maxRunners = 0), "pools[0].maxRunners", {
            value: 0, message: /must be an integer >= 1/, fix: /maxRunners: 10/,
        });
    });
});

describe("config: maxBuildDuration", () => {
    it("rejects zero", () => {
        assertRejected((r) => (r.pools[0].maxBuildDuration = "0m"), "pools[0].maxBuildDuration", {
            value: "0m", message: /greater than zero \(I2/, fix: /positive duration up to 24h/,
        });
    });

    it("rejects a negative duration", () => {
        assertRejected((r) => (r.pools[0].maxBuildDuration = "-1h"), "pools[0].maxBuildDuration", {
            value: "-1h", message: /greater than zero/, fix: /"3h"/,
        });
    });

    it("rejects an unparsable duration", () => {
        assertRejected((r) => (r.pools[0].maxBuildDuration = "two hours"), "pools[0].maxBuildDuration", {
            value: "two hours", message: /is not a duration/, fix: /"90m", "2h", "1h30m", "3600s"/,
        });
    });

    it("rejects a duration above 24h", () => {
        assertRejected((r) => (r.pools[0].maxBuildDuration = 90000), "pools[0].maxBuildDuration", {
            value: 90000, message: /is 25h, above the 24h maximum/, fix: /at most "24h"/,
        });
    });
});

describe("config: unknown keys", () => {
    const cases: [string, (r: Raw) => void, string, unknown, RegExp][] = [
        ["top level", (r) => (r.regoin = "europe-west1"), "regoin", "europe-west1", /did you mean `region`\?/],
        ["a pool", (r) => (r.pools[0].maxRuners = 4), "pools[0].maxRuners", 4, /did you mean `maxRunners`\?/],
        ["signer", (r) => (r.signer.protectionLvl = "HSM"), "signer.protectionLvl", "HSM", /did you mean `protectionLevel`\?/],
        ["egressAllowList", (r) => (r.pools[0].egressAllowList.fqdn = ["a.example"]), "pools[0].egressAllowList.fqdn", ["a.example"], /did you mean `fqdns`\?/],
        ["github", (r) => (r.github.configURL = "https://github.com/x"), "github.configURL", "https://github.com/x", /did you mean `configUrl`\?/],
        ["controlPlane", (r) => (r.controlPlane = { ...r.controlPlane, intakeRetentionDay: 3 }), "controlPlane.intakeRetentionDay", 3, /did you mean `intakeRetentionDays`\?/],
    ];
    for (const [where, mutate, field, value, fix] of cases) {
        it(`rejects an unknown key in ${where} with a suggestion`, () => {
            assertRejected(mutate, field, { value, message: /^unknown key$/, fix });
        });
    }

    it("lists the valid keys when nothing is close", () => {
        assertRejected((r) => (r.signer.colour = "blue"), "signer.colour", {
            value: "blue", message: /unknown key/, fix: /keys valid in hardened-build-fleet:signer: keyAlgorithm, protectionLevel/,
        });
    });
});

describe("config: CIDR and FQDN syntax", () => {
    it("rejects a CIDR with host bits set, suggesting the network address", () => {
        assertRejected((r) => (r.pools[1].cidr = "10.0.0.1/24"), "pools[1].cidr", {
            value: "10.0.0.1/24", message: /not a network address/, fix: /^use 10\.0\.0\.0\/24$/,
        });
        const err = configError(Object.assign(validRaw(), { pools: [{ ...validRaw().pools[1], cidr: "10.0.0.1/24" }] }));
        assert.ok(err.message.split("\n").includes(`${NS}pools[0].cidr = "10.0.0.1/24": is not a network address (host bits are set). Fix: use 10.0.0.0/24.`), err.message);
    });

    const badCidrs: [string, RegExp, RegExp][] = [
        ["10.0.0.0/33", /not an IPv4 CIDR/, /prefix length 0-32/],
        ["10.1/16", /not an IPv4 CIDR/, /dotted-quad/],
        ["banana", /not an IPv4 CIDR/, /10\.10\.0\.0\/24/],
        ["10.20.0.0", /an address, not a CIDR/, /10\.20\.0\.0\/32/],
        ["fd00::/64", /IPv6/, /IPv4 range/],
    ];
    for (const [cidr, message, fix] of badCidrs) {
        it(`rejects the CIDR ${cidr}`, () => {
            assertRejected((r) => (r.signer.cidr = cidr), "signer.cidr", { value: cidr, message, fix });
        });
    }

    it("rejects a signer subnet smaller than the /26 Cloud Run Direct VPC egress needs", () => {
        assertRejected((r) => (r.signer.cidr = "10.200.0.0/28"), "signer.cidr", {
            value: "10.200.0.0/28", message: /is a \/28; the signer subnet \(Cloud Run Direct VPC egress\) must be \/26 or larger/, fix: /e\.g\. 10\.200\.0\.0\/26/,
        });
    });

    it("rejects an unparsable egress CIDR", () => {
        assertRejected((r) => (r.pools[0].egressAllowList.cidrs = ["203.0.113.0/28", "203.0.113.300/32"]), "pools[0].egressAllowList.cidrs[1]", {
            value: "203.0.113.300/32", message: /not an IPv4 CIDR/, fix: /dotted-quad/,
        });
    });

    it("rejects 0.0.0.0/0 in an egress allow-list", () => {
        assertRejected((r) => (r.pools[0].egressAllowList.cidrs = ["0.0.0.0/0"]), "pools[0].egressAllowList.cidrs[0]", {
            value: "0.0.0.0/0", message: /whole internet.*I4/, fix: /only the destinations/,
        });
    });

    const badFqdns: [string, RegExp, RegExp][] = [
        ["github..com", /invalid label ""/, /host name such as github\.com/],
        ["-github.com", /invalid label "-github"/, /host name/],
        ["*.actions.githubusercontent.com", /wildcard.*exact host names/, /list each host builds need, e\.g\. results-receiver\.actions\.githubusercontent\.com/],
        ["localhost", /not fully qualified/, /host name/],
        ["140.82.112.3", /IP address/, /egressAllowList\.cidrs, e\.g\. 140\.82\.112\.3\/32/],
        ["github.com.", /trailing dot/, /^use github\.com$/],
        ["git_hub.com", /invalid label "git_hub"/, /host name/],
    ];
    for (const [fqdn, message, fix] of badFqdns) {
        it(`rejects the FQDN ${fqdn}`, () => {
            assertRejected((r) => r.pools[0].egressAllowList.fqdns.push(fqdn), "pools[0].egressAllowList.fqdns[2]", {
                value: fqdn, message: /^is not a valid FQDN/, fix,
            });
            assert.match(configError(Object.assign(validRaw(), { pools: [{ ...validRaw().pools[0], egressAllowList: { fqdns: [fqdn] } }] })).issues[0].message, message);
        });
    }
});

describe("config: signer", () => {
    it("rejects a non-HSM protection level without the development opt-in", () => {
        assertRejected((r) => (r.signer.protectionLevel = "SOFTWARE"), "signer.protectionLevel", {
            value: "SOFTWARE", message: /must be HSM-backed \(I8/, fix: /protectionLevel: HSM, or .*allowSoftwareKeyForDevelopment: true/,
        });
    });

    it("accepts a software key with allowSoftwareKeyForDevelopment, with a warning", () => {
        const raw = validRaw();
        Object.assign(raw.signer, { protectionLevel: "SOFTWARE", allowSoftwareKeyForDevelopment: true });
        const result = validateFleetConfig(raw);
        assert.deepStrictEqual(result.issues, []);
        assert.strictEqual(result.config?.signer.protectionLevel, "SOFTWARE");
        // (validRaw() keeps the control plane in the signer project, which draws its own warning, and its pools'
        // allow-lists lack runner hosts: test/components/config/runnerHosts.test.ts.)
        const warnings = result.warnings.filter((w) => !RUNNER_HOSTS_WARNING.test(w));
        assert.deepStrictEqual(warnings.map((w) => w.split(" = ")[0]), ["hardened-build-fleet:signer.protectionLevel", "hardened-build-fleet:controlPlane.project"]);
        assert.match(warnings[0], /^hardened-build-fleet:signer\.protectionLevel = "SOFTWARE": .*not HSM-backed/);
    });

    it("rejects an unknown protection level with a suggestion", () => {
        assertRejected((r) => (r.signer.protectionLevel = "hsm"), "signer.protectionLevel", {
            value: "hsm", message: /not a protection level the signer supports/, fix: /did you mean `HSM`\?/,
        });
    });

    it("rejects an external key manager even with the development opt-in (no policy can prove who signs)", () => {
        assertRejected((r) => Object.assign(r.signer, { protectionLevel: "EXTERNAL", allowSoftwareKeyForDevelopment: true }), "signer.protectionLevel", {
            value: "EXTERNAL", message: /not a protection level the signer supports/, fix: /HSM/,
        });
    });

    it("rejects a key algorithm that is not ASYMMETRIC_SIGN", () => {
        assertRejected((r) => (r.signer.keyAlgorithm = "GOOGLE_SYMMETRIC_ENCRYPTION"), "signer.keyAlgorithm", {
            value: "GOOGLE_SYMMETRIC_ENCRYPTION", message: /not a Cloud KMS ASYMMETRIC_SIGN algorithm/, fix: /EC_SIGN_P256_SHA256/,
        });
        assertRejected((r) => (r.signer.keyAlgorithm = "RSA_DECRYPT_OAEP_2048_SHA256"), "signer.keyAlgorithm", {
            value: "RSA_DECRYPT_OAEP_2048_SHA256", message: /ASYMMETRIC_SIGN/, fix: /use one of the ASYMMETRIC_SIGN algorithms: EC_SIGN_P256_SHA256, /,
        });
        assertRejected((r) => (r.signer.keyAlgorithm = "EC_SIGN_P256_SHA265"), "signer.keyAlgorithm", {
            value: "EC_SIGN_P256_SHA265", message: /ASYMMETRIC_SIGN/, fix: /did you mean `EC_SIGN_P256_SHA256`\?/,
        });
    });

    it("accepts other ASYMMETRIC_SIGN algorithms", () => {
        const raw = validRaw();
        raw.signer.keyAlgorithm = "EC_SIGN_P384_SHA384";
        assert.strictEqual(valid(raw).signer.keyAlgorithm, "EC_SIGN_P384_SHA384");
    });

    it("rejects a public or malformed verifier", () => {
        assertRejected((r) => (r.signer.verifiers = ["allUsers"]), "signer.verifiers[0]", {
            value: "allUsers", message: /public principal.*I10/, fix: /group:release-verifiers@example\.com/,
        });
        assertRejected((r) => (r.signer.verifiers = ["release-team@acme.example"]), "signer.verifiers[0]", {
            value: "release-team@acme.example", message: /not an IAM member/, fix: /serviceAccount:/,
        });
    });
});

describe("config: the signer's timestamp authority and transparency log", () => {
    const logKey = () => generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }).toString();

    it("passes the TSA and the log through to the signer config", () => {
        const raw = validRaw();
        const key = logKey();
        raw.signer.transparencyLog = { url: "https://rekor.sigstore.dev", publicKeyPem: key };
        const signer = valid(raw).signer;
        assert.deepStrictEqual(signer.timestampAuthority, { image: TSA_IMAGE, certificateChainPem: TSA_CHAIN });
        assert.deepStrictEqual(signer.transparencyLog, { url: "https://rekor.sigstore.dev", publicKeyPem: key, apiVersion: 1 });
        raw.signer.transparencyLog.apiVersion = 2;
        assert.strictEqual(valid(raw).signer.transparencyLog?.apiVersion, 2);
    });

    it("warns, and does not refuse, while no TSA is configured or its chain is not made yet (the bootstrap)", () => {
        const none = validRaw();
        delete none.signer.timestampAuthority;
        const a = validateFleetConfig(none);
        assert.deepStrictEqual(a.issues, []);
        assert.ok(a.warnings.some((w) => /^hardened-build-fleet:signer\.timestampAuthority is not set: .*signer answers 503 .*every bundle carries a timestamp/.test(w)), a.warnings.join("\n"));
        const stepOne = validRaw();
        delete stepOne.signer.timestampAuthority.certificateChainPem;
        const b = validateFleetConfig(stepOne);
        assert.deepStrictEqual(b.issues, []);
        assert.deepStrictEqual(b.config?.signer.timestampAuthority, { image: TSA_IMAGE });
        assert.ok(b.warnings.some((w) => /^hardened-build-fleet:signer\.timestampAuthority\.certificateChainPem is not set: .*fetch-tsa-certs .*tsaKeyVersionName/.test(w)), b.warnings.join("\n"));
        // A complete TSA draws neither warning.
        assert.ok(!validateFleetConfig(validRaw()).warnings.some((w) => w.includes("timestampAuthority")));
    });

    it("refuses a TSA image that is not pinned by digest, and a missing one", () => {
        assertRejected((r) => (r.signer.timestampAuthority.image = "ghcr.io/sigstore/timestamp-server:v1.2.4"), "signer.timestampAuthority.image", {
            value: "ghcr.io/sigstore/timestamp-server:v1.2.4", message: /not pinned by digest/, fix: /timestamp-server@sha256:<64 hex>/,
        });
        assertRejected((r) => delete r.signer.timestampAuthority.image, "signer.timestampAuthority.image", {
            value: undefined, message: /required field is missing/, fix: /image: .*timestamp-server@sha256/,
        });
    });

    it("refuses a chain that is not the TSA's: garbage, the root alone, root first", () => {
        const [leaf, root] = pemBlocks(TSA_CHAIN);
        const bad: [string, RegExp][] = [
            ["not a certificate", /holds no PEM certificate/],
            [root, /first certificate is not a timestamping certificate/],
            [`${root}${leaf}`, /first certificate is not a timestamping certificate/],
        ];
        for (const [pem, message] of bad) {
            assertRejected((r) => (r.signer.timestampAuthority.certificateChainPem = pem), "signer.timestampAuthority.certificateChainPem", {
                value: pem, message, fix: /fetch-tsa-certs .*tsaKeyVersionName/,
            });
        }
    });

    it("refuses a chain whose certificates do not issue each other", async () => {
        // Another throwaway TSA's root under this TSA's leaf.
        const { startLocalTsa } = await import("../../../services/sim/localTsa");
        const other = await startLocalTsa();
        await other.close();
        const mixed = `${pemBlocks(TSA_CHAIN)[0]}${pemBlocks(other.certChainPem)[1]}`;
        assertRejected((r) => (r.signer.timestampAuthority.certificateChainPem = mixed), "signer.timestampAuthority.certificateChainPem", {
            value: mixed, message: /certificate 1 is not issued by certificate 2/, fix: /fetch-tsa-certs/,
        });
    });

    it("refuses a log that is not https, a bad key, an RSA key, and unknown keys, all in one pass", () => {
        const raw = validRaw();
        const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }).toString();
        raw.signer.transparencyLog = { url: "http://rekor.internal", publicKeyPem: rsa, shard: 1, apiVersion: 3 };
        raw.signer.timestampAuthority.chain = "x";
        const err = configError(raw);
        const paths = err.issues.map((i) => i.path).sort();
        assert.deepStrictEqual(paths, ["signer.timestampAuthority.chain", "signer.transparencyLog.apiVersion", "signer.transparencyLog.publicKeyPem", "signer.transparencyLog.shard", "signer.transparencyLog.url"]);
        const by = (p: string) => formatIssue(err.issues.find((i) => i.path === p)!);
        assert.match(by("signer.transparencyLog.apiVersion"), /= 3: must be an integer between 1 and 2/);
        assert.match(by("signer.transparencyLog.url"), /= "http:\/\/rekor\.internal": is not an https base URL\. Fix: .*https:\/\/rekor\.sigstore\.dev/);
        assert.match(by("signer.transparencyLog.publicKeyPem"), /is a rsa key; a Rekor log key is ECDSA P-256 or Ed25519/);
        assert.match(by("signer.timestampAuthority.chain"), /unknown key\. Fix: use one of the keys valid in hardened-build-fleet:signer\.timestampAuthority: image, certificateChainPem/);
        assertRejected((r) => (r.signer.transparencyLog = { url: "https://rekor.sigstore.dev", publicKeyPem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" }), "signer.transparencyLog.publicKeyPem", {
            value: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", message: /is not a PEM public key/, fix: /api\/v1\/log\/publicKey/,
        });
    });
});

describe("config: the signer's private transparency log", () => {
    const LOG_IMAGE = `europe-docker.pkg.dev/acme-build-signer/ghcr/sigstore/rekor-tiles/gcp@sha256:${"c".repeat(64)}`;

    it("accepts a digest-pinned rekor-tiles image with defaults, and readers", () => {
        const raw = validRaw();
        raw.signer.privateTransparencyLog = { image: LOG_IMAGE, readers: ["group:log-auditors@acme.example"] };
        assert.deepStrictEqual(valid(raw).signer.privateTransparencyLog, { image: LOG_IMAGE, spannerProcessingUnits: 100, readers: ["group:log-auditors@acme.example"] });
    });

    it("refuses, in one pass: both logs at once, a tag, an impossible Spanner size and a malformed reader", () => {
        const raw = validRaw();
        const key = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }).toString();
        raw.signer.transparencyLog = { url: "https://rekor.sigstore.dev", publicKeyPem: key };
        raw.signer.privateTransparencyLog = { image: "ghcr.io/sigstore/rekor-tiles/gcp:v2", spannerProcessingUnits: 250, readers: ["auditors@acme.example"] };
        const err = configError(raw);
        const by = (p: string) => err.issues.find((i) => i.path === p);
        assert.deepStrictEqual(err.issues.map((i) => i.path).sort(), [
            "signer.privateTransparencyLog", "signer.privateTransparencyLog.image", "signer.privateTransparencyLog.readers[0]", "signer.privateTransparencyLog.spannerProcessingUnits",
        ]);
        assert.match(by("signer.privateTransparencyLog")!.message, /set together with signer\.transparencyLog/);
        assert.match(by("signer.privateTransparencyLog.image")!.message, /not pinned by digest/);
        assert.match(by("signer.privateTransparencyLog.spannerProcessingUnits")!.fix, /100-900 in steps of 100/);
        assert.match(by("signer.privateTransparencyLog.readers[0]")!.message, /not an IAM member/);
    });
});

describe("config: projects", () => {
    it("rejects signerProject equal to workerProject", () => {
        assertRejected((r) => (r.signerProject = "acme-build-workers"), "signerProject", {
            value: "acme-build-workers", message: /same project as workerProject.*own project \(I10\)/, fix: /allowSharedSignerProject true/,
        });
    });

    it("accepts a shared project when allowed, with a warning", () => {
        const raw = validRaw();
        Object.assign(raw, { signerProject: "acme-build-workers", allowSharedSignerProject: true });
        const result = validateFleetConfig(raw);
        assert.deepStrictEqual(result.issues, []);
        const warnings = result.warnings.filter((w) => !RUNNER_HOSTS_WARNING.test(w));
        assert.strictEqual(warnings.length, 1);
        assert.match(warnings[0], /^hardened-build-fleet:signerProject = "acme-build-workers": the signer enclave shares the worker project/);
    });

    it("rejects a malformed project id", () => {
        assertRejected((r) => (r.signerProject = "Acme Signer"), "signerProject", {
            value: "Acme Signer", message: /not a GCP project id/, fix: /e\.g\. acme-build-signer/,
        });
    });

    it("rejects a zone where a region is expected", () => {
        assertRejected((r) => (r.region = "europe-west1-b"), "region", {
            value: "europe-west1-b", message: /not a GCP region/, fix: /europe-west1/,
        });
    });
});

describe("config: backends and backend-specific fields", () => {
    it("rejects an unknown backend with a suggestion", () => {
        assertRejected((r) => (r.pools[0].backend = "gcp"), "pools[0].backend", {
            value: "gcp", message: /not a runner backend/, fix: /did you mean `gce`\?/,
        });
    });

    it("rejects gke-only fields on a gce pool", () => {
        assertRejected((r) => (r.pools[0].podCidr = "10.64.0.0/16"), "pools[0].podCidr", {
            value: "10.64.0.0/16", message: /applies only to gke pools/, fix: /remove it from this gce pool, or set backend: gke/,
        });
        assertRejected((r) => (r.pools[0].masterCidr = "172.16.0.0/28"), "pools[0].masterCidr", {
            value: "172.16.0.0/28", message: /only to gke pools/, fix: /remove it/,
        });
    });

    it("rejects confidentialCompute on a gke pool", () => {
        assertRejected((r) => (r.pools[1].confidentialCompute = true), "pools[1].confidentialCompute", {
            value: true, message: /applies only to gce pools/, fix: /remove it from this gke pool, or set backend: gce/,
        });
    });
});

describe("config: required fields and types", () => {
    it("rejects a pool without cidr", () => {
        assertRejected((r) => delete r.pools[0].cidr, "pools[0].cidr", {
            value: undefined, message: /required field is missing/, fix: /add `cidr: 10\.10\.0\.0\/24` to hardened-build-fleet:pools\[0\]/,
        });
        const err = configError(Object.assign(validRaw(), { pools: [{ name: "a", backend: "gke", image: "i" }] }));
        assert.ok(err.message.includes(`${NS}pools[0].cidr is not set: required field is missing. Fix:`), err.message);
    });

    it("rejects a missing signer block", () => {
        assertRejected((r) => delete r.signer, "signer", {
            value: undefined, message: /required field is missing/, fix: /^add `hardened-build-fleet:signer: \{serviceImage: .*\}` under config: in Pulumi\.<stack>\.yaml$/,
        });
    });

    it("rejects a missing signerProject and explains the gcp fallbacks for the others", () => {
        assertRejected((r) => delete r.signerProject, "signerProject", {
            value: undefined, message: /required/, fix: /pulumi config set hardened-build-fleet:signerProject acme-build-signer/,
        });
        assertRejected((r) => delete r.workerProject, "workerProject", {
            value: undefined, message: /no gcp:project to fall back to/, fix: /pulumi config set gcp:project/,
        });
        assertRejected((r) => delete r.region, "region", {
            value: undefined, message: /no gcp:region/, fix: /pulumi config set gcp:region europe-west1/,
        });
    });

    it("rejects an empty pool list", () => {
        assertRejected((r) => (r.pools = []), "pools", {
            value: [], message: /at least one pool/, fix: /name, backend, cidr and image/,
        });
    });

    it("rejects wrong types", () => {
        assertRejected((r) => (r.pools[0].spot = "yes"), "pools[0].spot", {
            value: "yes", message: /expected a boolean, got string/, fix: /spot: true/,
        });
        assertRejected((r) => (r.pools[0].maxRunners = "8"), "pools[0].maxRunners", {
            value: "8", message: /expected an integer >= 1, got string/, fix: /maxRunners: 10/,
        });
        assertRejected((r) => (r.pools = { name: "linux" }), "pools", {
            value: { name: "linux" }, message: /expected a list, got object/, fix: /use a list/,
        });
        assertRejected((r) => (r.signer.verifiers = "group:a@b.example"), "signer.verifiers", {
            value: "group:a@b.example", message: /expected a list, got string/, fix: /verifiers: \[group:/,
        });
        assertRejected((r) => (r.pools[1] = "containers"), "pools[1]", {
            value: "containers", message: /expected a pool object, got string/, fix: /name, backend, cidr and image/,
        });
    });
});

describe("config: URLs", () => {
    it("needs no registrationBrokerUrl with gce pools: the deployed broker's URL is the default", () => {
        const raw = validRaw();
        delete raw.registrationBrokerUrl;
        assert.strictEqual(valid(raw).registrationBrokerUrl, undefined);
    });

    it("rejects a registrationBrokerUrl that is not https", () => {
        assertRejected((r) => (r.registrationBrokerUrl = "http://broker.internal"), "registrationBrokerUrl", {
            value: "http://broker.internal", message: /uses http, not https/, fix: /https URL/,
        });
    });

    it("rejects a registrationBrokerUrl with a query or fragment (it lands in instance metadata)", () => {
        assertRejected((r) => (r.registrationBrokerUrl = "https://broker.build.example.com/?pool=x"), "registrationBrokerUrl", {
            value: "https://broker.build.example.com/?pool=x", message: /carries a query or fragment/, fix: /https/,
        });
    });

    it("rejects a github.configUrl that is not https, or names no org", () => {
        assertRejected((r) => (r.github.configUrl = "http://github.com/acme"), "github.configUrl", {
            value: "http://github.com/acme", message: /not https/, fix: /https:\/\/github\.com\/acme/,
        });
        assertRejected((r) => (r.github.configUrl = "https://github.com/"), "github.configUrl", {
            value: "https://github.com/", message: /names no organization/, fix: /https:\/\/github\.com\/acme/,
        });
    });

    it("rejects credentials embedded in a URL", () => {
        assertRejected((r) => (r.github.configUrl = "https://x-access-token:abc@github.com/acme"), "github.configUrl", {
            value: "https://x-access-token:abc@github.com/acme", message: /embeds credentials/, fix: /https URL/,
        });
    });

    it("rejects a missing github.configUrl", () => {
        assertRejected((r) => (r.github = {}), "github.configUrl", {
            value: undefined, message: /required/, fix: /add `configUrl: https:\/\/github\.com\/acme` to hardened-build-fleet:github/,
        });
    });
});

describe("config: several problems at once", () => {
    it("reports every issue in one FleetConfigError, one line each", () => {
        const raw = validRaw();
        raw.pools[0].name = "Bad Name";
        raw.pools[1].cidr = "10.10.0.0/16";
        raw.pools[1].maxBuildDuration = "48h";
        raw.signer.protectionLevel = "SOFTWARE";
        raw.signerProject = raw.workerProject;
        raw.extra = true;
        const err = configError(raw);
        const lines = err.message.split("\n");
        assert.strictEqual(lines[0], "Invalid hardened-build-fleet stack config (6 problems):");
        assert.strictEqual(lines.length, 1 + err.issues.length);
        assert.deepStrictEqual(lines.slice(1), err.issues.map(formatIssue));
        assert.deepStrictEqual(err.issues.map((i) => i.path).sort(), [
            "extra", "pools[0].name", "pools[1].cidr", "pools[1].maxBuildDuration", "signer.protectionLevel", "signerProject",
        ]);
        for (const line of lines.slice(1)) {
            assert.match(line, /^hardened-build-fleet:\S+ (= .+|is not set): .+\. Fix: .+\.$/);
        }
    });
});

describe("config: readFleetConfig under the engine", () => {
    /** The valid config as namespaced stack config, with the gcp fallbacks instead of region/workerProject. */
    function stackConfig(raw: Raw = validRaw()): Record<string, unknown> {
        const config: Record<string, unknown> = { "gcp:project": raw.workerProject, "gcp:region": raw.region };
        for (const [key, value] of Object.entries(raw)) {
            if (key !== "region" && key !== "workerProject") {
                config[`${NS}${key}`] = value;
            }
        }
        return config;
    }

    it("reads structured values and the gcp fallbacks, and returns the normalised config", async () => {
        const run = await runProgram(() => readFleetConfig(), { config: stackConfig() });
        assert.deepStrictEqual(run.outputs, JSON.parse(JSON.stringify(valid(validRaw()))));
    });

    it("registers nothing and reports every issue when the config is invalid", async () => {
        const raw = validRaw();
        raw.pools[1].cidr = "10.0.0.1/24";
        raw.pools[0].minRunners = 20;
        const config = { ...stackConfig(raw), [`${NS}pool`]: [], [`${NS}allowSharedSignerProject`]: "yes" };
        const run = await runProgram(() => readFleetConfig(), { config, allowError: true });
        assert.ok(run.error instanceof FleetConfigError, String(run.error));
        assert.deepStrictEqual(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack"), []);
        const lines = run.error.message.split("\n");
        assert.ok(lines.includes(`${NS}pools[1].cidr = "10.0.0.1/24": is not a network address (host bits are set). Fix: use 10.0.0.0/24.`), run.error.message);
        assert.ok(lines.some((l) => l.startsWith(`${NS}pool = []: unknown key. Fix: did you mean \`pools\`?`)), run.error.message);
        assert.ok(lines.some((l) => l.startsWith(`${NS}allowSharedSignerProject = "yes": expected a boolean`)), run.error.message);
        assert.ok(lines.some((l) => l.startsWith(`${NS}pools[0].minRunners = 20: is greater than maxRunners (10)`)), run.error.message);
        assert.strictEqual(run.error.issues.length, 4);
    });

    it("warns through pulumi.log.warn when the signer shares the worker project", async () => {
        const raw = validRaw();
        raw.signerProject = raw.workerProject;
        raw.allowSharedSignerProject = true;
        const run = await runProgram(() => readFleetConfig(), { config: stackConfig(raw) });
        assert.strictEqual(run.error, undefined);
        const warnings = run.logs.filter((l) => l.severity === "warning" && !RUNNER_HOSTS_WARNING.test(l.message));
        assert.strictEqual(warnings.length, 1, JSON.stringify(run.logs));
        assert.match(warnings[0].message, /hardened-build-fleet:signerProject = "acme-build-workers": the signer enclave shares the worker project/);
        assert.strictEqual(run.outputs.allowSharedSignerProject, true);
    });

    it("treats the Pulumi.yaml empty-string defaults as not set", async () => {
        const raw = validRaw();
        raw.pools.shift();
        delete raw.registrationBrokerUrl;
        const config = { ...stackConfig(raw), [`${NS}region`]: "", [`${NS}workerProject`]: "", [`${NS}registrationBrokerUrl`]: "" };
        const run = await runProgram(() => readFleetConfig(), { config });
        assert.strictEqual(run.outputs.region, "europe-west1");
        assert.strictEqual(run.outputs.workerProject, "acme-build-workers");
        assert.ok(!("registrationBrokerUrl" in run.outputs));
    });
});

describe("config: example stack and project schema", () => {
    const exampleFile = path.join(ROOT, "Pulumi.example.yaml");
    const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));

    it("Pulumi.example.yaml validates with zero issues and no warnings", () => {
        const stack: Record<string, unknown> = YAML.parse(fs.readFileSync(exampleFile, "utf8")).config;
        const raw: Raw = {};
        for (const [key, value] of Object.entries(stack)) {
            if (key.startsWith(NS)) {
                raw[key.slice(NS.length)] = value;
            }
        }
        raw.region ??= stack["gcp:region"];
        raw.workerProject ??= stack["gcp:project"];
        const result = validateFleetConfig(raw);
        assert.deepStrictEqual(result.issues.map(formatIssue), []);
        // The example is a first rollout: the TSA's chain is made after its key exists (bootstrap step 2).
        assert.deepStrictEqual(result.warnings.map((w) => w.split(":")[1].split(" ")[0]), ["signer.timestampAuthority.certificateChainPem"]);
        const config = result.config!;
        assert.notStrictEqual(config.signerProject, config.workerProject);
        assert.deepStrictEqual(config.pools.map((p) => [p.backend, p.spot]), [["gce", false], ["gce", true], ["gke", false]]);
        assert.ok(config.pools.every((p) => p.egressAllowList.fqdns.length > 0 && p.egressAllowList.cidrs.length > 0));
        assert.ok(config.signer.verifiers.length > 0 && config.registrationBrokerUrl === undefined);
        // The recommended shape: the control plane in a project of its own (neither the signer's nor the workers').
        assert.strictEqual(config.controlPlane.project, "acme-build-control");
        assert.strictEqual(config.signer.serviceImage, undefined);
    });

    it("Pulumi.example.yaml loads through readFleetConfig", async () => {
        const run = await runProgram(() => readFleetConfig(), { configFile: exampleFile });
        assert.strictEqual(run.error, undefined);
        assert.strictEqual(run.outputs.pools.length, 3);
        assert.deepStrictEqual(run.logs.filter((l) => l.severity === "warning").map((l) => l.message.split(" ")[0]), ["hardened-build-fleet:signer.timestampAuthority.certificateChainPem"]);
    });

    it("Pulumi.yaml is the nodejs/TypeScript project hardened-build-fleet", () => {
        assert.strictEqual(project.name, CONFIG_NAMESPACE);
        assert.deepStrictEqual(project.runtime, { name: "nodejs", options: { typescript: true } });
        assert.strictEqual(project.main, "index.ts");
        assert.ok(typeof project.description === "string" && project.description.length > 0);
    });

    it("Pulumi.yaml declares exactly the top-level keys the validator accepts, typed and documented", () => {
        const declared: Record<string, { type?: string; description?: string; default?: unknown }> = project.config;
        assert.deepStrictEqual(Object.keys(declared).sort(), [...FLEET_CONFIG_KEYS].sort());
        for (const key of FLEET_CONFIG_KEYS) {
            const decl = declared[key];
            const kind = FLEET_CONFIG_SCHEMA[key];
            assert.ok(typeof decl.description === "string" && decl.description.length > 20, `${key} needs a description`);
            // Structured keys are typed too (the CLI checks `object` and arrays of objects since 3.187).
            assert.strictEqual(decl.type, kind, key);
            if (kind === "array") {
                assert.deepStrictEqual((decl as { items?: unknown }).items, { type: "object" }, `${key} items`);
            }
        }
    });

    it("Pulumi.yaml requires exactly the keys the validator requires, and its defaults validate", async () => {
        const declared: Record<string, { default?: unknown }> = project.config;
        const withoutDefault = FLEET_CONFIG_KEYS.filter((k) => !("default" in declared[k])).sort();
        assert.deepStrictEqual(withoutDefault, ["controlPlane", "github", "pools", "signer", "signerProject"]);
        for (const key of withoutDefault) {
            assertRejected((r) => delete r[key], key, { value: undefined, message: /required field is missing/, fix: /pulumi config set|Pulumi\.<stack>\.yaml/ });
        }
        // A stack setting only the required keys (gke-only, so no broker) plus the Pulumi.yaml defaults, as the CLI merges them.
        const raw = validRaw();
        raw.pools.shift();
        const config: Record<string, unknown> = { "gcp:project": "acme-build-workers", "gcp:region": "europe-west1" };
        for (const [key, decl] of Object.entries(declared)) {
            config[`${NS}${key}`] = "default" in decl ? decl.default : raw[key];
        }
        const run = await runProgram(() => readFleetConfig(), { config });
        assert.strictEqual(run.error, undefined);
        assert.deepStrictEqual(run.outputs.controlPlane, { ...raw.controlPlane, intakeRetentionDays: 7, project: "acme-build-signer", runnerGroupId: 1, brokerIngress: "all", cidr: "10.201.0.0/26" });
        assert.strictEqual(run.outputs.allowSharedSignerProject, false);
    });
});

describe("config: control plane, service images and key versions", () => {
    it("rejects a control plane in the worker project (signing oracle), naming the field and the fix", () => {
        assertRejected((r) => (r.controlPlane.project = "acme-build-workers"), "controlPlane.project", {
            value: "acme-build-workers", message: /worker project.*signing oracle/, fix: /project of its own/,
        });
    });

    it("accepts a dedicated control-plane project", () => {
        const raw = validRaw();
        raw.controlPlane.project = "acme-build-control";
        assert.strictEqual(valid(raw).controlPlane.project, "acme-build-control");
    });

    it("requires the GitHub App and webhook secret references", () => {
        assertRejected((r) => delete r.controlPlane.githubApp, "controlPlane.githubApp", { value: undefined, message: /required field is missing/, fix: /privateKeySecret/ });
        assertRejected((r) => delete r.controlPlane.webhookSecret, "controlPlane.webhookSecret", { value: undefined, message: /required field is missing/, fix: /secrets\// });
    });

    it("rejects a secret value where a secret id belongs, without echoing it", () => {
        const pem = "-----BEGIN RSA PRIVATE KEY-----MIIEowIBAAKCAQEA";
        assertRejected((r) => (r.controlPlane.githubApp.privateKeySecret = pem), "controlPlane.githubApp.privateKeySecret", {
            value: "(redacted)", message: /looks like the secret value itself/, fix: /create the secret out of band/,
        });
        assertRejected((r) => (r.controlPlane.webhookSecret = "projects/p-123456/secrets/hook/versions/3"), "controlPlane.webhookSecret", {
            value: "projects/p-123456/secrets/hook/versions/3", message: /names a secret version/, fix: /projects\/acme-build-signer\/secrets/,
        });
    });

    it("rejects service images that are not pinned by digest (signer and control plane)", () => {
        assertRejected((r) => (r.signer.serviceImage = "europe-docker.pkg.dev/p/r/signer:1.0.0"), "signer.serviceImage", {
            value: "europe-docker.pkg.dev/p/r/signer:1.0.0", message: /not pinned by digest/, fix: /@sha256:<64 hex digits>/,
        });
        assertRejected((r) => (r.controlPlane.serviceImage = "europe-docker.pkg.dev/p/r/services@sha256:abc"), "controlPlane.serviceImage", {
            value: "europe-docker.pkg.dev/p/r/services@sha256:abc", message: /malformed digest/, fix: /@sha256:<64 hex digits>/,
        });
    });

    it("accepts digest-pinned images and defaults the signer's to the built one", () => {
        const raw = validRaw();
        delete raw.signer.serviceImage;
        raw.controlPlane.serviceImage = `europe-docker.pkg.dev/p/r/services:v1@sha256:${"b".repeat(64)}`;
        const config = valid(raw);
        assert.strictEqual(config.signer.serviceImage, undefined);
        assert.strictEqual(config.controlPlane.serviceImage, raw.controlPlane.serviceImage);
    });

    it("accepts an https builder id and rejects anything else", () => {
        const raw = validRaw();
        raw.signer.builderId = "https://build.acme.example/fleet/v1";
        assert.strictEqual(valid(raw).signer.builderId, "https://build.acme.example/fleet/v1");
        assertRejected((r) => (r.signer.builderId = "urn:acme:fleet"), "signer.builderId", {
            value: "urn:acme:fleet", message: /not a plain https URI/, fix: /https:\/\/github\.com\/acme\/hardened-build-fleet\/fleet/,
        });
    });

    it("accepts a rotation in progress: one retired, one active, one published", () => {
        const raw = validRaw();
        raw.signer.keyVersions = [
            { id: "1", state: "retired", validFrom: "2026-01-01T00:00:00Z", validUntil: "2026-07-01T00:00:00Z" },
            { id: "2", state: "active", validFrom: "2026-06-01T00:00:00Z" },
            { id: "3", state: "published", validFrom: "2027-01-01T00:00:00Z" },
        ];
        assert.deepStrictEqual(valid(raw).signer.keyVersions.map((v) => v.state), ["retired", "active", "published"]);
    });

    it("rejects key versions without exactly one active version, duplicate ids, bad instants and a retired version without validUntil", () => {
        const none = [{ id: "1", state: "published", validFrom: "2026-01-01T00:00:00Z" }];
        assertRejected((r) => (r.signer.keyVersions = none), "signer.keyVersions", { value: [], message: /has 0 active versions/, fix: /state: active/ });
        const two = [{ id: "1", state: "active", validFrom: "2026-01-01T00:00:00Z" }, { id: "2", state: "active", validFrom: "2026-02-01T00:00:00Z" }];
        assertRejected((r) => (r.signer.keyVersions = two), "signer.keyVersions", { value: ["1", "2"], message: /has 2 active versions/, fix: /retired/ });
        assertRejected((r) => (r.signer.keyVersions = [
            { id: "1", state: "active", validFrom: "2026-01-01T00:00:00Z" }, { id: "1", state: "published", validFrom: "2026-02-01T00:00:00Z" },
        ]), "signer.keyVersions[1].id", { value: "1", message: /used by another key version/, fix: /never reuse/ });
        assertRejected((r) => (r.signer.keyVersions = [{ id: "1", state: "active", validFrom: "yesterday" }]), "signer.keyVersions[0].validFrom", {
            value: "yesterday", message: /not an RFC 3339 instant/, fix: /2026-06-01T00:00:00Z/,
        });
        assertRejected((r) => (r.signer.keyVersions = [
            { id: "1", state: "retired", validFrom: "2026-01-01T00:00:00Z" }, { id: "2", state: "active", validFrom: "2026-06-01T00:00:00Z" },
        ]), "signer.keyVersions[0].validUntil", { value: undefined, message: /required for a retired version/, fix: /next version became active/ });
    });
});
