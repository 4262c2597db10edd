/**
 * in-toto Statement v1 carrying SLSA Provenance v1: the types the provenance generator builds and
 * the validation the signer applies before it signs anything. The schema (ajv) checks the shape;
 * the checks after it are the ones a schema cannot state: the builder id equals the fleet's, no
 * subject appears twice, the times are ordered.
 */
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { isSbomPredicateType, sbomSigningFacts, sbomStatementProblems } from "./sbomStatement";
import type { Problem, ProblemCode } from "./statementProblem";

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";
/** Default upper bound on subjects per statement (a job's artifacts, not a release's worth of files). */
export const DEFAULT_MAX_SUBJECTS = 256;

export type DigestSet = Record<string, string>;

export interface ResourceDescriptor {
    name?: string;
    uri?: string;
    digest?: DigestSet;
    content?: string;
    downloadLocation?: string;
    mediaType?: string;
    annotations?: Record<string, unknown>;
}

export interface Subject {
    name: string;
    digest: DigestSet & { sha256: string };
}

/**
 * What this fleet puts in `externalParameters`: GitHub's Actions build type
 * (`https://actions.github.io/buildtypes/workflow/v1`). `workflow.repository` is what
 * `--source-uri` is checked against, `workflow.ref` what `--source-ref` is.
 */
export interface FleetExternalParameters {
    workflow: {
        /** The fully qualified ref: refs/heads/<b>, refs/tags/<t>, refs/pull/<n>/merge. */
        ref: string;
        /** e.g. https://github.com/org/repo */
        repository: string;
        /** e.g. .github/workflows/build.yml */
        path: string;
    };
}

export interface ProvenancePredicate {
    buildDefinition: {
        buildType: string;
        externalParameters: Record<string, unknown>;
        internalParameters?: Record<string, unknown>;
        resolvedDependencies?: ResourceDescriptor[];
    };
    runDetails: {
        builder: { id: string; version?: Record<string, string>; builderDependencies?: ResourceDescriptor[] };
        metadata: { invocationId: string; startedOn?: string; finishedOn: string };
        byproducts?: ResourceDescriptor[];
    };
}

export interface Statement {
    _type: typeof STATEMENT_TYPE;
    subject: Subject[];
    predicateType: typeof SLSA_PROVENANCE_V1;
    predicate: ProvenancePredicate;
}

export type { Problem, ProblemCode } from "./statementProblem";

export interface StatementRules {
    /** The fleet's builder id: `runDetails.builder.id` must equal it exactly. */
    builderId: string;
    /** Default DEFAULT_MAX_SUBJECTS. */
    maxSubjects?: number;
}

const HEX = "^[a-f0-9]+$";
const DIGEST_SET = {
    type: "object",
    minProperties: 1,
    propertyNames: { pattern: "^[A-Za-z0-9_-]{1,32}$" },
    additionalProperties: { type: "string", pattern: HEX, maxLength: 128 },
    properties: {
        sha256: { type: "string", pattern: "^[a-f0-9]{64}$" },
        sha512: { type: "string", pattern: "^[a-f0-9]{128}$" },
        sha1: { type: "string", pattern: "^[a-f0-9]{40}$" },
        gitCommit: { type: "string", pattern: "^([a-f0-9]{40}|[a-f0-9]{64})$" },
    },
};
const RESOURCE_DESCRIPTOR = {
    type: "object",
    anyOf: [{ required: ["uri"] }, { required: ["digest"] }, { required: ["content"] }],
    properties: {
        name: { type: "string", maxLength: 1024 },
        uri: { type: "string", format: "uri", maxLength: 2048 },
        digest: DIGEST_SET,
        content: { type: "string" },
        downloadLocation: { type: "string", format: "uri" },
        mediaType: { type: "string" },
        annotations: { type: "object" },
    },
    additionalProperties: false,
};
const URI = { type: "string", format: "uri", minLength: 1, maxLength: 2048 };
const TIME = { type: "string", format: "date-time" };

const SCHEMA = {
    type: "object",
    required: ["_type", "subject", "predicateType", "predicate"],
    // Nothing is signed that the schema did not look at.
    additionalProperties: false,
    properties: {
        _type: { type: "string" },
        predicateType: { type: "string" },
        subject: {
            type: "array",
            items: {
                type: "object",
                required: ["name", "digest"],
                properties: {
                    name: { type: "string" },
                    digest: { ...DIGEST_SET, required: ["sha256"] },
                },
                additionalProperties: false,
            },
        },
        predicate: {
            type: "object",
            required: ["buildDefinition", "runDetails"],
            additionalProperties: false,
            properties: {
                buildDefinition: {
                    type: "object",
                    required: ["buildType", "externalParameters"],
                    additionalProperties: false,
                    properties: {
                        buildType: URI,
                        externalParameters: { type: "object", minProperties: 1 },
                        internalParameters: { type: "object" },
                        resolvedDependencies: { type: "array", items: RESOURCE_DESCRIPTOR },
                    },
                },
                runDetails: {
                    type: "object",
                    required: ["builder", "metadata"],
                    additionalProperties: false,
                    properties: {
                        builder: {
                            type: "object",
                            required: ["id"],
                            additionalProperties: false,
                            properties: {
                                id: URI,
                                version: { type: "object", additionalProperties: { type: "string" } },
                                builderDependencies: { type: "array", items: RESOURCE_DESCRIPTOR },
                            },
                        },
                        metadata: {
                            type: "object",
                            required: ["invocationId", "finishedOn"],
                            additionalProperties: false,
                            properties: {
                                invocationId: { type: "string", minLength: 1, maxLength: 1024 },
                                startedOn: TIME,
                                finishedOn: TIME,
                            },
                        },
                        byproducts: { type: "array", items: RESOURCE_DESCRIPTOR },
                    },
                },
            },
        },
    },
};

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv, ["uri", "date-time"]);
const validateSchema = ajv.compile(SCHEMA);

/**
 * A subject name: 1-1024 characters, no control or bidirectional-override characters (they make
 * logs and terminals lie about the name), no leading or trailing whitespace.
 */
export function checkSubjectName(name: string): string | undefined {
    if (name.length === 0 || name.length > 1024) {
        return `name must be 1-1024 characters, got ${name.length}`;
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(name)) {
        return "name contains a control or bidirectional-override character";
    }
    if (name.trim() !== name) {
        return "name has leading or trailing whitespace";
    }
    return undefined;
}

function subjectProblems(subjects: Subject[], maxSubjects: number): Problem[] {
    const problems: Problem[] = [];
    if (subjects.length === 0) {
        problems.push({ code: "invalid_subject", field: "/subject", message: "subject must list at least one artifact" });
    }
    if (subjects.length > maxSubjects) {
        problems.push({ code: "too_many_subjects", field: "/subject", message: `subject lists ${subjects.length} artifacts, more than the limit of ${maxSubjects}: split the statement` });
    }
    const names = new Map<string, number>();
    subjects.forEach((s, i) => {
        const bad = checkSubjectName(s.name);
        if (bad !== undefined) {
            problems.push({ code: "invalid_subject", field: `/subject/${i}/name`, message: bad });
        }
        const first = names.get(s.name);
        if (first !== undefined) {
            problems.push({ code: "duplicate_subject", field: `/subject/${i}/name`, message: `subject ${JSON.stringify(s.name)} already appears at /subject/${first}: list each artifact once` });
        } else {
            names.set(s.name, i);
        }
    });
    return problems;
}

function schemaProblems(errors: NonNullable<typeof validateSchema.errors>): Problem[] {
    return errors
        // The branches of an anyOf each report a missing field; the anyOf error says it once.
        .filter((e) => !/\/anyOf\/\d+\//.test(e.schemaPath) && (e as { propertyName?: string }).propertyName === undefined)
        .map((e) => {
            const field = e.instancePath || "/";
            const code: ProblemCode = field.startsWith("/subject") ? "invalid_subject" : "invalid_predicate";
            const detail =
                e.keyword === "additionalProperties" ? `has unknown field ${JSON.stringify((e.params as any).additionalProperty)}`
                : e.keyword === "required" ? `is missing ${JSON.stringify((e.params as any).missingProperty)}`
                : e.keyword === "anyOf" ? "needs at least one of uri, digest, content"
                : e.keyword === "propertyNames" ? "has a key that is not a digest algorithm name ([A-Za-z0-9_-]{1,32})"
                : e.message ?? "is invalid";
            return { code, field, message: `${field} ${detail}` };
        });
}

/**
 * All problems of `value` as a statement the fleet may sign, in one pass; empty when it is valid.
 * The `_type` and `predicateType` are checked first: a statement of another kind gets only that answer.
 */
export function statementProblems(value: unknown, rules: StatementRules): Problem[] {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        return [{ code: "invalid_type", field: "/", message: "the body must be a JSON object (an in-toto Statement)" }];
    }
    const v = value as Record<string, unknown>;
    const problems: Problem[] = [];
    if (v._type === STATEMENT_TYPE && isSbomPredicateType(v.predicateType)) {
        return sbomStatementProblems(v);
    }
    if (v._type !== STATEMENT_TYPE) {
        problems.push({ code: "invalid_type", field: "/_type", message: `_type ${JSON.stringify(v._type) ?? "(missing)"} must be ${STATEMENT_TYPE}` });
    }
    if (v.predicateType !== SLSA_PROVENANCE_V1) {
        problems.push({ code: "invalid_predicate_type", field: "/predicateType", message: `predicateType ${JSON.stringify(v.predicateType) ?? "(missing)"} must be ${SLSA_PROVENANCE_V1}` });
    }
    if (problems.length > 0) {
        return problems;
    }
    if (!validateSchema(value)) {
        return schemaProblems(validateSchema.errors ?? []);
    }
    const statement = value as unknown as Statement;
    problems.push(...subjectProblems(statement.subject, rules.maxSubjects ?? DEFAULT_MAX_SUBJECTS));
    const builderId = statement.predicate.runDetails.builder.id;
    if (builderId !== rules.builderId) {
        problems.push({ code: "builder_id_mismatch", field: "/predicate/runDetails/builder/id", message: `builder id ${JSON.stringify(builderId)} is not this fleet's builder id ${JSON.stringify(rules.builderId)}` });
    }
    const { startedOn, finishedOn } = statement.predicate.runDetails.metadata;
    if (startedOn !== undefined && Date.parse(startedOn) > Date.parse(finishedOn)) {
        problems.push({ code: "invalid_times", field: "/predicate/runDetails/metadata/startedOn", message: `startedOn ${startedOn} is after finishedOn ${finishedOn}` });
    }
    return problems;
}

/** The time a statement speaks for: when the build finished. Key validity windows are checked at this time. */
export function statementTime(statement: Statement): Date {
    return new Date(signingFacts(statement).finishedOn);
}

/** When the build finished and which invocation a valid statement (provenance or SBOM) belongs to. */
export function signingFacts(statement: Statement): { finishedOn: string; invocationId: string } {
    if (isSbomPredicateType(statement.predicateType)) {
        return sbomSigningFacts(statement);
    }
    const { finishedOn, invocationId } = statement.predicate.runDetails.metadata;
    return { finishedOn, invocationId };
}

/**
 * The source repository the statement names: `externalParameters.repository` (this fleet's layout),
 * or `externalParameters.workflow.repository` (GitHub's own buildType), or undefined.
 */
export function sourceRepository(statement: Statement): string | undefined {
    const ext = statement.predicate.buildDefinition.externalParameters as Record<string, any>;
    const repo = typeof ext.repository === "string" ? ext.repository : ext.workflow?.repository;
    return typeof repo === "string" ? repo : undefined;
}
