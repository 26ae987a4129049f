internal import CHiredis
import NIOCore

/// Formats commands into RESP with hiredis's `redisFormatCommandArgv` (binary-safe: every
/// argument goes with its length). The C buffer is copied out and freed before returning.
enum RESPFormatter {
    static func write(_ command: RedisCommand, into output: inout ByteBuffer) throws(RedisError) {
        let written = command.storage.withUnsafeReadableBytes { bytes -> Bool in
            if let base = bytes.baseAddress {
                return format(command, base: base.assumingMemoryBound(to: CChar.self), into: &output)
            }
            // Every argument is empty: hiredis still wants a valid pointer for each.
            var placeholder: CChar = 0
            return format(command, base: &placeholder, into: &output)
        }
        guard written else {
            throw RedisError(.protocolError, "hiredis could not format \(command)")
        }
    }

    private static func format(
        _ command: RedisCommand,
        base: UnsafePointer<CChar>,
        into output: inout ByteBuffer
    ) -> Bool {
        let count = command.argumentCount
        var target: UnsafeMutablePointer<CChar>?
        // The argument pointers live on the stack for the call (no array per command).
        let length = withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: count) { pointers in
            var offset = 0
            for index in 0..<count {
                pointers.initializeElement(at: index, to: base + offset)
                offset += command.argumentLengths[index]
            }
            return command.argumentLengths.withUnsafeBufferPointer { lengths in
                redisFormatCommandArgv(&target, Int32(count), pointers.baseAddress, lengths.baseAddress)
            }
        }
        guard length >= 0, let target else { return false }
        defer { redisFreeCommand(target) }
        output.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(length)))
        return true
    }
}
