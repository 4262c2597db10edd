/**
 * The provenance signing key (I8): an asymmetric signing key with an allow-listed algorithm, held
 * in an HSM, protected from deletion, on a protected key ring.
 *
 * A crypto key is a signer key when labelled `build-fleet-role=signer` or when its purpose is
 * ASYMMETRIC_SIGN (fail closed: in a fleet stack any asymmetric signing key can sign provenance).
 * Key rings take no labels, so every key ring in the stack must be protected.
 *
 * Deletion protection is `protect: true` (seen by the analyzer in `opts.protect`), the provider's
 * `deletionPolicy: "PREVENT"` / `"ABANDON"`, or `retainOnDelete` where the evaluator exposes it
 * (the Pulumi CLI's analyzer protocol does not send retainOnDelete, so prefer `protect`).
 */
import { ResourceValidationArgs } from "@pulumi/policy/policy";
import { FleetResourcePolicy } from "../../meta";
import { roleOf } from "../../model/labels";
import { get, unknown } from "../../model/props";
import { boolish, forTypes, undecided } from "../../recognisers/common";

export const CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey";
export const DEFAULT_ALLOWED_ALGORITHMS = ["EC_SIGN_P256_SHA256"];
/** HSM-backed protection levels (multi-tenant Cloud HSM and single-tenant HSM). */
const HSM_LEVELS = new Set(["HSM", "HSM_SINGLE_TENANT"]);

/** True when a crypto key is a provenance signing key (label or purpose; fail closed). */
export function isSignerKey(props: Record<string, any>): boolean {
    return roleOf(CRYPTO_KEY, props) === "signer" || get(props, "purpose") === "ASYMMETRIC_SIGN";
}

/** True when the resource cannot be deleted by `pulumi destroy`/replacement. */
function deletionProtected(args: ResourceValidationArgs, props: Record<string, any>): boolean {
    const opts = args.opts as { protect?: boolean; retainOnDelete?: boolean } | undefined;
    if (opts?.protect === true || opts?.retainOnDelete === true) {
        return true;
    }
    const policy = get(props, "deletionPolicy");
    return typeof policy === "string" && ["PREVENT", "ABANDON"].includes(policy.toUpperCase());
}

export const signerKeyAsymmetricSign: FleetResourcePolicy = {
    name: "signer-key-asymmetric-sign",
    description: "[I8] The signer key's purpose is ASYMMETRIC_SIGN.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "signer key purpose `ASYMMETRIC_SIGN`",
        invariants: ["I8"],
        fix: "Create the signer key with `purpose: \"ASYMMETRIC_SIGN\"` (a new key: purpose cannot change).",
    },
    validateResource: forTypes([CRYPTO_KEY], (props, _args, report) => {
        if (!isSignerKey(props)) {
            return;
        }
        const purpose = get(props, "purpose");
        if (unknown(purpose)) {
            undecided(report, "purpose of the signer key is unknown.");
        } else if (purpose !== "ASYMMETRIC_SIGN") {
            report(`signer key purpose is ${purpose === undefined ? "not set (defaults to ENCRYPT_DECRYPT)" : JSON.stringify(purpose)}; provenance is signed with an ASYMMETRIC_SIGN key.`);
        }
    }),
};

export const signerKeyAlgorithm: FleetResourcePolicy = {
    name: "signer-key-algorithm",
    description: "[I8] The signer key's algorithm is in the allowed list (default EC_SIGN_P256_SHA256).",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedAlgorithms: {
                type: "array",
                items: { type: "string" },
                minItems: 1,
                default: DEFAULT_ALLOWED_ALGORITHMS,
                description: "CryptoKeyVersion algorithms the signer key may use.",
            },
        },
    },
    meta: {
        checks: "algorithm in `allowedAlgorithms` (pack config, default `[\"EC_SIGN_P256_SHA256\"]`)",
        invariants: ["I8"],
        fix: "Set `versionTemplate.algorithm` to an allowed algorithm (EC_SIGN_P256_SHA256 by default, the SLSA/DSSE recommended suite).",
    },
    validateResource: forTypes([CRYPTO_KEY], (props, args, report) => {
        if (!isSignerKey(props)) {
            return;
        }
        const allowed = args.getConfig<{ allowedAlgorithms?: string[] }>().allowedAlgorithms ?? DEFAULT_ALLOWED_ALGORITHMS;
        const algorithm = get(props, "versionTemplate", "algorithm");
        if (unknown(algorithm)) {
            undecided(report, "versionTemplate.algorithm of the signer key is unknown.");
        } else if (typeof algorithm !== "string" || !allowed.includes(algorithm)) {
            report(`signer key algorithm is ${algorithm === undefined ? "not set (versionTemplate.algorithm)" : JSON.stringify(algorithm)}; allowed: ${allowed.join(", ")}.`);
        }
    }),
};

export const signerKeyHsm: FleetResourcePolicy = {
    name: "signer-key-hsm",
    description: "[I8] The signer key is generated and held in an HSM (versionTemplate.protectionLevel HSM, not import-only).",
    enforcementLevel: "mandatory",
    meta: {
        checks: "protection level `HSM`, not import-only",
        invariants: ["I8"],
        fix: "Set `versionTemplate.protectionLevel: \"HSM\"` and do not use `importOnly` (key material must be generated inside the HSM).",
    },
    validateResource: forTypes([CRYPTO_KEY], (props, _args, report) => {
        if (!isSignerKey(props)) {
            return;
        }
        const level = get(props, "versionTemplate", "protectionLevel");
        if (unknown(level)) {
            undecided(report, "versionTemplate.protectionLevel of the signer key is unknown.");
        } else if (typeof level !== "string" || !HSM_LEVELS.has(level)) {
            report(`signer key protection level is ${level === undefined ? "not set (defaults to SOFTWARE)" : JSON.stringify(level)}; the signing key must live in an HSM.`);
        }
        if (boolish(get(props, "importOnly")) === true) {
            report("signer key is importOnly: its key material is generated outside Cloud KMS and may exist elsewhere.");
        }
    }),
};

export const signerKeyDeletionProtected: FleetResourcePolicy = {
    name: "signer-key-deletion-protected",
    description: "[I8] The signer key is protected from deletion (protect: true, or deletionPolicy PREVENT/ABANDON).",
    enforcementLevel: "mandatory",
    meta: {
        checks: "`protect: true` or `deletionPolicy` PREVENT/ABANDON",
        invariants: ["I8"],
        fix: "Give the signer key the resource option `protect: true` (or `deletionPolicy: \"PREVENT\"`).",
    },
    validateResource: forTypes([CRYPTO_KEY], (props, args, report) => {
        if (isSignerKey(props) && !deletionProtected(args, props)) {
            report("signer key is not protected from deletion: a destroy or replacement would schedule its versions for destruction and break verification of past provenance; set `protect: true`.");
        }
    }),
};

export const kmsPolicies: FleetResourcePolicy[] = [
    signerKeyAsymmetricSign,
    signerKeyAlgorithm,
    signerKeyHsm,
    signerKeyDeletionProtected,
];
