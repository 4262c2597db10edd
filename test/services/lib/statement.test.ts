import * as assert from "assert";
import { checkSubjectName, Problem, sourceRepository, statementProblems, statementTime } from "../../../services/lib/statement";
import { BUILDER_ID, SOURCE, statement } from "../../helpers/signer";

const rules = { builderId: BUILDER_ID };
const problems = (mutate: (s: any) => void, r = rules): Problem[] => statementProblems(statement(mutate), r);

function assertOnly(found: Problem[], code: string, field: string, message: RegExp): void {
    assert.strictEqual(found.length, 1, JSON.stringify(found, null, 1));
    assert.strictEqual(found[0].code, code);
    assert.strictEqual(found[0].field, field);
    assert.match(found[0].message, message);
}

describe("statement validation (what the signer signs)", () => {
    it("accepts the fleet's statement", () => {
        assert.deepStrictEqual(statementProblems(statement(), rules), []);
    });

    it("refuses a body that is not an object", () => {
        for (const v of [null, [], "x", 1]) {
            assertOnly(statementProblems(v, rules), "invalid_type", "/", /JSON object/);
        }
    });

    it("refuses another _type", () => {
        assertOnly(problems((s) => (s._type = "https://in-toto.io/Statement/v0.1")), "invalid_type", "/_type", /must be https:\/\/in-toto\.io\/Statement\/v1/);
    });

    it("refuses another predicateType (SLSA v0.2 provenance)", () => {
        assertOnly(problems((s) => (s.predicateType = "https://slsa.dev/provenance/v0.2")), "invalid_predicate_type", "/predicateType", /must be https:\/\/slsa\.dev\/provenance\/v1/);
    });

    it("refuses unknown top-level fields (nothing is signed unchecked)", () => {
        assertOnly(problems((s) => (s.extra = 1)), "invalid_predicate", "/", /unknown field "extra"/);
    });

    it("requires buildDefinition.buildType as a URI", () => {
        assertOnly(problems((s) => delete s.predicate.buildDefinition.buildType), "invalid_predicate", "/predicate/buildDefinition", /missing "buildType"/);
        assertOnly(problems((s) => (s.predicate.buildDefinition.buildType = "not a uri")), "invalid_predicate", "/predicate/buildDefinition/buildType", /uri/);
    });

    it("requires non-empty externalParameters", () => {
        assertOnly(problems((s) => delete s.predicate.buildDefinition.externalParameters), "invalid_predicate", "/predicate/buildDefinition", /missing "externalParameters"/);
        assertOnly(problems((s) => (s.predicate.buildDefinition.externalParameters = {})), "invalid_predicate", "/predicate/buildDefinition/externalParameters", /fewer than 1/);
    });

    it("requires runDetails.builder.id", () => {
        assertOnly(problems((s) => delete s.predicate.runDetails.builder.id), "invalid_predicate", "/predicate/runDetails/builder", /missing "id"/);
    });

    it("refuses a builder id other than the fleet's, even one that only differs in a suffix", () => {
        assertOnly(problems((s) => (s.predicate.runDetails.builder.id = `${BUILDER_ID}x`)), "builder_id_mismatch", "/predicate/runDetails/builder/id", /is not this fleet's builder id/);
        assertOnly(problems((s) => (s.predicate.runDetails.builder.id = "https://attacker.example/builder")), "builder_id_mismatch", "/predicate/runDetails/builder/id", /attacker/);
    });

    it("requires metadata.invocationId and finishedOn", () => {
        assertOnly(problems((s) => delete s.predicate.runDetails.metadata.invocationId), "invalid_predicate", "/predicate/runDetails/metadata", /missing "invocationId"/);
        assertOnly(problems((s) => (s.predicate.runDetails.metadata.invocationId = "")), "invalid_predicate", "/predicate/runDetails/metadata/invocationId", /fewer than 1/);
        assertOnly(problems((s) => delete s.predicate.runDetails.metadata.finishedOn), "invalid_predicate", "/predicate/runDetails/metadata", /missing "finishedOn"/);
    });

    it("requires RFC 3339 times with startedOn not after finishedOn", () => {
        assertOnly(problems((s) => (s.predicate.runDetails.metadata.finishedOn = "yesterday")), "invalid_predicate", "/predicate/runDetails/metadata/finishedOn", /date-time/);
        assertOnly(
            problems((s) => (s.predicate.runDetails.metadata.startedOn = new Date(Date.parse(s.predicate.runDetails.metadata.finishedOn) + 1000).toISOString())),
            "invalid_times",
            "/predicate/runDetails/metadata/startedOn",
            /is after finishedOn/,
        );
    });

    it("requires each resolved dependency to name a uri, digest or content", () => {
        assertOnly(problems((s) => (s.predicate.buildDefinition.resolvedDependencies = [{ name: "x" }])), "invalid_predicate", "/predicate/buildDefinition/resolvedDependencies/0", /at least one of uri, digest, content/);
    });

    it("requires at least one subject", () => {
        assertOnly(problems((s) => (s.subject = [])), "invalid_subject", "/subject", /at least one artifact/);
    });

    it("requires a sha256 digest on every subject", () => {
        assertOnly(problems((s) => (s.subject[0].digest = { sha512: "a".repeat(128) })), "invalid_subject", "/subject/0/digest", /missing "sha256"/);
    });

    it("requires the sha256 to be 64 lowercase hex characters", () => {
        for (const bad of ["A".repeat(64), "a".repeat(63), "a".repeat(65), "g".repeat(64), ` ${"a".repeat(63)}`]) {
            assertOnly(problems((s) => (s.subject[0].digest.sha256 = bad)), "invalid_subject", "/subject/0/digest/sha256", /pattern/);
        }
    });

    it("bounds the number of subjects", () => {
        const many = (s: any) => (s.subject = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, digest: { sha256: String(i).repeat(64).slice(0, 64) } })));
        assert.deepStrictEqual(problems(many, { builderId: BUILDER_ID, maxSubjects: 5 } as any), []);
        assertOnly(problems(many, { builderId: BUILDER_ID, maxSubjects: 4 } as any), "too_many_subjects", "/subject", /5 artifacts, more than the limit of 4/);
    });

    it("refuses subject names with control or bidi characters, surrounding spaces, or no characters", () => {
        for (const bad of ["a\nb", "evil\u202egpj.exe", " x", "", "x".repeat(1025)]) {
            const found = problems((s) => (s.subject[0].name = bad));
            assert.strictEqual(found.length, 1, JSON.stringify(bad));
            assert.strictEqual(found[0].code, "invalid_subject");
            assert.strictEqual(found[0].field, "/subject/0/name");
        }
        assert.strictEqual(checkSubjectName("pkg:npm/@scope/name@1.0.0"), undefined);
    });

    it("refuses a subject listed twice", () => {
        assertOnly(problems((s) => s.subject.push({ ...s.subject[0] })), "duplicate_subject", "/subject/1/name", /already appears at \/subject\/0/);
    });

    it("refuses unknown fields in a subject", () => {
        assertOnly(problems((s) => (s.subject[0].uri = "https://x")), "invalid_subject", "/subject/0", /unknown field "uri"/);
    });

    it("reports every problem in one pass", () => {
        const found = problems((s) => {
            s.subject.push({ ...s.subject[0] });
            s.predicate.runDetails.builder.id = "https://other.example/b";
        });
        assert.deepStrictEqual(found.map((p) => p.code).sort(), ["builder_id_mismatch", "duplicate_subject"]);
    });

    it("gives the statement's time and source repository", () => {
        const s = statement();
        assert.strictEqual(statementTime(s).toISOString(), s.predicate.runDetails.metadata.finishedOn);
        assert.strictEqual(sourceRepository(s), SOURCE);
        const gh = statement((x) => (x.predicate.buildDefinition.externalParameters = { workflow: { repository: "https://github.com/o/r", ref: "r", path: "p" } }));
        assert.strictEqual(sourceRepository(gh), "https://github.com/o/r");
        assert.strictEqual(sourceRepository(statement((x) => (x.predicate.buildDefinition.externalParameters = { other: 1 }))), undefined);
    });
});
