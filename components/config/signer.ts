/** Validation and normalisation of the `signer` block (I8 HSM key, I10 enclave isolation). */
import { FieldReader, RawObject } from "./fields";
import { IssueCollector } from "./issues";
import { imageReferenceProblem } from "./image";
import { validateKeyVersions } from "./keyVersions";
import { ASYMMETRIC_SIGN_ALGORITHMS, PROTECTION_LEVELS } from "./kms";
import { SignerConfig } from "./types";
import { builderIdProblem, iamMemberProblem, suggestion } from "./names";
import { checkSubnetSize, NamedRange, readCidr } from "./ranges";
import { DEFAULTS, SIGNER_KEYS } from "./schema";
import { readPrivateTransparencyLog, readTimestampAuthority, readTransparencyLog } from "./witnesses";

export interface SignerParse {
    /** Set only when the signer block has no issues. */
    config?: SignerConfig;
    range?: NamedRange;
}

/** Longest retention a GCS bucket retention policy accepts (about 100 years). */
const MAX_RETENTION_DAYS = 36500;

export function validateSigner(issues: IssueCollector, raw: RawObject, path: string): SignerParse {
    const result: SignerParse = {};
    const issuesBefore = issues.issues.length;
    const f = new FieldReader(issues, raw, path);
    f.checkKeys(SIGNER_KEYS);

    const keyAlgorithm = f.string("keyAlgorithm", { example: DEFAULTS.keyAlgorithm }) ?? DEFAULTS.keyAlgorithm;
    if (!ASYMMETRIC_SIGN_ALGORITHMS.includes(keyAlgorithm)) {
        issues.add(
            f.pathOf("keyAlgorithm"),
            keyAlgorithm,
            "is not a Cloud KMS ASYMMETRIC_SIGN algorithm",
            `${suggestion(keyAlgorithm, ASYMMETRIC_SIGN_ALGORITHMS, "ASYMMETRIC_SIGN algorithms")} (the recommended one is ${DEFAULTS.keyAlgorithm})`,
        );
    }

    const allowSoftwareKey = f.boolean("allowSoftwareKeyForDevelopment", false);
    const protectionLevel = f.string("protectionLevel", { example: DEFAULTS.protectionLevel }) ?? DEFAULTS.protectionLevel;
    if (!PROTECTION_LEVELS.includes(protectionLevel)) {
        issues.add(f.pathOf("protectionLevel"), protectionLevel, "is not a protection level the signer supports (HSM, or SOFTWARE for development)", suggestion(protectionLevel, PROTECTION_LEVELS, "protection levels"));
    } else if (protectionLevel !== "HSM") {
        if (!allowSoftwareKey) {
            issues.add(
                f.pathOf("protectionLevel"),
                protectionLevel,
                "the provenance signing key must be HSM-backed (I8, SLSA Build L3)",
                `use protectionLevel: HSM, or for a development stack only set ${path}.allowSoftwareKeyForDevelopment: true`,
            );
        } else {
            issues.warn(f.pathOf("protectionLevel"), protectionLevel, "the signing key is not HSM-backed (allowSoftwareKeyForDevelopment); provenance from this stack does not meet SLSA Build L3");
        }
    }

    // Optional: by default the fleet builds this package's own image and pins it by digest.
    const serviceImage = f.string("serviceImage", { example: "europe-docker.pkg.dev/acme-build-signer/signer/signer@sha256:<64 hex>" });
    const imageProblem = serviceImage === undefined ? undefined : imageReferenceProblem(serviceImage);
    if (imageProblem !== undefined) {
        issues.add(f.pathOf("serviceImage"), serviceImage, imageProblem, "pass <registry>/<path>@sha256:<64 hex digits>, or remove it to deploy this package's own image pinned by digest");
    }
    const keyVersions = validateKeyVersions(issues, f.value("keyVersions"), f.pathOf("keyVersions"));
    const builderId = f.string("builderId", { example: "https://github.com/acme/hardened-build-fleet/fleet" });
    if (builderId !== undefined && builderIdProblem(builderId) !== undefined) {
        issues.add(f.pathOf("builderId"), builderId, "is not a plain https URI (it becomes runDetails.builder.id and verifiers match it exactly)", "use e.g. https://github.com/acme/hardened-build-fleet/fleet");
    }

    const cidr = readCidr(f, "cidr", { required: true, example: "10.200.0.0/26" });
    if (cidr !== undefined && checkSubnetSize(issues, f.pathOf("cidr"), cidr, 26, "the signer subnet (Cloud Run Direct VPC egress)")) {
        result.range = { path: f.pathOf("cidr"), range: cidr, owner: "signer" };
    }

    const verifiers: string[] = [];
    f.stringArray("verifiers", "group:release-verifiers@example.com").forEach((member, i) => {
        const problem = iamMemberProblem(member);
        const itemPath = `${f.pathOf("verifiers")}[${i}]`;
        if (problem !== undefined) {
            issues.add(itemPath, member, problem, "use a member such as group:release-verifiers@example.com or serviceAccount:verifier@proj.iam.gserviceaccount.com; the public key is exported as a stack output for everyone else");
        } else if (verifiers.includes(member)) {
            issues.add(itemPath, member, "is listed twice", "remove the duplicate");
        } else {
            verifiers.push(member);
        }
    });

    const provenanceRetentionDays = f.integer("provenanceRetentionDays", { min: 1, max: MAX_RETENTION_DAYS, example: String(DEFAULTS.provenanceRetentionDays) })
        ?? DEFAULTS.provenanceRetentionDays;
    const lockProvenanceRetention = f.boolean("lockProvenanceRetention", false);
    const auditLogRetentionDays = f.integer("auditLogRetentionDays", { min: 1, max: 3650, example: String(DEFAULTS.auditLogRetentionDays) })
        ?? DEFAULTS.auditLogRetentionDays;
    const lockAuditLog = f.boolean("lockAuditLog", false);
    const timestampAuthority = readTimestampAuthority(f);
    const transparencyLog = readTransparencyLog(f);
    const privateTransparencyLog = readPrivateTransparencyLog(f);

    if (issues.issues.length === issuesBefore && cidr !== undefined && keyVersions !== undefined) {
        result.config = {
            keyAlgorithm, protectionLevel, allowSoftwareKeyForDevelopment: allowSoftwareKey, ...(serviceImage !== undefined ? { serviceImage } : {}),
            cidr: cidr.cidr, verifiers, provenanceRetentionDays, keyVersions, ...(builderId !== undefined ? { builderId } : {}),
            lockProvenanceRetention, auditLogRetentionDays, lockAuditLog,
            ...(timestampAuthority !== undefined ? { timestampAuthority } : {}), ...(transparencyLog !== undefined ? { transparencyLog } : {}),
            ...(privateTransparencyLog !== undefined ? { privateTransparencyLog } : {}),
        };
    }
    return result;
}
