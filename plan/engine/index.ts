/**
 * The offline evaluation engine: run a Pulumi program under provider-aware mocks, capture its
 * resource graph, and evaluate a CrossGuard policy pack over it with the analyzer's semantics.
 */
export * from "./types";
export { runProgram, RunOptions, Program, ProgramError } from "./run";
export { TypeCheckError, CompileSetupError } from "./typescript";
export { loadStackConfig, StackConfig, StackConfigError, SECRET_PLACEHOLDER } from "./stackConfig";
export { evaluatePolicies, EvaluateOptions, PolicyConfigError, resolvePolicyConfig, resolvePolicyConfigs, ResolvedPolicyConfigs } from "./evaluate";
export { longestDependencyChain, GraphResource, Chain } from "./dependencyChain";
