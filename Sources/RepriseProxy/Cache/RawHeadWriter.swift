/// Appends a stored head's header lines to memory sized beforehand: the whole block goes into
/// its `ByteBuffer` in one call, where a `ByteBuffer` write per piece cost ~200 instructions
/// each (a Redis hit writes its head per hit, ~20 pieces).
struct RawHeadWriter {
    private let output: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ output: UnsafeMutableRawBufferPointer) {
        self.output = output
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        precondition(output.count - count >= bytes.count, "the head was sized before it was written")
        guard let source = bytes.baseAddress else { return }
        (output.baseAddress! + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// `name: value\r\n`
    mutating func appendHeader(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        append(name)
        append(": ")
        append(value)
        append("\r\n")
    }

    /// `value` ≥ 0 in decimal.
    mutating func appendDecimal(_ value: Int) {
        precondition(value >= 0, "a length")
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        precondition(output.count - count >= digits, "the head was sized before it was written")
        rest = value
        for index in stride(from: count + digits - 1, through: count, by: -1) {
            output[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        count += digits
    }

    /// Bytes `appendDecimal` may take.
    static let maxDecimalBytes = 20
}
