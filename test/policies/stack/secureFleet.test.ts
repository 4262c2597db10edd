import * as assert from "assert";
import { evaluateFleet, findings } from "../../helpers/stackPolicy";

describe("stack rules: the secure fleet fixture", () => {
    for (const preview of [false, true]) {
        it(`reports nothing (${preview ? "preview" : "normal"} mode)`, async () => {
            const ev = await evaluateFleet(undefined, { preview });
            assert.deepStrictEqual(ev.violations, [], `unexpected findings:\n${findings(ev)}`);
        });
    }
});
