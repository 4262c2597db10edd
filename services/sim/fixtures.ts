/** Pool definitions for the simulation and the tests: the same schema the services read from their env. */
import type { PoolSpec } from "../controlPlane/pools";
import { runnerLabels } from "../controlPlane/runsOn";

export const SIM_PROJECT = "sim-workers";
export const SIM_REGION = "europe-west1";

export function simPool(name: string, extra: Partial<PoolSpec> = {}): PoolSpec {
    return {
        name,
        labels: runnerLabels(name),
        runnerGroupId: 1,
        project: SIM_PROJECT,
        region: SIM_REGION,
        mig: `${name}-mig`,
        serviceAccount: `${name}-runner@${SIM_PROJECT}.iam.gserviceaccount.com`,
        intakeBucket: `sim-intake-${name}`,
        image: `projects/${SIM_PROJECT}/global/images/${name}-runner-image`,
        maxRunDurationSeconds: 3600,
        ...extra,
    };
}
