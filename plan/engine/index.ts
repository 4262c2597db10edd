/**
 * The offline evaluation engine: run a Pulumi program under provider-aware mocks, capture its
 * resource graph, and evaluate a CrossGuard policy pack over it with the analyzer's semantics.
 */
export * from "./types";
export { runProgram, RunOptions, Program, ProgramError } from "./run";
export { loadStackConfig, StackConfig, StackConfigError, SECRET_PLACEHOLDER } from "./stackConfig";
export { evaluatePolicies, EvaluateOptions, PolicyConfigError, resolvePolicyConfig } from "./evaluate";
export { longestDependencyChain, GraphResource, Chain } from "./graph";
