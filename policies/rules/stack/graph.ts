/** The stack model moved to ./model; this module keeps the old import path working for importers. */
export * from "./model";
