import Foundation
import Testing
@testable import RepriseCore

@Suite struct JSONCanonicalizerTests {
    func canonical(_ text: String, ignored: [String] = JSONCanonicalizer.defaultIgnoredTopLevelFields) throws -> String {
        let canonicalizer = JSONCanonicalizer(ignoredTopLevelFields: ignored)
        _ = try canonicalizer.canonicalize(Array(text.utf8))
        return String(decoding: canonicalizer.output, as: UTF8.self)
    }

    func reason(_ text: String, maxDepth: Int = 128) -> NotCacheableReason? {
        do {
            _ = try JSONCanonicalizer(maxDepth: maxDepth).canonicalize(Array(text.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func sortsKeysAndDropsWhitespace() throws {
        #expect(try canonical(" { \"b\" : [ 1 , {\"z\":null,\"a\":true} ] ,\n\"a\":\"x\" } ")
            == #"{"a":"x","b":[1,{"a":true,"z":null}]}"#)
    }

    @Test func numbersByExactDecimalValue() throws {
        #expect(try canonical(#"{"a":[1,1.0,1e0,10E-1,0.1e1,100e-2]}"#) == #"{"a":[1,1,1,1,1,1]}"#)
        #expect(try canonical(#"{"a":[-0,0,0.0,-0.0e-5,0E9]}"#) == #"{"a":[0,0,0,0,0]}"#)
        #expect(try canonical(#"{"a":[0.5,5e-1,1500,1.5e3,0.000001,1e-7,-2.50]}"#)
            == #"{"a":[0.5,0.5,1500,1500,0.000001,1e-7,-2.5]}"#)
        #expect(try canonical(#"{"a":123456789012345678901234567890}"#) == #"{"a":1.2345678901234567890123456789e29}"#)
        #expect(try canonical(#"{"a":[100000000000000000000,1e21,1.5e300,-3E-300]}"#)
            == #"{"a":[100000000000000000000,1e21,1.5e300,-3e-300]}"#)
        // Never through Double: 0.1 + tiny difference stays distinct.
        #expect(try canonical(#"{"a":0.10000000000000000001}"#) == #"{"a":0.10000000000000000001}"#)
    }

    @Test func stringsReescapedCanonically() throws {
        #expect(try canonical(#"{"\u0061":"\u0041\/\u00e9\ud83d\ude00\n\u0001\"\\"}"#)
            == "{\"a\":\"A/é😀\\n\\u0001\\\"\\\\\"}")
    }

    @Test func ignoredTopLevelFieldsRemovedOnlyAtTopLevel() throws {
        #expect(try canonical(#"{"stream":true,"user":"u","x":{"stream":1},"metadata":{"a":1},"store":false,"service_tier":"auto","stream_options":{"include_usage":true}}"#)
            == #"{"x":{"stream":1}}"#)
        #expect(try canonical(#"{"user":"u","seed":1}"#, ignored: ["seed"]) == #"{"user":"u"}"#)
    }

    @Test func extractsPolicyFacts() throws {
        let facts = try JSONCanonicalizer().canonicalize(Array(#"{"model":"deep\u0073eek-chat","stream":true,"stream_options":{"include_usage":true},"temperature":0.70,"top_p":1e0,"n":2}"#.utf8))
        #expect(facts.model == "deepseek-chat")
        #expect(facts.stream)
        #expect(facts.includeUsage)
        #expect(facts.temperature == 0.7)
        #expect(facts.topP == 1)
        #expect(facts.n == 2)
        let none = try JSONCanonicalizer().canonicalize(Array(#"{"messages":[{"stream":true}]}"#.utf8))
        #expect(none == RequestFacts())
    }

    @Test func rejectsWithTypedReasons() {
        #expect(reason(#"[1,2]"#) == .topLevelNotObject)
        #expect(reason(#""x""#) == .topLevelNotObject)
        #expect(reason(#"{"a":1,"a":2}"#) == .duplicateKey("a"))
        #expect(reason(#"{"a":1,"\u0061":2}"#) == .duplicateKey("a"))
        #expect(reason(#"{"a":1e99999999999}"#) == .numberOutOfRange(offset: 5))
        #expect(reason(String(repeating: "[", count: 10) + String(repeating: "]", count: 10), maxDepth: 128) == .topLevelNotObject)
        let deep = "{\"a\":" + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}"
        #expect(reason(deep) == .nestingTooDeep(limit: 128))
        for invalid in ["", "{", "{\"a\"}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":tru}",
                        "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00x\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\u{01}\"}", "{} x",
                        "{\"a\":1,}", "{,}", "{\"a\":[1,]}", "not json", "{\"a\":NaN}"] {
            if case .invalidJSON = reason(invalid) {} else { Issue.record("accepted or misclassified: \(invalid)") }
        }
        // Invalid UTF-8 bytes: overlong, surrogate, truncated.
        for bytes: [UInt8] in [[0x7B, 0x22, 0xC0, 0xAF, 0x22, 0x3A, 0x31, 0x7D], [0x7B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x3A, 0x31, 0x7D],
                               [0x7B, 0x22, 0xE2, 0x82, 0x22, 0x3A, 0x31, 0x7D]] {
            #expect(throws: NotCacheableReason.self) { try JSONCanonicalizer().canonicalize(bytes) }
        }
    }

    /// Cross-check with an independent parser: the canonical form means the same as the input.
    @Test func canonicalFormAgreesWithFoundation() throws {
        var rng = SplitMix(seed: 42)
        for _ in 0 ..< 300 {
            let text = JSONTestModel.render(JSONTestModel.randomBody(&rng), &rng)
            let canonicalText = try canonical(text, ignored: [])
            let original = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary
            let rewritten = try JSONSerialization.jsonObject(with: Data(canonicalText.utf8)) as? NSDictionary
            #expect(original != nil)
            #expect(original == rewritten, "\(text) -> \(canonicalText)")
            // Canonicalization is idempotent.
            #expect(try canonical(canonicalText, ignored: []) == canonicalText)
        }
    }
}
