/**
 * SBOM attestations: an in-toto Statement v1 whose predicate is the SBOM document a job uploaded for an
 * image (CycloneDX JSON or SPDX JSON, cosign's `--type cyclonedx` / `--type spdxjson` predicate types),
 * and whose subject is the image. The SBOM is the build's claim, not something the control plane
 * observed; the subject's annotations say so, and name the provenance of the same image and job:
 *
 *   sbom.hardened-build-fleet.dev/origin       "build-claim"
 *   sbom.hardened-build-fleet.dev/provenance   the provenance envelope's object in the provenance bucket
 *   sbom.hardened-build-fleet.dev/invocation   the job's invocation id (as in the provenance)
 *   sbom.hardened-build-fleet.dev/finished-on  when the job finished (the key validity window is checked at it)
 *
 * The signer validates this shape here; the generator validated the document itself (image/sbom.ts).
 */
import type { Problem } from "./statementProblem";

export const SBOM_PREDICATE_TYPES = {
    cyclonedx: "https://cyclonedx.org/bom",
    spdx: "https://spdx.dev/Document",
} as const;
export type SbomKind = keyof typeof SBOM_PREDICATE_TYPES;

export const SBOM_ANNOTATION = {
    origin: "sbom.hardened-build-fleet.dev/origin",
    provenance: "sbom.hardened-build-fleet.dev/provenance",
    invocation: "sbom.hardened-build-fleet.dev/invocation",
    finishedOn: "sbom.hardened-build-fleet.dev/finished-on",
} as const;
export const SBOM_ORIGIN_CLAIM = "build-claim";

export function isSbomPredicateType(t: unknown): boolean {
    return Object.values(SBOM_PREDICATE_TYPES).includes(t as never);
}

/** The facts the signer needs from an SBOM statement: time, invocation, and its own storage suffix. */
export function sbomSigningFacts(statement: any): { finishedOn: string; invocationId: string } {
    const a = statement.subject[0].annotations;
    return { finishedOn: a[SBOM_ANNOTATION.finishedOn], invocationId: `${a[SBOM_ANNOTATION.invocation]}#sbom` };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const HEX64 = /^[a-f0-9]{64}$/;

/** Every problem of an SBOM statement, in one pass. */
export function sbomStatementProblems(v: Record<string, any>): Problem[] {
    const problems: Problem[] = [];
    const add = (code: Problem["code"], field: string, message: string) => problems.push({ code, field, message });
    const extra = Object.keys(v).filter((k) => !["_type", "subject", "predicateType", "predicate"].includes(k));
    if (extra.length > 0) {
        add("invalid_type", "/", `unknown fields ${extra.join(", ")}`);
    }
    if (!Array.isArray(v.subject) || v.subject.length !== 1) {
        add("invalid_subject", "/subject", "an SBOM attestation names exactly one image");
        return problems;
    }
    const s = v.subject[0] ?? {};
    if (typeof s.name !== "string" || s.name.length === 0 || s.name.length > 1024) {
        add("invalid_subject", "/subject/0/name", "the image repository must be a string of 1-1024 characters");
    }
    if (s.digest === null || typeof s.digest !== "object" || Object.keys(s.digest).length !== 1 || !HEX64.test(s.digest.sha256)) {
        add("invalid_subject", "/subject/0/digest", "digest must be exactly {sha256: <64 hex>}: the image's manifest digest");
    }
    const a = s.annotations ?? {};
    if (a[SBOM_ANNOTATION.origin] !== SBOM_ORIGIN_CLAIM) {
        add("invalid_subject", `/subject/0/annotations/${SBOM_ANNOTATION.origin}`, `must be "${SBOM_ORIGIN_CLAIM}": an SBOM is the build's claim, never presented as observed`);
    }
    for (const key of [SBOM_ANNOTATION.provenance, SBOM_ANNOTATION.invocation]) {
        if (typeof a[key] !== "string" || a[key].length === 0 || a[key].length > 1024) {
            add("invalid_subject", `/subject/0/annotations/${key}`, "must be a string of 1-1024 characters");
        }
    }
    if (typeof a[SBOM_ANNOTATION.finishedOn] !== "string" || !ISO.test(a[SBOM_ANNOTATION.finishedOn]) || Number.isNaN(Date.parse(a[SBOM_ANNOTATION.finishedOn]))) {
        add("invalid_subject", `/subject/0/annotations/${SBOM_ANNOTATION.finishedOn}`, "must be an RFC 3339 time");
    }
    const unknownKeys = Object.keys(s).filter((k) => !["name", "digest", "annotations"].includes(k));
    if (unknownKeys.length > 0) {
        add("invalid_subject", "/subject/0", `unknown fields ${unknownKeys.join(", ")}`);
    }
    const p = v.predicate;
    if (p === null || typeof p !== "object" || Array.isArray(p)) {
        add("invalid_predicate", "/predicate", "the predicate is the SBOM document, a JSON object");
    } else if (v.predicateType === SBOM_PREDICATE_TYPES.cyclonedx && (p.bomFormat !== "CycloneDX" || typeof p.specVersion !== "string")) {
        add("invalid_predicate", "/predicate", "a CycloneDX predicate has bomFormat \"CycloneDX\" and a specVersion");
    } else if (v.predicateType === SBOM_PREDICATE_TYPES.spdx && (typeof p.spdxVersion !== "string" || !p.spdxVersion.startsWith("SPDX-"))) {
        add("invalid_predicate", "/predicate", "an SPDX predicate has spdxVersion \"SPDX-2.x\"");
    }
    return problems;
}
