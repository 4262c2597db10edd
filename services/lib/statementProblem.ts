/**
 * What the signer refuses in a statement, by code and field: shared by the provenance (statement.ts) and SBOM
 * (sbomStatement.ts) validators, so neither imports the other for it.
 */
export type ProblemCode =
    | "invalid_type"
    | "invalid_predicate_type"
    | "invalid_subject"
    | "duplicate_subject"
    | "too_many_subjects"
    | "invalid_predicate"
    | "builder_id_mismatch"
    | "invalid_times";

export interface Problem {
    code: ProblemCode;
    /** JSON pointer of the offending field, e.g. /subject/0/digest/sha256. */
    field: string;
    message: string;
}
