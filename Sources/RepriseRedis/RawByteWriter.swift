import NIOCore

/// Appends bytes to memory sized beforehand, for a message assembled from many small pieces:
/// the whole goes into its `ByteBuffer` in one `writeWithUnsafeMutableBytes` call, where a
/// `ByteBuffer` write per piece costs ~200 instructions (a Redis `GET` is ~14 pieces, a stored
/// response head ~20, both written per Redis hit). Shared with the proxy's stored heads.
public struct RawByteWriter {
    @usableFromInline let output: UnsafeMutableRawBufferPointer
    /// Bytes written so far.
    @usableFromInline var _count = 0
    @inlinable public var count: Int { _count }

    @inlinable
    public init(_ output: UnsafeMutableRawBufferPointer) {
        self.output = output
    }

    @inlinable
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        precondition(output.count - count >= bytes.count, "the output was sized before it was written")
        guard let source = bytes.baseAddress else { return }
        (output.baseAddress! + _count).copyMemory(from: source, byteCount: bytes.count)
        _count += bytes.count
    }

    @inlinable
    public mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Named apart from `append(_: StaticString)`: a literal would pick a `String` overload.
    @inlinable
    public mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// `name: value\r\n`
    @inlinable
    public mutating func appendHeader(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        append(name)
        append(": ")
        append(value)
        append("\r\n")
    }

    /// `value` ≥ 0 (a length or a count) in decimal.
    @inlinable
    public mutating func appendDecimal(_ value: Int) {
        precondition(value >= 0, "a length or a count")
        let digits = Self.decimalDigits(value)
        precondition(output.count - count >= digits, "the output was sized before it was written")
        var rest = value
        for index in stride(from: count + digits - 1, through: count, by: -1) {
            output[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        _count += digits
    }

    /// Digits of `value` ≥ 0 in decimal.
    @inlinable
    public static func decimalDigits(_ value: Int) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        return digits
    }

    /// Bytes `appendDecimal` may take.
    public static let maxDecimalBytes = 20

    /// `value` in lowercase hexadecimal, as `String(value, radix: 16)` spells it (a request id).
    @inlinable
    public mutating func appendHex(_ value: UInt64) {
        var digits = 1
        var rest = value >> 4
        while rest > 0 {
            digits += 1
            rest >>= 4
        }
        precondition(output.count - count >= digits, "the output was sized before it was written")
        rest = value
        for index in stride(from: count + digits - 1, through: count, by: -1) {
            let nibble = UInt8(truncatingIfNeeded: rest & 0xF)
            output[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
            rest >>= 4
        }
        _count += digits
    }
}

extension ByteBuffer {
    /// Writes at most `maximum` bytes through a `RawByteWriter`, in one reservation.
    @inlinable
    public mutating func writeRaw(maximum: Int, _ write: (inout RawByteWriter) -> Void) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: maximum) { output in
            var writer = RawByteWriter(output)
            write(&writer)
            return writer.count
        }
    }
}
