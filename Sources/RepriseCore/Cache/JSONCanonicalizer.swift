/// Rewrites a JSON request body into one canonical byte form, in a single pass over the bytes.
///
/// Canonical form (two bodies that mean the same request produce the same bytes):
/// - no insignificant whitespace;
/// - object members sorted by the bytes of their *unescaped* UTF-8 names; duplicate names are
///   rejected (`NotCacheableReason.duplicateKey`);
/// - strings re-escaped one way: `"` `\\` and `\b \f \n \r \t` as short escapes, other control
///   characters as `\u00xx`, everything else (including `/` and non-ASCII) as raw UTF-8, so
///   `"\u0041"` == `"A"`. Lone surrogate escapes and invalid UTF-8 are rejected;
/// - numbers by exact decimal normalisation, never through binary floating point: the value is
///   `sign × digits × 10^exp` with leading and trailing zeros of `digits` removed. Zero, in every
///   spelling (`0`, `-0`, `0.0`, `0e7`), is written `0` — `-0` counts as `0`. Otherwise plain
///   notation when it fits in 21 significant positions (`1`, `1.0`, `1e0`, `10E-1` all give `1`;
///   `0.5`, `1500`, `0.000001`), scientific `d.ddde±x` beyond that. Big integers keep every digit;
///   `1` and `1.0` are the same number;
/// - top-level members whose names are in `ignoredTopLevelFields` are dropped.
///
/// Not thread-safe: it owns reusable scratch buffers. One per event loop / thread.
public final class JSONCanonicalizer {
    /// Fields that never change the answer (DESIGN.md, cache key contract).
    public static let defaultIgnoredTopLevelFields = ["stream", "stream_options", "user", "metadata", "store", "service_tier"]
    public static let defaultMaxDepth = 128

    public let maxDepth: Int
    private let ignored: [[UInt8]]

    /// The canonical bytes of the last successful `canonicalize` call.
    public private(set) var output: [UInt8] = []
    /// Unescaped member names of the objects currently open (a stack).
    private var keyBytes: [UInt8] = []
    /// Member records of the objects currently open (a stack).
    private var members: [Member] = []
    /// Unescaped bytes of the string being parsed.
    private var stringBytes: [UInt8] = []
    /// Copy of an object's members while they are written back in sorted order.
    private var reorderScratch: [UInt8] = []
    private var digits: [UInt8] = []
    private var order: [Int] = []

    private struct Member {
        var keyStart: Int
        var keyEnd: Int
        var outStart: Int
        var outEnd: Int
    }

    private enum ValueKind { case object, array, string, number, trueLiteral, falseLiteral, null }

    /// Which top-level member is being parsed, for `RequestFacts`.
    private enum TopLevelField { case other, stream, model, temperature, topP, n, streamOptions }

    public init(ignoredTopLevelFields: [String] = JSONCanonicalizer.defaultIgnoredTopLevelFields,
                maxDepth: Int = JSONCanonicalizer.defaultMaxDepth) {
        self.ignored = ignoredTopLevelFields.map { Array($0.utf8) }
        self.maxDepth = maxDepth
        output.reserveCapacity(4096)
    }

    /// Canonicalizes `body`; on success the result is in `output` and the policy facts are returned.
    public func canonicalize(_ body: UnsafeRawBufferPointer) throws(NotCacheableReason) -> RequestFacts {
        output.removeAll(keepingCapacity: true)
        keyBytes.removeAll(keepingCapacity: true)
        members.removeAll(keepingCapacity: true)
        var parser = Parser(bytes: body.bindMemory(to: UInt8.self), owner: self)
        return try parser.run()
    }

    public func canonicalize<Bytes: Collection>(_ body: Bytes) throws(NotCacheableReason) -> RequestFacts
    where Bytes.Element == UInt8 {
        let result: Result<RequestFacts, NotCacheableReason>? = body.withContiguousStorageIfAvailable { buffer in
            Result { () throws(NotCacheableReason) -> RequestFacts in try canonicalize(UnsafeRawBufferPointer(buffer)) }
        }
        if let result { return try result.get() }
        let copy = Array(body)
        let copied: Result<RequestFacts, NotCacheableReason> = copy.withUnsafeBytes { raw in
            Result { () throws(NotCacheableReason) -> RequestFacts in try canonicalize(raw) }
        }
        return try copied.get()
    }

    // MARK: - Parser

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        let owner: JSONCanonicalizer
        var index = 0
        var facts = RequestFacts()

        init(bytes: UnsafeBufferPointer<UInt8>, owner: JSONCanonicalizer) {
            self.bytes = bytes
            self.owner = owner
        }

        mutating func run() throws(NotCacheableReason) -> RequestFacts {
            skipWhitespace()
            guard index < bytes.count else { throw .invalidJSON(offset: index, detail: "empty body") }
            guard bytes[index] == UInt8(ascii: "{") else {
                // Still reject non-JSON as invalid rather than "not an object".
                _ = try parseValue(depth: 1, field: .other, topLevel: false)
                skipWhitespace()
                if index != bytes.count { throw .invalidJSON(offset: index, detail: "trailing bytes") }
                throw .topLevelNotObject
            }
            _ = try parseValue(depth: 1, field: .other, topLevel: true)
            skipWhitespace()
            guard index == bytes.count else { throw .invalidJSON(offset: index, detail: "trailing bytes after the top-level value") }
            return facts
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        func fail(_ detail: String) -> NotCacheableReason { .invalidJSON(offset: index, detail: detail) }

        mutating func parseValue(depth: Int, field: TopLevelField, topLevel: Bool) throws(NotCacheableReason) -> ValueKind {
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                try parseObject(depth: depth, topLevel: topLevel, parentField: field)
                return .object
            case UInt8(ascii: "["):
                try parseArray(depth: depth)
                return .array
            case UInt8(ascii: "\""):
                try parseString()
                owner.writeEscaped(owner.stringBytes)
                return .string
            case UInt8(ascii: "t"):
                try literal("true")
                return .trueLiteral
            case UInt8(ascii: "f"):
                try literal("false")
                return .falseLiteral
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"):
                try parseNumber()
                return .number
            default:
                throw fail("unexpected byte 0x\(String(bytes[index], radix: 16))")
            }
        }

        mutating func literal(_ word: StaticString) throws(NotCacheableReason) {
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count else { throw fail("truncated literal") }
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
            for offset in 0 ..< count where bytes[index + offset] != expected[offset] {
                throw fail("invalid literal")
            }
            owner.output.append(contentsOf: expected)
            index += count
        }

        mutating func parseArray(depth: Int) throws(NotCacheableReason) {
            guard depth <= owner.maxDepth else { throw .nestingTooDeep(limit: owner.maxDepth) }
            index += 1
            owner.output.append(UInt8(ascii: "["))
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                owner.output.append(UInt8(ascii: "]"))
                return
            }
            while true {
                _ = try parseValue(depth: depth + 1, field: .other, topLevel: false)
                skipWhitespace()
                guard index < bytes.count else { throw fail("unterminated array") }
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: ",") {
                    owner.output.append(UInt8(ascii: ","))
                } else if byte == UInt8(ascii: "]") {
                    owner.output.append(UInt8(ascii: "]"))
                    return
                } else {
                    index -= 1
                    throw fail("expected , or ] in array")
                }
            }
        }

        mutating func parseObject(depth: Int, topLevel: Bool, parentField: TopLevelField) throws(NotCacheableReason) {
            guard depth <= owner.maxDepth else { throw .nestingTooDeep(limit: owner.maxDepth) }
            index += 1
            let objectStart = owner.output.count
            let memberBase = owner.members.count
            let keyBase = owner.keyBytes.count
            owner.output.append(UInt8(ascii: "{"))
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                owner.output.append(UInt8(ascii: "}"))
                return
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                let outStart = owner.output.count
                try parseString()
                let keyStart = owner.keyBytes.count
                owner.keyBytes.append(contentsOf: owner.stringBytes)
                let keyEnd = owner.keyBytes.count
                owner.writeEscaped(owner.stringBytes)
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected : after member name") }
                index += 1
                owner.output.append(UInt8(ascii: ":"))

                let field: TopLevelField = topLevel ? owner.topLevelField(keyStart ..< keyEnd) : .other
                let valueStart = owner.output.count
                let kind = try parseValue(depth: depth + 1, field: field, topLevel: false)
                if topLevel {
                    recordFact(field: field, kind: kind, valueStart: valueStart)
                } else if parentField == .streamOptions, depth == 2,
                          owner.keyBytes[keyStart ..< keyEnd].elementsEqual("include_usage".utf8) {
                    facts.includeUsage = kind == .trueLiteral
                }

                if topLevel && owner.isIgnored(keyStart ..< keyEnd) {
                    owner.output.removeSubrange(outStart...)
                    owner.keyBytes.removeSubrange(keyStart...)
                } else {
                    owner.members.append(Member(keyStart: keyStart, keyEnd: keyEnd, outStart: outStart, outEnd: owner.output.count))
                }

                skipWhitespace()
                guard index < bytes.count else { throw fail("unterminated object") }
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: ",") { continue }
                if byte == UInt8(ascii: "}") { break }
                index -= 1
                throw fail("expected , or } in object")
            }
            try owner.writeSortedMembers(objectStart: objectStart, memberBase: memberBase)
            owner.members.removeSubrange(memberBase...)
            owner.keyBytes.removeSubrange(keyBase...)
        }

        mutating func recordFact(field: TopLevelField, kind: ValueKind, valueStart: Int) {
            switch field {
            case .stream:
                facts.stream = kind == .trueLiteral
            case .model:
                facts.model = kind == .string ? String(decoding: owner.stringBytes, as: UTF8.self) : nil
            case .temperature, .topP, .n:
                guard kind == .number else { return }
                let text = String(decoding: owner.output[valueStart...], as: UTF8.self)
                if field == .temperature { facts.temperature = Double(text) }
                if field == .topP { facts.topP = Double(text) }
                if field == .n { facts.n = Int(text) }
            case .other, .streamOptions:
                break
            }
        }

        /// Parses a string starting at `"`, leaving its unescaped bytes in `owner.stringBytes`.
        mutating func parseString() throws(NotCacheableReason) {
            index += 1
            owner.stringBytes.removeAll(keepingCapacity: true)
            while true {
                guard index < bytes.count else { throw fail("unterminated string") }
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return
                case UInt8(ascii: "\\"):
                    try parseEscape()
                case 0x00 ..< 0x20:
                    throw fail("unescaped control character in string")
                case 0x20 ..< 0x80:
                    owner.stringBytes.append(byte)
                    index += 1
                default:
                    try copyUTF8Sequence()
                }
            }
        }

        mutating func parseEscape() throws(NotCacheableReason) {
            guard index + 1 < bytes.count else { throw fail("truncated escape") }
            let escaped = bytes[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "\""): owner.stringBytes.append(0x22)
            case UInt8(ascii: "\\"): owner.stringBytes.append(0x5C)
            case UInt8(ascii: "/"): owner.stringBytes.append(0x2F)
            case UInt8(ascii: "b"): owner.stringBytes.append(0x08)
            case UInt8(ascii: "f"): owner.stringBytes.append(0x0C)
            case UInt8(ascii: "n"): owner.stringBytes.append(0x0A)
            case UInt8(ascii: "r"): owner.stringBytes.append(0x0D)
            case UInt8(ascii: "t"): owner.stringBytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800 ..< 0xDC00).contains(scalar) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw fail("lone high surrogate escape")
                    }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00 ..< 0xE000).contains(low) else { throw fail("high surrogate not followed by a low one") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00 ..< 0xE000).contains(scalar) {
                    throw fail("lone low surrogate escape")
                }
                appendUTF8(scalar)
            default:
                index -= 1
                throw fail("invalid escape")
            }
        }

        mutating func hex4() throws(NotCacheableReason) -> UInt32 {
            guard bytes.count - index >= 4 else { throw fail("truncated \\u escape") }
            var value: UInt32 = 0
            for _ in 0 ..< 4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0") ... UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a") ... UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A") ... UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw fail("invalid hex digit in \\u escape")
                }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            return value
        }

        func appendUTF8(_ scalar: UInt32) {
            switch scalar {
            case 0 ..< 0x80:
                owner.stringBytes.append(UInt8(scalar))
            case 0x80 ..< 0x800:
                owner.stringBytes.append(UInt8(0xC0 | (scalar >> 6)))
                owner.stringBytes.append(UInt8(0x80 | (scalar & 0x3F)))
            case 0x800 ..< 0x10000:
                owner.stringBytes.append(UInt8(0xE0 | (scalar >> 12)))
                owner.stringBytes.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
                owner.stringBytes.append(UInt8(0x80 | (scalar & 0x3F)))
            default:
                owner.stringBytes.append(UInt8(0xF0 | (scalar >> 18)))
                owner.stringBytes.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
                owner.stringBytes.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
                owner.stringBytes.append(UInt8(0x80 | (scalar & 0x3F)))
            }
        }

        /// Validates one multi-byte UTF-8 sequence (RFC 3629: no overlongs, no surrogates,
        /// nothing above U+10FFFF) and copies it.
        mutating func copyUTF8Sequence() throws(NotCacheableReason) {
            let lead = bytes[index]
            let length: Int
            var lowerSecond: UInt8 = 0x80
            var upperSecond: UInt8 = 0xBF
            switch lead {
            case 0xC2 ... 0xDF: length = 2
            case 0xE0: length = 3; lowerSecond = 0xA0
            case 0xE1 ... 0xEC, 0xEE ... 0xEF: length = 3
            case 0xED: length = 3; upperSecond = 0x9F
            case 0xF0: length = 4; lowerSecond = 0x90
            case 0xF1 ... 0xF3: length = 4
            case 0xF4: length = 4; upperSecond = 0x8F
            default: throw fail("invalid UTF-8 lead byte")
            }
            guard bytes.count - index >= length else { throw fail("truncated UTF-8 sequence") }
            let second = bytes[index + 1]
            guard second >= lowerSecond, second <= upperSecond else { throw fail("invalid UTF-8 continuation") }
            for offset in 2 ..< max(length, 2) where bytes[index + offset] & 0xC0 != 0x80 {
                throw fail("invalid UTF-8 continuation")
            }
            owner.stringBytes.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index ..< index + length]))
            index += length
        }

        /// Parses a JSON number and writes its canonical decimal form (see the type's doc).
        mutating func parseNumber() throws(NotCacheableReason) {
            let start = index
            var negative = false
            if bytes[index] == UInt8(ascii: "-") {
                negative = true
                index += 1
            }
            owner.digits.removeAll(keepingCapacity: true)
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("expected a digit") }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
                if index < bytes.count, isDigit(bytes[index]) { throw fail("leading zero in number") }
            } else {
                while index < bytes.count, isDigit(bytes[index]) {
                    owner.digits.append(bytes[index])
                    index += 1
                }
            }
            var exponent = 0
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else { throw fail("expected a digit after .") }
                while index < bytes.count, isDigit(bytes[index]) {
                    owner.digits.append(bytes[index])
                    exponent -= 1
                    index += 1
                }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                var exponentNegative = false
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    exponentNegative = bytes[index] == UInt8(ascii: "-")
                    index += 1
                }
                guard index < bytes.count, isDigit(bytes[index]) else { throw fail("expected a digit in exponent") }
                var written = 0
                while index < bytes.count, isDigit(bytes[index]) {
                    written = written * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                    // Bounded so `exponent` arithmetic below never overflows.
                    if written > 1_000_000_000 { throw .numberOutOfRange(offset: start) }
                    index += 1
                }
                exponent += exponentNegative ? -written : written
            }
            owner.writeCanonicalNumber(negative: negative, exponent: exponent)
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    }

    // MARK: - Writing

    private func topLevelField(_ key: Range<Int>) -> TopLevelField {
        let name = keyBytes[key]
        if name.elementsEqual("stream".utf8) { return .stream }
        if name.elementsEqual("model".utf8) { return .model }
        if name.elementsEqual("temperature".utf8) { return .temperature }
        if name.elementsEqual("top_p".utf8) { return .topP }
        if name.elementsEqual("n".utf8) { return .n }
        if name.elementsEqual("stream_options".utf8) { return .streamOptions }
        return .other
    }

    private func isIgnored(_ key: Range<Int>) -> Bool {
        let name = keyBytes[key]
        for field in ignored where name.elementsEqual(field) { return true }
        return false
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    fileprivate func writeEscaped(_ string: [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in string {
            switch byte {
            case 0x22: output.append(0x5C); output.append(0x22)
            case 0x5C: output.append(0x5C); output.append(0x5C)
            case 0x08: output.append(0x5C); output.append(UInt8(ascii: "b"))
            case 0x0C: output.append(0x5C); output.append(UInt8(ascii: "f"))
            case 0x0A: output.append(0x5C); output.append(UInt8(ascii: "n"))
            case 0x0D: output.append(0x5C); output.append(UInt8(ascii: "r"))
            case 0x09: output.append(0x5C); output.append(UInt8(ascii: "t"))
            case 0x00 ..< 0x20:
                output.append(contentsOf: "\\u00".utf8)
                output.append(Self.hexDigits[Int(byte >> 4)])
                output.append(Self.hexDigits[Int(byte & 0x0F)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Writes `± digits × 10^exponent` (digits in `self.digits`, ASCII) canonically.
    fileprivate func writeCanonicalNumber(negative: Bool, exponent rawExponent: Int) {
        var first = 0
        while first < digits.count, digits[first] == UInt8(ascii: "0") { first += 1 }
        var last = digits.count
        var exponent = rawExponent
        while last > first, digits[last - 1] == UInt8(ascii: "0") {
            last -= 1
            exponent += 1
        }
        guard first < last else {
            output.append(UInt8(ascii: "0"))
            return
        }
        if negative { output.append(UInt8(ascii: "-")) }
        let significant = digits[first ..< last]
        let count = significant.count
        // Position of the decimal point relative to the first significant digit.
        let pointPosition = count + exponent
        if exponent >= 0, pointPosition <= 21 {
            output.append(contentsOf: significant)
            for _ in 0 ..< exponent { output.append(UInt8(ascii: "0")) }
        } else if exponent < 0, pointPosition > 0 {
            output.append(contentsOf: significant.prefix(pointPosition))
            output.append(UInt8(ascii: "."))
            output.append(contentsOf: significant.dropFirst(pointPosition))
        } else if exponent < 0, pointPosition > -6 {
            output.append(contentsOf: "0.".utf8)
            for _ in 0 ..< -pointPosition { output.append(UInt8(ascii: "0")) }
            output.append(contentsOf: significant)
        } else {
            output.append(significant[first])
            if count > 1 {
                output.append(UInt8(ascii: "."))
                output.append(contentsOf: significant.dropFirst())
            }
            output.append(UInt8(ascii: "e"))
            let scientificExponent = pointPosition - 1
            if scientificExponent < 0 { output.append(UInt8(ascii: "-")) }
            output.append(contentsOf: String(scientificExponent.magnitude).utf8)
        }
    }

    /// Rewrites the members of the object that starts at `objectStart` in sorted name order,
    /// separated by commas, and closes it. Members were written back to back with no commas.
    fileprivate func writeSortedMembers(objectStart: Int, memberBase: Int) throws(NotCacheableReason) {
        let count = members.count - memberBase
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: memberBase ..< members.count)
        order.sort { lhs, rhs in
            keyBytes[members[lhs].keyStart ..< members[lhs].keyEnd]
                .lexicographicallyPrecedes(keyBytes[members[rhs].keyStart ..< members[rhs].keyEnd])
        }
        for position in 1 ..< max(count, 1) {
            let previous = members[order[position - 1]], current = members[order[position]]
            if keyBytes[previous.keyStart ..< previous.keyEnd].elementsEqual(keyBytes[current.keyStart ..< current.keyEnd]) {
                throw .duplicateKey(String(decoding: keyBytes[current.keyStart ..< current.keyEnd], as: UTF8.self))
            }
        }
        let contentStart = objectStart + 1
        reorderScratch.removeAll(keepingCapacity: true)
        reorderScratch.append(contentsOf: output[contentStart...])
        output.removeSubrange(contentStart...)
        for (position, memberIndex) in order.enumerated() {
            if position > 0 { output.append(UInt8(ascii: ",")) }
            let member = members[memberIndex]
            output.append(contentsOf: reorderScratch[(member.outStart - contentStart) ..< (member.outEnd - contentStart)])
        }
        output.append(UInt8(ascii: "}"))
    }
}
