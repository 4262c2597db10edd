/**
 * The contract between the offline engine (plan/engine) and the pack: how a validation declares the
 * resource types it applies to, and the scope in which stack policies share one model. The engine imports
 * this module and nothing else of the pack.
 */
export { APPLIES_TO, appliesTo, declareAppliesTo, TypePredicate } from "./appliesTo";
export { beginStackEvaluation, sharedModel } from "./share";
