/**
 * The library's public entry: components and config model. Importing it never creates
 * resources; the stack program lives only in index.ts.
 */
export * from "./labels";
export * from "./config";
export * from "./isolatedNetwork";
export * from "./signerEnclave";
export { SIGNING_ALGORITHMS, DEFAULT_SIGNING_ALGORITHM, SIGNING_ROLE } from "./signerKey";
export * from "./runnerPool";
export * from "./controlPlane";
export { CONTROL_PLANE_SERVICES, SERVICE_ENV, WEBHOOK_PATH } from "./controlPlaneServices";
export * from "./serviceImage";
export * from "./servicePerimeter";
export * from "./orgGuardrails";
export * from "./fleet";
