/**
 * The validated stack config model: one typed FleetConfig for the whole fleet, read
 * from `hardened-build-fleet:*` stack config or passed as raw args. Every problem is reported at
 * once in a FleetConfigError, before any resource is registered.
 */
export type {
    ConfigIssue, EgressAllowList, FleetConfig, FleetConfigValidation, PoolConfig, RunnerBackend, SignerConfig,
} from "./types";
export type {
    ControlPlaneInput, DurationInput, EgressAllowListInput, FleetConfigInput, FleetConfigSource, GcePoolInput, GithubAppInput, GithubInput, KeyVersionInput,
    GkePoolInput, GuardrailsInput, PerimeterInput, PoolInput, RawFleetConfig, SignerInput, TimestampAuthorityInput, TransparencyLogInput, PrivateTransparencyLogInput,
} from "./input";
export { rawFleetConfig } from "./input";
export { parsePoolConfig, validatePoolConfig } from "./poolInput";
export type { PoolConfigValidation } from "./poolInput";
export { FleetConfigError, formatIssue } from "./issues";
export { parseFleetConfig, validateFleetConfig } from "./validate";
export { readFleetConfig, readRawFleetConfig } from "./read";
export {
    CONFIG_NAMESPACE, DEFAULTS as FLEET_CONFIG_DEFAULTS, FLEET_CONFIG_KEYS, FLEET_CONFIG_SCHEMA, MAX_BUILD_DURATION_SECONDS,
} from "./schema";
export { ASYMMETRIC_SIGN_ALGORITHMS, PROTECTION_LEVELS } from "./kms";
