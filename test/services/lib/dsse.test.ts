import * as assert from "assert";
import * as crypto from "crypto";
import { checkEnvelope, decodeBase64, EnvelopeFormatError, envelopeLine, pae, parseEnvelopes, verifySignature } from "../../../services/lib/dsse";
import { p256 } from "../../helpers/signer";

describe("DSSE", () => {
    it("encodes PAE as the DSSE v1 spec's example", () => {
        assert.strictEqual(pae("http://example.com/HelloWorld", Buffer.from("hello world")).toString(), "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
        // Lengths are byte lengths, not character counts.
        assert.strictEqual(pae("t", Buffer.from("é")).toString(), "DSSEv1 1 t 2 é");
    });

    it("verifies a DER ECDSA signature over sha256(PAE) and nothing else", () => {
        const key = p256();
        const payload = Buffer.from('{"a":1}');
        const sig = crypto.sign("sha256", pae("application/vnd.in-toto+json", payload), { key: key.privateKey, dsaEncoding: "der" });
        assert.ok(verifySignature("application/vnd.in-toto+json", payload, sig, key.publicKey));
        assert.ok(!verifySignature("application/json", payload, sig, key.publicKey), "another payload type");
        assert.ok(!verifySignature("application/vnd.in-toto+json", Buffer.from('{"a":2}'), sig, key.publicKey), "another payload");
        assert.ok(!verifySignature("application/vnd.in-toto+json", payload, sig, p256().publicKey), "another key");
        assert.ok(!verifySignature("application/vnd.in-toto+json", payload, Buffer.from("junk"), key.publicKey), "garbage signature");
        const bare = crypto.sign("sha256", payload, { key: key.privateKey, dsaEncoding: "der" });
        assert.ok(!verifySignature("application/vnd.in-toto+json", payload, bare, key.publicKey), "a signature over the bare payload is not a DSSE signature");
    });

    it("decodes strict standard base64 only", () => {
        assert.deepStrictEqual(decodeBase64("aGk=", "x"), Buffer.from("hi"));
        for (const bad of ["aGk", "aG k=", "a-_=", "aGk==="]) {
            assert.throws(() => decodeBase64(bad, "field"), /field is not standard base64/, bad);
        }
    });

    it("parses a single JSON envelope or JSON lines, and names what is wrong", () => {
        const env = { payloadType: "t", payload: "e30=", signatures: [{ keyid: "k", sig: "AA==" }] };
        assert.deepStrictEqual(parseEnvelopes(JSON.stringify(env, null, 2)), [env]);
        assert.deepStrictEqual(parseEnvelopes(`${envelopeLine(env)}\n${envelopeLine(env)}`), [env, env]);
        assert.deepStrictEqual(checkEnvelope({ ...env, signatures: [{ sig: "AA==" }] }).signatures, [{ keyid: "", sig: "AA==" }]);
        const bad: [string, RegExp][] = [
            ["", /empty/],
            ["[1]", /envelope is not a JSON object/],
            [JSON.stringify({ ...env, payloadType: "" }), /payloadType must be a non-empty string/],
            [JSON.stringify({ ...env, signatures: [{ keyid: 1, sig: "AA==" }] }), /signatures\[0\] must be an object/],
            [`${envelopeLine(env)}not json\n`, /line 2 of the envelope file is not JSON/],
        ];
        for (const [text, message] of bad) {
            assert.throws(() => parseEnvelopes(text), (err: unknown) => err instanceof EnvelopeFormatError && message.test(err.message), text);
        }
    });
});
