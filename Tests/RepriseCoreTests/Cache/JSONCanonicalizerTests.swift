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

// MARK: - String runs, member order (the paths that copy plain runs whole and keep ascending members in place)

extension JSONCanonicalizerTests {
    /// The canonical spelling of a string, written independently of the canonicalizer: one rule per scalar.
    static func canonicalSpelling(_ value: String) -> String {
        let hex = Array("0123456789abcdef")
        var spelled = "\""
        for scalar in value.unicodeScalars {
            switch scalar.value {
            case 0x22: spelled += "\\\""
            case 0x5C: spelled += "\\\\"
            case 0x08: spelled += "\\b"
            case 0x0C: spelled += "\\f"
            case 0x0A: spelled += "\\n"
            case 0x0D: spelled += "\\r"
            case 0x09: spelled += "\\t"
            case 0 ..< 0x20: spelled += "\\u00" + String(hex[Int(scalar.value >> 4)]) + String(hex[Int(scalar.value & 0xF)])
            default: spelled.unicodeScalars.append(scalar)
            }
        }
        return spelled + "\""
    }

    /// An input spelling of `value`: scalars for which `escape` says so as `\u` escapes (a
    /// surrogate pair above the BMP, upper- or lower-case hex), the others raw where JSON allows it.
    static func inputSpelling(_ value: String, escape: (Int) -> Bool) -> String {
        var spelled = "\""
        for (position, scalar) in value.unicodeScalars.enumerated() {
            let units = Array(String(scalar).utf16)
            if escape(position) {
                for unit in units {
                    let digits = String(unit, radix: 16, uppercase: position % 3 == 0)
                    spelled += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
                }
            } else {
                switch scalar.value {
                case 0x22: spelled += "\\\""
                case 0x5C: spelled += "\\\\"
                case 0x2F where position % 2 == 1: spelled += "\\/"
                case 0x0A: spelled += "\\n"
                case 0 ..< 0x20: spelled += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                default: spelled.unicodeScalars.append(scalar)
                }
            }
        }
        return spelled + "\""
    }

    /// Strings with a plain run of every length around the 8-byte scan, then a byte that ends the
    /// run (multi-byte UTF-8, an escape, DEL, `/`), then another run; each as a member value, a
    /// member name and the `model` fact, spelled raw, fully escaped and mixed.
    @Test func longStringsWithRunsEscapesAndMultiByteUTF8() throws {
        let specials = ["é", "€", "😀", "中", "\u{7F}", "\"", "\\", "\n", "\t", "\u{01}", "\u{1F}", "/", "é😀\"\u{7F}", "!#[]~ "]
        var values: [String] = []
        for prefix in 0 ... 17 {
            for special in specials {
                for suffix in [0, 1, 9] {
                    values.append(String(repeating: "p", count: prefix) + special + String(repeating: "q", count: suffix))
                }
            }
        }
        // Every printable ASCII byte, including the neighbours of `"` (0x22) and `\` (0x5C), at every alignment.
        let printable = String((0x20 ... 0x7F).map { Character(Unicode.Scalar(UInt8($0))) })
        for length in 0 ... 40 {
            values.append(String(printable.dropFirst(length % 7).prefix(length)))
        }
        values.append(String(repeating: "abcdefgh", count: 300) + "é" + String(repeating: "\\", count: 17) + String(repeating: "xyz", count: 100))

        for value in values {
            let expected = Self.canonicalSpelling(value)
            let spellings = [Self.inputSpelling(value) { _ in false }, Self.inputSpelling(value) { _ in true },
                             Self.inputSpelling(value) { $0 % 2 == 0 }, Self.inputSpelling(value) { $0 % 5 == 4 }]
            for spelled in spellings {
                #expect(try canonical("{\"k\":\(spelled)}") == "{\"k\":\(expected)}", "value \(spelled)")
                #expect(try canonical("{ \(spelled) : [\(spelled)] }") == "{\(expected):[\(expected)]}", "name \(spelled)")
                let facts = try JSONCanonicalizer().canonicalize(Array("{\"model\":\(spelled),\"a\":{\"c\":1,\"b\":2}}".utf8))
                #expect(facts.model == value, "model \(spelled)")
            }
        }
    }

    /// Invalid bytes right after plain runs of every length: rejected with the offset of the bad
    /// byte, in a member value and in a member name.
    @Test func invalidUTF8AfterLongPlainRuns() {
        let cases: [([UInt8], String)] = [
            ([0x80], "invalid UTF-8 lead byte"),
            ([0xC0, 0xAF], "invalid UTF-8 lead byte"),
            ([0xF5, 0x80, 0x80, 0x80], "invalid UTF-8 lead byte"),
            ([0xFF], "invalid UTF-8 lead byte"),
            ([0xED, 0xA0, 0x80], "invalid UTF-8 continuation"),
            ([0xE0, 0x80, 0x80], "invalid UTF-8 continuation"),
            ([0xF4, 0x90, 0x80, 0x80], "invalid UTF-8 continuation"),
            ([0xE2, 0x82, 0x41], "invalid UTF-8 continuation"),
            ([0x01], "unescaped control character in string"),
            ([0x1F], "unescaped control character in string"),
        ]
        for runLength in 0 ... 25 {
            let run = [UInt8](repeating: UInt8(ascii: "a"), count: runLength)
            for (bad, detail) in cases {
                let inValue = Array(#"{"k":""#.utf8) + run + bad + Array(#"bbbbbbbbbb"}"#.utf8)
                #expect(reasonFor(inValue) == .invalidJSON(offset: 6 + runLength, detail: detail), "\(runLength) \(bad)")
                let inName = Array(#"{""#.utf8) + run + bad + Array(#"bbbbbbbbbb":1}"#.utf8)
                #expect(reasonFor(inName) == .invalidJSON(offset: 2 + runLength, detail: detail), "\(runLength) \(bad)")
            }
            let truncated = Array(#"{"k":""#.utf8) + run + [0xE2, 0x82]
            #expect(reasonFor(truncated) == .invalidJSON(offset: 6 + runLength, detail: "truncated UTF-8 sequence"))
            let unterminated = Array(#"{"k":""#.utf8) + run
            #expect(reasonFor(unterminated) == .invalidJSON(offset: unterminated.count, detail: "unterminated string"))
            let valid = Array(#"{"k":""#.utf8) + run + [0xF0, 0x9F, 0x98, 0x80] + run + Array(#""}"#.utf8)
            #expect(reasonFor(valid) == nil)
        }
    }

    func reasonFor(_ bytes: [UInt8]) -> NotCacheableReason? {
        do {
            _ = try JSONCanonicalizer().canonicalize(bytes)
            return nil
        } catch {
            return error
        }
    }

    /// One canonicalizer reused across a body far larger than its initial buffers, failures in
    /// the middle of a string and of an object, and small bodies: every success gives the same
    /// bytes as the first time, and a failure leaves `output` empty.
    @Test func reusedAcrossGrowthAndFailures() throws {
        let names = (0 ..< 2_000).map { "name-" + String(String($0).reversed()) + "-é" }
        let value = String(repeating: #"value with \"quotes\" and é "#, count: 3)
        let big = "{" + names.reversed().map { "\"\($0)\":[\"\(value)\",{\"z\":1,\"a\":\"\($0)\"}]" }.joined(separator: ",") + "}"
        let expectedBig = "{" + names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .map { "\"\($0)\":[\"\(value)\",{\"a\":\"\($0)\",\"z\":1}]" }.joined(separator: ",") + "}"
        let canonicalizer = JSONCanonicalizer()
        func run(_ text: String) -> String? {
            do {
                _ = try canonicalizer.canonicalize(Array(text.utf8))
                return String(decoding: canonicalizer.output, as: UTF8.self)
            } catch {
                #expect(canonicalizer.output.isEmpty)
                return nil
            }
        }
        #expect(run(#"{"b":1,"a":2}"#) == #"{"a":2,"b":1}"#)
        #expect(run(big) == expectedBig)
        #expect(run(String(big.dropLast(40))) == nil)
        #expect(run(#"{"b":"x","a":"\"#) == nil)
        #expect(run(#"{"b":1,"a":2} x"#) == nil)
        #expect(run(#"{"a":1,"b":2} {"#) == nil)
        #expect(run(#"{"b":1,"a":2}"#) == #"{"a":2,"b":1}"#)
        #expect(run(big) == expectedBig)
        #expect(run(#"{"y":{"b":[],"a":{}},"x":"\u00e9"}"#) == #"{"x":"é","y":{"a":{},"b":[]}}"#)
    }

    /// Members already in order are kept where they are written, the others are reordered;
    /// dropped top-level members leave no stray comma; duplicates are found in either case.
    @Test func memberOrderCommasAndDuplicates() throws {
        let table: [(String, String)] = [
            (#"{"a":1,"b":2,"c":3}"#, #"{"a":1,"b":2,"c":3}"#),
            (#"{"c":3,"b":2,"a":1}"#, #"{"a":1,"b":2,"c":3}"#),
            (#"{"b":1,"a":{"d":1,"c":2},"c":[{"f":1,"e":2},{"e":3}]}"#, #"{"a":{"c":2,"d":1},"b":1,"c":[{"e":2,"f":1},{"e":3}]}"#),
            (#"{"a":1,"stream":true,"b":2}"#, #"{"a":1,"b":2}"#),
            (#"{"stream":true,"a":1}"#, #"{"a":1}"#),
            (#"{"a":1,"user":"u"}"#, #"{"a":1}"#),
            (#"{"user":"u"}"#, "{}"),
            (#"{"user":"u","stream":false}"#, "{}"),
            (#"{"b":1,"user":{"x":{"y":2}},"a":2,"metadata":{}}"#, #"{"a":2,"b":1}"#),
            (#"{"\u0062":1,"a":2}"#, #"{"a":2,"b":1}"#),
            (#"{"ab":1,"a":2,"":3}"#, #"{"":3,"a":2,"ab":1}"#),
            (#"{"é":1,"z":2}"#, #"{"z":2,"é":1}"#),
            (#"{"a":{"a":1},"b":{"b":2,"a":3},"c":{"a":{"a":{}}}}"#, #"{"a":{"a":1},"b":{"a":3,"b":2},"c":{"a":{"a":{}}}}"#),
            (#"{"m":{"z":1,"y":2},"model":"x","a":[{"b":1,"a":0}]}"#, #"{"a":[{"a":0,"b":1}],"m":{"y":2,"z":1},"model":"x"}"#),
        ]
        for (input, expected) in table {
            #expect(try canonical(input) == expected, "\(input)")
        }
        #expect(reason(#"{"b":1,"a":2,"b":3}"#) == .duplicateKey("b"))
        #expect(reason(#"{"a":1,"b":2,"a":3}"#) == .duplicateKey("a"))
        #expect(reason(#"{"x":{"a":1,"a":2}}"#) == .duplicateKey("a"))
        #expect(reason(#"{"x":[{"b":1},{"c":1,"\u0063":2}]}"#) == .duplicateKey("c"))
    }
}
