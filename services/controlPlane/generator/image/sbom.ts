/**
 * An SBOM the job uploaded for an image, by naming convention next to the layout:
 *
 *   image.oci.tar          -> image.sbom.cdx.json (CycloneDX JSON) or image.sbom.spdx.json (SPDX JSON)
 *   images/<n>.oci.tar     -> images/<n>.sbom.cdx.json or images/<n>.sbom.spdx.json
 *
 * The generator validates the document's format (CycloneDX with @cyclonedx/cyclonedx-library's JSON
 * schema validator for its specVersion; SPDX 2.x JSON by its required document fields), then signs an
 * SBOM attestation with the image as subject, marked as the build's claim and naming the provenance
 * (lib/sbomStatement.ts), and attaches it next to the provenance in the same `.att` image.
 */
import { SBOM_ANNOTATION, SBOM_ORIGIN_CLAIM, SBOM_PREDICATE_TYPES, SbomKind } from "../../../lib/sbomStatement";
import type { ObjectStore } from "../../../lib/objectStore";
import { STATEMENT_TYPE } from "../provenance";
import { ImageRefusal } from "./publish";
import { IMAGE_SUFFIX } from "./repository";

/** The signer's body limit is 256 KiB; the statement wraps the document. */
export const MAX_SBOM_BYTES = 192 * 1024;
const SUFFIX: Record<SbomKind, string> = { cyclonedx: ".sbom.cdx.json", spdx: ".sbom.spdx.json" };
const CDX_VERSIONS = ["1.2", "1.3", "1.4", "1.5", "1.6"];

export interface FoundSbom {
    kind: SbomKind;
    object: string;
    document: Record<string, unknown>;
}

/** The SBOM names that belong to an image upload path. */
export function sbomNamesFor(uploadPath: string): Record<SbomKind, string> {
    const base = uploadPath.slice(0, -IMAGE_SUFFIX.length);
    return { cyclonedx: `${base}${SUFFIX.cyclonedx}`, spdx: `${base}${SUFFIX.spdx}` };
}

async function documentProblems(kind: SbomKind, doc: any, text: string): Promise<string[]> {
    if (kind === "cyclonedx") {
        if (doc.bomFormat !== "CycloneDX" || !CDX_VERSIONS.includes(doc.specVersion)) {
            return [`bomFormat must be "CycloneDX" and specVersion one of ${CDX_VERSIONS.join(", ")} (got ${JSON.stringify(doc.bomFormat)}, ${JSON.stringify(doc.specVersion)})`];
        }
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const cdx = require("@cyclonedx/cyclonedx-library");
        const errors = await new cdx.Validation.JsonStrictValidator(doc.specVersion).validate(text);
        return errors === null ? [] : (errors as { instancePath: string; message: string }[]).slice(0, 20).map((e) => `${e.instancePath || "/"} ${e.message}`);
    }
    const problems: string[] = [];
    if (typeof doc.spdxVersion !== "string" || !/^SPDX-2\.[0-9]$/.test(doc.spdxVersion)) {
        problems.push(`spdxVersion must be "SPDX-2.x" (got ${JSON.stringify(doc.spdxVersion)})`);
    }
    if (doc.SPDXID !== "SPDXRef-DOCUMENT") {
        problems.push("SPDXID must be \"SPDXRef-DOCUMENT\"");
    }
    for (const field of ["name", "documentNamespace", "dataLicense"]) {
        if (typeof doc[field] !== "string" || doc[field].length === 0) {
            problems.push(`${field} is required`);
        }
    }
    if (doc.creationInfo === null || typeof doc.creationInfo !== "object" || !Array.isArray(doc.creationInfo.creators) || typeof doc.creationInfo.created !== "string") {
        problems.push("creationInfo {created, creators[]} is required");
    }
    return problems;
}

/**
 * The SBOM uploaded next to `uploadPath` in the job's location `prefix`, validated; undefined when the job
 * uploaded none. `late(created)` says why an object cannot be attributed to the running job, if it cannot.
 * Throws ImageRefusal (422) for two SBOMs, a late one, or an invalid one.
 */
export async function findSbom(store: ObjectStore, prefix: string, uploadPath: string, late: (created: Date) => string | undefined): Promise<FoundSbom | undefined> {
    const names = sbomNamesFor(uploadPath);
    const present: [SbomKind, string, Date, number][] = [];
    for (const kind of Object.keys(names) as SbomKind[]) {
        const info = await store.stat(`${prefix}${names[kind]}`);
        if (info !== undefined) {
            present.push([kind, `${prefix}${names[kind]}`, info.created, info.size]);
        }
    }
    if (present.length === 0) {
        return undefined;
    }
    if (present.length > 1) {
        throw new ImageRefusal(422, "sbom-ambiguous", `the job uploaded both ${names.cyclonedx} and ${names.spdx} for ${uploadPath}: upload one SBOM per image`);
    }
    const [kind, object, created, size] = present[0];
    const why = late(created);
    if (why !== undefined) {
        throw new ImageRefusal(422, "sbom-late", `SBOM ${object}: ${why}`);
    }
    if (size > MAX_SBOM_BYTES) {
        throw new ImageRefusal(422, "invalid-sbom", `SBOM ${object} is ${size} bytes, above the limit of ${MAX_SBOM_BYTES}`);
    }
    const bytes = await store.read(object);
    const text = bytes?.toString("utf8") ?? "";
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch {
        throw new ImageRefusal(422, "invalid-sbom", `SBOM ${object} is not JSON`);
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
        throw new ImageRefusal(422, "invalid-sbom", `SBOM ${object} is not a JSON object`);
    }
    const problems = await documentProblems(kind, doc, text);
    if (problems.length > 0) {
        throw new ImageRefusal(422, "invalid-sbom", `SBOM ${object} is not valid ${kind === "cyclonedx" ? "CycloneDX" : "SPDX"} JSON: ${problems.join("; ")}`);
    }
    return { kind, object, document: doc as Record<string, unknown> };
}

/** The SBOM attestation: the image as subject, the document as predicate, the claim marked and the provenance named. */
export function buildSbomStatement(sbom: FoundSbom, image: { repository: string; digest: string }, provenance: { object: string; invocationId: string; finishedOn: string }): Record<string, unknown> {
    return {
        _type: STATEMENT_TYPE,
        subject: [{
            name: image.repository,
            digest: { sha256: image.digest.slice("sha256:".length) },
            annotations: {
                [SBOM_ANNOTATION.origin]: SBOM_ORIGIN_CLAIM,
                [SBOM_ANNOTATION.provenance]: provenance.object,
                [SBOM_ANNOTATION.invocation]: provenance.invocationId,
                [SBOM_ANNOTATION.finishedOn]: provenance.finishedOn,
            },
        }],
        predicateType: SBOM_PREDICATE_TYPES[sbom.kind],
        predicate: sbom.document,
    };
}
