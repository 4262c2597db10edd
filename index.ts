// The stack program: read and validate `hardened-build-fleet:*` config, build the fleet, export
// what operators need. All logic lives in components/ (importing the package creates nothing).
import { HardenedBuildFleet, readRawFleetConfig } from "./components";

const fleet = new HardenedBuildFleet("fleet", { config: readRawFleetConfig() });

export const poolNames = fleet.poolNames;
export const intakeBuckets = fleet.intakeBuckets;
export const signerPublicKeyPem = fleet.signerPublicKeyPem;
export const signerKeyVersion = fleet.signerKeyVersionName;
export const signerServiceUrl = fleet.signerServiceUrl;
export const provenanceBucket = fleet.provenanceBucketName;
export const generatorServiceAccount = fleet.generatorServiceAccountEmail;
export const webhookUrl = fleet.webhookUrl;
export const brokerUrl = fleet.brokerUrl;
export const signerKeyring = fleet.signerKeyring;
