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
/// This runs on every cacheable request, so the string path (most of a chat body) avoids
/// per-byte work: runs of plain bytes are found 8 bytes at a time and copied whole; a string's
/// canonical form is written while it is parsed (a string without escapes is its own canonical
/// form, copied with its quotes in one append), and only member names and the top-level `model`
/// value are also kept unescaped. Members whose names already ascend stay where they were
/// written. The parser owns the scratch buffers for the duration of a call (moved out of the
/// class and back), so appending to them is a plain struct access with no runtime exclusivity
/// check; the bytes being written and the member names go to `ByteBuffer`s (no uniqueness check
/// or generic path per append) and are copied to `output` once, on success.
///
/// Not thread-safe: it owns reusable scratch buffers. One per event loop / thread.
public final class JSONCanonicalizer {
    /// Fields that never change the answer (DESIGN.md, cache key contract). Besides the chat
    /// ones, two of the Responses API: `safety_identifier` (its replacement for `user`: an
    /// end-user id for abuse monitoring) and `prompt_cache_key` (a hint that routes requests
    /// to the upstream's own prompt cache). `previous_response_id` is *not* among them: it names
    /// an immutable stored response, so it is part of the question (and keys are per tenant).
    public static let defaultIgnoredTopLevelFields = ["stream", "stream_options", "user", "metadata", "store", "service_tier",
                                                      "safety_identifier", "prompt_cache_key"]
    public static let defaultMaxDepth = 128

    public let maxDepth: Int
    private let ignored: [[UInt8]]
    /// Reused between calls (capacity kept); lent to the parser during a call.
    private var buffers = Buffers()
    /// The canonical bytes while they are written (copied to `output` on success), member
    /// names, and the scratch copy used to reorder members. Lent to the parser during a call
    /// and written back when it returns; freed in `deinit`.
    private var written = ByteBuffer(capacity: 4096)
    private var names = ByteBuffer(capacity: 512)
    private var reorder = ByteBuffer(capacity: 1024)

    /// The canonical bytes of the last `canonicalize` call when it succeeded (empty after a failure).
    public var output: [UInt8] { buffers.output }

    /// Array scratch storage of one canonicalization.
    private struct Buffers {
        /// The canonical bytes of the last call, when it succeeded.
        var output: [UInt8] = []
        /// Member records of the objects currently open (a stack).
        var members: [Member] = []
        var digits: [UInt8] = []
    }

    private struct Member {
        var keyStart: Int
        var keyEnd: Int
        /// The member's bytes in the written bytes (name, colon, value), without the separating comma.
        var outStart: Int
        var outEnd: Int
    }

    private enum ValueKind { case object, array, string, number, trueLiteral, falseLiteral, null }

    /// Which top-level member is being parsed, for `RequestFacts`.
    private enum TopLevelField { case other, stream, model, temperature, topP, n, streamOptions, conversation, background }

    public init(ignoredTopLevelFields: [String] = JSONCanonicalizer.defaultIgnoredTopLevelFields,
                maxDepth: Int = JSONCanonicalizer.defaultMaxDepth) {
        self.ignored = ignoredTopLevelFields.map { Array($0.utf8) }
        self.maxDepth = maxDepth
        buffers.output.reserveCapacity(4096)
    }

    deinit {
        written.deallocate()
        names.deallocate()
        reorder.deallocate()
    }

    /// Canonicalizes `body`; on success the result is in `output` and the policy facts are returned.
    public func canonicalize(_ body: UnsafeRawBufferPointer) throws(NotCacheableReason) -> RequestFacts {
        // Arrays are swapped out (a copy would make their next append copy them); the byte
        // buffers are copied in and written back, as growing may have moved their storage.
        // Nothing touches this instance's buffers until the `defer` has run.
        var lent = Buffers()
        swap(&lent, &buffers)
        lent.output.removeAll(keepingCapacity: true)
        lent.members.removeAll(keepingCapacity: true)
        written.removeAll()
        names.removeAll()
        var parser = Parser(bytes: body.bindMemory(to: UInt8.self), ignored: ignored, maxDepth: maxDepth,
                            buffers: lent, written: written, names: names, reorder: reorder)
        defer {
            swap(&parser.buffers, &buffers)
            written = parser.written
            names = parser.names
            reorder = parser.reorder
        }
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
        let ignored: [[UInt8]]
        let maxDepth: Int
        var buffers: Buffers
        /// The canonical bytes being written.
        var written: ByteBuffer
        /// Unescaped member names, appended as they are parsed; `Member` ranges point into it.
        /// Names of finished nested objects are not popped (one truncation less per object; it
        /// stays smaller than the body). Briefly also the unescaped top-level `model` value.
        var names: ByteBuffer
        /// An object's members in sorted order while they are reordered.
        var reorder: ByteBuffer
        var index = 0
        var facts = RequestFacts()
        /// The top-level members were reordered straight into `buffers.output`.
        var outputGathered = false

        init(bytes: UnsafeBufferPointer<UInt8>, ignored: [[UInt8]], maxDepth: Int, buffers: Buffers,
             written: ByteBuffer, names: ByteBuffer, reorder: ByteBuffer) {
            self.bytes = bytes
            self.ignored = ignored
            self.maxDepth = maxDepth
            self.buffers = buffers
            self.written = written
            self.names = names
            self.reorder = reorder
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
            guard index == bytes.count else {
                buffers.output.removeAll(keepingCapacity: true)
                throw .invalidJSON(offset: index, detail: "trailing bytes after the top-level value")
            }
            if !outputGathered { buffers.output.append(contentsOf: written.bytes(0 ..< written.count)) }
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
                if field == .model {
                    // The one value whose unescaped text is needed: borrow the end of `names`.
                    let valueStart = names.count
                    try parseString(keepingUnescaped: true)
                    facts.model = String(decoding: names.bytes(valueStart ..< names.count), as: UTF8.self)
                    names.truncate(to: valueStart)
                } else {
                    try parseString(keepingUnescaped: false)
                }
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
            written.append(expected)
            index += count
        }

        mutating func parseArray(depth: Int) throws(NotCacheableReason) {
            guard depth <= maxDepth else { throw .nestingTooDeep(limit: maxDepth) }
            index += 1
            written.append(UInt8(ascii: "["))
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                written.append(UInt8(ascii: "]"))
                return
            }
            while true {
                _ = try parseValue(depth: depth + 1, field: .other, topLevel: false)
                skipWhitespace()
                guard index < bytes.count else { throw fail("unterminated array") }
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: ",") {
                    written.append(UInt8(ascii: ","))
                } else if byte == UInt8(ascii: "]") {
                    written.append(UInt8(ascii: "]"))
                    return
                } else {
                    index -= 1
                    throw fail("expected , or ] in array")
                }
            }
        }

        /// Members are written in input order, comma-separated; `writeSortedMembers` leaves them
        /// there when their names already ascend (the common case for a canonical or sorted
        /// body, and for every object with one member) and reorders them otherwise.
        mutating func parseObject(depth: Int, topLevel: Bool, parentField: TopLevelField) throws(NotCacheableReason) {
            guard depth <= maxDepth else { throw .nestingTooDeep(limit: maxDepth) }
            index += 1
            let objectStart = written.count
            let memberBase = buffers.members.count
            written.append(UInt8(ascii: "{"))
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                written.append(UInt8(ascii: "}"))
                return
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                let separatorStart = written.count
                if buffers.members.count > memberBase { written.append(UInt8(ascii: ",")) }
                let outStart = written.count
                let keyStart = names.count
                try parseString(keepingUnescaped: true)
                let keyEnd = names.count
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected : after member name") }
                index += 1
                written.append(UInt8(ascii: ":"))

                let field: TopLevelField = topLevel ? topLevelField(keyStart ..< keyEnd) : .other
                let valueStart = written.count
                let kind = try parseValue(depth: depth + 1, field: field, topLevel: false)
                if topLevel {
                    recordFact(field: field, kind: kind, valueStart: valueStart)
                } else if parentField == .streamOptions, depth == 2,
                          keyEquals(keyStart ..< keyEnd, "include_usage") {
                    facts.includeUsage = kind == .trueLiteral
                }

                if topLevel && isIgnored(keyStart ..< keyEnd) {
                    written.truncate(to: separatorStart)
                    names.truncate(to: keyStart)
                } else {
                    buffers.members.append(Member(keyStart: keyStart, keyEnd: keyEnd, outStart: outStart, outEnd: written.count))
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
            try writeSortedMembers(objectStart: objectStart, memberBase: memberBase, topLevel: topLevel)
            buffers.members.removeSubrange(memberBase...)
        }

        mutating func recordFact(field: TopLevelField, kind: ValueKind, valueStart: Int) {
            switch field {
            case .stream:
                facts.stream = kind == .trueLiteral
            case .model:
                // A string value was recorded by `parseValue` while it was parsed.
                if kind != .string { facts.model = nil }
            case .temperature, .topP, .n:
                guard kind == .number else { return }
                let text = String(decoding: written.bytes(valueStart ..< written.count), as: UTF8.self)
                if field == .temperature { facts.temperature = Double(text) }
                if field == .topP { facts.topP = Double(text) }
                if field == .n { facts.n = Int(text) }
            case .conversation:
                facts.conversation = kind != .null
            case .background:
                facts.background = kind == .trueLiteral
            case .other, .streamOptions:
                break
            }
        }

        func topLevelField(_ key: Range<Int>) -> TopLevelField {
            if keyEquals(key, "stream") { return .stream }
            if keyEquals(key, "model") { return .model }
            if keyEquals(key, "temperature") { return .temperature }
            if keyEquals(key, "top_p") { return .topP }
            if keyEquals(key, "n") { return .n }
            if keyEquals(key, "stream_options") { return .streamOptions }
            if keyEquals(key, "conversation") { return .conversation }
            if keyEquals(key, "background") { return .background }
            return .other
        }

        /// Whether the unescaped member name at `key` in `names` is `name`.
        func keyEquals(_ key: Range<Int>, _ name: StaticString) -> Bool {
            guard key.count == name.utf8CodeUnitCount else { return false }
            let expected = name.utf8Start
            for offset in 0 ..< key.count where names[key.lowerBound + offset] != expected[offset] { return false }
            return true
        }

        func isIgnored(_ key: Range<Int>) -> Bool {
            for field in ignored where field.count == key.count {
                if names.bytes(key).elementsEqual(field) { return true }
            }
            return false
        }

        // MARK: Strings

        /// Parses a string starting at `"` and writes its canonical form to `written`; with
        /// `keepingUnescaped`, also appends its unescaped bytes to `names`.
        ///
        /// Runs of bytes that are their own canonical form (printable ASCII other than `"` and
        /// `\`, and validated multi-byte UTF-8) are copied whole; only escapes are rewritten.
        mutating func parseString(keepingUnescaped: Bool) throws(NotCacheableReason) {
            let openingQuote = index
            index += 1
            var runStart = index
            var escaped = false
            while true {
                skipPlainASCII()
                guard index < bytes.count else { throw fail("unterminated string") }
                let byte = bytes[index]
                switch byte {
                case 0x20 ..< 0x80 where byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\"):
                    // Fewer than 8 bytes were left for the word-at-a-time scan.
                    index += 1
                case 0x80 ... 0xFF:
                    try skipUTF8Sequence()
                case UInt8(ascii: "\""):
                    if escaped {
                        copyRun(from: runStart, keepingUnescaped: keepingUnescaped)
                        written.append(UInt8(ascii: "\""))
                    } else {
                        // No escape: the string, quotes included, is its own canonical form.
                        written.append(UnsafeBufferPointer(rebasing: bytes[openingQuote ... index]))
                        if keepingUnescaped {
                            names.append(UnsafeBufferPointer(rebasing: bytes[runStart ..< index]))
                        }
                    }
                    index += 1
                    return
                case UInt8(ascii: "\\"):
                    if !escaped {
                        written.append(UInt8(ascii: "\""))
                        escaped = true
                    }
                    copyRun(from: runStart, keepingUnescaped: keepingUnescaped)
                    try parseEscape(keepingUnescaped: keepingUnescaped)
                    runStart = index
                default:
                    throw fail("unescaped control character in string")
                }
            }
        }

        /// Copies `bytes[start ..< index]` (a validated run that needs no escaping).
        mutating func copyRun(from start: Int, keepingUnescaped: Bool) {
            guard index > start else { return }
            let run = UnsafeBufferPointer(rebasing: bytes[start ..< index])
            written.append(run)
            if keepingUnescaped { names.append(run) }
        }

        /// Advances `index` over printable ASCII other than `"` and `\`, 8 bytes at a time, and
        /// stops on the first other byte or when fewer than 8 bytes remain.
        mutating func skipPlainASCII() {
            guard let base = bytes.baseAddress else { return }
            while bytes.count - index >= 8 {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                let special = Self.specialBytes(word)
                if special == 0 {
                    index += 8
                } else {
                    // The lowest flagged byte is exactly the first special one (see `specialBytes`).
                    index += special.trailingZeroBitCount >> 3
                    return
                }
            }
        }

        /// The high bit of each byte of `word` (little-endian) that is not plain printable ASCII:
        /// `>= 0x80`, `< 0x20`, `"` or `\`. Above the first flagged byte a borrow may flag a
        /// plain byte too; the lowest flagged byte is always exact, and no flag means all 8 are
        /// plain (SWAR "has zero byte": `(x - 0x01…) & ~x & 0x80…`).
        @inline(__always)
        static func specialBytes(_ word: UInt64) -> UInt64 {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highBits: UInt64 = 0x8080_8080_8080_8080
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            let control = (word &- ones &* 0x20) & ~word
            let quoteZero = (quote &- ones) & ~quote
            let backslashZero = (backslash &- ones) & ~backslash
            return (word | control | quoteZero | backslashZero) & highBits
        }

        /// Parses one escape at `index` (the `\`) and writes its canonical form.
        mutating func parseEscape(keepingUnescaped: Bool) throws(NotCacheableReason) {
            guard index + 1 < bytes.count else { throw fail("truncated escape") }
            let escaped = bytes[index + 1]
            index += 2
            var scalar: UInt32
            switch escaped {
            case UInt8(ascii: "\""): scalar = 0x22
            case UInt8(ascii: "\\"): scalar = 0x5C
            case UInt8(ascii: "/"): scalar = 0x2F
            case UInt8(ascii: "b"): scalar = 0x08
            case UInt8(ascii: "f"): scalar = 0x0C
            case UInt8(ascii: "n"): scalar = 0x0A
            case UInt8(ascii: "r"): scalar = 0x0D
            case UInt8(ascii: "t"): scalar = 0x09
            case UInt8(ascii: "u"):
                scalar = try hex4()
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
            default:
                index -= 1
                throw fail("invalid escape")
            }
            writeEscaped(scalar)
            if keepingUnescaped { names.appendUTF8(scalar) }
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

        /// Writes the canonical form of one unescaped scalar: `"` `\` and `\b \f \n \r \t` as
        /// short escapes, other control characters as `\u00xx`, everything else as raw UTF-8.
        mutating func writeEscaped(_ scalar: UInt32) {
            let escape: UInt8
            switch scalar {
            case 0x22: escape = UInt8(ascii: "\"")
            case 0x5C: escape = UInt8(ascii: "\\")
            case 0x08: escape = UInt8(ascii: "b")
            case 0x0C: escape = UInt8(ascii: "f")
            case 0x0A: escape = UInt8(ascii: "n")
            case 0x0D: escape = UInt8(ascii: "r")
            case 0x09: escape = UInt8(ascii: "t")
            case 0x00 ..< 0x20:
                written.append("\\u00")
                written.append(Self.hexDigit(UInt8(scalar >> 4)))
                written.append(Self.hexDigit(UInt8(scalar & 0x0F)))
                return
            default:
                written.appendUTF8(scalar)
                return
            }
            written.append(UInt8(ascii: "\\"))
            written.append(escape)
        }

        static func hexDigit(_ value: UInt8) -> UInt8 {
            value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
        }

        /// Validates one multi-byte UTF-8 sequence at `index` (RFC 3629: no overlongs, no
        /// surrogates, nothing above U+10FFFF) and steps over it; it is copied with its run.
        mutating func skipUTF8Sequence() throws(NotCacheableReason) {
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
            index += length
        }

        // MARK: Numbers

        /// Parses a JSON number and writes its canonical decimal form (see the type's doc).
        mutating func parseNumber() throws(NotCacheableReason) {
            let start = index
            var negative = false
            if bytes[index] == UInt8(ascii: "-") {
                negative = true
                index += 1
            }
            buffers.digits.removeAll(keepingCapacity: true)
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("expected a digit") }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
                if index < bytes.count, isDigit(bytes[index]) { throw fail("leading zero in number") }
            } else {
                while index < bytes.count, isDigit(bytes[index]) {
                    buffers.digits.append(bytes[index])
                    index += 1
                }
            }
            var exponent = 0
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else { throw fail("expected a digit after .") }
                while index < bytes.count, isDigit(bytes[index]) {
                    buffers.digits.append(bytes[index])
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
            writeCanonicalNumber(negative: negative, exponent: exponent)
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        /// Writes `± digits × 10^exponent` (digits in `buffers.digits`, ASCII) canonically.
        mutating func writeCanonicalNumber(negative: Bool, exponent rawExponent: Int) {
            let digits = buffers.digits
            var first = 0
            while first < digits.count, digits[first] == UInt8(ascii: "0") { first += 1 }
            var last = digits.count
            var exponent = rawExponent
            while last > first, digits[last - 1] == UInt8(ascii: "0") {
                last -= 1
                exponent += 1
            }
            guard first < last else {
                written.append(UInt8(ascii: "0"))
                return
            }
            if negative { written.append(UInt8(ascii: "-")) }
            let significant = digits[first ..< last]
            let count = significant.count
            // Position of the decimal point relative to the first significant digit.
            let pointPosition = count + exponent
            if exponent >= 0, pointPosition <= 21 {
                written.append(significant)
                for _ in 0 ..< exponent { written.append(UInt8(ascii: "0")) }
            } else if exponent < 0, pointPosition > 0 {
                written.append(significant.prefix(pointPosition))
                written.append(UInt8(ascii: "."))
                written.append(significant.dropFirst(pointPosition))
            } else if exponent < 0, pointPosition > -6 {
                written.append("0.")
                for _ in 0 ..< -pointPosition { written.append(UInt8(ascii: "0")) }
                written.append(significant)
            } else {
                written.append(significant[first])
                if count > 1 {
                    written.append(UInt8(ascii: "."))
                    written.append(significant.dropFirst())
                }
                written.append(UInt8(ascii: "e"))
                let scientificExponent = pointPosition - 1
                if scientificExponent < 0 { written.append(UInt8(ascii: "-")) }
                for digit in String(scientificExponent.magnitude).utf8 { written.append(digit) }
            }
        }

        // MARK: Member order

        /// Closes the object that starts at `objectStart`, its members (from `memberBase`) in
        /// sorted name order. They were written in input order separated by commas: when the
        /// names already ascend strictly (so none is duplicated) they stay; otherwise they are
        /// sorted, checked for duplicates and rewritten (the top-level object into `output`).
        mutating func writeSortedMembers(objectStart: Int, memberBase: Int, topLevel: Bool) throws(NotCacheableReason) {
            let keys = names.bytes(0 ..< names.count)
            let ascending = buffers.members.withUnsafeBufferPointer { members in
                var position = memberBase + 1
                while position < members.count {
                    if !Self.name(of: members[position - 1], in: keys, precedes: members[position]) { return false }
                    position += 1
                }
                return true
            }
            if ascending {
                written.append(UInt8(ascii: "}"))
                return
            }

            // In place (sorting an `ArraySlice` would allocate a copy).
            buffers.members.withUnsafeMutableBufferPointer { members in
                var openMembers = UnsafeMutableBufferPointer(rebasing: members[memberBase...])
                openMembers.sort { lhs, rhs in
                    Self.name(of: lhs, in: keys, precedes: rhs)
                }
            }
            let members = buffers.members
            for position in memberBase + 1 ..< members.count {
                let previous = members[position - 1], current = members[position]
                let currentName = keys[current.keyStart ..< current.keyEnd]
                if keys[previous.keyStart ..< previous.keyEnd].elementsEqual(currentName) {
                    throw .duplicateKey(String(decoding: currentName, as: UTF8.self))
                }
            }
            if topLevel {
                // The top-level object is the whole result: gather its members straight into
                // `output` (two copies of the body fewer; `messages` usually precedes `model`).
                buffers.output.append(UInt8(ascii: "{"))
                for position in memberBase ..< members.count {
                    if position > memberBase { buffers.output.append(UInt8(ascii: ",")) }
                    buffers.output.append(contentsOf: written.bytes(members[position].outStart ..< members[position].outEnd))
                }
                buffers.output.append(UInt8(ascii: "}"))
                outputGathered = true
                return
            }
            // The sorted members with the same commas have the same length as what is there:
            // build them in the scratch buffer and copy them over it.
            reorder.removeAll()
            for position in memberBase ..< members.count {
                if position > memberBase { reorder.append(UInt8(ascii: ",")) }
                reorder.append(written.bytes(members[position].outStart ..< members[position].outEnd))
            }
            written.overwrite(at: objectStart + 1, with: reorder.bytes(0 ..< reorder.count))
            written.append(UInt8(ascii: "}"))
        }

        /// Whether the unescaped name of `lhs` sorts strictly before that of `rhs` (bytewise).
        static func name(of lhs: Member, in keys: UnsafeBufferPointer<UInt8>, precedes rhs: Member) -> Bool {
            let lhsCount = lhs.keyEnd - lhs.keyStart, rhsCount = rhs.keyEnd - rhs.keyStart
            var offset = 0
            while offset < lhsCount, offset < rhsCount {
                let left = keys[lhs.keyStart + offset], right = keys[rhs.keyStart + offset]
                if left != right { return left < right }
                offset += 1
            }
            return lhsCount < rhsCount
        }
    }

    // MARK: - Byte buffer

    /// A growable byte buffer for the parser's appends. Unlike `[UInt8]` it has no uniqueness
    /// check and no generic `append(contentsOf:)` path per call, which the parser makes a few
    /// hundred times per kilobyte. A value copy shares the storage: it is owned by one
    /// `JSONCanonicalizer` (lent to one parser at a time, written back, freed in `deinit`) and
    /// its pointer never leaves this file.
    private struct ByteBuffer {
        private var base: UnsafeMutablePointer<UInt8>
        private var capacity: Int
        private(set) var count = 0

        init(capacity: Int) {
            base = .allocate(capacity: capacity)
            self.capacity = capacity
        }

        func deallocate() { base.deallocate() }

        subscript(position: Int) -> UInt8 { base[position] }

        /// The bytes in `range` (valid until the next append).
        func bytes(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
        }

        mutating func removeAll() { count = 0 }

        mutating func truncate(to newCount: Int) { count = newCount }

        @inline(__always)
        mutating func append(_ byte: UInt8) {
            if count == capacity { grow(toAtLeast: count + 1) }
            base[count] = byte
            count += 1
        }

        @inline(__always)
        mutating func append(_ source: UnsafeBufferPointer<UInt8>) {
            guard let start = source.baseAddress, source.count > 0 else { return }
            if capacity - count < source.count { grow(toAtLeast: count + source.count) }
            (base + count).update(from: start, count: source.count)
            count += source.count
        }

        mutating func append(_ text: StaticString) {
            append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }

        mutating func append(_ digits: ArraySlice<UInt8>) {
            for digit in digits { append(digit) }
        }

        mutating func appendUTF8(_ scalar: UInt32) {
            switch scalar {
            case 0 ..< 0x80:
                append(UInt8(scalar))
            case 0x80 ..< 0x800:
                append(UInt8(0xC0 | (scalar >> 6)))
                append(UInt8(0x80 | (scalar & 0x3F)))
            case 0x800 ..< 0x10000:
                append(UInt8(0xE0 | (scalar >> 12)))
                append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
                append(UInt8(0x80 | (scalar & 0x3F)))
            default:
                append(UInt8(0xF0 | (scalar >> 18)))
                append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
                append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
                append(UInt8(0x80 | (scalar & 0x3F)))
            }
        }

        /// Replaces `source.count` bytes from `position` (all within `count`).
        mutating func overwrite(at position: Int, with source: UnsafeBufferPointer<UInt8>) {
            precondition(position >= 0 && position + source.count <= count, "overwrite past the written bytes")
            guard let start = source.baseAddress else { return }
            (base + position).update(from: start, count: source.count)
        }

        @inline(never)
        private mutating func grow(toAtLeast minimum: Int) {
            let newCapacity = max(minimum, capacity * 2)
            let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            newBase.initialize(from: base, count: count)
            base.deallocate()
            base = newBase
            capacity = newCapacity
        }
    }
}
