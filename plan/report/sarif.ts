/**
 * The SARIF 2.1.0 report for GitHub code scanning: one rule per policy (help = fix, invariant and
 * SLSA clause; helpUri = the rule's entry in docs/policy-reference.md for this package's rules), one result per violation, level from the enforcement level, the resource URN as a
 * logical location, and a physical location in the repository (the program or the stack config
 * file) because code scanning rejects results without one.
 */
import * as crypto from "crypto";
import * as path from "path";
import type * as sarif from "sarif";
import { EnforcementLevel, Violation } from "../engine";
import { policies as packPolicies } from "../../policies/rules";
import { packageVersion, policyReferenceUrl, repoRoot } from "../packageInfo";
import { describePolicy, policyIndex, violationDetail } from "./policyInfo";
import { PlanResult } from "./result";

export const SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json";
export const TOOL_NAME = "hardened-build-fleet-plan";

/** mandatory -> error, advisory -> warning, remediate -> error (it blocks when it cannot remediate offline). */
export function sarifLevel(level: EnforcementLevel): sarif.ReportingConfiguration.level {
    switch (level) {
        case "mandatory":
        case "remediate":
            return "error";
        case "advisory":
            return "warning";
        default:
            return "none";
    }
}

/** GitHub's security severity (0-10) shown on code-scanning alerts. */
function securitySeverity(level: EnforcementLevel): string {
    return level === "mandatory" || level === "remediate" ? "8.0" : level === "advisory" ? "4.0" : "0.0";
}

export interface SarifOptions {
    /** Directory results are relative to; default: the git root above the working directory. */
    root?: string;
}

/** The first of the program and config files inside the repository (not under node_modules), relative to it. */
export function resultFile(result: PlanResult, root: string): string {
    const candidates = [result.programFile, result.configFile].filter((f): f is string => !!f);
    const rel = (f: string) => path.relative(root, path.resolve(f)).split(path.sep).join("/");
    const inside = candidates.map(rel).find((r) => r !== "" && !r.startsWith("..") && !path.isAbsolute(r) && !r.split("/").includes("node_modules"));
    return inside ?? (candidates.length > 0 ? path.basename(candidates[0]) : "Pulumi.yaml");
}

function fingerprint(v: Violation, occurrence: number): string {
    const hash = crypto.createHash("sha256").update(`${v.policy}\u0000${v.urn ?? ""}`).digest("hex").slice(0, 32);
    return `${hash}:${occurrence}`;
}

export function buildSarif(result: PlanResult, opts: SarifOptions = {}): sarif.Log {
    const root = opts.root ?? repoRoot(process.cwd());
    const file = resultFile(result, root);
    const info = policyIndex(result.policies);

    const ruleIndex = new Map<string, number>();
    const rules: sarif.ReportingDescriptor[] = [];
    // This package's own rules link to their entry in the policy reference; another pack's rules have none.
    const documented = new Set(packPolicies.map((p) => p.name));
    const addRule = (name: string, level: EnforcementLevel) => {
        const p = info(name);
        const helpText = [`Fix: ${p.fix}`, `Invariant: ${p.invariantText}`, `SLSA: ${p.slsaClause}`].join("\n");
        const helpMarkdown = [`**Fix:** ${p.fix}`, "", `**Invariant:** ${p.invariantText}`, "", `**SLSA:** ${p.slsaClause}`].join("\n");
        ruleIndex.set(name, rules.length);
        rules.push({
            id: name,
            name,
            shortDescription: { text: p.description },
            fullDescription: { text: p.description },
            help: { text: helpText, markdown: helpMarkdown },
            ...(documented.has(name) ? { helpUri: policyReferenceUrl(name) } : {}),
            defaultConfiguration: { level: sarifLevel(level), enabled: level !== "disabled" },
            properties: {
                tags: ["security", "slsa", ...p.invariants],
                "security-severity": securitySeverity(level),
            },
        });
    };
    for (const p of result.policies) {
        addRule(describePolicy(p).name, result.levels.get(p.name) ?? p.enforcementLevel ?? "advisory");
    }

    const seen = new Map<string, number>();
    const results: sarif.Result[] = result.violations.map((v) => {
        if (!ruleIndex.has(v.policy)) {
            addRule(v.policy, v.enforcementLevel);
        }
        const key = `${v.policy}\u0000${v.urn ?? ""}`;
        const occurrence = (seen.get(key) ?? 0) + 1;
        seen.set(key, occurrence);
        const resource = v.urn ? result.run.byUrn.get(v.urn) : undefined;
        const location: sarif.Location = {
            physicalLocation: { artifactLocation: { uri: file, uriBaseId: "%SRCROOT%" }, region: { startLine: 1 } },
        };
        if (v.urn) {
            location.logicalLocations = [{ name: resource?.name ?? v.urn.slice(v.urn.lastIndexOf("::") + 2), fullyQualifiedName: v.urn, kind: "resource" }];
        }
        return {
            ruleId: v.policy,
            ruleIndex: ruleIndex.get(v.policy)!,
            level: sarifLevel(v.enforcementLevel),
            message: { text: `${resource ? `${resource.name} (${resource.type}): ` : ""}${violationDetail(v.message, info(v.policy).description)}` },
            locations: [location],
            partialFingerprints: { "hardenedBuildFleet/v1": fingerprint(v, occurrence) },
            properties: { enforcementLevel: v.enforcementLevel, ...(resource ? { resourceType: resource.type } : {}) },
        };
    });

    return {
        $schema: SARIF_SCHEMA_URI,
        version: "2.1.0",
        runs: [{
            tool: {
                driver: {
                    name: TOOL_NAME,
                    fullName: "hardened-build-fleet offline plan (CrossGuard policy pack)",
                    version: packageVersion(),
                    semanticVersion: packageVersion(),
                    rules,
                },
            },
            automationDetails: { id: `${TOOL_NAME}/${result.run.project}/${result.run.stack}/` },
            // Warnings (program and policy config) as notifications: code scanning shows them on the run.
            invocations: [{
                executionSuccessful: true,
                toolExecutionNotifications: result.warnings.map((w): sarif.Notification => ({
                    level: "warning",
                    message: { text: w.message },
                    descriptor: { id: w.source === "program" ? "program-warning" : "policy-config-warning" },
                })),
            }],
            results,
            properties: { project: result.run.project, stack: result.run.stack, preview: result.run.preview },
        }],
    };
}

export function renderSarif(result: PlanResult, opts: SarifOptions = {}): string {
    return JSON.stringify(buildSarif(result, opts), null, 2) + "\n";
}
