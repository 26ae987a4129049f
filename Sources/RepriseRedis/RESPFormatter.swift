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

    /// The RESP form of arguments given by `forEachArgument`, which hands each one's bytes to
    /// the function it is given, in order; `byteCount` is what they take (`byteCount(argumentLengths:)`).
    static func wire(
        argumentCount: Int, byteCount: Int,
        forEachArgument: (_ write: (UnsafeRawBufferPointer) -> Void) -> Void
    ) -> ByteBuffer {
        // Allocated at its size: an empty `ByteBuffer()` grown by `reserveCapacity` allocates twice.
        var wire = ByteBufferAllocator().buffer(capacity: byteCount)
        wire.writeWithUnsafeMutableBytes(minimumWritableBytes: byteCount) { output in
            var writer = RawByteWriter(output)
            writer.append("*")
            writer.appendDecimal(argumentCount)
            writer.append("\r\n")
            forEachArgument { argument in
                writer.append("$")
                writer.appendDecimal(argument.count)
                writer.append("\r\n")
                writer.append(argument)
                writer.append("\r\n")
            }
            return writer.count
        }
        return wire
    }

    /// A command's RESP form, as the connection writes it.
    static func write(_ command: RedisCommand, into output: inout ByteBuffer) {
        output.writeImmutableBuffer(command.wire)
    }

    static func decimalDigits(_ value: Int) -> Int { RawByteWriter.decimalDigits(value) }
}
