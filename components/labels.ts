/**
 * The role-label contract between components and policies (docs/getting-started.md, "Using the components in your own program").
 *
 * Every labelled resource carries `build-fleet-role`; pool-owned resources also carry
 * `build-fleet-pool`. Kubernetes objects carry the same keys as Kubernetes labels.
 * Policies classify by these labels and by the resource graph, never by resource names.
 */

/** Label key naming the resource's isolation zone. */
export const ROLE_LABEL = "build-fleet-role";
/** Label key naming the pool a resource belongs to. */
export const POOL_LABEL = "build-fleet-pool";

/** The three isolation zones of the fleet. */
export type FleetRole = "runner" | "signer" | "control-plane";
export const FLEET_ROLES: readonly FleetRole[] = ["runner", "signer", "control-plane"];

/** Labels for a resource in `role`, optionally owned by `pool`, merged over `extra`. */
export function roleLabels(role: FleetRole, pool?: string, extra: Record<string, string> = {}): Record<string, string> {
    const labels: Record<string, string> = { ...extra, [ROLE_LABEL]: role };
    if (pool !== undefined) {
        labels[POOL_LABEL] = pool;
    }
    return labels;
}
