/**
 * From the facade's schema-friendly inputs to the TypeScript API's. The schema cannot express the
 * backend-discriminated pool union or a duration given as seconds, so the facade's pool is the flat
 * stack-config shape; the components validate every field of it at run time, as they do for stack config.
 */
import type { FleetConfigInput, PoolInput } from "../components/config";
import { rawFleetConfig, RawFleetConfig } from "../components/config/input";
import { FleetConfig, Pool } from "./types";

/** A facade pool as the RunnerPool pool argument (validated in full by `validatePoolConfig`). */
export function toPoolInput(pool: Pool): PoolInput {
    return pool as unknown as PoolInput;
}

/** A facade fleet config as HardenedBuildFleet's config argument (validated in full by `validateFleetConfig`). */
export function toFleetConfig(config: FleetConfig): FleetConfigInput | RawFleetConfig {
    return rawFleetConfig({ ...config });
}
