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
export * from "./servicePerimeter";
export * from "./orgGuardrails";
export * from "./fleet";
