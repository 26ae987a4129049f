import NIOCore

/// Writes commands as RESP, binary-safe: `*<count>\r\n`, then `$<length>\r\n<bytes>\r\n` per
/// argument, in Swift, straight into the buffer the connection writes (hiredis's
/// `redisFormatCommandArgv` cost a `malloc`, a `free` and a copy per command): when a
/// `RedisCommand` is made, or for a `GET` when the connection writes it.
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
        wire.writeRaw(maximum: byteCount) { writer in
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
        }
        return wire
    }

    /// Bytes `GET key` takes.
    static func getByteCount(key: String) -> Int {
        arrayHeaderByteCount(2) + bulkByteCount(3) + bulkByteCount(key.utf8.count)
    }

    /// `GET key` in RESP, written into `output` in one call.
    static func writeGet(key: String, into output: inout ByteBuffer) {
        let byteCount = getByteCount(key: key)
        var key = key
        key.withUTF8 { key in
            output.writeRaw(maximum: byteCount) { writer in
                writer.append("*2\r\n$3\r\nGET\r\n$")
                writer.appendDecimal(key.count)
                writer.append("\r\n")
                writer.append(UnsafeRawBufferPointer(key))
                writer.append("\r\n")
            }
        }
    }

    /// A command's RESP form, as the connection writes it.
    static func write(_ command: RedisCommand, into output: inout ByteBuffer) {
        switch command.form {
        case .resp(let wire): output.writeImmutableBuffer(wire)
        case .get(let key): writeGet(key: key, into: &output)
        }
    }

    static func decimalDigits(_ value: Int) -> Int { RawByteWriter.decimalDigits(value) }
}
