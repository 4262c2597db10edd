/** Cloud KMS vocabulary the signer config is checked against. */

/** CryptoKeyVersionAlgorithm values usable with purpose ASYMMETRIC_SIGN. */
export const ASYMMETRIC_SIGN_ALGORITHMS: readonly string[] = [
    "EC_SIGN_P256_SHA256",
    "EC_SIGN_P384_SHA384",
    "EC_SIGN_SECP256K1_SHA256",
    "EC_SIGN_ED25519",
    "RSA_SIGN_PSS_2048_SHA256",
    "RSA_SIGN_PSS_3072_SHA256",
    "RSA_SIGN_PSS_4096_SHA256",
    "RSA_SIGN_PSS_4096_SHA512",
    "RSA_SIGN_PKCS1_2048_SHA256",
    "RSA_SIGN_PKCS1_3072_SHA256",
    "RSA_SIGN_PKCS1_4096_SHA256",
    "RSA_SIGN_PKCS1_4096_SHA512",
    "RSA_SIGN_RAW_PKCS1_2048",
    "RSA_SIGN_RAW_PKCS1_3072",
    "RSA_SIGN_RAW_PKCS1_4096",
    "PQ_SIGN_ML_DSA_65",
    "PQ_SIGN_SLH_DSA_SHA2_128S",
];

/**
 * Protection levels the signer supports. Only HSM meets I8; SOFTWARE is for development. EXTERNAL and
 * EXTERNAL_VPC keys live outside Cloud KMS, where no policy here can prove who can sign.
 */
export const PROTECTION_LEVELS: readonly string[] = ["HSM", "SOFTWARE"];
