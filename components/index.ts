/**
 * The library's public entry (`hardened-build-fleet`): the components with their Args, the config
 * entry points and the role labels. Importing it never creates resources; the stack program lives
 * only in index.ts. Everything else in components/ is internal: not reachable through the package's
 * `exports`, and free to change.
 */
export { HardenedBuildFleet } from "./fleet";
export type { HardenedBuildFleetArgs, FleetMonitoringOptions } from "./fleet";
export { RunnerPool } from "./runnerPool";
export type { RunnerPoolArgs } from "./runnerPool";
export type { GceBackendOptions } from "./runnerPool/gce";
export type { GkeBackendOptions } from "./runnerPool/gke";
export { IsolatedNetwork } from "./isolatedNetwork";
export type { IsolatedNetworkArgs } from "./isolatedNetwork";
export { SignerEnclave } from "./signerEnclave";
export type { SignerEnclaveArgs } from "./signerEnclave";
export { ControlPlane } from "./controlPlane";
export type { ControlPlaneArgs, ControlPlanePoolArgs } from "./controlPlane";
export * from "./config";
export { FleetPerimeter } from "./fleetPerimeter";
export type { FleetPerimeterArgs } from "./fleetPerimeter";
export { OrgGuardrails, GUARDRAILS } from "./orgGuardrails";
export type { OrgGuardrailsArgs } from "./orgGuardrails";
export { FleetMonitoring, DEFAULT_ALERT_THRESHOLDS } from "./monitoring";
export type { FleetMonitoringArgs, AlertThresholds } from "./monitoring";
export { ServiceImage } from "./serviceImage";
export type { ServiceImageArgs } from "./serviceImage";
export { CONTROL_PLANE_SERVICES, SERVICE_ENV, WEBHOOK_PATH } from "./controlPlane/services";
export { FLEET_ROLES, POOL_LABEL, ROLE_LABEL, roleLabels } from "./labels";
export type { FleetRole } from "./labels";
export { DEFAULT_SIGNING_ALGORITHM, SIGNING_ALGORITHMS, SIGNING_ROLE } from "./signerEnclave/key";
