import NIOCore

/// Writes commands as RESP, binary-safe: `*<count>\r\n`, then `$<length>\r\n<bytes>\r\n` per
/// argument. Done once, when a `RedisCommand` is made, straight into the buffer the connection
/// writes (hiredis's `redisFormatCommandArgv` cost a `malloc`, a `free` and a copy per command).
enum RESPFormatter {
    /// Bytes the RESP form of arguments of these lengths takes.
    static func byteCount(argumentLengths: some Sequence<Int>) -> Int {
        var count = 0
        var total = 0
        for length in argumentLengths {
            count += 1
            total += bulkByteCount(length)
        }
        return arrayHeaderByteCount(count) + total
    }

    /// `*<count>\r\n`
    static func arrayHeaderByteCount(_ count: Int) -> Int { 1 + decimalDigits(count) + 2 }

    /// `$<length>\r\n<bytes>\r\n`
    static func bulkByteCount(_ length: Int) -> Int { 1 + decimalDigits(length) + 2 + length + 2 }

    static func writeArrayHeader(count: Int, into output: inout ByteBuffer) {
        output.writeInteger(UInt8(ascii: "*"))
        writeDecimal(count, into: &output)
        output.writeStaticString("\r\n")
    }

    static func writeBulk(_ argument: ByteBuffer, into output: inout ByteBuffer) {
        writeBulkLength(argument.readableBytes, into: &output)
        output.writeImmutableBuffer(argument)
        output.writeStaticString("\r\n")
    }

    static func writeBulk(_ argument: String, into output: inout ByteBuffer) {
        writeBulkLength(argument.utf8.count, into: &output)
        output.writeString(argument)
        output.writeStaticString("\r\n")
    }

    private static func writeBulkLength(_ length: Int, into output: inout ByteBuffer) {
        output.writeInteger(UInt8(ascii: "$"))
        writeDecimal(length, into: &output)
        output.writeStaticString("\r\n")
    }

    /// A command's RESP form, as the connection writes it.
    static func write(_ command: RedisCommand, into output: inout ByteBuffer) {
        output.writeImmutableBuffer(command.wire)
    }

    static func decimalDigits(_ value: Int) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        return digits
    }

    /// `value` ≥ 0 (a length or a count) in decimal ASCII, without an intermediate String.
    static func writeDecimal(_ value: Int, into output: inout ByteBuffer) {
        precondition(value >= 0, "RESP lengths and counts are not negative")
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            output.writeInteger(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
