/// A minimal read-only JSON walker over bytes, for the few fields the stream recorder reads from
/// each chunk (`model`, `choices[].finish_reason`, `usage`) without building a tree. Lenient by
/// design: anything it cannot read yields nil, never a trap.
struct JSONFieldScanner {
    let bytes: [UInt8]

    /// The members of the object at `start`: name (raw, unescaped only if it has no escapes) and value range.
    func members(ofObjectAt start: Int) -> [(name: ArraySlice<UInt8>, value: Range<Int>)]? {
        var index = skipWhitespace(start)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        index = skipWhitespace(index + 1)
        var result: [(name: ArraySlice<UInt8>, value: Range<Int>)] = []
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { return result }
        // An answer's objects have a handful of members: one allocation instead of a doubling per append.
        result.reserveCapacity(12)
        while true {
            guard let nameEnd = stringEnd(index) else { return nil }
            let name = bytes[(index + 1) ..< (nameEnd - 1)]
            index = skipWhitespace(nameEnd)
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            let valueStart = skipWhitespace(index + 1)
            guard let valueEnd = valueEnd(valueStart) else { return nil }
            result.append((name, valueStart ..< valueEnd))
            index = skipWhitespace(valueEnd)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "}") { return result }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index = skipWhitespace(index + 1)
        }
    }

    /// Element ranges of the array at `start`.
    func elements(ofArrayAt start: Int) -> [Range<Int>]? {
        var index = skipWhitespace(start)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else { return nil }
        index = skipWhitespace(index + 1)
        var result: [Range<Int>] = []
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { return result }
        result.reserveCapacity(4)
        while true {
            guard let end = valueEnd(index) else { return nil }
            result.append(index ..< end)
            index = skipWhitespace(end)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "]") { return result }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index = skipWhitespace(index + 1)
        }
    }

    /// Names compared as buffers, lengths first: `elementsEqual` of an array slice and a
    /// string's bytes for every member was 4% of a cacheable miss's instructions (callgrind).
    func member(_ name: String, in members: [(name: ArraySlice<UInt8>, value: Range<Int>)]) -> Range<Int>? {
        var name = name
        return name.withUTF8 { wanted in
            members.first { member in
                member.name.count == wanted.count && member.name.withUnsafeBufferPointer { $0.elementsEqual(wanted) }
            }?.value
        }
    }

    func isNull(_ range: Range<Int>) -> Bool { bytes[range].elementsEqual("null".utf8) }

    /// A string value without escapes (model names have none); nil otherwise. Validated from
    /// the array's buffer: from an array slice `String(validating:)` took ~1,700 instructions.
    func simpleString(_ range: Range<Int>) -> String? {
        guard range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "\""), !bytes[range].contains(UInt8(ascii: "\\")) else { return nil }
        return bytes.withUnsafeBufferPointer { buffer in
            String(validating: UnsafeBufferPointer(rebasing: buffer[(range.lowerBound + 1) ..< (range.upperBound - 1)]), as: UTF8.self)
        }
    }

    /// The integer `Int(_: String)` reads from the value's text (an optional sign, then decimal
    /// digits, nil when it overflows), read from the bytes without making that String.
    func integer(_ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= bytes.count else { return nil }
        var index = range.lowerBound
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative || bytes[index] == UInt8(ascii: "+") { index += 1 }
        guard index < range.upperBound else { return nil }
        var value = 0
        while index < range.upperBound {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (shifted, shiftOverflow) = value.multipliedReportingOverflow(by: 10)
            // Accumulated with the sign, so `Int.min` is read too.
            let (next, addOverflow) = negative
                ? shifted.subtractingReportingOverflow(Int(digit)) : shifted.addingReportingOverflow(Int(digit))
            guard !shiftOverflow, !addOverflow else { return nil }
            value = next
            index += 1
        }
        return value
    }

    func skipWhitespace(_ start: Int) -> Int {
        var index = start
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 { index += 1 }
        return index
    }

    /// End (exclusive) of the string starting with `"` at `start`.
    func stringEnd(_ start: Int) -> Int? {
        bytes.withUnsafeBufferPointer { Self.stringEnd(in: $0, from: start) }
    }

    /// End (exclusive) of the value at `start`, bracket-matched; strings skipped as a whole.
    func valueEnd(_ start: Int) -> Int? {
        bytes.withUnsafeBufferPointer { Self.valueEnd(in: $0, from: start) }
    }

    // The walks run over a buffer, not the array: they read every byte of the answer (more
    // than once for nested values), without an array access and bounds check per byte.

    private static func stringEnd(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start >= 0, start < bytes.count, bytes[start] == UInt8(ascii: "\"") else { return nil }
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return nil
    }

    private static func valueEnd(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start >= 0, start < bytes.count else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "\""): return stringEnd(in: bytes, from: start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var index = start
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard let end = stringEnd(in: bytes, from: index) else { return nil }
                    index = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                default: break
                }
                index += 1
            }
            return nil
        default:
            var index = start
            while index < bytes.count, !endsScalar(bytes[index]) { index += 1 }
            return index > start ? index : nil
        }
    }

    /// A byte that ends a number, `true`, `false` or `null`. A switch, not a search of a
    /// string's bytes: that search was made for every byte of every scalar (4% of a miss).
    static func endsScalar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
            true
        default:
            false
        }
    }
}
