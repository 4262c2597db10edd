/**
 * The validated stack config model: one typed FleetConfig for the whole fleet, read
 * from `hardened-build-fleet:*` stack config or passed as raw args. Every problem is reported at
 * once in a FleetConfigError, before any resource is registered.
 */
export type {
    ConfigIssue, EgressAllowList, FleetConfig, FleetConfigValidation, PoolConfig, RunnerBackend, SignerConfig,
} from "./config/model";
export type {
    ControlPlaneInput, DurationInput, EgressAllowListInput, FleetConfigInput, FleetConfigSource, GcePoolInput, GithubAppInput, GithubInput, KeyVersionInput,
    GkePoolInput, GuardrailsInput, PerimeterInput, PoolInput, RawFleetConfig, SignerInput,
} from "./config/input";
export { rawFleetConfig } from "./config/input";
export { parsePoolConfig, validatePoolConfig } from "./config/poolInput";
export type { PoolConfigValidation } from "./config/poolInput";
export { FleetConfigError, formatIssue } from "./config/issues";
export { parseFleetConfig, validateFleetConfig } from "./config/validate";
export { readFleetConfig, readRawFleetConfig } from "./config/read";
export {
    CONFIG_NAMESPACE, DEFAULTS as FLEET_CONFIG_DEFAULTS, FLEET_CONFIG_KEYS, FLEET_CONFIG_SCHEMA, MAX_BUILD_DURATION_SECONDS,
} from "./config/schema";
export { ASYMMETRIC_SIGN_ALGORITHMS, PROTECTION_LEVELS } from "./config/kms";
