/** The smallest valid SignerEnclave arguments, shared by the tests that build an enclave on its own. */
import type { SignerEnclaveArgs } from "../../components/signerEnclave";

export const MINIMAL_ENCLAVE_ARGS: Readonly<SignerEnclaveArgs> = {
    project: "signer-proj",
    region: "europe-west1",
    cidr: "10.90.0.0/24",
    serviceImage: "europe-docker.pkg.dev/signer-proj/signer/signer@sha256:" + "a".repeat(64),
    invokers: ["serviceAccount:control-plane@cp-proj.iam.gserviceaccount.com"],
    builderId: "https://github.com/acme/hardened-build-fleet/enc",
};
